"""Structured logs: one JSON object per line on stdout, each tied to a request id.

Containers ship stdout to CloudWatch Logs as-is, so a JSON line is both
human-searchable (Logs Insights) and machine-readable (Embedded Metric Format
lines are JSON log lines too, see ``api.metrics``). The request id is always
generated here and echoed in ``X-Request-Id``, so a visitor's report can be
matched to a log line; a client cannot choose it (and so cannot make its
requests look like someone else's). A sane ``X-Request-Id`` the client sent is
logged apart, as ``client_request_id``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from json.encoder import encode_basestring_ascii as encode_string  # json.dumps' own
from typing import TYPE_CHECKING, Any

from flask import g, has_request_context, request

if TYPE_CHECKING:
    from flask import Flask, Response

REQUEST_ID_HEADER = "X-Request-Id"
# fullmatch: "$" would let a trailing newline through.
_SANE_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Attributes every LogRecord has; anything else was passed through ``extra=``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line, including fields passed with ``extra=``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
            if g.get("client_request_id") is not None:
                entry["client_request_id"] = g.client_request_id
        for key, value in record.__dict__.items():
            if key == "_aws" or (key not in _STANDARD and not key.startswith("_")):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class StdoutHandler(logging.StreamHandler):
    """A handler bound to whatever ``sys.stdout`` is when a record is emitted.

    A plain ``StreamHandler(sys.stdout)`` keeps the stream it was built with,
    which breaks when stdout is swapped later (test capture, re-exec).
    """

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


# The last whole second formatted, shared by all threads (a tuple swap is atomic).
_second_text: tuple[int, str] = (-1, "")


def utc_timestamp(now: float) -> str:
    """``2027-01-15T08:00:00.123Z`` for epoch seconds ``now`` (the ``time`` of every line)."""
    global _second_text
    millis = int(now * 1000)
    second, text = _second_text
    if millis // 1000 != second:  # strftime once per second, not once per line
        second = millis // 1000
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_text = (second, text)
    return f"{text}.{millis % 1000:03d}Z"


def write_line(
    logger: logging.Logger,
    message: str,
    members: str,
    request_id: str | None,
    client_request_id: str | None,
) -> None:
    """Write one INFO line shaped like ``JsonFormatter``'s, bypassing the logging machinery.

    ``members`` are the line's own fields, already encoded as JSON object members
    (``"a":1,"b":"x"``). For the per-request access/metrics line only: it is the
    hot path, and a LogRecord (caller lookup, thread and process names, handler
    locks) costs several times what the line itself does. One ``write`` per line
    keeps lines whole when threads and workers share stdout.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    line = (
        f'{{"time":"{utc_timestamp(time.time())}","level":"info",'
        f'"logger":{encode_string(logger.name)},"message":{encode_string(message)}'
        + (f',"request_id":{encode_string(request_id)}' if request_id is not None else "")
        + (
            f',"client_request_id":{encode_string(client_request_id)}'
            if client_request_id is not None
            else ""
        )
        + (f",{members}}}\n" if members else "}\n")
    )
    stream = sys.stdout
    stream.write(line)
    stream.flush()


def configure_logging(level: str | int = "INFO") -> None:
    """Send the ``api`` loggers to stdout as JSON (once per process)."""
    logger = logging.getLogger("api")
    logger.setLevel(level if isinstance(level, int) else level.upper())
    if not any(isinstance(handler, StdoutHandler) for handler in logger.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.propagate = False


def new_request_id() -> str:
    # 128 random bits as 32 hex digits (a uuid4's hex, minus its costlier object).
    return os.urandom(16).hex()


def client_request_id(environ: Mapping[str, Any]) -> str | None:
    """The client's own X-Request-Id, if it looks sane (it is logged, never adopted)."""
    incoming = environ.get("HTTP_X_REQUEST_ID")
    if incoming is not None and _SANE_CLIENT_REQUEST_ID.fullmatch(incoming):
        return incoming
    return None


def _assign_request_id() -> None:
    g.request_id = new_request_id()
    client_id = client_request_id(request.environ)
    if client_id is not None:
        g.client_request_id = client_id


def _echo_request_id(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def init_app(app: Flask) -> None:
    configure_logging(app.config["LOG_LEVEL"])
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
