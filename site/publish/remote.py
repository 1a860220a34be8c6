"""The thin AWS edge of publishing: release objects and manifests in S3, the origin
path and invalidations in CloudFront. No decisions are taken here.

Bucket layout (under an optional prefix such as `previews/pr-12/`)::

    releases/<id>/<key>             the files of one release (what CloudFront serves)
    _releases/<stamp>.<id>.json.gz  that release's manifest, written last: a release
                                    without one is incomplete and never served
    _releases/live.json             which release is live, and a switch in progress

CloudFront's S3 origin has `OriginPath = /<prefix>releases/<id>`; the bucket policy
only needs to let CloudFront read `releases/*`, so manifests stay private.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    import boto3
    from boto3.s3.transfer import TransferConfig

from storefront.publish.plan import RELEASE_ID, FileEntry, Manifest, ReleaseRef

# Bucket naming rules (general purpose buckets): 3-63 characters of lower-case
# letters, digits, dots and hyphens, starting and ending with a letter or digit,
# no two adjacent dots, not an IP address.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_PREFIX_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MANIFEST_NAME = re.compile(r"^(\d{8}T\d{12}Z)\.([0-9a-f]{16})\.json\.gz$")
#: Files up to this size go up in one PutObject; larger ones as multipart uploads.
MULTIPART_THRESHOLD = 64 * 1024 * 1024


class PublishError(Exception):
    """A publish, rollback or listing that cannot go on; the message says why."""


def check_bucket_name(name: str) -> str:
    """Return the name, or raise PublishError when S3 would reject it."""
    if not _BUCKET.match(name) or ".." in name or _IP_ADDRESS.match(name):
        raise PublishError(
            f"invalid bucket name {name!r}: use 3-63 lower-case letters, digits, dots and "
            "hyphens, starting and ending with a letter or digit"
        )
    return name


def normalize_prefix(prefix: str | None) -> str:
    """`previews/pr-12` -> `previews/pr-12/`; empty stays empty. Rejects `..` and the like."""
    parts = [part for part in (prefix or "").strip().strip("/").split("/") if part]
    for part in parts:
        if not _PREFIX_PART.match(part) or part in {".", ".."} or part.startswith("_"):
            raise PublishError(f"invalid --prefix {prefix!r}: segment {part!r} is not allowed")
    return "".join(part + "/" for part in parts)


@dataclass(frozen=True)
class Target:
    """Where releases live: a bucket, a prefix in it, and the distribution serving them."""

    bucket: str
    prefix: str = ""
    distribution_id: str | None = None
    origin_id: str | None = None

    def release_root(self, release: str) -> str:
        return f"{self.prefix}releases/{release}/"

    def origin_path(self, release: str) -> str:
        return f"/{self.prefix}releases/{release}"

    def release_of(self, origin_path: str) -> str | None:
        """The release an origin path points at, or None when it is not one of ours."""
        head = f"/{self.prefix}releases/"
        release = origin_path[len(head) :] if origin_path.startswith(head) else ""
        return release if RELEASE_ID.match(release) else None


@dataclass(frozen=True)
class Pointer:
    """`_releases/live.json`: the live release as the bucket records it.

    `state` is `switching` from just before the origin switch until its
    invalidation is created, with the paths to invalidate: a publish killed in
    between finishes that work on its next run.
    """

    release: str
    previous: str | None = None
    state: str = "live"
    invalidate: tuple[str, ...] = ()
    invalidation: str | None = None
    switched_at: str = ""

    def to_json(self) -> bytes:
        return json.dumps({**asdict(self), "invalidate": list(self.invalidate)}, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Pointer:
        document = json.loads(data)
        known = {name: document[name] for name in cls.__dataclass_fields__ if name in document}
        known["invalidate"] = tuple(known.get("invalidate") or ())
        return cls(**known)


def make_clients(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    jobs: int = 16,
    session: boto3.Session | None = None,
) -> tuple[Any, Any]:
    """S3 and CloudFront clients that retry throttling with adaptive backoff.

    `session` lets a caller attach botocore event hooks (the benchmark counts
    requests that way). boto3 clients are thread-safe; the connection pool is
    sized for the upload threads.
    """
    # boto3 is imported here, not at module level: every `flask --app storefront`
    # command (freeze included) loads this module, and boto3 costs ~150 ms to import.
    import boto3
    from botocore.config import Config

    session = session or boto3.Session()
    config = Config(
        retries={"mode": "adaptive", "max_attempts": 10},
        max_pool_connections=max(10, jobs + 4),
        connect_timeout=10,
        read_timeout=60,
    )
    kwargs: dict[str, Any] = {"config": config}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if region or not session.region_name:
        kwargs["region_name"] = region or "us-east-1"
    return session.client("s3", **kwargs), session.client("cloudfront", **kwargs)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@dataclass
class ReleaseStore:
    """Releases of one target, over boto3 clients."""

    s3: Any
    cloudfront: Any
    target: Target
    multipart_threshold: int = MULTIPART_THRESHOLD
    _transfer: TransferConfig = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from boto3.s3.transfer import TransferConfig

        threshold = self.multipart_threshold
        self._transfer = TransferConfig(
            multipart_threshold=threshold, multipart_chunksize=threshold, use_threads=False
        )

    # -- S3: manifests and the live pointer ----------------------------------------

    @property
    def _meta(self) -> str:
        return f"{self.target.prefix}_releases/"

    def list_releases(self) -> list[ReleaseRef]:
        """Every complete release (one with a manifest), oldest first."""
        refs = []
        for item in self._list(self._meta):
            match = _MANIFEST_NAME.match(item["Key"][len(self._meta) :])
            if match:
                refs.append(ReleaseRef(match[1], match[2]))
        return sorted(refs)

    def read_manifest(self, ref: ReleaseRef) -> Manifest:
        body = self._get(self._manifest_key(ref))
        if body is None:
            raise PublishError(f"manifest of release {ref.release} disappeared")
        return Manifest.from_json(gzip.decompress(body))

    def write_manifest(self, manifest: Manifest, stamp: str) -> ReleaseRef:
        ref = ReleaseRef(stamp, manifest.release)
        self.s3.put_object(
            Bucket=self.target.bucket,
            Key=self._manifest_key(ref),
            Body=gzip.compress(manifest.to_json(), compresslevel=6, mtime=0),
            ContentType="application/gzip",
            CacheControl="no-store",
        )
        return ref

    def delete_manifest(self, ref: ReleaseRef) -> None:
        self.s3.delete_object(Bucket=self.target.bucket, Key=self._manifest_key(ref))

    def read_pointer(self) -> Pointer | None:
        body = self._get(self._meta + "live.json")
        return Pointer.from_json(body) if body is not None else None

    def write_pointer(self, pointer: Pointer) -> None:
        self.s3.put_object(
            Bucket=self.target.bucket,
            Key=self._meta + "live.json",
            Body=pointer.to_json(),
            ContentType="application/json; charset=utf-8",
            CacheControl="no-store",
        )

    def _manifest_key(self, ref: ReleaseRef) -> str:
        return f"{self._meta}{ref.stamp}.{ref.release}.json.gz"

    # -- S3: release objects --------------------------------------------------------

    def release_objects(self, release: str) -> dict[str, int]:
        """Keys (relative to the release) and sizes of the objects under a release."""
        root = self.target.release_root(release)
        return {item["Key"][len(root) :]: item["Size"] for item in self._list(root)}

    def release_prefixes(self) -> set[str]:
        """Release ids that have objects, complete or not."""
        root = f"{self.target.prefix}releases/"
        paginator = self.s3.get_paginator("list_objects_v2")
        ids = set()
        for page in paginator.paginate(Bucket=self.target.bucket, Prefix=root, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                ids.add(common["Prefix"][len(root) :].rstrip("/"))
        return ids

    def upload(self, release: str, key: str, entry: FileEntry, source: Path) -> None:
        extra = {
            "ContentType": entry.content_type,
            "CacheControl": entry.cache_control,
            "Metadata": {"sha256": entry.sha256},
        }
        object_key = self.target.release_root(release) + key
        if entry.size >= self.multipart_threshold:
            self.s3.upload_file(
                str(source), self.target.bucket, object_key, ExtraArgs=extra, Config=self._transfer
            )
        else:
            body = source.read_bytes()
            self.s3.put_object(Bucket=self.target.bucket, Key=object_key, Body=body, **extra)

    def copy(self, source_release: str, release: str, key: str) -> None:
        """Server-side copy: same bytes and headers, no upload."""
        self.s3.copy_object(
            Bucket=self.target.bucket,
            Key=self.target.release_root(release) + key,
            CopySource={
                "Bucket": self.target.bucket,
                "Key": self.target.release_root(source_release) + key,
            },
            MetadataDirective="COPY",
        )

    def delete_release_objects(self, release: str) -> int:
        """Delete every object under a release prefix; return how many."""
        root = self.target.release_root(release)
        keys = [item["Key"] for item in self._list(root)]
        for start in range(0, len(keys), 1000):  # DeleteObjects takes 1,000 keys at most
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            response = self.s3.delete_objects(
                Bucket=self.target.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            if response.get("Errors"):
                first = response["Errors"][0]
                raise PublishError(f"could not delete {first['Key']}: {first.get('Message')}")
        return len(keys)

    def _list(self, prefix: str) -> Iterable[dict[str, Any]]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.target.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def _get(self, key: str) -> bytes | None:
        try:
            response = self.s3.get_object(Bucket=self.target.bucket, Key=key)
        except ClientError as error:
            if error_code(error) in {"NoSuchKey", "404"}:
                return None
            raise
        return response["Body"].read()

    # -- CloudFront -----------------------------------------------------------------

    def served_release(self) -> str | None:
        """The release the distribution's S3 origin points at (None: not one of ours)."""
        config = self._distribution_config()[0]
        return self.target.release_of(self._s3_origin(config).get("OriginPath") or "")

    def switch_origin(self, release: str) -> bool:
        """Point the S3 origin at a release; False when it already does."""
        path = self.target.origin_path(release)
        for _attempt in range(5):
            config, etag = self._distribution_config()
            origin = self._s3_origin(config)
            if origin.get("OriginPath") == path:
                return False
            origin["OriginPath"] = path
            try:
                self.cloudfront.update_distribution(
                    Id=self.target.distribution_id, IfMatch=etag, DistributionConfig=config
                )
            except ClientError as error:
                if error_code(error) == "PreconditionFailed":  # changed meanwhile: redo
                    continue
                raise
            return True
        raise PublishError("the distribution kept changing while switching its origin path")

    def wait_deployed(
        self, timeout: float, interval: float = 10.0, sleep: Callable[[float], None] = time.sleep
    ) -> bool:
        """Wait until every edge has the current configuration; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.cloudfront.get_distribution(Id=self.target.distribution_id)
            if response["Distribution"]["Status"] == "Deployed":
                return True
            if time.monotonic() + interval > deadline:
                return False
            sleep(interval)

    def invalidate(self, paths: list[str], reference: str) -> str:
        response = self.cloudfront.create_invalidation(
            DistributionId=self.target.distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": reference,
            },
        )
        return response["Invalidation"]["Id"]

    def _distribution_config(self) -> tuple[dict[str, Any], str]:
        response = self.cloudfront.get_distribution_config(Id=self.target.distribution_id)
        return response["DistributionConfig"], response["ETag"]

    def _s3_origin(self, config: dict[str, Any]) -> dict[str, Any]:
        origins = config["Origins"].get("Items") or []
        if self.target.origin_id:
            found = [origin for origin in origins if origin["Id"] == self.target.origin_id]
        else:  # the origin whose domain is this bucket's S3 endpoint
            bucket = self.target.bucket
            found = [
                origin
                for origin in origins
                if origin["DomainName"].startswith((f"{bucket}.s3.", f"{bucket}.s3-"))
            ]
        if len(found) != 1:
            names = ", ".join(f"{o['Id']} ({o['DomainName']})" for o in origins)
            wanted = self.target.origin_id or f"the S3 origin of bucket {self.target.bucket}"
            raise PublishError(
                f"distribution {self.target.distribution_id}: cannot tell which origin is "
                f"{wanted} among: {names}; pass --origin-id"
            )
        return found[0]
