"""预约办 through the API: slots, booking rules, cancellation, check-in placement, lateness and no-shows."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hall.engine import Actor
from hall.models import AuditEntry, Ticket
from tests.factories import act, elderly_id, error_code, issue

SH = ZoneInfo("Asia/Shanghai")
ITEM = "YB001"
MONDAY = "2026-11-23"  # the fake clock starts at 09:00 on this Monday


def at(hhmm: str, day: str = MONDAY) -> str:
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=SH).isoformat()


def person(n: int) -> str:
    return elderly_id(1950 + n)


def book(client, slot: str, who: int = 0, expect: int = 201, **extra):
    r = client.post("/api/v1/appointments", json={"item": ITEM, "slot_start": slot, "id_number": person(who), **extra})
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def test_slots_follow_opening_hours_and_capacity(client) -> None:
    r = client.get("/api/v1/appointments/slots", query_string={"item": ITEM, "day": MONDAY})
    slots = r.get_json()["slots"]
    assert slots[0]["start"] == at("08:30") and slots[-1]["end"] == at("17:30") and len(slots) == 18
    assert not slots[0]["open"], "08:30 has passed at 09:00"
    assert slots[4]["start"] == at("10:30") and slots[4]["left"] == 4 and slots[4]["open"]
    for n in range(4):
        book(client, at("10:30"), who=n)
    full = client.get("/api/v1/appointments/slots", query_string={"item": ITEM, "day": MONDAY}).get_json()["slots"]
    assert full[4]["left"] == 0 and not full[4]["open"]
    assert (
        error_code(
            client.post("/api/v1/appointments", json={"item": ITEM, "slot_start": at("10:30"), "id_number": person(9)})
        )
        == "slot_full"
    )
    saturday = client.get("/api/v1/appointments/slots", query_string={"item": ITEM, "day": "2026-11-28"})
    assert saturday.get_json()["slots"] == [], "closed on Saturday"


def test_booking_rules(client) -> None:
    b = book(client, at("14:00"), phone="13812345678")["booking"]
    assert len(b["code"]) == 6 and b["status"] == "booked" and b["phone_masked"] == "138****5678"
    assert "*" in b["id_masked"] and person(0) not in str(b)
    assert (
        error_code(
            client.post("/api/v1/appointments", json={"item": ITEM, "slot_start": at("15:00"), "id_number": person(0)})
        )
        == "one_booking_per_day"
    )
    cases = [
        ({"slot_start": at("08:30")}, "slot_past"),
        ({"slot_start": at("12:10")}, "bad_slot"),
        ({"slot_start": at("09:00", "2026-12-10")}, "slot_too_far"),
        ({"slot_start": at("09:30", "2026-11-28")}, "bad_slot"),
        ({"id_number": "110101195001011230"}, "id_checksum"),
        ({"item": "NOPE"}, "unknown_item"),
        ({"phone": "12345"}, "bad_phone"),
    ]
    for change, code in cases:
        body = {"item": ITEM, "slot_start": at("16:00"), "id_number": person(5), **change}
        r = client.post("/api/v1/appointments", json=body)
        assert r.status_code == 422 and error_code(r) == code, (change, r.get_json())
    naive = client.post(
        "/api/v1/appointments", json={"item": ITEM, "slot_start": "2026-11-23T16:00:00", "id_number": person(5)}
    )
    assert naive.status_code == 422, "a slot time must carry its offset"


def test_cancel_needs_the_id_or_staff(client, staff) -> None:
    code = book(client, at("14:00"))["booking"]["code"]
    wrong = client.post(f"/api/v1/appointments/{code}/cancel", json={"id_number": person(3)})
    assert wrong.status_code == 404 and error_code(wrong) == "booking_not_found", "as for a code that does not exist"
    ok = client.post(f"/api/v1/appointments/{code}/cancel", json={"id_number": person(0)})
    assert ok.status_code == 200 and ok.get_json()["booking"]["status"] == "cancelled"
    again = client.post(f"/api/v1/appointments/{code}/cancel", json={"id_number": person(0)})
    assert again.status_code == 409
    # After cancelling, the person may book again that day; staff cancel without the ID.
    code2 = book(client, at("15:00"))["booking"]["code"]
    assert staff("clerk1").post(f"/api/v1/appointments/{code2}/cancel", json={}).status_code == 200
    assert client.post("/api/v1/appointments/12ab/cancel", json={}).status_code == 422
    assert client.post("/api/v1/appointments/000000/cancel", json={}).status_code in (403, 404)


def test_check_in_places_the_ticket_at_its_slot(client, kiosk, staff, clock, svc) -> None:
    code = book(client, at("09:30"))["booking"]["code"]
    eleven = book(client, at("11:00"), who=4)["booking"]["code"]
    early = kiosk.post(f"/api/v1/appointments/{eleven}/check-in")
    assert (
        early.status_code == 409
        and error_code(early) == "too_early"
        and "10:30" in early.get_json()["error"]["message"]
        and early.get_json()["error"]["details"] == {"from": "10:30"}  # the kiosk words it in English
    )
    clock.advance(minutes=25)  # 09:25, inside the window (30 before … 15 after)
    walk_ins = [issue(kiosk) for _ in range(3)]  # walk-ins 09:25
    clock.advance(minutes=15)  # 09:40: ten minutes into the slot
    later = issue(kiosk)  # a walk-in during the slot
    r = kiosk.post(f"/api/v1/appointments/{code}/check-in")
    assert r.status_code == 201, r.get_json()
    ticket, booking = r.get_json()["ticket"], r.get_json()["booking"]
    assert booking["status"] == "checked_in" and booking["ticket_id"] == ticket["id"]
    assert ticket["channel"] == "appointment" and ticket["people_ahead"] == 3, "before walk-ins of its slot"
    assert kiosk.post(f"/api/v1/appointments/{code}/check-in").status_code == 409, "one ticket per booking"
    assert act(staff("clerk1"), 1, "call-next")["ticket"]["number"] == walk_ins[0]["number"]
    with svc.db.read() as session:
        order = session.scalars(
            select(Ticket.number).where(Ticket.status == "waiting").order_by(Ticket.sort_key, Ticket.id)
        ).all()
    assert order.index(ticket["number"]) < order.index(later["number"])


def test_late_citizens_get_a_walk_in_ticket_and_no_shows_are_recorded(client, kiosk, staff, clock, svc) -> None:
    late = book(client, at("09:30"), who=1)["booking"]["code"]
    absent = book(client, at("09:30"), who=2)["booking"]["code"]
    clock.advance(minutes=50)  # 09:50: 20 minutes after the slot began
    walk_in = issue(kiosk)
    r = kiosk.post(f"/api/v1/appointments/{late}/check-in")
    assert r.status_code == 201
    assert r.get_json()["booking"]["status"] == "late" and r.get_json()["ticket"]["channel"] == "kiosk"
    assert r.get_json()["ticket"]["people_ahead"] == 1, "behind the walk-in who came first"
    assert walk_in["number"] != r.get_json()["ticket"]["number"]
    assert svc.appointments.mark_no_shows(Actor.system(svc.hall_id), svc.hall_id) == 1
    day = staff("clerk1").get("/api/v1/appointments", query_string={"day": MONDAY}).get_json()["bookings"]
    assert {b["code"]: b["status"] for b in day} == {late: "late", absent: "no_show"}
    with svc.db.read() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("booking.%"))).all()
    assert actions.count("booking.create") == 2 and "booking.no_show" in actions


def test_racing_check_ins_give_one_ticket(client, app, clock) -> None:
    code = book(client, at("09:30"))["booking"]["code"]
    clock.advance(minutes=30)
    results: list[int] = []

    def go() -> None:
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = "Bearer demo-kiosk-1"
        results.append(c.post(f"/api/v1/appointments/{code}/check-in").status_code)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [409] * 7


def test_who_may_do_what(client, kiosk, staff) -> None:
    code = book(client, at("14:00"))["booking"]["code"]
    assert client.post(f"/api/v1/appointments/{code}/check-in").status_code == 401
    assert client.get("/api/v1/appointments", query_string={"day": MONDAY}).status_code == 401
    assert kiosk.get("/api/v1/appointments", query_string={"day": MONDAY}).status_code == 403
    assert client.get(f"/api/v1/appointments/{code}/check-in").status_code == 405
    by_staff = staff("clerk2").post(
        "/api/v1/appointments", json={"item": ITEM, "slot_start": at("15:00"), "id_number": person(7)}
    )
    assert by_staff.status_code == 201


@pytest.mark.parametrize("minutes", [0, 10])
def test_check_in_window_edges(client, kiosk, clock, minutes) -> None:
    code = book(client, at("09:30"))["booking"]["code"]
    clock.advance(minutes=30 + minutes)  # at the slot start, or ten minutes in
    r = kiosk.post(f"/api/v1/appointments/{code}/check-in")
    assert r.status_code == 201 and r.get_json()["booking"]["status"] == "checked_in"
    assert datetime.fromisoformat(r.get_json()["ticket"]["issued_at"]) - clock.now() < timedelta(seconds=1)
