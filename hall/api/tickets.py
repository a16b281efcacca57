"""Tickets: issue, read, cancel, late return, unpark; and the catalogue."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import gettext
from flask_login import current_user

from hall.api.blueprint import Blueprint
from hall.api.schemas import (
    IssueIn,
    ItemsEnvelope,
    PrintOut,
    PriorityCheckIn,
    PriorityCheckOut,
    ReprintIn,
    TicketEnvelope,
    TokenIn,
    TokenQuery,
)
from hall.engine import STAFF_ROLES, Actor
from hall.errors import Conflict, Forbidden, NotFound, Unauthorized
from hall.web.context import hall_id_for, services
from hall.web.limits import issue_limit, limiter
from hall.web.origins import public_base, public_base_if_trusted
from hall.web.security import current_actor, require_roles

translate = gettext  # the print outcome's message is marked in kiosk/printing.py (a variable is not extracted)

blp = Blueprint("tickets", __name__, url_prefix="/api/v1", description="取号与号码")


def public_ticket(view: dict[str, Any], *, base: str | None = None) -> dict[str, Any]:
    """A ticket for the API; with ``base`` (only for the issuing kiosk or the secret's holder) its ``track_url``.

    Staff never get the citizen's secret: with it they could follow, cancel or rate the ticket as the citizen.
    """
    out = dict(view)
    token = out.pop("track_token", None)
    out.pop("issuer", None)
    if base is not None and token:
        out["track_url"] = f"{base}/t/{token}"
    return out


@blp.route("/items", methods=["GET"])
@blp.response(200, ItemsEnvelope)
def list_items() -> Any:
    """The service catalogue (事项清单) with materials and time limits."""
    actor = current_user.actor if current_user.is_authenticated else None
    return {"items": services().engine.items(hall_id_for(actor))}


@blp.route("/tickets", methods=["POST"])
@require_roles("kiosk", *STAFF_ROLES)
@limiter.limit(issue_limit)
@blp.arguments(IssueIn)
@blp.response(201, TicketEnvelope)
def issue(args: dict[str, Any]) -> Any:
    """Take a number for one item, or two items of two departments (一件事)."""
    actor = current_actor()
    # The kiosk shows and prints the tracking QR; the base is checked before the number is taken.
    base = public_base() if actor.role == "kiosk" else None
    view = services().engine.issue(
        actor,
        hall_id_for(actor),
        args["items"],
        priority=args["priority"],
        id_number=args["id_number"] or None,
        channel=args["channel"],
    )
    return {"ticket": public_ticket(view, base=base)}


def _is_staff() -> bool:
    return bool(current_user.is_authenticated and current_user.role in STAFF_ROLES)


@blp.route("/tickets/priority-check", methods=["POST"])
@require_roles("kiosk", *STAFF_ROLES)
@limiter.limit(issue_limit)
@blp.arguments(PriorityCheckIn)
@blp.response(200, PriorityCheckOut)
def priority_check(args: dict[str, Any]) -> Any:
    """绿色通道: check the ID (valid; 65+ for 老年人) before the item is chosen. 422 says why it was refused."""
    actor = current_actor()
    return services().engine.check_priority(actor, hall_id_for(actor), args["priority"], args["id_number"])


def _authorised_view(ticket_id: int, token: str | None) -> dict[str, Any]:
    """Staff of the ticket's hall, or anyone holding the ticket's tracking secret."""
    engine = services().engine
    if _is_staff():
        return engine.ticket(current_user.hall_id, ticket_id)
    if not token:
        raise Unauthorized("需要登录或提供号码凭证", code="unauthenticated")
    try:
        view = engine.ticket_by_token(token)
    except NotFound:
        raise Forbidden("号码凭证无效", code="bad_token") from None
    if view["id"] != ticket_id:
        raise Forbidden("号码凭证无效", code="bad_token")
    return view


@blp.route("/tickets/<int(max=2147483647):ticket_id>", methods=["GET"])
@blp.arguments(TokenQuery, location="query")
@blp.response(200, TicketEnvelope)
def get_ticket(args: dict[str, Any], ticket_id: int) -> Any:
    """A ticket's state, people ahead and ETA (staff, or ``?token=`` from the tracking URL)."""
    view = _authorised_view(ticket_id, args.get("token"))
    # The holder already has the link; through an untrusted host name the answer simply leaves it out.
    return {"ticket": public_ticket(view, base=None if _is_staff() else public_base_if_trusted())}


@blp.route("/tickets/<int(max=2147483647):ticket_id>/cancel", methods=["POST"])
@blp.arguments(TokenIn)
@blp.response(200, TicketEnvelope)
def cancel(args: dict[str, Any], ticket_id: int) -> Any:
    """Give up a waiting number (the citizen with the token, or staff)."""
    view = _authorised_view(ticket_id, args.get("token"))
    base = None
    if _is_staff():
        actor = current_actor()
    else:  # the citizen, proven by the tracking secret
        actor = Actor(name="citizen", role="citizen", hall_id=view["hall_id"], client=request.remote_addr)
        base = public_base_if_trusted()
    engine = services().engine
    hall_id = view["hall_id"]
    return {"ticket": public_ticket(engine.cancel(actor, hall_id, ticket_id), base=base)}


@blp.route("/tickets/<int(max=2147483647):ticket_id>/return", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.response(200, TicketEnvelope)
def late_return(ticket_id: int) -> Any:
    """A no-show citizen came back: back into the queue once (if the hall allows it)."""
    actor = current_actor()
    return {"ticket": public_ticket(services().engine.return_late(actor, hall_id_for(actor), ticket_id))}


@blp.route("/tickets/<int(max=2147483647):ticket_id>/unpark", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.response(200, TicketEnvelope)
def unpark(ticket_id: int) -> Any:
    """Missing materials arrived (mail/online): the parked ticket goes to the head of its queue."""
    actor = current_actor()
    return {"ticket": public_ticket(services().engine.unpark(actor, hall_id_for(actor), ticket_id))}


def _print(actor: Actor, hall_id: int, ticket_id: int, printer: str | None) -> dict[str, Any]:
    """Claim the print (audited, refused when not allowed), then print; printer trouble is not an error."""
    svc = services()
    base = public_base()  # the slip's QR; checked before the print is claimed
    view = svc.engine.claim_print(actor, hall_id, ticket_id)
    slip = public_ticket(view, base=base)
    ref = svc.engine.reference(hall_id)
    outcome = current_app.extensions["hall.printing"].print_ticket(
        hall_id, printer, slip, hall_name=ref.name, timezone=ref.timezone
    )
    # The issuing kiosk shows the QR on screen when its printer fails; staff hand over the paper slip only.
    ticket = slip if actor.role == "kiosk" else public_ticket(view)
    return {**outcome, "message": translate(outcome["message"]), "ticket": ticket}


@blp.route("/tickets/<int(max=2147483647):ticket_id>/print", methods=["POST"])
@require_roles("kiosk")
@blp.response(200, PrintOut)
def print_ticket(ticket_id: int) -> Any:
    """The kiosk prints the slip of a ticket it just issued (once). Not printed → show it on screen."""
    actor = current_actor()
    return _print(actor, hall_id_for(actor), ticket_id, actor.name)


@blp.route("/tickets/<int(max=2147483647):ticket_id>/reprint", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(ReprintIn)
@blp.response(200, PrintOut)
def reprint(args: dict[str, Any], ticket_id: int) -> Any:
    """Reprint a slip at the guide desk (staff): the named printer or the hall's guide-desk printer."""
    actor = current_actor()
    hall_id = hall_id_for(actor)
    printing = current_app.extensions["hall.printing"]
    printer = args["printer"] or printing.default_printer(hall_id, services().engine.reference(hall_id).settings)
    if printer is None:
        raise Conflict("大厅未配置导办台打印机", code="no_printer")
    if printer not in printing.printers(hall_id):
        raise NotFound(f"打印机不存在: {printer}", code="printer_not_found")
    return _print(actor, hall_id, ticket_id, printer)
