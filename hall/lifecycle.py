"""Ticket lifecycle: states, the table of allowed moves, and the one guarded move (stdlib only).

Every move closes the ticket's open period row, opens one for the new state (final states get a
zero-length row so every visited state has one) and returns the domain events it caused. Statistics are
computed from these periods only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from hall import events as ev


class State(StrEnum):
    """Where a ticket is."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    PARKED = "parked"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    ENDED_BY_RESET = "ended_by_reset"


OPEN_STATES = frozenset({State.WAITING, State.CALLED, State.SERVING, State.PARKED})
FINAL_STATES = frozenset(State) - OPEN_STATES


class Action(StrEnum):
    """What can be done to a ticket."""

    CALL = "call"
    RECALL = "recall"
    START = "start"
    COMPLETE = "complete"
    NO_SHOW = "no_show"
    REQUEUE = "requeue"  # 过号, recycled N places back
    RETURN = "return"  # late return after 过号, once
    TRANSFER = "transfer"
    PARK = "park"
    RESUME = "resume"  # parked citizen back at the window: straight into service
    UNPARK = "unpark"  # parked ticket back into the queue (materials mailed in)
    CANCEL = "cancel"
    RESET = "reset"  # daily reset at close


@dataclass(frozen=True)
class Move:
    """One row of the transition table."""

    sources: frozenset[State]
    target: State
    event: type[ev.TicketEvent]


TRANSITIONS: dict[Action, Move] = {
    Action.CALL: Move(frozenset({State.WAITING}), State.CALLED, ev.TicketCalled),
    Action.RECALL: Move(frozenset({State.CALLED}), State.CALLED, ev.TicketRecalled),
    Action.START: Move(frozenset({State.CALLED}), State.SERVING, ev.ServiceStarted),
    Action.COMPLETE: Move(frozenset({State.SERVING}), State.COMPLETED, ev.TicketCompleted),
    Action.NO_SHOW: Move(frozenset({State.CALLED}), State.NO_SHOW, ev.TicketNoShow),
    Action.REQUEUE: Move(frozenset({State.CALLED}), State.WAITING, ev.TicketRequeued),
    Action.RETURN: Move(frozenset({State.NO_SHOW}), State.WAITING, ev.TicketReturned),
    Action.TRANSFER: Move(frozenset({State.SERVING}), State.WAITING, ev.TicketTransferred),
    Action.PARK: Move(frozenset({State.SERVING}), State.PARKED, ev.TicketParked),
    Action.RESUME: Move(frozenset({State.PARKED}), State.SERVING, ev.TicketResumed),
    Action.UNPARK: Move(frozenset({State.PARKED}), State.WAITING, ev.TicketResumed),
    Action.CANCEL: Move(frozenset({State.WAITING}), State.CANCELLED, ev.TicketCancelled),
    Action.RESET: Move(OPEN_STATES, State.ENDED_BY_RESET, ev.TicketEnded),
}


class InvalidTransition(Exception):
    """The action is not allowed from the ticket's current state."""

    def __init__(self, action: Action, state: str, number: str = "") -> None:
        self.action = action
        self.state = state
        self.number = number
        super().__init__(f"cannot {action.value} ticket {number} in state {state}")


class PeriodRow(Protocol):
    """What lifecycle needs of a history row."""

    state: str
    ended_at: datetime | None
    end_action: str | None


class TicketLike(Protocol):
    """What lifecycle needs of a ticket (the ORM model satisfies it)."""

    id: int
    hall_id: int
    number: str
    queue_code: str
    status: str
    periods: list[Any]


PeriodFactory = Callable[..., Any]


@dataclass
class PeriodRecord:
    """A plain period row (for tickets inserted with Core statements, and for tests)."""

    state: str
    started_at: datetime
    window_id: int | None = None
    window_number: int | None = None
    clerk_id: int | None = None
    note: str | None = None
    ended_at: datetime | None = None
    end_action: str | None = None


def allowed_actions(state: str) -> list[Action]:
    """Actions the table allows from a state (for consoles and docs)."""
    return [action for action, move in TRANSITIONS.items() if State(state) in move.sources]


def can(ticket: TicketLike, action: Action) -> bool:
    """True if the table allows ``action`` for the ticket now."""
    return State(ticket.status) in TRANSITIONS[action].sources


def _open_period(ticket: TicketLike) -> Any | None:
    for period in reversed(ticket.periods):
        if period.ended_at is None:
            return period
    return None


def begin(
    ticket: TicketLike,
    *,
    at: datetime,
    make_period: PeriodFactory,
    items: tuple[str, ...] = (),
    priority: str | None = None,
    joint: bool = False,
) -> list[ev.DomainEvent]:
    """Put a new ticket into WAITING with its first period; return ``TicketIssued``."""
    ticket.status = State.WAITING.value
    ticket.periods.append(make_period(state=State.WAITING.value, started_at=at))
    return [
        ev.TicketIssued(
            hall_id=ticket.hall_id,
            at=at,
            ticket_id=ticket.id,
            number=ticket.number,
            queue=ticket.queue_code,
            from_state=None,
            to_state=State.WAITING.value,
            items=items,
            priority=priority,
            joint=joint,
        )
    ]


def advance(
    ticket: TicketLike,
    action: Action,
    *,
    at: datetime,
    make_period: PeriodFactory,
    window_id: int | None = None,
    window: int | None = None,
    clerk_id: int | None = None,
    note: str | None = None,
    **event_fields: Any,
) -> list[ev.DomainEvent]:
    """The one guarded move: check the table, close the open period, open the next, return events.

    Raises InvalidTransition (and changes nothing) when the table does not allow the action.
    """
    move = TRANSITIONS[action]
    source = State(ticket.status)
    if source not in move.sources:
        raise InvalidTransition(action, source.value, ticket.number)
    current = _open_period(ticket)
    if current is not None:
        current.ended_at = at
        current.end_action = action.value
    period = make_period(
        state=move.target.value,
        started_at=at,
        window_id=window_id,
        window_number=window,
        clerk_id=clerk_id,
        note=note,
    )
    if move.target in FINAL_STATES:
        period.ended_at = at
        period.end_action = action.value
    ticket.periods.append(period)
    ticket.status = move.target.value
    event = move.event(
        hall_id=ticket.hall_id,
        at=at,
        ticket_id=ticket.id,
        number=ticket.number,
        queue=ticket.queue_code,
        from_state=source.value,
        to_state=move.target.value,
        window=window,
        clerk_id=clerk_id,
        **{"appointment": getattr(ticket, "channel", None) == "appointment", **event_fields},
    )
    return [event]
