"""APScheduler 3 for the hall's daily rhythm: when each job of hall.operations runs.

- One ``BackgroundScheduler`` per deployment, Asia/Shanghai, with a persistent ``SQLAlchemyJobStore`` on the
  hall database (table ``apscheduler_jobs``, owned by APScheduler and kept out of Alembic). A job that was
  due while the server was down runs at start-up if its ``misfire_grace_time`` allows (``coalesce``: once,
  however many runs were missed); hall.operations then checks that the run still makes sense and, through
  its ledger, that it never acts twice on a day.
- Daily jobs fire on the hall's working days only (holidays, 调休 and local overrides from hall.schedule)
  at the opening, the final closing (延时服务 included) or a fixed time: ``HallDayTrigger``.
- Jobs are the module-level functions below, stored by name with the hall id as their only argument; they
  look the process's ``Operations`` up (``bind``), so nothing unpicklable ever reaches the job store.
- Start-up: exactly one process runs the scheduler (``HALL_SCHEDULER=1``, the default for ``python app.py``
  and one gunicorn worker); with several server processes set ``HALL_SCHEDULER=0`` on all but one, or run
  ``flask --app app hall scheduler`` as its own process. Never under TESTING or in other ``flask`` commands;
  a second start in the same process is refused.

Core module: no Flask.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.debug import DebugExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hall import schedule
from hall.clock import Clock, SystemClock
from hall.db import Database
from hall.operations import JOB_LABELS, Operations, settings_of

log = logging.getLogger(__name__)

ENV = "HALL_SCHEDULER"
JOB_TABLE = "apscheduler_jobs"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
# How late a missed run may still start (seconds). Daily jobs get long graces and decide themselves whether
# the run still means something (a device check after closing does not; a close before the next opening does).
GRACE = {
    "device_check": 8 * 3600,
    "opening": 12 * 3600,
    "closing": 3 * 86400,  # a weekend outage still closes Friday on Monday morning
    "tidal_tick": 30,
    "time_limit_watch": 30,
}


# --- the trigger ---------------------------------------------------------------------------------
class HallDayTrigger(BaseTrigger):
    """Fires once on each working day of a hall: at its opening, its final closing, or a fixed local time.

    Holds the hall's ``[hours]`` table as plain data (picklable); a day without opening sessions (weekend,
    statutory holiday, local closure) has no fire time, an adjusted working day (调休) has one.
    """

    def __init__(self, anchor: str, hours: Mapping[str, Any], timezone: str = "Asia/Shanghai", at: str | None = None):
        if anchor not in ("open", "close", "at"):
            raise ValueError(f"unknown anchor {anchor!r}")
        if anchor == "at":
            schedule.parse_time(at or "")  # fail now, not at 08:50
        self.anchor = anchor
        self.at = at if anchor == "at" else None
        self.hours = json.loads(json.dumps(dict(hours or {})))  # a plain, comparable copy
        self.timezone = timezone
        self._parsed: schedule.Hours | None = None

    @property
    def key(self) -> str:
        """What makes two triggers equal (the job store keeps the old one until the config changes)."""
        return json.dumps([self.anchor, self.at, self.timezone, self.hours], sort_keys=True, ensure_ascii=False)

    def fire_time(self, day: date) -> datetime | None:
        """This trigger's moment on ``day`` (aware, hall time zone), or None when the hall is closed that day."""
        if self._parsed is None:
            self._parsed = schedule.parse_hours(self.hours, self.timezone)
        sessions = schedule.sessions(day, self._parsed)
        if not sessions:
            return None
        if self.anchor == "open":
            moment = sessions[0][0]
        elif self.anchor == "close":
            moment = sessions[-1][1]
        else:
            moment = schedule.parse_time(self.at or "")
        return datetime.combine(day, moment, tzinfo=ZoneInfo(self.timezone))

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The first fire time after ``previous_fire_time`` (missed runs included), else from ``now`` on."""
        start = now if previous_fire_time is None else min(now, previous_fire_time + timedelta(microseconds=1))
        if previous_fire_time is not None and start <= previous_fire_time:
            start = previous_fire_time + timedelta(microseconds=1)
        day = start.astimezone(ZoneInfo(self.timezone)).date()
        for offset in range(400):
            at = self.fire_time(day + timedelta(days=offset))
            if at is not None and at >= start:
                return at
        return None

    def __getstate__(self) -> dict[str, Any]:
        return {"version": 1, "anchor": self.anchor, "at": self.at, "hours": self.hours, "timezone": self.timezone}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.anchor, self.at = state["anchor"], state["at"]
        self.hours, self.timezone = state["hours"], state["timezone"]
        self._parsed = None

    def __str__(self) -> str:
        what = {"open": "opening", "close": "final closing"}.get(self.anchor) or f"{self.at}"
        return f"working days at {what}"

    def __repr__(self) -> str:
        return f"<HallDayTrigger ({self.anchor}{'@' + self.at if self.at else ''}, {self.timezone})>"


def trigger_key(trigger: BaseTrigger) -> str:
    """A comparable description of a trigger (to tell whether the stored job must change)."""
    if isinstance(trigger, HallDayTrigger):
        return trigger.key
    if isinstance(trigger, IntervalTrigger):
        return f"interval:{trigger.interval_length}"
    return str(trigger)


# --- the job functions (stored by reference; they find the process's Operations) ----------------------
_ops: Operations | None = None


def bind(ops: Operations | None) -> None:
    """Make ``ops`` what the job functions of this process act on (the composition root calls this)."""
    global _ops
    _ops = ops


def _run(name: str, hall_id: int) -> dict[str, Any] | None:
    ops = _ops
    if ops is None:
        log.error("job %s ran before the app bound its operations (hall.scheduler.bind)", name)
        return None
    return ops.run(name, hall_id)


def device_check(hall_id: int) -> dict[str, Any] | None:
    """Before opening: every printer and serial device is asked for its status."""
    return _run("device_check", hall_id)


def opening(hall_id: int) -> dict[str, Any] | None:
    """At opening: the configured windows open; today's duty shows on the displays."""
    return _run("opening", hall_id)


