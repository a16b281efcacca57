"""The daily rhythm through real APScheduler triggers, job store, misfire grace and coalescing on a fake clock.

APScheduler reads the time with ``datetime.now``; the tests point that at the injected FakeClock and drive a
``SteppedScheduler`` (jobs run in the test's thread when due), moving the clock from one due time to the next.
The job store is the test's real SQLite file, so a "restart" is a second scheduler instance on the same file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from sqlalchemy import func, select, text

from hall import scheduler
from hall.clock import FakeClock
from hall.models import DayReport, JobRun, Ticket
from tests.conftest import login
from tests.factories import act, issue

SH = ZoneInfo("Asia/Shanghai")
DAILY = ("device_check", "opening", "closing")


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time."""
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture
def apscheduler_on(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """APScheduler's idea of "now" is the test's FakeClock (its only clock reads are datetime.now)."""

    class Now:
        @staticmethod
        def now(tz=None):  # noqa: ANN001, ANN205 - mirrors datetime.now
            t = clock.now()
            return t.astimezone(tz) if tz else t.replace(tzinfo=None)

    monkeypatch.setattr("apscheduler.schedulers.base.datetime", Now)
    monkeypatch.setattr("apscheduler.executors.base.datetime", Now)
    return clock


@dataclass
class Run:
    """What one scheduler instance did."""

    svc: object
    hs: scheduler.HallScheduler
    clock: FakeClock
    fired: list[tuple[str, str, datetime, object]] = field(default_factory=list)  # (job, event, scheduled, result)

    def until(self, end: datetime) -> None:
        """Let time pass up to ``end``, running every job when it falls due."""
        while True:
            wait = self.hs.scheduler.step()
            if wait is None:
                break
            nxt = self.clock.now() + timedelta(seconds=wait)
            if nxt > end:
                break
            self.clock.set(max(nxt, self.clock.now() + timedelta(microseconds=1)) if wait == 0 else nxt)
        self.clock.set(end)
        self.hs.scheduler.step()

    def times(self, job: str, status: str | None = None) -> list[str]:
        """Local ``MM-DD HH:MM`` of the executed runs of a job (optionally only results with ``status``)."""
        return [
            f"{at.astimezone(SH):%m-%d %H:%M}"
            for name, kind, at, result in self.fired
            if name == job and kind == "executed" and (status is None or (result or {}).get("status") == status)
        ]

    def stop(self) -> None:
        """Shut down (the job store keeps the jobs)."""
        self.hs.shutdown()


@pytest.fixture
def start(app, svc, apscheduler_on) -> Iterator:
    """Factory: a new scheduler instance on the test's database, started at the clock's current time."""
    runs: list[Run] = []
    scheduler.bind(app.extensions["hall.operations"])

    def make(jobs: tuple[str, ...] | None = None, *, every: int = 60) -> Run:
        ref = svc.engine.reference(svc.hall_id)
        settings = {**ref.settings, "operations": {**ref.settings["operations"], "watch_seconds": every}}
        specs = scheduler.job_specs(svc.hall_code, svc.hall_id, settings, ref.timezone, tidal_seconds=every)
        specs = [s for s in specs if jobs is None or s.job in jobs]
        hs = scheduler.HallScheduler(
            svc.db, specs, timezone=ref.timezone, scheduler=scheduler.SteppedScheduler(), clock=svc.clock
        )
        run = Run(svc, hs, svc.clock)

        def listen(event) -> None:  # noqa: ANN001
            kind = {EVENT_JOB_EXECUTED: "executed", EVENT_JOB_MISSED: "missed", EVENT_JOB_ERROR: "error"}[event.code]
            result = getattr(event, "retval", None)
            run.fired.append((event.job_id.split(":", 1)[1], kind, event.scheduled_run_time, result))

        hs.scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        assert hs.start()
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.stop()
    scheduler.bind(None)


def ledger(svc, day: date) -> dict[str, tuple[str, int]]:
    with svc.db.read() as s:
        rows = s.scalars(select(JobRun).where(JobRun.day == day)).all()
        return {r.job: (r.status, r.runs) for r in rows}


def test_a_working_day_runs_every_job_at_its_time(app, svc, clock, start, kiosk) -> None:
    clock.set(local(2026, 11, 23))  # Monday 00:00
    run = start(every=300)  # the periodic jobs every 5 minutes here (every minute: the next test)
    run.until(local(2026, 11, 23, 9, 10))
    a, b, c = (issue(kiosk) for _ in range(3))
    clerk = login(app, "clerk1")
    assert act(clerk, 1, "call-next")["ticket"]["number"] == a["number"]
    act(clerk, 1, "start")
    run.until(local(2026, 11, 23, 9, 40))  # a 5-minute item served for 30 minutes: over its 15-minute limit
    over = [x for x in svc.alerts.open_alerts(svc.hall_id) if x["kind"] == "service_overtime"]
    assert [x["details"]["number"] for x in over] == [a["number"]]
    assert datetime.fromisoformat(over[0]["raised_at"]) == local(2026, 11, 23, 9, 30)  # first check past 15 min
    act(clerk, 1, "complete")
    run.until(local(2026, 11, 24))  # the rest of the day, through the close, to midnight

    assert run.times("opening") == ["11-23 08:30"]
    assert run.times("device_check") == ["11-23 08:50"]
    assert run.times("closing") == ["11-23 17:30"]
    assert all(kind == "executed" for _, kind, _, _ in run.fired)
    assert len(run.times("tidal_tick")) == len(run.times("time_limit_watch")) == 24 * 12 + 1  # 00:00 … 24:00
    acted = run.times("tidal_tick", "done")  # the tidal rule acts only while the hall is open (08:30–17:30)
    assert (acted[0], acted[-1], len(acted)) == ("11-23 08:30", "11-23 17:25", 9 * 12)
    assert not [x for x in svc.alerts.open_alerts(svc.hall_id) if x["kind"] == "service_overtime"]  # cleared
    with svc.db.read() as s:
        statuses = dict(s.execute(select(Ticket.number, Ticket.status)).all())
        report = s.scalar(select(DayReport).where(DayReport.day == date(2026, 11, 23)))
        assert report is not None and report.report["ended_by_reset"] == 2
    assert statuses == {a["number"]: "completed", b["number"]: "ended_by_reset", c["number"]: "ended_by_reset"}
    assert {w["state"] for w in svc.engine.load(svc.hall_id)["windows"]} == {"closed"}
    assert ledger(svc, date(2026, 11, 23)) == {j: ("done", 1) for j in DAILY}


def test_the_periodic_jobs_run_every_minute(svc, clock, start) -> None:
    clock.set(local(2026, 11, 23, 8, 25))
    run = start(("tidal_tick", "time_limit_watch"))
    run.until(local(2026, 11, 23, 8, 35))
    minutes = [f"11-23 08:{m}" for m in range(25, 36)]  # on the minute, from the start on
    assert run.times("tidal_tick") == minutes and run.times("time_limit_watch") == minutes
    assert run.times("tidal_tick", "done") == minutes[5:]  # from the 08:30 opening on


def test_holidays_skip_and_the_adjusted_working_day_acts(svc, clock, start) -> None:
    # Wed 30 Sep 2026 (延时服务 to 19:00), 国庆 1–7 Oct, Thu/Fri 8–9 Oct, Sat 10 Oct 调休 (a working day), Sun 11.
    clock.set(local(2026, 9, 30))
    run = start(DAILY)
    run.until(local(2026, 10, 12))
    days = ["09-30", "10-08", "10-09", "10-10"]
    assert run.times("opening") == [f"{d} 08:30" for d in days]
    assert run.times("device_check") == [f"{d} 08:50" for d in days]
    assert run.times("closing") == ["09-30 19:00", "10-08 17:30", "10-09 17:30", "10-10 17:30"]
    assert {r["status"] for _, _, _, r in run.fired} == {"done"}  # every run acted; nothing fired on a holiday
    with svc.db.read() as s:
        reports = s.scalars(select(DayReport.day).order_by(DayReport.day)).all()
    assert [f"{d:%m-%d}" for d in reports] == days


def test_a_restart_in_the_middle_of_the_day_neither_loses_nor_duplicates_a_job(svc, clock, start) -> None:
    clock.set(local(2026, 11, 23, 8, 0))
    first = start(DAILY)
    first.until(local(2026, 11, 23, 8, 40))  # opening ran at 08:30; then the server goes down
    first.stop()
    assert first.times("opening") == ["11-23 08:30"] and first.times("device_check") == []

    clock.set(local(2026, 11, 23, 9, 10))  # back 20 minutes after the 08:50 device check was due
    second = start(DAILY)
    second.until(local(2026, 11, 23, 18, 0))
    second.stop()
    assert second.times("device_check") == ["11-23 08:50"]  # the missed run, once, at start-up
    assert second.times("opening") == []  # not again
    assert second.times("closing") == ["11-23 17:30"]

    clock.set(local(2026, 11, 23, 18, 10))  # a third start after the close: nothing is due again today
    third = start(DAILY)
    third.until(local(2026, 11, 23, 23, 0))
    assert third.fired == []
    assert ledger(svc, date(2026, 11, 23)) == {j: ("done", 1) for j in DAILY}
    with svc.db.read() as s:  # the jobs live in the database file, not in a process
        assert s.scalar(text("SELECT count(*) FROM apscheduler_jobs")) == 3


def test_a_missed_run_runs_only_while_it_still_makes_sense(svc, clock, start) -> None:
    clock.set(local(2026, 11, 23, 8, 0))
    start(DAILY).stop()  # jobs stored at 08:00; the server is down all day
    clock.set(local(2026, 11, 23, 18, 0))
    late = start(DAILY)
    late.until(local(2026, 11, 23, 18, 5))
    results = {job: (kind, (r or {}).get("status")) for job, kind, _, r in late.fired}
    assert results["opening"] == ("executed", "skipped")  # within its grace, but opening after closing means nothing
    assert results["device_check"] == ("missed", None)  # 9 hours late: beyond its 8-hour grace
    assert results["closing"] == ("executed", "done")  # the day still gets closed and reported
    assert ledger(svc, date(2026, 11, 23)) == {"closing": ("done", 1)}


def test_coalesced_and_out_of_grace_runs(svc, clock, start) -> None:
    clock.set(local(2026, 11, 23, 12, 0))
    start(DAILY).stop()
    clock.set(local(2026, 11, 30, 8, 0))  # a week later, Monday before opening: four days of runs were missed
    back = start(DAILY)
    back.until(local(2026, 11, 30, 9, 0))
    seen = {
        job: [(kind, f"{at.astimezone(SH):%m-%d %H:%M}") for j, kind, at, _ in back.fired if j == job] for job in DAILY
    }
    # coalesced: one run for five missed closings — Friday's, 62.5 hours late, inside the 3-day grace
    assert seen["closing"] == [("executed", "11-27 17:30")]
    # Friday's opening and device check are 71 hours late, beyond their grace; today's run on time
    assert seen["opening"] == [("missed", "11-27 08:30"), ("executed", "11-30 08:30")]
    assert seen["device_check"] == [("missed", "11-27 08:50"), ("executed", "11-30 08:50")]
    with svc.db.read() as s:
        assert s.scalars(select(DayReport.day)).all() == [date(2026, 11, 27)]


def test_a_changed_time_updates_the_stored_job(app, svc, clock, start) -> None:
    clock.set(local(2026, 11, 23, 7, 0))
    start(DAILY).stop()
    ref = svc.engine.reference(svc.hall_id)
    settings = {**ref.settings, "operations": {**ref.settings.get("operations", {}), "device_check_at": "08:15"}}
    specs = scheduler.job_specs(svc.hall_code, svc.hall_id, settings, ref.timezone)
    hs = scheduler.HallScheduler(svc.db, specs, scheduler=scheduler.SteppedScheduler(), clock=svc.clock)
    hs.scheduler.start(paused=True)
    try:
        changes = hs.sync()
        jobs = {j["job"]: j for j in hs.jobs()}
    finally:
        hs.scheduler.shutdown()
    assert changes[f"{svc.hall_code}:device_check"] == "updated"
    assert changes[f"{svc.hall_code}:opening"] == "kept"
    assert changes[f"{svc.hall_code}:tidal_tick"] == "added"
    assert jobs["device_check"]["next_run_time"] == "2026-11-23T08:15:00+08:00"


def test_one_scheduler_per_process(svc) -> None:
    ref = svc.engine.reference(svc.hall_id)
    specs = scheduler.job_specs(svc.hall_code, svc.hall_id, ref.settings, ref.timezone)
    first = scheduler.HallScheduler(svc.db, specs)  # a real BackgroundScheduler
    second = scheduler.HallScheduler(svc.db, specs)
    try:
        assert first.start()
        assert first.running
        assert not second.start()  # refused: this process already runs one
        assert not second.running
        assert {j["job"] for j in first.jobs()} == {*DAILY, "tidal_tick", "time_limit_watch"}
    finally:
        first.shutdown()
        second.shutdown()
    assert not first.running


@pytest.mark.parametrize(
    ("config", "environ", "expected"),
    [
        ({"SCHEDULER": True}, {}, True),
        ({"SCHEDULER": False}, {}, False),  # HALL_SCHEDULER=0: another process runs it
        ({"SCHEDULER": True, "TESTING": True}, {}, False),
        ({"SCHEDULER": True}, {"FLASK_RUN_FROM_CLI": "true"}, False),  # flask db upgrade, flask hall jobs, …
        ({}, {"HALL_SCHEDULER": "0"}, False),
        ({}, {}, True),
    ],
)
def test_who_starts_the_scheduler(config, environ, expected) -> None:
    assert scheduler.should_start(config, environ) is expected


def test_the_test_app_does_not_start_a_scheduler(app) -> None:
    assert not app.extensions["hall.scheduler"].running


def test_day_trigger_follows_the_calendar() -> None:
    hours = {"weekdays": [["08:30", "12:00"], ["14:00", "17:30"]], "extended": [{"weekday": 3, "until": "19:00"}]}
    close = scheduler.HallDayTrigger("close", hours)
    at = scheduler.HallDayTrigger("at", hours, at="08:50")
    fri = local(2026, 11, 27, 18, 0)
    assert close.get_next_fire_time(None, fri) == local(2026, 11, 30, 17, 30)  # over the weekend
    assert close.get_next_fire_time(None, local(2026, 11, 25, 18, 0)) == local(2026, 11, 25, 19, 0)  # 延时服务
    assert at.get_next_fire_time(None, local(2026, 9, 30, 9, 0)) == local(2026, 10, 8, 8, 50)  # 国庆
    # the missed runs between a previous fire time and now, one per working day
    assert close.get_next_fire_time(local(2026, 11, 23, 17, 30), fri) == local(2026, 11, 24, 17, 30)
    clone = scheduler.HallDayTrigger.__new__(scheduler.HallDayTrigger)
    clone.__setstate__(close.__getstate__())
    assert clone.key == close.key and str(clone) == "working days at final closing"
    with pytest.raises(ValueError):
        scheduler.HallDayTrigger("at", hours, at="8.50")


def test_jobs_and_run_job_commands(app, svc, clock, apscheduler_on) -> None:
    runner = app.test_cli_runner()
    out = runner.invoke(args=["hall", "jobs"]).output  # Monday 09:00
    nxt = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert nxt == {
        "tidal_tick": "2026-11-23T09:00:00+08:00",  # on the minute: due now
        "time_limit_watch": "2026-11-23T09:00:00+08:00",
        "closing": "2026-11-23T17:30:00+08:00",
        "opening": "2026-11-24T08:30:00+08:00",
        "device_check": "2026-11-24T08:50:00+08:00",
    }
    assert "working days at 08:50" in out
    done = runner.invoke(args=["hall", "run-job", "opening"])
    assert done.exit_code == 0 and '"status": "done"' in done.output
    again = runner.invoke(args=["hall", "run-job", "opening"])
    assert '"status": "skipped"' in again.output and "already done" in again.output
    forced = runner.invoke(args=["hall", "run-job", "opening", "--force"])
    assert '"status": "done"' in forced.output
    assert ledger(svc, date(2026, 11, 23))["opening"] == ("done", 2)
    bad = runner.invoke(args=["hall", "run-job", "lunch"])
    assert bad.exit_code != 0 and "unknown job" in bad.output
    with svc.db.read() as s:
        assert s.scalar(select(func.count()).select_from(JobRun)) >= 1
