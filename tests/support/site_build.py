"""Build the catalog site into temporary folders for tests."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from storefront import create_app
from storefront.freeze.build import FreezeReport, freeze_site


def site_app(content: Path, work: Path, **extra: object) -> Flask:
    """A site app whose build, caches and images all live under `work`."""
    return create_app(
        {
            "CONTENT_DIR": content,
            "BUILD_DIR": work / "site",
            "CACHE_DIR": work / "cache",
            "PARSE_CACHE_FILE": work / "cache" / "content.pickle",
            "IMAGE_CACHE_DIR": work / "images",
            "MOUNT_API": False,
            **extra,
        }
    )


def freeze(content: Path, work: Path, **options: object) -> FreezeReport:
    return freeze_site(site_app(content, work), **options)  # type: ignore[arg-type]
