"""A hall day on a fake clock, driving the production engine and routing policies (not a copy of them).

Each simulated day gets its own SQLite file seeded from a hall config; arrivals, service times, no-shows and
clerk behaviour are drawn from a seeded random generator, so a (scenario, seed) pair always gives the same
day. Results come from the period history through hall.stats, exactly as the manager's reports do.

CLI: ``python -m hall.simulate [--runs N] [--seed S] [--chart out.png]`` (or ``flask --app app hall simulate``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import heapq
import itertools
import math
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
from hall.tidal import Load, TidalRule, TidalState, decide

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
    tidal_window: int | None = None  # opened and closed by hall.tidal when set
    tidal_rule: TidalRule = field(default_factory=TidalRule)
    routing: dict[str, Any] = field(default_factory=dict)  # overrides of [hall.settings.routing]
    window_queues: dict[int, list[str]] = field(default_factory=dict)  # override what windows serve
    item_queue: dict[str, str] = field(default_factory=dict)  # override the queue of items
    items: Sequence[str] | None = None  # restrict the item mix (codes)
    department_weight: dict[str, float] = field(default_factory=lambda: {"医保": 1.0, "人社": 0.2})
    exponential: bool = False  # M/M/c validation: exponential service with each item's mean
    breaks: dict[int, tuple[time, time]] = field(default_factory=dict)  # window -> (from, to) pause


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
    tidal_staff_minutes: float

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
            "peak": stats.wait_summary(peak_waits),
            "eta": stats.eta_accuracy(self.eta_pairs),
            "tidal_staff_hours": round(self.tidal_staff_minutes / 60, 2),
        }


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
        self.tidal_state = TidalState()
        self.tidal_open_since: datetime | None = None
        self.tidal_minutes = 0.0
        self.arrival_times: list[datetime] = []
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
        if self.sc.tidal_window is not None:
            t = self.start
            while t < self.end:
                self.at(t, "tidal", None)
                t += timedelta(minutes=5)
        last = self.start
        while self.queue:
            when, _, kind, data = heapq.heappop(self.queue)
            self.clock.set(max(when, self.clock.now()))
            last = when
            getattr(self, f"_on_{kind}")(data)
        if self.tidal_open_since is not None:
            self.tidal_minutes += (last - self.tidal_open_since).total_seconds() / 60
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
    def _on_arrival(self, _: Any) -> None:
        self.arrival_times.append(self.clock.now())
        r = self.rng.random()
        priority = None
        if r < self.sc.priority_share:
            priority = self.rng.choice(["disabled", "veteran", "military"])
        joint = self.rng.random() < self.sc.joint_share and len(self.by_dept) > 1
        if joint:
            depts = sorted(self.by_dept)
            codes = [self.rng.choice(self.by_dept[depts[0]])["code"], self.rng.choice(self.by_dept[depts[1]])["code"]]
        else:
            weights = [self.sc.department_weight.get(i["department"], 1.0) for i in self.items]
            codes = [self.rng.choices(self.items, weights=weights)[0]["code"]]
        try:
            self.engine.issue(self.kiosk, self.hall_id, codes, priority=priority)
        except HallError:
            return  # quota reached: the citizen goes home (counted as not issued)
        for n in self.sc.windows + ((self.sc.tidal_window,) if self.tidal_state.is_open else ()):
            if n not in self.busy:
                self.at(self.clock.now(), "free", n)

    def _on_free(self, n: int) -> None:
        if n in self.busy:
            return
        try:
            ticket = self.engine.call_next(self.staff, self.hall_id, n)
        except HallError:
            return  # paused or closed: it comes back on resume
        if ticket is None:
            return
        self.busy.add(n)
        if self.rng.random() < self.sc.no_show_prob:
            self.at(self.clock.now() + timedelta(minutes=1.5), "no_show", n)
            return
        self.at(self.clock.now() + timedelta(seconds=self.rng.uniform(20, 60)), "start", (n, ticket))

    def _on_no_show(self, n: int) -> None:
        self.engine.no_show(self.staff, self.hall_id, n)
        self.busy.discard(n)
        self._on_free(n)

    def _on_start(self, data: tuple[int, dict]) -> None:
        n, ticket = data
        self.engine.start(self.staff, self.hall_id, n)
        mean = sum(self.service_min.get(i["code"], 6.0) for i in ticket["items"])
        self.at(self.clock.now() + timedelta(minutes=self._service(mean)), "done", n)

    def _service(self, mean: float) -> float:
        if self.sc.exponential:
            return self.rng.expovariate(1.0 / mean)
        cv = self.sc.service_cv
        return self.rng.gammavariate(1.0 / cv**2, mean * cv**2)

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
        n = self.sc.tidal_window
        assert n is not None
        load = self.engine.load(self.hall_id)
        now = self.clock.now()
        recent = [t for t in self.arrival_times if now - t <= timedelta(minutes=30)]
        open_windows = sum(1 for w in load["windows"] if w["state"] == "open" and w["number"] != n)
        mean = sum(self.service_min.values()) / max(1, len(self.service_min))
        decision = decide(
            self.sc.tidal_rule,
            self.tidal_state,
            Load(
                arrivals_per_hour=len(recent) * 2,
                mean_service_minutes=mean,
                open_windows=open_windows,
                head_wait_minutes=load["longest_wait_seconds"] / 60,
                local_time=now.astimezone(TZ).time(),
            ),
            now,
        )
        if not decision.changed:
            return
        if decision.open:
            self.engine.window_action(self.staff, self.hall_id, n, "open")
            self.tidal_open_since = now
            self._on_free(n)
        else:
            self._close_tidal(n)

    def _close_tidal(self, n: int) -> None:
        if n in self.busy:
            self.at(self.clock.now() + timedelta(minutes=1), "close_tidal", n)
            return
        self.engine.window_action(self.staff, self.hall_id, n, "close")
        if self.tidal_open_since is not None:
            self.tidal_minutes += (self.clock.now() - self.tidal_open_since).total_seconds() / 60
            self.tidal_open_since = None

    def _on_close_tidal(self, n: int) -> None:
        if not self.tidal_state.is_open:
            self._close_tidal(n)

    # --- results ----------------------------------------------------------------------------------
    def _result(self) -> DayResult:
        with self.db.read() as session:
            rows, tickets = Repository(session).period_rows(self.hall_id)
        self.db.dispose()
        facts = stats.facts(rows)
        waits, waits_priority, eta_pairs = [], [], []
        by_hour: dict[int, list[float]] = {}
        for t in tickets:
            f = facts.get(t["id"])
            if f is None or f.wait_minutes is None:
                continue
            waits.append(f.wait_minutes)
            if t["priority"]:
                waits_priority.append(f.wait_minutes)
            by_hour.setdefault(t["issued_at"].astimezone(TZ).hour, []).append(f.wait_minutes)
            if t["eta_low"] is not None:
                eta_pairs.append((t["eta_low"], t["eta_high"], f.wait_minutes))
        return DayResult(
            scenario=self.sc.name,
            seed=self.seed,
            tickets=len(tickets),
            served=sum(1 for f in facts.values() if f.outcome == "completed"),
            waits=waits,
            waits_priority=waits_priority,
            waits_by_hour=by_hour,
            eta_pairs=eta_pairs,
            tidal_staff_minutes=self.tidal_minutes,
        )


def hall_data(scenario: Scenario, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The demo hall config with the scenario's overrides applied."""
    data = copy.deepcopy(base or hall_config.load())
    settings = data["hall"].setdefault("settings", {})
    settings["routing"] = {**settings.get("routing", {}), **scenario.routing}
    settings.pop("tickets_per_id_per_day", None)
    for w in data["windows"]:
        if w["number"] in scenario.window_queues:
            w["queues"] = list(scenario.window_queues[w["number"]])
        w["open_by_default"] = w["number"] in scenario.windows
    known = {q["code"] for q in data["queues"]}
    for item in data["items"]:
        item.pop("daily_quota", None)  # the simulator measures waiting, not rationing
        if item["code"] in scenario.item_queue:
            item["queue"] = scenario.item_queue[item["code"]]
    for code in {q for qs in scenario.window_queues.values() for q in qs} | set(scenario.item_queue.values()):
        if code not in known:
            data["queues"].append({"code": code, "prefix": code, "name": f"队列{code}", "kind": "normal"})
            known.add(code)
    hall_config.validate(data)
    return data


def simulate_day(scenario: Scenario, seed: int, workdir: Path | None = None) -> DayResult:
    """Run one day; deterministic for (scenario, seed)."""
    data = hall_data(scenario)
    if workdir is not None:
        return _Day(scenario, seed, workdir, data).run()
    with tempfile.TemporaryDirectory(prefix="hall-sim-") as tmp:
        return _Day(scenario, seed, Path(tmp), data).run()


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
        Scenario("pooled+green+tidal", tidal_window=6),
        Scenario("pooled+green (no tidal)"),
        Scenario("pooled FIFO only", routing={"policy": "pooled"}, tidal_window=6),
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
