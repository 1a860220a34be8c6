"""A pull request's preview: published under previews/<name>/, served at /previews/<name>/
through the same URL resolution CloudFront will use, and removed by `unpublish`.

The site is frozen for the preview's URL (its base_url is the preview's), so
every link of every page stays inside the preview.
"""

from __future__ import annotations

import re

from publish.harness import ROOT, Edge, Publisher, Recorder, Site, client, live_pointer

PREVIEW = "previews/pr-12"
URL = f"https://teste.example/{PREVIEW}/"
LINK = re.compile(r'(?:href|src)="(/[^"#]*)"')


def crawl(edge: Edge, start: str) -> dict[str, bytes]:
    """Every same-host URL reachable from `start`, fetched through the edge."""
    seen: dict[str, bytes] = {}
    todo = [start]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        served = edge.get(url)
        assert served is not None, f"{url} is linked but not served"
        seen[url] = served["body"]
        if served["content_type"].startswith("text/html"):
            todo.extend(LINK.findall(served["body"].decode()))
    return seen


def test_a_preview_is_served_at_its_own_url_and_every_link_stays_inside_it(
    site: Site, bucket: str, edge: Edge, recorder: Recorder
) -> None:
    production = Publisher(site, bucket, edge.distribution_id)
    production.publish()
    live = site.files()

    site.set_base_url(URL)
    site.edit("onda", "amount: 1200.00", "amount: 1300.00")
    preview = Publisher(site, bucket, None)
    recorder.clear()
    summary = preview.publish("--prefix", PREVIEW)
    assert summary["url"] == URL and summary["area"] == PREVIEW
    assert all(
        key.startswith((f"{PREVIEW}/", f"_publish/{PREVIEW}/")) for _, key in recorder.calls if key
    )
    assert "CreateInvalidation" not in recorder.operations()  # previews are not cached

    pages = crawl(edge, f"/{PREVIEW}/")
    assert len(pages) >= 20  # pages, stylesheet, scripts, images, feed
    assert all(url.startswith(f"/{PREVIEW}/") for url in pages), sorted(pages)
    assert "1.300,00" in pages[f"/{PREVIEW}/esculturas/onda/"].decode()
    edge.assert_serves(site.files(), base=f"/{PREVIEW}/")
    edge.assert_serves(live)  # production untouched
    assert live_pointer(area=PREVIEW)["release"] == summary["release"]


def test_removing_a_preview_removes_all_of_it_and_nothing_else(
    site: Site, bucket: str, edge: Edge
) -> None:
    Publisher(site, bucket, edge.distribution_id).publish()
    live = site.files()
    site.set_base_url(URL)
    preview = Publisher(site, bucket, None)
    preview.publish("--prefix", PREVIEW)
    other = "previews/pr-13"
    site.set_base_url(f"https://teste.example/{other}/")
    preview.publish("--prefix", other)

    removed = preview.run("unpublish", "--prefix", PREVIEW)
    assert removed.exit_code == 0 and removed.summary["deleted"] > len(site.files())
    listed = client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{PREVIEW}/")
    assert listed["KeyCount"] == 0
    assert edge.get(f"/{PREVIEW}/") is None
    assert edge.get(f"/{other}/") is not None
    edge.assert_serves(live)
    again = preview.run("unpublish", "--prefix", PREVIEW)
    assert again.exit_code == 0 and again.summary["noop"]


def test_a_build_frozen_for_production_is_refused_as_a_preview_and_vice_versa(
    site: Site, bucket: str, recorder: Recorder
) -> None:
    preview = Publisher(site, bucket, None)
    wrong = preview.run("publish", "--prefix", PREVIEW)
    assert wrong.exit_code == 1 and f"not for the preview's path /{PREVIEW}/" in wrong.output
    site.set_base_url(URL)
    as_production = preview.run("publish")
    assert as_production.exit_code == 1 and "frozen for a preview" in as_production.output
    assert not recorder.writes()


def test_unpublish_never_removes_the_production_site(site: Site, bucket: str) -> None:
    Publisher(site, bucket, None).publish()
    refused = Publisher(site, bucket, None).run("unpublish")
    assert refused.exit_code == 1 and "pass --prefix previews/<name>" in refused.output
    assert client("s3").list_objects_v2(Bucket=bucket, Prefix=f"site/{ROOT}")["KeyCount"] > 0
