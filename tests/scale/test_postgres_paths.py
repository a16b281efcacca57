"""PostgreSQL-only code paths in-process (no server processes): the audit append, pool checkout, advisory locks."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from hall import audit
from hall.db import Database
from hall.models import AuditEntry, AuditHead, Hall
from hall.repository import Repository

_names = itertools.count()


@pytest.fixture
def db(pg) -> Iterator[Database]:
    """A fresh migrated database on the session's PostgreSQL."""
    name = f"paths{next(_names)}"
    pg.create_database(name)
    database = Database(pg.url.rsplit("/", 1)[0] + f"/{name}")
    database.upgrade()
    with database.write() as session:
        for code in ("h1", "h2"):
            session.add(Hall(code=code, name=code, level="county", timezone="Asia/Shanghai", settings={}))
    try:
        yield database
    finally:
        database.dispose()


def _row(hall_id: int | None, n: int) -> dict:
    return {
        "hall_id": hall_id,
        "at": datetime(2026, 3, 1, 8, 0, n % 60, n, tzinfo=UTC),
        "actor_id": None,
        "actor": "自助机 1",
        "role": "kiosk",
        "window_number": n % 7 or None,
        "action": "ticket.issue",
        "target": f"A{n:03d}",
        "before": None if n % 2 else {"status": "waiting"},
        "after": {"items": ["YB001"], "queue": "A", "名称": "医保“一件事”", "n": n},
        "client": "10.0.0.1",
    }


def test_one_statement_append_matches_the_python_hash_and_keeps_the_chain_under_concurrency(db: Database) -> None:
    with db.read() as session:
        halls = list(session.scalars(select(Hall.id).order_by(Hall.id)))
    chains = [*halls, None]
    # First rows of each chain (no head yet: the three-step path), then 8 threads × 60 appends over three chains.
    with db.write_connection() as conn:
        for n, hall in enumerate(chains):
            audit.append(conn, _row(hall, n))

    def worker(k: int) -> None:
        for i in range(60):
            n = 100 + k * 60 + i
            with db.write_connection() as conn:
                audit.append(conn, _row(chains[n % len(chains)], n))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))

    verdicts = audit.verify(db)
    assert [v.ok for v in verdicts] == [True, True, True], verdicts
    assert sum(v.rows for v in verdicts) == len(chains) + 8 * 60
    with db.read() as session:
        rows = [
            (r.id, r.hall_id, r.prev_hash, r.hash, {k: getattr(r, k) for k in audit.FIELDS})
            for r in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
        heads = {h.chain: (h.last_id, h.last_hash) for h in session.scalars(select(AuditHead))}
    last = {}
    for row_id, hall_id, prev_hash, row_hash, content in rows:
        # the hash PostgreSQL computed equals the one Python computes over what was stored
        assert row_hash == audit.digest(prev_hash, content)
        last[audit.chain_key(hall_id)] = (row_id, row_hash)
    assert heads == last


def test_append_rolls_back_with_its_transaction(db: Database) -> None:
    with db.write_connection() as conn:
        audit.append(conn, _row(None, 1))
    with pytest.raises(RuntimeError), db.write_connection() as conn:
        audit.append(conn, _row(None, 2))
        raise RuntimeError("abort")
    with db.write_connection() as conn:
        audit.append(conn, _row(None, 3))
    (verdict,) = audit.verify(db, None)
    assert verdict.ok and verdict.rows == 2


def test_checkout_replaces_connections_the_server_ended_without_a_round_trip(db: Database, pg) -> None:
    engine = db.write_engine
    with engine.connect() as conn, engine.connect() as conn2:  # two pooled connections
        pids = {c.exec_driver_sql("SELECT pg_backend_pid()").scalar() for c in (conn, conn2)}
    with pg.connect() as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            admin.execute("SELECT pg_sleep(0.05)")
    # Every pooled connection is dead: the next units of work still succeed, on new backends.
    for _ in range(3):
        with db.write_connection() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            assert pid not in pids
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Hall)) == 2


def test_serialise_makes_a_second_transaction_wait(db: Database) -> None:
    """Two transactions counting then inserting under the same key: the second sees the first one's row."""
    order: list[str] = []
    first_holds = threading.Event()
    release = threading.Event()

    def first() -> None:
        with db.write() as session:
            Repository(session).serialise("quota:1:x")
            order.append("first locked")
            first_holds.set()
            release.wait(5)
            order.append("first commits")

    t = threading.Thread(target=first)
    t.start()
    first_holds.wait(5)
    second_done = threading.Event()

    def second() -> None:
        with db.write() as session:
            Repository(session).serialise("quota:1:x")
            order.append("second locked")
        second_done.set()

    u = threading.Thread(target=second)
    u.start()
    assert not second_done.wait(0.3)
    release.set()
    t.join(5)
    u.join(5)
    assert order == ["first locked", "first commits", "second locked"]


def test_serialise_ignores_duplicate_keys_and_holds_until_commit(db: Database) -> None:
    with db.write() as session:
        Repository(session).serialise("b", "a", "b")
        held = session.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")).scalar()
        assert held == 2
    with db.read() as session:
        held = session.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar()
        assert held == 0
