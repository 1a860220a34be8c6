"""The catalog site: content, pages, freeze and publish (import name `storefront`)."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

# Python 3.11's table lacks these; send_file and the freezer both read it.
mimetypes.add_type("image/avif", ".avif")
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("application/atom+xml", ".atom")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the site app; each subsystem attaches itself through init_app."""
    app = Flask(__name__, static_folder=None, template_folder="pages/templates")
    project = Path.cwd()
    app.config.from_mapping(
        CONTENT_DIR=project / "content",
        BUILD_DIR=project / "build" / "site",
        CACHE_DIR=project / "build" / "cache",
        IMAGE_CACHE_DIR=project / ".cache" / "images",
        # Validated content by file hash: like the image cache, it outlives build/.
        PARSE_CACHE_FILE=project / ".cache" / "content.pickle",
        MOUNT_API=True,
    )
    app.config.from_prefixed_env("STOREFRONT")
    if test_config is not None:
        app.config.from_mapping(test_config)
    for key in ("CONTENT_DIR", "BUILD_DIR", "CACHE_DIR", "IMAGE_CACHE_DIR", "PARSE_CACHE_FILE"):
        app.config[key] = Path(app.config[key])

    from storefront import preview
    from storefront.content import commands as content_commands
    from storefront.content import current as content
    from storefront.freeze import command as freeze_command
    from storefront.pages import assets, images, template_helpers, views
    from storefront.publish import commands as publish_commands

    content.init_app(app)
    assets.init_app(app)
    images.init_app(app)
    template_helpers.init_app(app)
    app.register_blueprint(views.bp)
    content_commands.init_app(app)
    publish_commands.init_app(app)
    freeze_command.init_app(app)
    preview.init_app(app)
    return app
