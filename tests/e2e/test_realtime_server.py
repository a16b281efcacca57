"""The real server in a subprocess, real python-socketio clients, and a real redis-server for scale-out."""

from __future__ import annotations

import queue
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
import socketio

from bench.server import Server, free_port, staff_session
from tests.conftest import require

KIOSK = {"Authorization": "Bearer demo-kiosk-1"}


class DisplayClient:
    """A python-socketio client on /display that queues every event it gets."""

    def __init__(self, url: str, namespace: str = "/display", headers: dict | None = None) -> None:
        self.events: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for name in ("snapshot", "called", "queues", "windows", "hello", "hall_changed"):
            self.client.on(name, (lambda n: lambda data: self.events.put((n, data)))(name), namespace=namespace)
        self.client.connect(
            url, namespaces=[namespace], transports=["websocket"], headers=headers or {}, wait_timeout=10
        )

    def next(self, name: str, timeout: float = 5.0) -> dict:
        """The next event called ``name`` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name!r} event within {timeout}s")
            try:
                got, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if got == name:
                return data

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()


def clerk_session(url: str, username: str) -> requests.Session:
    return staff_session(url, username)


def issue(url: str) -> dict:
    r = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


@pytest.fixture(scope="module")
def server():
    with Server() as srv:
        yield srv


def test_a_rest_call_reaches_every_display_client(server) -> None:
    clients = [DisplayClient(server.url) for _ in range(3)]
    try:
        for c in clients:
            c.next("snapshot")
        t = issue(server.url)
        clerk = clerk_session(server.url, "clerk1")
        r = clerk.post(f"{server.url}/api/v1/windows/1/call-next", timeout=10)
        assert r.status_code == 200 and r.json()["ticket"]["number"] == t["number"]
        for c in clients:
            call = c.next("called")
            assert call["number"] == t["number"] and call["window"] == 1
            assert call["text"] == f"请{t['number']}号到1号窗口办理"
        clerk.post(f"{server.url}/api/v1/windows/1/start", timeout=10).raise_for_status()
        clerk.post(f"{server.url}/api/v1/windows/1/complete", timeout=10).raise_for_status()
    finally:
        for c in clients:
            c.close()


def test_a_browser_like_display_is_served_without_permessage_deflate(server) -> None:
    """Browsers offer permessage-deflate; the hall declines it and writes each frame once for every display."""
    import json

    import websocket

    host = server.url.removeprefix("http://")
    ws = websocket.create_connection(
        f"ws://{host}/socket.io/?EIO=4&transport=websocket",
        header=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"],
        timeout=10,
    )
    try:
        assert "sec-websocket-extensions" not in {k.lower() for k in (ws.getheaders() or {})}
        assert ws.recv().startswith("0{")  # Engine.IO open
        ws.send("40/display,")
        events = []
        while not any(e[0] == "snapshot" for e in events):
            frame = ws.recv()
            if frame.startswith("42/display,"):
                events.append(json.loads(frame.removeprefix("42/display,")))
        t = issue(server.url)
        clerk = clerk_session(server.url, "clerk4")
        clerk.post(f"{server.url}/api/v1/windows/4/call-next", timeout=10).raise_for_status()
        while True:
            frame = ws.recv()
            if frame == "2":
                ws.send("3")  # pong
            elif frame.startswith('42/display,["called"'):
                name, call = json.loads(frame.removeprefix("42/display,"))
                break
        assert (
            call["number"] == t["number"] and call["window"] == 4 and call["text"] == f"请{t['number']}号到4号窗口办理"
        )
        clerk.post(f"{server.url}/api/v1/windows/4/start", timeout=10).raise_for_status()
        clerk.post(f"{server.url}/api/v1/windows/4/complete", timeout=10).raise_for_status()
    finally:
        ws.close()


def test_a_display_that_was_offline_gets_the_current_state_on_reconnect(server) -> None:
    display = DisplayClient(server.url)
    display.next("snapshot")
    display.close()
    t = issue(server.url)
    clerk = clerk_session(server.url, "clerk2")
    clerk.post(f"{server.url}/api/v1/windows/2/call-next", timeout=10).raise_for_status()
    again = DisplayClient(server.url)
    try:
        snap = again.next("snapshot")
        assert snap["recent_calls"][0]["number"] == t["number"] and snap["recent_calls"][0]["window"] == 2
        windows = {w["number"]: w for w in snap["windows"]}
        assert windows[2]["current"]["number"] == t["number"]
    finally:
        again.close()
        clerk.post(f"{server.url}/api/v1/windows/2/no-show", timeout=10)


def test_anonymous_counter_and_manager_connections_are_refused(server) -> None:
    for namespace in ("/counter", "/manager"):
        with pytest.raises(socketio.exceptions.ConnectionError):
            DisplayClient(server.url, namespace=namespace)


def test_a_logged_in_clerk_connects_to_counter(server) -> None:
    clerk = clerk_session(server.url, "clerk3")
    cookie = "; ".join(f"{k}={v}" for k, v in clerk.cookies.items())
    console = DisplayClient(server.url, namespace="/counter", headers={"Cookie": cookie})
    try:
        assert console.next("hello") == {"user": "clerk3", "window": 3}
    finally:
        console.close()


@pytest.fixture
def redis_url(tmp_path: Path):
    require(shutil.which("redis-server") is not None, "redis-server not installed")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 10
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    while time.monotonic() < deadline:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def test_redis_message_queue_carries_a_call_from_one_process_to_another(redis_url, tmp_path: Path) -> None:
    env = {"HALL_MESSAGE_QUEUE": redis_url, "HALL_DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}"}
    # A first: it migrates and seeds; B then starts on the same database.
    with Server(env=env, instance=tmp_path / "a") as a, Server(env=env, instance=tmp_path / "b") as b:
        display_on_b = DisplayClient(b.url)
        try:
            display_on_b.next("snapshot")
            t = issue(a.url)
            clerk = clerk_session(a.url, "clerk4")
            clerk.post(f"{a.url}/api/v1/windows/4/call-next", timeout=10).raise_for_status()
            call = display_on_b.next("called", timeout=5)
            assert call["number"] == t["number"] and call["window"] == 4
        finally:
            display_on_b.close()
