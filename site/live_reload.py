"""Live reload for `flask run --debug`: open pages reload themselves when a source changes.

Editors preview content the way `hugo server` lets them: they save a YAML
file, a photo, a template or a stylesheet, and every page open on the live
site reloads. A file watcher (watchdog) counts the changes under the content
folder, the templates and the static assets; each page carries the count it
was made at and a small script that listens on a server-sent events stream
(`/_live-reload/events`), which says "reload" once the count has moved on.
The count also names the server process, so a page reloads after the code
reloader restarted the server too.

None of it can reach the frozen site: the stream is WSGI middleware, not a
Flask route (the freeze never finds it), and only a request that came over
the socket of the development server (`flask run`) is given the script; the
freezer renders every page through a test client, which has no socket. When
the catalog does not validate, the live site answers with a page listing
every problem (file, line, column, field) instead of a traceback, and that
page reloads too, once the files are fixed.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request
from jinja2 import FileSystemLoader
from storefront.content.problems import ContentError
from storefront.pages import assets, images
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response as WerkzeugResponse

EVENTS_PATH = "/_live-reload/events"
TOKEN_KEY = "storefront.live_reload.token"  # in the environ of a request served live
KEEPALIVE_SECONDS = 15.0  # a comment line this often finds a closed tab, ending its stream
QUIET_SECONDS = 0.1  # an editor's save is several writes: reload once they stop
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Show content problems in the page; with LIVE_RELOAD (default: debug) reload open pages."""
    app.register_error_handler(ContentError, content_problems_page)
    if not app.config.setdefault("LIVE_RELOAD", app.debug):
        return
    app.jinja_env.auto_reload = True
    live = app.extensions["live_reload"] = LiveReload(app.wsgi_app, app)
    app.after_request(_add_reload_script)
    app.wsgi_app = live  # type: ignore[method-assign]


class ChangeFeed:
    """How many times the watched files changed, as a token that also names this process."""

    def __init__(self, quiet: float = QUIET_SECONDS) -> None:
        self.quiet = quiet
        self._process = secrets.token_hex(4)
        self._count = 0
        self._last_change = 0.0
        self._condition = threading.Condition()

    @property
    def token(self) -> str:
        return f"{self._process}.{self._count}"

    def changed(self) -> None:
        with self._condition:
            self._count += 1
            self._last_change = time.monotonic()
            self._condition.notify_all()

    def wait_past(self, token: str, timeout: float) -> bool:
        """Wait until the files changed since `token` and then stayed quiet; False on timeout.

        A token from another process (the server restarted) is past at once.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while token == self.token:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            while (quiet_left := self._last_change + self.quiet - time.monotonic()) > 0:
                self._condition.wait(quiet_left)
            return True


def watched_folders(app: Flask) -> list[Path]:
    """Where the live site's sources live: content (YAML and photos), templates, static assets."""
    folders = [app.config["CONTENT_DIR"], app.extensions["assets"].folder]
    for loader in (app.jinja_loader, *(bp.jinja_loader for bp in app.iter_blueprints())):
        if isinstance(loader, FileSystemLoader):
            folders.extend(Path(p) for p in loader.searchpath)
    return sorted({folder.resolve() for folder in folders if folder.is_dir()})


class SourceWatcher:
    """Calls `on_change` after a file under the folders is written, added, removed or renamed.

    Started by the first request served live, never while the app is only
    built (for a freeze or a command). Watches are in place when `start`
    returns: inotify where the system has watches to spare, else polling.
    """

    def __init__(
        self, folders: Callable[[], Iterable[Path]], on_change: Callable[[], None]
    ) -> None:
        self.folders = folders
        self.on_change = on_change
        self._observer: Any = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._observer is None:
                self._observer = self._observe()

    def stop(self) -> None:
        with self._lock:
            if self._observer is not None:
                self._observer.stop()
                self._observer.join()
                self._observer = None

    def _observe(self) -> Any:
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        observer = Observer()
        try:
            return self._started(observer)
        except OSError as error:  # e.g. the system's inotify watches or instances are used up
            observer.stop()  # the folders it did watch
            _log.warning("live reload: polling the files (%s)", error)
            return self._started(PollingObserver(timeout=0.5))

    def _started(self, observer: Any) -> Any:
        from watchdog import events

        handler = _ChangeHandler(self.on_change)
        kinds = [
            events.FileCreatedEvent,
            events.FileModifiedEvent,
            events.FileDeletedEvent,
            events.FileMovedEvent,
            events.DirMovedEvent,
            events.DirDeletedEvent,
            events.EventsLostEvent,
        ]
        for folder in self.folders():
            observer.schedule(handler, str(folder), recursive=True, event_filter=kinds)
        observer.start()
        return observer


