"""Presence over the real server and real python-socketio clients: the console's socket signs the clerk in."""

from __future__ import annotations

import queue

import pytest
import socketio

from bench.server import Server, staff_session


@pytest.fixture(scope="module")
def server():
    with Server() as srv:
        yield srv


class Console:
    """A clerk's /counter socket that queues the presence answers it gets."""

    def __init__(self, url: str, username: str) -> None:
        self.session = staff_session(url, username)
        cookie = "; ".join(f"{k}={v}" for k, v in self.session.cookies.items())
        self.answers: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("presence", lambda data: self.answers.put(("presence", data)), namespace="/counter")
        self.client.on("presence_error", lambda data: self.answers.put(("error", data)), namespace="/counter")
        self.client.connect(
            url, namespaces=["/counter"], transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=10
        )

    def answer(self) -> tuple[str, dict]:
        """The next presence answer (the server sends one per beat)."""
        return self.answers.get(timeout=10)


def _load(url: str) -> dict:
    return staff_session(url, "manager").get(f"{url}/api/v1/hall/load", timeout=10).json()


def _sign_ins(url: str, window: int) -> int:
    r = staff_session(url, "admin").get(f"{url}/api/v1/hall/audit", params={"action": "window.sign_in"}, timeout=10)
    assert r.status_code == 200, r.text
    return sum(1 for e in r.json()["entries"] if e["window"] == window and e["actor"] == "clerk5")


def test_the_console_socket_signs_the_clerk_in_and_beats_keep_it(server) -> None:
    url = server.url
    before = {w["number"]: w for w in _load(url)["windows"]}[5]
    assert before["state"] == "open" and before["staffed"] is False and before["clerk"] is None
    console = Console(url, "clerk5")
    try:
        kind, window = console.answer()
        assert kind == "presence" and window["number"] == 5 and window["staffed"] and window["available"]
        after = {w["number"]: w for w in _load(url)["windows"]}[5]
        assert after["staffed"] is True and after["clerk"]["name"] == window["clerk"]["name"]
        console.client.emit("presence", {"window": 5}, namespace="/counter")
        assert console.answer()[0] == "presence"
        assert _sign_ins(url, 5) == 1, "a beat is not a sign-in: one audit row"
        console.client.emit("presence", {"window": 4}, namespace="/counter")
        kind, error = console.answer()
        assert kind == "error" and error["code"] == "wrong_window"
    finally:
        console.client.disconnect()


def test_an_anonymous_socket_cannot_sign_anyone_in(server) -> None:
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, namespaces=["/counter"], transports=["websocket"], wait_timeout=10)
    assert {w["number"]: w for w in _load(server.url)["windows"]}[8]["staffed"] is False
