"""The catalog checked once more before publishing, in a child process.

Publish refuses a build whose content no longer validates (a content file
edited after the freeze). Loading a 10,000-sculpture catalog takes ~0.5 s even
from the parse cache, all of it Python holding the GIL, while the build is
hashed and the live release read in the same process: so the check runs in a
forked child, on the other core, and the command waits for its verdict only
before changing anything.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path

from storefront.content.catalog import load_catalog
from storefront.content.problems import ContentError


class ContentCheck:
    """Start with `ContentCheck(content_dir, cache_file)`; `problems()` waits for it."""

    def __init__(self, content_dir: Path, cache_file: Path | None) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_check, args=(content_dir, cache_file, send), daemon=True
        )
        self._process.start()
        send.close()

    def problems(self) -> tuple[str, list[str]] | None:
        """None when the content validates, else (summary, one line per problem)."""
        try:
            verdict = self._receive.recv()
        except EOFError:
            verdict = ("the content check died without a verdict", [])
        finally:
            self._process.join()
            self._receive.close()
        return verdict

    def close(self) -> None:
        """Stop the child if nobody waited for its verdict (the command failed first)."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._receive.close()


def _check(content_dir: Path, cache_file: Path | None, send: Connection) -> None:
    try:
        load_catalog(content_dir, cache_file)
        verdict = None
    except ContentError as error:
        verdict = (str(error), [problem.format_text() for problem in error.problems])
    except Exception as error:  # any failure is a refusal, never a silent pass
        verdict = (f"the content check failed: {error!r}", [])
    send.send(verdict)
    send.close()
