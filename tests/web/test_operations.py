"""What the daily jobs do (hall.operations) and the duty roster API, on the injected FakeClock (Mon 2026-11-23)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hall.models import AuditEntry, Booking, Period, Ticket
from hall.operations import service_limit_minutes, settings_of
from tests.factories import act, error_code, issue

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture
def ops(app):
    return app.extensions["hall.operations"]


def open_alerts(svc, kind: str) -> list[dict]:
    return [a for a in svc.alerts.open_alerts(svc.hall_id) if a["kind"] == kind]


# --- 限时办结 watcher ---------------------------------------------------------------------------------
def test_the_watcher_raises_and_clears_an_over_time_service(svc, ops, clock, kiosk, staff) -> None:
    clerk = staff("clerk2")
    t = issue(kiosk, ["YB008"])  # 医疗费用零星报销: its own limit, 40 minutes (hall config)
    act(clerk, 2, "call-next")
    act(clerk, 2, "start")
    clock.advance(minutes=40)
    assert ops.watch(svc.hall_id)["over"] == 0 and not open_alerts(svc, "service_overtime")
    clock.advance(minutes=1)
    result = ops.watch(svc.hall_id)
    assert result["raised"] == [t["number"]]
    [alert] = open_alerts(svc, "service_overtime")
    assert alert["source"] == f"ticket:{t['id']}" and "2号窗口" in alert["message"] and "40分钟" in alert["message"]
    assert ops.watch(svc.hall_id)["raised"] == []  # still over: one alert, not one per minute
    act(clerk, 2, "complete")
    assert ops.watch(svc.hall_id)["cleared"] == 1
    assert not open_alerts(svc, "service_overtime")


def test_a_parked_ticket_past_its_deadline_raises_until_it_resumes(svc, ops, clock, kiosk, staff) -> None:
    clerk = staff("clerk3")
    t = issue(kiosk)
    act(clerk, 3, "call-next"), act(clerk, 3, "start")
    act(clerk, 3, "park", missing=["户口簿原件"], days=1)
    assert ops.watch(svc.hall_id)["over"] == 0  # parking ended the service: no over-time either
    clock.advance(days=1, minutes=1)
    ops.watch(svc.hall_id)
    [alert] = open_alerts(svc, "parked_overdue")
    assert t["number"] in alert["message"] and "逾期" in alert["message"]
    act(clerk, 3, "resume", ticket=t["id"])
    ops.watch(svc.hall_id)
    assert not open_alerts(svc, "parked_overdue")


def test_time_limits_from_service_minutes_or_per_item() -> None:
    conf = settings_of({"operations": {"time_limit_minutes": {"YB008": 40}}})
    assert service_limit_minutes([("YB001", 5)], conf) == 15  # 3 × 5, and the 15-minute floor
    assert service_limit_minutes([("YB009", 8)], conf) == 24
    assert service_limit_minutes([("YB008", 12)], conf) == 40
    assert service_limit_minutes([("YB009", 8), ("RS001", 6)], conf) == 42  # 一件事: both items' limits


# --- closing -----------------------------------------------------------------------------------------
def test_closing_ends_every_open_ticket_with_its_outcome_and_stores_the_report(
    app, svc, ops, clock, kiosk, staff, client
) -> None:
    clerk1, clerk2, clerk3 = staff("clerk1"), staff("clerk2"), staff("clerk3")
    done, serving, called, parked, waiting = (issue(kiosk) for _ in range(5))
    act(clerk1, 1, "call-next"), act(clerk1, 1, "start"), act(clerk1, 1, "complete")
    act(clerk1, 1, "call-next"), act(clerk1, 1, "start")
    act(clerk2, 2, "call-next")
    act(clerk3, 3, "call-next"), act(clerk3, 3, "start"), act(clerk3, 3, "park", missing=["发票原件"])
    booked = client.post(
        "/api/v1/appointments",
        json={"item": "YB001", "slot_start": "2026-11-23T10:00:00+08:00", "id_number": "110101195001011239"},
    )
    assert booked.status_code == 201, booked.get_json()

    clock.set(local(2026, 11, 23, 17, 30))
    result = ops.closing(svc.hall_id)
    assert result == {
        "job": "closing",
        "day": "2026-11-23",
        "status": "done",
        "ended_by_reset": 4,
        "booking_no_shows": 1,
        "windows_closed": True,
    }
    with svc.db.read() as s:
        status = {t.number: t.status for t in s.scalars(select(Ticket))}
        ended = s.scalars(select(Period).where(Period.state == "ended_by_reset")).all()
        assert len(ended) == 4 and all(p.started_at == clock.now() for p in ended)  # recorded, not deleted
        assert s.scalar(select(Booking.status)) == "no_show"
    assert status[done["number"]] == "completed"
    assert {status[t["number"]] for t in (serving, called, parked, waiting)} == {"ended_by_reset"}
    assert {w["state"] for w in svc.engine.load(svc.hall_id)["windows"]} == {"closed"}
    assert ops.closing(svc.hall_id)["reason"] == "already done for this day"  # never twice

    manager = staff("manager")
    reports = manager.get("/api/v1/day-reports?day=2026-11-23").get_json()["reports"]
    [report] = reports
    assert report["report"]["ended_by_reset"] == 4 and report["report"]["day"] == "2026-11-23"
    assert report["report"]["outcomes"]
    month = manager.get("/api/v1/day-reports?month=2026-11").get_json()
    assert [r["day"] for r in month["reports"]][-1] == "2026-11-23" and month["from"] == "2026-11-01"
    runs = manager.get("/api/v1/operations/runs?day=2026-11-23").get_json()["runs"]
    assert [(r["job"], r["status"]) for r in runs] == [("closing", "done")]


def test_a_late_close_while_the_hall_is_open_again_ends_only_that_day(svc, ops, clock, kiosk, staff) -> None:
    monday = issue(kiosk)
    clock.set(local(2026, 11, 24, 10, 0))  # the server was down over Monday's close
    tuesday = issue(kiosk)
    result = ops.closing(svc.hall_id)
    assert (result["day"], result["ended_by_reset"], result["windows_closed"]) == ("2026-11-23", 1, False)
    with svc.db.read() as s:
        status = {t.id: (t.day, t.status) for t in s.scalars(select(Ticket))}
    assert status[monday["id"]] == (date(2026, 11, 23), "ended_by_reset")
    assert status[tuesday["id"]] == (date(2026, 11, 24), "waiting")
    assert act(staff("clerk1"), 1, "call-next")["ticket"]["number"] == tuesday["number"]  # windows still open


def test_open_all_hours_never_closes_unless_forced(app, svc, ops, clock) -> None:
    svc.engine.enforce_hours = False
    clock.set(local(2026, 11, 23, 18, 0))
    assert "never closes" in ops.closing(svc.hall_id)["reason"]
    assert ops.closing(svc.hall_id, force=True)["status"] == "done"


# --- opening and device check --------------------------------------------------------------------
def test_opening_opens_the_configured_windows_and_shows_the_duty(app, svc, ops, clock, staff) -> None:
    manager = staff("manager")
    for n in (1, 2, 7):
        act(manager, n, "close")
    display = app.extensions["hall.socketio"].test_client(app, namespace="/display")
    display.get_received("/display")
    clock.set(local(2026, 11, 23, 8, 30))
    result = ops.opening(svc.hall_id)
    assert result["opened"] == [1, 2, 7] and result["leader"] == "林晓燕" and result["clerk"] == "张敏"
    states = {w["number"]: w["state"] for w in svc.engine.load(svc.hall_id)["windows"]}
    assert states[6] == "closed"  # the tidal window follows its own rule
    pushed = [m["args"][0] for m in display.get_received("/display") if m["name"] == "roster"]
    assert pushed == [{"day": "2026-11-23", "leader": "林晓燕", "clerk": "张敏"}]
    clock.set(local(2026, 11, 28, 8, 30))  # Saturday
    assert "not a working day" in ops.opening(svc.hall_id)["reason"]


def test_the_device_check_records_results_and_alerts_when_a_check_fails(app, svc, ops, clock) -> None:
    calls = []

    class Serial:
        def check(self, hall_id: int) -> dict[str, str]:
            calls.append(hall_id)
            raise OSError("RS-485 adapter missing")

    app.extensions["hall.devices"] = Serial()
    app.extensions["hall.printing"].check = lambda hall_id: {"kiosk-1": "ok", "kiosk-2": "paper_out"}
    result = ops.device_check(svc.hall_id)
    assert calls == [svc.hall_id] and result["status"] == "done"
    assert result["devices"]["printers"] == {"kiosk-1": "ok", "kiosk-2": "paper_out"}
    assert result["problems"] == ["kiosk-2: paper_out"]
    [failed] = open_alerts(svc, "device_check_failed")
    assert "RS-485" in failed["message"]
    del app.extensions["hall.devices"]
    assert ops.device_check(svc.hall_id, force=True)["errors"] == []
    assert not open_alerts(svc, "device_check_failed")
    assert ops.runs(svc.hall_id, date(2026, 11, 23))[0]["runs"] == 2


def test_a_failing_job_is_recorded_alerted_and_may_run_again(app, svc, ops, monkeypatch) -> None:
    monkeypatch.setattr(ops, "_open", lambda hall_id, today: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        ops.opening(svc.hall_id)
    assert ops.runs(svc.hall_id, date(2026, 11, 23))[0]["status"] == "failed"
    assert open_alerts(svc, "job_failed")[0]["source"] == "job:opening"
    monkeypatch.undo()
    assert ops.opening(svc.hall_id)["status"] == "done"  # a failed run does not block the retry
    assert not open_alerts(svc, "job_failed")


# --- duty roster -----------------------------------------------------------------------------------
def test_the_roster_is_filled_from_the_config_on_working_days_only(app, svc, staff) -> None:
    assert app.extensions["hall.roster"].fill_month(svc.hall_id, date(2026, 10, 1)) == 18  # 国庆 month
    days = staff("clerk1").get("/api/v1/roster?month=2026-10").get_json()["days"]
    by_day = {d["day"]: d for d in days}
    assert by_day["2026-10-01"]["working"] is False and by_day["2026-10-01"]["leader"] is None  # 国庆
    assert by_day["2026-10-10"]["kind"] == "adjusted_workday" and by_day["2026-10-10"]["leader"]  # 调休
    working = [d for d in days if d["working"]]
    assert all(d["leader"] and d["clerk"] and len(d["guides"]) == 1 for d in working)
    assert [d["leader"]["username"] for d in working[:3]] == ["leader", "manager", "leader"]
    assert [d["clerk"]["username"] for d in working[:6]] == ["clerk1", "clerk2", "clerk3", "clerk4", "clerk5", "clerk1"]


def test_managers_edit_the_roster_audited_and_the_display_follows(app, svc, staff) -> None:
    manager = staff("manager")
    display = app.extensions["hall.socketio"].test_client(app, namespace="/display")
    snapshot = next(m["args"][0] for m in display.get_received("/display") if m["name"] == "snapshot")
    assert snapshot["roster"] == {"day": "2026-11-23", "leader": "林晓燕", "clerk": "张敏"}
    body = {
        "days": [
            {"day": "2026-11-23", "leader": "leader", "clerk": "clerk4", "guides": [{"name": "王小明"}]},
            {"day": "2026-11-24", "clerk": None},
        ]
    }
    r = manager.put("/api/v1/roster?month=2026-11", json=body)
    assert r.status_code == 200, r.get_json()
    days = {d["day"]: d for d in r.get_json()["days"]}
    assert days["2026-11-23"]["leader"] == {"username": "leader", "name": "周国平"}
    assert days["2026-11-23"]["guides"] == [{"username": None, "name": "王小明"}]
    assert days["2026-11-24"]["clerk"] is None and days["2026-11-24"]["leader"]  # omitted keys stay
    pushed = [m["args"][0] for m in display.get_received("/display") if m["name"] == "roster"]
    assert pushed == [{"day": "2026-11-23", "leader": "周国平", "clerk": "刘芳"}]
    today = staff("clerk1").get("/api/v1/roster/today").get_json()
    assert today["clerk"]["name"] == "刘芳"
    with svc.db.read() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "roster.update")).one()
        assert (audit.actor, audit.target) == ("manager", "2026-11")
        assert audit.before["2026-11-23"]["clerk"] == "张敏" and audit.after["2026-11-23"]["clerk"] == "刘芳"
    page = app.test_client().get("/display/hall").get_data(as_text=True)
    assert 'id="duty-leader"' in page and "值班领导" in page


@pytest.mark.parametrize(
    ("who", "query", "body", "status", "code"),
    [
        ("clerk1", "month=2026-11", {"days": [{"day": "2026-11-23", "leader": "leader"}]}, 403, "forbidden_role"),
        ("leader", "month=2026-11", {"days": [{"day": "2026-11-23", "leader": "leader"}]}, 403, "forbidden_role"),
        ("manager", "month=2026-11", {"days": [{"day": "2026-11-22", "leader": "leader"}]}, 409, "not_working_day"),
        ("manager", "month=2026-11", {"days": [{"day": "2026-12-01", "leader": "leader"}]}, 422, "day_outside_month"),
        ("manager", "month=2026-11", {"days": [{"day": "2026-11-23", "leader": "clerk1"}]}, 422, "not_a_leader"),
        ("manager", "month=2026-11", {"days": [{"day": "2026-11-23", "clerk": "nobody"}]}, 422, "unknown_user"),
        ("manager", "month=2026-11", {"days": [{"day": "2026-11-23", "guides": [{}]}]}, 422, "guide_without_name"),
        ("manager", "month=2026-13", {"days": [{"day": "2026-11-23", "leader": "leader"}]}, 422, "invalid"),
        ("manager", "month=2026-11", {"days": [{"day": "2026-11-23", "boss": "leader"}]}, 422, "invalid"),
        ("manager", "month=2026-11", {"days": []}, 422, "invalid"),
    ],
)
def test_roster_edits_are_checked(staff, who, query, body, status, code) -> None:
    r = staff(who).put(f"/api/v1/roster?{query}", json=body)
    assert r.status_code == status, r.get_json()
    assert error_code(r) == code


def test_the_roster_fills_each_month_once(app, svc, ops, clock, staff) -> None:
    manager = staff("manager")
    r = manager.put("/api/v1/roster?month=2026-12", json={"days": [{"day": "2026-12-01", "leader": None}]})
    assert r.status_code == 200
    clock.set(local(2026, 12, 1, 8, 30))
    ops.opening(svc.hall_id)  # fills January; December was filled already and keeps the manager's gap
    december = {d["day"]: d for d in manager.get("/api/v1/roster?month=2026-12").get_json()["days"]}
    assert december["2026-12-01"]["leader"] is None
    january = manager.get("/api/v1/roster?month=2027-01").get_json()["days"]
    assert any(d["leader"] for d in january if d["working"])
