"""A whole hall day through the REST API: issue, call, recall, 过号, transfer, park/resume, complete, pause."""

from __future__ import annotations

from sqlalchemy import select

from hall.models import AuditEntry, Period, Ticket
from tests.factories import act, elderly_id, error_code, issue, item_code


def test_issue_returns_the_documented_ticket(kiosk) -> None:
    code = item_code(kiosk)
    t = issue(kiosk, [code])
    assert t["number"] == "A001" and t["status"] == "waiting" and t["queue"] == "A"
    assert [i["code"] for i in t["items"]] == [code]
    assert t["items"][0]["materials"], "一次性告知: materials come with the ticket"
    assert t["people_ahead"] == 0
    assert 0 <= t["eta_minutes"]["low"] < t["eta_minutes"]["high"]
    assert t["track_url"].startswith("http://localhost/t/") and len(t["track_url"]) > 30
    assert t["issued_at"].startswith("2026-11-23T01:00")
    second = issue(kiosk, [code])
    assert second["number"] == "A002" and second["people_ahead"] == 1


def test_numbering_is_per_queue_and_priority_and_joint_have_their_own_lines(kiosk) -> None:
    a = item_code(kiosk, queue="A", department="医保")
    b = item_code(kiosk, queue="B")
    r = item_code(kiosk, queue="R", department="人社")
    assert issue(kiosk, [a])["number"] == "A001"
    assert issue(kiosk, [b])["number"] == "B001"
    assert issue(kiosk, [a], priority="disabled")["number"] == "L001"
    joint = issue(kiosk, [a, r])
    assert joint["number"] == "J001" and joint["joint"] is True and len(joint["items"]) == 2
    assert issue(kiosk, [a])["number"] == "A002"


def test_numbering_restarts_the_next_day(kiosk, clock) -> None:
    code = item_code(kiosk)
    assert issue(kiosk, [code])["number"] == "A001"
    clock.advance(hours=24)
    assert issue(kiosk, [code])["number"] == "A001"


def test_a_full_service_at_one_window(kiosk, staff, svc) -> None:
    t = issue(kiosk)
    clerk = staff("clerk1")
    called = act(clerk, 1, "call-next")["ticket"]
    assert called["id"] == t["id"] and called["status"] == "called" and called["window"] == 1
    assert act(clerk, 1, "start")["ticket"]["status"] == "serving"
    done = act(clerk, 1, "complete")["ticket"]
    assert done["status"] == "completed" and done["first_window"] == 1
    assert all(i["status"] == "done" for i in done["items"])
    assert act(clerk, 1, "call-next", expect=204) is None
    with svc.db.read() as s:
        states = [p.state for p in s.scalars(select(Period).where(Period.ticket_id == t["id"]).order_by(Period.id))]
        actions = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert states == ["waiting", "called", "serving", "completed"]
    assert {"ticket.issue", "ticket.call", "ticket.start", "ticket.complete"} <= set(actions)


def test_call_next_is_pooled_fifo_across_the_windows_queues(kiosk, staff) -> None:
    a, b = item_code(kiosk, queue="A"), item_code(kiosk, queue="B")
    first = issue(kiosk, [b])
    second = issue(kiosk, [a])
    clerk1, clerk2 = staff("clerk1"), staff("clerk2")
    assert act(clerk1, 1, "call-next")["ticket"]["number"] == first["number"]
    assert act(clerk2, 2, "call-next")["ticket"]["number"] == second["number"]


def test_green_window_takes_priority_first_and_joint_window_takes_joint_first(kiosk, staff) -> None:
    a, r = item_code(kiosk, queue="A", department="医保"), item_code(kiosk, queue="R")
    normal = issue(kiosk, [a])
    priority = issue(kiosk, [a], priority="elderly", id_number=elderly_id(1950))
    joint = issue(kiosk, [a, r])
    assert act(staff("clerk7"), 7, "call-next")["ticket"]["number"] == priority["number"]
    assert act(staff("clerk8"), 8, "call-next")["ticket"]["number"] == joint["number"]
    assert act(staff("clerk1"), 1, "call-next")["ticket"]["number"] == normal["number"]


