"""Read models for screens: what the hall display, counter displays and dashboards show (SQL, read-only)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models import DutyAssignment, Hall, Queue, Ticket, Window
from hall.numbering import service_day
from hall.repository import Repository


def announcement(number: str, window: int) -> str:
    """The call as displayed and spoken: 请A001号到3号窗口办理."""
    return f"请{number}号到{window}号窗口办理"


def recent_calls(session: Session, hall_id: int, day: date, limit: int = 10) -> list[dict[str, Any]]:
    """The latest calls of the day, newest first."""
    rows = session.execute(
        select(Ticket.number, Ticket.window_number, Ticket.called_at, Window.name, Ticket.channel)
        .join(Window, Window.id == Ticket.window_id)
        .where(Ticket.hall_id == hall_id, Ticket.day == day, Ticket.called_at.is_not(None))
        .order_by(Ticket.called_at.desc(), Ticket.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "number": n,
            "window": w,
            "window_name": name,
            "text": announcement(n, w),
            "at": at.isoformat(),
            "appointment": channel == "appointment",
        }
        for n, w, at, name, channel in rows
    ]


def queue_counts(session: Session, hall_id: int) -> list[dict[str, Any]]:
    """Every queue with its waiting count (zero included)."""
    counts = Repository(session).waiting_counts(hall_id)
    queues = session.scalars(select(Queue).where(Queue.hall_id == hall_id).order_by(Queue.id))
    return [
        {"code": q.code, "prefix": q.prefix, "name": q.name, "kind": q.kind, "waiting": int(counts.get(q.code, 0))}
        for q in queues
    ]


def windows(session: Session, hall_id: int) -> list[dict[str, Any]]:
    """Every window with its clerk (亮牌亮证) and the number it is serving or calling."""
    rows = session.execute(
        select(Window, Ticket.number, Ticket.status, Ticket.channel)
        .outerjoin(Ticket, Ticket.id == Window.current_ticket_id)
        .where(Window.hall_id == hall_id)
        .order_by(Window.number)
    ).all()
    hall = session.get(Hall, hall_id)
    presence = ((hall.settings or {}).get("presence") or {}) if hall is not None else {}
    required = bool(presence.get("required", True))
    out = []
    for w, number, status, channel in rows:
        clerk = w.clerk if w.staffed else None  # no name on a window nobody is signed in at
        staffed = w.staffed or not required
        out.append(
            {
                "number": w.number,
                "name": w.name,
                "kind": w.kind,
                "state": w.state,
                "staffed": staffed,
                "available": w.state == "open" and staffed,
                "pause_reason": w.pause_reason if w.state == "paused" else None,
                "clerk": {"name": clerk.display_name, "staff_no": clerk.staff_no} if clerk else None,
                "current": {"number": number, "status": status, "appointment": channel == "appointment"}
                if number
                else None,
            }
        )
    return out


def duty_today(session: Session, hall_id: int, day: date) -> dict[str, Any]:
    """The day's duty leader and duty clerk for the hall display (names only, 值班公示)."""
    rows = session.execute(
        select(DutyAssignment.duty, DutyAssignment.name)
        .where(
            DutyAssignment.hall_id == hall_id,
            DutyAssignment.day == day,
            DutyAssignment.duty.in_(("leader", "clerk")),
            DutyAssignment.position == 0,
        )
        .order_by(DutyAssignment.duty)
    ).all()
    names = dict(rows)
    return {"day": day.isoformat(), "leader": names.get("leader"), "clerk": names.get("clerk")}


def display_snapshot(session: Session, hall_id: int, now: Any) -> dict[str, Any]:
    """Everything a hall or counter display needs after (re)connecting."""
    hall = session.get(Hall, hall_id)
    if hall is None:
        return {}
    day = service_day(now, hall.timezone)
    settings = hall.settings or {}
    queues = queue_counts(session, hall_id)
    return {
        "hall": {"code": hall.code, "name": hall.name, "timezone": hall.timezone},
        "at": now.isoformat(),
        "recent_calls": recent_calls(session, hall_id, day),
        "queues": queues,
        "waiting": sum(q["waiting"] for q in queues),
        "windows": windows(session, hall_id),
        "notices": list(settings.get("notices", [])),
        "roster": duty_today(session, hall_id, day),
    }