def tidal_tick(hall_id: int) -> dict[str, Any] | None:
    """Every minute: the tidal window rule decides."""
    return _run("tidal_tick", hall_id)


def time_limit_watch(hall_id: int) -> dict[str, Any] | None:
    """Every minute: 限时办结 alerts raised and cleared."""
    return _run("time_limit_watch", hall_id)


def closing(hall_id: int) -> dict[str, Any] | None:
    """At final closing: daily reset, booking no-shows, the day's report."""
    return _run("closing", hall_id)


JOB_FUNCTIONS: dict[str, Callable[[int], dict[str, Any] | None]] = {
    "device_check": device_check,
    "opening": opening,
    "tidal_tick": tidal_tick,
    "time_limit_watch": time_limit_watch,
    "closing": closing,
}


@dataclass(frozen=True)
class JobSpec:
    """One job as the hall's configuration wants it."""

    id: str
    job: str
    hall_id: int
    trigger: BaseTrigger
    grace: int

    @property
    def func(self) -> Callable[[int], dict[str, Any] | None]:
        """The module-level function the job store refers to."""
        return JOB_FUNCTIONS[self.job]

    @property
    def name(self) -> str:
        """Readable name: ``开门 (opening)``."""
        return f"{JOB_LABELS[self.job]} ({self.job})"


