"""Counter fixes found by a window clerk: transfer targets, green-channel transfer, park validation, lookup."""

from __future__ import annotations

from tests.factories import act, elderly_id, error_code, issue, item_code


def _serving(kiosk, clerk, window: int = 1, **body) -> dict:
    issue(kiosk, [item_code(kiosk)], **body)
    act(clerk, window, "call-next")
    return act(clerk, window, "start")["ticket"]


def test_transfer_to_a_closed_or_unstaffed_window_is_refused(kiosk, staff) -> None:
    clerk = staff("clerk1")
    ticket = _serving(kiosk, clerk)
    closed = clerk.post("/api/v1/windows/1/transfer", json={"to_window": 6})  # the tidal window starts closed
    assert closed.status_code == 409 and error_code(closed) == "target_closed"
    assert "6号窗口已关闭" in closed.get_json()["error"]["message"]
    nobody = clerk.post("/api/v1/windows/1/transfer", json={"to_window": 2})  # open, nobody signed in
    assert nobody.status_code == 409 and error_code(nobody) == "target_unstaffed"
    assert "无人签到" in nobody.get_json()["error"]["message"]
    en = clerk.post("/api/v1/windows/1/transfer?lang=en", json={"to_window": 2})
    assert "nobody" in en.get_json()["error"]["message"].lower()
    en = clerk.post("/api/v1/windows/1/transfer?lang=en", json={"to_window": 6})
    assert "closed" in en.get_json()["error"]["message"].lower()
    assert clerk.get("/api/v1/windows/1").get_json()["window"]["current"]["id"] == ticket["id"], "still here"
    # Window 2's clerk signs in, then goes on a break: the transfer is accepted (the clerk comes back).
    clerk2 = staff("clerk2")
    clerk2.post("/api/v1/windows/2/presence")
    act(clerk2, 2, "pause", reason="meal")
    moved = act(clerk, 1, "transfer", to_window=2, position="first")["ticket"]
    assert moved["status"] == "waiting"


def test_transfer_a_green_channel_ticket_by_item(kiosk, staff) -> None:
    code = item_code(kiosk)
    plain = issue(kiosk, [code])  # A001
    clerk = staff("clerk1")
    green = _serving(kiosk, clerk, priority="elderly", id_number=elderly_id(1950))  # L001 is called first
    assert green["number"] == "L001" and plain["number"] == "A001"
    # L001 joins queue A: its number (queue L, seq 1) must not clash with A001 (queue A, seq 1).
    r = clerk.post("/api/v1/windows/1/transfer", json={"position": "first", "to_item": "YB023"})
    assert r.status_code == 200, r.get_json()
    moved = r.get_json()["ticket"]
    assert moved["number"] == "L001" and "YB023" in [i["code"] for i in moved["items"]]
    assert issue(kiosk, [code])["number"] == "A002", "numbering of queue A goes on"
    assert act(clerk, 1, "call-next")["ticket"]["number"] == "L001", "first: served next"


def test_logout_with_a_called_ticket_puts_it_back_at_the_head(svc, kiosk, staff) -> None:
    from sqlalchemy import select

    from hall.models import AuditEntry

    code = item_code(kiosk)
    first, second = issue(kiosk, [code]), issue(kiosk, [code])
    clerk = staff("clerk1")
    assert act(clerk, 1, "call-next")["ticket"]["id"] == first["id"]
    assert clerk.post("/api/v1/auth/logout").status_code == 204
    manager = staff("manager")
    window = manager.get("/api/v1/windows/1").get_json()["window"]
    assert window["current"] is None, "the hall display no longer calls the citizen to an empty window"
    ticket = manager.get(f"/api/v1/tickets/{first['id']}").get_json()["ticket"]
    assert ticket["status"] == "waiting"
    clerk2 = staff("clerk2")
    assert act(clerk2, 2, "call-next")["ticket"]["id"] == first["id"], f"at the head, before {second['number']}"
    with svc.db.read() as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.requeue_sign_out")).one()
        assert (row.actor, row.target, row.window_number) == ("clerk1", first["number"], 1)


