"""The counter console's API: the real call order, 选呼, pause with a reason, today's count, the service timer."""

from __future__ import annotations

from sqlalchemy import select

from hall.models import AuditEntry
from tests.factories import act, elderly_id, error_code, issue, item_code


def _numbers(tickets: list[dict]) -> list[str]:
    return [t["number"] for t in tickets]


def test_next_lists_the_tickets_in_the_order_call_next_takes_them(kiosk, staff, clock) -> None:
    code = item_code(kiosk)
    for _ in range(3):
        issue(kiosk, [code])
        clock.advance(60)
    for _ in range(3):
        issue(kiosk, [code], priority="veteran")
        clock.advance(60)
    clerk = staff("clerk1")
    listed = clerk.get("/api/v1/windows/1/next?limit=6").get_json()["tickets"]
    # A sort by number (A001 first) or by time is not the call order: the 2 : 1 绿色通道 interleave is.
    assert _numbers(listed) == ["L001", "L002", "A001", "L003", "A002", "A003"]
    assert _numbers(clerk.get("/api/v1/windows/1").get_json()["window"]["waiting"]) == _numbers(listed)
    first = listed[0]
    assert first["priority"] == "veteran" and first["item_names"] == [first["item_names"][0]]
    assert first["item_names"][0] != code, "names, not codes"
    assert listed[2]["waited_minutes"] == 6 and listed[0]["waited_minutes"] == 3
    called = []
    for _ in range(6):
        called.append(act(clerk, 1, "call-next")["ticket"]["number"])
        act(clerk, 1, "start"), act(clerk, 1, "complete")
    assert called == _numbers(listed)


def test_next_validates_its_limit(staff) -> None:
    r = staff("clerk1").get("/api/v1/windows/1/next?limit=0")
    assert r.status_code == 422
    assert staff("clerk1").get("/api/v1/windows/99/next").status_code == 404


def test_call_one_particular_waiting_ticket(app, svc, kiosk, staff) -> None:
    code = item_code(kiosk)
    first, second = issue(kiosk, [code]), issue(kiosk, [code])
    clerk = staff("clerk1")
    ticket = act(clerk, 1, "call-ticket", ticket=second["id"])["ticket"]
    assert ticket["number"] == second["number"] and ticket["status"] == "called" and ticket["window"] == 1
    with svc.db.read() as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.call_selected")).one()
        assert (row.actor, row.target, row.window_number) == ("clerk1", second["number"], 1)
    busy = clerk.post("/api/v1/windows/1/call-ticket", json={"ticket": first["id"]})
    assert busy.status_code == 409 and error_code(busy) == "window_busy"
    act(clerk, 1, "start"), act(clerk, 1, "complete")
    done = clerk.post("/api/v1/windows/1/call-ticket", json={"ticket": second["id"]})
    assert done.status_code == 409 and error_code(done) == "not_waiting"
    joint_only = issue(kiosk, [item_code(kiosk, queue="R")])  # 人社 line: window 1 does not serve it
    other = clerk.post("/api/v1/windows/1/call-ticket", json={"ticket": joint_only["id"]})
    assert other.status_code == 409 and error_code(other) == "not_this_window"
    assert clerk.post("/api/v1/windows/1/call-ticket", json={"ticket": "x"}).status_code == 422
    assert clerk.post("/api/v1/windows/1/call-ticket", json={}).status_code == 422
    assert clerk.post("/api/v1/windows/1/call-ticket", json={"ticket": 2**31 - 1}).status_code == 404


def test_pause_with_a_reason_shows_on_the_window_and_clears_on_resume(svc, staff) -> None:
    clerk = staff("clerk2")
    window = act(clerk, 2, "pause", reason="meal")["window"]
    assert window["state"] == "paused" and window["pause_reason"] == "meal"
    shown = {w["number"]: w for w in staff("manager").get("/api/v1/hall/load").get_json()["windows"]}[2]
    assert shown["pause_reason"] == "meal"
    from hall import queries

    with svc.db.read() as session:
        display = {w["number"]: w for w in queries.windows(session, svc.hall_id)}[2]
    assert display["pause_reason"] == "meal", "the window display and LED strip read this"
    assert act(clerk, 2, "resume")["window"]["pause_reason"] is None
    bad = clerk.post("/api/v1/windows/2/pause", json={"reason": "nap"})
    assert bad.status_code == 422
    assert act(clerk, 2, "pause")["window"]["pause_reason"] is None, "a reason is optional"


def test_window_detail_has_todays_count_the_timer_start_and_the_ticket_for_checks(kiosk, staff, clock) -> None:
    code = item_code(kiosk)
    issue(kiosk, [code], priority="elderly", id_number=elderly_id(1950))
    issue(kiosk, [code])
    clerk = staff("clerk1")
    act(clerk, 1, "call-next")
    clock.advance(30)
    act(clerk, 1, "start")
    detail = clerk.get("/api/v1/windows/1").get_json()["window"]
    current = detail["current"]
    assert current["priority"] == "elderly" and current["id_masked"] and "*" in current["id_masked"]
    assert current["since"] == clock.now().isoformat(), "the service timer starts when service starts"
    assert detail["today"] == {"window_completed": 0, "clerk_completed": 0}
    assert detail["recall_limit"] == 2  # the console disables 重呼 after that many
    act(clerk, 1, "complete")
    act(clerk, 1, "call-next"), act(clerk, 1, "start"), act(clerk, 1, "complete")
    assert clerk.get("/api/v1/windows/1").get_json()["window"]["today"] == {
        "window_completed": 2,
        "clerk_completed": 2,
    }
