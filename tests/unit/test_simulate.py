"""The simulator drives the real engine; a seed gives the same day every time."""

from __future__ import annotations

from datetime import time

from hall.simulate import (
    Scenario,
    aggregate,
    category_lines,
    chart,
    fifo_reference_waits,
    format_table,
    hall_data,
    per_category_scenario,
    simulate_day,
    stationary_scenario,
)

SHORT = dict(arrivals={9: 40}, open_at=time(9, 0), close_at=time(10, 0), windows=(1, 2, 7))


def test_same_seed_same_day_and_different_seed_differs(tmp_path) -> None:
    a = simulate_day(Scenario("short", **SHORT), seed=5, workdir=tmp_path / "a")
    b = simulate_day(Scenario("short", **SHORT), seed=5, workdir=tmp_path / "b")
    c = simulate_day(Scenario("short", **SHORT), seed=6, workdir=tmp_path / "c")
    assert a.tickets > 20 and a.waits == b.waits and a.eta_pairs == b.eta_pairs
    assert a.timeline == b.timeline and a.summary() == b.summary()
    assert a.waits != c.waits


def test_more_windows_means_shorter_waits_and_results_feed_the_table(tmp_path) -> None:
    few = simulate_day(Scenario("few", **{**SHORT, "windows": (1,)}), seed=3, workdir=tmp_path / "few")
    many = simulate_day(Scenario("many", **{**SHORT, "windows": (1, 2, 3, 4)}), seed=3, workdir=tmp_path / "m")
    assert few.tickets == many.tickets  # common random numbers
    assert sum(many.waits) / len(many.waits) < sum(few.waits) / len(few.waits)
    table = format_table({"few": aggregate([few]), "many": aggregate([many])})
    assert "few" in table and "many" in table
    png = chart({"few": [few], "many": [many]}, tmp_path / "chart.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_stationary_day_matches_the_fifo_recursion_ticket_by_ticket(tmp_path) -> None:
    sc = stationary_scenario(0.8, servers=2, hours=2, warmup_minutes=30)
    assert sc.exponential and sc.routing == {"policy": "pooled"} and sc.walk_seconds == (0.0, 0.0)
    day = simulate_day(sc, seed=11, workdir=tmp_path)
    assert day.tickets == len(day.timeline) > 20 and day.served == day.tickets
    offsets = [o for o, _, _ in day.timeline]
    assert offsets == sorted(offsets)
    ref = fifo_reference_waits(offsets, [s for _, _, s in day.timeline], servers=2)
    assert max(abs(w - r) for (_, w, _), r in zip(day.timeline, ref, strict=True)) < 1e-6
    assert any(r > 0 for r in ref)  # somebody queued, so the check says something
    # The warm-up leaves early tickets out of the figures (but not out of the timeline).
    kept = [w for o, w, _ in day.timeline if o >= 30]
    assert day.waits == kept and len(kept) < day.tickets
    assert day.waits_priority == [] and day.waits_normal == kept


def test_fifo_reference_waits() -> None:
    assert fifo_reference_waits([0, 1, 2, 3], [5, 5, 1, 1], servers=2) == [0, 0, 3, 3]
    assert fifo_reference_waits([0, 10], [5, 5], servers=1) == [0, 0]


def test_citizens_are_the_same_under_every_policy(tmp_path) -> None:
    """Common random numbers: a seed fixes each citizen's needs, whatever the windows do."""
    few = simulate_day(Scenario("few", **{**SHORT, "windows": (1,)}), seed=4, workdir=tmp_path / "a")
    many = simulate_day(Scenario("many", **SHORT), seed=4, workdir=tmp_path / "b")
    assert [(o, s) for o, _, s in few.timeline] == [(o, s) for o, _, s in many.timeline]
    assert few.waits != many.waits


def test_without_green_channel_priority_citizens_hold_ordinary_tickets(tmp_path) -> None:
    base = {**SHORT, "priority_share": 0.3}
    green = simulate_day(Scenario("green", **base), seed=2, workdir=tmp_path / "g")
    plain = simulate_day(Scenario("plain", **base, green_channel=False), seed=2, workdir=tmp_path / "p")
    assert len(green.waits_priority) == len(plain.waits_priority) > 3  # the same citizens
    assert len(green.waits_normal) == len(plain.waits_normal)
    assert sum(green.waits_priority) < sum(plain.waits_priority)
    summary = plain.summary()
    assert summary["normal"]["count"] == len(plain.waits_normal)


def test_per_category_lines_dedicate_every_window(tmp_path) -> None:
    windows = (1, 2, 3, 4, 5, 7, 8)
    item_queue, window_queues, lines = category_lines(windows)
    assert sorted(window_queues) == list(windows) and all(len(q) == 1 for q in window_queues.values())
    assert sorted(n for line in lines.values() for n in line["windows"]) == list(windows)
    assert set(item_queue.values()) == set(lines)
    data = hall_data(per_category_scenario(priority_share=0.0, joint_share=0.0))
    assert {i["code"] for i in data["items"]} == set(item_queue)
    assert all(i["queue"] == item_queue[i["code"]] for i in data["items"])
    sc = per_category_scenario("per category", **{**SHORT, "windows": windows}, priority_share=0.0, joint_share=0.0)
    day = simulate_day(sc, seed=1, workdir=tmp_path)
    assert day.tickets > 20 and day.served == day.tickets


def test_benchmark_intervals() -> None:
    from bench.routing import mean_ci, ratio_ci, t95

    assert t95(9) == 2.262 and 1.96 < t95(100) < 2.0
    ci = mean_ci([1.0, 2.0, 3.0])
    assert ci["mean"] == 2.0 and round(ci["high"] - 2.0, 3) == round(4.303 / 3**0.5, 3)
    r = ratio_ci([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert r["ratio"] == 2.0 and r["low"] == r["high"] == 2.0


def test_tidal_window_follows_the_hall_tidal_controller(tmp_path) -> None:
    # 09:00–10:30 is a scheduled peak of the default rule: the controller opens window 6 at the first tick.
    short = {**SHORT, "windows": (1, 2), "items": ("YB001", "YB003"), "priority_share": 0.0, "joint_share": 0.0}
    sc = Scenario("tidal", **short, tidal_window=6, tidal_every_minutes=10)
    day = simulate_day(sc, seed=3, workdir=tmp_path / "t")
    plain = simulate_day(Scenario("plain", **short), seed=3, workdir=tmp_path / "p")
    assert day.served == day.tickets == plain.served > 20
    assert 60 <= day.tidal_staff_minutes <= 100  # open from 09:00 while the last citizens are served
    assert plain.tidal_staff_minutes == 0 and sum(day.waits) < sum(plain.waits)
    assert hall_data(sc)["hall"]["settings"]["tidal"]["peaks"][0] == ["09:00", "10:30"]


def test_two_tidal_windows_are_stages_of_the_hall_rule(tmp_path) -> None:
    # Window 6 opens at the scheduled peak; 9 (the demo hall's second tidal window) opens on load once 6 has
    # been open stage_after_minutes (10), and each tidal window's open time is counted.
    short = {**SHORT, "windows": (1, 2), "items": ("YB001", "YB003"), "priority_share": 0.0, "joint_share": 0.0}
    both = Scenario("two", **short, tidal_window=(9, 6), tidal_every_minutes=10)
    one = Scenario("one", **short, tidal_window=6, tidal_every_minutes=10)
    assert [w["kind"] for w in hall_data(both)["windows"] if w["number"] in (6, 9)] == ["tidal", "tidal"]
    assert [w["kind"] for w in hall_data(one)["windows"] if w["number"] in (6, 9)] == ["tidal", "comprehensive"]
    two_days = simulate_day(both, seed=3, workdir=tmp_path / "two")
    one_day = simulate_day(one, seed=3, workdir=tmp_path / "one")
    assert two_days.served == two_days.tickets == one_day.tickets > 20
    by = two_days.tidal_staff_minutes_by_window
    assert set(by) == {6, 9} and 0 < by[9] <= by[6] - 10 and two_days.tidal_staff_minutes == sum(by.values())
    assert set(one_day.tidal_staff_minutes_by_window) == {6}
    assert sum(two_days.waits) < sum(one_day.waits)
