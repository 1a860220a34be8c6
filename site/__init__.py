"""The catalog site: content, pages, freeze and publish (import name `storefront`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the site app; each subsystem attaches itself through init_app."""
    app = Flask(__name__)
    project = Path.cwd()
    app.config.from_mapping(
        CONTENT_DIR=project / "content",
        BUILD_DIR=project / "build" / "site",
    )
    app.config.from_prefixed_env("STOREFRONT")
    if test_config is not None:
        app.config.from_mapping(test_config)
    for key in ("CONTENT_DIR", "BUILD_DIR"):
        app.config[key] = Path(app.config[key])

    from . import cli

    cli.init_app(app)
    return app
