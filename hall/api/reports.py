"""Reports and the manager dashboard API: period figures, CSV/XLSX exports, hourly comparison, live overview."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask_babel import gettext
from marshmallow import validate

from hall import reports
from hall.api.blueprint import Blueprint
from hall.api.doc_schemas import EXPORT_DOC, DashboardDoc, HourlyDoc, ReportDoc
from hall.api.schemas import Input, day_field
from hall.dashboard import Dashboard
from hall.engine import SUPERVISOR_ROLES
from hall.reporting import Reporter
from hall.web.context import hall_id_for, services
from hall.web.security import current_actor, require_roles

# Labels marked with N_ in hall.reports, translated here (a variable in gettext() would be extracted as text).
translate = gettext

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="报表与管理看板")

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Query(Input):
    class Meta:
        unknown = ma.EXCLUDE  # ?lang=en and the like pass through


class ReportQuery(_Query):
    """``?period=day|week|month&date=YYYY-MM-DD&by=hall|item|window|clerk`` (defaults: day, today, hall)."""

    period = ma.fields.String(load_default="day", validate=validate.OneOf(reports.PERIODS))
    date = day_field(load_default=None)
    by = ma.fields.String(load_default="hall", validate=validate.OneOf(reports.GROUPINGS))


class ExportQuery(ReportQuery):
    """The report's query plus ``format=csv|xlsx``."""

    format = ma.fields.String(load_default="csv", validate=validate.OneOf(tuple(MEDIA)))


class DayQuery(_Query):
    """``?date=YYYY-MM-DD`` (default today)."""

    date = day_field(load_default=None)


def N_(text: str) -> str:  # noqa: N802 - the gettext marker pybabel extracts by default
    """Mark a text for translation (translated per request)."""
    return text


PERIOD_NAMES = {"day": N_("日"), "week": N_("周"), "month": N_("月")}


def translated(report: dict[str, Any]) -> dict[str, Any]:
    """Column labels and the fixed row labels (全厅, 未叫号…) in the request's language; data stays as is."""
    fixed = {reports.GROUP_LABELS["hall"], reports.NOT_CALLED, reports.NOBODY}
    return {
        **report,
        "columns": [{**c, "label": translate(c["label"])} for c in report["columns"]],
        "rows": [{**r, "label": translate(r["label"]) if r["label"] in fixed else r["label"]} for r in report["rows"]],
        "total": {**report["total"], "label": translate(report["total"]["label"])},
    }


def _report(args: dict[str, Any]) -> dict[str, Any]:
    actor = current_actor()
    raw = Reporter(services().engine).report(hall_id_for(actor), args["period"], args["date"], args["by"])
    return translated(raw)


@blp.route("/reports", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(ReportQuery, location="query")
@blp.alt_response(200, schema=ReportDoc, success=True, description="The report")
def report(args: dict[str, Any]) -> Any:
    """A day's, week's or month's figures per hall, item, window or clerk (definitions: docs/reports.md)."""
    return _report(args)


@blp.route("/reports/export", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(ExportQuery, location="query")
@blp.doc(**EXPORT_DOC)
def export(args: dict[str, Any]) -> Any:
    """The same report as a CSV or XLSX download: the numbers on the screen, cell for cell."""
    data = _report(args)
    key_label, name_label = translate(reports.KEY_LABEL), translate(reports.NAME_LABEL)
    total_label = translate(reports.TOTAL_LABEL)
    stem = f"report-{data['hall']['code']}-{data['period']}-{data['from']}-{data['by']}"
    if args["format"] == "csv":
        body = reports.to_csv(data, key_label, name_label, total_label)
    else:
        info = [
            (gettext("大厅"), data["hall"]["name"]),
            (gettext("周期"), translate(PERIOD_NAMES[data["period"]])),
            (gettext("起"), data["from"]),
            (gettext("止"), data["to"]),
            (gettext("分组"), translate(reports.GROUP_LABELS[data["by"]])),
            # generated_at carries the hall's offset: its wall-clock part is the hall's time
            (gettext("生成时间"), data["generated_at"][:19].replace("T", " ")),
            (gettext("口径说明"), gettext("见统计报表页面的“指标说明”")),
        ]
        body = reports.to_xlsx(
            data, title=gettext("报表"), info=info, key_label=key_label, name_label=name_label, total_label=total_label
        )
    return Response(
        body,
        content_type=MEDIA[args["format"]],  # mimetype= would append a second "; charset=utf-8" to text/csv
        headers={"Content-Disposition": f'attachment; filename="{stem}.{args["format"]}"'},
    )


@blp.route("/reports/hourly", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(DayQuery, location="query")
@blp.alt_response(200, schema=HourlyDoc, success=True, description="Arrivals per hour")
def hourly(args: dict[str, Any]) -> Any:
    """Arrivals and mean wait per hour of a day against the mean of the last four same weekdays."""
    actor = current_actor()
    return Reporter(services().engine).hourly(hall_id_for(actor), args["date"])


@blp.route("/dashboard", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.alt_response(200, schema=DashboardDoc, success=True, description="The dashboard")
def dashboard() -> Any:
    """The live hall for /manager: load, waiting per priority class, predicted waits, service times."""
    actor = current_actor()
    svc = services()
    return Dashboard(svc.engine, svc.alerts, svc.ratings).overview(hall_id_for(actor))
