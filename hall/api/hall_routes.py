"""/api/v1/hall: live load, opening status, alerts and device health."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import marshmallow as ma
from flask import current_app
from flask_babel import get_locale, gettext

from hall.alerts import CATEGORY_ORDER, DEVICE_ALERT_TEXTS, device_alert_label, device_label
from hall.api.blueprint import Blueprint
from hall.api.doc_schemas import AuditPageDoc, DayStatsDoc, NewTokenDoc
from hall.api.schemas import (
    AlertOut,
    AlertsOut,
    AlertsQuery,
    DevicesOut,
    HallQuery,
    HallStatusOut,
    Input,
    LoadOut,
    TidalIn,
    TidalOut,
    day_field,
)
from hall.engine import STAFF_ROLES, SUPERVISOR_ROLES
from hall.web.context import hall_id_for, services
from hall.web.security import current_actor, require_roles

blp = Blueprint("hall", __name__, url_prefix="/api/v1/hall", description="大厅负载")


def N_(text: str) -> str:  # noqa: N802 - the gettext marker pybabel extracts by default
    """Mark a text for translation (translated per request)."""
    return text


# The tidal rule's reasons (hall/tidal.py Decision.why) as the dashboard says them; %(…)s are minutes. A manager's
# override has none here: the dashboard names the override itself.
TIDAL_REASONS = {
    "none": N_("本大厅未配置潮汐窗口"),
    "earlier_closed": N_("前一个潮汐窗口未开放"),
    "scheduled_peak": N_("预设高峰时段"),
    "wait_above": N_("预计等候%(wait)s分钟，超过%(limit)s分钟"),
    "later_open": N_("后一个潮汐窗口开放中"),
    "settling": N_("预计等候%(wait)s分钟；前一个潮汐窗口开放未满%(limit)s分钟"),
    "calm": N_("已平稳%(minutes)s分钟（预计等候%(wait)s分钟，低于%(limit)s分钟）"),
    "calming": N_("趋于平稳（%(minutes)s/%(limit)s分钟）"),
    "not_yet_calm": N_("预计等候%(wait)s分钟，尚未低于%(limit)s分钟"),
    "normal": N_("客流正常"),
    # the same with no window open at all: the wait is unbounded, never "预计等候1000000分钟"
    "wait_above_no_window": N_("有人等候但无开放窗口"),
    "settling_no_window": N_("有人等候但无开放窗口；前一个潮汐窗口开放未满%(limit)s分钟"),
    "not_yet_calm_no_window": N_("有人等候但无开放窗口"),
}
# tidal.decide caps an infinite wait (nobody serving, people arriving) at 1e6 minutes
UNBOUNDED_WAIT = 1e5
translate = gettext  # a variable in gettext() would be extracted as text

# English texts for alerts by kind (the stored message is Chinese, with details such as names and minutes).
ALERT_TEXTS = {
    "long_wait": N_("队列%(queue)s等候过长（%(minutes)s分钟）"),
    "bad_rating": N_("收到差评，请跟进整改（整改单%(case)s）"),
    "case_overdue": N_("差评整改已超期（整改单%(case)s）"),
    "service_overtime": N_("%(number)s号在%(window)s号窗口办理超时"),
    "parked_overdue": N_("%(number)s号容缺受理补齐材料已逾期"),
    "job_failed": N_("定时任务失败：%(job)s"),
    "device_check_failed": N_("开门前设备检查未能完成"),
    "overload_no_window": N_("%(name)s有%(waiting)s人等候，但没有开放窗口可以办理，请开放窗口或安排人员到岗"),
    "overload_sla": N_("%(name)s预计等候%(minutes)s分钟，超过%(limit)s分钟的时限，请增开窗口"),
}


def alert_text(alert: dict[str, Any], devices: dict[str, dict[str, Any]]) -> str:
    """An alert's message in the request's language: the stored Chinese one, or the kind's English text.

    Device alerts are always said afresh from the device (older rows carried the technical detail in the text).
    """
    details = alert.get("details") or {}
    if alert["kind"] in DEVICE_ALERT_TEXTS and details.get("device"):
        device = devices.get(details["device"])
        label = (
            device_alert_label(device["kind"], device["name"], device["window"], translate)
            if device
            else details["device"]
        )
        return translate(DEVICE_ALERT_TEXTS[alert["kind"]]) % {"name": label}
    if not str(get_locale() or "zh_CN").startswith("en"):
        return alert["message"]
    kind = f"overload_{details.get('why')}" if alert["kind"] == "overload" else alert["kind"]
    if kind in ALERT_TEXTS:
        try:
            return translate(ALERT_TEXTS[kind]) % defaultdict(lambda: "—", details)
        except (TypeError, ValueError):
            pass
    return gettext("提醒：%(kind)s", kind=alert["kind"])


def labelled(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Devices with their human ``label``."""
    return [{**d, "label": device_label(d["kind"], d["name"], d.get("window"), translate)} for d in devices]


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def tidal_reason(entry: dict[str, Any]) -> str | None:
    """A tidal decision's reason in the request's language (None before the rule has decided)."""
    why = entry.get("why")
    if why not in TIDAL_REASONS:
        return None
    raw = entry.get("why_args") or {}
    if float(raw.get("wait") or 0) >= UNBOUNDED_WAIT and f"{why}_no_window" in TIDAL_REASONS:
        why = f"{why}_no_window"
    args = {k: _number(v) for k, v in raw.items()}
    return translate(TIDAL_REASONS[why], **args)


