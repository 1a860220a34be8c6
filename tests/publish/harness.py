"""Test harness for the publish suites (import as `publish.harness`).

- `Edge`: what a visitor gets for a URL path, resolved as CloudFront will (the
  distribution's behaviours and origins and its directory-index function, read
  from the Terraform module and run in node; see cloudfront.edge);
- `Recorder`: every S3/CloudFront API call the commands make, by operation and key;
- `Site`: a writable fixture catalog, its real freeze, and the app that publishes it;
- `Publisher`: runs `publish`, `rollback` and `releases` against one bucket and
  distribution, in-process (Flask's CLI runner) or as a child process.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from cloudfront.edge import distribution, resolve
from flask import Flask
from storefront.freeze.build import freeze_site
from support.paths import PROJECT
from support.site_build import site_app

BUCKET = "gallery-site"
ROOT = "loja/"  # the fixture catalog's base_url is https://teste.example/loja/
#: Operations that change anything in AWS.
WRITES = frozenset(
    {
        "PutObject",
        "CopyObject",
        "DeleteObject",
        "DeleteObjects",
        "CreateMultipartUpload",
        "UpdateDistribution",
        "CreateInvalidation",
    }
)


def create_bucket(name: str = BUCKET) -> str:
    """A bucket like the Terraform one: versioning on (rollback copies versions back)."""
    s3 = client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def client(service: str) -> Any:
    """A boto3 client for the emulator the environment points at (cached: they are slow)."""
    return _client(service, os.environ.get("AWS_ENDPOINT_URL", ""))


@functools.cache
def _client(service: str, endpoint_url: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint_url or None)


def create_distribution(bucket: str, origin_path: str = "/site") -> str:
    """A distribution like the Terraform one: the API origin and the site's S3 origin."""
    response = client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": f"site-{bucket}-{os.urandom(4).hex()}",
            "Comment": "sculpture store",
            "Enabled": True,
            "Origins": {
                "Quantity": 2,
                "Items": [
                    {
                        "Id": "api",
                        "DomainName": "internal-api.example.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "http-only",
                        },
                    },
                    {
                        "Id": "site",
                        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
                        "OriginPath": origin_path,
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    },
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
            },
        }
    )
    return response["Distribution"]["Id"]


@dataclass
class Edge:
    """What a visitor gets for a URL path, resolved the way the distribution will."""

    bucket: str
    distribution_id: str | None = None

    def get(self, url_path: str) -> dict[str, Any] | None:
        """The object served for a URL path (None: the site's 404), or a redirect."""
        dist = distribution().with_variables(site_path="/" + ROOT)
        response = resolve(url_path, lambda key: _get_object(self.bucket, key), dist=dist)
        if response.status != 200:
            return None
        return {
            "body": response.body,
            "content_type": response.headers.get("content-type"),
            "cache_control": response.headers.get("cache-control"),
        }

    def invalidations(self) -> list[list[str]]:
        """Paths of every invalidation created so far, oldest first."""
        cloudfront = client("cloudfront")
        listed = cloudfront.list_invalidations(DistributionId=self.distribution_id)
        found = []
        for item in listed["InvalidationList"].get("Items") or []:
            batch = cloudfront.get_invalidation(DistributionId=self.distribution_id, Id=item["Id"])
            found.append(batch["Invalidation"]["InvalidationBatch"]["Paths"].get("Items") or [])
        return list(reversed(found)) if _newest_first(listed) else found

    def served(self, files: dict[str, bytes], base: str = "/" + ROOT) -> dict[str, bytes | None]:
        """What each file of a build is served as now (None: not served)."""

        def one(key: str) -> bytes | None:
            response = self.get(base + key)
            return response["body"] if response else None

        with ThreadPoolExecutor(max_workers=8) as pool:
            return dict(zip(files, pool.map(one, files), strict=True))

    def assert_serves(self, files: dict[str, bytes], base: str = "/" + ROOT) -> None:
        """Every file of a build is served with exactly its bytes."""
        bodies = self.served(files, base)
        for key, body in files.items():
            assert bodies[key] is not None, f"{key} is not served"
            assert bodies[key] == body, f"{key} is served with other bytes"


def _newest_first(listed: dict[str, Any]) -> bool:
    items = listed["InvalidationList"].get("Items") or []
    if len(items) < 2:
        return False
    return items[0]["CreateTime"] > items[-1]["CreateTime"]


def _get_object(bucket: str, key: str) -> tuple[bytes, dict[str, str]] | None:
    try:
        response = client("s3").get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
            return None
        raise
    headers = {"content-type": response["ContentType"]}
    if response.get("CacheControl"):
        headers["cache-control"] = response["CacheControl"]
    return response["Body"].read(), headers


