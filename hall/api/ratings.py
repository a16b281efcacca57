"""好差评 API: rate a 办件 (phone or window device), clerks' own aggregates, supervisors' summary, follow-up cases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask_login import current_user
from marshmallow import validate

from hall.api.blueprint import Blueprint
from hall.api.doc_schemas import CaseDoc, CasesDoc, PendingRatingDoc, RatingSummaryDoc
from hall.api.schemas import Input, Strict, day_field
from hall.engine import STAFF_ROLES, SUPERVISOR_ROLES, Actor
from hall.errors import Forbidden, NotFound
from hall.ratings import CASE_MOVES, CASE_STATUSES, WINDOW_DEVICES
from hall.web.context import hall_id_for, services
from hall.web.limits import limiter
from hall.web.security import current_actor, require_roles

blp = Blueprint("ratings", __name__, url_prefix="/api/v1", description="好差评")

SCORE = ma.fields.Integer(required=True, validate=validate.Range(1, 5))


class Indicators(Strict):
    """The four on-site indicators (GB/T 39734), each 1–5, all optional."""

    overall = ma.fields.Integer(validate=validate.Range(1, 5))
    efficiency = ma.fields.Integer(validate=validate.Range(1, 5))
    level = ma.fields.Integer(validate=validate.Range(1, 5))
    attitude = ma.fields.Integer(validate=validate.Range(1, 5))


class RateIn(Strict):
    """A citizen's rating of one 办件."""

    token = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    item = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    score = SCORE
    indicators = ma.fields.Nested(Indicators, load_default=dict)
    comment = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500), metadata={"multiline": True}
    )


class WindowRateIn(Strict):
    """The window tablet's or pad's rating of the 办件 just completed there."""

    score = SCORE
    indicators = ma.fields.Nested(Indicators, load_default=dict)
    comment = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500), metadata={"multiline": True}
    )


class RatingOut(ma.Schema):
    """What was stored (no personal data)."""

    id = ma.fields.Integer()
    score = ma.fields.Integer()
    level = ma.fields.String()
    item = ma.fields.String()
    window = ma.fields.Integer(allow_none=True)
    channel = ma.fields.String()
    case_opened = ma.fields.Boolean()
    followup_days = ma.fields.Integer(
        allow_none=True, metadata={"description": "差评: the follow-up case's deadline in working days"}
    )
    followup_by = ma.fields.String(allow_none=True, metadata={"description": "差评: the case's deadline, YYYY-MM-DD"})


class RatingEnvelope(ma.Schema):
    """``{"rating": …}``."""

    rating = ma.fields.Nested(RatingOut)


class PeriodQuery(Input):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (inclusive; default today)."""

    from_ = day_field(data_key="from", load_default=None)
    to = day_field(load_default=None)

    @ma.validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ma.ValidationError("from 不能晚于 to", field_name="to")


class CaseIn(Strict):
    """A 回访 record or decision: how (电话/短信/上门/当面) and what was said or done."""

    how = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    text = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=1000), metadata={"multiline": True}
    )


class CasesQuery(Input):
    """``?status=open``."""

    status = ma.fields.String(load_default=None, validate=validate.OneOf(CASE_STATUSES))


def _period(args: dict[str, Any]) -> tuple[datetime, datetime]:
    svc = services()
    tz = ZoneInfo(svc.engine.reference(svc.hall_id).timezone)
    today = svc.clock.now().astimezone(tz).date()
    start = args.get("from_") or today
    end = args.get("to") or start
    return datetime.combine(start, datetime.min.time(), tz), datetime.combine(
        end + timedelta(days=1), datetime.min.time(), tz
    )


def _rater() -> Actor:
    if current_user.is_authenticated:
        return current_actor()
    return Actor(name="citizen", role="citizen", hall_id=None)


@blp.route("/tickets/<int(max=2147483647):ticket_id>/rating", methods=["POST"])
@limiter.limit("20 per minute")
@blp.arguments(RateIn)
@blp.response(201, RatingEnvelope)
def rate_ticket(args: dict[str, Any], ticket_id: int) -> Any:
    """Rate a completed 办件 with the ticket's secret (phone) or as the window's rating device."""
    actor = _rater()
    if actor.role not in WINDOW_DEVICES and actor.role != "citizen":
        # Staff (and other devices) never rate as citizens, even holding a ticket's secret: a clerk could
        # otherwise praise their own service or open a 差评 case against a colleague.
        raise Forbidden("评价只能由群众用号码凭证或窗口评价器提交", code="forbidden_role")
    hall_id = hall_id_for(actor if actor.hall_id else None)
    rating = services().ratings.rate_ticket(
        actor,
        hall_id,
        ticket_id,
        args["score"],
        token=args["token"],
        item_code=args["item"],
        indicators=args["indicators"],
        comment=args["comment"],
    )
    return {"rating": rating}


@blp.route("/windows/<int(max=9999):number>/rating", methods=["GET"])
@require_roles(*WINDOW_DEVICES)
@blp.alt_response(200, schema=PendingRatingDoc, success=True, description="What the tablet may rate now")
def window_pending(number: int) -> Any:
    """The 办件 the window's tablet may rate now (``{"pending": null}`` when none)."""
    actor = current_actor()
    if actor.window_number not in (None, number):
        raise Forbidden("只能查看本窗口", code="other_window")
    return {"pending": services().ratings.pending_at_window(hall_id_for(actor), number)}


