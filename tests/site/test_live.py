"""`flask --app storefront run`: the live site with the availability API mounted at /api."""

from __future__ import annotations

import json
from pathlib import Path

from support.site_build import site_app


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
    from storefront.pages.images import SOURCES_STATE

    app = site_app(content_dir, tmp_path, IMAGE_CACHE_DIR=tmp_path / "images")
    client = app.test_client()
    page = client.get("/esculturas/onda/").get_data(as_text=True)
    variant = page.split('src="/img/', 1)[1].split('"', 1)[0]
    with client.get(f"/img/{variant}") as response:
        assert response.status_code == 200
    app.extensions["images"].prepare_all(["onda.jpg", "raiz.jpg"])
    assert (tmp_path / "images" / SOURCES_STATE).is_file()
    with client.get(f"/img/{SOURCES_STATE}") as response:
        assert response.status_code == 404
