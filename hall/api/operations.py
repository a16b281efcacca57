"""/api/v1: the duty roster (值班安排), stored day reports and the daily jobs' ledger."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from hall.api.blueprint import Blueprint
from hall.api.schemas import Input, Strict, day_field
from hall.engine import STAFF_ROLES, SUPERVISOR_ROLES
from hall.roster import EDITOR_ROLES, month_days, parse_month
from hall.web.context import hall_id_for
from hall.web.security import current_actor, require_roles

blp = Blueprint("operations", __name__, url_prefix="/api/v1", description="值班安排、日报与定时任务")

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class MonthQuery(Input):
    """``?month=YYYY-MM`` (default: this month)."""

    month = ma.fields.String(load_default=None, validate=validate.Regexp(MONTH_PATTERN, error="应为 YYYY-MM"))


class DayQuery(Input):
    """``?day=YYYY-MM-DD`` (default: today)."""

    day = day_field(load_default=None)


class PersonOut(ma.Schema):
    """Someone on duty: the account (if any) and the name shown."""

    username = ma.fields.String(allow_none=True)
    name = ma.fields.String()


class RosterDayOut(ma.Schema):
    """One day: working or not (holidays and 调休 included) and who is on duty."""

    day = ma.fields.String()
    weekday = ma.fields.Integer(metadata={"description": "ISO weekday, 1 = Monday"})
    working = ma.fields.Boolean()
    kind = ma.fields.String(metadata={"description": "normal, holiday, adjusted_workday, override_…"})
    leader = ma.fields.Nested(PersonOut, allow_none=True, metadata={"description": "值班领导"})
    clerk = ma.fields.Nested(PersonOut, allow_none=True, metadata={"description": "值班窗口工作人员"})
    guides = ma.fields.List(ma.fields.Nested(PersonOut), metadata={"description": "咨询引导"})


class RosterOut(ma.Schema):
    """A month of the roster."""

    month = ma.fields.String()
    days = ma.fields.List(ma.fields.Nested(RosterDayOut))


class GuideIn(Strict):
    """A guide-desk person: an account, or only a name for staff without one."""

    username = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    name = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class RosterDayIn(Strict):
    """One day's change; omitted keys stay as they are, null clears."""

    day = day_field(required=True)
    leader = ma.fields.String(allow_none=True, validate=validate.Length(max=64), metadata={"description": "username"})
    clerk = ma.fields.String(allow_none=True, validate=validate.Length(max=64), metadata={"description": "username"})
    guides = ma.fields.List(ma.fields.Nested(GuideIn), allow_none=True, validate=validate.Length(max=10))


class RosterIn(Strict):
    """Days of the month to change."""

    days = ma.fields.List(ma.fields.Nested(RosterDayIn), required=True, validate=validate.Length(min=1, max=31))


class DutyTodayOut(RosterDayOut):
    """Today's duty."""


class JobRunOut(ma.Schema):
    """One daily job's run (ledger row)."""

    job = ma.fields.String()
    label = ma.fields.String()
    day = ma.fields.String()
    status = ma.fields.String(metadata={"description": "running, done or failed"})
    runs = ma.fields.Integer()
    started_at = ma.fields.String()
    finished_at = ma.fields.String(allow_none=True)
    result = ma.fields.Dict()


class JobRunsOut(ma.Schema):
    """A day's daily job runs."""

    day = ma.fields.String()
    runs = ma.fields.List(ma.fields.Nested(JobRunOut))


class DayReportOut(ma.Schema):
    """A day's stored report (engine day stats + resets and booking no-shows)."""

    day = ma.fields.String()
    created_at = ma.fields.String()
    report = ma.fields.Dict()


class ReportsQuery(MonthQuery):
    """``?day=YYYY-MM-DD`` for one day, else ``?month=YYYY-MM`` (default: this month)."""

    day = day_field(load_default=None)


class DayReportsOut(ma.Schema):
    """Stored reports of a day or a month, oldest first."""

    from_ = ma.fields.String(data_key="from")
    to = ma.fields.String()
    reports = ma.fields.List(ma.fields.Nested(DayReportOut))


def _roster() -> Any:
    return current_app.extensions["hall.roster"]


def _ops() -> Any:
    return current_app.extensions["hall.operations"]


def _month(args: dict[str, Any], hall_id: int) -> date:
    if args.get("month"):
        return parse_month(args["month"])
    return _roster().today(hall_id).replace(day=1)


@blp.route("/roster", methods=["GET"])
@require_roles(*STAFF_ROLES)
@blp.arguments(MonthQuery, location="query")
@blp.response(200, RosterOut)
def roster_month(args: dict[str, Any]) -> Any:
    """A month of the duty roster: every day, working or not, with its duty leader, duty clerk and guides."""
    hall_id = hall_id_for(current_actor())
    return _roster().month(hall_id, _month(args, hall_id))


@blp.route("/roster", methods=["PUT"])
@require_roles(*EDITOR_ROLES)
@blp.arguments(MonthQuery, location="query")
@blp.arguments(RosterIn)
@blp.response(200, RosterOut)
def roster_update(args: dict[str, Any], body: dict[str, Any]) -> Any:
    """Change the duty of some working days of the month (managers); audited as ``roster.update``."""
    actor = current_actor()
    hall_id = hall_id_for(actor)
    return _roster().update(actor, hall_id, _month(args, hall_id), body["days"])


@blp.route("/roster/today", methods=["GET"])
@require_roles(*STAFF_ROLES)
@blp.response(200, DutyTodayOut)
def roster_today() -> Any:
    """Today's duty leader, duty clerk and guides (the duty leader also receives review-chain approvals)."""
    hall_id = hall_id_for(current_actor())
    return _roster().day(hall_id, _roster().today(hall_id))


@blp.route("/operations/runs", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(DayQuery, location="query")
@blp.response(200, JobRunsOut)
def job_runs(args: dict[str, Any]) -> Any:
    """A day's daily jobs: the device check's result, opening, closing (status, times, outcome)."""
    hall_id = hall_id_for(current_actor())
    day = args["day"] or _roster().today(hall_id)
    return {"day": day.isoformat(), "runs": _ops().runs(hall_id, day)}


@blp.route("/day-reports", methods=["GET"])
@require_roles(*SUPERVISOR_ROLES)
@blp.arguments(ReportsQuery, location="query")
@blp.response(200, DayReportsOut)
def day_reports(args: dict[str, Any]) -> Any:
    """Stored day reports: one day (``?day=``, empty before that day's close) or a month (``?month=``)."""
    hall_id = hall_id_for(current_actor())
    if args.get("day"):
        first = last = args["day"]
    else:
        days = month_days(_month(args, hall_id))
        first, last = days[0], days[-1]
    return {"from_": first.isoformat(), "to": last.isoformat(), "reports": _ops().reports(hall_id, first, last)}
