"""预约办: bookable slots, one booking per person per day, cancellation, check-in for a ticket, no-shows.

A checked-in booking becomes a ticket placed in line at its slot's start, so it is served before walk-ins
who came during its slot; a citizen later than the check-in window gets an ordinary walk-in ticket.
Core module: no Flask, Socket.IO, serial or escpos.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from hall import idcard, numbering, schedule
from hall.engine import STAFF_ROLES, Actor, Engine
from hall.errors import Conflict, Forbidden, Invalid, NotFound, TooMany
from hall.models import Booking
from hall.repository import Repository

DEFAULTS: dict[str, Any] = {
    "slot_minutes": 30,
    "capacity_per_slot": 4,  # per item and slot
    "days_ahead": 7,
    "checkin_before_minutes": 30,
    "checkin_after_minutes": 15,
}
BOOKERS = STAFF_ROLES | {"citizen"}
CHECKERS = STAFF_ROLES | {"kiosk"}


def settings_of(hall_settings: dict[str, Any]) -> dict[str, Any]:
    """The hall's appointment settings over the defaults."""
    return {**DEFAULTS, **(hall_settings.get("appointments") or {})}


def mask_phone(phone: str | None) -> str | None:
    """138****5678."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) != 11 or not digits.startswith("1"):
        raise Invalid("手机号码应为11位数字", code="bad_phone")
    return f"{digits[:3]}****{digits[-4:]}"


class Appointments:
    """Booking rules on top of the engine (which issues the ticket at check-in)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = engine.db
        self.clock = engine.clock

    # --- slots ----------------------------------------------------------------------------------
    def slots(self, hall_id: int, item_code: str, day: date) -> list[dict[str, Any]]:
        """The bookable slots of a day for an item, with places left (empty on a closed day)."""
        ref = self.engine.reference(hall_id)
        item = ref.items.get(item_code)
        if item is None:
            raise NotFound(f"事项不存在: {item_code}", code="unknown_item")
        conf = settings_of(ref.settings)
        starts = self._slot_starts(ref, day, conf)
        with self.db.read() as session:
            taken = dict(
                session.execute(
                    select(Booking.slot_start, func.count(Booking.id))
                    .where(
                        Booking.hall_id == hall_id,
                        Booking.day == day,
                        Booking.item_id == item.id,
                        Booking.status != "cancelled",
                    )
                    .group_by(Booking.slot_start)
                ).all()
            )
        now = self.clock.now()
        length = timedelta(minutes=int(conf["slot_minutes"]))
        out = []
        for start in starts:
            left = int(conf["capacity_per_slot"]) - int(taken.get(start, 0))
            out.append(
                {
                    "start": start.isoformat(),
                    "end": (start + length).isoformat(),
                    "left": max(0, left),
                    "open": left > 0 and start > now,
                }
            )
        return out

    def _slot_starts(self, ref: Any, day: date, conf: dict[str, Any]) -> list[datetime]:
        hours = schedule.parse_hours(ref.settings.get("hours"), ref.timezone)
        tz = ZoneInfo(ref.timezone)
        length = timedelta(minutes=int(conf["slot_minutes"]))
        starts = []
        for opens, closes in schedule.sessions(day, hours):
            at = datetime.combine(day, opens, tz)
            end = datetime.combine(day, closes, tz)
            while at + length <= end:
                starts.append(at)
                at += length
        return starts

    # --- booking ----------------------------------------------------------------------------------
    def book(
        self,
        actor: Actor,
        hall_id: int,
        item_code: str,
        slot_start: datetime,
        id_number: str,
        phone: str | None = None,
    ) -> dict[str, Any]:
        """Book a slot: opening hours, capacity, not in the past, at most ``days_ahead``, one per person per day."""
        if actor.role not in BOOKERS:
            raise Forbidden("无权预约", code="forbidden_role")
        ref = self.engine.reference(hall_id)
        item = ref.items.get(item_code)
        if item is None:
            raise Invalid(f"事项不存在或已停办: {item_code}", code="unknown_item")
        conf = settings_of(ref.settings)
        tz = ZoneInfo(ref.timezone)
        if slot_start.tzinfo is None:
            slot_start = slot_start.replace(tzinfo=tz)
        day = slot_start.astimezone(tz).date()
        now = self.clock.now()
        today = numbering.service_day(now, ref.timezone)
        if slot_start <= now:
            raise Invalid("不能预约已经过去的时段", code="slot_past")
        if day > today + timedelta(days=int(conf["days_ahead"])):
            raise Invalid(f"最多可预约{conf['days_ahead']}天内的时段", code="slot_too_far")
        starts = {s.astimezone(tz) for s in self._slot_starts(ref, day, conf)}
        if slot_start.astimezone(tz) not in starts:
            raise Invalid("该时段不在办公时间内或不是有效的预约时段", code="bad_slot")
        try:
            info = idcard.parse(id_number, today=today)
        except idcard.InvalidIdNumber as exc:
            raise Invalid(str(exc), code=exc.code) from exc
        del info  # parsed only to validate
        normal = idcard.normalise(id_number)
        id_hash = self.engine.hash_id(normal)
        phone_masked = mask_phone(phone)
        length = timedelta(minutes=int(conf["slot_minutes"]))
        with self.db.write() as session:
            # One booking per person and the slot's capacity must hold across server processes (PostgreSQL).
            Repository(session).serialise(
                f"booking:{hall_id}:{day}:{id_hash}", f"slot:{hall_id}:{item.id}:{slot_start.timestamp()}"
            )
            mine = session.scalar(
                select(func.count(Booking.id)).where(
                    Booking.hall_id == hall_id,
                    Booking.day == day,
                    Booking.id_hash == id_hash,
                    Booking.status.in_(("booked", "checked_in")),
                )
            )
            if mine:
                raise TooMany("同一身份证每天只能预约一次", code="one_booking_per_day")
            taken = session.scalar(
                select(func.count(Booking.id)).where(
                    Booking.hall_id == hall_id,
                    Booking.item_id == item.id,
                    Booking.slot_start == slot_start,
                    Booking.status != "cancelled",
                )
            )
            if taken >= int(conf["capacity_per_slot"]):
                raise Conflict("该时段已约满，请选择其他时段", code="slot_full")
            code = self._new_code(session, hall_id, day)
            booking = Booking(
                hall_id=hall_id,
                item_id=item.id,
                item_code=item.code,
                day=day,
                slot_start=slot_start,
                slot_end=slot_start + length,
                code=code,
                status="booked",
                id_hash=id_hash,
                id_masked=idcard.mask(normal),
                phone_masked=phone_masked,
                channel="online" if actor.role == "citizen" else "counter",
                created_at=now,
            )
            session.add(booking)
            session.flush()
            Repository(session).audit(
                hall_id=hall_id,
                at=now,
                actor_id=actor.id,
                actor=actor.name,
                role=actor.role,
                window_number=actor.window_number,
                action="booking.create",
                target=code,
                before=None,
                after={"item": item.code, "slot": slot_start.isoformat()},
                client=actor.client,
            )
            return self._view(booking, item.name)

    def _new_code(self, session: Any, hall_id: int, day: date) -> str:
        """A 6-digit code, unique in the hall for the day (typed on the kiosk's number pad)."""
        for _ in range(50):
            code = f"{secrets.randbelow(10**6):06d}"
            clash = session.scalar(
                select(Booking.id).where(Booking.hall_id == hall_id, Booking.day == day, Booking.code == code)
            )
            if clash is None:
                return code
        raise Conflict("预约号生成失败，请重试", code="code_exhausted")

    def cancel(self, actor: Actor, hall_id: int, code: str, id_number: str | None, day: date | None = None) -> dict:
        """Cancel a booking: the citizen proves it with the ID number; staff may cancel any."""
        staff = actor.role in STAFF_ROLES
        # A citizen learns nothing from a guess: an unknown code and another person's booking answer alike.
        no_match = NotFound("预约号或身份证号码不符", code="booking_not_found")
        with self.db.write() as session:
            try:
                booking = self._find(session, hall_id, code, day, lock=True)
            except NotFound:
                if staff:
                    raise
                raise no_match from None
            proven = bool(id_number) and self.engine.hash_id(idcard.normalise(id_number)) == booking.id_hash
            if not staff and not proven:
                raise no_match
            if booking.status != "booked":
                raise Conflict(f"预约当前状态为“{_STATUS[booking.status]}”，不能取消", code="booking_not_open")
            booking.status, booking.changed_at = "cancelled", self.clock.now()
            self._audit(session, actor, hall_id, "booking.cancel", booking.code)
            return self._view(booking, self._item_name(hall_id, booking.item_code))

    def check_in(self, actor: Actor, hall_id: int, code: str) -> dict[str, Any]:
        """Turn today's booking into a ticket: in the window → placed at the slot; late → a walk-in ticket."""
        if actor.role not in CHECKERS:
            raise Forbidden("无权签到", code="forbidden_role")
        ref = self.engine.reference(hall_id)
        conf = settings_of(ref.settings)
        now = self.clock.now()
        today = numbering.service_day(now, ref.timezone)
        with self.db.read() as session:
            booking = self._find(session, hall_id, code, today)
            booking_id, status_now, slot_start, item_code = (
                booking.id,
                booking.status,
                booking.slot_start,
                booking.item_code,
            )
        if status_now != "booked":
            raise Conflict(f"预约当前状态为“{_STATUS[status_now]}”，不能签到", code="booking_not_open")
        earliest = slot_start - timedelta(minutes=int(conf["checkin_before_minutes"]))
        latest = slot_start + timedelta(minutes=int(conf["checkin_after_minutes"]))
        if now < earliest:
            opens = f"{earliest.astimezone(ZoneInfo(ref.timezone)):%H:%M}"
            # details.from: the kiosk words the message in the citizen's language (the text has a value in it).
            raise Conflict(f"未到签到时间，请于{opens}后签到", code="too_early", details={"from": opens})
        late = now > latest
        status = "late" if late else "checked_in"

        def mark(repo: Repository, ticket_id: int) -> None:
            # Conditional update inside the issuing transaction: a second check-in finds nothing to change.
            done = repo.session.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.status == "booked")
                .values(status=status, ticket_id=ticket_id, changed_at=now)
            )
            if done.rowcount != 1:
                raise Conflict("该预约已签到", code="booking_not_open")

        ticket = self.engine.issue(
            actor,
            hall_id,
            [item_code],
            channel="kiosk" if late else "appointment",
            sort_at=None if late else slot_start,
            within=mark,
        )
        with self.db.read() as session:
            booking = session.get(Booking, booking_id)
            view = self._view(booking, self._item_name(hall_id, item_code))
        return {"booking": view, "ticket": ticket}

    def mark_no_shows(self, actor: Actor, hall_id: int) -> int:
        """Bookings whose check-in window has passed unused become no-shows; returns how many."""
        ref = self.engine.reference(hall_id)
        conf = settings_of(ref.settings)
        cutoff = self.clock.now() - timedelta(minutes=int(conf["checkin_after_minutes"]))
        with self.db.write() as session:
            rows = session.scalars(
                select(Booking).where(
                    Booking.hall_id == hall_id, Booking.status == "booked", Booking.slot_start < cutoff
                )
            ).all()
            for b in rows:
                b.status, b.changed_at = "no_show", self.clock.now()
            if rows:
                self._audit(session, actor, hall_id, "booking.no_show", None, after={"count": len(rows)})
            return len(rows)

    def list(self, hall_id: int, day: date) -> list[dict[str, Any]]:
        """A day's bookings in slot order (masked IDs)."""
        with self.db.read() as session:
            rows = session.scalars(
                select(Booking).where(Booking.hall_id == hall_id, Booking.day == day).order_by(Booking.slot_start)
            ).all()
            return [self._view(b, self._item_name(hall_id, b.item_code)) for b in rows]

    # --- helpers ----------------------------------------------------------------------------------
    def _find(self, session: Any, hall_id: int, code: str, day: date | None, *, lock: bool = False) -> Booking:
        stmt = select(Booking).where(Booking.hall_id == hall_id, Booking.code == code)
        # Without a day: the newest booking with that code (codes repeat across days).
        stmt = stmt.where(Booking.day == day) if day is not None else stmt.order_by(Booking.day.desc()).limit(1)
        if lock:
            stmt = stmt.with_for_update()
        booking = session.scalar(stmt)
        if booking is None:
            raise NotFound("预约不存在，请核对预约号（签到只限预约当天）", code="booking_not_found")
        return booking

    def _item_name(self, hall_id: int, code: str) -> str:
        item = self.engine.reference(hall_id).items.get(code)
        return item.name if item else code

    def _audit(
        self, session: Any, actor: Actor, hall_id: int, action: str, target: str | None, after: dict | None = None
    ) -> None:
        Repository(session).audit(
            hall_id=hall_id,
            at=self.clock.now(),
            actor_id=actor.id,
            actor=actor.name,
            role=actor.role,
            window_number=actor.window_number,
            action=action,
            target=target,
            before=None,
            after=after,
            client=actor.client,
        )

    def _view(self, b: Booking, item_name: str) -> dict[str, Any]:
        # In the hall's local time, as the slots and the booking answer are: a stored booking read back from
        # the database came out in UTC ("01:00+00:00" for a 09:00 slot).
        tz = ZoneInfo(self.engine.reference(b.hall_id).timezone)

        def local(at: datetime) -> str:
            return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(tz).isoformat()

        return {
            "code": b.code,
            "item": {"code": b.item_code, "name": item_name},
            "day": b.day.isoformat(),
            "slot_start": local(b.slot_start),
            "slot_end": local(b.slot_end),
            "status": b.status,
            "status_name": _STATUS[b.status],
            "id_masked": b.id_masked,
            "phone_masked": b.phone_masked,
            "ticket_id": b.ticket_id,
        }


_STATUS = {
    "booked": "已预约",
    "cancelled": "已取消",
    "checked_in": "已签到",
    "late": "迟到（按现场取号）",
    "no_show": "爽约",
}
