"""Socket.IO checks the browser's Origin (issue 15, item 9): a real server and real python-socketio clients.

A page on another site must not ride a manager's cookie into the ``/manager`` load feed. Browsers always
send ``Origin``; devices and non-browser clients send none (or their own host's) and keep working.
"""

from __future__ import annotations

import pytest
import socketio

from bench.server import Server, staff_session

PUBLIC = "http://hall-public.example:8080"
PROXY = "https://proxy.example"


@pytest.fixture(scope="module")
def server():
    with Server(env={"HALL_PUBLIC_URL": PUBLIC, "HALL_ALLOWED_ORIGINS": f"{PROXY}, https://other.example"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def manager_cookie(server) -> str:
    manager = staff_session(server.url, "manager")
    return "; ".join(f"{k}={v}" for k, v in manager.cookies.items())


def connect(url: str, namespace: str, cookie: str | None, transport: str = "websocket", **ws: object):
    """A connected client (raises socketio.exceptions.ConnectionError when refused); ``ws`` sets the Origin."""
    client = socketio.Client(reconnection=False, websocket_extra_options=ws)
    headers = {"Cookie": cookie} if cookie else {}
    if transport == "polling" and "origin" in ws:
        headers["Origin"] = str(ws["origin"])
    client.connect(url, namespaces=[namespace], transports=[transport], headers=headers, wait_timeout=10)
    return client


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_foreign_origin_is_refused(server, manager_cookie, transport) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(server.url, "/manager", manager_cookie, transport, origin="http://evil.example")
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect(server.url, "/display", None, transport, origin="http://evil.example")


@pytest.mark.parametrize(
    "origin",
    [None, "same", PUBLIC, PROXY],
    ids=["no-origin", "same-origin", "public-url", "configured"],
)
def test_own_configured_and_missing_origins_connect(server, manager_cookie, origin) -> None:
    ws = {"suppress_origin": True} if origin is None else {"origin": server.url if origin == "same" else origin}
    client = connect(server.url, "/manager", manager_cookie, **ws)
    try:
        assert client.connected and "/manager" in client.namespaces
    finally:
        client.disconnect()
