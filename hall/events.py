"""Domain events: what happened in the hall, as frozen dataclasses (stdlib only).

The engine returns them; adapters (Socket.IO broadcaster, LED strips, voice, printers) subscribe to them
after the transaction that produced them has committed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every event: which hall and when."""

    hall_id: int
    at: datetime

    @property
    def name(self) -> str:
        """The event's type name, e.g. ``TicketCalled``."""
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (datetimes as ISO strings)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
        out["event"] = self.name
        return out


@dataclass(frozen=True, kw_only=True)
class TicketEvent(DomainEvent):
    """A ticket changed state."""

    ticket_id: int
    number: str
    queue: str
    from_state: str | None
    to_state: str
    window: int | None = None
    clerk_id: int | None = None
    appointment: bool = False  # a checked-in booking's ticket: displays show a 预约 mark


@dataclass(frozen=True, kw_only=True)
class TicketIssued(TicketEvent):
    """A citizen took a number."""

    items: tuple[str, ...] = ()
    priority: str | None = None
    joint: bool = False


@dataclass(frozen=True, kw_only=True)
class TicketCalled(TicketEvent):
    """A window called a ticket (first call)."""


@dataclass(frozen=True, kw_only=True)
class TicketRecalled(TicketEvent):
    """A window called the same ticket again (重呼)."""

    recalls: int = 0


@dataclass(frozen=True, kw_only=True)
class ServiceStarted(TicketEvent):
    """The citizen arrived and service began."""


@dataclass(frozen=True, kw_only=True)
class TicketCompleted(TicketEvent):
    """Service finished; every item of the ticket is done."""

    items: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TicketNoShow(TicketEvent):
    """过号: the citizen did not come; the ticket ended."""


@dataclass(frozen=True, kw_only=True)
class TicketRequeued(TicketEvent):
    """过号 with recycling: the ticket went back into the queue some places back."""

    places_back: int = 0


@dataclass(frozen=True, kw_only=True)
class TicketReturned(TicketEvent):
    """A no-show citizen came back late and was let back into the queue once."""


@dataclass(frozen=True, kw_only=True)
class TicketTransferred(TicketEvent):
    """Service moved to another window or item, placed first or last."""

    to_window: int | None = None
    to_item: str | None = None
    position: str = "last"


@dataclass(frozen=True, kw_only=True)
class TicketParked(TicketEvent):
    """容缺受理: accepted with materials missing; the ticket waits for them."""

    missing: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TicketResumed(TicketEvent):
    """A parked ticket came back (to service or to the queue)."""


@dataclass(frozen=True, kw_only=True)
class TicketCancelled(TicketEvent):
    """The citizen gave up the number."""


@dataclass(frozen=True, kw_only=True)
class TicketEnded(TicketEvent):
    """The daily reset ended a ticket that was still open."""


@dataclass(frozen=True, kw_only=True)
class WindowChanged(DomainEvent):
    """A window opened, paused, resumed or closed, or its clerk changed."""

    window: int
    state: str
    previous: str | None = None
    clerk_id: int | None = None
    clerk_name: str | None = None
    reason: str | None = None  # why a window is paused: meal | meeting | away


@dataclass(frozen=True, kw_only=True)
class QueueChanged(DomainEvent):
    """Waiting counts changed (sent compactly to displays)."""

    waiting: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class AlertRaised(DomainEvent):
    """Something needs a person: a printer out of paper, a device offline, a service over its time limit."""

    alert_id: int
    source: str
    kind: str
    level: str
    message: str


@dataclass(frozen=True, kw_only=True)
class AlertCleared(DomainEvent):
    """The condition behind an alert went away."""

    alert_id: int
    source: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class DeviceStatusChanged(DomainEvent):
    """A device's health changed (ok, near_end, paper_out, offline, error)."""

    device: str
    kind: str
    status: str
    previous: str | None = None


@dataclass(frozen=True, kw_only=True)
class TidalDecided(DomainEvent):
    """The tidal window was opened or closed by the rule or a manager's override, and why."""

    window: int
    open: bool
    reason: str
    predicted_wait_minutes: float = 0.0
    override: str | None = None


@dataclass(frozen=True, kw_only=True)
class RatingReceived(DomainEvent):
    """A citizen rated a 办件 (a 差评 opens a follow-up case)."""

    rating_id: int
    score: int
    window: int | None = None
    item: str | None = None
    case_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class CaseChanged(DomainEvent):
    """A 差评 follow-up case moved (回访, 整改, 关闭, 申诉, 复核)."""

    case_id: int
    status: str


@dataclass(frozen=True, kw_only=True)
class RosterChanged(DomainEvent):
    """Today's duty roster changed (a manager's edit, or a new day began): displays show the new names."""

    day: str


@dataclass(frozen=True, kw_only=True)
class ReviewChanged(DomainEvent):
    """A 审核链 case moved (submitted, checked, approved, closed or rejected)."""

    review_id: int
    status: str
