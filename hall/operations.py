"""The hall's daily rhythm as plain functions over the services: what each scheduled job does when it runs.

hall.scheduler decides *when* (APScheduler, persistent job store); this module decides *whether* a run is
still meaningful and *what* it does, so the same code runs from the scheduler, from ``flask hall run-job``
and from tests driving a fake clock.

- ``device_check``  before opening (08:50 by default): every printer and, when present, the serial devices.
- ``opening``       at the first opening time: the configured windows open, the month's roster is filled.
- ``tidal_tick``    every minute while the hall is open: the tidal window rule (hall.tidal_live).
- ``time_limit_watch`` every minute: services running past their time limit and parked (容缺) tickets past
  their deadline raise alerts, which clear once resolved.
- ``closing``       at the final closing time: every open ticket ends ``ended_by_reset``, windows close,
  unused bookings become no-shows, and the day's report is stored.

Daily jobs write a ledger row (``job_runs``: hall, job, day) before acting, so a job never acts twice on a
day — not after a restart, not when two processes run schedulers by mistake. Core module: no Flask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from hall import numbering, schedule
from hall.alerts import Alerts
from hall.appointments import Appointments
from hall.engine import Actor, Engine
from hall.errors import Conflict, HallError
from hall.events import RosterChanged
from hall.lifecycle import State
from hall.models import DayReport, JobRun, Ticket
from hall.roster import Roster, next_month
from hall.tidal_live import TidalController

log = logging.getLogger(__name__)

DAILY_JOBS = ("device_check", "opening", "closing")
INTERVAL_JOBS = ("tidal_tick", "time_limit_watch")
JOBS = ("device_check", "opening", "tidal_tick", "time_limit_watch", "closing")
JOB_LABELS = {
    "device_check": "开门前设备检查",
    "opening": "开门",
    "tidal_tick": "潮汐窗口规则",
    "time_limit_watch": "限时办结监控",
    "closing": "日终清零与日报",
}
DEFAULTS: dict[str, Any] = {
    "device_check_at": "08:50",  # seed 001: the duty clerk makes sure every device runs by 08:50
    "open_windows": None,  # window numbers opened at opening; None = every window except tidal ones
    "watch_seconds": 60,
    # A service is over time when it runs longer than factor × its items' service minutes (at least the
    # minimum); time_limit_minutes = {item code = minutes} replaces the product for single items.
    "overtime_factor": 3.0,
    "overtime_min_minutes": 15,
    "time_limit_minutes": {},
}
SERVICE_OVERTIME = "service_overtime"
PARKED_OVERDUE = "parked_overdue"
JOB_FAILED = "job_failed"
DEVICE_CHECK_FAILED = "device_check_failed"
STALE_RUNNING = timedelta(minutes=30)  # a "running" ledger row older than this was a crashed run
ROSTER_FILL = "roster_fill"

DeviceChecks = Callable[[], dict[str, Callable[[int], Any]]]


def settings_of(hall_settings: dict[str, Any]) -> dict[str, Any]:
    """The hall's ``[hall.settings.operations]`` over the defaults."""
    return {**DEFAULTS, **(hall_settings.get("operations") or {})}


def validate_settings(data: dict[str, Any], where: str = "config") -> list[str]:
    """Problems with ``[hall.settings.operations]`` of a hall config (times, windows, numbers)."""
    raw = ((data.get("hall") or {}).get("settings") or {}).get("operations") or {}
    problems = []
    try:
        schedule.parse_time(str(raw.get("device_check_at", DEFAULTS["device_check_at"])))
    except ValueError:
        problems.append(f"{where}: operations.device_check_at must be HH:MM")
    windows = {w.get("number") for w in data.get("windows", [])}
    for number in raw.get("open_windows") or []:
        if number not in windows:
            problems.append(f"{where}: operations.open_windows names unknown window {number}")
    items = {i.get("code") for i in data.get("items", [])}
    for code, minutes in (raw.get("time_limit_minutes") or {}).items():
        if code not in items or not isinstance(minutes, int | float) or minutes <= 0:
            problems.append(f"{where}: operations.time_limit_minutes.{code} needs a known item and minutes > 0")
    for key in ("overtime_factor", "overtime_min_minutes", "watch_seconds"):
        if key in raw and (not isinstance(raw[key], int | float) or raw[key] < 0):
            problems.append(f"{where}: operations.{key} must be a number ≥ 0")
    return problems


