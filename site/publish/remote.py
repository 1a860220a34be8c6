"""The thin AWS edge of publishing: objects, manifests and the live pointer of one area
in S3, invalidations in CloudFront. No decisions are taken here.

Every object carries its SHA-256 in its metadata (`x-amz-meta-sha256`), so a
HeadObject tells what a key holds without downloading it. The bucket must have
versioning enabled: each write returns the version that holds those bytes, the
manifest records it, and a rollback copies that version back.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    import boto3
    from boto3.s3.transfer import TransferConfig

from storefront.publish.errors import PublishError
from storefront.publish.layout import Area
from storefront.publish.plan import FileEntry, Manifest, ReleaseRef
from storefront.publish.state import EMPTY, Pointer

#: Files up to this size go up in one PutObject; larger ones as multipart uploads.
MULTIPART_THRESHOLD = 64 * 1024 * 1024
_MISSING = {"NoSuchKey", "404", "NotFound"}


def make_clients(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    jobs: int = 16,
    session: boto3.Session | None = None,
) -> tuple[Any, Any]:
    """S3 and CloudFront clients that retry throttling with adaptive backoff.

    `session` lets a caller attach botocore event hooks (the benchmark counts
    requests that way, the IAM tests check each call against the policy).
    boto3 clients are thread-safe; the connection pool is sized for the upload
    threads.
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
    return session.client("s3", **kwargs), _Deferred(lambda: session.client("cloudfront", **kwargs))