def test_window_busy_until_the_current_ticket_is_handled(kiosk, staff) -> None:
    issue(kiosk), issue(kiosk)
    clerk = staff("clerk1")
    act(clerk, 1, "call-next")
    r = clerk.post("/api/v1/windows/1/call-next")
    assert r.status_code == 409 and error_code(r) == "window_busy"


def test_recall_is_limited(kiosk, staff, clock) -> None:
    issue(kiosk)
    clerk = staff("clerk1")
    act(clerk, 1, "call-next")
    assert act(clerk, 1, "recall")["ticket"]["recalls"] == 1
    assert act(clerk, 1, "recall")["ticket"]["recalls"] == 2
    r = clerk.post("/api/v1/windows/1/recall")
    assert r.status_code == 409 and error_code(r) == "recall_limit"


def test_no_show_recycles_three_places_back_once_then_ends(kiosk, staff) -> None:
    code = item_code(kiosk)
    tickets = [issue(kiosk, [code]) for _ in range(5)]
    clerk = staff("clerk1")
    assert act(clerk, 1, "call-next")["ticket"]["number"] == "A001"
    requeued = act(clerk, 1, "no-show")["ticket"]
    assert requeued["status"] == "waiting"
    order = []
    for _ in range(4):
        t = act(clerk, 1, "call-next")["ticket"]
        order.append(t["number"])
        if t["number"] == "A001":
            no_show = act(clerk, 1, "no-show")["ticket"]
            assert no_show["status"] == "no_show"  # second time: ends
        else:
            act(clerk, 1, "start"), act(clerk, 1, "complete")
    assert order == ["A002", "A003", "A004", "A001"]
    # one late return is allowed, a second is not
    back = clerk.post(f"/api/v1/tickets/{tickets[0]['id']}/return")
    assert back.status_code == 200 and back.get_json()["ticket"]["status"] == "waiting"
    # A005 was waiting before A001 came back, and a late return goes to the end when few are waiting
    assert act(clerk, 1, "call-next")["ticket"]["number"] == "A005"
    act(clerk, 1, "start"), act(clerk, 1, "complete")
    assert act(clerk, 1, "call-next")["ticket"]["number"] == "A001"
    assert act(clerk, 1, "no-show")["ticket"]["status"] == "no_show"  # recycled once already
    again = clerk.post(f"/api/v1/tickets/{tickets[0]['id']}/return")
    assert again.status_code == 409 and error_code(again) == "no_late_return"


def test_transfer_to_a_window_first_is_served_next_there(kiosk, staff) -> None:
    code = item_code(kiosk)
    t1, t2, t3 = (issue(kiosk, [code]) for _ in range(3))
    c1, c2 = staff("clerk1"), staff("clerk2")
    act(c2, 2, "presence")  # a transfer goes only to a window somebody is signed in at
    act(c1, 1, "call-next"), act(c1, 1, "start")
    moved = act(c1, 1, "transfer", to_window=2, position="first")["ticket"]
    assert moved["status"] == "waiting" and moved["target_window"] == 2 and moved["first_window"] == 1
    # window 3 cannot take a ticket sent to window 2
    assert act(staff("clerk3"), 3, "call-next")["ticket"]["number"] == t2["number"]
    got = act(c2, 2, "call-next")["ticket"]
    assert got["number"] == t1["number"] and got["first_window"] == 1  # 首问负责 kept
    act(c2, 2, "start")
    done = act(c2, 2, "complete")["ticket"]
    assert done["first_window"] == 1 and done["window"] == 2
    assert act(c1, 1, "call-next")["ticket"]["number"] == t3["number"]


def test_transfer_last_goes_behind_everyone(kiosk, staff) -> None:
    code = item_code(kiosk)
    t1, t2, t3 = (issue(kiosk, [code]) for _ in range(3))
    c1, c2 = staff("clerk1"), staff("clerk2")
    act(c2, 2, "presence")  # a transfer goes only to a window somebody is signed in at
    act(c1, 1, "call-next"), act(c1, 1, "start")
    act(c1, 1, "transfer", to_window=2, position="last")
    assert [act(c2, 2, "call-next")["ticket"]["number"] for _ in range(1)] == [t2["number"]]
    act(c2, 2, "start"), act(c2, 2, "complete")
    assert act(c2, 2, "call-next")["ticket"]["number"] == t3["number"]
    act(c2, 2, "start"), act(c2, 2, "complete")
    assert act(c2, 2, "call-next")["ticket"]["number"] == t1["number"]


