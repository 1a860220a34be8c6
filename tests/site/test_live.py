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
