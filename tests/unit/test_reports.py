"""hall.reports (pure): periods, joint tickets, 限时办结 deadlines, attribution, rounding, purity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from hall import reports
from hall.reports import ItemInfo, RatingInfo, TicketInfo, WorkItem, build, cell_text, span_of
from hall.stats import PeriodRow
from tests.unit.test_boundaries import imported

TZ = ZoneInfo("Asia/Shanghai")
MON = date(2026, 11, 23)
CATALOGUE = {
    "YB001": ItemInfo("YB001", "城乡居民参保登记", 5, 0, True),
    "YB009": ItemInfo("YB009", "生育保险待遇申领", 8, 10, True),
    "RS001": ItemInfo("RS001", "社会保障卡补换", 6, 0, False),
}


def at(hh: int, mm: int, day: date = MON) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ).astimezone(UTC)


def weekdays_only(start: date, days: int) -> date:
    """A calendar without holidays: N weekdays later."""
    d = start
    while days:
        d += timedelta(days=1)
        days -= d.weekday() < 5
    return d


def run(by: str, tickets, periods, ratings=(), now=None):
    return build(
        span_of("day", MON),
        by,
        tickets=tickets,
        periods=periods,
        ratings=list(ratings),
        catalogue=CATALOGUE,
        windows={1: "综合窗口1", 2: "综合窗口2", 8: "一件事联办窗口"},
        clerks={11: "张敏（YB0101）", 12: "李娜（YB0102）"},
        due=weekdays_only,
        now=now or at(18, 0),
        tz=TZ,
    )


def served(ticket_id: int, called: datetime, start: datetime, end: datetime, window: int, clerk: int, entered=None):
    """Period rows of a ticket waiting, called, served and completed at one window."""
    return [
        PeriodRow(ticket_id, "waiting", entered or at(9, 0), called, "call"),
        PeriodRow(ticket_id, "called", called, start, "start", window, clerk),
        PeriodRow(ticket_id, "serving", start, end, "complete", window, clerk),
        PeriodRow(ticket_id, "completed", end, end, "complete", window, clerk),
    ]


def test_periods() -> None:
    assert span_of("day", MON) == reports.Span("day", MON, MON)
    week = span_of("week", date(2026, 11, 26))
    assert (week.first, week.last, len(week.days())) == (MON, date(2026, 11, 29), 7)
    assert (span_of("month", date(2028, 2, 10)).first, span_of("month", date(2028, 2, 10)).last) == (
        date(2028, 2, 1),
        date(2028, 2, 29),
    )
    assert span_of("month", date(2026, 12, 31)).last == date(2026, 12, 31)
    with pytest.raises(ValueError):
        span_of("year", MON)


def test_a_joint_ticket_counts_under_both_items_with_its_whole_service() -> None:
    joint = TicketInfo(
        1,
        MON,
        at(9, 0),
        items=(
            WorkItem("YB001", "done", at(9, 30), 8, 11),
            WorkItem("RS001", "done", at(9, 30), 8, 11),
        ),
    )
    single = TicketInfo(2, MON, at(9, 0), items=(WorkItem("YB001", "done", at(9, 20), 1, 12),))
    rows = served(1, at(9, 10), at(9, 12), at(9, 30), 8, 11) + served(2, at(9, 5), at(9, 5), at(9, 20), 1, 12)
    r = run("item", [joint, single], rows)
    by = {row["key"]: row["figures"] for row in r["rows"]}
    assert list(by) == ["YB001", "RS001"]  # catalogue order
    assert (by["YB001"]["tickets"], by["RS001"]["tickets"]) == (2, 1)
    assert by["RS001"]["handling_mean"] == 18.0 and by["RS001"]["expected_mean"] == 11.0  # 5 + 6 for the pair
    assert by["YB001"]["handling_mean"] == 16.5  # (18 + 15) / 2
    assert by["RS001"]["online_at_counter"] == 0 and by["YB001"]["online_at_counter"] == 2
    total = r["total"]["figures"]
    assert total["tickets"] == 2 and total["online_at_counter"] == 2 and total["online_share"] == pytest.approx(0.667)


def test_time_limit_deadlines_use_working_days() -> None:
    # YB009 has 10 working days: due Monday 7 Dec 2026 (end of day) for a Monday 23 Nov issue.
    late = TicketInfo(1, MON, at(9, 0), items=(WorkItem("YB009", "done", at(9, 0, date(2026, 12, 8)), 1, 11),))
    in_time = TicketInfo(2, MON, at(9, 0), items=(WorkItem("YB009", "done", at(23, 0, date(2026, 12, 7)), 1, 11),))
    pending = TicketInfo(3, MON, at(9, 0), items=(WorkItem("YB009", "pending"),))
    same_day = TicketInfo(4, MON, at(9, 0), items=(WorkItem("YB001", "pending"),))
    never_served = TicketInfo(5, MON, at(9, 0), items=(WorkItem("YB001", "pending"),))
    parked = [
        PeriodRow(n, s, at(9, 0), at(9, 5), "x", 1, 11) for n in (1, 2, 3, 4) for s in ("waiting", "called", "serving")
    ]
    rows = [*parked, PeriodRow(5, "waiting", at(9, 0), None)]
    r = run("hall", [late, in_time, pending, same_day, never_served], rows, now=at(12, 0, date(2026, 11, 24)))
    # late ✗, in_time ✓, pending (deadline not reached) excluded, same_day ✗ (its day is over), never_served excluded
    assert r["total"]["figures"]["time_limit_rate"] == 0.333  # 1 of 3
    before_midnight = run("hall", [same_day], rows, now=at(23, 0))
    assert before_midnight["total"]["figures"]["time_limit_rate"] is None


def test_window_rows_attribute_transfers_and_parking_where_they_happened() -> None:
    t = TicketInfo(1, MON, at(9, 0), items=(WorkItem("YB001", "done", at(9, 40), 2, 12),))
    rows = [
        PeriodRow(1, "waiting", at(9, 0), at(9, 5), "call"),
        PeriodRow(1, "called", at(9, 5), at(9, 6), "start", 1, 11),
        PeriodRow(1, "serving", at(9, 6), at(9, 10), "transfer", 1, 11),
        PeriodRow(1, "waiting", at(9, 10), at(9, 20), "call"),
        PeriodRow(1, "called", at(9, 20), at(9, 21), "start", 2, 12),
        PeriodRow(1, "serving", at(9, 21), at(9, 25), "park", 2, 12),
        PeriodRow(1, "parked", at(9, 25), at(9, 35), "resume", 2, 12),
        PeriodRow(1, "serving", at(9, 35), at(9, 40), "complete", 2, 12),
        PeriodRow(1, "completed", at(9, 40), at(9, 40), "complete", 2, 12),
    ]
    rating = RatingInfo(score=5, item_code="YB001", window=2, clerk_id=12, real_name=False)
    r = run("window", [t], rows, [rating])
    by = {row["key"]: row["figures"] for row in r["rows"]}
    assert by[1]["tickets"] == 0 and by[1]["transfers"] == 1  # transferred out of window 1
    assert by[2]["tickets"] == 1 and by[2]["wait_mean"] == 20.0  # entry 09:00 → last call 09:20
    assert by[2]["handling_mean"] == 13.0  # 4 + 4 + 5 minutes of service, wherever it happened
    assert (by[2]["parked"], by[2]["parked_completed"], by[2]["ratings"]) == (1, 1, 1)
    clerks = run("clerk", [t], rows, [rating])
    assert [row["label"] for row in clerks["rows"]] == ["张敏（YB0101）", "李娜（YB0102）"]


def test_rounding_is_half_up_and_cells_match() -> None:
    assert reports._round(9.25, "minutes") == 9.3
    assert reports._round(2.675, "minutes") == 2.7
    assert reports._round(1 / 6, "rate") == 0.167
    assert reports._round(0.0005, "rate") == 0.001
    assert cell_text("rate", 0.167) == "16.7%" and cell_text("minutes", 9.3) == "9.3" and cell_text("count", 0) == "0"
    assert cell_text("rate", None) == "—"


def test_cases_close_on_time_by_the_hall_date() -> None:
    # Closed at 07:30 on the day after the deadline in Shanghai (23:30 UTC of the deadline day): late.
    late = RatingInfo(1, "YB001", 1, 11, True, "closed", date(2026, 11, 30), datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    ok = RatingInfo(2, "YB001", 1, 11, True, "appeal_upheld", date(2026, 11, 30), at(17, 0, date(2026, 11, 30)), True)
    still_open = RatingInfo(1, "YB001", 1, 11, False, "open", date(2026, 11, 30))
    f = run("hall", [], [], [late, ok, still_open])["total"]["figures"]
    assert (f["ratings"], f["bad"], f["bad_closed_on_time"], f["good_rate"]) == (3, 3, 1, 0.0)
    assert f["revisit_rate"] == 0.5  # two named 差评, one with a 回访 record


def test_hourly_covers_early_and_late_hours() -> None:
    early = TicketInfo(1, MON, at(7, 45))
    late = TicketInfo(2, MON, at(18, 10))
    h = reports.hourly(MON, [early, late], [], TZ)
    assert h["hours"][0] == "07" and h["hours"][-1] == "18"
    assert h["baseline_days"] == [] and set(h["baseline"]["arrivals"]) == {None}


def test_the_core_is_pure() -> None:
    root = Path(__file__).resolve().parents[2] / "hall"
    assert not imported(root / "reports.py") & {"flask", "sqlalchemy", "flask_babel"}
    assert not imported(root / "dashboard.py") & {"flask", "flask_socketio", "sqlalchemy"}


def test_exports_never_carry_formulas() -> None:
    report = run("clerk", [TicketInfo(1, MON, at(9, 0))], [PeriodRow(1, "called", at(9, 1), None, None, 1, 99)])
    report["rows"][0]["label"] = "=HYPERLINK(1)"
    assert "'=HYPERLINK(1)" in reports.to_csv(report).decode("utf-8-sig")
    sheet = load_workbook(BytesIO(reports.to_xlsx(report))).worksheets[0]
    assert sheet.cell(row=2, column=2).value == "'=HYPERLINK(1)" and sheet.cell(row=2, column=2).data_type == "s"
