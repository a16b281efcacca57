"""Erlang C against textbook values, and the tidal window's open/close rule with hysteresis."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from hall.queueing import erlang_c, mmc_mean_wait, servers_needed
from hall.tidal import Load, TidalRule, TidalState, decide, predicted_wait

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_erlang_c_textbook_values() -> None:
    # c=2, a=1 Erlang: P(wait) = 1/3; M/M/1: P(wait) = rho.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    # Call-centre classic: 10 agents, 8 Erlangs -> P(wait) ≈ 0.409
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=5e-4)
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(3, 0.0) == 0.0


def test_mean_wait_and_the_pooling_claim_of_the_domain_notes() -> None:
    # 6 windows, 60 arrivals/h, 5 min service: pooled ≈ 2.9 min; six separate lines ≈ 25 min.
    pooled = mmc_mean_wait(60 / 60, 1 / 5, 6)
    separate = mmc_mean_wait(10 / 60, 1 / 5, 1)
    assert pooled == pytest.approx(2.9, abs=0.15)
    assert separate == pytest.approx(25.0, abs=0.01)
    assert mmc_mean_wait(2.0, 1.0, 2) == float("inf")
    assert servers_needed(1.0, 1 / 5, target_wait=3.0) == 6


def load(per_hour: float, windows: int = 5, head: float = 0.0, at: time = time(11, 0)) -> Load:
    return Load(
        arrivals_per_hour=per_hour, mean_service_minutes=6, open_windows=windows, head_wait_minutes=head, local_time=at
    )


def test_opens_in_scheduled_peak_and_on_load() -> None:
    rule, state = TidalRule(), TidalState()
    d = decide(rule, state, load(10, at=time(9, 15)), T0)
    assert (d.open, d.changed, d.reason) == (True, True, "scheduled peak")
    quiet = TidalState()
    assert decide(rule, quiet, load(10), T0).open is False
    busy = decide(rule, quiet, load(48), T0)  # ρ = 0.96 with 5 windows
    assert busy.open and busy.changed and predicted_wait(load(48)) > 15
    head = decide(rule, TidalState(), load(10, head=20), T0)
    assert head.open and "20.0" in head.reason


def test_closes_only_after_staying_calm_long_enough() -> None:
    rule = TidalRule(calm_minutes=20)
    state = TidalState(is_open=True)
    steps = [decide(rule, state, load(10), T0 + timedelta(minutes=m)) for m in (0, 10, 19)]
    assert all(d.open for d in steps) and not any(d.changed for d in steps)
    # a bump in load resets the calm timer
    bump = decide(rule, state, load(44), T0 + timedelta(minutes=19, seconds=30))  # 7 min: not calm
    assert bump.open and "not yet under" in bump.reason
    assert decide(rule, state, load(10), T0 + timedelta(minutes=20)).open
    assert decide(rule, state, load(10), T0 + timedelta(minutes=39)).open
    final = decide(rule, state, load(10), T0 + timedelta(minutes=40))
    assert final.open is False and final.changed is True


def test_manager_override_wins() -> None:
    rule = TidalRule()
    state = TidalState(override="closed")
    assert decide(rule, state, load(60, at=time(9, 30)), T0).open is False
    state.override = "open"
    assert decide(rule, state, load(1), T0).open is True
    state.override = None
    assert decide(rule, state, load(1), T0).open is True  # now hysteresis applies


def test_a_second_tidal_window_is_a_later_stage() -> None:
    rule = TidalRule(stage_after_minutes=10)
    second = TidalState()
    # No schedule for a later stage, and never while the window before it is closed.
    d = decide(rule, second, load(10, at=time(9, 15)), T0, stage=1, earlier_open_minutes=30)
    assert d.open is False
    d = decide(rule, second, load(60, head=30), T0, stage=1, earlier_open_minutes=None)
    assert d.open is False and "before it is closed" in d.reason
    # The first stage gets time to take effect before the second one opens on load.
    d = decide(rule, second, load(60, head=30), T0, stage=1, earlier_open_minutes=5)
    assert d.open is False and "opened under 10 min ago" in d.reason
    d = decide(rule, second, load(60, head=30), T0, stage=1, earlier_open_minutes=10)
    assert d.open and d.changed
    # It closes on its own hysteresis; the first stays open (calm timer held) while it is open.
    first = TidalState(is_open=True)
    for m in (0, 25):
        held = decide(rule, first, load(10), T0 + timedelta(minutes=m), later_open=True)
        assert held.open and held.reason == "a later tidal window is open" and first.calm_since is None
    steps = [
        decide(rule, second, load(10), T0 + timedelta(minutes=m), stage=1, earlier_open_minutes=40) for m in (30, 50)
    ]
    assert steps[0].open and steps[1].open is False and steps[1].changed
    assert decide(rule, first, load(10), T0 + timedelta(minutes=50)).open, "calm counted only from now on"
    assert decide(rule, first, load(10), T0 + timedelta(minutes=70)).open is False
    # A manager's override moves every stage.
    assert decide(rule, TidalState(override="open"), load(1), T0, stage=1, earlier_open_minutes=None).open
