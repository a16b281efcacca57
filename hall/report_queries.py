"""Read-only SQL for reports and the manager dashboard: period rows, 办件, ratings with cases, waiting classes.

Returns plain rows for hall.reports (pure) and hall.dashboard; writes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from hall.lifecycle import State
from hall.models import FollowUpCase, Period, Rating, Ticket, TicketItem, User
from hall.reports import RatingInfo, TicketInfo, WorkItem
from hall.stats import PeriodRow


def tickets_between(
    session: Session, hall_id: int, first: date, last: date
) -> tuple[list[TicketInfo], list[PeriodRow]]:
    """Tickets issued on ``first``…``last`` (service days, inclusive) with their 办件 and period rows."""
    in_span = and_(Ticket.hall_id == hall_id, Ticket.day >= first, Ticket.day <= last)
    items: dict[int, list[WorkItem]] = {}
    for ticket_id, code, status, completed_at, window, clerk in session.execute(
        select(
            TicketItem.ticket_id,
            TicketItem.item_code,
            TicketItem.status,
            TicketItem.completed_at,
            TicketItem.window_number,
            TicketItem.clerk_id,
        )
        .join(Ticket, Ticket.id == TicketItem.ticket_id)
        .where(in_span)
        .order_by(TicketItem.ticket_id, TicketItem.position)
    ):
        items.setdefault(ticket_id, []).append(WorkItem(code, status, completed_at, window, clerk))
    tickets = [
        TicketInfo(
            id=row.id,
            day=row.day,
            issued_at=row.issued_at,
            priority=row.priority,
            eta_low=row.eta_low,
            eta_high=row.eta_high,
            items=tuple(items.get(row.id, ())),
        )
        for row in session.execute(
            select(Ticket.id, Ticket.day, Ticket.issued_at, Ticket.priority, Ticket.eta_low, Ticket.eta_high)
            .where(in_span)
            .order_by(Ticket.id)
        )
    ]
    periods = [
        PeriodRow(*row)
        for row in session.execute(
            select(
                Period.ticket_id,
                Period.state,
                Period.started_at,
                Period.ended_at,
                Period.end_action,
                Period.window_number,
                Period.clerk_id,
            )
            .join(Ticket, Ticket.id == Period.ticket_id)
            .where(in_span)
        )
    ]
    return tickets, periods


def ratings_between(session: Session, hall_id: int, since: datetime, until: datetime) -> list[RatingInfo]:
    """Ratings given in [since, until) with their follow-up case (if a 差评) — never who rated."""
    out = []
    for row in session.execute(
        select(
            Rating.score,
            Rating.item_code,
            Rating.window_number,
            Rating.clerk_id,
            Rating.real_name,
            FollowUpCase.status,
            FollowUpCase.deadline,
            FollowUpCase.closed_at,
            FollowUpCase.records,
        )
        .outerjoin(FollowUpCase, FollowUpCase.rating_id == Rating.id)
        .where(Rating.hall_id == hall_id, Rating.rated_at >= since, Rating.rated_at < until)
        .order_by(Rating.id)
    ):
        out.append(
            RatingInfo(
                score=row.score,
                item_code=row.item_code,
                window=row.window_number,
                clerk_id=row.clerk_id,
                real_name=bool(row.real_name),
                case_status=row.status,
                case_deadline=row.deadline,
                case_closed_at=row.closed_at,
                contacted=any(r.get("action") == "contact" for r in (row.records or [])),
            )
        )
    return out


def staff_labels(session: Session, hall_id: int) -> dict[int, str]:
    """Staff of the hall (and hall-less admins) as "name（工号）"."""
    rows = session.execute(
        select(User.id, User.display_name, User.staff_no).where((User.hall_id == hall_id) | User.hall_id.is_(None))
    )
    return {uid: f"{name}（{no}）" if no else name for uid, name, no in rows}


def staff_numbers(session: Session, hall_id: int) -> dict[int, str]:
    """Staff ids → their 工号 (what a report's 分组 column shows instead of an internal id)."""
    rows = session.execute(select(User.id, User.staff_no).where((User.hall_id == hall_id) | User.hall_id.is_(None)))
    return {uid: no or "" for uid, no in rows}


def waiting_by_class(session: Session, hall_id: int) -> list[dict[str, Any]]:
    """Waiting tickets per queue and priority class (None = normal) with the oldest queue entry."""
    rows = session.execute(
        select(Ticket.queue_code, Ticket.priority, func.count(Ticket.id), func.min(Ticket.queue_entered_at))
        .where(Ticket.hall_id == hall_id, Ticket.status == State.WAITING.value)
        .group_by(Ticket.queue_code, Ticket.priority)
    )
    return [{"queue": q, "priority": p, "waiting": int(n), "oldest": oldest} for q, p, n, oldest in rows]