@dataclass
class Recorder:
    """Every S3/CloudFront API call made by the publish commands: (operation, key)."""

    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def hook(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params.get("Key")))

    def keys(self, operation: str, under: str = "") -> set[str]:
        return {
            key[len(under) :]
            for name, key in self.calls
            if name == operation and key and key.startswith(under)
        }

    def operations(self) -> Counter[str]:
        return Counter(name for name, _ in self.calls)

    def writes(self) -> set[str]:
        return set(self.operations()) & WRITES

    def clear(self) -> None:
        self.calls.clear()


@dataclass
class Site:
    """A writable fixture catalog, its frozen build and the app that publishes it."""

    content: Path
    work: Path
    config: dict[str, Any]

    @property
    def build(self) -> Path:
        return self.work / "site"

    def app(self, **config: Any) -> Flask:
        """A fresh app, as a new CI run has, with extra config."""
        return site_app(self.content, self.work, **{**self.config, **config})

    def refreeze(self) -> None:
        freeze_site(self.app())

    def edit(self, slug: str, old: str, new: str) -> None:
        path = self.content / "sculptures" / f"{slug}.yaml"
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {path.name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        self.refreeze()

    def set_base_url(self, url: str) -> None:
        """Freeze the site for another URL (a preview's), as `freeze --base-url` would."""
        path = self.content / "site.yaml"
        text = re.sub(r"(?m)^base_url: .*$", f"base_url: {url}", path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")
        self.refreeze()

    def files(self) -> dict[str, bytes]:
        """The build as it is now: key -> bytes."""
        return {
            path.relative_to(self.build).as_posix(): path.read_bytes()
            for path in self.build.rglob("*")
            if path.is_file()
        }


@dataclass
class Result:
    exit_code: int
    output: str
    summary: dict[str, Any] | None = None


@dataclass
class Publisher:
    """Runs the publish commands against one bucket (and distribution, if any)."""

    site: Site
    bucket: str
    distribution_id: str | None

    def target(self) -> list[str]:
        args = ["--bucket", self.bucket]
        return args + (["--distribution-id", self.distribution_id] if self.distribution_id else [])

    def run(self, command: str, *args: str, app: Flask | None = None) -> Result:
        """In-process `flask --app storefront COMMAND --json ...`."""
        argv = [command, *args, *self.target(), "--json"]
        result = (app or self.site.app()).test_cli_runner().invoke(args=argv)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        match = re.search(r"^\{.*^\}", result.stdout, re.S | re.M)
        summary = json.loads(match.group(0)) if match else None
        return Result(result.exit_code, result.stdout + result.stderr, summary)

    def publish(self, *args: str, app: Flask | None = None) -> dict[str, Any]:
        """A publish that must succeed; its JSON summary."""
        result = self.run("publish", *args, app=app)
        assert result.exit_code == 0, result.output
        assert result.summary is not None
        return result.summary

    def text(self, command: str, *args: str) -> Result:
        """The same command with its human-readable output."""
        argv = [command, *args, *self.target()]
        result = self.site.app().test_cli_runner().invoke(args=argv)
        return Result(result.exit_code, result.stdout + result.stderr)

    def subprocess(self, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
        """`python -m storefront publish ...` in a child process, as CI runs it."""
        return self.subprocess_command(
            "publish", *args, env={"STOREFRONT_PUBLISH_FAULT": fault} if fault else {}
        )

    def subprocess_command(
        self, command: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`python -m storefront COMMAND ...` in a child process (`env`: extra variables)."""
        environment = {
            **os.environ,
            "STOREFRONT_CONTENT_DIR": str(self.site.content),
            "STOREFRONT_BUILD_DIR": str(self.site.build),
            "STOREFRONT_CACHE_DIR": str(self.site.work / "cache"),
            "STOREFRONT_PARSE_CACHE_FILE": str(self.site.work / "cache" / "content.pickle"),
            "STOREFRONT_IMAGE_CACHE_DIR": str(self.site.config["IMAGE_CACHE_DIR"]),
            "STOREFRONT_MOUNT_API": "false",
        }
        environment.pop("STOREFRONT_PUBLISH_FAULT", None)
        environment.update(env or {})
        argv = [sys.executable, "-m", "storefront", command, *self.target(), *args]
        return subprocess.run(
            argv,
            cwd=PROJECT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def live_pointer(bucket: str = BUCKET, area: str = "site") -> dict[str, Any]:
    """`_publish/<area>/live.json` as the bucket holds it."""
    key = f"_publish/{area}/live.json"
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return json.loads(body)


def changed_keys(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {key for key in after if before.get(key) != after[key]}


def url_paths(keys: set[str]) -> set[str]:
    """What CloudFront caches each file under: `x/index.html` also as `x/`."""
    paths = set()
    for key in keys:
        paths.add(f"/{ROOT}{key}")
        if key.endswith("index.html"):
            paths.add(f"/{ROOT}{key[: -len('index.html')]}")
    return paths