class _ChangeHandler:
    """What watchdog calls (`dispatch`) with each event; editors' scratch files do not count.

    watchdog's own handler classes are not imported at module level, nor is
    watchdog: a freeze or any other command never pays for it.
    """

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def dispatch(self, event: Any) -> None:
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if event.event_type == "events_lost" or not all(is_scratch(p) for p in paths if p):
            self.on_change()


def is_scratch(path: str | bytes) -> bool:
    """An editor's temporary file: `.name.swp`, `name~`, `.#name`, vim's `4913` probe."""
    name = Path(path.decode() if isinstance(path, bytes) else path).name
    return name.startswith(".") or name.endswith(("~", ".swp", ".swx", ".tmp")) or name == "4913"


def forget_sources(app: Flask) -> None:
    """Forget what the app keeps from its sources, before open pages are told to reload.

    The catalog is loaded again on the next request, even without debug mode;
    photos and static assets are named by a hash of their bytes, so their names
    are worked out again (a page must never link a changed file by its old name,
    which browsers keep for a year).
    """
    app.extensions["catalog_index"] = None
    pipeline = app.extensions["images"]
    app.extensions["images"] = images.ImagePipeline(pipeline.source_dir, pipeline.cache_dir)
    app.extensions["assets"] = assets.AssetManifest.scan(app.extensions["assets"].folder)


class LiveReload:
    """WSGI middleware: the events stream, and the change count for pages served live.

    The watcher starts with the first request served live, on the folders the
    site reads then.
    """

    def __init__(self, wsgi_app: WSGIApp, site: Flask) -> None:
        self.app = wsgi_app
        self.feed = ChangeFeed()
        self.watcher = SourceWatcher(lambda: watched_folders(site), self._changed)
        self._site = site

    def _changed(self) -> None:
        forget_sources(self._site)
        self.feed.changed()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):  # type: ignore[no-untyped-def]
        if not served_live(environ):
            return self.app(environ, start_response)
        self.watcher.start()
        if environ.get("PATH_INFO") == EVENTS_PATH:
            token = Request(environ).args.get("since", "")
            return self._events(token)(environ, start_response)
        environ[TOKEN_KEY] = self.feed.token  # before rendering: a change meanwhile reloads
        return self.app(environ, start_response)

    def _events(self, token: str) -> WerkzeugResponse:
        response = WerkzeugResponse(
            self._stream(token), mimetype="text/event-stream", direct_passthrough=True
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def _stream(self, token: str) -> Iterator[bytes]:
        yield b"retry: 500\n\n"  # reconnect soon after the server restarts
        while not self.feed.wait_past(token, KEEPALIVE_SECONDS):
            yield b": still watching\n\n"
        yield f"event: reload\ndata: {self.feed.token}\n\n".encode()


def served_live(environ: dict[str, Any]) -> bool:
    """Whether the request came over the development server's socket (never the freezer's)."""
    return "werkzeug.socket" in environ


_SCRIPT = (
    "<script>(() => {{"
    " const events = new EventSource({url});"
    ' events.addEventListener("reload", () => {{ events.close(); location.reload(); }});'
    " }})();</script>"
)


def reload_script(script_root: str, token: str) -> str:
    """The script a page served live carries: reload once the sources changed after `token`."""
    url = f"{script_root}{EVENTS_PATH}?since={token}"
    return _SCRIPT.format(url=json.dumps(url))


def _add_reload_script(response: Response) -> Response:
    token = request.environ.get(TOKEN_KEY)
    if token is None or response.mimetype != "text/html" or response.direct_passthrough:
        return response
    html = response.get_data(as_text=True)
    script = reload_script(request.script_root, token)
    at = html.rfind("</body>")
    response.set_data(html + script if at < 0 else html[:at] + script + html[at:])
    return response


_PROBLEMS_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ error }} · live preview</title>
<style>
body{font:1rem/1.5 system-ui,sans-serif;margin:2rem;color:#221a13;background:#fbf8f4}
table{border-collapse:collapse}
th,td{text-align:left;padding:.3rem .8rem;border-bottom:1px solid #e2d9ce}
code{font-size:.95em}
</style></head>
<body>
<main>
<h1>The catalog does not validate: {{ error }}</h1>
<p>Nothing is shown until every problem is fixed; this page reloads itself when a file changes.</p>
<table>
<thead><tr><th>file</th><th>line</th><th>column</th><th>field</th><th>problem</th></tr></thead>
<tbody>
{% for p in problems %}<tr class="problem"><td><code>{{ p.path }}</code></td><td>{{ p.line }}</td>
<td>{{ p.column }}</td><td><code>{{ p.field }}</code></td><td>{{ p.message }}</td></tr>
{% endfor %}</tbody>
</table>
</main>
</body>
</html>
"""


def content_problems_page(error: ContentError) -> tuple[str, int]:
    """Every content problem, in the page the editor has open (status 500)."""
    template = current_app.jinja_env.from_string(_PROBLEMS_PAGE)
    return template.render(error=error, problems=error.problems), 500
