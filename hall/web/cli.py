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


@hall_cli.command("jobs")
@with_appcontext
def jobs() -> None:
    """List the scheduled jobs with their next run times (from the job store in the hall database)."""
    listing = current_app.extensions["hall.scheduler"].list_jobs()
    if not listing:
        click.echo("no jobs")
    for job in listing:
        nxt = job["next_run_time"] or "paused"
        click.echo(f"{job['job']:<18} {nxt:<27} {job['trigger']:<32} {job['name']}")


@hall_cli.command("run-job")
@click.argument("name")
@click.option("--force", is_flag=True, help="act even if the job already ran today or the hall is closed")
@click.option("--hall", "hall_code", default=None, help="hall code (default: the configured hall)")
@with_appcontext
def run_job(name: str, force: bool, hall_code: str | None) -> None:
    """Run one job now (device_check, opening, tidal_tick, time_limit_watch, closing) and print its result."""
    import json

    from hall.operations import JOBS
    from hall.repository import Repository

    if name not in JOBS:
        raise click.BadParameter(f"unknown job {name!r}; jobs: {', '.join(JOBS)}", param_hint="NAME")
    svc = current_app.extensions["hall"]
    hall_id = svc.hall_id
    if hall_code:
        with svc.db.read() as session:
            hall = Repository(session).hall_by_code(hall_code)
        if hall is None:
            raise click.BadParameter(f"unknown hall {hall_code!r}", param_hint="--hall")
        hall_id = hall.id
    result = current_app.extensions["hall.operations"].run(name, hall_id, force=force)
    click.echo(json.dumps(result, ensure_ascii=False, default=str))


@hall_cli.command("scheduler")
@with_appcontext
def run_scheduler() -> None:
    """Run the scheduler in this process until stopped (Ctrl-C, SIGTERM): for HALL_SCHEDULER=0 servers."""
    import signal
    import threading

    from hall import scheduler

    jobs = current_app.extensions["hall.scheduler"]
    scheduler.bind(current_app.extensions["hall.operations"])
    if not jobs.start():
        raise click.ClickException("a scheduler already runs in this process")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("scheduler running; Ctrl-C stops it")
    for job in jobs.jobs():
        click.echo(f"  {job['job']:<18} next {job['next_run_time']}")
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        jobs.shutdown()


@hall_cli.group("devices")
def devices_cli() -> None:
    """Printers and serial devices (LED strips, rating pads, keypads): docs/devices.md."""


@devices_cli.command("check")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@with_appcontext
def devices_check(as_json: bool) -> None:
    """Ask every printer and serial device of the hall for its state now and print it; exit 1 if any is not ok."""
    import json

    svc = current_app.extensions["hall"]
    serial = current_app.extensions["hall.devices"]
    owner = serial.owner()
    rows = serial.check_all(svc.hall_id)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        if owner:
            click.echo(f"serial lines are held by the running server ({owner}): its last reports are shown")
        click.echo(f"{'device':<14} {'kind':<8} {'win':>3}  {'driver':<12} {'address':<32} {'status':<9} last seen")
        for r in rows:
            where = r["url"] + (f" #{r['address']}" if r["address"] is not None else "")
            seen = (r["last_seen"] or "-")[:19]
            window = r["window"] if r["window"] is not None else "-"
            status = r["status"] or "unknown"
            line = f"{r['name']:<14} {r['kind']:<8} {window:>3}  {r['driver']:<12} {where:<32} {status:<9} {seen}"
            click.echo(line + (f"  {r['detail']}" if r["detail"] else ""))
    if any(r["status"] not in ("ok", "near_end") for r in rows):
        raise SystemExit(1)


@hall_cli.command("simulate")
@click.option("--runs", default=3, show_default=True, help="seeded days per policy set")
@click.option("--seed", default=1, show_default=True)
@click.option("--chart", default="instance/simulation.png", show_default=True)
def simulate(runs: int, seed: int, chart: str) -> None:
    """Simulate hall days on a fake clock and compare routing policy sets (table + PNG chart)."""
    from hall.simulate import main

    main(["--runs", str(runs), "--seed", str(seed), "--chart", chart])


@hall_cli.command("audit-verify")
@with_appcontext
def audit_verify() -> None:
    """Recompute the audit hash chains; exit 1 naming the first tampered row if any chain is broken."""
    from hall import audit

    verdicts = audit.verify(current_app.extensions["hall"].db)
    broken = False
    for v in verdicts:
        if v.ok:
            click.echo(f"chain {v.chain}: {v.rows} rows, intact")
        else:
            broken = True
            click.echo(f"chain {v.chain}: BROKEN at row {v.first_bad_id}: {v.reason}", err=True)
    if broken:
        raise SystemExit(1)
