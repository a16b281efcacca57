"""Routing benchmark: the acceptance figures of the routing work, from seeded simulated days on the real engine.

1. M/M/c validation: stationary days (Poisson arrivals, exponential service, c pooled FIFO windows) at
   ρ = 0.7/0.8/0.9 against Erlang C. A day of the engine costs ~18 ms per ticket, so the raw mean wait of a
   few thousand tickets has a wide interval at high load (waits are strongly autocorrelated); it is reported
   as measured. The tight check has three parts: (a) the inputs the simulator draws (arrival rate, mean and
   CV of handling times) match the model; (b) every engine wait equals, ticket by ticket, the wait that the
   first-come-first-served multi-server recursion gives for the same arrival and handling times, so the
   engine behaves exactly as a FIFO M/M/c queue; (c) that recursion, run long on the same input model
   (cheap: no engine), gives Erlang C's Wq within a tight interval.
2. Pooled comprehensive queue vs one line per item category with the same seven windows.
3. Tidal windows: peak-hour (09–11 arrivals) mean wait with the demo hall's two tidal stages (windows 6 and 9,
   hall.tidal), with the first one alone, and without any, and the staff-hours each costs.
4. 绿色通道: priority P90 wait, and the normal tickets' mean wait against a baseline where the same priority
   citizens take ordinary tickets.
5. ETA: share of actual waits inside the printed range and MAE of its midpoint on the demo day.

Days run in parallel processes. Sizes: BENCH_ROUTING_SEEDS (10), BENCH_ROUTING_MMC_REPS (4),
BENCH_ROUTING_MMC_HOURS (16), BENCH_ROUTING_PROCS (2); the recursion check: BENCH_ROUTING_RECURSION_REPS (20)
× BENCH_ROUTING_RECURSION_HOURS (5000).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from bench.stats import table, write
from hall import stats
from hall.queueing import mmc_mean_wait
from hall.simulate import (
    DEMO_PROFILE,
    DayResult,
    Scenario,
    category_lines,
    fifo_reference_waits,
    per_category_scenario,
    simulate_day,
    stationary_scenario,
)

RHOS = (0.7, 0.8, 0.9)
SERVERS = 4
SERVICE_MINUTES = 5.0
WARMUP_MINUTES = 120.0
PEAK = (9, 11)  # arrival hours of the morning peak
TIDAL = (6, 9)  # the demo hall's tidal windows, in stage order

# Two-sided 95% Student t quantiles.
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131]
_T95 += [2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t95(df: int) -> float:
    """Two-sided 95% t quantile (Cornish–Fisher beyond 30 degrees of freedom)."""
    if df < 1:
        return math.inf
    if df <= len(_T95):
        return _T95[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df)


def mean_ci(xs: Sequence[float]) -> dict[str, float]:
    """Mean and 95% t interval over independent replications."""
    n = len(xs)
    m = statistics.fmean(xs)
    half = t95(n - 1) * statistics.stdev(xs) / math.sqrt(n) if n > 1 else math.inf
    return {"mean": m, "low": m - half, "high": m + half, "n": n}


def ratio_ci(ys: Sequence[float], xs: Sequence[float]) -> dict[str, float]:
    """Ratio of means Σy/Σx over paired replications with a 95% delta-method interval."""
    n = len(xs)
    r = sum(ys) / sum(xs)
    resid = [y - r * x for x, y in zip(xs, ys, strict=True)]
    half = t95(n - 1) * statistics.stdev(resid) / math.sqrt(n) / statistics.fmean(xs) if n > 1 else math.inf
    return {"ratio": r, "low": r - half, "high": r + half, "n": n}


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def _peak(day: DayResult) -> list[float]:
    return [w for h, ws in day.waits_by_hour.items() if PEAK[0] <= h < PEAK[1] for w in ws]


def scenarios() -> dict[str, Scenario]:
    """The demo-day policy sets this benchmark compares (all on the demo hall's arrivals and item mix)."""
    clean = {"priority_share": 0.0, "joint_share": 0.0}
    return {
        "production": Scenario("pooled+green+tidal windows 6, 9 (demo day)", tidal_window=TIDAL),
        "one_tidal": Scenario("pooled+green+tidal window 6 only", tidal_window=TIDAL[0]),
        "no_tidal": Scenario("pooled+green, no tidal window"),
        "no_green": Scenario(
            "pooled+tidal, priority citizens take ordinary tickets", tidal_window=TIDAL, green_channel=False
        ),
        "pooled": Scenario("pooled, no priority/joint tickets", **clean),
        "per_category": per_category_scenario("one line per category, no priority/joint tickets", **clean),
    }


def volume_scenarios(factor: float) -> dict[str, Scenario]:
    """The demo day with every hour's arrivals scaled by ``factor``: no tidal window, window 6, windows 6 + 9."""
    arrivals = {h: r * factor for h, r in DEMO_PROFILE.items()}
    return {
        f"vol{factor:g}_none": Scenario(f"x{factor:g} no tidal", arrivals=arrivals),
        f"vol{factor:g}_one": Scenario(f"x{factor:g} tidal 6", arrivals=arrivals, tidal_window=TIDAL[0]),
        f"vol{factor:g}_two": Scenario(f"x{factor:g} tidal 6+9", arrivals=arrivals, tidal_window=TIDAL),
    }


def _volume(factor: float, results: dict[str, dict[int, DayResult]]) -> dict[str, Any]:
    """Peak cut with one and with two tidal windows on a scaled demo day."""
    key = f"vol{factor:g}"
    none, one, two = (_days(results, f"{key}_{k}") for k in ("none", "one", "two"))
    without = [_mean(_peak(d)) for d in none]
    r1 = ratio_ci([_mean(_peak(d)) for d in one], without)
    r2 = ratio_ci([_mean(_peak(d)) for d in two], without)
    return {
        "factor": factor,
        "seeds": len(none),
        "arrivals_per_day": _mean([d.tickets for d in none]),
        "peak_mean_wait_without": _rounded(mean_ci(without)),
        "peak_mean_wait_with": _rounded(mean_ci([_mean(_peak(d)) for d in two])),
        "cut": round(1 - r2["ratio"], 4),
        "cut_ci": [round(1 - r2["high"], 4), round(1 - r2["low"], 4)],
        "staff_hours": round(_mean([d.tidal_staff_minutes / 60 for d in two]), 2),
        "first_window_only": {
            "peak_mean_wait_with": _rounded(mean_ci([_mean(_peak(d)) for d in one])),
            "cut": round(1 - r1["ratio"], 4),
            "cut_ci": [round(1 - r1["high"], 4), round(1 - r1["low"], 4)],
            "staff_hours": round(_mean([d.tidal_staff_minutes / 60 for d in one]), 2),
        },
    }


def _day(task: tuple[str, Scenario, int]) -> tuple[str, int, DayResult, float]:
    key, sc, seed = task
    t0 = time.process_time()
    day = simulate_day(sc, seed)
    return key, seed, day, time.process_time() - t0


def _run_days(tasks: list[tuple[str, Scenario, int]], procs: int) -> tuple[dict[str, dict[int, DayResult]], dict]:
    out: dict[str, dict[int, DayResult]] = {}
    cpu: dict[str, float] = {}
    done = 0
    ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
    with ProcessPoolExecutor(max_workers=procs, mp_context=ctx) as pool:
        futures = [pool.submit(_day, t) for t in tasks]
        for fut in as_completed(futures):
            key, seed, day, secs = fut.result()
            out.setdefault(key, {})[seed] = day
            cpu[key] = cpu.get(key, 0.0) + secs
            done += 1
            print(f"  [{done}/{len(tasks)}] {key} seed {seed}: {day.tickets} tickets, {secs:.1f} s", file=sys.stderr)
    return out, {k: round(v, 1) for k, v in cpu.items()}


def _recursion(rho: float, reps: int, hours: int) -> dict[str, Any]:
    """The FIFO recursion alone on the M/M/c input model (seeded): mean wait after the warm-up, t interval."""
    lam = rho * SERVERS / SERVICE_MINUTES
    means, customers = [], 0
    for r in range(reps):
        rng = random.Random(5000 + r)
        t, arrivals, handling = 0.0, [], []
        while (t := t + rng.expovariate(lam)) < hours * 60:
            arrivals.append(t)
            handling.append(rng.expovariate(1 / SERVICE_MINUTES))
        waits = fifo_reference_waits(arrivals, handling, SERVERS)
        kept = [w for a, w in zip(arrivals, waits, strict=True) if a >= WARMUP_MINUTES]
        means.append(_mean(kept))
        customers += len(kept)
    return {"ci": mean_ci(means), "customers": customers}


def _mmc(rho: float, days: list[DayResult], hours: int, recursion_reps: int, recursion_hours: int) -> dict[str, Any]:
    lam, mu = rho * SERVERS / SERVICE_MINUTES, 1 / SERVICE_MINUTES
    wq = mmc_mean_wait(lam, mu, SERVERS)
    engine, diffs, max_gap, arrivals, services = [], [], 0.0, [], []
    for day in days:
        offsets = [o for o, _, _ in day.timeline]
        handling = [s for _, _, s in day.timeline]
        ref = fifo_reference_waits(offsets, handling, SERVERS)
        pairs = [(w, r) for (o, w, _), r in zip(day.timeline, ref, strict=True) if o >= WARMUP_MINUTES]
        if any(w is None for w, _ in pairs):
            raise RuntimeError("a ticket of an M/M/c day was never called")
        engine.append(_mean([w for w, _ in pairs]))
        diffs.append(_mean([w - r for w, r in pairs]))
        max_gap = max(max_gap, max(abs(w - r) for w, r in pairs))
        measured = [s for o, _, s in day.timeline if o >= WARMUP_MINUTES]
        arrivals.append(len(measured) / (hours * 60 - WARMUP_MINUTES))
        services.extend(measured)
    raw = mean_ci(engine)
    recursion = _recursion(rho, recursion_reps, recursion_hours)
    s_mean = statistics.fmean(services)
    s_sd = statistics.stdev(services)
    lam_ci = mean_ci(arrivals)
    return {
        "rho": rho,
        "servers": SERVERS,
        "service_minutes": SERVICE_MINUTES,
        "arrivals_per_minute": round(lam, 4),
        "erlang_c_wq_minutes": round(wq, 4),
        "replications": len(days),
        "hours_per_replication": hours,
        "warmup_minutes": WARMUP_MINUTES,
        "tickets_measured": sum(len([1 for o, _, _ in d.timeline if o >= WARMUP_MINUTES]) for d in days),
        "engine_mean_wait": _rounded(raw),
        "engine_error": round(raw["mean"] / wq - 1, 4),
        "engine_error_ci": [round(raw["low"] / wq - 1, 4), round(raw["high"] / wq - 1, 4)],
        "engine_vs_fifo_recursion_max_abs_seconds": max_gap * 60,
        "engine_minus_recursion_mean_minutes": max(abs(d) for d in diffs),
        "recursion": {
            "replications": recursion_reps,
            "hours_per_replication": recursion_hours,
            "customers": recursion["customers"],
            "mean_wait": _rounded(recursion["ci"]),
            "error": round(recursion["ci"]["mean"] / wq - 1, 4),
            "error_ci": [round(recursion["ci"]["low"] / wq - 1, 4), round(recursion["ci"]["high"] / wq - 1, 4)],
        },
        "inputs": {
            "arrival_rate": _rounded(lam_ci),
            "arrival_rate_error": round(lam_ci["mean"] / lam - 1, 4),
            "arrival_rate_error_ci": [round(lam_ci["low"] / lam - 1, 4), round(lam_ci["high"] / lam - 1, 4)],
            "service_mean": round(s_mean, 4),
            "service_mean_ci": [
                round(s_mean - 1.96 * s_sd / math.sqrt(len(services)), 4),
                round(s_mean + 1.96 * s_sd / math.sqrt(len(services)), 4),
            ],
            "service_cv": round(s_sd / s_mean, 4),
        },
    }


def _rounded(ci: dict[str, float], digits: int = 3) -> dict[str, float]:
    return {k: (round(v, digits) if k != "n" else v) for k, v in ci.items()}


def _days(results: dict[str, dict[int, DayResult]], key: str) -> list[DayResult]:
    return [results[key][s] for s in sorted(results[key])]


def _pct(x: float, digits: int = 1) -> str:
    return f"{x * 100:+.{digits}f}%"


def run() -> dict:
    """Run everything; write bench/results/routing.json; return the figures and a printable table."""
    seeds = list(range(1, int(os.environ.get("BENCH_ROUTING_SEEDS", "10")) + 1))
    reps = int(os.environ.get("BENCH_ROUTING_MMC_REPS", "4"))
    hours = int(os.environ.get("BENCH_ROUTING_MMC_HOURS", "16"))
    procs = int(os.environ.get("BENCH_ROUTING_PROCS", "2"))
    factors = [float(f) for f in os.environ.get("BENCH_ROUTING_VOLUMES", "").split(",") if f.strip()]
    if factors:
        return run_volumes(factors, procs)
    wall0 = time.perf_counter()
    demo = scenarios()
    tasks: list[tuple[str, Scenario, int]] = []
    for rho in RHOS:  # the longest days first, so the two processes finish together
        for rep in range(1, reps + 1):
            sc = stationary_scenario(
                rho, servers=SERVERS, service_minutes=SERVICE_MINUTES, hours=hours, warmup_minutes=WARMUP_MINUTES
            )
            tasks.append((f"mmc_{rho:g}", sc, 1000 + rep))
    tasks.sort(key=lambda t: -t[1].arrivals[0])
    tasks += [(key, sc, seed) for key, sc in demo.items() for seed in seeds]
    results, cpu = _run_days(tasks, procs)

    # 1. M/M/c
    rec_reps = int(os.environ.get("BENCH_ROUTING_RECURSION_REPS", "20"))
    rec_hours = int(os.environ.get("BENCH_ROUTING_RECURSION_HOURS", "5000"))
    mmc = [_mmc(rho, _days(results, f"mmc_{rho:g}"), hours, rec_reps, rec_hours) for rho in RHOS]

    # 2. pooled vs per category
    pooled, per_cat = _days(results, "pooled"), _days(results, "per_category")
    xs = [_mean(d.waits) for d in pooled]
    ys = [_mean(d.waits) for d in per_cat]
    _, _, lines = category_lines(demo["per_category"].windows, demo["per_category"].department_weight)
    pooling = {
        "seeds": len(seeds),
        "windows": list(demo["pooled"].windows),
        "category_lines": lines,
        "pooled_mean_wait": _rounded(mean_ci(xs)),
        "per_category_mean_wait": _rounded(mean_ci(ys)),
        "ratio_per_category_over_pooled": _rounded(ratio_ci(ys, xs)),
        "per_seed_ratio_min_max": [
            round(min(y / x for x, y in zip(xs, ys, strict=True)), 2),
            round(max(y / x for x, y in zip(xs, ys, strict=True)), 2),
        ],
        "pooled_p90": stats.wait_summary([w for d in pooled for w in d.waits])["p90"],
        "per_category_p90": stats.wait_summary([w for d in per_cat for w in d.waits])["p90"],
    }

    # 3. tidal window
    prod, no_tidal, no_green = _days(results, "production"), _days(results, "no_tidal"), _days(results, "no_green")
    one = _days(results, "one_tidal")
    without = [_mean(_peak(d)) for d in no_tidal]
    with_ = [_mean(_peak(d)) for d in prod]
    with_one = [_mean(_peak(d)) for d in one]
    r = ratio_ci(with_, without)
    r1 = ratio_ci(with_one, without)
    staff = mean_ci([d.tidal_staff_minutes / 60 for d in prod])
    tidal = {
        "seeds": len(seeds),
        "peak_hours": list(PEAK),
        "tidal_windows": list(TIDAL),
        "peak_mean_wait_without": _rounded(mean_ci(without)),
        "peak_mean_wait_with": _rounded(mean_ci(with_)),
        "cut": round(1 - r["ratio"], 4),
        "cut_ci": [round(1 - r["high"], 4), round(1 - r["low"], 4)],
        "all_day_mean_wait_without": round(_mean([w for d in no_tidal for w in d.waits]), 2),
        "all_day_mean_wait_with": round(_mean([w for d in prod for w in d.waits]), 2),
        "extra_staff_hours_per_day": _rounded(staff, 2),
        "extra_staff_hours_per_day_by_window": {
            str(n): _rounded(mean_ci([d.tidal_staff_minutes_by_window.get(n, 0.0) / 60 for d in prod]), 2)
            for n in TIDAL
        },
        "first_window_only": {
            "window": TIDAL[0],
            "peak_mean_wait_with": _rounded(mean_ci(with_one)),
            "cut": round(1 - r1["ratio"], 4),
            "cut_ci": [round(1 - r1["high"], 4), round(1 - r1["low"], 4)],
            "all_day_mean_wait_with": round(_mean([w for d in one for w in d.waits]), 2),
            "extra_staff_hours_per_day": _rounded(mean_ci([d.tidal_staff_minutes / 60 for d in one]), 2),
        },
    }

    # 4. green channel (same arrivals; the baseline gives the priority citizens ordinary tickets)
    prio = [w for d in prod for w in d.waits_priority]
    normal_with = [_mean(d.waits_normal) for d in prod]
    normal_base = [_mean(d.waits_normal) for d in no_green]
    g = ratio_ci(normal_with, normal_base)
    green = {
        "seeds": len(seeds),
        "priority_tickets": len(prio),
        "priority_p90": stats.percentile(prio, 90),
        "priority_p90_per_day": _rounded(mean_ci([stats.percentile(d.waits_priority, 90) or 0.0 for d in prod])),
        "priority_mean": round(_mean(prio), 2),
        "priority_citizens_mean_in_baseline": round(_mean([w for d in no_green for w in d.waits_priority]), 2),
        "normal_mean_with_green": _rounded(mean_ci(normal_with)),
        "normal_mean_baseline": _rounded(mean_ci(normal_base)),
        "normal_rise": round(g["ratio"] - 1, 4),
        "normal_rise_ci": [round(g["low"] - 1, 4), round(g["high"] - 1, 4)],
    }

    # 5. ETA on the demo day
    inside = mean_ci([stats.eta_accuracy(d.eta_pairs)["inside"] for d in prod])
    mae = mean_ci([stats.eta_accuracy(d.eta_pairs)["mae"] for d in prod])
    eta = {
        "seeds": len(seeds),
        "scenario": demo["production"].name,
        "tickets": sum(len(d.eta_pairs) for d in prod),
        "inside": _rounded(inside, 4),
        "mae_minutes": _rounded(mae),
        "pooled": stats.eta_accuracy([p for d in prod for p in d.eta_pairs]),
        "without_tidal_window": stats.eta_accuracy([p for d in no_tidal for p in d.eta_pairs]),
    }

    wall = time.perf_counter() - wall0
    result = {
        "seeds": seeds,
        "engine": "hall.engine on SQLite (one file per simulated day), hall.routing policies, FakeClock",
        "processes": procs,
        "wall_seconds": round(wall, 1),
        "cpu_seconds_by_scenario": cpu,
        "scenarios": {k: sc.name for k, sc in demo.items()},
        "mmc_method": (
            "engine_mean_wait: plain mean over tickets issued after the warm-up, t interval over replications "
            "(too few tickets for a tight interval). engine_vs_fifo_recursion_max_abs_seconds: largest difference "
            "between an engine wait and the FIFO multi-server recursion's wait for the same arrival and handling "
            "times. inputs: what the simulator drew. recursion: the same recursion alone on the M/M/c input model, "
            "long replications, against Erlang C."
        ),
        "mmc": mmc,
        "pooling": pooling,
        "tidal": tidal,
        "green": green,
        "eta": eta,
    }
    result["table"] = table(_rows(result))
    write("routing", {k: v for k, v in result.items() if k != "table"})
    return result


def run_volumes(factors: Sequence[float], procs: int) -> dict:
    """Extra figures, not the acceptance ones: the tidal cut on demo days with every hour's arrivals scaled
    (``BENCH_ROUTING_VOLUMES=0.8,1.2``, ``BENCH_ROUTING_VOLUME_SEEDS`` (5) seeds each); writes
    bench/results/routing_volumes.json."""
    seeds = list(range(1, int(os.environ.get("BENCH_ROUTING_VOLUME_SEEDS", "5")) + 1))
    wall0 = time.perf_counter()
    tasks = [(key, sc, seed) for f in factors for key, sc in volume_scenarios(f).items() for seed in seeds]
    results, cpu = _run_days(tasks, procs)
    volumes = [_volume(f, results) for f in factors]
    result = {
        "demo_profile_per_hour": DEMO_PROFILE,
        "tidal_windows": list(TIDAL),
        "peak_hours": list(PEAK),
        "processes": procs,
        "wall_seconds": round(time.perf_counter() - wall0, 1),
        "cpu_seconds_by_scenario": cpu,
        "volumes": volumes,
    }
    rows: list[tuple[str, str, str, str]] = []
    for v in volumes:
        rows += [
            (
                f"volume x{v['factor']:g} ({v['arrivals_per_day']:.0f}/day), {v['seeds']} seeds: peak none/6/6+9",
                f"{v['peak_mean_wait_without']['mean']:.2f} / "
                f"{v['first_window_only']['peak_mean_wait_with']['mean']:.2f} / "
                f"{v['peak_mean_wait_with']['mean']:.2f} min",
                "",
                "",
            ),
            (
                f"volume x{v['factor']:g}: cut with 6 / with 6+9 (staff-hours)",
                f"{v['first_window_only']['cut'] * 100:.1f}% [{v['first_window_only']['cut_ci'][0] * 100:.1f}, "
                f"{v['first_window_only']['cut_ci'][1] * 100:.1f}] ({v['first_window_only']['staff_hours']:.2f} h) / "
                f"{v['cut'] * 100:.1f}% [{v['cut_ci'][0] * 100:.1f}, {v['cut_ci'][1] * 100:.1f}] "
                f"({v['staff_hours']:.2f} h)",
                "report",
                "",
            ),
        ]
    result["table"] = table(rows)
    write("routing_volumes", {k: v for k, v in result.items() if k != "table"})
    return result


def _rows(res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for m in res["mmc"]:
        head = f"M/M/{m['servers']} rho={m['rho']:g}"
        measured_h = m["hours_per_replication"] - m["warmup_minutes"] / 60
        e, rec = m["engine_mean_wait"], m["recursion"]
        lo, hi = m["engine_error_ci"]
        rlo, rhi = rec["error_ci"]
        inp = m["inputs"]
        rows += [
            (f"{head}: Erlang C Wq (min)", f"{m['erlang_c_wq_minutes']:.3f}", "", ""),
            (
                f"{head}: engine mean wait, {m['replications']}x{measured_h:g} h",
                f"{e['mean']:.3f} [{e['low']:.3f}, {e['high']:.3f}] err {_pct(m['engine_error'])} "
                f"(CI {_pct(lo, 0)}..{_pct(hi, 0)})",
                "|err| <= 5%",
                _ok(abs(m["engine_error"]) <= 0.05),
            ),
            (
                f"{head}: engine vs FIFO recursion, max |diff|",
                f"{m['engine_vs_fifo_recursion_max_abs_seconds']:.2g} s over {m['tickets_measured']} tickets",
                "<= 0.001 s",
                _ok(m["engine_vs_fifo_recursion_max_abs_seconds"] <= 0.001),
            ),
            (
                f"{head}: inputs: lambda error / service mean / CV",
                f"{_pct(inp['arrival_rate_error'])} [{_pct(inp['arrival_rate_error_ci'][0])}, "
                f"{_pct(inp['arrival_rate_error_ci'][1])}] / {inp['service_mean']:.3f} "
                f"[{inp['service_mean_ci'][0]:.3f}, {inp['service_mean_ci'][1]:.3f}] / {inp['service_cv']:.3f}",
                f"0, {m['service_minutes']:g}, 1 (in CI)",
                "",
            ),
            (
                f"{head}: FIFO recursion alone, {rec['replications']}x{rec['hours_per_replication']} h",
                f"{rec['mean_wait']['mean']:.3f} [{rec['mean_wait']['low']:.3f}, {rec['mean_wait']['high']:.3f}] "
                f"err {_pct(rec['error'])} (CI {_pct(rlo)}..{_pct(rhi)})",
                "|err| <= 5%",
                _ok(abs(rec["error"]) <= 0.05 and max(abs(rlo), abs(rhi)) <= 0.05),
            ),
        ]
    p = res["pooling"]
    pr = p["ratio_per_category_over_pooled"]
    rows += [
        (
            f"pooled vs per category: mean wait, {p['seeds']} seeds",
            f"{p['pooled_mean_wait']['mean']:.2f} vs {p['per_category_mean_wait']['mean']:.2f} min",
            "",
            "",
        ),
        (
            "pooled vs per category: ratio per-category / pooled",
            f"{pr['ratio']:.2f} [{pr['low']:.2f}, {pr['high']:.2f}] (per seed {p['per_seed_ratio_min_max'][0]}"
            f"..{p['per_seed_ratio_min_max'][1]})",
            "> 1",
            _ok(pr["low"] > 1),
        ),
    ]
    t = res["tidal"]
    one = t["first_window_only"]
    names = " + ".join(str(n) for n in t["tidal_windows"])
    by_window = ", ".join(f"window {n} {v['mean']:.2f}" for n, v in t["extra_staff_hours_per_day_by_window"].items())
    rows += [
        (
            f"tidal: peak mean wait without / with windows {names}, {t['seeds']} seeds",
            f"{t['peak_mean_wait_without']['mean']:.2f} / {t['peak_mean_wait_with']['mean']:.2f} min",
            "",
            "",
        ),
        (
            "tidal: peak mean wait cut (demo hall as configured)",
            f"{t['cut'] * 100:.1f}% [{t['cut_ci'][0] * 100:.1f}, {t['cut_ci'][1] * 100:.1f}]",
            ">= 50%",
            _ok(t["cut"] >= 0.5),
        ),
        (
            "tidal: extra staff-hours per day",
            f"{t['extra_staff_hours_per_day']['mean']:.2f} [{t['extra_staff_hours_per_day']['low']:.2f}, "
            f"{t['extra_staff_hours_per_day']['high']:.2f}] ({by_window})",
            "",
            "",
        ),
        (
            f"tidal: window {one['window']} alone: peak mean wait, cut",
            f"{one['peak_mean_wait_with']['mean']:.2f} min, {one['cut'] * 100:.1f}% "
            f"[{one['cut_ci'][0] * 100:.1f}, {one['cut_ci'][1] * 100:.1f}], "
            f"{one['extra_staff_hours_per_day']['mean']:.2f} staff-hours",
            "",
            "",
        ),
    ]
    g = res["green"]
    rows += [
        (
            f"green: priority P90 wait ({g['priority_tickets']} tickets, {g['seeds']} seeds)",
            f"{g['priority_p90']:.2f} min (per day {g['priority_p90_per_day']['mean']:.2f} "
            f"[{g['priority_p90_per_day']['low']:.2f}, {g['priority_p90_per_day']['high']:.2f}])",
            "<= 5 min",
            _ok(g["priority_p90"] <= 5),
        ),
        (
            "green: normal mean wait vs no-priority baseline",
            f"{g['normal_mean_with_green']['mean']:.2f} vs {g['normal_mean_baseline']['mean']:.2f} min, "
            f"{_pct(g['normal_rise'])} [{_pct(g['normal_rise_ci'][0])}, {_pct(g['normal_rise_ci'][1])}]",
            "<= +10%",
            _ok(g["normal_rise"] <= 0.10),
        ),
    ]
    e = res["eta"]
    rows += [
        (
            f"ETA: actual wait inside range ({e['tickets']} tickets, {e['seeds']} seeds)",
            f"{e['inside']['mean'] * 100:.1f}% [{e['inside']['low'] * 100:.1f}, {e['inside']['high'] * 100:.1f}]",
            ">= 80%",
            _ok(e["inside"]["mean"] >= 0.8),
        ),
        (
            "ETA: MAE of the range midpoint",
            f"{e['mae_minutes']['mean']:.2f} [{e['mae_minutes']['low']:.2f}, {e['mae_minutes']['high']:.2f}] min",
            "<= 3 min",
            _ok(e["mae_minutes"]["mean"] <= 3),
        ),
    ]
    rows.append(
        (
            "wall time (CPU time of the simulated days)",
            f"{res['wall_seconds']:.0f} s on {res['processes']} processes "
            f"({sum(res['cpu_seconds_by_scenario'].values()):.0f} s CPU)",
            "<= 360 s",
            _ok(res["wall_seconds"] <= 360),
        )
    )
    return rows


def _ok(flag: bool) -> str:
    return "yes" if flag else "NO"


if __name__ == "__main__":
    print(run()["table"])
