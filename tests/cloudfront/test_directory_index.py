"""The distribution's viewer-request function, run in node against every URL of a frozen
site, the 404 path and query strings, with the behaviours, origins and error
responses read from terraform/modules/static_site (see cloudfront.edge).

The "bucket" here is the frozen site itself, laid out the way publish lays it
out (storefront.publish.layout): no emulator is needed to know what CloudFront
would ask S3 for.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cloudfront.edge import Distribution, Response, distribution, resolve, run_function
from hypothesis import given, settings
from hypothesis import strategies as st
from storefront.publish.headers import content_type
from storefront.publish.layout import Area
from storefront.publish.local_scan import site_url
from support.site_build import freeze

SITE_PATH = "/loja/"  # the fixture catalog's base_url is https://teste.example/loja/


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory, content_dir_module: Path) -> Path:
    work = tmp_path_factory.mktemp("frozen")
    freeze(content_dir_module, work)
    return work / "site"


@pytest.fixture(scope="module")
def content_dir_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    from support.paths import FIXTURE_CATALOG

    target = tmp_path_factory.mktemp("catalog") / "content"
    shutil.copytree(FIXTURE_CATALOG, target)
    return target


@pytest.fixture(scope="module")
def edge(build: Path) -> Distribution:
    assert urlsplit(site_url(build)).path == SITE_PATH
    return distribution().with_variables(site_path=SITE_PATH)


def bucket_of(build: Path):
    """fetch(key) over the frozen site published as production: site/loja/<file>."""
    area = Area()
    files = {
        area.object_key(SITE_PATH.lstrip("/") + path.relative_to(build).as_posix()): path
        for path in build.rglob("*")
        if path.is_file()
    }

    def fetch(key: str):
        path = files.get(key)
        if path is None:
            return None
        return path.read_bytes(), {"content-type": content_type(path.name)}

    return fetch


def urls_of(build: Path) -> dict[str, Path]:
    return {
        SITE_PATH + path.relative_to(build).as_posix(): path
        for path in sorted(build.rglob("*"))
        if path.is_file()
    }


def test_every_file_is_served_at_its_own_url(build: Path, edge: Distribution) -> None:
    fetch = bucket_of(build)
    for url, path in urls_of(build).items():
        response = resolve(url, fetch, dist=edge)
        assert (response.status, response.body) == (200, path.read_bytes()), url


def test_every_page_is_served_at_its_directory_url(build: Path, edge: Distribution) -> None:
    fetch = bucket_of(build)
    pages = {url: path for url, path in urls_of(build).items() if url.endswith("/index.html")}
    assert len(pages) >= 20  # every page of the fixture catalog
    for url, path in pages.items():
        directory = url[: -len("index.html")]
        response = resolve(directory, fetch, dist=edge)
        assert (response.status, response.body) == (200, path.read_bytes()), directory
        with_query = resolve(directory + "?utm_source=boletim&x=1", fetch, dist=edge)
        assert with_query.status == 200 and with_query.body == path.read_bytes()


def test_a_page_url_without_its_slash_is_redirected_once_keeping_the_query(
    build: Path, edge: Distribution
) -> None:
    fetch = bucket_of(build)
    pages = [url[: -len("/index.html")] for url in urls_of(build) if url.endswith("/index.html")]
    for bare in pages:
        if bare + "/" == SITE_PATH:
            bare = SITE_PATH.rstrip("/")
        moved = resolve(bare, fetch, dist=edge)
        assert moved.status == 301 and moved.headers["location"] == bare + "/", bare
        assert resolve(moved.headers["location"], fetch, dist=edge).status == 200
        queried = resolve(bare + "?pagina=2&ordem=preco", fetch, dist=edge)
        assert queried.headers["location"] == bare + "/?pagina=2&ordem=preco"


def test_a_missing_page_gets_the_sites_404_page_with_status_404(
    build: Path, edge: Distribution
) -> None:
    fetch = bucket_of(build)
    page = (build / "404.html").read_bytes()
    for url in (
        SITE_PATH + "esculturas/nao-existe/",
        SITE_PATH + "esculturas/nao-existe",  # redirected first, then missing
        SITE_PATH + "static/site.0000000000.css",
        SITE_PATH + "esculturas/onda/index.htm",
        "/outra-coisa/",
    ):
        response = resolve(url, fetch, dist=edge)
        if response.status == 301:
            response = resolve(response.headers["location"], fetch, dist=edge)
        assert (response.status, response.body) == (404, page), url


QUERY_PART = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.~%2B", min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    segment=st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True),
    pairs=st.lists(st.tuples(QUERY_PART, QUERY_PART), max_size=4),
)
def test_any_query_string_survives_the_redirect(segment: str, pairs: list[tuple[str, str]]):
    """The redirect keeps the query the viewer sent: names, values, repeats, order."""
    query = "&".join(f"{name}={value}" for name, value in pairs)
    url = f"{SITE_PATH}esculturas/{segment}" + (f"?{query}" if query else "")
    result = run_function(distribution().behaviour(url).viewer_request, url)
    location = result["headers"]["location"]["value"]
    path, _, kept = location.partition("?")
    assert path == f"{SITE_PATH}esculturas/{segment}/"
    expected = sorted(pairs, key=lambda pair: pair[0])  # repeats are grouped by name
    grouped = sorted((p.partition("=")[0], p.partition("=")[2]) for p in kept.split("&") if p)
    assert grouped == sorted(expected)


def test_directory_urls_and_files_are_rewritten_not_redirected() -> None:
    function = distribution().behaviour("/").viewer_request
    assert run_function(function, "/")["uri"] == "/index.html"
    assert run_function(function, "/loja/a/")["uri"] == "/loja/a/index.html"
    assert run_function(function, "/loja/site.css")["uri"] == "/loja/site.css"
    assert run_function(function, "/v1.2/")["uri"] == "/v1.2/index.html"


def test_the_api_behaviour_runs_no_function_and_reaches_the_api_origin(edge: Distribution):
    behaviour = edge.behaviour("/api/v1/availability")
    assert behaviour.viewer_request is None and behaviour.origin_path is None
    response = resolve("/api/v1/availability?ids=onda", lambda key: None, dist=edge)
    assert response == Response(0, origin=behaviour.origin_id)


def test_previews_are_served_from_their_own_prefix(edge: Distribution) -> None:
    preview = Area.from_prefix("previews/pr-9")
    behaviour = edge.behaviour(preview.url_base + "x/")
    assert behaviour.viewer_request is not None and behaviour.origin_path == ""
    served = {preview.object_key("x/index.html"): b"preview"}
    response = resolve(
        preview.url_base + "x/", lambda key: (served[key], {}) if key in served else None, dist=edge
    )
    assert (response.status, response.body) == (200, b"preview")
