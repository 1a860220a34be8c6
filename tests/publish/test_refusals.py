"""Bad input is refused before anything changes, with a message that says what is wrong."""

from __future__ import annotations

import pytest
from publish.harness import ROOT, Edge, Publisher, Recorder, Site, client
from storefront.publish.headers import CachePolicy
from storefront.publish.releases import Options, publish, scan_build
from storefront.publish.remote import ReleaseStore, Target, make_clients


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


@pytest.mark.parametrize("prefix", ["../other", "previews/../..", "_releases", "pr 12"])
def test_an_unsafe_prefix_is_refused(publisher: Publisher, recorder: Recorder, prefix: str):
    result = publisher.run("publish", "--prefix", prefix)
    assert result.exit_code == 1 and "invalid --prefix" in result.output
    assert not recorder.calls


def test_keeping_fewer_than_two_releases_is_a_usage_error(publisher: Publisher) -> None:
    assert publisher.run("publish", "--keep-releases", "1").exit_code == 2


def test_rollback_to_an_unknown_release_is_refused(publisher: Publisher) -> None:
    release = publisher.publish()["release"]
    result = publisher.run("rollback", "0123456789abcdef")
    assert result.exit_code == 1
    assert f"no complete release 0123456789abcdef; retained releases: {release}" in result.output
    assert "is not a release id" in publisher.run("rollback", "latest").output


def test_a_distribution_without_the_buckets_origin_needs_origin_id(
    site: Site, edge: Edge, recorder: Recorder
) -> None:
    client("s3").create_bucket(Bucket="another-bucket")
    other = Publisher(site, "another-bucket", edge.distribution_id)
    result = other.run("publish")
    assert result.exit_code == 1 and "pass --origin-id" in result.output
    assert "site (gallery-site.s3.us-east-1.amazonaws.com)" in result.output
    assert other.run("publish", "--origin-id", "site").exit_code == 0
    assert edge.origin_path().startswith("/releases/")


def test_multipart_objects_are_compared_by_content_not_etag(
    site: Site, edge: Edge, bucket: str
) -> None:
    (site.build / "img" / "big-0a1b2c3d4e5f-4000.jpg").write_bytes(bytes(6 * 1024 * 1024))
    s3, cloudfront = make_clients()
    target = Target(bucket, "", edge.distribution_id)
    store = ReleaseStore(s3, cloudfront, target, multipart_threshold=5 * 1024 * 1024)
    local = scan_build(site.build, CachePolicy(), key_prefix=ROOT)
    first = publish(store, local, Options(wait_timeout=0), url_root="/" + ROOT)
    key = f"releases/{first.release}/{ROOT}img/big-0a1b2c3d4e5f-4000.jpg"
    assert s3.head_object(Bucket=bucket, Key=key)["ETag"].endswith('-2"')  # not an MD5
    again = publish(store, scan_build(site.build, CachePolicy(), key_prefix=ROOT), Options())
    assert again.noop and again.uploaded == 0
