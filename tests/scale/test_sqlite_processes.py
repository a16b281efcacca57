"""A busy hall PC: two gunicorn processes on one SQLite file and a Redis message queue (docs/deployment.md).

The writers of both processes queue on the database's file lock (hall.db); numbers stay unique and gap-free,
no ticket is called twice, and a call made on one process reaches a display connected to the other.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.server import Server
from bench.services import WEB_ONLY_ENV, Redis
from tests.scale.conftest import DisplayClient, issue, issue_and_drain, staff

ISSUERS = 6
TICKETS_PER_ISSUER = 40
WINDOWS = (1, 2, 3, 4)


@dataclass
class SqlitePair:
    """Two server processes sharing one SQLite file."""

    a: Server
    b: Server
    db: Path


@pytest.fixture(scope="module")
def pair(redis_server: Redis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlitePair]:
    """Both processes started at once on an empty instance directory (migrating and seeding must serialise)."""
    instance = tmp_path_factory.mktemp("sqlite-pair")
    env = {"HALL_MESSAGE_QUEUE": redis_server.url}
    a = Server(env=env, instance=instance, gunicorn=True, threads=32)
    b = Server(env={**env, **WEB_ONLY_ENV}, instance=instance, gunicorn=True, threads=32)
    try:
        with ThreadPoolExecutor(2) as pool:
            for f in [pool.submit(a.start), pool.submit(b.start)]:
                f.result()
        yield SqlitePair(a=a, b=b, db=instance / "hall.db")
    finally:
        a.stop()
        b.stop()


def test_two_processes_on_one_sqlite_file_never_duplicate_or_double_call(pair: SqlitePair) -> None:
    run = issue_and_drain([pair.a.url, pair.b.url], WINDOWS, ISSUERS, TICKETS_PER_ISSUER, ["YB001"])
    issued, calls, failures = run.issued, [i for i, _, _ in run.calls], run.failures

    if failures:
        logs = pair.a.log.read_text(errors="replace")[-4000:]
        raise AssertionError("\n".join(failures[:20]) + "\n--- server log ---\n" + logs)
    assert len(issued) == ISSUERS * TICKETS_PER_ISSUER
    assert [n for n, c in Counter(t["number"] for t in issued).items() if c > 1] == []
    assert [i for i, c in Counter(calls).items() if c > 1] == [], "a ticket was called twice"
    assert {t["id"] for t in issued} <= set(calls), "the queue was not drained"
    with sqlite3.connect(pair.db) as db:
        for queue, count, distinct, low, high in db.execute(
            "SELECT queue_code, count(*), count(DISTINCT number), min(seq), max(seq) FROM tickets "
            "GROUP BY queue_code, day"
        ):
            assert (count, distinct, low, high) == (count, count, 1, count), queue
        twice = db.execute(
            "SELECT ticket_id FROM periods WHERE state = 'called' GROUP BY ticket_id HAVING count(*) <> 1"
        ).fetchall()
        assert twice == []


def test_a_call_on_one_sqlite_process_reaches_a_display_on_the_other(pair: SqlitePair) -> None:
    on_b = DisplayClient(pair.b.url)
    try:
        on_b.next("snapshot")
        clerk = staff(pair.a.url, "clerk5")
        issue(pair.a.url, "YB001")
        r = clerk.post(f"{pair.a.url}/api/v1/windows/5/call-next", timeout=10)
        assert r.status_code == 200, r.text
        number = r.json()["ticket"]["number"]
        call = on_b.next("called", where=lambda d: d["number"] == number)
        assert call["window"] == 5 and call["text"] == f"请{number}号到5号窗口办理"
    finally:
        on_b.close()
