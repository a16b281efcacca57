"""KPIs computed from the period history only (pure): waits, handling times, outcomes, ETA accuracy.

Every figure a manager sees comes from here, so screens, exports and the simulator agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FINAL_OUTCOMES = ("completed", "no_show", "cancelled", "ended_by_reset")


@dataclass(frozen=True)
class PeriodRow:
    """One history row (state, when, where, who)."""

    ticket_id: int
    state: str
    started_at: datetime
    ended_at: datetime | None
    end_action: str | None = None
    window: int | None = None
    clerk_id: int | None = None


@dataclass(frozen=True)
class TicketFacts:
    """What the periods say about one ticket."""

    ticket_id: int
    entered_at: datetime
    last_called_at: datetime | None
    wait_minutes: float | None  # queue entry to the last call
    handling_minutes: float  # total time in service
    outcome: str | None  # final state, or None while open
    transfers: int
    parked: bool
    first_window: int | None
    calls: int


def facts(rows: Iterable[PeriodRow]) -> dict[int, TicketFacts]:
    """Fold period rows (any order) into per-ticket facts."""
    by_ticket: dict[int, list[PeriodRow]] = {}
    for row in rows:
        by_ticket.setdefault(row.ticket_id, []).append(row)
    out: dict[int, TicketFacts] = {}
    for ticket_id, periods in by_ticket.items():
        periods.sort(key=lambda p: (p.started_at, p.state != "waiting"))
        entered = periods[0].started_at
        called = [p for p in periods if p.state == "called"]
        last_call = called[-1].started_at if called else None
        serving = sum(_minutes(p.started_at, p.ended_at) for p in periods if p.state == "serving" and p.ended_at)
        final = periods[-1].state if periods[-1].state in FINAL_OUTCOMES else None
        first_window = next((p.window for p in periods if p.state == "serving"), None)
        out[ticket_id] = TicketFacts(
            ticket_id=ticket_id,
            entered_at=entered,
            last_called_at=last_call,
            wait_minutes=_minutes(entered, last_call) if last_call else None,
            handling_minutes=serving,
            outcome=final,
            transfers=sum(1 for p in periods if p.end_action == "transfer"),
            parked=any(p.state == "parked" for p in periods),
            first_window=first_window,
            calls=len(called),
        )
    return out


def _minutes(a: datetime, b: datetime | None) -> float:
    return 0.0 if b is None else (b - a).total_seconds() / 60.0


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def wait_summary(waits: Sequence[float], within: float = 15.0) -> dict[str, Any]:
    """Mean, P90 and the share served within ``within`` minutes."""
    if not waits:
        return {"count": 0, "mean": None, "p90": None, "within_15": None}
    return {
        "count": len(waits),
        "mean": round(sum(waits) / len(waits), 2),
        "p90": round(percentile(waits, 90) or 0.0, 2),
        "within_15": round(sum(1 for w in waits if w <= within) / len(waits), 4),
    }


def eta_accuracy(pairs: Iterable[tuple[float, float, float]]) -> dict[str, Any]:
    """(low, high, actual) triples → MAE against the range's midpoint and the share inside the range."""
    triples = list(pairs)
    if not triples:
        return {"count": 0, "mae": None, "inside": None}
    mae = sum(abs((lo + hi) / 2 - actual) for lo, hi, actual in triples) / len(triples)
    inside = sum(1 for lo, hi, actual in triples if lo <= actual <= hi) / len(triples)
    return {"count": len(triples), "mae": round(mae, 2), "inside": round(inside, 4)}


def day_summary(rows: Iterable[PeriodRow], tickets: Sequence[dict[str, Any]], tz: Any = None) -> dict[str, Any]:
    """One day of a hall: waits (all, priority, normal), outcomes, arrivals per hour and ETA accuracy.

    ``tickets`` are dicts with id, priority, issued_at, eta_low, eta_high (as Repository.period_rows gives);
    the ETA is judged only for tickets that were called, against their first printed range.
    """
    f = facts(rows)
    waits: list[float] = []
    prio: list[float] = []
    normal: list[float] = []
    eta_pairs: list[tuple[float, float, float]] = []
    outcomes: dict[str, int] = {}
    per_hour: dict[int, int] = {}
    for t in tickets:
        local = t["issued_at"].astimezone(tz) if tz else t["issued_at"]
        per_hour[local.hour] = per_hour.get(local.hour, 0) + 1
        fact = f.get(t["id"])
        if fact is None:
            continue
        key = fact.outcome or "open"
        outcomes[key] = outcomes.get(key, 0) + 1
        if fact.wait_minutes is None:
            continue
        waits.append(fact.wait_minutes)
        (prio if t.get("priority") else normal).append(fact.wait_minutes)
        if t.get("eta_low") is not None and t.get("eta_high") is not None:
            eta_pairs.append((float(t["eta_low"]), float(t["eta_high"]), fact.wait_minutes))
    return {
        "tickets": len(tickets),
        "wait": wait_summary(waits),
        "wait_priority": wait_summary(prio),
        "wait_normal": wait_summary(normal),
        "outcomes": outcomes,
        "arrivals_per_hour": {f"{h:02d}": n for h, n in sorted(per_hour.items())},
        "eta": eta_accuracy(eta_pairs),
    }