class _Deferred:
    """A client made on first use: most publishes of a preview, and every no-op, never
    call CloudFront, and loading a service model costs ~0.1 s of a one-edit publish."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make()
        return getattr(self._client, name)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@dataclass
class SiteStore:
    """One area of the bucket (and the distribution serving it), over boto3 clients."""

    s3: Any
    cloudfront: Any
    bucket: str
    area: Area
    distribution_id: str | None = None
    manifest_cache: Path | None = None  # manifests never change: kept locally once read
    jobs: int = 16
    multipart_threshold: int = MULTIPART_THRESHOLD

    def _transfer(self) -> TransferConfig:
        """Multipart settings, for the rare file over the threshold (s3transfer is slow to
        import)."""
        from boto3.s3.transfer import TransferConfig

        threshold = self.multipart_threshold
        return TransferConfig(
            multipart_threshold=threshold, multipart_chunksize=threshold, use_threads=False
        )

    # -- the bucket ---------------------------------------------------------------------

    def versioning(self) -> str:
        """The bucket's versioning status: Enabled, Suspended or "" (never enabled)."""
        return self.s3.get_bucket_versioning(Bucket=self.bucket).get("Status", "")

    # -- the live pointer and manifests -------------------------------------------------

    def read_pointer(self) -> Pointer:
        body = self._get(self.area.meta_prefix + "live.json")
        return Pointer.from_json(body) if body is not None else EMPTY

    def write_pointer(self, pointer: Pointer) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self.area.meta_prefix + "live.json",
            Body=pointer.to_json(),
            ContentType="application/json; charset=utf-8",
            CacheControl="no-store",
        )

    def read_manifest(self, ref: ReleaseRef) -> Manifest:
        cached = self._cached_manifest(ref)
        body = cached.read_bytes() if cached and cached.is_file() else None
        if body is None:
            body = self._get(self._manifest_key(ref))
            if body is None:
                raise PublishError(f"the manifest of release {ref.release} is missing")
            self._keep_manifest(ref, body)
        return Manifest.from_json(gzip.decompress(body))

    def write_manifest(self, manifest: Manifest, stamp: str) -> ReleaseRef:
        ref = ReleaseRef(stamp, manifest.release)
        body = gzip.compress(manifest.to_json(), compresslevel=6, mtime=0)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self._manifest_key(ref),
            Body=body,
            ContentType="application/gzip",
            CacheControl="no-store",
        )
        self._keep_manifest(ref, body)
        return ref

    def delete_manifests(self, refs: Iterable[ReleaseRef]) -> None:
        self._delete_keys([self._manifest_key(ref) for ref in refs])

    def _manifest_key(self, ref: ReleaseRef) -> str:
        return f"{self.area.meta_prefix}releases/{ref.stamp}.{ref.release}.json.gz"

    def _cached_manifest(self, ref: ReleaseRef) -> Path | None:
        if self.manifest_cache is None:
            return None
        name = f"{self.bucket}/{self.area.name}/{ref.stamp}.{ref.release}.json.gz"
        return self.manifest_cache / name

    def _keep_manifest(self, ref: ReleaseRef, body: bytes) -> None:
        path = self._cached_manifest(ref)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.tmp")
            temporary.write_bytes(body)
            temporary.replace(path)

    # -- the served objects -------------------------------------------------------------

    def head(self, key: str) -> FileEntry | None:
        """What a key holds now (from its metadata), or None when it is absent."""
        try:
            response = self.s3.head_object(Bucket=self.bucket, Key=self.area.object_key(key))
        except ClientError as error:
            if error_code(error) in _MISSING:
                return None
            raise
        return FileEntry(
            response.get("Metadata", {}).get("sha256", ""),
            response["ContentLength"],
            response.get("ContentType", ""),
            response.get("CacheControl", ""),
            response.get("VersionId"),
        )

    def upload(self, key: str, entry: FileEntry, source: str) -> str | None:
        """Write a file's bytes under `key`; return the S3 version that holds them."""
        extra = {
            "ContentType": entry.content_type,
            "CacheControl": entry.cache_control,
            "Metadata": {"sha256": entry.sha256},
        }
        object_key = self.area.object_key(key)
        if entry.size >= self.multipart_threshold:
            self.s3.upload_file(
                source, self.bucket, object_key, ExtraArgs=extra, Config=self._transfer()
            )
            return self.s3.head_object(Bucket=self.bucket, Key=object_key).get("VersionId")
        response = self.s3.put_object(
            Bucket=self.bucket, Key=object_key, Body=Path(source).read_bytes(), **extra
        )
        return response.get("VersionId")

    def restore(self, key: str, entry: FileEntry) -> str | None:
        """Make the version a manifest recorded current again: a server-side copy, no upload."""
        if not entry.version:
            raise PublishError(f"{key}: the manifest records no S3 version to restore")
        object_key = self.area.object_key(key)
        response = self.s3.copy_object(
            Bucket=self.bucket,
            Key=object_key,
            CopySource={"Bucket": self.bucket, "Key": object_key, "VersionId": entry.version},
            MetadataDirective="COPY",
        )
        return response.get("VersionId")

    def delete(self, keys: Iterable[str]) -> int:
        """Take keys off the site (their versions stay for rollback); return how many."""
        object_keys = [self.area.object_key(key) for key in keys]
        self._delete_keys(object_keys)
        return len(object_keys)

    def list_area(self) -> list[str]:
        """Every key under the area's objects and its private records (for unpublish)."""
        keys = []
        for prefix in (self.area.object_prefix, self.area.meta_prefix):
            paginator = self.s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def delete_object_keys(self, object_keys: list[str]) -> None:
        self._delete_keys(object_keys)

    def _delete_keys(self, object_keys: list[str]) -> None:
        """One DeleteObject per key, `jobs` at a time.

        Not DeleteObjects: S3 authorizes it per key, but moto authorizes the whole
        batch against the bucket's ARN, so the IAM-enforced tests could not run
        under a policy scoped to key prefixes. Deletes are few (what a change
        takes off the site, what a collection frees), and a removed preview
        expires by lifecycle anyway.
        """
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for future in [
                pool.submit(self.s3.delete_object, Bucket=self.bucket, Key=key)
                for key in object_keys
            ]:
                future.result()

    def _get(self, key: str) -> bytes | None:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error_code(error) in _MISSING:
                return None
            raise
        return response["Body"].read()

    # -- CloudFront -----------------------------------------------------------------

    def invalidate(self, paths: list[str], reference: str) -> str:
        response = self.cloudfront.create_invalidation(
            DistributionId=self.distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                "CallerReference": reference,
            },
        )
        return response["Invalidation"]["Id"]

    def wait_invalidated(
        self,
        invalidation: str,
        timeout: float,
        interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> bool:
        """Wait until every edge dropped the stale copies; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.cloudfront.get_invalidation(
                DistributionId=self.distribution_id, Id=invalidation
            )
            # AWS says "Completed"; moto says "COMPLETED".
            if response["Invalidation"]["Status"].lower() == "completed":
                return True
            if time.monotonic() + interval > deadline:
                return False
            sleep(interval)
