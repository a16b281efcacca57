"""A hall day on a fake clock, driving the production engine and routing policies (not a copy of them).

Each simulated day gets its own SQLite file seeded from a hall config; arrivals, service times, no-shows and
clerk behaviour are drawn from a seeded random generator, so a (scenario, seed) pair always gives the same
day. Results come from the period history through hall.stats, exactly as the manager's reports do.

Common random numbers: arrival times come from the day's generator, and everything about one citizen (priority
group, items, how long their business takes, whether they miss a call, how long they take to reach the window)
comes from that citizen's own generator. Two policy sets run with one seed therefore see the same citizens
with the same needs, whatever order the windows call them in, which makes paired comparisons tight.

Besides the demo day, ``stationary_scenario`` builds an M/M/c day (Poisson arrivals at a constant rate,
exponential service, c windows, pooled FIFO) for checking the engine against Erlang C, and
``per_category_scenario`` splits the hall into one line per item category with dedicated windows.

CLI: ``python -m hall.simulate [--runs N] [--seed S] [--chart out.png]`` (or ``flask --app app hall simulate``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import heapq
import itertools
import math
import os
import random
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hall import config as hall_config
from hall import stats
from hall.bus import EventBus
from hall.clock import FakeClock
from hall.db import Database
from hall.engine import Actor, Engine
from hall.errors import HallError
from hall.passwords import Passwords
from hall.repository import Repository
from hall.tidal import TidalRule
from hall.tidal_live import TidalController

TZ = ZoneInfo("Asia/Shanghai")

# Arrivals per hour over a demo-hall day (morning peak 09:00–10:30, a smaller one after lunch).
DEMO_PROFILE: dict[int, float] = {8: 30, 9: 75, 10: 60, 11: 40, 12: 25, 13: 30, 14: 45, 15: 35, 16: 25, 17: 10}


@dataclass
class Scenario:
    """What a simulated day looks like."""

    name: str
    arrivals: dict[int, float] = field(default_factory=lambda: dict(DEMO_PROFILE))  # local hour -> per hour
    open_at: time = time(8, 30)
    close_at: time = time(17, 30)
    service_cv: float = 0.6  # variability of handling times around each item's mean
    priority_share: float = 0.08
    joint_share: float = 0.04
    no_show_prob: float = 0.03
    windows: tuple[int, ...] = (1, 2, 3, 4, 5, 7, 8)  # open all day
    # Opened and closed by the hall's TidalController (hall.tidal_live) when set; several windows are stages
    # (the second opens only when the first is not enough, hall.tidal), in window-number order.
    tidal_window: int | tuple[int, ...] | None = None
    tidal_rule: TidalRule = field(default_factory=TidalRule)  # written to [hall.settings.tidal]
    tidal_every_minutes: float = 5.0  # how often the controller ticks (a live hall: every minute)
    routing: dict[str, Any] = field(default_factory=dict)  # overrides of [hall.settings.routing]
    window_queues: dict[int, list[str]] = field(default_factory=dict)  # override what windows serve
    item_queue: dict[str, str] = field(default_factory=dict)  # override the queue of items
    items: Sequence[str] | None = None  # restrict the item mix (codes)
    department_weight: dict[str, float] = field(default_factory=lambda: {"医保": 1.0, "人社": 0.2})
    exponential: bool = False  # M/M/c validation: exponential service with each item's mean
    breaks: dict[int, tuple[time, time]] = field(default_factory=dict)  # window -> (from, to) pause
    service_minutes: float | None = None  # one mean handling time for every ticket (instead of the items')
    walk_seconds: tuple[float, float] = (20.0, 60.0)  # call to start of service (uniform); (0, 0) for M/M/c
    warmup_minutes: float = 0.0  # tickets issued this soon after opening are left out of the figures
    green_channel: bool = True  # False: priority citizens get ordinary tickets (the no-priority baseline)


@dataclass
class DayResult:
    """One simulated day's figures."""

    scenario: str
    seed: int
    tickets: int
    served: int
    waits: list[float]
    waits_priority: list[float]
    waits_by_hour: dict[int, list[float]]
    eta_pairs: list[tuple[float, float, float]]
    tidal_staff_minutes: float  # all tidal windows together
    waits_normal: list[float] = field(default_factory=list)  # citizens without a priority group
    # Every ticket in issue order: (minutes after opening, wait in minutes or None, drawn handling minutes).
    timeline: list[tuple[float, float | None, float]] = field(default_factory=list)
    tidal_staff_minutes_by_window: dict[int, float] = field(default_factory=dict)

    def summary(self, peak: tuple[int, int] = (9, 11)) -> dict[str, Any]:
        """Mean/P90/within-15 overall, for priority tickets and in the peak hours, plus ETA accuracy."""
        peak_waits = [w for h, ws in self.waits_by_hour.items() if peak[0] <= h < peak[1] for w in ws]
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "tickets": self.tickets,
            "served": self.served,
            "all": stats.wait_summary(self.waits),
            "priority": stats.wait_summary(self.waits_priority),
            "normal": stats.wait_summary(self.waits_normal),
            "peak": stats.wait_summary(peak_waits),
            "eta": stats.eta_accuracy(self.eta_pairs),
            "tidal_staff_hours": round(self.tidal_staff_minutes / 60, 2),
        }


