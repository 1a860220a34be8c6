"""A synchronous client for pagefind's indexing service (`pagefind --service`).

pagefind can index records given as data (a URL, plain text, meta, filters and
sort keys) instead of parsing HTML files. That spares the search index a file
and a folder per sculpture on disk and an HTML parse per record. The wheel's
own Python API (`pagefind.index`) reaches the same service but waits 0.1 s
before reading each reply, so a thousand records take over a minute. This
client sends every request of a batch from one thread and reads the replies
on another, so the service works at its own pace.

The wire format is the one the wheel's API uses: each message is JSON,
base64-encoded and followed by a comma, on the service's stdin and stdout;
replies carry the id of the request they answer. The index's files come back
in a reply and are written by the caller.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from pagefind.service import get_executable


class PagefindError(RuntimeError):
    """The service refused a request or stopped; the message says which and why."""


def service_command() -> tuple[str, ...]:
    """The wheel's binary in service mode (it ships with its binary; works offline)."""
    binary = get_executable()
    if binary is None:
        raise PagefindError("the pagefind binary is not installed (pip package pagefind[extended])")
    return (str(binary), "--service")


class PagefindService:
    """One running service. Use as a context manager: leaving it stops the process."""

    def __init__(self, command: Sequence[str]) -> None:
        # Closed by close(): the service's error output, read when it stops.
        self._errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
        )
        self._last_id = 0
        self._pending = b""

    def __enter__(self) -> PagefindService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._process.stdin and not self._process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        self._errors.close()

    def new_index(self, config: Mapping[str, Any]) -> int:
        (reply,) = self._exchange([{"type": "NewIndex", "config": dict(config)}])
        return int(reply["index_id"])

    def add_records(self, index_id: int, records: Iterable[Mapping[str, Any]]) -> int:
        """Index records (url, content, language, meta, filters, sort); returns how many."""
        replies = self._exchange(
            [{"type": "AddRecord", "index_id": index_id, **record} for record in records]
        )
        return len(replies)

    def get_files(self, index_id: int) -> dict[str, bytes]:
        """The index's files, by path within the bundle, as the service would write them.

        Not WriteFiles: the service answers that before its files are complete
        (a bundle read right after it can have an empty pagefind-entry.json).
        """
        (reply,) = self._exchange([{"type": "GetFiles", "index_id": index_id}])
        return {file["path"]: base64.b64decode(file["content"]) for file in reply["files"]}

    def delete_index(self, index_id: int) -> None:
        self._exchange([{"type": "DeleteIndex", "index_id": index_id}])

    def _exchange(self, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send a batch and return the replies in request order; raise on any error."""
        first = self._last_id + 1
        self._last_id += len(payloads)
        data = b"".join(
            base64.b64encode(json.dumps({"message_id": first + n, "payload": p}).encode()) + b","
            for n, p in enumerate(payloads)
        )
        # Writing and reading at once: the service answers while it reads, and
        # either pipe filling up would otherwise stop both sides.
        writer = threading.Thread(target=self._write, args=(data,), daemon=True)
        writer.start()
        replies: dict[int, dict[str, Any]] = {}
        errors: list[str] = []
        # Every reply of the batch is read, refused or not, so the next batch starts in step.
        for _ in payloads:
            message = self._read_message()
            payload = message.get("payload") or {}
            if payload.get("type") == "Error":
                errors.append(str(payload.get("message")))
            else:
                replies[int(message["message_id"])] = payload
        writer.join()
        if errors:
            raise PagefindError(
                f"pagefind refused {len(errors)} of {len(payloads)} requests: {errors[0]}"
            )
        return [replies[first + n] for n in range(len(payloads))]

    def _write(self, data: bytes) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(data)
            self._process.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass  # the service stopped; the reader reports it with its error output

    def _read_message(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        while b"," not in self._pending:
            chunk = self._process.stdout.read1(1 << 16)
            if not chunk:
                raise PagefindError(f"pagefind stopped: {self._error_output() or 'no output'}")
            self._pending += chunk
        message, _, self._pending = self._pending.partition(b",")
        try:
            decoded = json.loads(base64.b64decode(message, validate=True))
        except ValueError as error:
            raise PagefindError(f"pagefind sent an unreadable reply {message[:200]!r}") from error
        if not isinstance(decoded, dict):
            raise PagefindError(f"pagefind sent an unexpected reply: {decoded!r}")
        return decoded

    def _error_output(self) -> str:
        self._process.wait()
        self._errors.seek(0)
        return self._errors.read().decode("utf-8", "replace").strip()
