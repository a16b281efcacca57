"""审核链 API: the window submits a special item's 办件; risk control checks, the duty leader approves, the
window closes it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from hall.api.blueprint import Blueprint
from hall.api.doc_schemas import ReviewDoc, ReviewsDoc
from hall.api.schemas import Input, Strict
from hall.engine import STAFF_ROLES
from hall.errors import NotFound
from hall.reviews import REVIEW_STATUSES, STEPS, Reviews
from hall.web.context import hall_id_for, services
from hall.web.security import current_actor, require_roles

blp = Blueprint("reviews", __name__, url_prefix="/api/v1/reviews", description="审核链")


class SubmitIn(Strict):
    """Which served 办件 to send for review."""

    ticket = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=2147483647))
    item = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class StepIn(Strict):
    """``ok`` false sends it back, with the reason in ``note``."""

    ok = ma.fields.Boolean(load_default=True)
    note = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500), metadata={"multiline": True}
    )


class ListQuery(Input):
    """``?status=submitted``."""

    status = ma.fields.String(load_default=None, validate=validate.OneOf(REVIEW_STATUSES))


def _reviews() -> Reviews:
    return Reviews(services().engine)


@blp.route("", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(SubmitIn)
@blp.alt_response(201, schema=ReviewDoc, success=True, description="The new review")
def submit(args: dict[str, Any]) -> Any:
    """The window sends a served 办件 of a review-chain item to risk control (201)."""
    actor = current_actor()
    return {"review": _reviews().submit(actor, hall_id_for(actor), args["ticket"], args["item"])}, 201


@blp.route("", methods=["GET"])
@require_roles(*STAFF_ROLES)
@blp.arguments(ListQuery, location="query")
@blp.alt_response(200, schema=ReviewsDoc, success=True, description="The reviews")
def list_reviews(args: dict[str, Any]) -> Any:
    """Review cases with the next step and whether it is the caller's turn."""
    actor = current_actor()
    return {"reviews": _reviews().list(actor, hall_id_for(actor), status=args["status"])}


@blp.route("/<int(max=2147483647):review_id>/<action>", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(StepIn)
@blp.alt_response(200, schema=ReviewDoc, success=True, description="The review after the step")
def step(args: dict[str, Any], review_id: int, action: str) -> Any:
    """check (风控) · approve (值班领导) · close (窗口办结)."""
    if action not in STEPS:
        raise NotFound(f"未知的审核操作: {action}", code="bad_action")
    actor = current_actor()
    return {"review": _reviews().act(actor, hall_id_for(actor), review_id, action, ok=args["ok"], note=args["note"])}
