"""Queueing formulas (pure): Erlang C for M/M/c, used by the tidal rule, ETAs and simulator validation."""

from __future__ import annotations

import math


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (offered load a = λ/μ, in Erlangs).

    Computed with the numerically stable Erlang B recursion; 1.0 when the queue is unstable (a ≥ c).
    """
    if servers <= 0 or offered_load >= servers:
        return 1.0
    if offered_load <= 0:
        return 0.0
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    rho = offered_load / servers
    return b / (1 - rho + rho * b)


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue Wq for M/M/c (same time unit as the rates); inf when unstable."""
    if arrival_rate <= 0:
        return 0.0
    a = arrival_rate / service_rate
    if a >= servers:
        return math.inf
    return erlang_c(servers, a) / (servers * service_rate - arrival_rate)


def servers_needed(arrival_rate: float, service_rate: float, target_wait: float, max_servers: int = 50) -> int:
    """The fewest servers that keep the M/M/c mean wait at or under ``target_wait``."""
    for c in range(1, max_servers + 1):
        if mmc_mean_wait(arrival_rate, service_rate, c) <= target_wait:
            return c
    return max_servers