def test_transfer_to_an_item_moves_the_ticket_to_that_items_queue(kiosk, staff) -> None:
    a, b = item_code(kiosk, queue="A"), item_code(kiosk, queue="B")
    t = issue(kiosk, [a])
    c1 = staff("clerk1")
    act(c1, 1, "call-next"), act(c1, 1, "start")
    moved = act(c1, 1, "transfer", to_item=b, position="first")["ticket"]
    assert moved["queue"] == "B" and [i["code"] for i in moved["items"]] == [a, b]
    assert act(c1, 1, "call-next")["ticket"]["id"] == t["id"]


def test_park_and_resume_at_the_window(kiosk, staff) -> None:
    t = issue(kiosk)
    clerk = staff("clerk1")
    act(clerk, 1, "call-next"), act(clerk, 1, "start")
    parked = act(clerk, 1, "park", missing=["户口簿原件"], days=5)["ticket"]
    assert parked["status"] == "parked" and parked["missing_materials"] == ["户口簿原件"]
    assert parked["parked_until"] is not None
    detail = clerk.get("/api/v1/windows/1").get_json()["window"]
    assert detail["current"] is None and [p["number"] for p in detail["parked"]] == [t["number"]]
    r = clerk.post("/api/v1/windows/1/resume", json={"ticket": t["id"]})
    assert r.status_code == 200 and r.get_json()["ticket"]["status"] == "serving"
    assert act(clerk, 1, "complete")["ticket"]["status"] == "completed"


def test_unpark_puts_the_ticket_at_the_head_of_the_line(kiosk, staff) -> None:
    code = item_code(kiosk)
    t = issue(kiosk, [code])
    clerk = staff("clerk1")
    act(clerk, 1, "call-next"), act(clerk, 1, "start"), act(clerk, 1, "park", missing=["医疗费用发票原件"])
    issue(kiosk, [code])
    assert clerk.post(f"/api/v1/tickets/{t['id']}/unpark").status_code == 200
    assert act(clerk, 1, "call-next")["ticket"]["id"] == t["id"]


def test_pause_resume_open_close(kiosk, staff) -> None:
    issue(kiosk)
    clerk = staff("clerk1")
    assert act(clerk, 1, "pause")["window"]["state"] == "paused"
    r = clerk.post("/api/v1/windows/1/call-next")
    assert r.status_code == 409 and error_code(r) == "window_paused"
    assert act(clerk, 1, "resume")["window"]["state"] == "open"
    act(clerk, 1, "call-next")
    r = clerk.post("/api/v1/windows/1/close")
    assert r.status_code == 409 and error_code(r) == "window_busy"
    act(clerk, 1, "start"), act(clerk, 1, "complete")
    assert act(clerk, 1, "close")["window"]["state"] == "closed"
    r = clerk.post("/api/v1/windows/1/close")
    assert r.status_code == 409 and error_code(r) == "invalid_window_transition"
    assert act(clerk, 1, "open")["window"]["state"] == "open"


def test_tidal_window_is_closed_by_default_and_a_manager_opens_it(kiosk, staff) -> None:
    issue(kiosk)
    manager = staff("manager")
    r = manager.post("/api/v1/windows/6/call-next")
    assert r.status_code == 409 and error_code(r) == "window_closed"
    act(manager, 6, "open")
    assert act(manager, 6, "call-next")["ticket"]["number"] == "A001"


def test_cancel_with_the_tracking_token(kiosk, client) -> None:
    t = issue(kiosk)
    token = t["track_url"].rsplit("/", 1)[1]
    assert client.post(f"/api/v1/tickets/{t['id']}/cancel", json={"token": "wrong"}).status_code == 403
    r = client.post(f"/api/v1/tickets/{t['id']}/cancel", json={"token": token})
    assert r.status_code == 200 and r.get_json()["ticket"]["status"] == "cancelled"
    r = client.post(f"/api/v1/tickets/{t['id']}/cancel", json={"token": token})
    assert r.status_code == 409 and error_code(r) == "invalid_transition"


