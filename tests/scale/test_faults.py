"""Fault tests on loopback: kill -9 of the single-PC server, Redis going away, PostgreSQL restarting."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from bench.server import Server
from bench.services import WEB_ONLY_ENV
from tests.scale.conftest import KIOSK, DisplayClient, issue, staff

CLERK_WINDOWS = (1, 2, 3)
KIOSKS = ("demo-kiosk-1", "demo-kiosk-2", "demo-kiosk-1")


class _Busy:
    """Kiosks issuing and windows calling, starting, completing and rating until the server goes away.

    Only what the server acknowledged is recorded as done; a request cut off by the crash is "in flight":
    it may or may not have committed.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = threading.Lock()
        self.tickets: dict[int, dict] = {}  # acknowledged issues: id -> ticket
        self.ratings: dict[int, int] = {}  # acknowledged ratings: rating id -> ticket id
        self.window: dict[int, tuple[str, int | None]] = {w: ("free", None) for w in CLERK_WINDOWS}
        self.in_flight: dict[int, str] = {}  # window -> the action cut off by the crash
        self.errors: list[str] = []
        # Clerks log in before the rush, as at 08:30: under a closed-loop kiosk flood the bounded, low-priority
        # password hashing (docs/security.md) waits for the cores, which is the point of bounding it.
        self.sessions = {w: staff(url, f"clerk{w}") for w in CLERK_WINDOWS}
        self.threads = [threading.Thread(target=self._kiosk, args=(k,), daemon=True) for k in KIOSKS]
        self.threads += [threading.Thread(target=self._clerk, args=(w,), daemon=True) for w in CLERK_WINDOWS]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        for t in self.threads:
            t.join(30)

    def _kiosk(self, token: str) -> None:
        s = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            try:
                r = s.post(f"{self.url}/api/v1/tickets", json={"items": ["YB001"]}, headers=headers, timeout=10)
            except requests.RequestException:
                return
            if r.status_code != 201:
                with self.lock:
                    self.errors.append(f"issue {r.status_code} {r.text[:200]}")
                return
            t = r.json()["ticket"]
            with self.lock:
                self.tickets[t["id"]] = t

    def _clerk(self, window: int) -> None:
        s = self.sessions[window]
        base = f"{self.url}/api/v1/windows/{window}"
        while True:
            step = "call-next"
            try:
                r = s.post(f"{base}/call-next", timeout=10)
                if r.status_code == 204:
                    time.sleep(0.02)
                    continue
                r.raise_for_status()
                ticket = r.json()["ticket"]
                with self.lock:
                    self.window[window] = ("called", ticket["id"])
                step = "start"
                s.post(f"{base}/start", timeout=10).raise_for_status()
                with self.lock:
                    self.window[window] = ("serving", ticket["id"])
                step = "complete"
                s.post(f"{base}/complete", timeout=10).raise_for_status()
                with self.lock:
                    self.window[window] = ("free", ticket["id"])
                step = "rate"
                with self.lock:  # staff never see the secret: the citizen's slip (the kiosk's answer) has it
                    token = self.tickets[ticket["id"]]["track_url"].rsplit("/", 1)[1]
                rated = requests.post(
                    f"{self.url}/api/v1/tickets/{ticket['id']}/rating", json={"token": token, "score": 5}, timeout=10
                )
                rated.raise_for_status()
                with self.lock:
                    self.ratings[rated.json()["rating"]["id"]] = ticket["id"]
            except requests.ConnectionError:
                with self.lock:
                    self.in_flight[window] = step
                return
            except requests.RequestException as exc:
                with self.lock:
                    self.errors.append(f"window {window} {step}: {exc}")
                return


