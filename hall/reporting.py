"""Reports service: loads a period's rows (hall.report_queries) and hands them to hall.reports (pure).

Core module: no Flask. The API and the exports call ``report``; the dashboard's charts call ``hourly``.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hall import numbering, report_queries, reports, schedule
from hall.engine import Engine
from hall.ratings import add_working_days

BASELINE_WEEKS = 4


class Reporter:
    """Builds reports for a hall from its history."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _catalogue(self, hall_id: int) -> dict[str, reports.ItemInfo]:
        ref = self.engine.reference(hall_id)
        return {
            code: reports.ItemInfo(i.code, i.name, i.service_minutes, i.time_limit_days, i.online)
            for code, i in ref.items.items()
        }

    def today(self, hall_id: int) -> date:
        """The hall's current service day."""
        return numbering.service_day(self.engine.clock.now(), self.engine.reference(hall_id).timezone)

    def report(self, hall_id: int, period: str, day: date | None, by: str) -> dict[str, Any]:
        """The figures of the day/week/month containing ``day`` (default today), grouped ``by``."""
        ref = self.engine.reference(hall_id)
        tz = ZoneInfo(ref.timezone)
        span = reports.span_of(period, day or self.today(hall_id))
        hours = schedule.parse_hours(ref.settings.get("hours"), ref.timezone)
        since = datetime.combine(span.first, datetime.min.time(), tz)
        until = datetime.combine(span.last + timedelta(days=1), datetime.min.time(), tz)
        with self.engine.db.read() as session:
            tickets, periods = report_queries.tickets_between(session, hall_id, span.first, span.last)
            ratings = report_queries.ratings_between(session, hall_id, since, until)
            clerks = report_queries.staff_labels(session, hall_id)
            numbers = report_queries.staff_numbers(session, hall_id) if by == "clerk" else {}
        out = reports.build(
            span,
            by,
            tickets=tickets,
            periods=periods,
            ratings=ratings,
            catalogue=self._catalogue(hall_id),
            windows=dict(ref.window_names),
            clerks=clerks,
            due=functools.cache(lambda start, days: add_working_days(start, days, hours)),  # one walk per day
            now=self.engine.clock.now(),
            tz=tz,
            kpi=reports.kpi_settings(ref.settings),
        )
        # 分组 shows what people know a row by: a clerk's 工号, never the internal user id
        for row in out["rows"]:
            key = row["key"]
            row["key_text"] = numbers.get(key, "") if by == "clerk" else "" if key is None else str(key)
        out["total"]["key_text"] = ""
        return {"hall": {"id": ref.id, "code": ref.code, "name": ref.name}, **out}

    def hourly(self, hall_id: int, day: date | None = None) -> dict[str, Any]:
        """Arrivals and mean wait per hour of ``day`` against the mean of the previous four same weekdays."""
        ref = self.engine.reference(hall_id)
        day = day or self.today(hall_id)
        tickets: list[reports.TicketInfo] = []
        periods: list[Any] = []
        with self.engine.db.read() as session:
            for n in range(BASELINE_WEEKS + 1):  # five single days, not the month between them
                one = day - timedelta(weeks=n)
                t, p = report_queries.tickets_between(session, hall_id, one, one)
                tickets += t
                periods += p
        return reports.hourly(day, tickets, periods, ZoneInfo(ref.timezone), baseline_weeks=BASELINE_WEEKS)
