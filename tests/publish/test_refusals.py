"""Bad input is refused before anything changes, with a message that says what is wrong."""

from __future__ import annotations

import pytest
from publish.harness import ROOT, Edge, Publisher, Recorder, Site
from storefront.publish.headers import CachePolicy
from storefront.publish.layout import Area
from storefront.publish.local_scan import scan_build
from storefront.publish.releases import Options, publish
from storefront.publish.remote import SiteStore, make_clients


def test_an_unknown_file_type_in_the_build_is_refused_naming_the_file(
    publisher: Publisher, site: Site, recorder: Recorder
) -> None:
    (site.build / "notes.md").write_text("draft", encoding="utf-8")
    (site.build / "static" / "blob.bin").write_bytes(b"\0")
    result = publisher.run("publish")
    assert result.exit_code == 1
    assert "no Content-Type known for 2 file(s): notes.md, static/blob.bin" in result.output
    assert not recorder.writes()


def test_a_build_without_index_html_is_refused(
    publisher: Publisher, site: Site, recorder: Recorder
) -> None:
    (site.build / "index.html").unlink()
    result = publisher.run("publish")
    assert result.exit_code == 1 and "it has no index.html" in result.output
    assert not recorder.writes()


def test_a_missing_build_is_refused(publisher: Publisher, site: Site) -> None:
    result = publisher.run("publish", app=site.app(BUILD_DIR=site.work / "nowhere"))
    assert result.exit_code == 1 and "run `flask --app storefront freeze` first" in result.output


def test_content_that_fails_validation_is_refused_with_its_problems(
    publisher: Publisher, site: Site, recorder: Recorder
) -> None:
    path = site.content / "sculptures" / "onda.yaml"
    path.write_text(path.read_text().replace("edition_size: 1", "edition_size: 0"))
    result = publisher.run("publish")
    assert result.exit_code == 1
    assert "refusing to publish: 1 content problem" in result.output
    assert "onda.yaml:" in result.output and "edition_size" in result.output
    assert not recorder.writes()


@pytest.mark.parametrize(
    "name", ["Gallery", "ab", "gallery_site", "-gallery", "gallery..site", "192.168.0.1"]
)
def test_an_invalid_bucket_name_is_refused_before_any_request(
    site: Site, aws: dict[str, str], recorder: Recorder, name: str
) -> None:
    result = Publisher(site, name, None).run("publish")
    assert result.exit_code == 1 and f"invalid bucket name {name!r}" in result.output
    assert not recorder.calls


def test_a_bucket_that_does_not_exist_is_an_aws_error(site: Site, aws: dict[str, str]) -> None:
    result = Publisher(site, "no-such-gallery", None).run("publish")
    assert result.exit_code == 1 and "NoSuchBucket" in result.output


@pytest.mark.parametrize(
    "prefix",
    ["../other", "previews/../..", "_publish", "site", "previews", "previews/PR 12", "x/pr-1"],
)
def test_a_prefix_other_than_a_preview_is_refused(
    site: Site, bucket: str, recorder: Recorder, prefix: str
) -> None:
    result = Publisher(site, bucket, None).run("publish", "--prefix", prefix)
    assert result.exit_code == 1 and "invalid --prefix" in result.output
    assert "previews/<name>" in result.output
    assert not recorder.calls


def test_a_preview_with_a_distribution_is_refused(publisher: Publisher, recorder: Recorder) -> None:
    result = publisher.run("publish", "--prefix", "previews/pr-3")
    assert result.exit_code == 1 and "drop --distribution-id" in result.output
    assert not recorder.calls


def test_a_build_without_a_canonical_url_is_refused(
    publisher: Publisher, site: Site, recorder: Recorder
) -> None:
    index = site.build / "index.html"
    index.write_text(index.read_text().replace('rel="canonical"', 'rel="alternate"'))
    result = publisher.run("publish")
    assert result.exit_code == 1 and "cannot tell which URL" in result.output
    assert not recorder.writes()


def test_keeping_fewer_than_two_releases_is_a_usage_error(publisher: Publisher) -> None:
    assert publisher.run("publish", "--keep-releases", "1").exit_code == 2


def test_rollback_to_an_unknown_release_is_refused(publisher: Publisher) -> None:
    release = publisher.publish()["release"]
    result = publisher.run("rollback", "0123456789abcdef")
    assert result.exit_code == 1
    assert f"no retained release 0123456789abcdef; retained releases: {release}" in result.output
    assert "is not a release id" in publisher.run("rollback", "latest").output


def test_multipart_objects_are_compared_by_content_not_etag(
    site: Site, edge: Edge, bucket: str
) -> None:
    (site.build / "img" / "big-0a1b2c3d4e5f-4000.jpg").write_bytes(bytes(6 * 1024 * 1024))
    s3, cloudfront = make_clients()
    store = SiteStore(
        s3, cloudfront, bucket, Area(), edge.distribution_id, multipart_threshold=5 * 1024 * 1024
    )
    first = publish(store, scan_build(site.build, CachePolicy()), Options())
    key = f"site/{ROOT}img/big-0a1b2c3d4e5f-4000.jpg"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ETag"].endswith('-2"')  # not an MD5
    assert first.uploaded == len(site.files())
    again = publish(store, scan_build(site.build, CachePolicy()), Options())
    assert again.noop and again.uploaded == 0
