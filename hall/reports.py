"""Reports (pure): a period's figures per hall, item, window or clerk from period rows, 办件 and ratings.

Every number the manager sees on /manager/reports and in the CSV/XLSX exports comes from ``build``; the
exports are written from the same report dict the API returns, so screen and files cannot disagree.
Definitions of every figure: docs/reports.md. No Flask, no SQL: the caller (hall.reporting) loads the rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hall import stats
from hall.stats import PeriodRow

PERIODS = ("day", "week", "month")
GROUPINGS = ("hall", "item", "window", "clerk")
KPI_DEFAULTS: dict[str, float] = {
    "within_minutes": 15.0,  # "served within 15 min": the wait target
    "overrun_factor": 1.5,  # a service longer than this × the item's expected minutes is over time
    "wait_alert_minutes": 30.0,  # the dashboard alerts when someone has waited this long
}
FINISHED_CASES = frozenset({"closed", "appeal_upheld"})


def N_(text: str) -> str:  # noqa: N802 - the gettext marker pybabel extracts by default
    """Mark a label for translation; the web layer translates it (this module imports no Flask)."""
    return text


def kpi_settings(hall_settings: dict[str, Any] | None) -> dict[str, float]:
    """The hall's ``[hall.settings.kpi]`` over the defaults."""
    raw = (hall_settings or {}).get("kpi") or {}
    return {key: float(raw.get(key, value)) for key, value in KPI_DEFAULTS.items()}


@dataclass(frozen=True)
class Column:
    """One figure of the report table: key, Chinese label (translated by the caller) and unit."""

    key: str
    label: str
    unit: str  # count | minutes | rate


COLUMNS: tuple[Column, ...] = (
    Column("tickets", N_("取号数"), "count"),
    Column("called", N_("叫号数"), "count"),
    Column("completed", N_("办结数"), "count"),
    Column("wait_mean", N_("平均等候（分钟）"), "minutes"),
    Column("wait_p90", N_("P90等候（分钟）"), "minutes"),
    Column("within_15", N_("15分钟内叫号率"), "rate"),
    Column("handling_mean", N_("平均办理时长（分钟）"), "minutes"),
    Column("expected_mean", N_("标准办理时长（分钟）"), "minutes"),
    Column("handling_ok", N_("办理时长达标率"), "rate"),
    Column("time_limit_rate", N_("限时办结率"), "rate"),
    Column("no_show_rate", N_("过号率"), "rate"),
    Column("transfers", N_("转办次数"), "count"),
    Column("parked", N_("容缺受理数"), "count"),
    Column("parked_completed", N_("容缺办结数"), "count"),
    Column("parked_completion", N_("容缺办结率"), "rate"),
    Column("ratings", N_("评价数"), "count"),
    Column("good_rate", N_("好评率"), "rate"),
    Column("bad", N_("差评数"), "count"),
    Column("bad_closed_on_time", N_("差评按期整改数"), "count"),
    Column("revisit_rate", N_("实名差评回访率"), "rate"),
    Column("online_at_counter", N_("可网办件窗口办理数"), "count"),
    Column("online_share", N_("可网办件占比"), "rate"),
    Column("eta_inside", N_("预计等候命中率"), "rate"),
    Column("eta_mae", N_("预计等候误差（分钟）"), "minutes"),
)
UNITS = {c.key: c.unit for c in COLUMNS}
GROUP_LABELS = {
    "hall": N_("全厅"),
    "item": N_("事项"),
    "window": N_("窗口"),
    "clerk": N_("工作人员"),
}
NOT_CALLED = N_("未叫号")
NOBODY = N_("未记录")
KEY_LABEL, NAME_LABEL = N_("分组"), N_("名称")
TOTAL_LABEL = N_("合计")  # the screen's last line when grouped by item, window or clerk


# --- input rows ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemInfo:
    """What the catalogue says about an item."""

    code: str
    name: str
    service_minutes: float
    time_limit_days: int
    online: bool


@dataclass(frozen=True)
class WorkItem:
    """办件: one item of one ticket."""

    code: str
    status: str  # pending | done
    completed_at: datetime | None = None
    window: int | None = None
    clerk_id: int | None = None


@dataclass(frozen=True)
class TicketInfo:
    """A ticket of the period with its 办件 and its printed ETA range."""

    id: int
    day: date
    issued_at: datetime
    priority: str | None = None
    eta_low: float | None = None
    eta_high: float | None = None
    items: tuple[WorkItem, ...] = ()


