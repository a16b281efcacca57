"""Waiting-time estimates shown at issue: a range, never a single promise (stdlib only)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EtaRange:
    """Estimated wait in whole minutes."""

    low: int
    high: int

    def to_dict(self) -> dict[str, int]:
        """JSON shape used by the API."""
        return {"low": self.low, "high": self.high}


def estimate(people_ahead: int, servers: int, mean_service_minutes: float, spread: float = 0.35) -> EtaRange:
    """Expected wait ≈ people ahead × mean service time ÷ serving windows, widened by ``spread``.

    With nobody ahead the range still allows for the window to finish its current citizen.
    """
    servers = max(1, servers)
    mean = max(0.5, mean_service_minutes)
    expected = people_ahead * mean / servers
    low = max(0, math.floor(expected * (1 - spread)))
    high = max(low + 1, math.ceil(expected * (1 + spread) + mean / servers / 2))
    return EtaRange(low=low, high=high)
