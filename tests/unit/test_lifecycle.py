"""The transition table: every allowed move works and writes periods; every other move is refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from hall import events as ev
from hall.lifecycle import (
    FINAL_STATES,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    InvalidTransition,
    PeriodRecord,
    State,
    advance,
    allowed_actions,
    begin,
    can,
)

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@dataclass
class FakeTicket:
    id: int = 1
    hall_id: int = 1
    number: str = "A001"
    queue_code: str = "A"
    status: str = "waiting"
    periods: list = field(default_factory=list)


def ticket_in(state: State) -> FakeTicket:
    t = FakeTicket(status=state.value)
    t.periods.append(PeriodRecord(state=state.value, started_at=T0))
    return t


ALL_PAIRS = [(action, state) for action in Action for state in State]


@pytest.mark.parametrize(("action", "state"), ALL_PAIRS, ids=[f"{a.value}-from-{s.value}" for a, s in ALL_PAIRS])
def test_every_action_from_every_state(action: Action, state: State) -> None:
    ticket = ticket_in(state)
    move = TRANSITIONS[action]
    at = T0 + timedelta(minutes=3)
    if state in move.sources:
        events = advance(ticket, action, at=at, make_period=PeriodRecord, window=3, window_id=30, clerk_id=7)
        assert ticket.status == move.target.value
        assert len(events) == 1 and isinstance(events[0], move.event)
        assert events[0].from_state == state.value and events[0].to_state == move.target.value
        assert events[0].window == 3 and events[0].clerk_id == 7
        # the old period is closed by this action, the new one starts now
        assert ticket.periods[0].ended_at == at and ticket.periods[0].end_action == action.value
        assert ticket.periods[-1].state == move.target.value and ticket.periods[-1].started_at == at
        assert ticket.periods[-1].window_number == 3 and ticket.periods[-1].clerk_id == 7
        if move.target in FINAL_STATES:
            assert ticket.periods[-1].ended_at == at
        else:
            assert ticket.periods[-1].ended_at is None
    else:
        with pytest.raises(InvalidTransition) as info:
            advance(ticket, action, at=at, make_period=PeriodRecord)
        assert info.value.state == state.value
        # a refused move changes nothing
        assert ticket.status == state.value and len(ticket.periods) == 1 and ticket.periods[0].ended_at is None


def test_table_matches_the_documented_lifecycle() -> None:
    expected = {
        Action.CALL: ({"waiting"}, "called"),
        Action.RECALL: ({"called"}, "called"),
        Action.START: ({"called"}, "serving"),
        Action.COMPLETE: ({"serving"}, "completed"),
        Action.NO_SHOW: ({"called"}, "no_show"),
        Action.REQUEUE: ({"called"}, "waiting"),
        Action.RETURN: ({"no_show"}, "waiting"),
        Action.TRANSFER: ({"serving"}, "waiting"),
        Action.PARK: ({"serving"}, "parked"),
        Action.RESUME: ({"parked"}, "serving"),
        Action.UNPARK: ({"parked"}, "waiting"),
        Action.CANCEL: ({"waiting"}, "cancelled"),
        Action.RESET: ({"waiting", "called", "serving", "parked"}, "ended_by_reset"),
    }
    actual = {a: ({s.value for s in m.sources}, m.target.value) for a, m in TRANSITIONS.items()}
    assert actual == expected


def test_final_states_have_no_way_out_except_late_return() -> None:
    for state in FINAL_STATES:
        acts = allowed_actions(state)
        assert acts == ([Action.RETURN] if state == State.NO_SHOW else [])
    for state in OPEN_STATES:
        assert Action.RESET in allowed_actions(state)


def test_begin_then_a_full_service_writes_one_period_per_state() -> None:
    ticket = FakeTicket(status="")
    events = begin(ticket, at=T0, make_period=PeriodRecord, items=("YB001",))
    assert isinstance(events[0], ev.TicketIssued) and events[0].items == ("YB001",)
    steps = [
        Action.CALL,
        Action.RECALL,
        Action.START,
        Action.PARK,
        Action.RESUME,
        Action.TRANSFER,
        Action.CALL,
        Action.START,
        Action.COMPLETE,
    ]
    for n, action in enumerate(steps, start=1):
        advance(ticket, action, at=T0 + timedelta(minutes=n), make_period=PeriodRecord)
    states = [p.state for p in ticket.periods]
    assert states == [
        "waiting",
        "called",
        "called",
        "serving",
        "parked",
        "serving",
        "waiting",
        "called",
        "serving",
        "completed",
    ]
    # periods tile the timeline with no gaps or overlaps
    for before, after in zip(ticket.periods, ticket.periods[1:], strict=False):
        assert before.ended_at == after.started_at
    assert not can(ticket, Action.CALL)


def test_event_payloads_are_json_friendly() -> None:
    ticket = ticket_in(State.SERVING)
    (event,) = advance(
        ticket, Action.TRANSFER, at=T0, make_period=PeriodRecord, window=2, to_window=5, position="first"
    )
    data = event.to_dict()
    assert data["event"] == "TicketTransferred" and data["to_window"] == 5 and data["position"] == "first"
    assert data["at"] == T0.isoformat()
