"""Content commands: `flask check` and `flask schema` (the app is named in .flaskenv)."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from storefront.content.catalog import load_catalog
from storefront.content.problems import ContentError
from storefront.content.schema import stale_schemas, write_schemas


def init_app(app: Flask) -> None:
    app.cli.add_command(check_command)
    app.cli.add_command(schema_command)


@click.command("check")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github"]),
    default="text",
    show_default=True,
    help="github prints workflow annotations shown inline on pull requests.",
)
@with_appcontext
def check_command(output_format: str) -> None:
    """Validate every content file and report every problem found."""
    root = current_app.config["CONTENT_DIR"]
    try:
        catalog = load_catalog(root)
    except ContentError as error:
        for problem in error.problems:
            line = problem.format_github() if output_format == "github" else problem.format_text()
            click.echo(line)
        files = len({p.path for p in error.problems})
        click.echo(f"{error} in {files} file{'s' if files != 1 else ''}", err=True)
        sys.exit(1)
    click.echo(f"content OK: {catalog.summary}")


@click.command("schema")
@click.option("--check", is_flag=True, help="Fail if the committed schemas are out of date.")
@with_appcontext
def schema_command(check: bool) -> None:
    """Regenerate the editors' JSON Schemas in content/schema/."""
    folder = current_app.config["CONTENT_DIR"] / "schema"
    if check:
        stale = stale_schemas(folder)
        if stale:
            click.echo(f"out of date: {', '.join(stale)}; run: flask schema")
            sys.exit(1)
        click.echo("schemas up to date")
        return
    for path in write_schemas(folder):
        click.echo(f"wrote {path}")
