"""Command-line tools: ``flask --app app db upgrade|current`` and ``flask --app app hall …``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from hall.engine import Actor


@click.group("db")
def db_cli() -> None:
    """Database schema (Alembic migrations)."""


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def upgrade(revision: str) -> None:
    """Apply migrations (start-up does this too)."""
    current_app.extensions["hall"].db.upgrade(revision)
    click.echo(f"database at {revision}")


@click.group("hall")
def hall_cli() -> None:
    """Hall operations."""


@hall_cli.command("reset-day")
@with_appcontext
def reset_day() -> None:
    """End every open ticket with outcome ended_by_reset and close the windows (the daily close)."""
    svc = current_app.extensions["hall"]
    n = svc.engine.reset_day(Actor.system(svc.hall_id), svc.hall_id)
    click.echo(f"ended {n} open tickets")


@hall_cli.command("simulate")
@click.option("--runs", default=3, show_default=True, help="seeded days per policy set")
@click.option("--seed", default=1, show_default=True)
@click.option("--chart", default="instance/simulation.png", show_default=True)
def simulate(runs: int, seed: int, chart: str) -> None:
    """Simulate hall days on a fake clock and compare routing policy sets (table + PNG chart)."""
    from hall.simulate import main

    main(["--runs", str(runs), "--seed", str(seed), "--chart", chart])
