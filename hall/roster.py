"""值班安排 (seed 001): each working day a duty leader (值班领导) and a duty clerk (值班窗口工作人员), and a
monthly rota of guide-desk staff (咨询引导) taking turns by day.

The hall config names the people in turn (``[hall.settings.roster]``); each month is filled from that rota once
(see hall.operations), after which managers edit single days. Only working days (hall.schedule: holidays and
调休 included) carry a duty. Core module: no Flask or Socket.IO.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select

from hall import numbering, schedule
from hall.engine import STAFF_ROLES, Actor, Engine
from hall.errors import Conflict, Forbidden, Invalid
from hall.events import RosterChanged
from hall.models import DutyAssignment, User

DUTIES = ("leader", "clerk", "guide")
DUTY_NAMES = {"leader": "值班领导", "clerk": "值班窗口工作人员", "guide": "咨询引导"}
LEADER_ROLES = frozenset({"leader", "manager", "admin"})
EDITOR_ROLES = frozenset({"manager", "admin"})
ROTA_KEYS = {"leaders": "leader", "duty_clerks": "clerk", "guides": "guide"}
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> date:
    """``"2026-11"`` → 2026-11-01 (Invalid otherwise)."""
    m = MONTH.match(text or "")
    if not m:
        raise Invalid("month 应为 YYYY-MM", code="bad_month")
    year = int(m.group(1))
    if not 1 <= year <= 9998:  # date() has no year 0, and the month after 9999-12 does not exist (fuzzing found both)
        raise Invalid("month 应为 YYYY-MM", code="bad_month")
    return date(year, int(m.group(2)), 1)


def month_days(month: date) -> list[date]:
    """Every day of the month of ``month``."""
    last = calendar.monthrange(month.year, month.month)[1]
    return [date(month.year, month.month, d) for d in range(1, last + 1)]


def next_month(month: date) -> date:
    """The first day of the following month."""
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def rota_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The hall's rota: who takes turns as leader, duty clerk and guide, and how many guides a day."""
    raw = settings.get("roster") or {}
    return {
        "leaders": list(raw.get("leaders", [])),
        "duty_clerks": list(raw.get("duty_clerks", [])),
        "guides": list(raw.get("guides", [])),
        "guides_per_day": int(raw.get("guides_per_day", 1)),
    }


def validate_rota(data: dict[str, Any], where: str = "config") -> list[str]:
    """Problems with ``[hall.settings.roster]`` of a hall config (unknown or unsuitable accounts)."""
    raw = ((data.get("hall") or {}).get("settings") or {}).get("roster")
    if not raw:
        return []
    staff = {s.get("username"): s for s in data.get("staff", [])}
    problems = []
    for key in ROTA_KEYS:
        for name in raw.get(key, []):
            person = staff.get(name)
            if person is None:
                problems.append(f"{where}: roster.{key} names unknown staff {name}")
            elif key == "leaders" and person.get("role") not in LEADER_ROLES:
                problems.append(f"{where}: roster.leaders: {name} is not a leader, manager or admin")
    if int(raw.get("guides_per_day", 1)) < 0:
        problems.append(f"{where}: roster.guides_per_day must not be negative")
    return problems


def _person(row: DutyAssignment, usernames: dict[int, str]) -> dict[str, Any]:
    return {"username": usernames.get(row.user_id) if row.user_id else None, "name": row.name}


def _plain(person: dict[str, Any] | None) -> dict[str, Any] | None:
    return {"username": person["username"], "name": person["name"]} if person else None