def job_specs(
    hall_code: str, hall_id: int, settings: Mapping[str, Any], timezone: str, *, tidal_seconds: float = 60
) -> list[JobSpec]:
    """The jobs a hall's settings ask for: three daily ones and two periodic ones (0 seconds = none)."""
    hours = settings.get("hours") or {}
    conf = settings_of(dict(settings))
    triggers: dict[str, BaseTrigger] = {
        "device_check": HallDayTrigger("at", hours, timezone, at=str(conf["device_check_at"])),
        "opening": HallDayTrigger("open", hours, timezone),
        "closing": HallDayTrigger("close", hours, timezone),
    }
    # Periodic jobs count from a fixed origin, so a 60-second job runs on the minute whenever it was added.
    origin = datetime(2020, 1, 1, tzinfo=ZoneInfo(timezone))
    if tidal_seconds and tidal_seconds > 0:
        triggers["tidal_tick"] = IntervalTrigger(seconds=int(tidal_seconds), start_date=origin, timezone=origin.tzinfo)
    watch = int(conf["watch_seconds"] or 0)
    if watch > 0:
        triggers["time_limit_watch"] = IntervalTrigger(seconds=watch, start_date=origin, timezone=origin.tzinfo)
    return [
        JobSpec(id=f"{hall_code}:{job}", job=job, hall_id=hall_id, trigger=trigger, grace=GRACE[job])
        for job, trigger in triggers.items()
    ]


def should_start(config: Mapping[str, Any], environ: Mapping[str, str]) -> bool:
    """Whether this process runs the scheduler: not under TESTING, in ``flask`` commands or with HALL_SCHEDULER=0."""
    if config.get("TESTING"):
        return False
    if environ.get("FLASK_RUN_FROM_CLI") == "true":  # flask db upgrade, flask hall jobs, …
        return False
    return bool(config.get("SCHEDULER", environ.get(ENV, "1") != "0"))


# --- a scheduler that only moves when told (simulations and tests) -------------------------------------
class SteppedScheduler(BaseScheduler):
    """Runs due jobs only when ``step()`` is called, in the caller's thread: no timer, no worker threads.

    With APScheduler's notion of "now" pointed at a fake clock, a test walks a whole day of real triggers,
    the real job store, misfire grace and coalescing in milliseconds.
    """

    def shutdown(self, wait: bool = True) -> None:
        """Stop (nothing runs in the background)."""
        super().shutdown(wait)

    def wakeup(self) -> None:
        """Nothing to wake: jobs run in ``step()``."""

    def _create_default_executor(self) -> DebugExecutor:
        return DebugExecutor()

    def step(self) -> float | None:
        """Run every job that is due now; returns the seconds until the next one (None: nothing scheduled)."""
        return self._process_jobs()


# --- the process's scheduler ------------------------------------------------------------------------
_running: HallScheduler | None = None
_running_lock = threading.Lock()


