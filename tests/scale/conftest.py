"""Production topology for tests: a private PostgreSQL, a private redis-server and two gunicorn processes.

Everything listens on 127.0.0.1 and lives in temp directories; fixtures stop what they started.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
import socketio

from bench.server import Server
from bench.services import WEB_ONLY_ENV, Postgres, Redis, postgres_available, redis_available
from tests.conftest import require

KIOSK = {"Authorization": "Bearer demo-kiosk-1"}


def staff(url: str, username: str) -> requests.Session:
    """A requests session logged in as a demo staff account (sends the CSRF token when the login returns one)."""
    s = requests.Session()
    r = s.post(f"{url}/api/v1/auth/login", json={"username": username, "password": "demo"}, timeout=10)
    r.raise_for_status()
    token = r.json().get("csrf_token")
    if token:
        s.headers["X-CSRFToken"] = token
    return s


def issue(url: str, item: str = "YB001", session: requests.Session | None = None, **body: object) -> dict:
    """Issue one ticket as the demo kiosk and return it (fails the test on any other status)."""
    r = (session or requests).post(f"{url}/api/v1/tickets", json={"items": [item], **body}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


class DisplayClient:
    """A python-socketio /display client that queues the events it receives (reconnects unless told not to)."""

    NAMES = ("snapshot", "called", "queues", "windows")

    def __init__(self, url: str, *, reconnection: bool = False) -> None:
        self.events: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=reconnection, reconnection_delay=0.2, reconnection_delay_max=1)
        for name in self.NAMES:
            self.client.on(name, (lambda n: lambda data: self.events.put((n, data)))(name), namespace="/display")
        self.client.connect(url, namespaces=["/display"], transports=["websocket"], wait_timeout=10)

    def next(self, name: str, timeout: float = 10.0, where=None) -> dict:  # noqa: ANN001 - predicate
        """The next ``name`` event (matching ``where`` if given); others are dropped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name!r} event within {timeout}s")
            try:
                got, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if got == name and (where is None or where(data)):
                return data

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()


@dataclass
class Drained:
    """What ``issue_and_drain`` saw: tickets issued, calls made ``(id, number, window)``, and any refusals."""

    issued: list[dict]
    calls: list[tuple[int, str, int]]
    failures: list[str]


def issue_and_drain(
    urls: list[str], windows: tuple[int, ...], issuers: int, per_issuer: int, items: list[str]
) -> Drained:
    """Kiosk issuers (issuer k on ``urls[k % n]``) race the windows' clerks, who call, start and complete until
    the issuers are done and nothing waits. Every clerk request goes to the other process than the last one, so
    a window's session is used on all of them."""
    issued: list[dict] = []
    calls: list[tuple[int, str, int]] = []
    failures: list[str] = []
    lock = threading.Lock()
    issuing_done = threading.Event()

    def issuer(k: int) -> None:
        url = urls[k % len(urls)]
        s = requests.Session()
        mine = []
        for i in range(per_issuer):
            r = s.post(
                f"{url}/api/v1/tickets", json={"items": [items[(k + i) % len(items)]]}, headers=KIOSK, timeout=30
            )
            if r.status_code == 201:
                mine.append(r.json()["ticket"])
            else:
                with lock:
                    failures.append(f"issue {r.status_code} {r.text[:200]}")
        with lock:
            issued.extend(mine)

    def clerk(window: int) -> None:
        s = staff(urls[window % len(urls)], f"clerk{window}")
        turn = itertools.cycle(urls if window % 2 else urls[::-1])
        while True:
            url = next(turn)
            r = s.post(f"{url}/api/v1/windows/{window}/call-next", timeout=30)
            if r.status_code == 204:
                if issuing_done.is_set():
                    return
                time.sleep(0.02)
                continue
            if r.status_code != 200:
                with lock:
                    failures.append(f"call-next {r.status_code} {r.text[:200]}")
                return
            t = r.json()["ticket"]
            with lock:
                calls.append((t["id"], t["number"], window))
            for action in ("start", "complete"):
                done = s.post(f"{next(turn)}/api/v1/windows/{window}/{action}", timeout=30)
                if done.status_code != 200:
                    with lock:
                        failures.append(f"{action} {done.status_code} {done.text[:200]}")
                    return

    with ThreadPoolExecutor(len(windows)) as clerks:
        running = [clerks.submit(clerk, w) for w in windows]
        with ThreadPoolExecutor(issuers) as pool:
            list(pool.map(issuer, range(issuers)))
        issuing_done.set()
        for f in running:
            f.result()
    return Drained(issued, calls, failures)


@pytest.fixture(scope="session")
def pg() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster (fsync off: these tests check correctness, not durability)."""
    require(postgres_available(), "PostgreSQL (initdb, pg_ctl) not installed")
    with Postgres(fsync=False) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    """A throwaway redis-server."""
    require(redis_available(), "redis-server not installed")
    with Redis() as server:
        yield server


@dataclass
class Cluster:
    """Two server processes sharing PostgreSQL and Redis."""

    pg: Postgres
    redis: Redis
    a: Server
    b: Server
    env: dict[str, str]


@pytest.fixture(scope="session")
def cluster(pg: Postgres, redis_server: Redis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two gunicorn gthread processes (one worker each, as in docs/deployment.md) on PostgreSQL + Redis."""
    env = {
        "HALL_DATABASE_URL": pg.url,
        "HALL_MESSAGE_QUEUE": redis_server.url,
        "HALL_PROXY_HOPS": "1",  # as behind nginx (test_nginx); direct requests carry no X-Forwarded-For
        **WEB_ONLY_ENV,
    }
    base = tmp_path_factory.mktemp("cluster")
    a = Server(env=env, instance=base / "a", gunicorn=True, threads=48)
    b = Server(env=env, instance=base / "b", gunicorn=True, threads=48)
    try:
        # Started together on an empty database: migrations and seeding must serialise themselves.
        _start_both(a, b)
        yield Cluster(pg=pg, redis=redis_server, a=a, b=b, env=env)
    finally:
        a.stop()
        b.stop()


def _start_both(a: Server, b: Server) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        for f in [pool.submit(a.start), pool.submit(b.start)]:
            f.result()
