"""`flask run`: the live site with the availability API mounted at /api, reloading open pages.

The live reload is checked here piece by piece (the change feed, the watcher on
real folders, the events stream, which pages carry the script); a browser test
(tests/browser/test_live_reload.py) watches an open page follow an edit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from flask import Flask
from storefront import live_reload
from storefront.freeze.build import freeze_site
from storefront.live_reload import ChangeFeed, SourceWatcher
from support.paths import PROJECT
from support.servers import ServerProcess, free_port, request
from support.site_build import site_app

LIVE = {"werkzeug.socket": None}  # what the development server puts in every request's environ


def test_the_live_site_serves_pages_and_the_api_on_one_origin(
    content_dir: Path, tmp_path: Path
) -> None:
    app = site_app(content_dir, tmp_path, MOUNT_API=True)
    client = app.test_client()
    page = client.get("/esculturas/onda/")
    assert page.status_code == 200
    assert b"Onda" in page.data
    response = client.get("/api/v1/availability?ids=onda,raiz,rascunho")
    assert response.status_code == 200
    body = json.loads(response.data)
    editions = {item["sculpture"]: item["edition_size"] for item in body["items"]}
    assert editions == {"onda": 1, "raiz": 3}  # synced from the live catalog, no freeze needed
    assert body["unknown"] == ["rascunho"]  # drafts are not for sale
    assert client.get("/healthz").status_code == 200


def test_the_image_cache_serves_variants_and_nothing_else(
    content_dir: Path, tmp_path: Path
) -> None:
    from storefront.common.cache_files import image_sources_file

    app = site_app(content_dir, tmp_path, IMAGE_CACHE_DIR=tmp_path / "images")
    client = app.test_client()
    page = client.get("/esculturas/onda/").get_data(as_text=True)
    variant = page.split('src="/img/', 1)[1].split('"', 1)[0]
    with client.get(f"/img/{variant}") as response:
        assert response.status_code == 200
    app.extensions["images"].prepare_all(["onda.jpg", "raiz.jpg"])
    assert image_sources_file(tmp_path / "images").is_file()
    with client.get(f"/img/{image_sources_file(tmp_path).name}") as response:
        assert response.status_code == 404


# --- `flask run` as typed, in a clean clone -----------------------------------------


@pytest.fixture(scope="module")
def clean_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's tracked files, as a fresh clone has them: no build, caches or .venv.

    Copied from `git ls-files` (with their working-tree content), so a file that
    `flask run` needs but git does not track, such as an untracked .flaskenv,
    is missing here as it would be for everyone else.
    """
    clone = tmp_path_factory.mktemp("clone")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=PROJECT, check=True, capture_output=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT / name
        if source.is_file():  # a tracked file deleted in the work tree is not cloned either
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    return clone


def developer_shell(**extra: str) -> dict[str, str]:
    """A developer's shell after `make run`: the project's .venv first on PATH, nothing set.

    No FLASK_*, STOREFRONT_* or API_* variable comes from the test run, so what
    the clone's files say is all `flask` knows.
    """
    unset = ("FLASK_", "STOREFRONT_", "API_", "WERKZEUG_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(unset)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def published_piece(content: Path) -> tuple[str, dict]:
    """A published sculpture of the catalog, read straight from its YAML file."""
    for path in sorted((content / "sculptures").glob("*.yaml")):
        piece = yaml.safe_load(path.read_text(encoding="utf-8"))
        if piece["status"] == "published":
            return path.stem, piece
    raise AssertionError("the catalog has no published sculpture")


def test_flask_run_as_typed_in_a_clean_clone_serves_the_site_and_the_api(
    clean_clone: Path, tmp_path: Path
) -> None:
    port = free_port()  # flask's default 5000 may be taken on a shared machine
    log = tmp_path / "flask-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["flask", "run"],
            cwd=clean_clone,
            env=developer_shell(FLASK_RUN_PORT=str(port)),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log)
    try:
        server.wait_ready("/robots.txt", timeout=60)
        slug, piece = published_piece(clean_clone / "content")
        page = request("GET", server.url(f"/esculturas/{slug}/"), timeout=120)
        assert page.status == 200, server.log()
        html = page.body.decode()
        assert f"<h1>{piece['title']}</h1>" in html
        assert live_reload.EVENTS_PATH not in html  # no reload script without --debug

        answer = request("GET", server.url(f"/api/v1/availability?ids={slug}"))
        assert answer.status == 200, server.log()
        [item] = answer.json()["items"]
        assert (item["sculpture"], item["edition_size"]) == (slug, piece["edition_size"])
        assert item["available"] == piece["edition_size"]
        # The API's embedded default store: an SQLite file beside the build.
        assert (clean_clone / "build" / "availability.sqlite3").is_file()
    finally:
        server.stop(timeout=10)
    assert "Serving Flask app 'storefront'" in server.log()


