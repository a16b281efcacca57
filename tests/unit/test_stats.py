"""KPIs from period rows, checked against hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hall.stats import PeriodRow, eta_accuracy, facts, percentile, wait_summary

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_facts_of_a_transferred_and_completed_ticket() -> None:
    rows = [
        PeriodRow(1, "waiting", at(0), at(10), "call"),
        PeriodRow(1, "called", at(10), at(11), "start", window=3),
        PeriodRow(1, "serving", at(11), at(15), "transfer", window=3),
        PeriodRow(1, "waiting", at(15), at(20), "call"),
        PeriodRow(1, "called", at(20), at(21), "start", window=5),
        PeriodRow(1, "serving", at(21), at(30), "complete", window=5),
        PeriodRow(1, "completed", at(30), at(30), "complete", window=5),
    ]
    f = facts(reversed(rows))[1]
    assert f.wait_minutes == 20.0  # queue entry to the last call
    assert f.handling_minutes == 13.0 and f.transfers == 1 and f.calls == 2
    assert f.outcome == "completed" and f.first_window == 3 and not f.parked


def test_open_and_no_show_tickets() -> None:
    rows = [
        PeriodRow(2, "waiting", at(0), None),
        PeriodRow(3, "waiting", at(0), at(5), "call"),
        PeriodRow(3, "called", at(5), at(8), "no_show", window=1),
        PeriodRow(3, "no_show", at(8), at(8), "no_show", window=1),
    ]
    got = facts(rows)
    assert got[2].wait_minutes is None and got[2].outcome is None
    assert got[3].wait_minutes == 5.0 and got[3].outcome == "no_show"


def test_summary_and_percentiles() -> None:
    waits = [1, 2, 3, 4, 5, 6, 7, 8, 9, 30]
    s = wait_summary(waits)
    assert s == {"count": 10, "mean": 7.5, "p90": 9, "within_15": 0.9}
    assert percentile([], 50) is None and wait_summary([])["mean"] is None


def test_eta_accuracy() -> None:
    acc = eta_accuracy([(0, 4, 3), (5, 9, 12), (2, 6, 4)])
    assert acc == {"count": 3, "mae": round((1 + 5 + 0) / 3, 2), "inside": round(2 / 3, 4)}
