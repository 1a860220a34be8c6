"""The local preview serves the build the way CloudFront does, with the API beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from storefront.preview import ApiDispatcher, FrozenSite
from storefront.publish.headers import CachePolicy
from werkzeug.test import Client
from werkzeug.wrappers import Response


class Fetched:
    """A response read in full and closed (file-backed responses hold the file open)."""

    def __init__(self, app, path: str, method: str = "GET") -> None:  # type: ignore[no-untyped-def]
        response = Client(app).open(path, method=method)
        self.status_code = response.status_code
        self.headers = response.headers
        self.mimetype = response.mimetype
        self.cache_control = response.cache_control
        self.text = response.get_data(as_text=True)
        response.close()


@pytest.fixture
def build(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "esculturas/onda").mkdir(parents=True)
    (site / "static").mkdir()
    (site / "index.html").write_text("<h1>início</h1>")
    (site / "404.html").write_text("<h1>não encontrada</h1>")
    (site / "esculturas/onda/index.html").write_text("<h1>Onda</h1>")
    (site / "static/site.1a2b3c4d5e.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("outside the site")
    return site


def test_folders_serve_their_index_html(build: Path) -> None:
    response = Fetched(FrozenSite(build), "/esculturas/onda/")
    assert response.status_code == 200
    assert response.text == "<h1>Onda</h1>"
    assert response.mimetype == "text/html"


def test_a_folder_without_its_slash_redirects(build: Path) -> None:
    response = Fetched(FrozenSite(build), "/esculturas/onda")
    assert response.status_code == 301
    assert response.headers["Location"] == "/esculturas/onda/"


def test_a_missing_path_gets_404_html_with_status_404(build: Path) -> None:
    response = Fetched(FrozenSite(build), "/esculturas/nada/")
    assert response.status_code == 404
    assert "não encontrada" in response.text


def test_paths_cannot_escape_the_build(build: Path) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/esculturas/../../secret.txt"):
        assert Fetched(FrozenSite(build), path).status_code == 404, path


def test_fingerprinted_assets_are_cached_for_a_year(build: Path) -> None:
    response = Fetched(FrozenSite(build), "/static/site.1a2b3c4d5e.css")
    assert response.cache_control.max_age == 31_536_000
    assert response.cache_control.immutable
    page = Fetched(FrozenSite(build), "/")
    assert page.headers["Cache-Control"] == CachePolicy().revalidate  # what publish sets


def test_writes_are_refused(build: Path) -> None:
    assert Fetched(FrozenSite(build), "/", "POST").status_code == 405


def test_api_paths_go_to_the_api_with_their_full_path(build: Path) -> None:
    seen = []

    def api(environ, start_response):  # type: ignore[no-untyped-def]
        seen.append(environ["PATH_INFO"])
        return Response("{}", mimetype="application/json")(environ, start_response)

    app = ApiDispatcher(FrozenSite(build), lambda: api)
    for path in ("/api/v1/availability", "/healthz", "/readyz"):
        assert Fetched(app, path).status_code == 200
    assert Fetched(app, "/").text == "<h1>início</h1>"
    assert seen == ["/api/v1/availability", "/healthz", "/readyz"]


def test_an_api_that_cannot_start_answers_503_problem_and_the_site_stays_up(build: Path) -> None:
    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("store unreachable")

    app = ApiDispatcher(FrozenSite(build), broken)
    response = Fetched(app, "/api/v1/availability?ids=onda")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert json.loads(response.text)["status"] == 503
    assert "Traceback" not in response.text
    assert Fetched(app, "/esculturas/onda/").status_code == 200
