"""`flask freeze`: validate the content, then build the static site."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from storefront.content.problems import ContentError
from storefront.freeze.build import freeze_site


def init_app(app: Flask) -> None:
    app.cli.add_command(freeze_command)


@click.command("freeze")
@click.option("--workers", type=int, default=None, help="Worker processes (default: CPU count).")
@click.option("--full", is_flag=True, help="Ignore the previous build and render every page.")
@click.option(
    "--base-url",
    metavar="URL",
    default=None,
    help="Build for this address instead of site.yaml's base_url, e.g. a pull request's "
    "preview: https://example.com/previews/pr-12/ (also STOREFRONT_BASE_URL).",
)
@with_appcontext
def freeze_command(workers: int | None, full: bool, base_url: str | None) -> None:
    """Validate content, then build the static site into BUILD_DIR."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if base_url:
        app.config["BASE_URL"] = base_url
    try:
        report = freeze_site(app, workers=workers, full=full)
    except ContentError as error:
        for problem in error.problems:
            click.echo(problem.format_text(), err=True)
        click.echo(f"refusing to build: {error}", err=True)
        sys.exit(1)
    click.echo(f"{report.summary()} -> {app.config['BUILD_DIR']}")
    click.echo("phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in report.timings.items()))