def test_logout_leaves_a_citizen_in_service_where_they_are(kiosk, staff) -> None:
    clerk = staff("clerk1")
    ticket = _serving(kiosk, clerk)
    assert clerk.post("/api/v1/auth/logout").status_code == 204
    window = staff("manager").get("/api/v1/windows/1").get_json()["window"]
    assert window["current"]["id"] == ticket["id"] and window["current"]["status"] == "serving"


def test_call_by_number_reaches_a_ticket_beyond_the_listed_twenty(svc, kiosk, staff) -> None:
    from sqlalchemy import select

    from hall.models import AuditEntry

    code = item_code(kiosk)
    tickets = [issue(kiosk, [code]) for _ in range(23)]
    clerk = staff("clerk1")
    window = clerk.get("/api/v1/windows/1").get_json()["window"]
    far = tickets[-1]["number"]
    assert far not in [t["number"] for t in window["waiting"]] and window["waiting_total"] == 23
    called = act(clerk, 1, "call-ticket", number=f" {far.lower()} ")["ticket"]
    assert called["number"] == far and called["status"] == "called"
    with svc.db.read() as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.call_selected")).one()
        assert (row.actor, row.target) == ("clerk1", far)
    act(clerk, 1, "start"), act(clerk, 1, "complete")
    missing = clerk.post("/api/v1/windows/1/call-ticket", json={"number": "A999"})
    assert missing.status_code == 404 and error_code(missing) == "ticket_not_found"
    assert "A999" in missing.get_json()["error"]["message"]
    assert clerk.post("/api/v1/windows/1/call-ticket", json={"number": "36"}).status_code == 422
    both = clerk.post("/api/v1/windows/1/call-ticket", json={"number": "A001", "ticket": tickets[0]["id"]})
    assert both.status_code == 422


def test_window_detail_has_the_no_show_rule_requeued_marks_deadlines_and_first_call(kiosk, staff, clock) -> None:
    code = item_code(kiosk)
    first = issue(kiosk, [code])
    for _ in range(4):
        issue(kiosk, [code])
    clerk = staff("clerk1")
    act(clerk, 1, "call-next")
    detail = clerk.get("/api/v1/windows/1").get_json()["window"]
    assert detail["no_show"] == {"mode": "requeue", "places_back": 3, "max_requeues": 1}
    assert detail["current"]["requeues"] == 0
    called_at = detail["current"]["first_called_at"]
    clock.advance(40)
    act(clerk, 1, "recall")
    current = clerk.get("/api/v1/windows/1").get_json()["window"]["current"]
    assert current["first_called_at"] == called_at, "a recall keeps the first call's time"
    assert current["since"] != called_at and current["service_started_at"] is None
    act(clerk, 1, "no-show")
    waiting = clerk.get("/api/v1/windows/1").get_json()["window"]["waiting"]
    assert [w["requeued"] for w in waiting if w["id"] == first["id"]] == [True]
    assert not any(w["requeued"] for w in waiting if w["id"] != first["id"])
    act(clerk, 1, "call-next"), act(clerk, 1, "start")
    act(clerk, 1, "park", missing=["户口簿"], days=5)
    parked = clerk.get("/api/v1/windows/1").get_json()["window"]["parked"]
    assert parked[0]["parked_until"], "the deadline is shown with the entry"


def test_an_empty_park_answers_a_human_message(kiosk, staff) -> None:
    clerk = staff("clerk1")
    _serving(kiosk, clerk)
    for body in ({"missing": []}, {"missing": [""]}, {"missing": ["  "]}):
        r = clerk.post("/api/v1/windows/1/park", json=body)
        assert r.status_code == 422 and error_code(r) == "no_missing_materials", r.get_json()
        assert r.get_json()["error"]["message"] == "容缺受理须登记所缺材料"
    en = clerk.post("/api/v1/windows/1/park?lang=en", json={"missing": []}).get_json()["error"]["message"]
    assert "Length" not in en and "missing" in en.lower() and not any("\u4e00" <= c <= "\u9fff" for c in en)
