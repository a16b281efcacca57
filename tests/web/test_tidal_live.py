"""The tidal window in a running hall: scheduled peaks, load, hysteresis, never closing on a citizen, overrides."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hall.events import TidalDecided
from hall.models import AuditEntry
from tests.factories import act, error_code, issue

SH = ZoneInfo("Asia/Shanghai")
TIDAL = 6


def at_local(clock, hhmm: str) -> None:
    h, m = map(int, hhmm.split(":"))
    clock.set(datetime(2026, 11, 23, h, m, tzinfo=SH))


@pytest.fixture
def decisions(svc):
    heard: list[TidalDecided] = []
    svc.bus.subscribe(lambda e: heard.append(e) if isinstance(e, TidalDecided) else None)
    return heard


def window_state(svc) -> str:
    return next(w for w in svc.engine.load(svc.hall_id)["windows"] if w["number"] == TIDAL)["state"]


def test_scheduled_peak_opens_and_calm_closes_after_the_hysteresis(svc, clock, decisions) -> None:
    at_local(clock, "08:45")
    assert svc.tidal.tick(svc.hall_id)["open"] is False and window_state(svc) == "closed"
    at_local(clock, "09:00")
    status = svc.tidal.tick(svc.hall_id)
    assert status["open"] and window_state(svc) == "open" and status["reason"] == "scheduled peak"
    assert [d.open for d in decisions] == [True]
    at_local(clock, "10:31")  # peak over, nobody waiting: calming for 20 minutes first
    assert svc.tidal.tick(svc.hall_id)["open"] is True
    at_local(clock, "10:45")
    assert svc.tidal.tick(svc.hall_id)["open"] is True
    at_local(clock, "10:52")
    status = svc.tidal.tick(svc.hall_id)
    assert status["open"] is False and window_state(svc) == "closed" and "calm" in status["reason"]
    assert [d.open for d in decisions] == [True, False]


def test_load_opens_it_outside_the_peaks(svc, clock, kiosk, decisions) -> None:
    at_local(clock, "11:00")
    for _ in range(25):
        issue(kiosk)
    at_local(clock, "11:20")  # the first of them has waited 20 minutes (> 15)
    status = svc.tidal.tick(svc.hall_id)
    assert status["open"] and "wait" in status["reason"] and window_state(svc) == "open"
    assert decisions[-1].predicted_wait_minutes >= 0


def test_never_closes_on_a_citizen_being_served(svc, clock, kiosk, staff) -> None:
    at_local(clock, "09:00")
    svc.tidal.tick(svc.hall_id)
    issue(kiosk)
    supervisor = staff("leader")
    act(supervisor, TIDAL, "call-next")
    act(supervisor, TIDAL, "start")
    at_local(clock, "11:00")
    svc.tidal.tick(svc.hall_id)
    at_local(clock, "11:30")
    status = svc.tidal.tick(svc.hall_id)
    assert status["pending_close"] and window_state(svc) == "open", "waits for the service to end"
    act(supervisor, TIDAL, "complete")
    at_local(clock, "11:31")
    assert svc.tidal.tick(svc.hall_id)["state"] == "closed"


def test_manager_override_wins_until_auto(svc, clock, staff) -> None:
    at_local(clock, "09:10")
    manager = staff("manager")
    r = manager.post("/api/v1/hall/tidal", json={"mode": "closed"})
    assert r.status_code == 200 and r.get_json()["override"] == "closed" and r.get_json()["open"] is False
    svc.tidal.tick(svc.hall_id)
    assert window_state(svc) == "closed", "the peak does not beat the override"
    r = manager.post("/api/v1/hall/tidal", json={"mode": "auto"})
    assert r.get_json()["open"] is True and r.get_json()["override"] is None
    at_local(clock, "12:00")
    leader = staff("leader")
    assert leader.post("/api/v1/hall/tidal", json={"mode": "open"}).get_json()["open"] is True
    at_local(clock, "13:00")
    assert svc.tidal.tick(svc.hall_id)["open"] is True
    with svc.db.read() as session:
        rows = session.scalars(select(AuditEntry.after).where(AuditEntry.action == "tidal.override")).all()
    assert [after["override"] for after in rows] == ["closed", None, "open"]
    assert staff("clerk1").get("/api/v1/hall/tidal").get_json()["override"] == "open"


def test_override_is_for_supervisors_with_a_valid_mode(client, staff) -> None:
    assert client.post("/api/v1/hall/tidal", json={"mode": "open"}).status_code == 401
    assert staff("clerk1").post("/api/v1/hall/tidal", json={"mode": "open"}).status_code == 403
    bad = staff("manager").post("/api/v1/hall/tidal", json={"mode": "sideways"})
    assert bad.status_code == 422 and error_code(bad) == "invalid"
    assert client.get("/api/v1/hall/tidal").status_code == 401


def states(svc) -> dict[int, str]:
    return {w["number"]: w["state"] for w in svc.engine.load(svc.hall_id)["windows"] if w["kind"] == "tidal"}


def test_the_second_tidal_window_opens_when_the_first_is_not_enough_and_closes_first(
    svc, clock, kiosk, staff, decisions
) -> None:
    at_local(clock, "09:00")
    for _ in range(25):
        issue(kiosk, ["YB001"])
    status = svc.tidal.tick(svc.hall_id)
    assert states(svc) == {6: "open", 9: "closed"} and [w["window"] for w in status["windows"]] == [6, 9]
    at_local(clock, "09:16")  # the first has waited 16 minutes, but window 6 has been open only since 09:00 …
    svc.tidal.tick(svc.hall_id)
    assert states(svc)[9] == "open", "… for over stage_after_minutes (10): the second stage opens"
    status = svc.tidal.tick(svc.hall_id)
    assert status["window"] == 6 and status["windows"][1]["open"] and "above 15" in status["windows"][1]["reason"]
    manager = staff("manager")
    for _ in range(25):  # everyone is served
        act(manager, 1, "call-next")
        act(manager, 1, "start")
        act(manager, 1, "complete")
    at_local(clock, "10:40")  # peak over, nobody waiting: window 9 calms and closes first
    svc.tidal.tick(svc.hall_id)
    at_local(clock, "11:00")
    svc.tidal.tick(svc.hall_id)
    assert states(svc) == {6: "open", 9: "closed"}
    at_local(clock, "11:19")
    assert svc.tidal.tick(svc.hall_id)["open"] is True, "window 6's calm is counted from when 9 closed"
    at_local(clock, "11:20")
    assert svc.tidal.tick(svc.hall_id)["open"] is False and states(svc) == {6: "closed", 9: "closed"}
    assert [(d.window, d.open) for d in decisions] == [(6, True), (9, True), (9, False), (6, False)]


def test_override_moves_every_tidal_window(svc, clock, staff) -> None:
    at_local(clock, "12:00")
    r = staff("manager").post("/api/v1/hall/tidal", json={"mode": "open"})
    assert r.status_code == 200 and [w["open"] for w in r.get_json()["windows"]] == [True, True]
    assert states(svc) == {6: "open", 9: "open"}
    r = staff("manager").post("/api/v1/hall/tidal", json={"mode": "auto"})
    assert r.get_json()["override"] is None


def test_the_service_time_estimate_follows_the_queues_that_people_join(svc, clock, kiosk) -> None:
    at_local(clock, "11:00")
    window = svc.tidal.window(svc.hall_id)
    assert svc.tidal.measure(svc.hall_id, window).mean_service_minutes == pytest.approx((6 + 12 + 7) / 3)
    for _ in range(3):
        issue(kiosk, ["YB001"])  # queue A, 6 minutes
    issue(kiosk, ["YB008"])  # queue B, 12 minutes
    load = svc.tidal.measure(svc.hall_id, window)
    assert load.mean_service_minutes == pytest.approx((3 * 6 + 12) / 4) and load.arrivals_per_hour == 8