def test_load_shows_queues_windows_and_current_tickets(kiosk, staff, clock) -> None:
    code = item_code(kiosk)
    issue(kiosk, [code]), issue(kiosk, [code])
    clock.advance(minutes=7)
    clerk = staff("clerk1")
    act(clerk, 1, "call-next")
    load = clerk.get("/api/v1/hall/load").get_json()
    queues = {q["code"]: q for q in load["queues"]}
    assert queues["A"]["waiting"] == 1 and queues["A"]["longest_wait_seconds"] == 420
    assert load["waiting"] == 1 and load["longest_wait_seconds"] == 420
    windows = {w["number"]: w for w in load["windows"]}
    assert windows[1]["current"]["number"] == "A001" and windows[1]["current"]["status"] == "called"
    assert windows[1]["clerk"]["staff_no"]
    assert windows[6]["state"] == "closed" and windows[2]["current"] is None


def test_daily_reset_ends_open_tickets_without_deleting_them(kiosk, staff, svc) -> None:
    from hall.engine import Actor

    code = item_code(kiosk)
    for _ in range(3):
        issue(kiosk, [code])
    clerk = staff("clerk1")
    act(clerk, 1, "call-next")
    n = svc.engine.reset_day(Actor.system(svc.hall_id), svc.hall_id)
    assert n == 3
    with svc.db.read() as s:
        statuses = s.scalars(select(Ticket.status)).all()
    assert statuses == ["ended_by_reset"] * 3


def test_walk_in_tickets_are_refused_outside_opening_hours(kiosk, clock) -> None:
    from datetime import UTC, datetime

    from tests.factories import error_code

    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # Monday 18:00 in Shanghai, after closing
    r = kiosk.post("/api/v1/tickets", json={"items": [item_code(kiosk)]})
    assert r.status_code == 409 and error_code(r) == "hall_closed"
    assert "08:30" in r.get_json()["error"]["message"]
    assert r.get_json()["error"]["details"]["next_opening"] == "2026-11-24T08:30:00+08:00"
    clock.set(datetime(2026, 11, 24, 0, 30, tzinfo=UTC))  # Tuesday 08:30
    assert issue(kiosk)["number"] == "A001"


def test_priority_tickets_interleave_two_to_one_at_a_comprehensive_window(kiosk, staff) -> None:
    code = item_code(kiosk)
    for _ in range(3):
        issue(kiosk, [code])
    for _ in range(3):
        issue(kiosk, [code], priority="veteran")
    clerk = staff("clerk1")
    order = []
    for _ in range(6):
        order.append(act(clerk, 1, "call-next")["ticket"]["number"])
        act(clerk, 1, "start"), act(clerk, 1, "complete")
    assert order == ["L001", "L002", "A001", "L003", "A002", "A003"]


def test_sla_guard_calls_an_overdue_ticket_at_the_green_window(kiosk, staff, clock) -> None:
    code = item_code(kiosk)
    old = issue(kiosk, [code])
    clock.advance(minutes=50)
    issue(kiosk, [code], priority="disabled")
    assert act(staff("clerk7"), 7, "call-next")["ticket"]["number"] == old["number"]


def test_public_hall_status_for_kiosks(client, clock) -> None:
    from datetime import UTC, datetime

    body = client.get("/api/v1/hall/status").get_json()
    assert body["open"] is True and body["today"] == "08:30–17:30" and body["next_opening"] is None
    assert body["hall"]["code"] == "demo" and body["notice"]
    clock.set(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))  # Saturday 10:00
    body = client.get("/api/v1/hall/status").get_json()
    assert body["open"] is False and body["today"] == "休息"
    assert body["next_opening"] == "2026-11-30T08:30:00+08:00"


def test_item_quota_is_enforced_and_shown(kiosk, svc) -> None:
    from sqlalchemy import update

    from hall.models import Item
    from tests.factories import error_code, items

    code = item_code(kiosk, queue="B")
    with svc.db.write() as s:
        s.execute(update(Item).where(Item.code == code).values(daily_quota=2))
    svc.engine.invalidate()
    issue(kiosk, [code]), issue(kiosk, [code])
    r = kiosk.post("/api/v1/tickets", json={"items": [code]})
    assert r.status_code == 409 and error_code(r) == "quota_reached"
    listed = {i["code"]: i for i in items(kiosk)}
    assert listed[code]["quota_left"] == 0 and listed[code]["daily_quota"] == 2
    other = item_code(kiosk, queue="A")
    assert listed[other]["quota_left"] is None
