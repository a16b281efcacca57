"""Sessions end on the server: logout, password reset, deactivation and a new role revoke every copy of a session
(cookie and Socket.IO), reactivation does not bring them back, and each login gets a fresh CSRF token."""

from __future__ import annotations

import time

from sqlalchemy import select

from hall.models import AuditEntry, User
from tests.conftest import login
from tests.factories import error_code, issue


def copy_of(app, client):
    """A second client holding the same session cookie (a copied cookie, or another tab of the same browser)."""
    other = app.test_client()
    cookie = client.get_cookie("session")
    other.set_cookie("session", cookie.value)
    other.environ_base.update(client.environ_base)
    return other


def connected(socket_client, namespace: str, timeout: float = 3.0) -> bool:
    """Whether the server still holds the socket (a revoked one is disconnected by the server)."""
    deadline = time.monotonic() + timeout
    while socket_client.is_connected(namespace) and time.monotonic() < deadline:
        time.sleep(0.02)
    return socket_client.is_connected(namespace)


def test_logout_ends_every_copy_of_the_session(app, svc, kiosk) -> None:
    clerk = login(app, "clerk3")
    stolen = copy_of(app, clerk)
    assert stolen.get("/api/v1/auth/me").status_code == 200
    assert clerk.post("/api/v1/auth/logout").status_code == 204
    assert stolen.get("/api/v1/auth/me").status_code == 401, "the old cookie no longer works"
    issue(kiosk)
    r = stolen.post("/api/v1/windows/3/call-next")
    assert r.status_code == 401 and error_code(r) == "unauthenticated", "and its writes are refused"
    with svc.db.read() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "clerk3")).all()
    assert actions[-1] == "auth.logout"
    assert login(app, "clerk3").get("/api/v1/auth/me").status_code == 200, "a new login works"


def test_a_password_reset_ends_the_accounts_sessions(app, staff) -> None:
    clerk = login(app, "clerk5")
    r = staff("admin").post("/api/v1/admin/staff/clerk5/password", json={"password": "new-secret-5"})
    assert r.status_code == 200
    assert clerk.get("/api/v1/auth/me").status_code == 401
    assert login(app, "clerk5", "new-secret-5").get("/api/v1/auth/me").status_code == 200


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, staff) -> None:
    clerk = login(app, "clerk4")
    admin = staff("admin")
    assert admin.put("/api/v1/admin/staff/clerk4", json={"active": False}).status_code == 200
    assert clerk.get("/api/v1/auth/me").status_code == 401
    assert admin.put("/api/v1/admin/staff/clerk4", json={"active": True}).status_code == 200
    assert clerk.get("/api/v1/auth/me").status_code == 401, "the old session stays dead"
    assert login(app, "clerk4").get("/api/v1/auth/me").status_code == 200


def test_a_deactivated_managers_dashboard_socket_is_closed(app, svc, staff) -> None:
    socketio = app.extensions["hall.socketio"]
    manager = socketio.test_client(app, namespace="/manager", flask_test_client=login(app, "manager"))
    assert manager.is_connected("/manager")
    assert [e for e in manager.get_received("/manager") if e["name"] == "load"]
    with svc.db.read() as session:
        assert session.scalar(select(User.active).where(User.username == "manager"))
    assert staff("admin").put("/api/v1/admin/staff/manager", json={"active": False}).status_code == 200
    assert not connected(manager, "/manager"), "no more load events for a deactivated manager"


def test_a_socket_whose_session_ended_in_another_process_is_closed_by_the_sweep(app, svc) -> None:
    socketio = app.extensions["hall.socketio"]
    console = socketio.test_client(app, namespace="/counter", flask_test_client=login(app, "clerk2"))
    assert console.is_connected("/counter")
    with svc.db.write() as session:  # as another server process would: only the database knows
        session.execute(User.__table__.update().where(User.username == "clerk2").values(session_generation=99))
    assert app.extensions["hall.broadcaster"].sweep_sessions() == 1
    assert not connected(console, "/counter")


def test_the_csrf_token_is_renewed_at_login(app) -> None:
    browser = app.test_client()
    first = browser.post("/api/v1/auth/login", json={"username": "clerk7", "password": "demo"}).get_json()
    second = browser.post("/api/v1/auth/login", json={"username": "clerk8", "password": "demo"}).get_json()
    assert second["user"]["username"] == "clerk8"
    assert first["csrf_token"] != second["csrf_token"]
    old = browser.post("/api/v1/windows/8/pause", headers={"X-CSRFToken": first["csrf_token"]})
    assert old.status_code == 400 and error_code(old) == "csrf_failed", "clerk7's token does not work for clerk8"
    assert browser.get("/api/v1/auth/me").get_json()["user"]["username"] == "clerk8"


def test_a_manager_demoted_to_clerk_loses_the_dashboard_socket(app, staff) -> None:
    socketio = app.extensions["hall.socketio"]
    manager = socketio.test_client(app, namespace="/manager", flask_test_client=login(app, "leader"))
    assert manager.is_connected("/manager")
    assert staff("admin").put("/api/v1/admin/staff/leader", json={"role": "clerk", "window": 9}).status_code == 200
    assert not connected(manager, "/manager")


def test_a_login_newer_than_a_cached_account_is_accepted_at_once(app, svc) -> None:
    clerk = login(app, "clerk6")
    assert clerk.get("/api/v1/auth/me").status_code == 200  # this process now caches clerk6 at generation 0
    with svc.db.write() as session:  # another process: clerk6 logged out there (generation 1)
        session.execute(User.__table__.update().where(User.username == "clerk6").values(session_generation=1))
    assert clerk.get("/api/v1/auth/me").status_code in (200, 401)  # the old session: ends within the cache's 10 s
    fresh = login(app, "clerk6")  # a new login, at generation 1, served by this process
    assert fresh.get("/api/v1/auth/me").status_code == 200
    assert clerk.get("/api/v1/auth/me").status_code == 401, "and the old one is now known to be over"
