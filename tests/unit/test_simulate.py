"""The simulator drives the real engine; a seed gives the same day every time."""

from __future__ import annotations

from datetime import time

from hall.simulate import Scenario, aggregate, chart, format_table, simulate_day

SHORT = dict(arrivals={9: 40}, open_at=time(9, 0), close_at=time(10, 0), windows=(1, 2, 7))


def test_same_seed_same_day_and_different_seed_differs(tmp_path) -> None:
    a = simulate_day(Scenario("short", **SHORT), seed=5, workdir=tmp_path / "a")
    b = simulate_day(Scenario("short", **SHORT), seed=5, workdir=tmp_path / "b")
    c = simulate_day(Scenario("short", **SHORT), seed=6, workdir=tmp_path / "c")
    assert a.tickets > 20 and a.waits == b.waits and a.eta_pairs == b.eta_pairs
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
