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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any


class PagefindError(RuntimeError):
    """The service refused a request or stopped; the message says which and why."""


def service_command() -> tuple[str, ...]:
    """The wheel's binary in service mode (it ships with its binary; works offline)."""
    from pagefind.service import get_executable  # imports asyncio: only for a re-index

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
        self._pending = bytearray()

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

    def add_records(self, index_id: int, records: Collection[Mapping[str, Any]]) -> int:
        """Index records (url, content, language, meta, filters, sort); returns how many.

        `records` may be lazy: they are made and sent one by one while the
        service indexes the first ones, so making them and indexing overlap.
        """
        requests = _Requests(records, {"type": "AddRecord", "index_id": index_id})
        return len(self._exchange(requests))

    def get_files(self, index_id: int) -> dict[str, bytes]:
        """The index's files, by path within the bundle, as the service would write them.

        Not WriteFiles: the service answers that before its files are complete
        (a bundle read right after it can have an empty pagefind-entry.json).
        """
        (reply,) = self._exchange([{"type": "GetFiles", "index_id": index_id}])
        return {file["path"]: base64.b64decode(file["content"]) for file in reply["files"]}

    def _exchange(self, payloads: Collection[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Send a batch and return the replies in request order; raise on any error."""
        first = self._last_id + 1
        self._last_id += len(payloads)
        # Writing and reading at once: the service answers while it reads, and
        # either pipe filling up would otherwise stop both sides.
        writer = _Writer(self._process, payloads, first)
        writer.start()
        replies: dict[int, dict[str, Any]] = {}
        errors: list[str] = []
        try:
            # Every reply of the batch is read, refused or not, so the next batch starts in step.
            for _ in range(len(payloads)):
                message = self._read_message()
                payload = message.get("payload") or {}
                if payload.get("type") == "Error":
                    errors.append(str(payload.get("message")))
                else:
                    replies[int(message["message_id"])] = payload
        finally:
            writer.join()
            if writer.error is not None:  # the service stopped because the batch did
                raise writer.error
        if errors:
            raise PagefindError(
                f"pagefind refused {len(errors)} of {len(payloads)} requests: {errors[0]}"
            )
        return [replies[first + n] for n in range(len(payloads))]

    def _read_message(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        # A reply with a bundle's files is megabytes long: each chunk read is
        # searched once, and the buffer grows and shrinks in place.
        searched = 0
        while (end := self._pending.find(b",", searched)) < 0:
            searched = len(self._pending)
            chunk = self._process.stdout.read1(1 << 16)
            if not chunk:
                raise PagefindError(f"pagefind stopped: {self._error_output() or 'no output'}")
            self._pending += chunk
        message = bytes(self._pending[:end])
        del self._pending[: end + 1]
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


class _Requests:
    """Requests made from items as they are sent: a payload's fields, then the item's."""

    def __init__(self, items: Collection[Mapping[str, Any]], fields: Mapping[str, Any]) -> None:
        self.items = items
        self.fields = fields

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for item in self.items:
            yield {**self.fields, **item}


class _Writer(threading.Thread):
    """Encode and send a batch, a pipe's worth at a time.

    If making a request fails, the service's input is closed: it answers what
    it has and stops, the reader sees its output end, and the failure is
    raised from `error` instead of the service's.
    """

    CHUNK = 1 << 16

    def __init__(
        self, process: subprocess.Popen, payloads: Iterable[Mapping[str, Any]], first: int
    ) -> None:
        super().__init__(name="pagefind-writer", daemon=True)
        self.process = process
        self.payloads = payloads
        self.first = first
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for chunk in self._chunks():
                if not self._send(chunk):
                    return  # the service stopped; the reader reports it with its error output
        except Exception as error:  # making a request failed: stop the service, report this
            self.error = error
            with contextlib.suppress(OSError, ValueError):
                assert self.process.stdin is not None
                self.process.stdin.close()

    def _chunks(self) -> Iterator[bytes]:
        pending: list[bytes] = []
        size = 0
        for n, payload in enumerate(self.payloads):
            message = json.dumps({"message_id": self.first + n, "payload": payload})
            pending.append(base64.b64encode(message.encode()) + b",")
            size += len(pending[-1])
            if size >= self.CHUNK:
                yield b"".join(pending)
                pending, size = [], 0
        if pending:
            yield b"".join(pending)

    def _send(self, chunk: bytes) -> bool:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(chunk)
            stdin.flush()
        except (BrokenPipeError, ValueError):  # ValueError: the pipe was closed
            return False
        return True
