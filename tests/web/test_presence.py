"""Presence: a window counts as open only while a clerk is signed in at it (docs/routing.md §7)."""

from __future__ import annotations

from sqlalchemy import select

from hall import queries
from hall.models import AuditEntry
from hall.repository import Repository
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


def test_open_windows_nobody_signed_in_at_show_no_clerk_and_do_not_count(app, kiosk, staff) -> None:
    windows = _windows(staff("manager"))
    for n in (1, 4, 5, 7, 8):
        w = windows[n]
        assert w["state"] == "open" and w["staffed"] is False and w["available"] is False
        assert w["clerk"] is None, "no clerk's name on a window nobody is signed in at"
    with app.extensions["hall"].db.read() as session:  # what the hall and window displays get
        shown = {w["number"]: w for w in queries.windows(session, app.extensions["hall"].hall_id)}
    assert shown[4]["clerk"] is None and shown[4]["staffed"] is False and shown[4]["available"] is False
    # Nobody at any window: the estimate may not promise a free window (it said 0–2 minutes with 6 ahead).
    for _ in range(6):
        issue(kiosk)
    ticket = issue(kiosk)
    assert ticket["people_ahead"] == 6 and ticket["eta_minutes"]["low"] > 0


def test_a_clerk_signs_in_and_the_window_counts(app, svc, kiosk, staff) -> None:
    clerk = staff("clerk4")
    window = clerk.post("/api/v1/windows/4/presence").get_json()["window"]
    assert window["staffed"] and window["available"] and window["clerk"]["name"]
    assert _windows(staff("manager"))[4]["clerk"] == window["clerk"]
    ticket = issue(kiosk)
    assert ticket["people_ahead"] == 0 and ticket["eta_minutes"]["low"] == 0, "window 4 is free"
    clerk.post("/api/v1/windows/4/presence")  # a heartbeat: no second audit row
    assert _presence_audit(svc) == [("window.sign_in", "clerk4", 4, {"clerk_id": window_clerk_id(svc, 4)})]


def window_clerk_id(svc, number: int) -> int | None:
    with svc.db.read() as session:
        return Repository(session).window(svc.hall_id, number).clerk_id


def test_a_silent_console_is_signed_out_by_the_sweep(app, svc, clock, staff) -> None:
    staff("clerk4").post("/api/v1/windows/4/presence")
    clock.advance(30)
    assert svc.engine.sweep_presence(svc.hall_id) == [], "30 s without a beat is not yet gone"
    staff("clerk4").post("/api/v1/windows/4/presence")
    clock.advance(39)
    assert svc.engine.sweep_presence(svc.hall_id) == []
    clock.advance(2)  # 41 s after the last beat: the sweep (every 10 s) ends it well within a minute
    assert svc.engine.sweep_presence(svc.hall_id) == [4]
    w = _windows(staff("manager"))[4]
    assert w["staffed"] is False and w["clerk"] is None and w["state"] == "open"
    assert _presence_audit(svc)[-1] == ("window.sign_out", "system", 4, {"clerk_id": None, "reason": "timeout"})
    assert svc.engine.sweep_presence(svc.hall_id) == [], "nothing left to sign out"


def test_logout_and_leaving_sign_the_clerk_out(app, svc, staff) -> None:
    clerk = login(app, "clerk3")
    clerk.post("/api/v1/windows/3/presence")
    assert clerk.post("/api/v1/auth/logout").status_code == 204
    assert _windows(staff("manager"))[3]["staffed"] is False
    assert _presence_audit(svc)[-1] == ("window.sign_out", "clerk3", 3, {"clerk_id": None, "reason": "logout"})
    other = staff("clerk2")
    other.post("/api/v1/windows/2/presence")
    assert other.delete("/api/v1/windows/2/presence").status_code == 204
    assert _presence_audit(svc)[-1][:3] == ("window.sign_out", "clerk2", 2)
    assert staff("clerk1").delete("/api/v1/windows/2/presence").status_code == 403


def test_a_clerk_acting_at_the_window_is_signed_in(app, svc, kiosk, staff) -> None:
    issue(kiosk)
    act(staff("clerk1"), 1, "call-next")
    assert _windows(staff("manager"))[1]["staffed"] is True
    assert [a[:3] for a in _presence_audit(svc)] == [("window.sign_in", "clerk1", 1)]


def test_an_open_tidal_window_nobody_works_asks_for_staff_and_does_not_count(app, svc, staff) -> None:
    manager = staff("manager")
    assert manager.post("/api/v1/hall/tidal", json={"mode": "open"}).status_code == 200
    load = manager.get("/api/v1/hall/load").get_json()
    tidal = {w["number"]: w for w in load["windows"]}[6]
    assert tidal["state"] == "open" and tidal["staffed"] is False and tidal["available"] is False
    assert tidal["clerk"] is None, "it showed 服务中 with no clerk"
    assert load["needs_staff"] == [6, 9]
    staff("clerk6").post("/api/v1/windows/6/presence")
    assert manager.get("/api/v1/hall/load").get_json()["needs_staff"] == [9]


def test_the_tidal_rule_counts_only_staffed_windows(app, svc, staff) -> None:
    measure = svc.tidal.measure
    window = {"number": 6, "queues": ["A", "B", "L"]}
    assert measure(svc.hall_id, window).open_windows == 0, "windows 1-5 are open but nobody is there"
    for n in (1, 2):
        staff(f"clerk{n}").post(f"/api/v1/windows/{n}/presence")
    assert measure(svc.hall_id, window).open_windows == 2


def test_presence_is_refused_for_another_clerks_window(app, staff) -> None:
    r = staff("clerk1").post("/api/v1/windows/2/presence")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "wrong_window"
    assert staff("clerk1").post("/api/v1/windows/99/presence").status_code in (403, 404)