def localized_tidal(status: dict[str, Any]) -> dict[str, Any]:
    """The tidal status with ``reason_text`` on the head and on each window."""
    windows = [{**w, "reason_text": tidal_reason(w)} for w in status.get("windows", [])]
    return {**status, "reason_text": tidal_reason(status), "windows": windows}


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
    hall_id = hall_id_for(actor)
    found = services().alerts.open_alerts(hall_id, include_cleared=args["all"])
    devices = {d["name"]: d for d in services().alerts.devices(hall_id)} if found else {}
    counts = {category: 0 for category in CATEGORY_ORDER}
    for a in found:
        if a["cleared_at"] is None:
            counts[a["category"]] += 1
    return {"alerts": [{**a, "message": alert_text(a, devices)} for a in found], "counts": counts}


@blp.route("/alerts/<int(max=2147483647):alert_id>/ack", methods=["POST"])
@require_roles("leader", "manager")
@blp.response(200, AlertOut)
def acknowledge_alert(alert_id: int) -> Any:
    """The duty leader or manager has seen an open alert: it stays open but moves below unseen ones (audited)."""
    actor = current_actor()
    hall_id = hall_id_for(actor)
    alert = services().alerts.acknowledge(actor, hall_id, alert_id)
    devices = {d["name"]: d for d in services().alerts.devices(hall_id)}
    return {**alert, "message": alert_text(alert, devices)}


@blp.route("/devices", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(HallQuery, location="query")
@blp.response(200, DevicesOut)
def devices(args: dict[str, Any]) -> Any:
    """Registered kiosks, displays, printers and serial devices with their last known health."""
    actor = current_actor()
    return {"devices": labelled(services().alerts.devices(hall_id_for(actor)))}


class OwnPrinterOut(ma.Schema):
    """The asking kiosk's own printer: configured, last known status, and whether a slip can come out."""

    device = ma.fields.String()
    printer = ma.fields.Boolean(metadata={"description": "the kiosk has a printer configured"})
    status = ma.fields.String(allow_none=True, metadata={"description": "ok, near_end, paper_out, offline, error"})
    can_print = ma.fields.Boolean(metadata={"description": "false: say so on the home screen before a number"})


# Statuses in which a slip does not come out (kiosk/printing.py); near_end still prints.
NOT_PRINTING = {"paper_out", "offline", "error"}


@blp.route("/devices/mine", methods=["GET"])
@require_roles("kiosk")
@blp.response(200, OwnPrinterOut)
def my_printer() -> Any:
    """A kiosk asks about its own printer (from the health polling) to warn citizens before they take a number."""
    actor = current_actor()
    hall_id = hall_id_for(actor)
    has_printer = actor.name in current_app.extensions["hall.printing"].printers(hall_id)
    status = next((d["status"] for d in services().alerts.devices(hall_id) if d["name"] == actor.name), None)
    return {
        "device": actor.name,
        "printer": has_printer,
        "status": status,
        "can_print": has_printer and status not in NOT_PRINTING,
    }


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
    return {"devices": labelled(services().alerts.devices(hall_id))}


@blp.route("/tidal", methods=["GET"])
@require_roles(*STAFF_ROLES)
@blp.response(200, TidalOut)
def tidal() -> Any:
    """The tidal window: open or not, a manager's override, and the rule's last reason."""
    actor = current_actor()
    return localized_tidal(services().tidal.status(hall_id_for(actor)))


@blp.route("/tidal", methods=["POST"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(TidalIn)
@blp.response(200, TidalOut)
def tidal_override(args: dict[str, Any]) -> Any:
    """Force the tidal window open or closed, or give it back to the rule (``auto``)."""
    actor = current_actor()
    return localized_tidal(services().tidal.override(actor, hall_id_for(actor), args["mode"]))


class StatsQuery(Input):
    """``?day=YYYY-MM-DD`` (default today)."""

    day = day_field(load_default=None)


@blp.route("/stats", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(StatsQuery, location="query")
@blp.alt_response(200, schema=DayStatsDoc, success=True, description="The day's statistics")
def day_stats(args: dict[str, Any]) -> Any:
    """A day's mean/P90 waits (all, 绿色通道, normal), outcomes, arrivals per hour and ETA accuracy."""
    actor = current_actor()
    return services().engine.day_stats(hall_id_for(actor), args["day"])


class AuditQuery(Input):
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
