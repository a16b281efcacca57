"""预约办 API: slots, booking, cancellation, check-in at the kiosk or guide desk, and the day's list."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import current_app, request
from flask_login import current_user
from marshmallow import validate

from hall.api.blueprint import Blueprint
from hall.api.schemas import Input, Strict, TicketOut, day_field
from hall.api.tickets import public_ticket
from hall.engine import STAFF_ROLES, Actor
from hall.errors import Invalid
from hall.web.context import hall_id_for, services
from hall.web.limits import address_key, cancel_limit, failed, limiter
from hall.web.origins import public_base
from hall.web.security import current_actor, require_roles

blp = Blueprint("appointments", __name__, url_prefix="/api/v1/appointments", description="预约办")


def valid_code(code: str) -> str:
    """Booking codes are six digits (typed on the kiosk's number pad)."""
    if not re.fullmatch(r"\d{6}", code):
        raise Invalid("预约号为6位数字", code="bad_booking_code")
    return code


class SlotsQuery(Input):
    """Which item and day."""

    item = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))
    day = day_field(required=True)
    hall = ma.fields.String(load_default=None)


class SlotOut(ma.Schema):
    """One slot."""

    start = ma.fields.String()
    end = ma.fields.String()
    left = ma.fields.Integer()
    open = ma.fields.Boolean()


class SlotsOut(ma.Schema):
    """``{"slots": […]}``."""

    slots = ma.fields.List(ma.fields.Nested(SlotOut))


class BookIn(Strict):
    """Book a slot (the ID is checked and stored masked; the phone is optional)."""

    item = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))
    slot_start = ma.fields.AwareDateTime(required=True, default_timezone=None)
    id_number = ma.fields.String(required=True, validate=validate.Length(min=15, max=32))
    phone = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))


class CancelIn(Strict):
    """The citizen proves the booking with the ID number (staff need not)."""

    id_number = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class BookingOut(ma.Schema):
    """A booking (masked)."""

    code = ma.fields.String()
    item = ma.fields.Dict()
    day = ma.fields.String()
    slot_start = ma.fields.String()
    slot_end = ma.fields.String()
    status = ma.fields.String()
    status_name = ma.fields.String()
    id_masked = ma.fields.String()
    phone_masked = ma.fields.String(allow_none=True)
    ticket_id = ma.fields.Integer(allow_none=True)


class BookingEnvelope(ma.Schema):
    """``{"booking": …}``."""

    booking = ma.fields.Nested(BookingOut)


class CheckInOut(ma.Schema):
    """``{"booking": …, "ticket": …}``."""

    booking = ma.fields.Nested(BookingOut)
    ticket = ma.fields.Nested(TicketOut)


class DayQuery(Input):
    """``?day=YYYY-MM-DD``."""

    day = day_field(required=True)


class BookingsOut(ma.Schema):
    """``{"bookings": […]}``."""

    bookings = ma.fields.List(ma.fields.Nested(BookingOut))


def _booker() -> Actor:
    """Staff booking for a caller at the desk, or a citizen from the phone page."""
    if current_user.is_authenticated and current_user.role in STAFF_ROLES:
        return current_actor()
    return Actor(name="citizen", role="citizen", hall_id=None, client=request.remote_addr)


def booking_limit() -> str:
    """Bookings per client address (anti-scalping: 号贩子)."""
    return current_app.config.get("BOOKING_RATE_LIMIT", "10 per hour")


@blp.route("/slots", methods=["GET"])
@blp.arguments(SlotsQuery, location="query")
@blp.response(200, SlotsOut)
def slots(args: dict[str, Any]) -> Any:
    """Bookable slots of a day for an item, with places left."""
    return {"slots": services().appointments.slots(hall_id_for(None), args["item"], args["day"])}


@blp.route("", methods=["POST"])
@limiter.limit(booking_limit)
@blp.arguments(BookIn)
@blp.response(201, BookingEnvelope)
def book(args: dict[str, Any]) -> Any:
    """Book a slot; returns the 6-digit booking code used to check in."""
    actor = _booker()
    hall_id = hall_id_for(actor if actor.hall_id else None)
    booking = services().appointments.book(
        actor, hall_id, args["item"], args["slot_start"], args["id_number"], args["phone"]
    )
    return {"booking": booking}


@blp.route("/<code>/cancel", methods=["POST"])
@limiter.limit(cancel_limit, key_func=address_key, deduct_when=failed)
@blp.arguments(CancelIn)
@blp.response(200, BookingEnvelope)
def cancel(args: dict[str, Any], code: str) -> Any:
    """Cancel a booking (the citizen with the ID number, or staff); guesses are limited per address."""
    valid_code(code)
    actor = _booker()
    hall_id = hall_id_for(actor if actor.hall_id else None)
    return {"booking": services().appointments.cancel(actor, hall_id, code, args["id_number"])}


@blp.route("/<code>/check-in", methods=["POST"])
@require_roles("kiosk", *STAFF_ROLES)
@blp.response(201, CheckInOut)
def check_in(code: str) -> Any:
    """Check in on the day: a ticket placed at the slot's start (or a walk-in ticket when late)."""
    valid_code(code)
    actor = current_actor()
    base = public_base() if actor.role == "kiosk" else None  # staff never get the citizen's secret
    out = services().appointments.check_in(actor, hall_id_for(actor), code)
    return {"booking": out["booking"], "ticket": public_ticket(out["ticket"], base=base)}


@blp.route("", methods=["GET"])
@require_roles(*STAFF_ROLES)
@blp.arguments(DayQuery, location="query")
@blp.response(200, BookingsOut)
def day_list(args: dict[str, Any]) -> Any:
    """The day's bookings in slot order (staff)."""
    actor = current_actor()
    return {"bookings": services().appointments.list(hall_id_for(actor), args["day"])}