@dataclass(frozen=True)
class RatingInfo:
    """A rating given in the period, with its follow-up case if it was a 差评."""

    score: int
    item_code: str
    window: int | None
    clerk_id: int | None
    real_name: bool
    case_status: str | None = None
    case_deadline: date | None = None
    case_closed_at: datetime | None = None
    contacted: bool = False  # the case has a 回访 record


@dataclass(frozen=True)
class Span:
    """A report period: day, ISO week (Monday–Sunday) or calendar month, inclusive."""

    kind: str
    first: date
    last: date

    def days(self) -> list[date]:
        """Every date of the span."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def span_of(kind: str, day: date) -> Span:
    """The day, week or month containing ``day``."""
    if kind == "day":
        return Span(kind, day, day)
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        return Span(kind, first, first + timedelta(days=6))
    if kind == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return Span(kind, first, following - timedelta(days=1))
    raise ValueError(f"unknown period {kind!r}")


# --- per-ticket fold --------------------------------------------------------------------------------------
@dataclass
class _Ticket:
    info: TicketInfo
    fact: stats.TicketFacts | None
    served: bool = False  # at least one serving period (the 办件 were accepted)
    last_window: int | None = None  # where it was last called (None: never called)
    last_clerk: int | None = None
    expected: float | None = None  # catalogue minutes of its items


@dataclass
class _Group:
    key: Any
    label: str
    tickets: list[_Ticket] = field(default_factory=list)
    items: list[tuple[_Ticket, WorkItem]] = field(default_factory=list)
    transfers: int = 0
    parked: set[int] = field(default_factory=set)
    ratings: list[RatingInfo] = field(default_factory=list)


def _last_call(periods: Iterable[PeriodRow]) -> tuple[int | None, int | None]:
    called = sorted((p for p in periods if p.state == "called"), key=lambda p: p.started_at)
    return (called[-1].window, called[-1].clerk_id) if called else (None, None)


def _round(value: float | None, unit: str) -> float | int | None:
    """Round a figure to what the screen shows (minutes 0.1, rates 0.1 %), so exports cannot differ."""
    if value is None:
        return None
    if unit == "count":
        return int(value)
    step = Decimal("0.001") if unit == "rate" else Decimal("0.1")
    # Half up, as people round (9.25 → 9.3), from the shortest decimal form of the float.
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def cell_text(unit: str, value: Any) -> str:
    """How a figure is written on the screen and in the CSV: rates as percent, minutes to 0.1, — for none."""
    if value is None:
        return "—"
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "minutes":
        return f"{value:.1f}"
    return str(value)


class _Calc:
    """Computes one group's figures (the definitions of docs/reports.md)."""

    def __init__(
        self,
        catalogue: dict[str, ItemInfo],
        due: Callable[[date, int], date],
        now: datetime,
        tz: tzinfo,
        kpi: dict[str, float],
        outcomes: dict[int, str | None],
    ) -> None:
        self.catalogue = catalogue
        self.outcomes = outcomes  # every ticket's final state (a 容缺 may end in another group)
        self.due = due
        self.now = now
        self.tz = tz
        self.kpi = kpi

    def deadline(self, ticket: TicketInfo, item: WorkItem) -> datetime | None:
        """End of the day the 办件 must be finished: the issue day (0 days) or N working days later."""
        info = self.catalogue.get(item.code)
        if info is None:
            return None
        issued = ticket.issued_at.astimezone(self.tz).date()
        last = issued if info.time_limit_days <= 0 else self.due(issued, info.time_limit_days)
        return datetime.combine(last + timedelta(days=1), time.min, self.tz)

    def figures(self, group: _Group) -> dict[str, Any]:
        within = self.kpi["within_minutes"]
        factor = self.kpi["overrun_factor"]
        tickets = group.tickets
        called = [t for t in tickets if t.fact is not None and t.fact.wait_minutes is not None]
        waits = [t.fact.wait_minutes for t in called if t.fact and t.fact.wait_minutes is not None]
        completed = [t for t in tickets if t.fact is not None and t.fact.outcome == "completed"]
        timed = [t for t in completed if t.expected]
        handling = [t.fact.handling_minutes for t in completed if t.fact]
        no_shows = sum(1 for t in called if t.fact and t.fact.outcome == "no_show")
        # 限时办结: 办件 of accepted tickets that are done, or whose deadline has passed undone.
        on_time = due_items = 0
        done_items = online_done = 0
        for ticket, item in group.items:
            if item.status == "done":
                done_items += 1
                info = self.catalogue.get(item.code)
                online_done += 1 if info is not None and info.online else 0
            if not ticket.served:
                continue
            deadline = self.deadline(ticket.info, item)
            if deadline is None:
                continue
            finished = item.status == "done" and item.completed_at is not None
            if finished and item.completed_at is not None and item.completed_at <= deadline:
                on_time += 1
                due_items += 1
            elif finished or self.now >= deadline:
                due_items += 1
        parked_done = sum(1 for ticket_id in group.parked if self.outcomes.get(ticket_id) == "completed")
        eta = [
            (float(t.info.eta_low), float(t.info.eta_high), t.fact.wait_minutes)
            for t in called
            if t.fact and t.fact.wait_minutes is not None and t.info.eta_low is not None and t.info.eta_high is not None
        ]
        ratings = group.ratings
        bad = [r for r in ratings if r.score <= 2]
        real_bad = [r for r in bad if r.real_name]
        closed_on_time = sum(
            1
            for r in bad
            if r.case_status in FINISHED_CASES
            and r.case_closed_at is not None
            and r.case_deadline is not None
            and r.case_closed_at.astimezone(self.tz).date() <= r.case_deadline
        )
        raw: dict[str, Any] = {
            "tickets": len(tickets),
            "called": len(called),
            "completed": len(completed),
            "wait_mean": _mean(waits),
            "wait_p90": stats.percentile(waits, 90),
            "within_15": _rate(sum(1 for w in waits if w <= within), len(waits)),
            "handling_mean": _mean(handling),
            "expected_mean": _mean([t.expected for t in timed if t.expected is not None]),
            "handling_ok": _rate(
                sum(1 for t in timed if t.fact and t.fact.handling_minutes <= (t.expected or 0) * factor), len(timed)
            ),
            "time_limit_rate": _rate(on_time, due_items),
            "no_show_rate": _rate(no_shows, len(called)),
            "transfers": group.transfers,
            "parked": len(group.parked),
            "parked_completed": parked_done,
            "parked_completion": _rate(parked_done, len(group.parked)),
            "ratings": len(ratings),
            "good_rate": _rate(sum(1 for r in ratings if r.score >= 4), len(ratings)),
            "bad": len(bad),
            "bad_closed_on_time": closed_on_time,
            "revisit_rate": _rate(sum(1 for r in real_bad if r.contacted), len(real_bad)),
            "online_at_counter": online_done,
            "online_share": _rate(online_done, done_items),
            "eta_inside": _rate(sum(1 for lo, hi, w in eta if lo <= w <= hi), len(eta)),
            "eta_mae": _mean([abs((lo + hi) / 2 - w) for lo, hi, w in eta]),
        }
        return {key: _round(value, UNITS[key]) for key, value in raw.items()}


