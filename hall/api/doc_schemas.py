"""OpenAPI documentation of answers whose views build their JSON themselves (documented, never used to dump).

Each is attached with ``@blp.alt_response(..., success=True)``: the 2xx answer and its top-level shape appear in
/api/v1/openapi.json (Schemathesis checks answers against them) while the view's output stays exactly as it was.
"""

from __future__ import annotations

import marshmallow as ma

OBJECTS = ma.fields.List(ma.fields.Dict())
OBJECT = ma.fields.Dict()
ANY = ma.fields.Raw(allow_none=True)


class DayStatsDoc(ma.Schema):
    """One day's hall statistics: tickets, waits, outcomes, arrivals per hour, ETA accuracy."""

    day = ma.fields.String()
    tickets = ma.fields.Integer()
    wait = OBJECT
    wait_normal = OBJECT
    wait_priority = OBJECT
    outcomes = OBJECT
    arrivals_per_hour = OBJECT
    eta = OBJECT


class AuditPageDoc(ma.Schema):
    """Audit rows found and the state of the hall's hash chain."""

    entries = OBJECTS
    chain = OBJECT


class NewTokenDoc(ma.Schema):
    """A device's new token, shown once."""

    device = ma.fields.String()
    token = ma.fields.String()


class PendingRatingDoc(ma.Schema):
    """What the window's tablet may rate now (null when nothing)."""

    pending = ma.fields.Dict(allow_none=True)


class RatingSummaryDoc(ma.Schema):
    """好差评 aggregates for a period (never who rated what)."""

    count = ma.fields.Integer()
    mean = ma.fields.Float(allow_none=True)
    good_rate = ma.fields.Float(allow_none=True)
    levels = OBJECT
    bad = ma.fields.Integer()
    bad_closed_on_time = ma.fields.Integer()
    real_name_bad = ma.fields.Integer()
    revisit_rate = ma.fields.Float(allow_none=True)


class CasesDoc(ma.Schema):
    """差评整改 cases."""

    cases = OBJECTS


class CaseDoc(ma.Schema):
    """One 差评整改 case after the action."""

    case = OBJECT


class ReportDoc(ma.Schema):
    """A statistics report (日报/周报/月报) by hall, window, clerk, item or queue."""

    class Meta:
        include = {"from": ma.fields.String()}

    period = ma.fields.String()
    to = ma.fields.String()
    by = ma.fields.String()
    generated_at = ma.fields.String()
    hall = OBJECT
    columns = OBJECTS
    rows = OBJECTS
    total = OBJECT
    kpi = OBJECT


class HourlyDoc(ma.Schema):
    """Arrivals per hour today against the same weekday's baseline."""

    date = ma.fields.String()
    hours = ma.fields.List(ANY)
    today = OBJECT
    baseline = OBJECT
    baseline_days = ma.fields.List(ANY)


class DashboardDoc(ma.Schema):
    """The live dashboard: queues, windows, KPIs."""

    at = ma.fields.String()
    timezone = ma.fields.String()
    hall = OBJECT
    kpi = OBJECT
    waiting = ma.fields.Integer()
    parked = ma.fields.Integer()
    longest_wait_seconds = ma.fields.Integer()
    queues = OBJECTS
    windows = OBJECTS
    classes = OBJECTS
    needs_staff = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "open tidal windows nobody is signed in at (请安排人员到岗)"}
    )


class CityDoc(ma.Schema):
    """Every hall's line and the 15-minute service circle."""

    halls = OBJECTS
    waiting = ma.fields.Integer()
    circle_minutes = ma.fields.Float()
    at = ma.fields.String(metadata={"description": "when the figures were read (hall-local ISO time; 截至 HH:MM)"})


class ReviewsDoc(ma.Schema):
    """审核链 reviews."""

    reviews = OBJECTS


class ReviewDoc(ma.Schema):
    """One 审核链 review after the step."""

    review = OBJECT


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_DOC = {
    "responses": {
        "200": {
            "description": "The report as a file: CSV (UTF-8 with BOM, `format=csv`) or Excel (`format=xlsx`)",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}
