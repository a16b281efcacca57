"""Routing policies: which waiting ticket a window calls next. Pure, named, chosen per hall in config."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Candidate:
    """A ticket that could be called: the head of a queue the window serves, or one sent to it."""

    ticket_id: int
    queue: str
    sort_key: float
    waited_seconds: float
    priority: bool = False
    joint: bool = False
    targeted: bool = False


@dataclass(frozen=True)
class WindowView:
    """What a policy needs to know about the calling window."""

    number: int
    kind: str
    queues: tuple[str, ...]


class Policy(Protocol):
    """Picks one candidate (or none) for a window."""

    name: str

    def choose(self, window: WindowView, candidates: Sequence[Candidate]) -> Candidate | None:
        """Return the candidate to call, or None."""
        ...


# Windows of these kinds take their queues strictly in the configured order (their own line first).
ORDERED_KINDS = frozenset({"green", "joint", "dedicated"})


class PooledPolicy:
    """综合柜员制: one pooled FIFO over what the window serves; special windows serve their own line first.

    Tickets transferred to this window compete by their sort key, which the transfer set to "first"
    (before everyone waiting) or "last" (behind everyone waiting).
    """

    name = "pooled"

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings = dict(settings or {})

    def choose(self, window: WindowView, candidates: Sequence[Candidate]) -> Candidate | None:
        """Oldest sort key first; ordered windows rank by queue order first (tickets sent to them rank first)."""
        pool = [c for c in candidates if c.targeted or c.queue in window.queues]
        if not pool:
            return None
        if window.kind in ORDERED_KINDS:
            rank = {code: i for i, code in enumerate(window.queues)}
            return min(pool, key=lambda c: (0 if c.targeted else rank[c.queue], c.sort_key, c.ticket_id))
        return min(pool, key=lambda c: (c.sort_key, c.ticket_id))


POLICIES: dict[str, Callable[..., Policy]] = {"pooled": PooledPolicy}


def get_policy(name: str, settings: Mapping[str, Any] | None = None) -> Policy:
    """Instantiate the named policy; unknown names are a configuration error."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown routing policy {name!r}; known: {sorted(POLICIES)}") from None
    return factory(settings)
