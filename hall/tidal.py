"""潮汐窗口: when to open and close the peak-hour window (pure; the scheduler and engine act on the result).

Open when the schedule says so (peak hours from config), or when the predicted mean wait (Erlang C with the
current arrival-rate estimate and open windows) or the head-of-line wait passes ``open_above`` minutes.
Close only after the load has stayed under ``close_below`` for ``calm_minutes`` (hysteresis), and never
inside a scheduled peak. A manager's override wins until it is cleared.

A hall may have several tidal windows; they are stages (梯次), in window-number order. The first follows the
rule above. A later one ignores the schedule: it may open only when the one before it has been open for
``stage_after_minutes`` and the pressure, measured with the earlier ones open, still passes ``open_above``;
it closes on its own hysteresis, and an earlier stage stays open (its calm timer held) while a later one is
open, so the hall steps down in reverse order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from hall.queueing import mmc_mean_wait


@dataclass(frozen=True)
class TidalRule:
    """Thresholds in minutes; peaks as local (start, end) times."""

    open_above: float = 15.0
    close_below: float = 5.0
    calm_minutes: float = 20.0
    peaks: tuple[tuple[time, time], ...] = ((time(9, 0), time(10, 30)), (time(14, 0), time(15, 0)))
    use_schedule: bool = True
    use_load: bool = True
    stage_after_minutes: float = 10.0  # a later tidal window waits this long after the one before it opened


@dataclass(frozen=True)
class Load:
    """What the rule needs to know now."""

    arrivals_per_hour: float  # recent arrival-rate estimate for the tidal window's queues
    mean_service_minutes: float
    open_windows: int  # serving those queues, the tidal window excluded
    head_wait_minutes: float  # the longest current wait among them
    local_time: time


@dataclass
class TidalState:
    """Memory between decisions (kept by the caller)."""

    is_open: bool = False
    calm_since: datetime | None = None
    override: str | None = None  # "open" | "closed" | None


@dataclass(frozen=True)
class Decision:
    """What to do and why (each decision becomes an event for consoles, dashboard and display)."""

    open: bool
    changed: bool
    reason: str  # for logs and the audit (English)
    predicted_wait_minutes: float = field(default=0.0)
    why: str = ""  # the reason's key; pages say it in their language (hall/api/hall_routes.py TIDAL_REASONS)
    why_args: dict[str, float] = field(default_factory=dict)


def predicted_wait(load: Load) -> float:
    """Erlang C mean wait in minutes for the current arrival rate and open windows."""
    if load.open_windows <= 0:
        return float("inf") if load.arrivals_per_hour > 0 else 0.0
    lam = load.arrivals_per_hour / 60.0
    mu = 1.0 / max(load.mean_service_minutes, 0.1)
    return mmc_mean_wait(lam, mu, load.open_windows)


def in_peak(rule: TidalRule, at: time) -> bool:
    """True inside a scheduled peak."""
    return any(start <= at < end for start, end in rule.peaks)


def decide(
    rule: TidalRule,
    state: TidalState,
    load: Load,
    now: datetime,
    *,
    stage: int = 0,
    earlier_open_minutes: float | None = None,
    later_open: bool = False,
) -> Decision:
    """Decide whether the tidal window should be open now; updates ``state`` (calm timer, open flag).

    For the second and later tidal windows (``stage`` ≥ 1): ``earlier_open_minutes`` is how long the window
    before it has been open (None: it is closed); ``later_open`` says a window of a later stage is open, which
    keeps this one open.
    """
    wait = predicted_wait(load)
    pressure = max(wait, load.head_wait_minutes)
    if state.override in ("open", "closed"):
        want, reason = state.override == "open", f"manager override: {state.override}"
        why, args = "override", {}
    elif stage > 0 and earlier_open_minutes is None:
        want, reason = False, "the tidal window before it is closed"
        why, args = "earlier_closed", {}
    elif rule.use_schedule and stage == 0 and in_peak(rule, load.local_time):
        want, reason = True, "scheduled peak"
        why, args = "scheduled_peak", {}
    elif (
        rule.use_load
        and pressure > rule.open_above
        and (state.is_open or stage == 0 or (earlier_open_minutes or 0.0) >= rule.stage_after_minutes)
    ):
        want, reason = True, f"wait {pressure:.1f} min above {rule.open_above:g}"
        why, args = "wait_above", {"wait": pressure, "limit": rule.open_above}
    elif later_open and state.is_open:
        state.calm_since = None
        want, reason = True, "a later tidal window is open"
        why, args = "later_open", {}
    elif not state.is_open and rule.use_load and pressure > rule.open_above:
        settle = rule.stage_after_minutes
        want, reason = False, f"wait {pressure:.1f} min; the window before it opened under {settle:g} min ago"
        why, args = "settling", {"wait": pressure, "limit": settle}
    elif state.is_open:
        if pressure < rule.close_below:
            state.calm_since = state.calm_since or now
            calm_for = (now - state.calm_since) / timedelta(minutes=1)
            if calm_for >= rule.calm_minutes:
                want, reason = False, f"calm for {calm_for:.0f} min (wait {pressure:.1f} < {rule.close_below:g})"
                why, args = "calm", {"minutes": calm_for, "wait": pressure, "limit": rule.close_below}
            else:
                want, reason = True, f"calming ({calm_for:.0f} of {rule.calm_minutes:g} min)"
                why, args = "calming", {"minutes": calm_for, "limit": rule.calm_minutes}
        else:
            state.calm_since = None
            want, reason = True, f"wait {pressure:.1f} min not yet under {rule.close_below:g}"
            why, args = "not_yet_calm", {"wait": pressure, "limit": rule.close_below}
    else:
        want, reason = False, "load normal"
        why, args = "normal", {}
    if want:
        state.calm_since = None if pressure >= rule.close_below else state.calm_since
    changed = want != state.is_open
    state.is_open = want
    if changed and not want:
        state.calm_since = None
    return Decision(
        open=want,
        changed=changed,
        reason=reason,
        predicted_wait_minutes=round(min(wait, 1e6), 2),
        why=why,
        why_args={k: round(min(v, 1e6), 1) for k, v in args.items()},
    )
