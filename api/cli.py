"""Operator commands: ``flask --app api sync-inventory PATH`` and ``init-store``."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from api.inventory import InventoryError, load_inventory
from api.stores import get_store
from api.stores.interface import EditionTooSmall


@click.command("sync-inventory")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def sync_inventory(path: Path) -> None:
    """Bring the store in line with the site's inventory.json (idempotent).

    Adds new pieces and resizes editions; refuses to shrink an edition below
    its held + sold units; keeps pieces missing from the file with their holds
    and sales, but takes them off sale (no new hold or direct sale) until the
    inventory lists them again.
    """
    try:
        editions = load_inventory(path)
        report = get_store(current_app).sync_inventory(editions, now=int(time.time()))
    except (InventoryError, EditionTooSmall) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"inventory synced: {len(report.added)} added, {len(report.resized)} resized, "
        f"{len(report.unchanged)} unchanged, {len(report.reopened)} back on sale, "
        f"{len(report.kept)} kept off sale (not in {path.name})"
    )
    labels = (
        ("added", report.added),
        ("resized", report.resized),
        ("back on sale", report.reopened),
    )
    for label, slugs in labels:
        for slug in slugs:
            click.echo(f"  {label}: {slug}")
    for slug in report.kept:
        click.echo(f"  kept off sale: {slug} (not in the inventory; holds and sales untouched)")


@click.command("init-store")
@with_appcontext
def init_store() -> None:
    """Create the store's tables if missing (SQLite file, or a DynamoDB table on moto)."""
    get_store(current_app).initialize()
    click.echo(f"store ready: {current_app.config['STORE_URL']}")


def init_app(app: Flask) -> None:
    app.cli.add_command(sync_inventory)
    app.cli.add_command(init_store)
