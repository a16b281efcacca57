"""Waiting-time estimates shown at issue: a range, never a single promise (stdlib only).

Model: with ``servers`` windows busy and ``people_ahead`` before you, your call comes after roughly
``people_ahead + 1 - free_windows`` service completions. Completions arrive at ``servers / mean`` per minute;
with service times of coefficient of variation ``cv`` the sum is close to a Gamma distribution with shape
``n / cv²`` and scale ``mean·cv² / servers``. The printed range is its central ``coverage`` interval
(Wilson–Hilferty approximation for Gamma quantiles), so about ``coverage`` of actual waits fall inside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class EtaRange:
    """Estimated wait in whole minutes."""

    low: int
    high: int

    def to_dict(self) -> dict[str, int]:
        """JSON shape used by the API."""
        return {"low": self.low, "high": self.high}


def gamma_quantile(shape: float, scale: float, p: float) -> float:
    """Approximate Gamma(shape, scale) quantile (Wilson–Hilferty); good to a few percent for shape ≥ 1."""
    if shape <= 0:
        return 0.0
    z = NormalDist().inv_cdf(p)
    c = 1.0 / (9.0 * shape)
    return max(0.0, shape * scale * (1.0 - c + z * math.sqrt(c)) ** 3)


def estimate(
    people_ahead: int,
    servers: int,
    mean_service_minutes: float,
    *,
    free_servers: int = 0,
    cv: float = 0.8,
    coverage: float = 0.8,
) -> EtaRange:
    """The central ``coverage`` range of the wait before being called, in whole minutes."""
    servers = max(1, servers)
    mean = max(0.5, mean_service_minutes)
    completions = people_ahead + 1 - max(0, free_servers)
    if completions <= 0:
        return EtaRange(low=0, high=max(1, math.ceil(mean / 4)))  # a free window: only the walk to it
    cv2 = max(0.05, cv * cv)
    shape, scale = completions / cv2, mean * cv2 / servers
    tail = (1.0 - coverage) / 2.0
    low = math.floor(gamma_quantile(shape, scale, tail))
    high = math.ceil(gamma_quantile(shape, scale, 1.0 - tail))
    return EtaRange(low=low, high=max(high, low + 1))
