"""Opening hours and working days (pure; chinesecalendar for the national holiday calendar).

Rules, in order: the hall's own override lists (``holidays``, ``workdays``) win; then 调休 (a weekend made a
working day) opens with weekday hours; then a statutory holiday closes; otherwise the weekday decides
(Mon–Fri ``weekdays``, Saturday ``saturday``, Sunday ``sunday``). 延时服务 extends the last session on the
given ISO weekdays. Years the calendar package does not know fall back to the weekday rule plus overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

Session = tuple[time, time]
# How far a calendar walk may look ahead before it gives up: five years covers the longest 办理时限 the admin
# accepts (365 working days) on a one-day-a-week hall plus holidays, and costs about 10 ms when it runs out.
MAX_LOOKAHEAD_DAYS = 5 * 366


class NoWorkingDay(ValueError):
    """A calendar walk found too few working days within MAX_LOOKAHEAD_DAYS (the hall never opens)."""


@dataclass(frozen=True)
class Hours:
    """A hall's opening hours."""

    weekdays: tuple[Session, ...] = ((time(8, 30), time(17, 30)),)
    saturday: tuple[Session, ...] = ()
    sunday: tuple[Session, ...] = ()
    extended: dict[int, time] = field(default_factory=dict)  # ISO weekday -> new closing time
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    timezone: str = "Asia/Shanghai"


def _t(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def parse_time(text: str) -> time:
    """``"09:30"`` → 09:30 (for settings that name times of day)."""
    return _t(text)


def _sessions(raw: Any) -> tuple[Session, ...]:
    out = tuple((_t(a), _t(b)) for a, b in (raw or []))
    for start, end in out:
        if not start < end:
            raise ValueError(f"opening session {start}–{end} ends before it starts")
    return out


def parse_hours(raw: dict[str, Any] | None, timezone: str = "Asia/Shanghai") -> Hours:
    """Build Hours from the ``[hours]`` table of a hall config."""
    raw = raw or {}
    return Hours(
        weekdays=_sessions(raw.get("weekdays", [["08:30", "17:30"]])),
        saturday=_sessions(raw.get("saturday")),
        sunday=_sessions(raw.get("sunday")),
        extended={int(e["weekday"]): _t(e["until"]) for e in raw.get("extended", [])},
        holidays=frozenset(date.fromisoformat(d) for d in raw.get("holidays", [])),
        workdays=frozenset(date.fromisoformat(d) for d in raw.get("workdays", [])),
        timezone=timezone,
    )


def check_opens(hours: Hours) -> None:
    """Raise ValueError when no day of the week has an opening session (the hall would never open)."""
    if not (hours.weekdays or hours.saturday or hours.sunday):
        raise ValueError("no day of the week has opening hours (weekdays, saturday and sunday are all empty)")


def add_working_days(start: date, days: int, hours: Hours, limit: int = MAX_LOOKAHEAD_DAYS) -> date:
    """The date ``days`` working days after ``start``; NoWorkingDay when they do not fit in ``limit`` days."""
    if days > 0 and not (hours.weekdays or hours.saturday or hours.sunday):
        raise NoWorkingDay(f"the hall never opens: no {days} working days after {start}")
    day, left = start, days
    for _ in range(limit):
        if left <= 0:
            return day
        day += timedelta(days=1)
        if is_working_day(day, hours):
            left -= 1
    if left <= 0:
        return day
    raise NoWorkingDay(f"fewer than {days} working days within {limit} days after {start}")


def day_kind(day: date, hours: Hours) -> str:
    """``override_holiday``, ``override_workday``, ``adjusted_workday`` (调休), ``holiday``, or ``normal``."""
    if day in hours.holidays:
        return "override_holiday"
    if day in hours.workdays:
        return "override_workday"
    try:
        if day.weekday() >= 5 and chinese_calendar.is_workday(day):
            return "adjusted_workday"
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        if on_holiday and name:
            return "holiday"
    except NotImplementedError:  # a year the package has no data for yet
        pass
    return "normal"


def sessions(day: date, hours: Hours) -> tuple[Session, ...]:
    """The opening sessions of one local day (empty when closed)."""
    kind = day_kind(day, hours)
    if kind in ("override_holiday", "holiday"):
        return ()
    if kind in ("override_workday", "adjusted_workday"):
        base = hours.weekdays
    else:
        base = {5: hours.saturday, 6: hours.sunday}.get(day.weekday(), hours.weekdays)
    until = hours.extended.get(day.isoweekday())
    if base and until and until > base[-1][1]:
        base = (*base[:-1], (base[-1][0], until))
    return base


def is_working_day(day: date, hours: Hours) -> bool:
    """True when the hall opens at all that day."""
    return bool(sessions(day, hours))


def is_open(at: datetime, hours: Hours) -> bool:
    """True when ``at`` (aware) falls inside an opening session of its local day."""
    local = at.astimezone(ZoneInfo(hours.timezone))
    return any(start <= local.time() < end for start, end in sessions(local.date(), hours))


def next_opening(at: datetime, hours: Hours, horizon_days: int = 40) -> datetime | None:
    """The next moment the hall opens after ``at`` (aware, hall time zone), or None within the horizon."""
    tz = ZoneInfo(hours.timezone)
    local = at.astimezone(tz)
    for offset in range(horizon_days + 1):
        day = local.date() + timedelta(days=offset)
        for start, _end in sessions(day, hours):
            candidate = datetime.combine(day, start, tzinfo=tz)
            if candidate > local:
                return candidate
    return None


def describe(day: date, hours: Hours) -> str:
    """Human text of a day's hours, e.g. ``08:30–17:30`` or ``休息``."""
    today = sessions(day, hours)
    if not today:
        return "休息"
    return "，".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in today)