def build(
    span: Span,
    by: str,
    *,
    tickets: Sequence[TicketInfo],
    periods: Iterable[PeriodRow],
    ratings: Sequence[RatingInfo],
    catalogue: dict[str, ItemInfo],
    windows: dict[int, str],
    clerks: dict[int, str],
    due: Callable[[date, int], date],
    now: datetime,
    tz: tzinfo,
    kpi: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The report of ``span`` grouped ``by`` hall, item, window or clerk, plus the whole hall as ``total``.

    ``due(day, n)`` is the date n working days after ``day`` (the hall calendar); ``windows`` and ``clerks``
    label the rows; ``now`` decides which 办件 deadlines have passed.
    """
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}")
    kpi = {**KPI_DEFAULTS, **(kpi or {})}
    rows = list(periods)
    by_ticket: dict[int, list[PeriodRow]] = {}
    for row in rows:
        by_ticket.setdefault(row.ticket_id, []).append(row)
    fact_of = stats.facts(rows)
    folded: list[_Ticket] = []
    for info in tickets:
        own = by_ticket.get(info.id, [])
        window, clerk = _last_call(own)
        known = [catalogue[i.code].service_minutes for i in info.items if i.code in catalogue]
        folded.append(
            _Ticket(
                info=info,
                fact=fact_of.get(info.id),
                served=any(p.state == "serving" for p in own),
                last_window=window,
                last_clerk=clerk,
                expected=sum(known) if known else None,
            )
        )
    outcomes = {t.info.id: (t.fact.outcome if t.fact else None) for t in folded}
    calc = _Calc(catalogue, due, now, tz, kpi, outcomes)

    total = _Group("hall", GROUP_LABELS["hall"])
    _fill(total, folded)
    total.ratings.extend(ratings)
    groups: dict[Any, _Group] = {}

    def group(key: Any) -> _Group:
        if key not in groups:
            groups[key] = _Group(key, _label(by, key, catalogue, windows, clerks))
        return groups[key]

    if by == "hall":
        groups["hall"] = total
    elif by == "item":
        for t in folded:
            for item in t.info.items:  # a joint ticket counts under both of its items
                g = group(item.code)
                g.tickets.append(t)
                g.items.append((t, item))
                if t.fact:
                    g.transfers += t.fact.transfers
                    if t.fact.parked:
                        g.parked.add(t.info.id)
        for r in ratings:
            group(r.item_code).ratings.append(r)
    else:
        attr = "last_window" if by == "window" else "last_clerk"
        period_attr = "window" if by == "window" else "clerk_id"
        rating_attr = "window" if by == "window" else "clerk_id"
        ids = {t.info.id for t in folded}
        for t in folded:
            g = group(getattr(t, attr))
            g.tickets.append(t)
            g.items.extend((t, item) for item in t.info.items)
        for p in rows:
            if p.ticket_id not in ids:
                continue
            if p.end_action == "transfer":
                group(getattr(p, period_attr)).transfers += 1
            if p.state == "parked":
                group(getattr(p, period_attr)).parked.add(p.ticket_id)
        for r in ratings:
            group(getattr(r, rating_attr)).ratings.append(r)

    ordered = sorted(groups.values(), key=lambda g: _order(by, g.key, catalogue, clerks))
    columns = [{"key": c.key, "label": c.label, "unit": c.unit} for c in COLUMNS]
    return {
        "period": span.kind,
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "by": by,
        "generated_at": now.astimezone(tz).isoformat(timespec="seconds"),
        "kpi": kpi,
        "columns": columns,
        "rows": [_row(g, calc) for g in ordered],
        "total": _row(total, calc),
    }


def _fill(g: _Group, folded: list[_Ticket]) -> None:
    for t in folded:
        g.tickets.append(t)
        g.items.extend((t, item) for item in t.info.items)
        if t.fact:
            g.transfers += t.fact.transfers
            if t.fact.parked:
                g.parked.add(t.info.id)


def _row(g: _Group, calc: _Calc) -> dict[str, Any]:
    figures = calc.figures(g)
    return {
        "key": g.key,
        "label": g.label,
        "figures": figures,
        "cells": [cell_text(c.unit, figures[c.key]) for c in COLUMNS],
    }


def _label(by: str, key: Any, catalogue: dict[str, ItemInfo], windows: dict[int, str], clerks: dict[int, str]) -> str:
    if by == "item":
        info = catalogue.get(key)
        return info.name if info else str(key)
    if by == "window":
        if key is None:
            return NOT_CALLED
        return f"{key}号 {windows.get(key, '')}".strip()
    if key is None:
        return NOBODY
    return clerks.get(key, str(key))


def _order(by: str, key: Any, catalogue: dict[str, ItemInfo], clerks: dict[int, str]) -> tuple:
    if key is None:
        return (1, 0, "")
    if by == "item":
        codes = list(catalogue)
        return (0, codes.index(key) if key in codes else len(codes), str(key))
    if by == "clerk":
        return (0, 0, clerks.get(key, str(key)))
    return (0, key if isinstance(key, int) else 0, str(key))


# --- hours of the day: today against the last four same weekdays ---------------------------------------------
def hourly(
    day: date,
    tickets: Sequence[TicketInfo],
    periods: Iterable[PeriodRow],
    tz: tzinfo,
    *,
    baseline_weeks: int = 4,
    hours: tuple[int, int] = (8, 17),
) -> dict[str, Any]:
    """Arrivals and mean wait per hour of ``day`` against the mean of the previous same weekdays.

    Tickets count in the hour they were issued (local time); the wait is queue entry to last call, so
    tickets never called have none. The baseline averages arrivals over the same weekdays that had any
    tickets (a holiday does not pull it down) and pools their waits per hour.
    """
    fact_of = stats.facts(periods)
    previous = [day - timedelta(weeks=n) for n in range(1, baseline_weeks + 1)]
    arrivals: dict[date, dict[int, int]] = {}
    waits: dict[date, dict[int, list[float]]] = {}
    for t in tickets:
        local = t.issued_at.astimezone(tz)
        d = t.day
        arrivals.setdefault(d, {}).setdefault(local.hour, 0)
        arrivals[d][local.hour] += 1
        fact = fact_of.get(t.id)
        if fact is not None and fact.wait_minutes is not None:
            waits.setdefault(d, {}).setdefault(local.hour, []).append(fact.wait_minutes)
    used = [d for d in previous if arrivals.get(d)]
    seen = [h for d in [day, *used] for h in arrivals.get(d, {})]
    first = min([hours[0], *seen])
    last = max([hours[1], *seen])
    span = list(range(first, last + 1))

    def mean_wait(days: list[date], hour: int) -> float | None:
        pooled = [w for d in days for w in waits.get(d, {}).get(hour, [])]
        return _round(_mean(pooled), "minutes")

    return {
        "date": day.isoformat(),
        "baseline_days": [d.isoformat() for d in used],
        "hours": [f"{h:02d}" for h in span],
        "today": {
            "arrivals": [arrivals.get(day, {}).get(h, 0) for h in span],
            "mean_wait": [mean_wait([day], h) for h in span],
        },
        "baseline": {
            "arrivals": [
                _round(sum(arrivals[d].get(h, 0) for d in used) / len(used), "minutes") if used else None for h in span
            ],
            "mean_wait": [mean_wait(used, h) for h in span],
        },
    }


# --- exports: written from the report dict the API returns ------------------------------------------------------
def table(
    report: dict[str, Any], key_label: str = KEY_LABEL, name_label: str = NAME_LABEL, total_label: str = TOTAL_LABEL
) -> list[list[str]]:
    """The report as text rows (header first): exactly the cells the screen shows."""
    header = [key_label, name_label, *(c["label"] for c in report["columns"])]
    body = [[_key_text(r), r["label"], *r["cells"]] for r in report["rows"]]
    if report.get("by", "hall") != "hall":  # the screen's 合计 line (grouped by hall, the one row is the total)
        body.append(["", total_label, *report["total"]["cells"]])
    return [header, *body]


def _key_text(row: dict[str, Any]) -> str:
    if "key_text" in row:
        return row["key_text"]
    return "" if row["key"] is None else str(row["key"])


def to_csv(
    report: dict[str, Any], key_label: str = KEY_LABEL, name_label: str = NAME_LABEL, total_label: str = TOTAL_LABEL
) -> bytes:
    """CSV (UTF-8 with BOM so Excel opens Chinese correctly) with the screen's cell texts."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([[_inert(cell) for cell in row] for row in table(report, key_label, name_label, total_label)])
    return out.getvalue().encode("utf-8-sig")


# Control characters a spreadsheet cell cannot hold (openpyxl's IllegalCharacterError, XML 1.0): a window or
# item name with one (typed, pasted or imported) must not break the export.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _inert(text: str) -> str:
    """Cell text made safe: control characters dropped, and a formula start (= + - @ tab CR) quoted with '."""
    text = _ILLEGAL.sub("", text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _cell(value: Any) -> Any:
    """An XLSX cell value: numbers as they are, text through _inert."""
    return _inert(value) if isinstance(value, str) else value


NUMBER_FORMATS = {"count": "0", "minutes": "0.0", "rate": "0.0%"}


def to_xlsx(
    report: dict[str, Any],
    *,
    title: str = "报表",
    info: Sequence[tuple[str, str]] = (),
    key_label: str = KEY_LABEL,
    name_label: str = NAME_LABEL,
    total_label: str = TOTAL_LABEL,
) -> bytes:
    """XLSX with real numbers whose number formats show the screen's texts (0.0 minutes, 0.0 % rates).

    Sheet 1 holds the table (header in row 1), sheet 2 the period and how it was made (``info`` pairs).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\\/*?:\[\]]", "", _ILLEGAL.sub("", title))[:31] or "report"
    columns = report["columns"]
    sheet.append([_cell(key_label), _cell(name_label), *(_cell(c["label"]) for c in columns)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    lines = [(r, False) for r in report["rows"]]
    if report.get("by", "hall") != "hall":
        lines.append((report["total"], True))  # the screen's 合计 line, in bold
    for r, total in lines:
        key = "" if total else r["key_text"] if report.get("by") == "clerk" and "key_text" in r else r["key"]
        sheet.append(
            [_cell(key), _cell(total_label if total else r["label"]), *(_cell(r["figures"][c["key"]]) for c in columns)]
        )
        for n, c in enumerate(columns, start=3):
            sheet.cell(row=sheet.max_row, column=n).number_format = NUMBER_FORMATS[c["unit"]]
        if total:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["B"].width = 28
    about = book.create_sheet("info")
    for pair in info:
        about.append([_cell(text) for text in pair])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
