"""One error shape for the whole API: RFC 9457 ``application/problem+json``.

Views raise ``Problem``; Werkzeug's HTTP errors (404, 405, 413, ...) and any
unexpected exception are turned into the same shape here, so a client never
sees an HTML error page or a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Response, current_app, g, json, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

if TYPE_CHECKING:
    from flask import Flask

MIMETYPE = "application/problem+json"
#: Problem types are tag URIs: stable identifiers that are not meant to be fetched.
TYPE_PREFIX = "tag:sculpture-store,2025:problem:"

log = logging.getLogger("api.errors")


class Problem(Exception):
    """An error response the API means to give; raise it from a view."""

    def __init__(
        self,
        status: int,
        kind: str | None = None,
        detail: str | None = None,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or kind or str(status))
        self.status = status
        self.kind = kind
        self.detail = detail
        self.title = title
        self.headers = dict(headers or {})
        self.extensions = extensions


def problem_response(
    status: int,
    kind: str | None = None,
    detail: str | None = None,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """Render a problem; ``kind`` None means the plain HTTP meaning (``about:blank``)."""
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{kind}" if kind else "about:blank",
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    response = current_app.response_class(json.dumps(body), status=status, mimetype=MIMETYPE)
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers or {})
    return response


def _from_problem(error: Problem) -> Response:
    return problem_response(
        error.status,
        error.kind,
        error.detail,
        title=error.title,
        headers=error.headers,
        **error.extensions,
    )


def _from_http_exception(error: HTTPException) -> Response:
    # Keep headers Werkzeug attaches for a reason (Allow on 405, ...), not its HTML type.
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    status = error.code or 500
    detail = error.description if status < 500 else None
    return problem_response(status, detail=detail, headers=headers)


def _from_unexpected(error: Exception) -> Response:
    # The traceback goes to the log, never to the client.
    log.exception("unhandled error", exc_info=error)
    return problem_response(
        500,
        detail="The server failed to handle this request; quote the request id when reporting it.",
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(Problem, _from_problem)
    app.register_error_handler(HTTPException, _from_http_exception)
    app.register_error_handler(Exception, _from_unexpected)