@dataclass
class _Citizen:
    """One arrival: what they need, drawn from their own generator (the same under every policy)."""

    rng: random.Random
    priority: str | None
    codes: list[str]
    unit: float  # handling time as a multiple of its mean (mean 1)
    offset: float = 0.0  # minutes after opening
    minutes: float = 0.0  # drawn handling time


class _Day:
    """Event loop of one day."""

    def __init__(self, scenario: Scenario, seed: int, workdir: Path, data: dict[str, Any]) -> None:
        self.sc = scenario
        self.rng = random.Random(seed)
        self.seed = seed
        day = datetime(2026, 11, 23, tzinfo=TZ)  # a Monday
        self.start = datetime.combine(day.date(), scenario.open_at, tzinfo=TZ).astimezone(UTC)
        self.end = datetime.combine(day.date(), scenario.close_at, tzinfo=TZ).astimezone(UTC)
        self.clock = FakeClock(self.start)
        workdir.mkdir(parents=True, exist_ok=True)
        self.db = Database(f"sqlite:///{workdir / f'sim-{seed}.db'}")
        self.db.create_all()
        self.hall_id, _ = hall_config.seed(self.db, data, Passwords(fast=True), demo=True)
        self.engine = Engine(self.db, self.clock, EventBus(), pepper="sim", enforce_hours=False)
        self.staff = Actor(name="sim", role="manager", hall_id=self.hall_id)
        self.kiosk = Actor(name="sim-kiosk", role="kiosk", hall_id=self.hall_id)
        self.queue: list[tuple[datetime, int, str, Any]] = []
        self.seq = itertools.count()
        self.busy: set[int] = set()
        self.service_min: dict[str, float] = {}
        self.tidal_windows = tidal_windows(scenario)
        self.tidal = TidalController(self.engine) if self.tidal_windows else None
        self.tidal_open: set[int] = set()
        self.tidal_closing: set[int] = set()  # the controller closes a window once its citizen is done
        self.tidal_open_since: dict[int, datetime] = {}
        self.tidal_minutes: dict[int, float] = {n: 0.0 for n in self.tidal_windows}
        self.arrival_times: list[datetime] = []
        self.citizens: dict[int, _Citizen] = {}  # ticket id -> citizen, in issue order
        self.window_queues = {w["number"]: tuple(w.get("queues", ())) for w in data["windows"]}
        items = self.engine.items(self.hall_id)
        allowed = set(scenario.items) if scenario.items else None
        self.items = [i for i in items if allowed is None or i["code"] in allowed]
        self.service_min = {i["code"]: float(i["service_minutes"]) for i in items}
        self.by_dept: dict[str, list[dict]] = {}
        for i in self.items:
            self.by_dept.setdefault(i["department"], []).append(i)

    # --- scheduling ---------------------------------------------------------------------------
    def at(self, when: datetime, kind: str, data: Any = None) -> None:
        heapq.heappush(self.queue, (when, next(self.seq), kind, data))

    def run(self) -> DayResult:
        self._schedule_arrivals()
        for n in self.sc.windows:
            self.at(self.start, "free", n)
        for n, (a, b) in self.sc.breaks.items():
            self.at(self._local(a), "pause", n)
            self.at(self._local(b), "resume", n)
        if self.tidal_windows:
            self.at(self.start, "tidal", None)
        last = self.start
        while self.queue:
            when, _, kind, data = heapq.heappop(self.queue)
            self.clock.set(max(when, self.clock.now()))
            last = when
            getattr(self, f"_on_{kind}")(data)
        for n, since in self.tidal_open_since.items():
            self.tidal_minutes[n] += (last - since).total_seconds() / 60
        return self._result()

    def _local(self, t: time) -> datetime:
        return datetime.combine(self.start.astimezone(TZ).date(), t, tzinfo=TZ).astimezone(UTC)

    def _schedule_arrivals(self) -> None:
        """Non-homogeneous Poisson arrivals by thinning against the busiest hour's rate."""
        peak = max(self.sc.arrivals.values(), default=0.0) / 60.0
        if peak <= 0:
            return
        t = self.start
        while True:
            t += timedelta(minutes=self.rng.expovariate(peak))
            if t >= self.end:
                return
            rate = self.sc.arrivals.get(t.astimezone(TZ).hour, 0.0) / 60.0
            if self.rng.random() < rate / peak:
                self.at(t, "arrival", None)

    # --- events -----------------------------------------------------------------------------------
    def _citizen(self, k: int) -> _Citizen:
        """The k-th arrival's needs, from a generator of its own."""
        rng = random.Random(self.seed * 1_000_003 + k)
        priority = None
        if rng.random() < self.sc.priority_share:
            priority = rng.choice(["disabled", "veteran", "military"])
        joint = rng.random() < self.sc.joint_share and len(self.by_dept) > 1
        if joint:
            depts = sorted(self.by_dept)
            codes = [rng.choice(self.by_dept[depts[0]])["code"], rng.choice(self.by_dept[depts[1]])["code"]]
        else:
            weights = [self.sc.department_weight.get(i["department"], 1.0) for i in self.items]
            codes = [rng.choices(self.items, weights=weights)[0]["code"]]
        if self.sc.exponential:
            unit = rng.expovariate(1.0)
        else:
            cv = self.sc.service_cv
            unit = rng.gammavariate(1.0 / cv**2, cv**2)
        return _Citizen(rng=rng, priority=priority, codes=codes, unit=unit)

    def _on_arrival(self, _: Any) -> None:
        now = self.clock.now()
        citizen = self._citizen(len(self.arrival_times))
        self.arrival_times.append(now)
        priority = citizen.priority if self.sc.green_channel else None
        try:
            ticket = self.engine.issue(self.kiosk, self.hall_id, citizen.codes, priority=priority)
        except HallError:
            return  # quota reached: the citizen goes home (counted as not issued)
        mean = self.sc.service_minutes or sum(self.service_min.get(c, 6.0) for c in citizen.codes)
        citizen.offset = (now - self.start).total_seconds() / 60
        citizen.minutes = timedelta(minutes=citizen.unit * mean).total_seconds() / 60
        self.citizens[ticket["id"]] = citizen
        # Offer the new ticket to the idle windows that serve its line, in order, until one takes it.
        # (Idle windows found nothing to call when they became idle, so only the newcomer can change that.)
        idle = [n for n in self.sc.windows + tuple(sorted(self.tidal_open - self.tidal_closing)) if n not in self.busy]
        serving = [n for n in idle if ticket["queue"] in self.window_queues.get(n, ())]
        if idle:
            self.at(now, "offer", (ticket["id"], serving or idle))

    def _on_offer(self, data: tuple[int, list[int]]) -> None:
        ticket_id, windows = data
        for n in windows:
            called = self._call(n)
            if called is not None and called["id"] == ticket_id:
                return

    def _on_free(self, n: int) -> None:
        self._call(n)

    def _call(self, n: int) -> dict[str, Any] | None:
        """Window n calls its next ticket if it is idle; the ticket called, or None."""
        if n in self.busy or n in self.tidal_closing:
            return None
        try:
            ticket = self.engine.call_next(self.staff, self.hall_id, n)
        except HallError:
            return None  # paused or closed: it comes back on resume
        if ticket is None:
            return None
        self.busy.add(n)
        rng = self.citizens[ticket["id"]].rng
        if rng.random() < self.sc.no_show_prob:
            self.at(self.clock.now() + timedelta(minutes=1.5), "no_show", n)
            return ticket
        walk = rng.uniform(*self.sc.walk_seconds)
        self.at(self.clock.now() + timedelta(seconds=walk), "start", (n, ticket))
        return ticket

    def _on_no_show(self, n: int) -> None:
        self.engine.no_show(self.staff, self.hall_id, n)
        self.busy.discard(n)
        self._on_free(n)

    def _on_start(self, data: tuple[int, dict]) -> None:
        n, ticket = data
        self.engine.start(self.staff, self.hall_id, n)
        self.at(self.clock.now() + timedelta(minutes=self.citizens[ticket["id"]].minutes), "done", n)

    def _on_done(self, n: int) -> None:
        self.engine.complete(self.staff, self.hall_id, n)
        self.busy.discard(n)
        self._on_free(n)

    def _on_pause(self, n: int) -> None:
        if n in self.busy:  # finish the citizen first
            self.at(self.clock.now() + timedelta(minutes=1), "pause", n)
            return
        with contextlib.suppress(HallError):  # already paused or closed
            self.engine.window_action(self.staff, self.hall_id, n, "pause")

    def _on_resume(self, n: int) -> None:
        with contextlib.suppress(HallError):
            self.engine.window_action(self.staff, self.hall_id, n, "resume")
        self._on_free(n)

    def _on_tidal(self, _: Any) -> None:
        """The hall's own tidal controller decides and moves the windows; the clerks follow."""
        assert self.tidal is not None
        status = self.tidal.tick(self.hall_id)
        now = self.clock.now()
        if now < self.end or self.queue:  # keep ticking while citizens are still being served after closing
            self.at(now + timedelta(minutes=self.sc.tidal_every_minutes), "tidal", None)
        for w in status["windows"]:
            n, is_open = w["window"], w["state"] == "open"
            if w["pending_close"]:
                self.tidal_closing.add(n)
            else:
                self.tidal_closing.discard(n)
            if is_open and n not in self.tidal_open:
                self.tidal_open.add(n)
                self.tidal_open_since[n] = now
                self._on_free(n)
            elif not is_open and n in self.tidal_open:
                self.tidal_open.discard(n)
                self.tidal_minutes[n] += (now - self.tidal_open_since.pop(n)).total_seconds() / 60

    # --- results ----------------------------------------------------------------------------------
    def _result(self) -> DayResult:
        with self.db.read() as session:
            rows, tickets = Repository(session).period_rows(self.hall_id)
        self.db.dispose()
        facts = stats.facts(rows)
        waits, waits_priority, waits_normal, eta_pairs = [], [], [], []
        by_hour: dict[int, list[float]] = {}
        warm_end = self.start + timedelta(minutes=self.sc.warmup_minutes)
        for t in tickets:
            f = facts.get(t["id"])
            if f is None or f.wait_minutes is None or t["issued_at"] < warm_end:
                continue
            waits.append(f.wait_minutes)
            citizen = self.citizens.get(t["id"])
            if t["priority"] or (citizen is not None and citizen.priority):
                waits_priority.append(f.wait_minutes)  # the baseline counts priority citizens' ordinary tickets
            else:
                waits_normal.append(f.wait_minutes)
            by_hour.setdefault(t["issued_at"].astimezone(TZ).hour, []).append(f.wait_minutes)
            if t["eta_low"] is not None:
                eta_pairs.append((t["eta_low"], t["eta_high"], f.wait_minutes))
        timeline = []
        for ticket_id, c in self.citizens.items():
            f = facts.get(ticket_id)
            timeline.append((c.offset, None if f is None else f.wait_minutes, c.minutes))
        return DayResult(
            scenario=self.sc.name,
            seed=self.seed,
            tickets=len(tickets),
            served=sum(1 for f in facts.values() if f.outcome == "completed"),
            waits=waits,
            waits_priority=waits_priority,
            waits_by_hour=by_hour,
            eta_pairs=eta_pairs,
            tidal_staff_minutes=sum(self.tidal_minutes.values()),
            tidal_staff_minutes_by_window=dict(self.tidal_minutes),
            waits_normal=waits_normal,
            timeline=timeline,
        )


