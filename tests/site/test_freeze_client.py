"""The freeze's test client answers every page exactly as Flask's own client does."""

from __future__ import annotations

import shutil

import pytest
from flask import Flask, redirect, request
from storefront.content import current as content
from storefront.freeze.client import FreezeClient
from storefront.freeze.plan import plan
from support.paths import FIXTURE_CATALOG
from support.site_build import site_app

BASE = "https://teste.example/loja/"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    work = tmp_path_factory.mktemp("client")
    shutil.copytree(FIXTURE_CATALOG, work / "content")
    site = site_app(work / "content", work)
    with site.app_context():
        content.load(site)
    return site


def test_every_planned_page_is_answered_as_flask_answers_it(app: Flask) -> None:
    with app.app_context():
        pages, _ = plan(app, content.load(app))
    flask_client, freeze_client = app.test_client(), FreezeClient(app)
    assert len(pages) > 30
    for page in pages:
        expected = flask_client.get(page.url, base_url=BASE)
        got = freeze_client.get(page.url, base_url=BASE)
        assert (got.status_code, got.mimetype, got.data) == (
            expected.status_code,
            expected.mimetype,
            expected.data,
        ), page.url
        expected.close()
        got.close()


def test_a_missing_page_is_a_404_with_the_store_s_page(app: Flask) -> None:
    response = FreezeClient(app).get("/esculturas/nao-existe/", base_url=BASE)
    assert response.status_code == 404
    assert "Página não encontrada" in response.get_data(as_text=True)


def test_redirects_are_followed_by_flask_s_client() -> None:
    moved = Flask(__name__)
    moved.add_url_rule("/antiga/", "old", lambda: redirect("/nova/"))
    moved.add_url_rule("/nova/", "new", lambda: "nova")
    client = FreezeClient(moved)
    assert client.get("/antiga/").status_code == 302
    followed = client.get("/antiga/", follow_redirects=True)
    assert (followed.status_code, followed.text) == (200, "nova")
    assert [r.status_code for r in followed.history] == [302]


def test_requests_other_than_a_plain_get_go_through_flask_s_client() -> None:
    echo = Flask(__name__)
    echo.add_url_rule("/eco/", "echo", lambda: request.query_string)
    client = FreezeClient(echo)
    assert client.get("/eco/?q=bronze").data == b"q=bronze"
    assert client.get("/eco/", query_string={"q": "ferro"}).data == b"q=ferro"
    assert client.post("/eco/").status_code == 405
