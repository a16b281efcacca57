"""/api/v1/hall: live load, opening status, alerts and device health."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app

from hall.api.blueprint import Blueprint
from hall.api.doc_schemas import AuditPageDoc, DayStatsDoc, NewTokenDoc
from hall.api.schemas import AlertsOut, AlertsQuery, DevicesOut, HallQuery, HallStatusOut, LoadOut, TidalIn, TidalOut
from hall.engine import STAFF_ROLES, SUPERVISOR_ROLES
from hall.web.context import hall_id_for, services
from hall.web.security import current_actor, require_roles

blp = Blueprint("hall", __name__, url_prefix="/api/v1/hall", description="大厅负载")


@blp.route("/load", methods=["GET"])
@require_roles(*STAFF_ROLES, "display")
@blp.arguments(HallQuery, location="query")
@blp.response(200, LoadOut)
def load(args: dict[str, Any]) -> Any:
    """Waiting per queue, longest wait, every window's state and current ticket."""
    actor = current_actor()
    return services().engine.load(hall_id_for(actor))


@blp.route("/status", methods=["GET"])
@blp.arguments(HallQuery, location="query")
@blp.response(200, HallStatusOut)
def status(args: dict[str, Any]) -> Any:
    """Public: is the hall open now, today's hours and the next opening (kiosks show a closed screen)."""
    return services().engine.hall_status(hall_id_for(None))


@blp.route("/alerts", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(AlertsQuery, location="query")
@blp.response(200, AlertsOut)
def alerts(args: dict[str, Any]) -> Any:
    """Open alerts (printer paper, devices offline, …), newest first; ``?all=1`` includes cleared ones."""
    actor = current_actor()
    return {"alerts": services().alerts.open_alerts(hall_id_for(actor), include_cleared=args["all"])}


@blp.route("/devices", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(HallQuery, location="query")
@blp.response(200, DevicesOut)
def devices(args: dict[str, Any]) -> Any:
    """Registered kiosks, displays, printers and serial devices with their last known health."""
    actor = current_actor()
    return {"devices": services().alerts.devices(hall_id_for(actor))}


@blp.route("/devices/check", methods=["POST"])
@require_roles(*SUPERVISOR_ROLES)
@blp.response(200, DevicesOut)
def check_devices() -> Any:
    """Poll every printer and serial device now (status query) and return the refreshed device list."""
    actor = current_actor()
    hall_id = hall_id_for(actor)
    current_app.extensions["hall.printing"].check(hall_id)
    serial = current_app.extensions.get("hall.devices")
    if serial is not None:
        serial.check(hall_id)
    return {"devices": services().alerts.devices(hall_id)}


@blp.route("/tidal", methods=["GET"])
@require_roles(*STAFF_ROLES)
@blp.response(200, TidalOut)
def tidal() -> Any:
    """The tidal window: open or not, a manager's override, and the rule's last reason."""
    actor = current_actor()
    return services().tidal.status(hall_id_for(actor))


@blp.route("/tidal", methods=["POST"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(TidalIn)
@blp.response(200, TidalOut)
def tidal_override(args: dict[str, Any]) -> Any:
    """Force the tidal window open or closed, or give it back to the rule (``auto``)."""
    actor = current_actor()
    return services().tidal.override(actor, hall_id_for(actor), args["mode"])


class StatsQuery(ma.Schema):
    """``?day=YYYY-MM-DD`` (default today)."""

    day = ma.fields.Date(load_default=None)


@blp.route("/stats", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(StatsQuery, location="query")
@blp.alt_response(200, schema=DayStatsDoc, success=True, description="The day's statistics")
def day_stats(args: dict[str, Any]) -> Any:
    """A day's mean/P90 waits (all, 绿色通道, normal), outcomes, arrivals per hour and ETA accuracy."""
    actor = current_actor()
    return services().engine.day_stats(hall_id_for(actor), args["day"])


class AuditQuery(ma.Schema):
    """Filters for the audit search."""

    action = ma.fields.String(load_default=None, metadata={"description": "prefix, e.g. ticket. or case."})
    actor = ma.fields.String(load_default=None)
    target = ma.fields.String(load_default=None)
    since = ma.fields.AwareDateTime(data_key="from", load_default=None)
    until = ma.fields.AwareDateTime(data_key="to", load_default=None)
    limit = ma.fields.Integer(load_default=200, validate=ma.validate.Range(1, 1000))


@blp.route("/audit", methods=["GET"])
@require_roles("manager", "admin")
@blp.arguments(AuditQuery, location="query")
@blp.alt_response(200, schema=AuditPageDoc, success=True, description="Audit rows and the chain's state")
def audit_search(args: dict[str, Any]) -> Any:
    """Search the hall's audit trail (newest first) and say whether its hash chain is intact."""
    from hall import audit

    actor = current_actor()
    hall_id = hall_id_for(actor)
    db = services().db
    (verdict,) = audit.verify(db, hall_id)
    return {
        "chain": {"ok": verdict.ok, "rows": verdict.rows, "first_bad_id": verdict.first_bad_id},
        "entries": audit.search(db, hall_id, **args),
    }


@blp.route("/devices/<name>/token", methods=["POST"])
@require_roles("admin")
@blp.alt_response(200, schema=NewTokenDoc, success=True, description="The new token (shown once)")
def rotate_device_token(name: str) -> Any:
    """Replace a device's token (the old one stops working at once); the new token is returned once."""
    from hall import device_tokens
    from hall.web.security import forget_principals

    actor = current_actor()
    token = device_tokens.rotate(services().engine, actor, hall_id_for(actor), name)
    forget_principals()  # cached device principals would keep the old token alive for seconds
    return {"device": name, "token": token}
