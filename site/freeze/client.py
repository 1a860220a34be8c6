"""The test client Frozen-Flask requests each page through, without what a freeze never uses.

Frozen-Flask renders a page by `app.test_client().get(url, base_url=...)`. Flask's
client builds every request through an EnvironBuilder, a cookie jar and a
response wrapper that records its request and the URL it came from, which
costs about as much as rendering a sculpture page. A freeze only sends GET
requests for plain paths, with no cookies, query or body. For those this
client copies an environ built once per base URL, sets the path, runs the app
through werkzeug's `run_wsgi_app` and wraps what comes back in the app's
response class. The request still goes through the whole Flask app: routing,
request context, view, after-request handlers.

Anything else, and any redirect the caller asked to follow, goes through
FlaskClient unchanged. The freeze installs this class as `app.test_client_class`
in its render workers only; the preview and the tests use Flask's own client.
"""

from __future__ import annotations

import io
from typing import Any, ClassVar

from flask import Response
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, TestResponse, run_wsgi_app

_REDIRECTS = frozenset({301, 302, 303, 305, 307, 308})
_PLAIN_OPTIONS = frozenset({"base_url", "method"})


class FreezeClient(FlaskClient):
    # Frozen-Flask makes a client per page, so what a client builds is kept by the class.
    _environs: ClassVar[dict[str | None, dict[str, Any]]] = {}
    _wrappers: ClassVar[dict[type, type[TestResponse]]] = {}

    def __init__(self, application: Any, response_wrapper: Any = None, **kwargs: Any) -> None:
        # werkzeug makes a new TestResponse subclass for the app's response class
        # on every client; one per response class is enough.
        if response_wrapper is not None and not issubclass(response_wrapper, TestResponse):
            wrapper = self._wrappers.get(response_wrapper)
            if wrapper is None:
                wrapper = type("WrapperTestResponse", (TestResponse, response_wrapper), {})
                self._wrappers[response_wrapper] = wrapper
            response_wrapper = wrapper
        super().__init__(application, response_wrapper, **kwargs)

    def open(  # type: ignore[override]
        self, *args: Any, buffered: bool = False, follow_redirects: bool = False, **kwargs: Any
    ) -> Any:
        if not _is_plain_get(args, kwargs):
            return super().open(
                *args, buffered=buffered, follow_redirects=follow_redirects, **kwargs
            )
        environ = self._environ(kwargs.get("base_url"), args[0])
        app_iter, status, headers = run_wsgi_app(self.application, environ, buffered=buffered)
        response: Response = self.application.response_class(app_iter, status, headers)
        if follow_redirects and response.status_code in _REDIRECTS:
            response.close()  # let Flask's client follow it, as it would have
            return super().open(*args, buffered=buffered, follow_redirects=True, **kwargs)
        return response

    def _environ(self, base_url: str | None, path: str) -> dict[str, Any]:
        template = self._environs.get(base_url)
        if template is None:
            builder = EnvironBuilder(
                path="/", base_url=base_url, environ_base=self._copy_environ({})
            )
            try:
                template = self._environs[base_url] = builder.get_environ()
            finally:
                builder.close()
        # WSGI carries the path as UTF-8 bytes decoded as latin-1 (PEP 3333).
        wsgi_path = path.encode("utf-8").decode("latin-1")
        return {
            **template,
            "PATH_INFO": wsgi_path,
            "REQUEST_URI": wsgi_path,
            "RAW_URI": wsgi_path,
            "wsgi.input": io.BytesIO(),
        }


def _is_plain_get(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """A GET of a path: no query, fragment, body, headers or other options."""
    return (
        len(args) == 1
        and isinstance(args[0], str)
        and args[0].startswith("/")
        and "?" not in args[0]
        and "#" not in args[0]
        and kwargs.keys() <= _PLAIN_OPTIONS
        and kwargs.get("method", "GET") == "GET"
    )
