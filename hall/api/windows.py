"""Window actions: call next, recall, 过号, start, complete, transfer, park, resume, pause, open, close."""

from __future__ import annotations

from typing import Any

from flask import Response

from hall.api.blueprint import Blueprint
from hall.api.schemas import (
    CallOrderEnvelope,
    CallOrderQuery,
    CallTicketIn,
    ParkIn,
    PauseIn,
    ResumeIn,
    ResumeOut,
    TicketEnvelope,
    TransferIn,
    WindowDetailEnvelope,
    WindowEnvelope,
    WindowPriorityIn,
)
from hall.api.tickets import public_ticket
from hall.engine import STAFF_ROLES
from hall.web.context import hall_id_for, services
from hall.web.security import current_actor, require_roles, require_window_actor

blp = Blueprint("windows", __name__, url_prefix="/api/v1/windows", description="窗口操作")


def _ticket(view: dict[str, Any]) -> dict[str, Any]:
    return {"ticket": public_ticket(view)}


@blp.route("/<int(max=9999):number>", methods=["GET"])
@require_roles(*STAFF_ROLES)
@blp.response(200, WindowDetailEnvelope)
def window_detail(number: int) -> Any:
    """The window, its current ticket and the tickets it could call."""
    actor = current_actor()
    view = services().engine.window_state(hall_id_for(actor), number)
    if view.get("current"):
        view["current"] = public_ticket(view["current"])
    return {"window": view}


@blp.route("/<int(max=9999):number>/call-next", methods=["POST"])
@require_roles(*STAFF_ROLES)
@require_window_actor
@blp.response(200, TicketEnvelope)
@blp.alt_response(204, description="nothing waits for this window")
def call_next(number: int) -> Any:
    """Call the next ticket for this window (atomic: never the same ticket at two windows)."""
    actor = current_actor()
    view = services().engine.call_next(actor, hall_id_for(actor), number)
    if view is None:
        return Response(status=204)
    return _ticket(view)


def _simple(action: str):  # noqa: ANN202 - tiny view factory
    def view(number: int) -> Any:
        actor = current_actor()
        engine = services().engine
        return _ticket(getattr(engine, action)(actor, hall_id_for(actor), number))

    view.__name__ = action.replace("_", "")
    view.__doc__ = {
        "recall": "重呼: call the current ticket again (limited).",
        "no_show": "过号: recycle the ticket some places back, or end it, per the hall's rule.",
        "start": "The citizen arrived: start service.",
        "complete": "Service done (办结).",
    }[action]
    return view


for _action, _path in (("recall", "recall"), ("no_show", "no-show"), ("start", "start"), ("complete", "complete")):
    blp.route(f"/<int(max=9999):number>/{_path}", methods=["POST"], endpoint=_action)(
        require_roles(*STAFF_ROLES)(blp.response(200, TicketEnvelope)(_simple(_action)))
    )


@blp.route("/<int(max=9999):number>/priority", methods=["POST"])
@require_roles(*STAFF_ROLES)
@require_window_actor
@blp.arguments(WindowPriorityIn)
@blp.response(200, TicketEnvelope)
def priority(args: dict[str, Any], number: int) -> Any:
    """待核验: confirm the called green-channel number (verified true) or send it to the normal queue (false)."""
    actor = current_actor()
    return _ticket(services().engine.verify_priority(actor, hall_id_for(actor), number, args["verified"]))


@blp.route("/<int(max=9999):number>/transfer", methods=["POST"])
@require_roles(*STAFF_ROLES)
@require_window_actor
@blp.arguments(TransferIn)
@blp.response(200, TicketEnvelope)
def transfer(args: dict[str, Any], number: int) -> Any:
    """Transfer the ticket in service to another window or item, placed first or last."""
    actor = current_actor()
    return _ticket(
        services().engine.transfer(
            actor,
            hall_id_for(actor),
            number,
            to_window=args["to_window"],
            to_item=args["to_item"],
            position=args["position"],
        )
    )


