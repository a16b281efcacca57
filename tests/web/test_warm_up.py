"""Start-up warm-up: a rolled-back rehearsal of the day's moves, so the first real call compiles no SQL."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from sqlalchemy import event, select
from sqlalchemy.engine.default import CACHE_MISS

from app import create_app
from hall.db import Database
from hall.engine import Actor, Engine
from hall.models import Base
from hall.repository import Repository
from hall.web.security import staff_actor
from tests.conftest import make_config


def _dump(db: Database) -> dict[str, list]:
    """Every row of every table, in key order."""
    out: dict[str, list] = {}
    with db.write_engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
    return out


@contextmanager
def _compiled(db: Database):
    """The SQL statements SQLAlchemy had to compile (cache misses) while the block ran."""
    misses: list[str] = []

    def record(_conn, _cursor, statement, _params, context, _many) -> None:
        if context is not None and context.cache_hit is CACHE_MISS:
            misses.append(statement)

    engines = {db.write_engine, db.read_engine}
    for engine in engines:
        event.listen(engine, "after_cursor_execute", record)
    try:
        yield misses
    finally:
        for engine in engines:
            event.remove(engine, "after_cursor_execute", record)


def _day(engine: Engine, hall_id: int, clerk: Actor) -> str:
    """A citizen's ticket issued, called, started and completed at the clerk's window, as the API does it."""
    kiosk = Actor(name="kiosk-1", role="kiosk", hall_id=hall_id)
    ticket = engine.issue(kiosk, hall_id, [next(iter(engine.reference(hall_id).items))])
    called = engine.call_next(clerk, hall_id, clerk.window_number)
    assert called is not None and called["number"] == ticket["number"]
    engine.start(clerk, hall_id, clerk.window_number)
    engine.complete(clerk, hall_id, clerk.window_number)
    return ticket["number"]


def test_warm_up_rehearses_every_move_and_leaves_the_database_as_it_was(svc) -> None:
    kiosk = Actor(name="kiosk-1", role="kiosk", hall_id=svc.hall_id)
    svc.engine.issue(kiosk, svc.hall_id, [next(iter(svc.engine.reference(svc.hall_id).items))])
    before = _dump(svc.db)
    published: list = []
    svc.bus.subscribe(published.append)
    moves = svc.engine.warm_up(svc.hall_id)
    ref = svc.engine.reference(svc.hall_id)
    queues_with_items = {i.queue_code for i in ref.items.values()}
    # One issue per queue, a priority and a joint ticket, and at least one window's whole call cycle.
    assert moves >= len(queues_with_items) + 2 + 3
    assert _dump(svc.db) == before, "tickets, numbers, periods, windows and the audit chain are untouched"
    assert published == [], "no display, strip or dashboard hears of a rehearsal"
    assert svc.engine.issue(kiosk, svc.hall_id, [next(iter(ref.items))])["number"].endswith("002")


def test_after_warm_up_the_first_call_of_the_day_compiles_no_sql(svc) -> None:
    with svc.db.read() as session:
        clerk = staff_actor(Repository(session).user_by_name("clerk1"))
    # The control: a second engine on the same file starts cold, like a server that did not warm up.
    cold_db = Database(svc.db.url)
    try:
        cold = Engine(cold_db, svc.clock, pepper="test-secret", enforce_hours=False)
        with _compiled(cold_db) as misses:
            _day(cold, svc.hall_id, clerk)
        assert len(misses) > 5, "a cold engine compiles the statements of its first moves"
    finally:
        cold_db.dispose()
    svc.engine.warm_up(svc.hall_id)
    with _compiled(svc.db) as misses:
        _day(svc.engine, svc.hall_id, clerk)
    assert misses == []


def test_a_served_app_warms_up_at_start_and_survives_a_failed_warm_up(db_path, clock, caplog, monkeypatch) -> None:
    caplog.set_level(logging.INFO, logger="hall")
    app = create_app(make_config(db_path, clock, AUTO_MIGRATE=False, WARM_UP="1"))
    try:
        assert any("moves rehearsed and rolled back" in r.getMessage() for r in caplog.records)
    finally:
        app.extensions["hall.broadcaster"].stop()
        app.extensions["hall"].db.dispose()

    def broken(self, hall_id):  # noqa: ANN001, ANN202 - stands in for Engine.warm_up
        raise RuntimeError("disk full")

    monkeypatch.setattr(Engine, "warm_up", broken)
    caplog.clear()
    app = create_app(make_config(db_path, clock, AUTO_MIGRATE=False, WARM_UP="1"))
    try:
        assert any(r.levelno == logging.WARNING and "warm-up" in r.getMessage() for r in caplog.records)
        assert app.test_client().get("/api/v1/items").status_code == 200, "the hall opens all the same"
    finally:
        app.extensions["hall.broadcaster"].stop()
        app.extensions["hall"].db.dispose()
