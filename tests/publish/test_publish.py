"""`flask --app storefront publish / rollback / releases` on a real freeze of the fixture
catalog, against moto over HTTP; `edge` resolves URLs the way the distribution will."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from publish.harness import (
    BUCKET,
    ROOT,
    Edge,
    Publisher,
    Recorder,
    Site,
    changed_keys,
    client,
    create_bucket,
    live_pointer,
    url_paths,
)
from storefront.publish.headers import is_fingerprinted
from storefront.publish.remote import make_clients

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".avif": "image/avif",
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".pagefind": "application/octet-stream",
    ".pf_meta": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".pf_fragment": "application/octet-stream",
    ".pf_filter": "application/octet-stream",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, s-maxage=300, must-revalidate"
PRICE, NEW_PRICE = "amount: 1200.00", "amount: 1300.00"  # onda.yaml: one digit, same size
LIVE = "site/"  # where the live site's objects are in the bucket


def fingerprinted(key: str) -> bool:
    return key.startswith(("static/", "img/")) or ".pf_" in key


def test_first_publish_uploads_everything_with_the_right_headers(
    publisher: Publisher, site: Site, edge: Edge, recorder: Recorder
) -> None:
    files = site.files()
    summary = publisher.publish()
    assert summary["uploaded"] == len(files) and summary["restored"] == 0
    assert summary["uploaded_bytes"] == sum(len(body) for body in files.values())
    assert summary["url"] == "https://teste.example/loja/"
    assert recorder.keys("PutObject", LIVE) == {ROOT + key for key in files}
    assert live_pointer()["release"] == summary["release"] and live_pointer()["state"] == "live"
    assert edge.invalidations() == []  # nothing can be cached before the first release
    assert {Path(key).suffix for key in files} == set(TYPES)  # every kind is covered here
    for key, body in files.items():
        served = edge.get("/" + ROOT + key)
        assert served is not None and served["body"] == body
        assert served["content_type"] == TYPES[Path(key).suffix], key
        assert served["cache_control"] == (IMMUTABLE if fingerprinted(key) else REVALIDATE), key
    assert edge.get("/" + ROOT)["body"] == files["index.html"]


def test_a_second_publish_after_a_fresh_freeze_writes_and_invalidates_nothing(
    publisher: Publisher, site: Site, recorder: Recorder
) -> None:
    first = publisher.publish()
    shutil.rmtree(site.work)  # a fresh CI checkout: every file rewritten, new mtimes
    site.refreeze()
    recorder.clear()
    summary = publisher.publish()
    assert summary["noop"] and summary["release"] == first["release"]
    assert summary["uploaded"] == summary["uploaded_bytes"] == 0
    assert summary["invalidation"] is None
    assert not recorder.writes(), recorder.operations()
    assert "nothing to publish" in publisher.text("publish").output


def test_a_price_digit_edit_writes_and_invalidates_exactly_the_changed_files(
    publisher: Publisher, site: Site, edge: Edge, recorder: Recorder
) -> None:
    publisher.publish()
    before = site.files()
    site.edit("onda", PRICE, NEW_PRICE)
    after = site.files()
    changed = changed_keys(before, after)
    assert "esculturas/onda/index.html" in changed
    # What `aws s3 sync --size-only` misses: no page changed size (search chunks are renamed).
    assert all(len(before[key]) == len(after[key]) for key in changed if key in before)
    recorder.clear()
    summary = publisher.publish()
    assert recorder.keys("PutObject", LIVE) == {ROOT + key for key in changed}
    assert "CopyObject" not in recorder.operations()  # nothing unchanged is touched
    renamed = set(before) - set(after)  # search chunks: kept for cached pages, not deleted
    assert renamed and all(is_fingerprinted(key) for key in renamed)
    assert summary["uploaded"] == len(changed) and summary["kept"] == len(renamed)
    assert summary["unchanged"] == len(after) - len(changed)
    assert "DeleteObjects" not in recorder.operations()
    # Only paths that served other bytes before: new (renamed) files cannot be cached.
    assert set(edge.invalidations()[-1]) == url_paths(changed & set(before))
    edge.assert_serves(after)
    assert all(edge.get(f"/{ROOT}{key}") is not None for key in renamed)


def test_assets_are_written_before_the_pages_that_link_to_them(
    publisher: Publisher, site: Site, recorder: Recorder
) -> None:
    publisher.publish()
    site.edit("onda", PRICE, NEW_PRICE)
    recorder.clear()
    publisher.publish()
    puts = [key for name, key in recorder.calls if name == "PutObject" and key.startswith(LIVE)]
    documents = [i for i, key in enumerate(puts) if key.endswith((".html", ".json", ".xml"))]
    assets = [i for i, key in enumerate(puts) if is_fingerprinted(key)]
    assert assets and documents and max(assets) < min(documents)


def test_a_cache_policy_change_writes_the_affected_objects_again(
    publisher: Publisher, site: Site, edge: Edge, recorder: Recorder
) -> None:
    publisher.publish()
    files = site.files()
    app = site.app(PUBLISH_CACHE_REVALIDATE="public, max-age=0, s-maxage=60")
    recorder.clear()
    publisher.publish(app=app)
    affected = {key for key in files if not fingerprinted(key)}
    assert recorder.keys("PutObject", LIVE) == {ROOT + key for key in affected}
    assert edge.get(f"/{ROOT}")["cache_control"] == "public, max-age=0, s-maxage=60"
    stylesheet = next(key for key in files if key.endswith(".css") and fingerprinted(key))
    assert edge.get(f"/{ROOT}{stylesheet}")["cache_control"] == IMMUTABLE


def test_deleting_a_sculpture_removes_its_page_and_keeps_its_images_for_cached_pages(
    publisher: Publisher, site: Site, edge: Edge
) -> None:
    publisher.publish()
    before = site.files()
    (site.content / "sculptures" / "raiz.yaml").unlink()
    site.refreeze()
    after = site.files()
    gone = sorted(set(before) - set(after))
    assert "esculturas/raiz/index.html" in gone
    summary = publisher.publish()
    assert summary["deleted"] + summary["kept"] == len(gone)
    assert edge.get(f"/{ROOT}esculturas/raiz/") is None
    assert f"/{ROOT}esculturas/raiz/" in edge.invalidations()[-1]
    edge.assert_serves(after)
    images = [key for key in gone if key.startswith("img/")]
    assert images and all(edge.get(f"/{ROOT}{key}") is not None for key in images)
    assert not any("/img/" in path for path in edge.invalidations()[-1])


def test_dry_run_reports_the_plan_and_changes_nothing(
    publisher: Publisher, site: Site, edge: Edge, recorder: Recorder
) -> None:
    publisher.publish()
    before = site.files()
    site.edit("onda", PRICE, NEW_PRICE)
    recorder.clear()
    summary = publisher.publish("--dry-run")
    assert summary["dry_run"]
    assert summary["changed"] + summary["added"] == len(changed_keys(before, site.files()))
    assert summary["invalidated_paths"]
    assert not recorder.writes(), recorder.operations()
    edge.assert_serves(before)
    assert "would make release" in publisher.text("publish", "--dry-run").output


def test_the_delete_guard_refuses_without_force(
    publisher: Publisher, site: Site, edge: Edge, recorder: Recorder
) -> None:
    publisher.publish()
    before = site.files()
    for slug in ("raiz", "vela"):
        (site.content / "sculptures" / f"{slug}.yaml").unlink()
    site.refreeze()
    recorder.clear()
    result = publisher.run("publish", "--max-deletes", "3")
    assert result.exit_code == 1
    assert "refusing to delete" in result.output and "--force" in result.output
    assert not recorder.writes()
    edge.assert_serves(before)
    forced = publisher.publish("--max-deletes", "3", "--force")
    assert forced["deleted"] + forced["kept"] > 3
    assert edge.get(f"/{ROOT}esculturas/vela/") is None


def test_rollback_copies_back_only_what_differs_without_uploading(
    publisher: Publisher, site: Site, edge: Edge, recorder: Recorder
) -> None:
    first = publisher.publish()
    old = site.files()
    site.edit("onda", PRICE, NEW_PRICE)
    second = publisher.publish()
    new = site.files()
    recorder.clear()
    result = publisher.run("rollback")
    assert result.exit_code == 0, result.output
    assert result.summary["release"] == first["release"]
    edge.assert_serves(old)
    differing = {key for key in old if new.get(key) != old[key]}
    assert recorder.keys("CopyObject", LIVE) == {ROOT + key for key in differing}
    assert not recorder.keys("PutObject", LIVE)  # no upload, no rebuild
    assert result.summary["restored"] == len(differing)
    assert set(edge.invalidations()[-1]) == url_paths(changed_keys(old, new) & set(old))
    assert live_pointer()["release"] == first["release"]

    listing = json.loads(publisher.run("releases").output)
    assert listing["live"] == first["release"]
    assert [r["release"] for r in listing["releases"]] == [second["release"], first["release"]]
    assert [r["live"] for r in listing["releases"]] == [False, True]
    assert "* " + first["release"] in publisher.text("releases").output

    nothing_older = publisher.run("rollback")
    assert nothing_older.exit_code == 1 and "no retained release older" in nothing_older.output
    forward = publisher.run("rollback", second["release"])
    assert forward.exit_code == 0 and forward.summary["release"] == second["release"]
    edge.assert_serves(new)


def test_publishing_a_retained_build_again_restores_it_without_uploading(
    publisher: Publisher, site: Site, edge: Edge, recorder: Recorder
) -> None:
    publisher.publish()
    site.edit("onda", PRICE, NEW_PRICE)
    second = publisher.publish()
    publisher.run("rollback")
    recorder.clear()
    summary = publisher.publish()
    assert summary["reused"] and summary["release"] == second["release"]
    assert summary["uploaded"] == 0 and summary["restored"] > 0
    assert not recorder.keys("PutObject", LIVE)
    edge.assert_serves(site.files())


def test_releases_beyond_keep_releases_are_collected_with_the_files_only_they_used(
    publisher: Publisher, site: Site, edge: Edge
) -> None:
    ids = [publisher.publish("--keep-releases", "2")["release"]]
    first_files = site.files()
    previous = "1200.00"
    for price in ("1300.00", "1400.00", "1500.00"):
        site.edit("onda", f"amount: {previous}", f"amount: {price}")
        previous = price
        summary = publisher.publish("--keep-releases", "2")
        ids.append(summary["release"])
    assert summary["collected_releases"] == [ids[1]]
    assert [ref[1] for ref in live_pointer()["history"]] == ids[2:]
    listed = client("s3").list_objects_v2(Bucket=BUCKET, Prefix="_publish/site/releases/")
    kept = sorted(item["Key"].split(".")[1] for item in listed["Contents"])
    assert kept == sorted(ids[2:])
    # Search chunks only the first two releases used are gone; the live ones are served.
    current = site.files()
    only_old = [k for k in first_files if is_fingerprinted(k) and k not in current]
    assert only_old and all(edge.get(f"/{ROOT}{key}") is None for key in only_old)
    edge.assert_serves(current)


def test_without_a_distribution_nothing_is_invalidated(site: Site, bucket: str) -> None:
    publisher = Publisher(site, bucket, None)
    first = publisher.publish()
    assert live_pointer()["release"] == first["release"] and first["invalidation"] is None
    site.edit("onda", PRICE, NEW_PRICE)
    second = publisher.publish()
    assert second["previous"] == first["release"] == publisher.run("rollback").summary["release"]
    assert live_pointer()["release"] == first["release"]


def test_a_bucket_without_versioning_is_refused_before_anything_is_written(
    site: Site, aws: dict[str, str], recorder: Recorder
) -> None:
    client("s3").create_bucket(Bucket="plain-bucket")
    result = Publisher(site, "plain-bucket", None).run("publish")
    assert result.exit_code == 1 and "versioning must be Enabled" in result.output
    assert not recorder.writes()


def test_progress_shows_files_and_bytes_on_the_terminal(publisher: Publisher, site: Site):
    result = publisher.text("publish")
    total = len(site.files())
    assert result.exit_code == 0, result.output
    assert f"publish: {total}/{total} files" in result.output
    assert f"uploaded {total} (" in result.output and "made release" in result.output


def test_clients_retry_throttling_with_adaptive_backoff(aws: dict[str, str]) -> None:
    s3, cloudfront = make_clients(jobs=32)
    for aws_client in (s3, cloudfront):
        retries = aws_client.meta.config.retries
        assert retries["mode"] == "adaptive" and retries["total_max_attempts"] >= 10
    assert s3.meta.config.max_pool_connections >= 32


def test_ci_passes_every_option_through_the_environment(
    site: Site, edge: Edge, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "PUBLISH_BUCKET": edge.bucket,
        "PUBLISH_DISTRIBUTION_ID": edge.distribution_id,
        "PUBLISH_KEEP_RELEASES": "2",
        "PUBLISH_MAX_DELETES": "0",
        "PUBLISH_JOBS": "4",
        "PUBLISH_WAIT_TIMEOUT": "30",
    }.items():
        monkeypatch.setenv(name, value)
    result = site.app().test_cli_runner().invoke(args=["publish", "--json"])
    assert result.exit_code == 0, result.output
    edge.assert_serves(site.files())
    (site.content / "sculptures" / "raiz.yaml").unlink()
    site.refreeze()
    refused = site.app().test_cli_runner().invoke(args=["publish", "--json"])
    assert refused.exit_code == 1 and "more than --max-deletes 0" in refused.output
    site.edit("onda", PRICE, NEW_PRICE)
    monkeypatch.setenv("PUBLISH_MAX_DELETES", "256")
    waited = json.loads(site.app().test_cli_runner().invoke(args=["publish", "--json"]).stdout)
    assert waited["invalidation"] and waited["invalidation_completed"] is True


def test_a_second_bucket_is_independent(site: Site, edge: Edge) -> None:
    create_bucket("other-gallery")
    Publisher(site, "other-gallery", None).publish()
    assert edge.get(f"/{ROOT}") is None  # the distribution's bucket is untouched
