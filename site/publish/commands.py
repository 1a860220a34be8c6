"""`flask --app storefront publish | rollback | releases | unpublish`.

Every option also reads an environment variable (for CI), `--json` prints the
summary as one JSON document on stdout, and the exit status is 0 when the site
is (or already was) what was asked, 1 when the command refused or failed (the
message says why, on stderr), 2 for a usage error.

The design (in place, in proportion to the change) is in storefront.publish.releases
and docs/decisions.md; what the distribution and the IAM roles must provide is
in terraform/modules/static_site and terraform/modules/github_oidc, and is
proven by tests/publish/test_iam.py and tests/cloudfront.
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
from storefront.publish.content_check import ContentCheck
from storefront.publish.errors import PublishError
from storefront.publish.headers import CachePolicy, UnknownFileType
from storefront.publish.layout import Area, check_bucket_name
from storefront.publish.local_scan import scan_build, site_url
from storefront.publish.plan import CLOUDFRONT_MAX_PATHS
from storefront.publish.progress import Progress
from storefront.publish.releases import (
    Options,
    Snapshot,
    Summary,
    list_releases,
    publish,
    read_snapshot,
    rollback,
    unpublish,
)
from storefront.publish.remote import SiteStore, make_clients


def init_app(app: Flask) -> None:
    defaults = CachePolicy()
    app.config.setdefault("PUBLISH_CACHE_IMMUTABLE", defaults.immutable)
    app.config.setdefault("PUBLISH_CACHE_REVALIDATE", defaults.revalidate)
    for command in (publish_command, rollback_command, releases_command, unpublish_command):
        app.cli.add_command(command)


def _target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Where the site lives; every option also reads an environment variable (for CI)."""
    options = [
        click.option("--bucket", envvar="PUBLISH_BUCKET", required=True, help="S3 bucket."),
        click.option(
            "--distribution-id",
            envvar="PUBLISH_DISTRIBUTION_ID",
            help="CloudFront distribution to invalidate changed paths in (production only; "
            "previews are served uncached). Without one, nothing is invalidated.",
        ),
        click.option(
            "--prefix",
            envvar="PUBLISH_PREFIX",
            default="",
            help="previews/<name> (e.g. previews/pr-12) for a pull-request preview; "
            "empty for the production site.",
        ),
        click.option(
            "--endpoint-url", envvar="AWS_ENDPOINT_URL", help="AWS endpoint (e.g. a moto server)."
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
    default=0.0,
    show_default=True,
    help="Seconds to wait for the invalidation to complete at every edge (0: do not wait).",
)
_keep_option = click.option(
    "--keep-releases",
    envvar="PUBLISH_KEEP_RELEASES",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Releases kept for rollback (the live one included); older ones are collected.",
)
_jobs_option = click.option(
    "--jobs",
    envvar="PUBLISH_JOBS",
    type=click.IntRange(1, 64),
    default=16,
    show_default=True,
    help="Concurrent uploads, copies and lookups.",
)


@click.command("publish")
@_target_options
@_wait_option
@_keep_option
@_jobs_option
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
    """Publish the frozen site, writing only what changed (a preview with --prefix)."""
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
    with _errors():
        connection = _Connection.from_options(**target)
        # Forked before any thread starts: the content is checked on the other core.
        check = ContentCheck(config["CONTENT_DIR"], config.get("PARSE_CACHE_FILE"))
    with _errors(), contextlib.closing(check), ThreadPoolExecutor(max_workers=1) as background:
        # What is served is read (read-only) while the build is hashed.
        remote = background.submit(_read_remote, connection, jobs, _cache(config))
        url_root = urlsplit(site_url(config["BUILD_DIR"])).path or "/"
        build = scan_build(
            config["BUILD_DIR"],
            policy,
            key_root=connection.area.key_root(url_root),
            digests_file=_cache(config) / "digests.pickle",
            jobs=jobs,
        )
        store, snapshot = remote.result()
        refusal = check.problems()
        if refusal is not None:
            summary_line, lines = refusal
            for line in lines:
                click.echo(line, err=True)
            raise PublishError(f"refusing to publish: {summary_line}")
        summary = publish(
            store, build, options, progress=Progress(sys.stderr, "publish"), snapshot=snapshot
        )
    _report(summary, as_json)
    if summary.refused:
        raise click.ClickException(summary.refused)


@click.command("rollback")
@click.argument("release_id", required=False)
@_target_options
@_wait_option
@_jobs_option
@with_appcontext
def rollback_command(
    release_id: str | None, as_json: bool, wait_timeout: float, jobs: int, **target: Any
) -> None:
    """Serve an earlier release again: the one before the live one, or RELEASE_ID."""
    with _errors():
        store = _Connection.from_options(**target).store(jobs, _cache(current_app.config))
        summary = rollback(store, release_id, Options(wait_timeout=wait_timeout, jobs=jobs))
    _report(summary, as_json)


@click.command("releases")
@_target_options
@with_appcontext
def releases_command(as_json: bool, **target: Any) -> None:
    """List the retained releases, newest first; the live one is marked."""
    with _errors():
        store = _Connection.from_options(**target).store(8, _cache(current_app.config))
        rows, pointer = list_releases(store)
    if as_json:
        document = {
            "area": store.area.name,
            "live": pointer.release,
            "pending": pointer.target if pointer.changing else None,
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
    if pointer.changing:
        click.echo(f"change to {pointer.target} interrupted: the next publish or rollback ends it")


@click.command("unpublish")
@_target_options
def unpublish_command(as_json: bool, **target: Any) -> None:
    """Remove a preview (--prefix previews/<name>): every object and record of it."""
    with _errors():
        summary = unpublish(_Connection.from_options(**target).store())
    if as_json:
        click.echo(json.dumps(asdict(summary), indent=2))
    elif summary.noop:
        click.echo(f"nothing to remove: {summary.area} has no objects")
    else:
        click.echo(f"removed {summary.area}: {summary.deleted} objects")


@dataclass(frozen=True)
class _Connection:
    """The target options, checked (before any request), and how to reach AWS."""

    bucket: str
    area: Area
    distribution_id: str | None
    endpoint_url: str | None
    region: str | None

    @classmethod
    def from_options(
        cls,
        *,
        bucket: str,
        distribution_id: str | None,
        prefix: str,
        endpoint_url: str | None,
        region: str | None,
    ) -> _Connection:
        area = Area.from_prefix(prefix)
        if area.preview and distribution_id:
            raise PublishError(
                "previews are served uncached and their role may not touch the distribution: "
                "drop --distribution-id (PUBLISH_DISTRIBUTION_ID) when publishing a preview"
            )
        return cls(check_bucket_name(bucket), area, distribution_id, endpoint_url, region)

    def store(self, jobs: int = 16, cache: Any = None) -> SiteStore:
        s3, cloudfront = make_clients(endpoint_url=self.endpoint_url, region=self.region, jobs=jobs)
        manifests = cache / "manifests" if cache is not None else None
        return SiteStore(
            s3, cloudfront, self.bucket, self.area, self.distribution_id, manifests, jobs=jobs
        )


def _cache(config: Any) -> Any:
    return config["CACHE_DIR"] / "publish"


def _read_remote(connection: _Connection, jobs: int, cache: Any) -> tuple[SiteStore, Snapshot]:
    store = connection.store(jobs, cache)
    return store, read_snapshot(store, jobs)


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
    where = f" ({summary.area})" if summary.area != "site" else ""
    if summary.noop:
        click.echo(f"nothing to {summary.action}{where}: release {summary.release} is live")
        return
    verb = "would make" if summary.dry_run else "made"
    how = " (a retained release, restored)" if summary.reused else ""
    click.echo(
        f"{summary.action}{where}: {verb} release {summary.release} live{how}, "
        f"replacing {summary.previous or 'nothing'}"
    )
    click.echo(
        f"  files {summary.files}: uploaded {summary.uploaded} "
        f"({summary.uploaded_bytes / 1e3:.1f} kB), restored {summary.restored}, "
        f"unchanged {summary.unchanged}, changed {summary.changed}, added {summary.added}, "
        f"deleted {summary.deleted}, kept {summary.kept}"
        + (f", resumed {summary.resumed}" if summary.resumed else "")
    )
    paths = summary.invalidated_paths
    if summary.invalidation or (summary.dry_run and paths):
        shown = ", ".join(paths[:8]) + (" ..." if len(paths) > 8 else "")
        click.echo(f"  invalidation {summary.invalidation or '(dry run)'}: {shown}")
    if summary.collected_releases:
        click.echo(
            f"  collected {len(summary.collected_releases)} old release(s), "
            f"{summary.collected_objects} files"
        )
    if summary.url:
        click.echo(f"  {summary.url}")
    click.echo(f"  in {summary.seconds:.2f} s")
