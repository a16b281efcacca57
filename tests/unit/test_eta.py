"""The ETA range: sensible shape, and its coverage checked against sampled service times."""

from __future__ import annotations

import random

import pytest

from hall.eta import estimate, gamma_quantile


def test_free_window_means_almost_no_wait() -> None:
    r = estimate(0, 5, 6, free_servers=2)
    assert r.low == 0 and r.high <= 2


def test_range_grows_with_people_ahead_and_shrinks_with_windows() -> None:
    few, many = estimate(3, 5, 6), estimate(30, 5, 6)
    assert few.high < many.low
    assert estimate(30, 10, 6).high < many.high
    mid = (many.low + many.high) / 2
    assert mid == pytest.approx(31 * 6 / 5, rel=0.1)


def test_gamma_quantile_against_exponential() -> None:
    # Gamma(1, θ) is exponential: median = θ ln 2 (Wilson–Hilferty is rough at shape 1)
    assert gamma_quantile(1, 10, 0.5) == pytest.approx(6.93, rel=0.05)
    assert gamma_quantile(50, 1, 0.5) == pytest.approx(49.67, rel=0.01)


def test_about_80_percent_of_simulated_waits_fall_inside() -> None:
    """Sample the time for n completions at c busy windows with gamma service times of the given cv."""
    rng = random.Random(7)
    cv, mean, servers = 0.8, 6.0, 5
    inside = total = 0
    for ahead in (2, 5, 10, 20, 40):
        r = estimate(ahead, servers, mean, cv=cv)
        for _ in range(400):
            # time until ahead+1 completions when every window restarts service as it finishes
            finish = [rng.gammavariate(1 / cv**2, mean * cv**2) * rng.random() for _ in range(servers)]
            done = 0
            t = 0.0
            while done < ahead + 1:
                i = min(range(servers), key=finish.__getitem__)
                t = finish[i]
                done += 1
                finish[i] = t + rng.gammavariate(1 / cv**2, mean * cv**2)
            inside += r.low <= t <= r.high
            total += 1
    assert 0.7 <= inside / total <= 0.95, inside / total