class HallScheduler:
    """The hall's jobs on an APScheduler with the persistent job store; at most one running per process."""

    def __init__(
        self,
        db: Database,
        specs: list[JobSpec],
        *,
        timezone: str = "Asia/Shanghai",
        scheduler: BaseScheduler | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.specs = specs
        self.tz = ZoneInfo(timezone)
        self.clock = clock or SystemClock()
        self.scheduler = scheduler or BackgroundScheduler()
        executor = DebugExecutor() if isinstance(self.scheduler, SteppedScheduler) else ThreadPoolExecutor(4)
        self.scheduler.configure(
            jobstores={"default": SQLAlchemyJobStore(engine=db.write_engine, tablename=JOB_TABLE)},
            executors={"default": executor},
            job_defaults=JOB_DEFAULTS,
            timezone=self.tz,
        )

    @property
    def running(self) -> bool:
        """Whether this scheduler has been started and not shut down."""
        return bool(self.scheduler.running)

    def start(self) -> bool:
        """Start and bring the stored jobs in line with the config; False if this process already runs one."""
        global _running
        with _running_lock:
            if _running is not None and _running.running:
                log.warning("a scheduler already runs in this process: not starting another")
                return False
            # Paused first: a job whose trigger changed must be updated before anything runs.
            self.scheduler.start(paused=True)
            try:
                changes = self.sync()
            except Exception:
                self.scheduler.shutdown(wait=False)
                raise
            self.scheduler.resume()
            _running = self
        # "Running job …" twice a minute for the periodic jobs drowns the log; failures still show.
        quiet = logging.getLogger("apscheduler.executors")
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.WARNING)
        atexit.register(self.shutdown)
        log.info("scheduler started: %s", ", ".join(f"{k} {v}" for k, v in changes.items()) or "no jobs")
        return True

    def shutdown(self, wait: bool = True) -> None:
        """Stop the scheduler (running jobs finish when ``wait``); the job store keeps every job."""
        global _running
        with _running_lock:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=wait)
            if _running is self:
                _running = None

    def sync(self) -> dict[str, str]:
        """Add missing jobs, update changed ones (keeping a missed run), remove jobs the config no longer has.

        A job already in the store keeps its next run time: replacing it would recompute that time from now
        and silently drop a run missed while the server was down.
        """
        now = self.clock.now().astimezone(self.tz)
        prefixes = {s.id.split(":", 1)[0] + ":" for s in self.specs}
        stored = {j.id: j for j in self.scheduler.get_jobs() if any(j.id.startswith(p) for p in prefixes)}
        changes: dict[str, str] = {}
        for spec in self.specs:
            job = stored.pop(spec.id, None)
            if job is None:
                try:
                    self.scheduler.add_job(
                        spec.func,
                        trigger=spec.trigger,
                        args=[spec.hall_id],
                        id=spec.id,
                        name=spec.name,
                        misfire_grace_time=spec.grace,
                    )
                    changes[spec.id] = "added"
                except ConflictingIdError:  # another process added it a moment ago
                    changes[spec.id] = "kept"
                continue
            same = (
                trigger_key(job.trigger) == trigger_key(spec.trigger)
                and job.misfire_grace_time == spec.grace
                and job.func is spec.func
                and list(job.args) == [spec.hall_id]
            )
            if same:
                changes[spec.id] = "kept"
                continue
            nxt = job.next_run_time
            if nxt is None or nxt > now:
                nxt = spec.trigger.get_next_fire_time(None, now)
            self.scheduler.modify_job(
                spec.id,
                func=spec.func,
                trigger=spec.trigger,
                args=[spec.hall_id],
                name=spec.name,
                misfire_grace_time=spec.grace,
                next_run_time=nxt,
            )
            changes[spec.id] = "updated"
        for job_id in stored:
            try:
                self.scheduler.remove_job(job_id)
                changes[job_id] = "removed"
            except JobLookupError:
                pass
        return changes

    def jobs(self) -> list[dict[str, Any]]:
        """Every job of this scheduler's halls with its next run time (hall time zone)."""
        prefixes = {s.id.split(":", 1)[0] + ":" for s in self.specs}
        out = []
        for job in self.scheduler.get_jobs():
            if not any(job.id.startswith(p) for p in prefixes):
                continue
            nxt = job.next_run_time
            out.append(
                {
                    "id": job.id,
                    "job": job.id.split(":", 1)[1],
                    "name": job.name,
                    "trigger": str(job.trigger),
                    "next_run_time": nxt.astimezone(self.tz).isoformat() if nxt else None,
                    "misfire_grace_time": job.misfire_grace_time,
                }
            )
        return sorted(out, key=lambda j: (j["next_run_time"] is None, j["next_run_time"] or "", j["id"]))

    def list_jobs(self) -> list[dict[str, Any]]:
        """The stored jobs without running anything (for ``flask hall jobs`` in a process that is no scheduler).

        Missing jobs are added as the scheduler would add them at its next start, so the listing is complete.
        """
        if self.running:
            return self.jobs()
        # A separate stepped scheduler: a BackgroundScheduler cannot be started again after a shutdown.
        probe = HallScheduler(
            self.db, self.specs, timezone=str(self.tz), scheduler=SteppedScheduler(), clock=self.clock
        )
        probe.scheduler.start(paused=True)
        try:
            probe.sync()
            return probe.jobs()
        finally:
            probe.scheduler.shutdown(wait=False)
