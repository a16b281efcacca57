"""One person at one window; nobody silently displaces someone signed in and beating (docs/routing.md §7)."""

from __future__ import annotations

from sqlalchemy import select

from hall.models import AuditEntry
from tests.conftest import login
from tests.factories import act, issue


def _windows(client) -> dict[int, dict]:
    return {w["number"]: w for w in client.get("/api/v1/hall/load").get_json()["windows"]}


def _presence_audit(svc) -> list[tuple[str, str, int | None, dict | None]]:
    with svc.db.read() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("window.sign_%")).order_by(AuditEntry.id)
        ).all()
        return [(r.action, r.actor, r.window_number, r.after) for r in rows]


def test_a_leader_is_present_at_one_window_at_a_time(app, svc, kiosk, staff) -> None:
    leader = staff("leader")
    assert leader.post("/api/v1/windows/4/presence").status_code == 200
    assert leader.post("/api/v1/windows/5/presence").status_code == 200
    windows = _windows(staff("manager"))
    assert windows[5]["staffed"] is True
    assert windows[4]["staffed"] is False and windows[4]["clerk"] is None, "signing in at 5 left window 4"
    assert ("window.sign_out", "leader", 4, {"clerk_id": None, "reason": "moved"}) in _presence_audit(svc)


def test_a_supervisor_cannot_take_over_a_window_a_clerk_is_signed_in_at(app, svc, clock, kiosk, staff) -> None:
    clerk = staff("clerk4")
    clerk_name = clerk.post("/api/v1/windows/4/presence").get_json()["window"]["clerk"]["name"]
    r = staff("leader").post("/api/v1/windows/4/presence")
    assert r.status_code == 409, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "window_taken" and "4号窗口" in error["message"] and "签退" in error["message"]
    assert _windows(staff("manager"))[4]["clerk"]["name"] == clerk_name, "the clerk is still there"
    # The clerk signs out: now the leader may sign in.
    assert clerk.delete("/api/v1/windows/4/presence").status_code == 204
    assert staff("leader").post("/api/v1/windows/4/presence").status_code == 200
    # Now the leader beats there: the clerk's own console (or a call) does not silently take it back either.
    issue(kiosk)
    act(clerk, 4, "call-next", expect=409)
    assert clerk.post("/api/v1/windows/4/presence").status_code == 409
    # The leader's beats stop: after the timeout the clerk signs in (even before the sweep has run).
    clock.advance(41)
    assert clerk.post("/api/v1/windows/4/presence").status_code == 200
    assert _presence_audit(svc)[-1][:3] == ("window.sign_in", "clerk4", 4)


def test_the_counter_socket_presence_of_a_supervisor_is_refused_too(app, svc, staff) -> None:
    staff("clerk2").post("/api/v1/windows/2/presence")
    leader = login(app, "leader")
    console = app.extensions["hall.socketio"].test_client(app, namespace="/counter", flask_test_client=leader)
    console.emit("presence", {"window": 2}, namespace="/counter")
    events = {e["name"]: e["args"][0] for e in console.get_received("/counter")}
    assert events["presence_error"]["code"] == "window_taken"
    assert _windows(staff("manager"))[2]["clerk"] is not None
    assert not [a for a in _presence_audit(svc) if a[1] == "leader"]
    console.disconnect(namespace="/counter")


def test_an_admin_moving_or_deactivating_a_clerk_signs_them_out_at_once(app, svc, staff) -> None:
    staff("clerk4").post("/api/v1/windows/4/presence")
    staff("clerk3").post("/api/v1/windows/3/presence")
    admin = staff("admin")
    assert admin.put("/api/v1/admin/staff/clerk4", json={"window": 5}).status_code == 200
    assert _windows(staff("manager"))[4]["staffed"] is False, "window 4 stayed staffed until the sweep"
    assert ("window.sign_out", "admin", 4, {"clerk_id": None, "reason": "account_changed"}) in _presence_audit(svc)
    assert admin.put("/api/v1/admin/staff/clerk3", json={"active": False}).status_code == 200
    windows = _windows(staff("manager"))
    assert windows[3]["staffed"] is False and windows[3]["clerk"] is None
    assert _presence_audit(svc)[-1] == ("window.sign_out", "admin", 3, {"clerk_id": None, "reason": "account_changed"})
    # A change that keeps the clerk at the window (a new display name) leaves them signed in.
    staff("clerk2").post("/api/v1/windows/2/presence")
    assert admin.put("/api/v1/admin/staff/clerk2", json={"display_name": "王二"}).status_code == 200
    assert _windows(staff("manager"))[2]["staffed"] is True