@blp.route("/<int(max=9999):number>/park", methods=["POST"])
@require_roles(*STAFF_ROLES)
@require_window_actor
@blp.arguments(ParkIn)
@blp.response(200, TicketEnvelope)
def park(args: dict[str, Any], number: int) -> Any:
    """容缺受理: park the ticket in service, recording the missing materials."""
    actor = current_actor()
    return _ticket(
        services().engine.park(actor, hall_id_for(actor), number, missing=args["missing"], days=args["days"])
    )


@blp.route("/<int(max=9999):number>/resume", methods=["POST"])
@require_roles(*STAFF_ROLES)
@require_window_actor
@blp.arguments(ResumeIn, required=False)
@blp.response(200, ResumeOut)
def resume(args: dict[str, Any], number: int) -> Any:
    """With ``{"ticket": id}``: resume that parked ticket here. Without: resume the paused window."""
    actor = current_actor()
    engine = services().engine
    if args and args.get("ticket"):
        return _ticket(engine.resume(actor, hall_id_for(actor), number, args["ticket"]))
    return {"window": engine.window_action(actor, hall_id_for(actor), number, "resume")}


@blp.route("/<int(max=9999):number>/next", methods=["GET"])
@require_roles(*STAFF_ROLES)
@blp.arguments(CallOrderQuery, location="query")
@blp.response(200, CallOrderEnvelope)
def call_order(args: dict[str, Any], number: int) -> Any:
    """The window's next tickets in the order call-next would take them (the hall's routing policy decides)."""
    actor = current_actor()
    return {"tickets": services().engine.call_order(hall_id_for(actor), number, limit=args["limit"])}


@blp.route("/<int(max=9999):number>/call-ticket", methods=["POST"])
@require_roles(*STAFF_ROLES)
@require_window_actor
@blp.arguments(CallTicketIn)
@blp.response(200, TicketEnvelope)
def call_ticket(args: dict[str, Any], number: int) -> Any:
    """选呼: call one waiting ticket (``ticket`` id or today's ``number``), audited as ``ticket.call_selected``."""
    actor = current_actor()
    engine = services().engine
    return _ticket(engine.call_ticket(actor, hall_id_for(actor), number, args["ticket"], number=args["number"]))


@blp.route("/<int(max=9999):number>/presence", methods=["POST"])
@require_roles(*STAFF_ROLES)
@require_window_actor
@blp.response(200, WindowEnvelope)
def presence(number: int) -> Any:
    """Sign in at the window, or keep the presence alive (the console beats every 20 s; silent 60 s = signed out)."""
    actor = current_actor()
    return {"window": services().engine.presence(actor, hall_id_for(actor), number)}


@blp.route("/<int(max=9999):number>/presence", methods=["DELETE"])
@require_roles(*STAFF_ROLES)
@require_window_actor
@blp.response(204)
def sign_out(number: int) -> Any:
    """Sign out of the window (the clerk leaves it; a supervisor may sign anyone out)."""
    actor = current_actor()
    services().engine.sign_out(actor, hall_id_for(actor), number, reason="sign_out")
    return Response(status=204)


@blp.route("/<int(max=9999):number>/pause", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(PauseIn, required=False)
@blp.response(200, WindowEnvelope)
def window_pause(args: dict[str, Any], number: int) -> Any:
    """Pause the window (break) with an optional reason (meal / meeting / away); it must have no citizen at it."""
    actor = current_actor()
    reason = (args or {}).get("reason")
    return {"window": services().engine.window_action(actor, hall_id_for(actor), number, "pause", reason)}


def _window_view(action: str):  # noqa: ANN202
    def view(number: int) -> Any:
        actor = current_actor()
        return {"window": services().engine.window_action(actor, hall_id_for(actor), number, action)}

    view.__name__ = f"window_{action}"
    view.__doc__ = {
        "open": "Open the window (also from paused).",
        "close": "Close the window; it must have no citizen at it.",
    }[action]
    return view


for _action in ("open", "close"):
    blp.route(f"/<int(max=9999):number>/{_action}", methods=["POST"], endpoint=f"window_{_action}")(
        require_roles(*STAFF_ROLES)(blp.response(200, WindowEnvelope)(_window_view(_action)))
    )