class Roster:
    """Reads, fills and edits the duty roster."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = engine.db
        self.clock = engine.clock

    def _hours(self, hall_id: int) -> schedule.Hours:
        ref = self.engine.reference(hall_id)
        return schedule.parse_hours(ref.settings.get("hours"), ref.timezone)

    def today(self, hall_id: int) -> date:
        """The hall's local date now."""
        return numbering.service_day(self.clock.now(), self.engine.reference(hall_id).timezone)

    # --- reading ---------------------------------------------------------------------------------
    def month(self, hall_id: int, month: date) -> dict[str, Any]:
        """Every day of a month: working or not, and who is on duty."""
        days = month_days(month)
        return {"month": f"{month:%Y-%m}", "days": self._days(hall_id, days)}

    def day(self, hall_id: int, day: date) -> dict[str, Any]:
        """One day's duty (leader, clerk, guides)."""
        return self._days(hall_id, [day])[0]

    def _days(self, hall_id: int, days: list[date]) -> list[dict[str, Any]]:
        hours = self._hours(hall_id)
        with self.db.read() as session:
            rows = session.scalars(
                select(DutyAssignment)
                .where(DutyAssignment.hall_id == hall_id, DutyAssignment.day.between(days[0], days[-1]))
                .order_by(DutyAssignment.day, DutyAssignment.duty, DutyAssignment.position)
            ).all()
            usernames = dict(session.execute(select(User.id, User.username).where(User.hall_id == hall_id)).all())
            by_day: dict[date, list[dict[str, Any]]] = {}
            for row in rows:
                by_day.setdefault(row.day, []).append({"duty": row.duty, **_person(row, usernames)})
        out = []
        for d in days:
            mine = by_day.get(d, [])
            leader = next((p for p in mine if p["duty"] == "leader"), None)
            clerk = next((p for p in mine if p["duty"] == "clerk"), None)
            out.append(
                {
                    "day": d.isoformat(),
                    "weekday": d.isoweekday(),
                    "working": schedule.is_working_day(d, hours),
                    "kind": schedule.day_kind(d, hours),
                    "leader": _plain(leader),
                    "clerk": _plain(clerk),
                    "guides": [_plain(p) for p in mine if p["duty"] == "guide"],
                }
            )
        return out

    # --- filling from the rota -------------------------------------------------------------------
    def fill_month(self, hall_id: int, month: date) -> int:
        """Give every working day of the month without any duty row the rota's people in turn; returns days filled.

        The i-th working day of the month gets ``leaders[i % n]``, ``duty_clerks[i % n]`` and the next
        ``guides_per_day`` guides in turn. Days that already have rows (edited by a manager) are left alone.
        """
        ref = self.engine.reference(hall_id)
        rota = rota_settings(ref.settings)
        if not (rota["leaders"] or rota["duty_clerks"] or rota["guides"]):
            return 0
        hours = self._hours(hall_id)
        working = [d for d in month_days(month) if schedule.is_working_day(d, hours)]
        now = self.clock.now()
        filled = 0
        with self.db.write() as session:
            users = self._users(session, hall_id)
            days = month_days(month)
            taken = set(
                session.scalars(
                    select(DutyAssignment.day).where(
                        DutyAssignment.hall_id == hall_id, DutyAssignment.day.between(days[0], days[-1])
                    )
                ).all()
            )
            guide_turn = 0
            for i, d in enumerate(working):
                per_day = rota["guides_per_day"] if rota["guides"] else 0
                guides = [rota["guides"][(guide_turn + k) % len(rota["guides"])] for k in range(per_day)]
                guide_turn += per_day
                if d in taken:
                    continue
                wanted: list[tuple[str, int, str]] = []
                if rota["leaders"]:
                    wanted.append(("leader", 0, rota["leaders"][i % len(rota["leaders"])]))
                if rota["duty_clerks"]:
                    wanted.append(("clerk", 0, rota["duty_clerks"][i % len(rota["duty_clerks"])]))
                wanted.extend(("guide", k, name) for k, name in enumerate(guides))
                for duty, position, username in wanted:
                    user = users.get(username)
                    if user is None:
                        continue  # validated at start-up; an account removed later simply leaves a gap
                    session.add(
                        DutyAssignment(
                            hall_id=hall_id,
                            day=d,
                            duty=duty,
                            position=position,
                            user_id=user.id,
                            name=user.display_name,
                            updated_at=now,
                            updated_by="rota",
                        )
                    )
                filled += 1
        return filled

    @staticmethod
    def _users(session: Any, hall_id: int) -> dict[str, User]:
        rows = session.scalars(select(User).where(User.hall_id == hall_id, User.active.is_(True)))
        return {u.username: u for u in rows}

    # --- editing ---------------------------------------------------------------------------------
    def update(self, actor: Actor, hall_id: int, month: date, days: Iterable[dict[str, Any]]) -> dict[str, Any]:
        """Set the duty of some days of a month (managers); audited. Returns the month.

        Each entry: ``day`` plus any of ``leader`` / ``clerk`` (a username, or None to clear) and ``guides``
        (a list of ``{"username"}`` or ``{"name"}`` for staff without an account). Omitted keys stay as they are.
        """
        if actor.role not in EDITOR_ROLES:
            raise Forbidden("只有大厅负责人或管理员可以编排值班", code="forbidden_role")
        if actor.hall_id is not None and actor.hall_id != hall_id:
            raise Forbidden("无权操作其他大厅", code="other_hall")
        entries = list(days)
        if not entries:
            raise Invalid("请至少提交一天的值班安排", code="no_days")
        hours = self._hours(hall_id)
        seen: set[date] = set()
        for entry in entries:
            d = entry["day"]
            if (d.year, d.month) != (month.year, month.month):
                raise Invalid(f"{d.isoformat()} 不在 {month:%Y-%m} 内", code="day_outside_month")
            if d in seen:
                raise Invalid(f"{d.isoformat()} 重复提交", code="duplicate_day")
            seen.add(d)
            assigns = any(entry.get(k) for k in ("leader", "clerk", "guides"))
            if assigns and not schedule.is_working_day(d, hours):
                raise Conflict(f"{d.isoformat()} 不是工作日，不安排值班", code="not_working_day")
        changed = sorted(seen)
        before = {d.isoformat(): self._compact(v) for d, v in zip(changed, self._days(hall_id, changed), strict=True)}
        now = self.clock.now()
        with self.db.write() as session:
            users = self._users(session, hall_id)
            for entry in entries:
                for duty, key in (("leader", "leader"), ("clerk", "clerk")):
                    if key in entry:
                        people = [] if entry[key] is None else [self._account(users, entry[key], duty)]
                        self._replace(session, hall_id, entry["day"], duty, people, now, actor.name)
                if "guides" in entry:
                    people = [self._guide(users, g) for g in entry["guides"] or []]
                    self._replace(session, hall_id, entry["day"], "guide", people, now, actor.name)
        after = {d.isoformat(): self._compact(v) for d, v in zip(changed, self._days(hall_id, changed), strict=True)}
        self.engine.record(actor, hall_id, "roster.update", target=f"{month:%Y-%m}", before=before, after=after)
        if self.today(hall_id) in seen:
            self.engine.bus.publish([RosterChanged(hall_id=hall_id, at=now, day=self.today(hall_id).isoformat())])
        return self.month(hall_id, month)

    @staticmethod
    def _compact(view: dict[str, Any]) -> dict[str, Any]:
        """A day's duty for the audit log (names only)."""
        return {
            "leader": view["leader"]["name"] if view["leader"] else None,
            "clerk": view["clerk"]["name"] if view["clerk"] else None,
            "guides": [g["name"] for g in view["guides"]],
        }

    @staticmethod
    def _account(users: dict[str, User], username: str, duty: str) -> tuple[int | None, str]:
        user = users.get(username)
        if user is None:
            raise Invalid(f"账号不存在或已停用: {username}", code="unknown_user", details={"username": username})
        if duty == "leader" and user.role not in LEADER_ROLES:
            raise Invalid(f"{user.display_name}不是领导岗位，不能担任值班领导", code="not_a_leader")
        if duty == "clerk" and user.role not in STAFF_ROLES:
            raise Invalid(f"{user.display_name}不是工作人员", code="not_staff")
        return user.id, user.display_name

    def _guide(self, users: dict[str, User], guide: dict[str, Any]) -> tuple[int | None, str]:
        if guide.get("username"):
            return self._account(users, guide["username"], "guide")
        name = (guide.get("name") or "").strip()
        if not name:
            raise Invalid("咨询引导人员需要账号或姓名", code="guide_without_name")
        return None, name[:100]

    @staticmethod
    def _replace(
        session: Any,
        hall_id: int,
        day: date,
        duty: str,
        people: list[tuple[int | None, str]],
        now: datetime,
        by: str,
    ) -> None:
        session.execute(
            delete(DutyAssignment).where(
                DutyAssignment.hall_id == hall_id, DutyAssignment.day == day, DutyAssignment.duty == duty
            )
        )
        session.flush()
        for position, (user_id, name) in enumerate(people):
            session.add(
                DutyAssignment(
                    hall_id=hall_id,
                    day=day,
                    duty=duty,
                    position=position,
                    user_id=user_id,
                    name=name,
                    updated_at=now,
                    updated_by=by,
                )
            )
