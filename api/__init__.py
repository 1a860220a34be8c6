"""The availability API: live availability of the catalog's pieces, and holds.

``create_app`` is the app factory (``flask --app api ...``, ``api.wsgi:app`` for
gunicorn). Each subsystem attaches itself with its own ``init_app``; settings
come from ``API_*`` environment variables (``API_STORE_URL``,
``API_STAFF_TOKEN``, ``API_HOLD_TTL_SECONDS``, ...), see ``api.config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the API app; ``test_config`` overrides the environment (tests only)."""
    from api import (
        availability_fast_path,
        cli,
        config,
        health,
        logs,
        metrics,
        problems,
        stores,
        views,
    )

    app = Flask(__name__)
    config.load(app, test_config)
    logs.init_app(app)
    metrics.init_app(app)
    problems.init_app(app)
    stores.init_app(app)
    cli.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(views.bp)
    availability_fast_path.init_app(app)
    return app