def tidal_windows(scenario: Scenario) -> tuple[int, ...]:
    """The scenario's tidal windows in stage order (window number)."""
    t = scenario.tidal_window
    return () if t is None else (t,) if isinstance(t, int) else tuple(sorted(t))


def hall_data(scenario: Scenario, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The demo hall config with the scenario's overrides applied."""
    data = copy.deepcopy(base or hall_config.load())
    settings = data["hall"].setdefault("settings", {})
    settings["routing"] = {**settings.get("routing", {}), **scenario.routing}
    # Simulated clerks are at every window that is open (the tidal rule's window included): no consoles beat.
    settings["presence"] = {**settings.get("presence", {}), "required": False}
    settings.pop("tickets_per_id_per_day", None)
    tidal = tidal_windows(scenario)
    if tidal or scenario.tidal_rule != TidalRule():
        rule = scenario.tidal_rule
        settings["tidal"] = {
            "open_above": rule.open_above,
            "close_below": rule.close_below,
            "calm_minutes": rule.calm_minutes,
            "peaks": [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in rule.peaks],
            "use_schedule": rule.use_schedule,
            "use_load": rule.use_load,
            "stage_after_minutes": rule.stage_after_minutes,
        }
    for w in data["windows"]:
        if w["number"] in tidal:
            w["kind"] = "tidal"
        elif w.get("kind") == "tidal":
            w["kind"] = "comprehensive"  # the controller drives only the scenario's tidal windows
        if w["number"] in scenario.window_queues:
            w["queues"] = list(scenario.window_queues[w["number"]])
        w["open_by_default"] = w["number"] in scenario.windows
    known = {q["code"] for q in data["queues"]}
    for item in data["items"]:
        item.pop("daily_quota", None)  # the simulator measures waiting, not rationing
        if item["code"] in scenario.item_queue:
            item["queue"] = scenario.item_queue[item["code"]]
    for code in sorted({q for qs in scenario.window_queues.values() for q in qs} | set(scenario.item_queue.values())):
        if code not in known:
            minutes = [float(i["service_minutes"]) for i in data["items"] if i["queue"] == code]
            data["queues"].append(
                {
                    "code": code,
                    "prefix": code,
                    "name": f"队列{code}",
                    "kind": "normal",
                    "service_minutes": round(sum(minutes) / len(minutes), 2) if minutes else 6,
                }
            )
            known.add(code)
    hall_config.validate(data)
    return data


def _scratch() -> str | None:
    """Where a throw-away day database goes: RAM (/dev/shm) when there is one, else the usual temp dir."""
    shm = "/dev/shm"  # noqa: S108 - only the parent of a mkdtemp() directory
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def simulate_day(scenario: Scenario, seed: int, workdir: Path | None = None) -> DayResult:
    """Run one day; deterministic for (scenario, seed)."""
    data = hall_data(scenario)
    if workdir is not None:
        return _Day(scenario, seed, workdir, data).run()
    with tempfile.TemporaryDirectory(prefix="hall-sim-", dir=_scratch()) as tmp:
        return _Day(scenario, seed, Path(tmp), data).run()


def stationary_scenario(
    rho: float,
    *,
    servers: int = 4,
    service_minutes: float = 5.0,
    hours: int = 22,
    warmup_minutes: float = 120.0,
    name: str | None = None,
) -> Scenario:
    """An M/M/c day: Poisson arrivals at a constant rate giving utilisation ``rho``, exponential service of
    mean ``service_minutes``, ``servers`` comprehensive windows open from 00:00 for ``hours`` hours, the pooled
    FIFO policy, one item, no priorities, joint tickets, no-shows, walking time or breaks."""
    if not 0 < rho < 1:
        raise ValueError("rho must be in (0, 1)")
    if not 1 <= servers <= 6 or not 1 <= hours <= 23:
        raise ValueError("1..6 windows (the demo hall's comprehensive and tidal ones), 1..23 hours")
    per_hour = rho * servers / service_minutes * 60
    return Scenario(
        name or f"M/M/{servers} rho={rho:g}",
        arrivals={h: per_hour for h in range(hours)},
        open_at=time(0, 0),
        close_at=time(hours, 0),
        exponential=True,
        service_minutes=service_minutes,
        priority_share=0.0,
        joint_share=0.0,
        no_show_prob=0.0,
        walk_seconds=(0.0, 0.0),
        windows=tuple(range(1, servers + 1)),
        routing={"policy": "pooled"},
        items=("YB001",),
        warmup_minutes=warmup_minutes,
    )


def category_lines(
    windows: Sequence[int],
    department_weight: dict[str, float] | None = None,
    base: dict[str, Any] | None = None,
) -> tuple[dict[str, str], dict[int, list[str]], dict[str, dict[str, Any]]]:
    """Split the hall into one line per item category with dedicated windows (分类窗口).

    A category whose offered load is worth at least one window gets a line of its own; the smaller ones share
    one line ("其他"). Windows go to lines one by one, each to the line with the highest load per window
    (every line gets at least one). Returns (item → queue, window → [queue], queue → description).
    """
    data = base or hall_config.load()
    weight = department_weight or {"医保": 1.0, "人社": 0.2}
    load: dict[str, float] = {}
    items: dict[str, list[str]] = {}
    for item in data["items"]:
        w = weight.get(item["department"], 1.0) * float(item["service_minutes"])
        load[item["category"]] = load.get(item["category"], 0.0) + w
        items.setdefault(item["category"], []).append(item["code"])
    total = sum(load.values())
    share = {c: v / total * len(windows) for c, v in load.items()}  # in windows' worth of work
    own = sorted((c for c in share if share[c] >= 1.0), key=lambda c: -share[c])
    rest = [c for c in share if c not in own]
    lines: list[tuple[str, list[str]]] = [(c, [c]) for c in own] + ([("其他", rest)] if rest else [])
    if len(lines) > len(windows):
        raise ValueError("fewer windows than category lines")
    line_load = [sum(share[c] for c in cats) for _, cats in lines]
    count = [1] * len(lines)
    for _ in range(len(windows) - len(lines)):
        k = max(range(len(lines)), key=lambda i: line_load[i] / count[i])
        count[k] += 1
    item_queue: dict[str, str] = {}
    window_queues: dict[int, list[str]] = {}
    described: dict[str, dict[str, Any]] = {}
    free = list(windows)
    for k, (label, cats) in enumerate(lines):
        code = f"C{k + 1}"
        for c in cats:
            for item in items[c]:
                item_queue[item] = code
        mine, free = free[: count[k]], free[count[k] :]
        for n in mine:
            window_queues[n] = [code]
        described[code] = {
            "line": label,
            "categories": cats,
            "windows": mine,
            "load_windows": round(line_load[k], 2),
        }
    return item_queue, window_queues, described


def per_category_scenario(name: str = "per category", **overrides: Any) -> Scenario:
    """The demo day with one line per item category (``category_lines``) instead of the pooled queue."""
    sc = Scenario(name, **overrides)
    item_queue, window_queues, _ = category_lines(sc.windows, sc.department_weight)
    sc.item_queue = {**item_queue, **sc.item_queue}
    sc.window_queues = {**window_queues, **sc.window_queues}
    return sc


def fifo_reference_waits(arrivals: Sequence[float], services: Sequence[float], servers: int) -> list[float]:
    """Waits of a first-come-first-served queue with ``servers`` identical servers that start at once when
    free (the Kiefer–Wolfowitz recursion), for arrival times in order and their handling times."""
    free = [0.0] * servers
    waits = []
    for a, s in zip(arrivals, services, strict=True):
        start = max(a, heapq.heappop(free))
        heapq.heappush(free, start + s)
        waits.append(start - a)
    return waits


def compare(
    scenarios: Sequence[Scenario], seeds: Sequence[int], progress: Callable[[str], None] | None = None
) -> dict[str, list[DayResult]]:
    """Run every scenario for every seed (common random numbers across scenarios)."""
    out: dict[str, list[DayResult]] = {}
    for sc in scenarios:
        for seed in seeds:
            out.setdefault(sc.name, []).append(simulate_day(sc, seed))
            if progress:
                progress(f"{sc.name} seed {seed} done")
    return out


def aggregate(results: Sequence[DayResult]) -> dict[str, Any]:
    """Pool several days of one scenario into one summary."""
    waits = [w for r in results for w in r.waits]
    prio = [w for r in results for w in r.waits_priority]
    peak = [w for r in results for h, ws in r.waits_by_hour.items() if 9 <= h < 11 for w in ws]
    eta_pairs = [p for r in results for p in r.eta_pairs]
    return {
        "days": len(results),
        "tickets": sum(r.tickets for r in results),
        "all": stats.wait_summary(waits),
        "priority": stats.wait_summary(prio),
        "peak": stats.wait_summary(peak),
        "eta": stats.eta_accuracy(eta_pairs),
        "tidal_staff_hours_per_day": round(sum(r.tidal_staff_minutes for r in results) / 60 / max(1, len(results)), 2),
    }


def standard_scenarios() -> list[Scenario]:
    """The policy sets compared by the CLI and the benchmark."""
    return [
        Scenario("pooled+green+tidal 6, 9", tidal_window=(6, 9)),
        Scenario("pooled+green+tidal 6 only", tidal_window=6),
        Scenario("pooled+green (no tidal)"),
        Scenario("pooled FIFO only", routing={"policy": "pooled"}, tidal_window=(6, 9)),
    ]


def format_table(summaries: dict[str, dict[str, Any]]) -> str:
    """A plain-text comparison table."""
    head = (
        f"{'policy set':28} {'tickets':>7} {'mean':>6} {'P90':>6} {'≤15min':>7} {'peak mean':>9} "
        f"{'prio P90':>8} {'ETA in':>6} {'ETA MAE':>7} {'tidal h':>7}"
    )
    lines = [head, "-" * len(head)]
    for name, s in summaries.items():

        def f(x: Any, spec: str = ".1f") -> str:
            return "-" if x is None else format(x, spec)

        lines.append(
            f"{name:28} {s['tickets']:>7} {f(s['all']['mean']):>6} {f(s['all']['p90']):>6} "
            f"{f(s['all']['within_15'], '.0%'):>7} {f(s['peak']['mean']):>9} {f(s['priority']['p90']):>8} "
            f"{f(s['eta']['inside'], '.0%'):>6} {f(s['eta']['mae']):>7} {s['tidal_staff_hours_per_day']:>7}"
        )
    return "\n".join(lines)


def chart(results: dict[str, list[DayResult]], path: Path) -> Path:
    """PNG chart of the mean wait by hour of day for each policy set (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    for name, days in results.items():
        hours = sorted({h for d in days for h in d.waits_by_hour})
        means = []
        for h in hours:
            ws = [w for d in days for w in d.waits_by_hour.get(h, [])]
            means.append(sum(ws) / len(ws) if ws else math.nan)
        ax.plot(hours, means, marker="o", label=name)
    ax.set_xlabel("hour of day (arrival)")
    ax.set_ylabel("mean wait (min)")
    ax.set_title("Simulated hall day: mean wait by hour")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    """Compare the standard policy sets over seeded runs; print a table and write a chart."""
    parser = argparse.ArgumentParser(description="Simulate hall days and compare routing policies")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chart", type=Path, default=Path("instance/simulation.png"))
    args = parser.parse_args(argv)
    seeds = list(range(args.seed, args.seed + args.runs))
    results = compare(standard_scenarios(), seeds, progress=lambda m: print(m, flush=True))
    print(format_table({name: aggregate(days) for name, days in results.items()}))
    print(f"chart: {chart(results, args.chart)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