@blp.route("/windows/<int(max=9999):number>/rating", methods=["POST"])
@require_roles(*WINDOW_DEVICES)
@blp.arguments(WindowRateIn)
@blp.response(201, RatingEnvelope)
def window_rate(args: dict[str, Any], number: int) -> Any:
    """The window's tablet or pad rates the 办件 just completed at that window."""
    actor = current_actor()
    if actor.window_number not in (None, number):
        raise Forbidden("只能评价本窗口办理的业务", code="other_window")
    rating = services().ratings.rate_at_window(
        actor,
        hall_id_for(actor),
        number,
        args["score"],
        indicators=args["indicators"],
        comment=args["comment"],
        channel="window",
    )
    return {"rating": rating}


@blp.route("/ratings/mine", methods=["GET"])
@require_roles("clerk", *SUPERVISOR_ROLES)
@blp.arguments(PeriodQuery, location="query")
@blp.alt_response(200, schema=RatingSummaryDoc, success=True, description="Your own aggregates")
def mine(args: dict[str, Any]) -> Any:
    """The logged-in staff member's own aggregates (never who rated what)."""
    actor = current_actor()
    since, until = _period(args)
    return services().ratings.summary(hall_id_for(actor), since, until, clerk_id=actor.id)


@blp.route("/ratings/summary", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(PeriodQuery, location="query")
@blp.alt_response(200, schema=RatingSummaryDoc, success=True, description="The hall's aggregates")
def summary(args: dict[str, Any]) -> Any:
    """The hall's 好评率, 差评, closed on time and 实名差评回访率 for a period."""
    actor = current_actor()
    since, until = _period(args)
    return services().ratings.summary(hall_id_for(actor), since, until)


@blp.route("/cases", methods=["GET"])
@require_roles(*STAFF_ROLES)
@blp.arguments(CasesQuery, location="query")
@blp.alt_response(200, schema=CasesDoc, success=True, description="The cases")
def cases(args: dict[str, Any]) -> Any:
    """差评整改 cases (clerks: their own)."""
    actor = current_actor()
    return {"cases": services().ratings.cases(actor, hall_id_for(actor), status=args["status"])}


@blp.route("/cases/<int(max=2147483647):case_id>/<action>", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(CaseIn)
@blp.alt_response(200, schema=CaseDoc, success=True, description="The case after the action")
def case_action(args: dict[str, Any], case_id: int, action: str) -> Any:
    """contact (回访) · rectify · explain · close · appeal (申诉) · uphold · reject (复核)."""
    if action not in CASE_MOVES:
        raise NotFound(f"未知的整改操作: {action}", code="bad_action")
    actor = current_actor()
    return {
        "case": services().ratings.case_action(
            actor, hall_id_for(actor), case_id, action, how=args["how"], text=args["text"]
        )
    }