def job_source(name: str) -> str:
    """The alert source naming a scheduled job."""
    return f"job:{name}"


def ticket_source(ticket_id: int) -> str:
    """The alert source naming a ticket."""
    return f"ticket:{ticket_id}"


def service_limit_minutes(items: list[tuple[str, float]], conf: dict[str, Any]) -> float:
    """A service's time limit at the window: per item its own limit or factor × service minutes, summed."""
    per_item = conf.get("time_limit_minutes") or {}
    factor = float(conf["overtime_factor"])
    total = sum(float(per_item.get(code, minutes * factor)) for code, minutes in items)
    return max(total, float(conf["overtime_min_minutes"]))


class Operations:
    """Runs the daily jobs of one process's halls against the engine and the alerts."""

    def __init__(
        self,
        engine: Engine,
        alerts: Alerts,
        appointments: Appointments,
        tidal: TidalController,
        roster: Roster,
        *,
        device_checks: DeviceChecks | None = None,
    ) -> None:
        self.engine = engine
        self.db = engine.db
        self.clock = engine.clock
        self.alerts = alerts
        self.appointments = appointments
        self.tidal = tidal
        self.roster = roster
        self.device_checks = device_checks or dict

    # --- calendar helpers ------------------------------------------------------------------------
    def _hours(self, hall_id: int) -> schedule.Hours:
        ref = self.engine.reference(hall_id)
        return schedule.parse_hours(ref.settings.get("hours"), ref.timezone)

    def _tz(self, hall_id: int) -> ZoneInfo:
        return ZoneInfo(self.engine.reference(hall_id).timezone)

    def today(self, hall_id: int) -> date:
        """The hall's local date now."""
        return numbering.service_day(self.clock.now(), self.engine.reference(hall_id).timezone)

    def _at(self, hall_id: int, day: date, which: str) -> datetime | None:
        """The first opening (``open``) or final closing (``close``) of a day, or None when closed."""
        sessions = schedule.sessions(day, self._hours(hall_id))
        if not sessions:
            return None
        moment = sessions[0][0] if which == "open" else sessions[-1][1]
        return datetime.combine(day, moment, tzinfo=self._tz(hall_id))

    def is_open_now(self, hall_id: int) -> bool:
        """Whether the hall takes walk-ins now (always, when the app runs with HALL_OPEN_ALL_HOURS)."""
        return not self.engine.enforce_hours or schedule.is_open(self.clock.now(), self._hours(hall_id))

    # --- running ---------------------------------------------------------------------------------
    def run(self, name: str, hall_id: int, *, force: bool = False) -> dict[str, Any]:
        """Run one job now. Daily jobs check whether the run is still meaningful unless ``force``."""
        if name not in JOBS:
            raise ValueError(f"unknown job {name!r}; jobs: {', '.join(JOBS)}")
        if name == "tidal_tick":
            return self.tidal_tick(hall_id, force=force)
        if name == "time_limit_watch":
            return self.watch(hall_id)
        return getattr(self, name)(hall_id, force=force)

    def _daily(self, name: str, hall_id: int, day: date, force: bool, act: Callable[[], dict[str, Any]]) -> dict:
        """Claim (hall, job, day) in the ledger, act, record the outcome; failures raise an alert."""
        base = {"job": name, "day": day.isoformat()}
        run_id = self._claim(hall_id, name, day, force)
        if run_id is None:
            return {**base, "status": "skipped", "reason": "already done for this day"}
        try:
            result = act()
        except Exception as exc:
            self._finish(run_id, "failed", {"error": str(exc)[:500]})
            self.alerts.raise_alert(
                hall_id,
                job_source(name),
                JOB_FAILED,
                f"定时任务“{JOB_LABELS[name]}”失败：{exc}",
                level="critical",
                details={"job": name, "day": day.isoformat()},
            )
            log.exception("job %s of hall %s for %s failed", name, hall_id, day)
            raise
        self._finish(run_id, "done", result)
        self.alerts.clear(hall_id, job_source(name), JOB_FAILED)
        log.info("job %s of hall %s for %s: %s", name, hall_id, day, result)
        return {**base, "status": "done", **result}

    def _claim(self, hall_id: int, name: str, day: date, force: bool) -> int | None:
        now = self.clock.now()
        try:
            with self.db.write() as session:
                row = session.scalar(
                    select(JobRun)
                    .where(JobRun.hall_id == hall_id, JobRun.job == name, JobRun.day == day)
                    .with_for_update()
                )
                if row is None:
                    row = JobRun(hall_id=hall_id, job=name, day=day, status="running", runs=1, started_at=now)
                    session.add(row)
                    session.flush()
                    return row.id
                stale = row.status == "running" and now - row.started_at > STALE_RUNNING
                if not (force or row.status == "failed" or stale):
                    return None
                row.status, row.started_at, row.finished_at, row.runs = "running", now, None, row.runs + 1
                return row.id
        except IntegrityError:  # another process claimed the same (hall, job, day) a moment earlier
            return None

    def _finish(self, run_id: int, status: str, result: dict[str, Any]) -> None:
        with self.db.write() as session:
            row = session.get(JobRun, run_id)
            if row is not None:
                row.status, row.finished_at, row.result = status, self.clock.now(), result

    def _skip(self, name: str, day: date, reason: str) -> dict[str, Any]:
        log.info("job %s for %s skipped: %s", name, day, reason)
        return {"job": name, "day": day.isoformat(), "status": "skipped", "reason": reason}

    def _today_guard(self, name: str, hall_id: int) -> tuple[date, dict[str, Any] | None]:
        """Today, and a skip result when a today-job is no longer meaningful (closed day, or after closing)."""
        today = self.today(hall_id)
        closes = self._at(hall_id, today, "close")
        if closes is None:
            return today, self._skip(name, today, f"{today.isoformat()} is not a working day")
        if self.clock.now() >= closes:
            return today, self._skip(name, today, "the hall has already closed today")
        return today, None

    # --- device check ----------------------------------------------------------------------------
    def device_check(self, hall_id: int, *, force: bool = False) -> dict[str, Any]:
        """Ask every printer (and the serial devices when that layer is present) for its status."""
        today, skip = self._today_guard("device_check", hall_id)
        if skip and not force:
            return skip
        return self._daily("device_check", hall_id, today, force, lambda: self._check_devices(hall_id))

    def _check_devices(self, hall_id: int) -> dict[str, Any]:
        results: dict[str, Any] = {}
        problems: list[str] = []
        errors: list[str] = []
        for group, check in self.device_checks().items():
            try:
                statuses = check(hall_id) or {}
            except Exception as exc:  # one broken device layer must not hide the others
                log.exception("device check %s of hall %s failed", group, hall_id)
                errors.append(f"{group}: {exc}")
                results[group] = {"error": str(exc)[:200]}
                continue
            results[group] = statuses
            problems.extend(f"{dev}: {state}" for dev, state in statuses.items() if state != "ok")
        if errors:
            self.alerts.raise_alert(
                hall_id,
                job_source("device_check"),
                DEVICE_CHECK_FAILED,
                "开门前设备检查未能完成：" + "；".join(errors),
                level="critical",
                details={"errors": errors},
            )
        else:
            self.alerts.clear(hall_id, job_source("device_check"), DEVICE_CHECK_FAILED)
        # Devices that are not ok raise their own alerts (hall.alerts.report_device) and clear when fixed.
        return {"devices": results, "problems": problems, "errors": errors}

    # --- opening ---------------------------------------------------------------------------------
    def opening(self, hall_id: int, *, force: bool = False) -> dict[str, Any]:
        """Open the configured windows, make sure the roster is filled, and show today's duty on displays."""
        today, skip = self._today_guard("opening", hall_id)
        if skip and not force:
            return skip
        return self._daily("opening", hall_id, today, force, lambda: self._open(hall_id, today))

    def _open(self, hall_id: int, today: date) -> dict[str, Any]:
        conf = settings_of(self.engine.reference(hall_id).settings)
        windows = self.engine.load(hall_id)["windows"]
        wanted = conf["open_windows"]
        numbers = set(wanted) if wanted is not None else {w["number"] for w in windows if w["kind"] != "tidal"}
        system = Actor.system(hall_id)
        opened = []
        for w in windows:
            if w["number"] not in numbers or w["state"] == "open":
                continue
            try:
                self.engine.window_action(system, hall_id, w["number"], "resume" if w["state"] == "paused" else "open")
                opened.append(w["number"])
            except Conflict as exc:  # moved by hand meanwhile
                log.info("opening: window %s not opened: %s", w["number"], exc)
        self.ensure_roster(hall_id)
        self.engine.bus.publish([RosterChanged(hall_id=hall_id, at=self.clock.now(), day=today.isoformat())])
        duty = self.roster.day(hall_id, today)
        return {
            "opened": opened,
            "leader": duty["leader"]["name"] if duty["leader"] else None,
            "clerk": duty["clerk"]["name"] if duty["clerk"] else None,
        }

    def ensure_roster(self, hall_id: int) -> list[str]:
        """Fill this month and the next from the hall's rota, each month once (ledger ``roster_fill``)."""
        first = self.today(hall_id).replace(day=1)
        done = []
        for month in (first, next_month(first)):
            with self.db.read() as session:
                seen = session.scalar(
                    select(JobRun.id).where(JobRun.hall_id == hall_id, JobRun.job == ROSTER_FILL, JobRun.day == month)
                )
            if seen is not None:
                continue
            run_id = self._claim(hall_id, ROSTER_FILL, month, False)
            if run_id is None:
                continue
            filled = self.roster.fill_month(hall_id, month)
            self._finish(run_id, "done", {"days": filled})
            done.append(f"{month:%Y-%m}")
        return done

    # --- tidal window ----------------------------------------------------------------------------
    def tidal_tick(self, hall_id: int, *, force: bool = False) -> dict[str, Any]:
        """One tidal rule decision, while the hall is open."""
        if not force and not self.is_open_now(hall_id):
            return {"job": "tidal_tick", "status": "skipped", "reason": "the hall is closed"}
        try:
            return {"job": "tidal_tick", "status": "done", **self.tidal.tick(hall_id)}
        except HallError as exc:
            log.warning("tidal tick of hall %s: %s", hall_id, exc)
            return {"job": "tidal_tick", "status": "failed", "reason": str(exc)}

    # --- 限时办结 watcher --------------------------------------------------------------------------
    def watch(self, hall_id: int) -> dict[str, Any]:
        """Raise alerts for services past their time limit and parked tickets past their deadline; clear the rest."""
        now = self.clock.now()
        ref = self.engine.reference(hall_id)
        conf = settings_of(ref.settings)
        tz = ZoneInfo(ref.timezone)
        wanted: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        with self.db.read() as session:
            tickets = session.scalars(
                select(Ticket)
                .where(Ticket.hall_id == hall_id, Ticket.status.in_((State.SERVING.value, State.PARKED.value)))
                .options(selectinload(Ticket.items), selectinload(Ticket.periods))
            ).all()
            for t in tickets:
                if t.status == State.SERVING.value:
                    since = next((p.started_at for p in reversed(t.periods) if p.state == State.SERVING.value), None)
                    if since is None:
                        continue
                    items = [(ti.item_code, ti.item.service_minutes) for ti in t.items]
                    limit = service_limit_minutes(items, conf)
                    minutes = (now - since).total_seconds() / 60
                    if minutes > limit:
                        wanted[(ticket_source(t.id), SERVICE_OVERTIME)] = (
                            f"{t.number}号在{t.window_number}号窗口已办理{int(minutes)}分钟，超过限时{int(limit)}分钟",
                            {"ticket": t.id, "number": t.number, "window": t.window_number, "limit": limit},
                        )
                elif t.parked_until is not None and now > t.parked_until:
                    wanted[(ticket_source(t.id), PARKED_OVERDUE)] = (
                        f"{t.number}号容缺受理补齐材料已逾期（期限 {t.parked_until.astimezone(tz):%m月%d日 %H:%M}）",
                        {"ticket": t.id, "number": t.number, "first_window": t.first_window},
                    )
        open_now = {
            (a["source"], a["kind"])
            for a in self.alerts.open_alerts(hall_id)
            if a["kind"] in (SERVICE_OVERTIME, PARKED_OVERDUE)
        }
        raised = []
        for (source, kind), (message, details) in wanted.items():
            if (source, kind) not in open_now:
                self.alerts.raise_alert(hall_id, source, kind, message, level="warning", details=details)
                raised.append(details["number"])
        cleared = 0
        for source, kind in open_now - set(wanted):
            cleared += self.alerts.clear(hall_id, source, kind)
        return {"job": "time_limit_watch", "status": "done", "over": len(wanted), "raised": raised, "cleared": cleared}

    # --- closing ---------------------------------------------------------------------------------
    def day_to_close(self, hall_id: int, lookback_days: int = 14) -> date | None:
        """The latest working day whose final closing has passed (today after closing, else an earlier day)."""
        now = self.clock.now()
        today = self.today(hall_id)
        for back in range(lookback_days + 1):
            day = today - timedelta(days=back)
            closes = self._at(hall_id, day, "close")
            if closes is not None and closes <= now:
                return day
        return None

    def closing(self, hall_id: int, *, force: bool = False) -> dict[str, Any]:
        """日终: end every open ticket (ended_by_reset), close windows, mark booking no-shows, store the report.

        Run late (a restart before the next opening) it closes the day it missed; run while the hall is open
        again it ends only that day's leftovers and leaves the windows alone. With HALL_OPEN_ALL_HOURS the hall
        never closes, so only ``force`` acts.
        """
        today = self.today(hall_id)
        if force:
            return self._daily("closing", hall_id, today, True, lambda: self._close(hall_id, today, full=True))
        if not self.engine.enforce_hours:
            return self._skip("closing", today, "open all hours (HALL_OPEN_ALL_HOURS): the hall never closes")
        day = self.day_to_close(hall_id)
        if day is None:
            return self._skip("closing", today, "no working day has closed yet")
        full = day == today or not schedule.is_open(self.clock.now(), self._hours(hall_id))
        return self._daily("closing", hall_id, day, False, lambda: self._close(hall_id, day, full=full))

    def _close(self, hall_id: int, day: date, *, full: bool) -> dict[str, Any]:
        system = Actor.system(hall_id)
        ended = self.engine.reset_day(system, hall_id, close_windows=full, through=None if full else day)
        no_shows = self.appointments.mark_no_shows(system, hall_id)
        now = self.clock.now()
        report = {
            **self.engine.day_stats(hall_id, day),
            "ended_by_reset": ended,
            "booking_no_shows": no_shows,
            "closed_at": now.isoformat(),
            "windows_closed": full,
        }
        with self.db.write() as session:
            row = session.scalar(select(DayReport).where(DayReport.hall_id == hall_id, DayReport.day == day))
            if row is None:
                session.add(DayReport(hall_id=hall_id, day=day, created_at=now, report=report))
            else:  # a forced re-run replaces the day's report
                row.created_at, row.report = now, report
        return {"ended_by_reset": ended, "booking_no_shows": no_shows, "windows_closed": full}

    # --- reading ---------------------------------------------------------------------------------
    def report(self, hall_id: int, day: date) -> dict[str, Any] | None:
        """The stored report of a day, or None before that day's close."""
        with self.db.read() as session:
            row = session.scalar(select(DayReport).where(DayReport.hall_id == hall_id, DayReport.day == day))
            if row is None:
                return None
            return {"day": row.day.isoformat(), "created_at": row.created_at.isoformat(), "report": row.report}

    def reports(self, hall_id: int, first: date, last: date) -> list[dict[str, Any]]:
        """Stored day reports between two days (inclusive), oldest first."""
        with self.db.read() as session:
            rows = session.scalars(
                select(DayReport)
                .where(DayReport.hall_id == hall_id, DayReport.day.between(first, last))
                .order_by(DayReport.day)
            ).all()
            return [
                {"day": r.day.isoformat(), "created_at": r.created_at.isoformat(), "report": r.report} for r in rows
            ]

    def runs(self, hall_id: int, day: date) -> list[dict[str, Any]]:
        """The daily jobs' ledger of a day (the device check's result shows on the dashboard)."""
        with self.db.read() as session:
            rows = session.scalars(
                select(JobRun)
                .where(JobRun.hall_id == hall_id, JobRun.day == day, JobRun.job.in_(DAILY_JOBS))
                .order_by(JobRun.started_at)
            ).all()
            return [
                {
                    "job": r.job,
                    "label": JOB_LABELS.get(r.job, r.job),
                    "day": r.day.isoformat(),
                    "status": r.status,
                    "runs": r.runs,
                    "started_at": r.started_at.isoformat(),
                    "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                    "result": r.result or {},
                }
                for r in rows
            ]
