"""Reference data (hall settings, queues, items, window skills) as immutable snapshots, cached briefly.

Issuing a ticket must not re-read the catalogue from the database every time; a few seconds of staleness
is harmless because admin changes invalidate the cache of the process that made them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hall import pinyin


@dataclass(frozen=True)
class QueueRef:
    """A queue's fixed facts."""

    id: int
    code: str
    prefix: str
    name: str
    kind: str
    service_minutes: float


@dataclass(frozen=True)
class ItemRef:
    """A catalogue item's fixed facts."""

    id: int
    code: str
    name: str
    category: str
    department: str
    handling_class: str
    time_limit_days: int
    service_minutes: float
    online: bool
    materials: tuple[str, ...]
    queue_code: str
    review_chain: bool
    daily_quota: int | None = None
    keywords: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The API's item shape."""
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "department": self.department,
            "handling_class": self.handling_class,
            "time_limit_days": self.time_limit_days,
            "service_minutes": self.service_minutes,
            "online": self.online,
            "materials": list(self.materials),
            "queue": self.queue_code,
            "review_chain": self.review_chain,
            "daily_quota": self.daily_quota,
            "keywords": list(self.keywords),
            # Pinyin initials of the name and of each keyword (社会保障卡补换 → shbzkbh) for touch-only search.
            "initials": [pinyin.initials(t) for t in (self.name, *self.keywords)],
        }


@dataclass(frozen=True)
class HallRef:
    """Everything about a hall that changes only through the admin pages."""

    id: int
    code: str
    name: str
    timezone: str
    settings: dict[str, Any]
    queues: dict[str, QueueRef]
    items: dict[str, ItemRef]  # active items, in display order
    window_queues: dict[int, tuple[str, ...]]  # window number -> queues it serves
    window_names: dict[int, str] = field(default_factory=dict)

    def queue_by_kind(self, kind: str) -> QueueRef | None:
        """The first queue of a kind (priority, joint…)."""
        return next((q for q in self.queues.values() if q.kind == kind), None)

    def pooled_queues(self, queue_code: str) -> tuple[str, ...]:
        """Queues whose tickets compete with ``queue_code`` at the same windows (for people-ahead counts)."""
        own = self.queues[queue_code]
        if own.kind in ("priority", "joint"):
            return (queue_code,)
        shared = {queue_code}
        for codes in self.window_queues.values():
            if queue_code in codes:
                shared.update(c for c in codes if c in self.queues and self.queues[c].kind not in ("priority", "joint"))
        return tuple(sorted(shared))