def test_flask_commands_find_the_site_without_app_option(clean_clone: Path) -> None:
    def flask(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["flask", *argv],
            cwd=clean_clone,
            env=developer_shell(**env),
            capture_output=True,
            text=True,
            timeout=120,
        )

    listed = flask("--help")
    assert listed.returncode == 0, listed.stderr
    commands = set(site_app(clean_clone / "content", clean_clone / "build").cli.commands)
    assert {"check", "freeze", "publish", "serve"} <= commands
    listed_names = set(re.findall(r"^  ([a-z][a-z-]*)(?: |$)", listed.stdout, re.M))
    assert commands <= listed_names

    checked = flask("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("content OK")
    assert flask("schema", "--check").stdout.strip() == "schemas up to date"


def test_flask_app_api_still_picks_the_api(clean_clone: Path, tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite3"
    result = subprocess.run(
        ["flask", "--app", "api", "init-store"],
        cwd=clean_clone,
        env=developer_shell(API_STORE_URL=f"sqlite:///{store}"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert store.is_file()


# --- live reload ---------------------------------------------------------------------


@pytest.fixture
def live_app(content_dir: Path, tmp_path: Path) -> Iterator[Flask]:
    """The live site with live reload on (as `flask run --debug` has it), debug off.

    Debug off: the catalog is then kept between requests, so a test sees the
    reload forget it rather than debug mode reload it on every request.
    """
    app = site_app(content_dir, tmp_path, LIVE_RELOAD=True)
    yield app
    app.extensions["live_reload"].watcher.stop()


def live_get(app: Flask, path: str) -> str:
    """A page as `flask run` serves it: through the development server's socket."""
    response = app.test_client().get(path, environ_overrides=LIVE)
    assert response.status_code == 200, response.status
    return response.get_data(as_text=True)


def wait_for_change(app: Flask, token: str) -> None:
    assert app.extensions["live_reload"].feed.wait_past(token, timeout=15), "no change seen"


@pytest.mark.parametrize(
    ("config", "live"),
    [
        ({"DEBUG": True}, True),  # flask run --debug
        ({}, False),  # flask run
        ({"DEBUG": True, "LIVE_RELOAD": False}, False),
        ({"LIVE_RELOAD": True}, True),
    ],
)
def test_live_reload_follows_debug_mode_unless_set(
    content_dir: Path, tmp_path: Path, config: dict, live: bool
) -> None:
    app = site_app(content_dir, tmp_path, **config)
    html = live_get(app, "/esculturas/onda/")
    assert (live_reload.EVENTS_PATH in html) is live
    assert ("live_reload" in app.extensions) is live
    if live:
        app.extensions["live_reload"].watcher.stop()


def test_a_page_served_live_carries_the_script_and_the_change_count(live_app: Flask) -> None:
    token = live_app.extensions["live_reload"].feed.token
    html = live_get(live_app, "/esculturas/onda/")
    script = live_reload.reload_script("", token)
    assert f"{script}</body>" in html
    assert html.count("<script>(() => { const events") == 1


def test_pages_not_served_over_a_socket_never_carry_it(live_app: Flask) -> None:
    """The freezer renders through a test client: no socket, no script, no stream."""
    client = live_app.test_client()
    assert live_reload.EVENTS_PATH not in client.get("/esculturas/onda/").get_data(as_text=True)
    assert client.get(live_reload.EVENTS_PATH).status_code == 404


def test_the_freeze_in_debug_mode_carries_no_trace_of_live_reload(
    content_dir: Path, tmp_path: Path
) -> None:
    app = site_app(content_dir, tmp_path, DEBUG=True)
    assert "live_reload" in app.extensions
    freeze_site(app)
    files = [p for p in (tmp_path / "site").rglob("*") if p.is_file()]
    assert any(p.name == "index.html" for p in files)
    for path in files:
        data = path.read_bytes()
        assert b"_live-reload" not in data and b"EventSource" not in data, path


def stream(app: Flask, since: str) -> Iterator[bytes]:
    """The events stream as the browser reads it, chunk by chunk."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    builder = EnvironBuilder(path=live_reload.EVENTS_PATH, query_string={"since": since})
    environ = {**builder.get_environ(), **LIVE}
    body, status, headers = run_wsgi_app(app.wsgi_app, environ)
    assert status == "200 OK"
    assert headers["Content-Type"].startswith("text/event-stream")
    return iter(body)


def test_the_stream_tells_a_page_from_an_earlier_server_process_to_reload(
    live_app: Flask,
) -> None:
    chunks = stream(live_app, "0123abcd.0")
    assert next(chunks) == b"retry: 500\n\n"
    assert next(chunks).startswith(b"event: reload\n")


def test_the_stream_waits_for_a_change_then_says_reload(
    live_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_reload, "KEEPALIVE_SECONDS", 0.05)
    feed = live_app.extensions["live_reload"].feed
    chunks = stream(live_app, feed.token)
    assert next(chunks) == b"retry: 500\n\n"
    assert next(chunks) == b": still watching\n\n"  # nothing changed yet
    threading.Timer(0.2, feed.changed).start()
    for chunk in chunks:
        if chunk != b": still watching\n\n":
            assert chunk == f"event: reload\ndata: {feed.token}\n\n".encode()
            break
    else:
        pytest.fail("the stream ended without saying reload")


def test_the_feed_waits_for_an_editors_burst_of_writes_to_end() -> None:
    feed = ChangeFeed(quiet=0.2)
    token = feed.token
    assert feed.wait_past(token, timeout=0.05) is False  # nothing changed
    feed.changed()
    feed.changed()
    last_write = time.monotonic()
    feed.changed()
    assert feed.wait_past(token, timeout=10) is True
    assert time.monotonic() >= last_write + 0.2  # quiet for a while after the last write
    assert feed.wait_past("another-process.0", timeout=0) is True


def test_the_live_site_watches_its_content_templates_and_static_assets(
    live_app: Flask, content_dir: Path
) -> None:
    package = PROJECT / "site" / "pages"
    expected = {content_dir, package / "templates", package / "static"}
    assert live_reload.watched_folders(live_app) == sorted(p.resolve() for p in expected)


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    """Folders laid out like the site's sources, each with a file in it."""
    folders = {name: tmp_path / name for name in ("content", "templates", "static")}
    for folder in folders.values():
        (folder / "images").mkdir(parents=True)
    (folders["content"] / "site.yaml").write_text("name: Loja\n")
    (folders["content"] / "images" / "onda.jpg").write_bytes(b"\xff\xd8jpeg")
    (folders["templates"] / "base.html").write_text("<html></html>\n")
    (folders["static"] / "site.css").write_text("body{}\n")
    return folders


def save_by_renaming(path: Path, text: str) -> None:
    """How many editors save: write a hidden temporary file, then rename it over the file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    temporary.replace(path)


EDITS = {
    "a content file is saved": lambda s: (s["content"] / "site.yaml").write_text("name: L\n"),
    "a photo is replaced": lambda s: (s["content"] / "images" / "onda.jpg").write_bytes(b"new"),
    "a photo is added": lambda s: (s["content"] / "images" / "vela.jpg").write_bytes(b"jpeg"),
    "a content file is removed": lambda s: (s["content"] / "site.yaml").unlink(),
    "a template is saved": lambda s: (s["templates"] / "base.html").write_text("<html>\n"),
    "a stylesheet is saved": lambda s: (s["static"] / "site.css").write_text("a{}\n"),
    "an editor saves by renaming": lambda s: save_by_renaming(s["static"] / "site.css", "b{}"),
}
SCRATCH = {
    "a vim swap file": lambda s: (s["content"] / ".site.yaml.swp").write_bytes(b"swap"),
    "a backup file": lambda s: (s["templates"] / "base.html~").write_text("old"),
    "an emacs lock": lambda s: (s["content"] / ".#site.yaml").write_text("lock"),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_the_watcher_sees_every_kind_of_edit(sources: dict[str, Path], edit) -> None:  # type: ignore[no-untyped-def]
    feed = ChangeFeed(quiet=0.05)
    watcher = SourceWatcher(lambda: sources.values(), feed.changed)
    watcher.start()
    try:
        token = feed.token
        edit(sources)
        assert feed.wait_past(token, timeout=15)
    finally:
        watcher.stop()


@pytest.mark.parametrize("edit", SCRATCH.values(), ids=SCRATCH.keys())
def test_the_watcher_ignores_editors_scratch_files(sources: dict[str, Path], edit) -> None:  # type: ignore[no-untyped-def]
    feed = ChangeFeed(quiet=0.05)
    watcher = SourceWatcher(lambda: sources.values(), feed.changed)
    watcher.start()
    try:
        token = feed.token
        edit(sources)
        assert not feed.wait_past(token, timeout=1.0)
    finally:
        watcher.stop()


def test_without_inotify_the_watcher_polls(
    sources: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchdog.observers

    class NoInotify(watchdog.observers.Observer):  # type: ignore[misc,valid-type]
        def start(self) -> None:
            raise OSError(24, "inotify instance limit reached")

    monkeypatch.setattr(watchdog.observers, "Observer", NoInotify)
    feed = ChangeFeed(quiet=0.05)
    watcher = SourceWatcher(lambda: sources.values(), feed.changed)
    watcher.start()
    try:
        token = feed.token
        (sources["content"] / "site.yaml").write_text("name: Polled\n")
        assert feed.wait_past(token, timeout=15)
    finally:
        watcher.stop()


def test_an_edit_shows_on_the_next_page_even_without_debug_mode(
    live_app: Flask, content_dir: Path
) -> None:
    assert "<h1>Onda</h1>" in live_get(live_app, "/esculturas/onda/")  # starts watching
    token = live_app.extensions["live_reload"].feed.token
    onda = content_dir / "sculptures" / "onda.yaml"
    onda.write_text(onda.read_text().replace("title: Onda\n", "title: Onda Nova\n"))
    wait_for_change(live_app, token)
    assert "<h1>Onda Nova</h1>" in live_get(live_app, "/esculturas/onda/")


def test_a_replaced_photo_or_stylesheet_gets_a_new_url(
    live_app: Flask, content_dir: Path, tmp_path: Path
) -> None:
    """Photos and assets are cached for a year by their URL: a changed file must change it."""
    from storefront.pages.assets import STATIC_DIR, AssetManifest

    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR, static)
    live_app.extensions["assets"] = AssetManifest.scan(static)
    before = live_get(live_app, "/esculturas/onda/")  # starts watching
    token = live_app.extensions["live_reload"].feed.token
    (static / "site.css").write_text((static / "site.css").read_text() + "p{margin:0}\n")
    shutil.copyfile(content_dir / "images" / "raiz.jpg", content_dir / "images" / "onda.jpg")
    wait_for_change(live_app, token)
    after = live_get(live_app, "/esculturas/onda/")

    def urls(html: str, start: str, end: str = "") -> set[str]:
        found = {start + part.split('"')[0] for part in html.split(f'"{start}')[1:]}
        return {url for url in found if url.endswith(end)}

    stylesheet = urls(after, "/static/site.", ".css")
    assert len(stylesheet) == 1 and stylesheet != urls(before, "/static/site.", ".css")
    assert urls(after, "/img/onda-") and urls(before, "/img/onda-").isdisjoint(
        urls(after, "/img/onda-")
    )
    with live_app.test_client().get(stylesheet.pop()) as served:
        assert served.get_data(as_text=True).endswith("p{margin:0}\n")


def test_invalid_content_is_shown_in_the_page_not_as_a_traceback(
    content_dir: Path, tmp_path: Path
) -> None:
    app = site_app(content_dir, tmp_path, DEBUG=True)  # flask run --debug
    onda = content_dir / "sculptures" / "onda.yaml"
    original = onda.read_text()
    onda.write_text(original.replace("year: 2020\n", 'year: "dois mil"\n'))
    raiz = content_dir / "sculptures" / "raiz.yaml"
    raiz.write_text(raiz.read_text() + "colour: verde\n")
    line_of = {p: p.read_text().splitlines() for p in (onda, raiz)}
    year_line = line_of[onda].index('year: "dois mil"') + 1
    colour_line = line_of[raiz].index("colour: verde") + 1

    response = app.test_client().get("/esculturas/onda/", environ_overrides=LIVE)
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in html
    rows = [row.split("</tr>")[0] for row in html.split('<tr class="problem">')[1:]]
    assert len(rows) == 2
    onda_row = next(r for r in rows if "sculptures/onda.yaml" in r)
    assert f"<td>{year_line}</td>" in onda_row and "<code>year</code>" in onda_row
    raiz_row = next(r for r in rows if "sculptures/raiz.yaml" in r)
    assert f"<td>{colour_line}</td>" in raiz_row and "<code>colour</code>" in raiz_row
    assert live_reload.EVENTS_PATH in html  # the page reloads itself once fixed

    onda.write_text(original)
    raiz.write_text(raiz.read_text().replace("colour: verde\n", ""))
    assert "<h1>Onda</h1>" in live_get(app, "/esculturas/onda/")
    app.extensions["live_reload"].watcher.stop()
