"""Publish the frozen site to S3 + CloudFront: `publish`, `rollback` and `releases`.

Design: atomic releases by CloudFront origin path.

Every publish writes a complete release under its own prefix,
`releases/<id>/` (the id is a hash of the build's content and headers), then
switches the live site in one step by setting the S3 origin's `OriginPath` of
the distribution to `/releases/<id>` (UpdateDistribution with the ETag from
GetDistributionConfig), and finally invalidates only the paths whose bytes or
headers changed. Each CloudFront edge switches its whole view at once, so a
visitor sees the old release or the new one, never a mix; `rollback` is the
same switch back to a retained release, with no rebuild and no upload.

Objects that did not change are server-side copied (CopyObject) from the live
release, so only changed bytes travel. Each release has a manifest (SHA-256,
size and headers of every object) under `_releases/`: the diff never downloads
bodies and never relies on S3 ETags (which are not content hashes for multipart
uploads). `_releases/live.json` records the live release in the bucket, with any
switch in progress, so that `releases` and `rollback` work from the bucket, and
so a run killed midway finishes the switch on its next run. Fingerprinted assets
that a new build drops are carried into the new release once, so a page still
cached from the old release never links to a missing file. Releases beyond the
newest `--keep-releases` are deleted after the switch. Objects are keyed by
their URL path: with a `base_url` of `https://host/loja/`, `index.html` is stored
as `releases/<id>/loja/index.html` and served at `/loja/`.

Why not a CloudFront Function reading the live release from a KeyValueStore:
it would switch faster (seconds, not a config deployment) but moto does not
emulate the KeyValueStore data plane (PutKey) nor run functions, so it could not
be tested here over HTTP; the origin-path switch is exercised end to end.

What the distribution's Terraform must leave to this command: the S3 origin's
`origin_path` (ignore changes to it). It must provide a viewer-request function
mapping `/x/` to `/x/index.html`, a 404 custom error response to `/404.html`, a
cache policy honouring the objects' Cache-Control, and an Origin Access Control
whose bucket policy lets CloudFront read `releases/*` (the manifests under
`_releases/` stay private). The publish role needs s3:GetObject, PutObject,
DeleteObject, ListBucket, and cloudfront:GetDistribution, GetDistributionConfig,
UpdateDistribution, CreateInvalidation.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import click
from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, current_app
from flask.cli import with_appcontext
from storefront.content.catalog import load_catalog
from storefront.content.problems import ContentError
from storefront.publish.headers import CachePolicy, UnknownFileType
from storefront.publish.plan import CLOUDFRONT_MAX_PATHS
from storefront.publish.releases import (
    Options,
    Progress,
    Snapshot,
    Summary,
    list_releases,
    publish,
    read_snapshot,
    rollback,
    scan_build,
)
from storefront.publish.remote import (
    PublishError,
    ReleaseStore,
    Target,
    check_bucket_name,
    make_clients,
    normalize_prefix,
)


def init_app(app: Flask) -> None:
    defaults = CachePolicy()
    app.config.setdefault("PUBLISH_CACHE_IMMUTABLE", defaults.immutable)
    app.config.setdefault("PUBLISH_CACHE_REVALIDATE", defaults.revalidate)
    app.cli.add_command(publish_command)
    app.cli.add_command(rollback_command)
    app.cli.add_command(releases_command)


def _target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Where releases live; every option also reads an environment variable (for CI)."""
    options = [
        click.option("--bucket", envvar="PUBLISH_BUCKET", required=True, help="S3 bucket."),
        click.option(
            "--distribution-id",
            envvar="PUBLISH_DISTRIBUTION_ID",
            help="CloudFront distribution whose S3 origin serves the live release. Without "
            "one, the live release is only recorded in the bucket.",
        ),
        click.option(
            "--origin-id",
            envvar="PUBLISH_ORIGIN_ID",
            help="The distribution's S3 origin (default: the origin on the bucket's domain).",
        ),
        click.option(
            "--prefix",
            envvar="PUBLISH_PREFIX",
            default="",
            help="Key prefix for every release, e.g. previews/pr-12 for a pull request.",
        ),
        click.option(
            "--endpoint-url",
            envvar="AWS_ENDPOINT_URL",
            help="AWS endpoint (e.g. a local moto server).",
        ),
        click.option("--region", envvar="AWS_REGION", help="AWS region (default us-east-1)."),
        click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_wait_option = click.option(
    "--wait-timeout",
    envvar="PUBLISH_WAIT_TIMEOUT",
    type=click.FloatRange(min=0),
    default=900.0,
    show_default=True,
    help="Seconds to wait for the distribution to deploy before invalidating (0: no wait).",
)


@click.command("publish")
@_target_options
@_wait_option
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option(
    "--max-deletes",
    envvar="PUBLISH_MAX_DELETES",
    type=click.IntRange(min=0),
    default=256,
    show_default=True,
    help="Refuse to take more files than this off the site (unless --force).",
)
@click.option("--force", is_flag=True, help="Publish even past --max-deletes.")
@click.option(
    "--keep-releases",
    envvar="PUBLISH_KEEP_RELEASES",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Releases kept for rollback (the live one included); older ones are deleted.",
)
@click.option(
    "--jobs",
    envvar="PUBLISH_JOBS",
    type=click.IntRange(1, 64),
    default=16,
    show_default=True,
    help="Concurrent uploads and copies.",
)
@click.option(
    "--max-invalidation-paths",
    envvar="PUBLISH_MAX_INVALIDATION_PATHS",
    type=click.IntRange(1, CLOUDFRONT_MAX_PATHS),
    default=300,
    show_default=True,
    help="Past this many paths, folders are invalidated with wildcards.",
)
@with_appcontext
def publish_command(
    dry_run: bool,
    max_deletes: int,
    force: bool,
    keep_releases: int,
    jobs: int,
    max_invalidation_paths: int,
    as_json: bool,
    wait_timeout: float,
    **target: Any,
) -> None:
    """Upload the frozen site as a new release and make it live atomically."""
    config = current_app.config
    options = Options(
        dry_run=dry_run,
        max_deletes=max_deletes,
        force=force,
        keep_releases=keep_releases,
        jobs=jobs,
        max_invalidation_paths=max_invalidation_paths,
        wait_timeout=wait_timeout,
    )
    policy = CachePolicy(config["PUBLISH_CACHE_IMMUTABLE"], config["PUBLISH_CACHE_REVALIDATE"])
    with _errors(), ThreadPoolExecutor(max_workers=1) as background:
        connection = _Connection.from_options(**target)
        # What is live is read (read-only) while the content is checked and the build hashed.
        remote = background.submit(_read_remote, connection, jobs)
        try:
            catalog = load_catalog(config["CONTENT_DIR"], config.get("PARSE_CACHE_FILE"))
        except ContentError as error:
            for problem in error.problems:
                click.echo(problem.format_text(), err=True)
            raise PublishError(f"refusing to publish: {error}") from None
        root = urlsplit(str(catalog.site.base_url)).path or "/"
        local = scan_build(config["BUILD_DIR"], policy, key_prefix=root.lstrip("/"), jobs=jobs)
        store, snapshot = remote.result()
        progress = Progress(sys.stderr, "publish")
        summary = publish(
            store, local, options, url_root=root, progress=progress, snapshot=snapshot
        )
    _report(summary, as_json)
    if summary.refused:
        raise click.ClickException(summary.refused)


@click.command("rollback")
@click.argument("release_id", required=False)
@_target_options
@_wait_option
def rollback_command(
    release_id: str | None, as_json: bool, wait_timeout: float, **target: Any
) -> None:
    """Serve an earlier release again: the one before the live one, or RELEASE_ID."""
    with _errors():
        store = _Connection.from_options(**target).store()
        summary = rollback(store, release_id, Options(wait_timeout=wait_timeout))
    _report(summary, as_json)


@click.command("releases")
@_target_options
def releases_command(as_json: bool, **target: Any) -> None:
    """List the retained releases, newest first; the live one is marked."""
    with _errors():
        rows, live = list_releases(_Connection.from_options(**target).store())
    if as_json:
        pending = live.pointer.release if live.pointer and live.pointer.state != "live" else None
        document = {
            "live": live.served,
            "pending": pending,
            "releases": [asdict(row) for row in rows],
        }
        click.echo(json.dumps(document, indent=2))
        return
    if not rows:
        click.echo("no releases yet")
    for row in rows:
        mark = "*" if row.live else " "
        click.echo(
            f"{mark} {row.release}  {row.created_at[:19]}  {row.files:>6} files  "
            f"{row.bytes / 1e6:>9.2f} MB"
        )
    if live.pointer and live.pointer.state != "live":
        click.echo(f"switch to {live.pointer.release} pending: the next publish finishes it")


@dataclass(frozen=True)
class _Connection:
    """The target options, checked (before any request), and how to reach AWS."""

    target: Target
    endpoint_url: str | None
    region: str | None

    @classmethod
    def from_options(
        cls,
        *,
        bucket: str,
        distribution_id: str | None,
        origin_id: str | None,
        prefix: str,
        endpoint_url: str | None,
        region: str | None,
    ) -> _Connection:
        bucket, prefix = check_bucket_name(bucket), normalize_prefix(prefix)
        return cls(Target(bucket, prefix, distribution_id, origin_id), endpoint_url, region)

    def store(self, jobs: int = 16) -> ReleaseStore:
        s3, cloudfront = make_clients(endpoint_url=self.endpoint_url, region=self.region, jobs=jobs)
        return ReleaseStore(s3, cloudfront, self.target)


def _read_remote(connection: _Connection, jobs: int) -> tuple[ReleaseStore, Snapshot]:
    store = connection.store(jobs)
    return store, read_snapshot(store)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Turn the errors a user can act on into one clear line and exit status 1."""
    try:
        yield
    except (PublishError, UnknownFileType) as error:
        raise click.ClickException(str(error)) from error
    except (ClientError, BotoCoreError) as error:
        raise click.ClickException(f"AWS error: {error}") from error


def _report(summary: Summary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(asdict(summary), indent=2))
        return
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    if summary.refused:
        return
    if summary.noop:
        click.echo(f"nothing to {summary.action}: release {summary.release} is live")
        return
    verb = "would make" if summary.dry_run else "made"
    how = " (a retained release, reused)" if summary.reused else ""
    click.echo(
        f"{summary.action}: {verb} release {summary.release} live{how}, "
        f"replacing {summary.previous or 'nothing'}"
    )
    if summary.action == "publish":
        click.echo(
            f"  files {summary.files}: uploaded {summary.uploaded} "
            f"({summary.uploaded_bytes / 1e3:.1f} kB), copied {summary.copied}, "
            f"unchanged {summary.unchanged}, changed {summary.changed}, added {summary.added}, "
            f"deleted {summary.deleted}, carried {summary.carried}"
            + (f", resumed {summary.resumed}" if summary.resumed else "")
        )
    paths = summary.invalidated_paths
    if summary.invalidation or (summary.dry_run and paths):
        shown = ", ".join(paths[:8]) + (" ..." if len(paths) > 8 else "")
        click.echo(f"  invalidation {summary.invalidation or '(dry run)'}: {shown}")
    if summary.collected_releases:
        click.echo(
            f"  deleted {len(summary.collected_releases)} old release(s), "
            f"{summary.collected_objects} objects"
        )
    click.echo(f"  in {summary.seconds:.2f} s")
