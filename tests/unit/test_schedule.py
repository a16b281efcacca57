"""Opening hours, 中午无休, 延时服务, holidays, 调休 and local overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hall.schedule import day_kind, describe, is_open, next_opening, parse_hours, sessions

DEMO = {"weekdays": [["08:30", "17:30"]], "saturday": [], "sunday": [], "extended": [{"weekday": 3, "until": "19:00"}]}


def sh(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime(y, m, d, hh - 8, mm, tzinfo=UTC) if hh >= 8 else datetime(y, m, d - 1, hh + 16, mm, tzinfo=UTC)


def test_weekday_hours_without_lunch_break() -> None:
    hours = parse_hours(DEMO)
    assert is_open(sh(2026, 11, 23, 8, 30), hours)  # Monday opening
    assert is_open(sh(2026, 11, 23, 12, 15), hours)  # 中午无休
    assert not is_open(sh(2026, 11, 23, 17, 30), hours)
    assert not is_open(sh(2026, 11, 23, 8, 29), hours)


def test_lunch_break_when_configured() -> None:
    hours = parse_hours({"weekdays": [["08:30", "12:00"], ["14:00", "17:30"]]})
    assert not is_open(sh(2026, 11, 23, 13, 0), hours)
    assert is_open(sh(2026, 11, 23, 14, 0), hours)
    assert describe(date(2026, 11, 23), hours) == "08:30–12:00，14:00–17:30"


def test_extended_service_on_wednesday() -> None:
    hours = parse_hours(DEMO)
    assert sessions(date(2026, 11, 25), hours) == ((time(8, 30), time(19, 0)),)
    assert is_open(sh(2026, 11, 25, 18, 30), hours)
    assert not is_open(sh(2026, 11, 24, 18, 30), hours)


def test_weekends_and_national_holidays_are_closed() -> None:
    hours = parse_hours(DEMO)
    assert sessions(date(2026, 11, 22), hours) == ()  # Sunday
    assert day_kind(date(2026, 10, 1), hours) == "holiday"  # 国庆
    assert sessions(date(2026, 10, 1), hours) == ()


def test_adjusted_working_day_opens_with_weekday_hours() -> None:
    hours = parse_hours(DEMO)
    # Saturday 2026-10-10 is a 调休 working day after National Day; the next Saturday is not.
    assert day_kind(date(2026, 10, 10), hours) == "adjusted_workday"
    assert sessions(date(2026, 10, 10), hours) == ((time(8, 30), time(17, 30)),)
    assert sessions(date(2026, 10, 17), hours) == ()


def test_local_overrides_win() -> None:
    hours = parse_hours({**DEMO, "holidays": ["2026-11-24"], "workdays": ["2026-11-29"]})
    assert sessions(date(2026, 11, 24), hours) == ()
    assert sessions(date(2026, 11, 29), hours) == ((time(8, 30), time(17, 30)),)


def test_unknown_years_fall_back_to_weekdays_and_overrides() -> None:
    hours = parse_hours({**DEMO, "holidays": ["2028-01-03"]})
    assert sessions(date(2028, 1, 4), hours)  # Tuesday
    assert sessions(date(2028, 1, 3), hours) == ()  # local override
    assert sessions(date(2028, 1, 8), hours) == ()  # Saturday


def test_next_opening_skips_closed_days() -> None:
    hours = parse_hours(DEMO)
    friday_evening = sh(2026, 11, 27, 18, 0)
    assert next_opening(friday_evening, hours) == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # Monday 08:30


def test_working_day_walks_are_bounded() -> None:
    import pytest

    from hall.schedule import MAX_LOOKAHEAD_DAYS, NoWorkingDay, add_working_days, check_opens

    week = parse_hours(DEMO)
    assert add_working_days(date(2026, 11, 23), 5, week) == date(2026, 11, 30)
    assert add_working_days(date(2026, 11, 23), 0, week) == date(2026, 11, 23)
    closed = parse_hours({"weekdays": [], "saturday": [], "sunday": []})
    with pytest.raises(NoWorkingDay):
        add_working_days(date(2026, 11, 23), 5, closed)
    with pytest.raises(ValueError, match="no day of the week"):
        check_opens(closed)
    check_opens(week)
    sundays_only = parse_hours({"weekdays": [], "sunday": [["09:00", "12:00"]]})
    with pytest.raises(NoWorkingDay):  # 365 Sundays are seven years away: past the bound, not a long walk
        add_working_days(date(2026, 11, 23), 365, sundays_only)
    assert MAX_LOOKAHEAD_DAYS >= 5 * 365


def test_a_hall_toml_with_no_opening_day_is_refused() -> None:
    import pytest

    from hall import config

    data = config.load(None)
    data["hours"] = {"weekdays": [], "saturday": [], "sunday": []}
    with pytest.raises(config.ConfigError, match=r"\[hours\]"):
        config.validate(data, "closed.toml")