def test_kill_9_of_the_single_pc_server_loses_nothing_acknowledged(tmp_path: Path) -> None:
    server = Server(instance=tmp_path / "hall", env=WEB_ONLY_ENV)  # python app.py on SQLite, the county setup
    db_file = tmp_path / "hall" / "hall.db"
    try:
        server.start()
        display = DisplayClient(server.url, reconnection=True)
        display.next("snapshot")
        busy = _Busy(server.url)
        busy.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(busy.tickets) < 60 or len(busy.ratings) < 5):
            time.sleep(0.05)
        assert server.proc is not None
        server.proc.kill()  # SIGKILL while kiosks and windows are mid-request
        server.proc.wait(10)
        busy.join()
        assert busy.errors == []
        assert len(busy.tickets) >= 60 and len(busy.ratings) >= 5

        server.start()  # same port, same instance directory and database

        with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            numbers = dict(conn.execute("SELECT id, number FROM tickets"))
            for tid, t in busy.tickets.items():
                assert numbers.get(tid) == t["number"], f"acknowledged ticket {t['number']} lost or changed"
            for queue, count, distinct, low, high in conn.execute(
                "SELECT queue_code, count(*), count(DISTINCT number), min(seq), max(seq) FROM tickets GROUP BY 1"
            ):
                assert (distinct, low, high) == (count, 1, count), queue
            rated = dict(conn.execute("SELECT id, ticket_id FROM ratings"))
            assert {rid: rated.get(rid) for rid in busy.ratings} == busy.ratings
            windows = {
                n: (current, status, called_at)
                for n, current, status, called_at in conn.execute(
                    "SELECT w.number, w.current_ticket_id, t.status, t.window_number FROM windows w "
                    "LEFT JOIN tickets t ON t.id = w.current_ticket_id"
                )
            }
            status_of = dict(conn.execute("SELECT id, status FROM tickets"))
        for w in CLERK_WINDOWS:
            acked, tid = busy.window[w]
            current, status, _ = windows[w]
            accepted = {acked}
            step = busy.in_flight.get(w)
            # A request cut off by the kill may have committed: then the window is one step further.
            accepted |= {"call-next": {"called"}, "start": {"serving"}, "complete": {"free"}}.get(step, set())
            seen = "free" if current is None else status
            assert seen in accepted, (w, acked, step, current, status)
            if seen in ("called", "serving") and seen == acked:
                assert current == tid
            if acked == "free" and tid is not None:
                assert status_of[tid] == "completed"

        # The next number continues the sequence: nothing acknowledged before the crash is handed out again.
        after = issue(server.url)
        assert after["number"] not in set(numbers.values())

        # The display reconnects by itself and resyncs from the snapshot sent on every connect.
        snap = display.next("snapshot", timeout=30)
        on_screen = {w["number"]: (w.get("current") or {}).get("number") for w in snap["windows"]}
        for w in CLERK_WINDOWS:
            current = windows[w][0]
            assert on_screen[w] == (numbers[current] if current else None)
        display.close()
    finally:
        server.stop()


def test_redis_going_away_keeps_http_up_and_events_resume(cluster) -> None:
    # A third process with rate limits on: its limiter counts in Redis and must survive the outage.
    c = Server(env={**cluster.env, "HALL_RATELIMIT": "1"}, gunicorn=True, threads=16)
    c.start()
    display = None
    try:
        display = DisplayClient(c.url)
        display.next("snapshot")
        clerk = staff(cluster.a.url, "clerk5")

        def call_on_a() -> str:
            issue(cluster.a.url, "YB001")
            r = clerk.post(f"{cluster.a.url}/api/v1/windows/5/call-next", timeout=10)
            assert r.status_code == 200, r.text
            number = r.json()["ticket"]["number"]
            for action in ("start", "complete"):
                clerk.post(f"{cluster.a.url}/api/v1/windows/5/{action}", timeout=10).raise_for_status()
            return number

        number = call_on_a()
        display.next("called", where=lambda d: d["number"] == number)

        cluster.redis.stop()
        # Every process keeps serving HTTP: issuing (rate-limited on C), calling, reading.
        for server in (cluster.a, cluster.b, c):
            r = requests.post(f"{server.url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=10)
            assert r.status_code == 201, r.text
        call_on_a()
        assert requests.get(f"{c.url}/api/v1/items", timeout=10).status_code == 200

        cluster.redis.start()
        # The Socket.IO Redis listeners reconnect with a growing back-off (1, 2, 4 … s): keep calling until one
        # call made on A shows on C's display again.
        deadline = time.monotonic() + 45
        while True:
            number = call_on_a()
            try:
                display.next("called", timeout=2, where=lambda d, n=number: d["number"] == n)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
    finally:
        if display is not None:
            display.close()
        c.stop()
        if cluster.redis.proc is None:
            cluster.redis.start()


def _db_error(r: requests.Response) -> None:
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"]["code"] == "database_unavailable"
    assert "Traceback" not in r.text and "psycopg" not in r.text


@pytest.mark.timeout(180)
def test_postgresql_restart_fails_requests_clearly_and_recovers(cluster) -> None:
    manager = staff(cluster.b.url, "manager")
    assert manager.get(f"{cluster.b.url}/api/v1/hall/load", timeout=10).status_code == 200
    cluster.pg.stop()
    try:
        for server in (cluster.a, cluster.b):
            _db_error(
                requests.post(f"{server.url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=20)
            )
        _db_error(manager.get(f"{cluster.b.url}/api/v1/hall/load", timeout=20))
        _db_error(manager.post(f"{cluster.b.url}/api/v1/windows/4/call-next", timeout=20))
    finally:
        cluster.pg.start()
    # Pooled connections to the old server are dead: the pool notices at checkout (their sockets are readable:
    # the server said goodbye) and reconnects.
    deadline = time.monotonic() + 30
    results: Counter = Counter()
    for server in (cluster.a, cluster.b):
        while True:
            r = requests.post(f"{server.url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=20)
            results[r.status_code] += 1
            if r.status_code == 201:
                break
            _db_error(r)
            assert time.monotonic() < deadline, results
            time.sleep(0.2)
    assert manager.get(f"{cluster.b.url}/api/v1/hall/load", timeout=10).status_code == 200
