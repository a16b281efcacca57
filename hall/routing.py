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
    queue_kind: str = "normal"  # normal | priority | joint | long
    item_queues: tuple[str, ...] = ()  # the queues of the ticket's items (skills needed to serve it)


@dataclass(frozen=True)
class WindowView:
    """What a policy needs to know about the calling window."""

    number: int
    kind: str
    queues: tuple[str, ...]


class Policy(Protocol):
    """Picks one candidate (or none) for a window."""

    name: str

    def choose(
        self, window: WindowView, candidates: Sequence[Candidate], recent: Sequence[bool] = ()
    ) -> Candidate | None:
        """Return the candidate to call, or None. ``recent``: was each of the window's last calls a priority one
        (most recent first)."""
        ...

    def queues_to_scan(self, window: WindowView, all_queues: Mapping[str, str]) -> tuple[str, ...]:
        """Which queues' heads the engine must fetch for this window (``all_queues``: code → kind)."""
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

    def queues_to_scan(self, window: WindowView, all_queues: Mapping[str, str]) -> tuple[str, ...]:
        """Only the window's own queues."""
        return window.queues

    def choose(
        self, window: WindowView, candidates: Sequence[Candidate], recent: Sequence[bool] = ()
    ) -> Candidate | None:
        """Oldest sort key first; ordered windows rank by queue order first (tickets sent to them rank first)."""
        pool = [c for c in candidates if c.targeted or c.queue in window.queues]
        if not pool:
            return None
        if window.kind in ORDERED_KINDS:
            rank = {code: i for i, code in enumerate(window.queues)}
            return min(pool, key=lambda c: (0 if c.targeted else rank[c.queue], c.sort_key, c.ticket_id))
        return min(pool, key=lambda c: (c.sort_key, c.ticket_id))


class HallPolicy(PooledPolicy):
    """The production default: pooled FIFO plus 绿色通道 interleave, an SLA guard and joint-ticket fallback.

    Settings (hall config ``[hall.settings.routing]``):
    - ``priority_weight`` (2): at pooled windows, at most this many priority calls in a row before a normal
      ticket is called, so the normal line never starves (2 priority : 1 normal);
    - ``sla_minutes`` (45; 0 = off): a ticket waiting longer is called next at any window that can serve it
      (call by maximum waiting time);
    - ``joint_fallback_minutes`` (20; 0 = never): after that wait a joint (一件事) ticket may be taken by any
      window that serves the queues of all its items, not only the joint window.
    """

    name = "hall"

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.weight = int(self.settings.get("priority_weight", 2))
        self.sla = float(self.settings.get("sla_minutes", 45)) * 60
        self.joint_after = float(self.settings.get("joint_fallback_minutes", 20)) * 60

    def queues_to_scan(self, window: WindowView, all_queues: Mapping[str, str]) -> tuple[str, ...]:
        """The window's queues, plus the joint queue when joint fallback is on."""
        extra = tuple(code for code, kind in all_queues.items() if kind == "joint" and code not in window.queues)
        return window.queues + (extra if self.joint_after > 0 else ())

    def _eligible(self, window: WindowView, c: Candidate) -> bool:
        if c.targeted or c.queue in window.queues:
            return True
        return (
            c.joint
            and self.joint_after > 0
            and c.waited_seconds >= self.joint_after
            and bool(c.item_queues)
            and all(q in window.queues for q in c.item_queues)
        )

    def choose(
        self, window: WindowView, candidates: Sequence[Candidate], recent: Sequence[bool] = ()
    ) -> Candidate | None:
        """SLA guard first, then the window's own order, then the priority interleave, then FIFO."""
        pool = [c for c in candidates if self._eligible(window, c)]
        if not pool:
            return None
        if self.sla > 0:
            overdue = [c for c in pool if c.waited_seconds >= self.sla]
            if overdue:
                return max(overdue, key=lambda c: (c.waited_seconds, -c.ticket_id))
        if window.kind in ORDERED_KINDS:
            rank = {code: i for i, code in enumerate(window.queues)}
            return min(pool, key=lambda c: (0 if c.targeted else rank.get(c.queue, len(rank)), c.sort_key, c.ticket_id))
        priority = [c for c in pool if c.queue_kind == "priority" and not c.targeted]
        normal = [c for c in pool if c not in priority]
        if priority and normal and self.weight > 0:
            streak = 0
            for was_priority in recent:
                if not was_priority:
                    break
                streak += 1
            pool = priority if streak < self.weight else normal
        return min(pool, key=lambda c: (c.sort_key, c.ticket_id))


POLICIES: dict[str, Callable[..., Policy]] = {"pooled": PooledPolicy, "hall": HallPolicy}


def get_policy(name: str, settings: Mapping[str, Any] | None = None) -> Policy:
    """Instantiate the named policy; unknown names are a configuration error."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown routing policy {name!r}; known: {sorted(POLICIES)}") from None
    return factory(settings)
