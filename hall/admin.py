"""系统管理 (admin pages): the hall's catalogue, windows, staff accounts, devices, notices, hours and rules.

Each change is validated here (references, enumerations, ranges), written in one transaction, audited with
before/after (never a password or a token) and followed by ``engine.invalidate`` so issuing, calling, the
displays and the scheduled jobs see it at once, without a restart. Only an admin of the hall may change
anything; the API layer checks the role first, this module checks it again. Core module: no Flask.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall import schedule
from hall.config import HANDLING_CLASSES, ROLES, WINDOW_KINDS, token_hash
from hall.engine import DEFAULT_SETTINGS, Actor, Engine, merged_settings
from hall.errors import Conflict, Forbidden, Invalid, NotFound
from hall.models import Device, Hall, Item, Queue, User, Window
from hall.passwords import Passwords
from hall.routing import POLICIES

DEVICE_KINDS = ("kiosk", "display", "rater", "printer", "led", "pad", "keypad")
ITEM_FIELDS = (
    "name",
    "category",
    "department",
    "handling_class",
    "time_limit_days",
    "service_minutes",
    "online",
    "materials",
    "keywords",
    "queue",
    "review_chain",
    "daily_quota",
    "sort",
    "active",
)
NO_SHOW_MODES = ("requeue", "end")
SETTING_SECTIONS = ("routing", "tidal", "no_show", "kiosk")
TIDAL_DEFAULTS: dict[str, Any] = {
    "open_above": 15.0,
    "close_below": 5.0,
    "calm_minutes": 20.0,
    "stage_after_minutes": 10.0,
    "peaks": [["09:00", "10:30"], ["14:00", "15:00"]],
    "use_schedule": True,
    "use_load": True,
}
MIN_PASSWORD = 8
NO_OPENING_DAY = "每周至少要有一天开放：请为工作日、周六或周日设置开放时段"


def item_view(item: Item) -> dict[str, Any]:
    """An item as the admin page shows it (inactive ones included)."""
    return {
        "code": item.code,
        "name": item.name,
        "category": item.category,
        "department": item.department,
        "handling_class": item.handling_class,
        "time_limit_days": item.time_limit_days,
        "service_minutes": item.service_minutes,
        "online": item.online,
        "materials": list(item.materials or []),
        "keywords": list(item.keywords or []),
        "queue": item.queue_code,
        "review_chain": item.review_chain,
        "daily_quota": item.daily_quota,
        "sort": item.sort,
        "active": item.active,
    }


def window_view(window: Window) -> dict[str, Any]:
    """A window's configuration (its live state lives in GET /api/v1/hall/load)."""
    return {"number": window.number, "name": window.name, "kind": window.kind, "queues": list(window.queues or [])}


def user_view(user: User) -> dict[str, Any]:
    """A staff account without its password hash."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "staff_no": user.staff_no,
        "role": user.role,
        "window": user.window_number,
        "active": user.active,
        "demo": user.is_demo,
    }


def device_view(device: Device) -> dict[str, Any]:
    """A device without its token hash."""
    return {
        "name": device.name,
        "kind": device.kind,
        "window": device.window_number,
        "active": device.active,
        "status": device.status,
        "last_seen": device.last_seen.isoformat() if device.last_seen else None,
    }


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"请求内容有误：{field}: {message}", details={field: [message]})


def validate_hours(raw: dict[str, Any], *, require_open: bool = True) -> dict[str, Any]:
    """Opening hours as stored in the hall settings, checked with hall.schedule (sessions ordered, no overlap).

    ``require_open`` refuses a week with no opening day; reading stored hours skips it, so hours saved before
    that rule can still be shown and put right.
    """
    try:
        hours = schedule.parse_hours(raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise _invalid("hours", str(exc)) from exc
    try:
        if require_open:
            schedule.check_opens(hours)
    except ValueError as exc:  # the hall would never open, and working-day deadlines could not be counted
        raise Invalid(NO_OPENING_DAY, code="no_opening_day", details={"hours": [str(exc)]}) from exc
    for name in ("weekdays", "saturday", "sunday"):
        sessions = getattr(hours, name)
        for (_, end), (start, _) in zip(sessions, sessions[1:], strict=False):
            if start < end:
                raise _invalid(name, "开放时段须按时间先后排列且不重叠")
    for weekday in hours.extended:
        if not 1 <= weekday <= 7:
            raise _invalid("extended", "weekday 须为 1（周一）… 7（周日）")
    if len(hours.extended) != len(raw.get("extended", [])):
        raise _invalid("extended", "同一天只能设置一次延时服务")
    overlap = hours.holidays & hours.workdays
    if overlap:
        raise _invalid("holidays", f"日期不能既是休息日又是工作日：{sorted(d.isoformat() for d in overlap)[0]}")
    return {
        "weekdays": [list(s) for s in raw.get("weekdays", [])],
        "saturday": [list(s) for s in raw.get("saturday", [])],
        "sunday": [list(s) for s in raw.get("sunday", [])],
        "extended": [{"weekday": int(e["weekday"]), "until": e["until"]} for e in raw.get("extended", [])],
        "holidays": sorted({d.isoformat() for d in hours.holidays}),
        "workdays": sorted({d.isoformat() for d in hours.workdays}),
    }


def validate_section(section: str, merged: dict[str, Any]) -> None:
    """Cross-field rules of a settings section (single-field ranges are checked by the API schemas)."""
    if section == "routing":
        if merged.get("policy") not in POLICIES:
            raise _invalid("routing.policy", f"须为 {sorted(POLICIES)} 之一")
    elif section == "no_show":
        if merged.get("mode") not in NO_SHOW_MODES:
            raise _invalid("no_show.mode", f"须为 {NO_SHOW_MODES} 之一")
    elif section == "kiosk":
        if int(merged["idle_warning_seconds"]) >= int(merged["idle_seconds"]):
            raise _invalid("kiosk.idle_warning_seconds", "须小于 idle_seconds")
    elif section == "tidal":
        if float(merged["close_below"]) >= float(merged["open_above"]):
            raise _invalid("tidal.close_below", "须小于 open_above")
        try:
            peaks = [(schedule.parse_time(a), schedule.parse_time(b)) for a, b in merged.get("peaks", [])]
        except (ValueError, TypeError) as exc:
            raise _invalid("tidal.peaks", '时段格式为 [["HH:MM", "HH:MM"], …]') from exc
        if any(not a < b for a, b in peaks):
            raise _invalid("tidal.peaks", "高峰时段须先开始后结束")


class Admin:
    """Validated, audited changes to one hall's configuration."""

    def __init__(self, engine: Engine, passwords: Passwords) -> None:
        self.engine = engine
        self.db = engine.db
        self.passwords = passwords

    # --- plumbing --------------------------------------------------------------------------------
    @staticmethod
    def _check(actor: Actor, hall_id: int) -> None:
        if actor.role != "admin":
            raise Forbidden("只有系统管理员可以修改大厅配置", code="forbidden_role")
        if actor.hall_id is not None and actor.hall_id != hall_id:
            raise Forbidden("无权操作其他大厅", code="other_hall")

    @contextmanager
    def _change(self, actor: Actor, hall_id: int) -> Iterator[Session]:
        self._check(actor, hall_id)
        with self.db.write() as session:
            yield session

    def _done(self, actor: Actor, hall_id: int, action: str, target: str, before: Any, after: Any) -> None:
        self.engine.record(actor, hall_id, action, target=target[:100], before=before, after=after)
        self.engine.invalidate(hall_id)

    @staticmethod
    def _hall(session: Session, hall_id: int) -> Hall:
        hall = session.get(Hall, hall_id)
        if hall is None:
            raise NotFound("大厅不存在", code="hall_not_found")
        return hall

    @staticmethod
    def _queues(session: Session, hall_id: int) -> dict[str, Queue]:
        return {q.code: q for q in session.scalars(select(Queue).where(Queue.hall_id == hall_id))}

    @staticmethod
    def _window_numbers(session: Session, hall_id: int) -> set[int]:
        return set(session.scalars(select(Window.number).where(Window.hall_id == hall_id)))

    # --- items -----------------------------------------------------------------------------------
    def items(self, hall_id: int) -> dict[str, Any]:
        """Every item, inactive ones too, in display order, and the queues an item may go to."""
        with self.db.read() as session:
            rows = session.scalars(select(Item).where(Item.hall_id == hall_id).order_by(Item.sort, Item.code))
            queues = self._queues(session, hall_id)
            return {
                "items": [item_view(i) for i in rows],
                "queues": [{"code": q.code, "name": q.name, "kind": q.kind} for q in queues.values()],
            }

    def _apply_item(self, session: Session, hall_id: int, item: Item, data: dict[str, Any]) -> None:
        if "handling_class" in data and data["handling_class"] not in HANDLING_CLASSES:
            raise _invalid("handling_class", f"须为 {HANDLING_CLASSES} 之一")
        if "queue" in data and data["queue"] not in self._queues(session, hall_id):
            raise _invalid("queue", f"队列不存在: {data['queue']}")
        for key, value in data.items():
            if key == "queue":
                item.queue_code = value
            elif key in ("materials", "keywords"):
                setattr(item, key, [str(m).strip() for m in value if str(m).strip()])
            elif key in ITEM_FIELDS:
                setattr(item, key, value)

    def create_item(self, actor: Actor, hall_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """A new item (code unique in the hall); issuable at once."""
        with self._change(actor, hall_id) as session:
            if session.scalar(select(Item.id).where(Item.hall_id == hall_id, Item.code == data["code"])):
                raise Conflict(f"事项编码已存在: {data['code']}", code="item_exists")
            for key in ("name", "handling_class", "queue"):
                if key not in data:
                    raise _invalid(key, "必填")
            item = Item(hall_id=hall_id, code=data["code"], category="", materials=[], keywords=[], active=True)
            item.department, item.time_limit_days, item.service_minutes, item.online = "医保", 0, 6.0, False
            item.review_chain, item.sort = False, 0
            self._apply_item(session, hall_id, item, {k: v for k, v in data.items() if k != "code"})
            session.add(item)
            session.flush()
            after = item_view(item)
        self._done(actor, hall_id, "admin.item.create", f"item {after['code']}", None, after)
        return after

    def update_item(self, actor: Actor, hall_id: int, code: str, data: dict[str, Any]) -> dict[str, Any]:
        """Change the fields given (``active: false`` takes it off the kiosks; tickets keep their items)."""
        with self._change(actor, hall_id) as session:
            item = session.scalar(select(Item).where(Item.hall_id == hall_id, Item.code == code))
            if item is None:
                raise NotFound(f"事项不存在: {code}", code="item_not_found")
            before = item_view(item)
            self._apply_item(session, hall_id, item, data)
            session.flush()
            after = item_view(item)
        self._done(actor, hall_id, "admin.item.update", f"item {code}", before, after)
        return after

    def deactivate_item(self, actor: Actor, hall_id: int, code: str) -> dict[str, Any]:
        """停办: the item leaves the catalogue (kept for history and reports)."""
        return self.update_item(actor, hall_id, code, {"active": False})

    # --- windows ---------------------------------------------------------------------------------
    def windows(self, hall_id: int) -> dict[str, Any]:
        """Every window's name, kind and skills (queues served, in order), and the hall's queues."""
        with self.db.read() as session:
            rows = session.scalars(select(Window).where(Window.hall_id == hall_id).order_by(Window.number))
            queues = self._queues(session, hall_id)
            return {
                "windows": [window_view(w) for w in rows],
                "queues": [{"code": q.code, "name": q.name, "kind": q.kind} for q in queues.values()],
            }

    def _check_window_fields(self, session: Session, hall_id: int, data: dict[str, Any]) -> None:
        if "kind" in data and data["kind"] not in WINDOW_KINDS:
            raise _invalid("kind", f"须为 {WINDOW_KINDS} 之一")
        if "queues" in data:
            known = self._queues(session, hall_id)
            unknown = [q for q in data["queues"] if q not in known]
            if unknown:
                raise _invalid("queues", f"队列不存在: {', '.join(unknown)}")
            if len(set(data["queues"])) != len(data["queues"]):
                raise _invalid("queues", "队列重复")
            if not data["queues"]:
                raise _invalid("queues", "至少选择一个队列")

    def create_window(self, actor: Actor, hall_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """A new window (number unique in the hall), closed until a clerk opens it at the counter."""
        with self._change(actor, hall_id) as session:
            for key in ("number", "name", "kind", "queues"):
                if key not in data:
                    raise _invalid(key, "必填")
            if data["number"] in self._window_numbers(session, hall_id):
                raise Conflict(f"窗口号已存在: {data['number']}", code="window_exists")
            self._check_window_fields(session, hall_id, data)
            window = Window(
                hall_id=hall_id,
                number=data["number"],
                name=data["name"],
                kind=data["kind"],
                queues=list(data["queues"]),
                state="closed",
            )
            session.add(window)
            session.flush()
            after = window_view(window)
        self._done(actor, hall_id, "admin.window.create", f"window {after['number']}", None, after)
        return after

    def update_window(self, actor: Actor, hall_id: int, number: int, data: dict[str, Any]) -> dict[str, Any]:
        """Name, kind and skills; the next call-next at that window uses the new skills."""
        with self._change(actor, hall_id) as session:
            window = session.scalar(select(Window).where(Window.hall_id == hall_id, Window.number == number))
            if window is None:
                raise NotFound(f"窗口不存在: {number}", code="window_not_found")
            self._check_window_fields(session, hall_id, data)
            before = window_view(window)
            for key in ("name", "kind"):
                if key in data:
                    setattr(window, key, data[key])
            if "queues" in data:
                window.queues = list(data["queues"])
            session.flush()
            after = window_view(window)
        self._done(actor, hall_id, "admin.window.update", f"window {number}", before, after)
        return after

    # --- staff accounts --------------------------------------------------------------------------
    def users(self, hall_id: int) -> list[dict[str, Any]]:
        """The hall's staff accounts (no hashes)."""
        with self.db.read() as session:
            rows = session.scalars(select(User).where(User.hall_id == hall_id).order_by(User.role, User.username))
            return [user_view(u) for u in rows]

    def _user(self, session: Session, hall_id: int, username: str) -> User:
        user = session.scalar(select(User).where(User.hall_id == hall_id, User.username == username))
        if user is None:
            raise NotFound(f"账号不存在: {username}", code="user_not_found")
        return user

    def _check_user_fields(self, session: Session, hall_id: int, data: dict[str, Any]) -> None:
        if "role" in data and data["role"] not in ROLES:
            raise _invalid("role", f"须为 {ROLES} 之一")
        if data.get("window") is not None and data["window"] not in self._window_numbers(session, hall_id):
            raise _invalid("window", f"窗口不存在: {data['window']}")

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise _invalid("password", f"密码至少 {MIN_PASSWORD} 位")

    def create_user(self, actor: Actor, hall_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """A new staff account with an argon2 hash of its first password."""
        self._check(actor, hall_id)
        self._check_password(data["password"])
        digest = self.passwords.hash(data["password"])
        with self._change(actor, hall_id) as session:
            if session.scalar(select(User.id).where(User.username == data["username"])):
                raise Conflict(f"用户名已被使用: {data['username']}", code="username_taken")
            self._check_user_fields(session, hall_id, data)
            user = User(
                hall_id=hall_id,
                username=data["username"],
                display_name=data.get("display_name") or data["username"],
                staff_no=data.get("staff_no"),
                role=data["role"],
                password_hash=digest,
                window_number=data.get("window"),
                is_demo=False,
                active=True,
            )
            session.add(user)
            session.flush()
            after = user_view(user)
        self._done(actor, hall_id, "admin.user.create", f"user {after['username']}", None, after)
        return after

    def update_user(self, actor: Actor, hall_id: int, username: str, data: dict[str, Any]) -> dict[str, Any]:
        """Role, window, display name, staff number, active; an admin cannot lock themselves out."""
        with self._change(actor, hall_id) as session:
            user = self._user(session, hall_id, username)
            self._check_user_fields(session, hall_id, data)
            if user.id == actor.id and (data.get("active") is False or data.get("role", "admin") != "admin"):
                raise Conflict("不能停用自己的账号或取消自己的管理员角色", code="self_lockout")
            before = user_view(user)
            if data.get("active") is False and user.active:
                user.session_generation += 1  # its sessions end; reactivation does not bring them back
            for key, column in (
                ("display_name", "display_name"),
                ("staff_no", "staff_no"),
                ("role", "role"),
                ("window", "window_number"),
                ("active", "active"),
            ):
                if key in data:
                    setattr(user, column, data[key])
            session.flush()
            # A deactivated or moved clerk leaves the old window at once, not when the presence sweep notices.
            events = self.engine.release_windows(session, actor, hall_id, user)
            after = user_view(user)
        self.engine.bus.publish(events)
        self._done(actor, hall_id, "admin.user.update", f"user {username}", before, after)
        return after

    def reset_password(self, actor: Actor, hall_id: int, username: str, password: str) -> dict[str, Any]:
        """A new argon2 hash (the account is no longer a demo account); the audit row holds no password."""
        self._check(actor, hall_id)
        self._check_password(password)
        digest = self.passwords.hash(password)
        with self._change(actor, hall_id) as session:
            user = self._user(session, hall_id, username)
            user.password_hash = digest
            user.is_demo = False
            user.session_generation += 1  # sessions that knew the old password end
            after = user_view(user)
        self._done(actor, hall_id, "admin.user.password", f"user {username}", None, {"password": "reset"})
        return after

    # --- devices ---------------------------------------------------------------------------------
    def devices(self, hall_id: int) -> list[dict[str, Any]]:
        """Registered devices (no token hashes)."""
        with self.db.read() as session:
            rows = session.scalars(select(Device).where(Device.hall_id == hall_id).order_by(Device.kind, Device.name))
            return [device_view(d) for d in rows]

    def create_device(self, actor: Actor, hall_id: int, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Register a device; its random token is returned once and stored only as a hash."""
        token = secrets.token_urlsafe(24)
        with self._change(actor, hall_id) as session:
            if data["kind"] not in DEVICE_KINDS:
                raise _invalid("kind", f"须为 {DEVICE_KINDS} 之一")
            if data.get("window") is not None and data["window"] not in self._window_numbers(session, hall_id):
                raise _invalid("window", f"窗口不存在: {data['window']}")
            if data["kind"] in ("rater", "led", "pad", "keypad") and data.get("window") is None:
                raise _invalid("window", "窗口设备须指定窗口")
            if session.scalar(select(Device.id).where(Device.hall_id == hall_id, Device.name == data["name"])):
                raise Conflict(f"设备名称已存在: {data['name']}", code="device_exists")
            device = Device(
                hall_id=hall_id,
                name=data["name"],
                kind=data["kind"],
                token_hash=token_hash(token),
                window_number=data.get("window"),
                config=dict(data.get("config") or {}),
                active=True,
            )
            session.add(device)
            session.flush()
            after = device_view(device)
        self._done(actor, hall_id, "admin.device.create", f"device {after['name']}", None, after)
        return after, token

    def set_device_config(self, actor: Actor, hall_id: int, name: str, config: dict[str, Any]) -> dict[str, Any]:
        """Replace a device's ``config`` (checked by the caller against the device policy); audited with both."""
        with self._change(actor, hall_id) as session:
            device = session.scalar(select(Device).where(Device.hall_id == hall_id, Device.name == name))
            if device is None:
                raise NotFound(f"设备不存在: {name}", code="device_not_found")
            before = dict(device.config or {})
            device.config = dict(config)
            after = device_view(device)
        self._done(actor, hall_id, "admin.device.config", f"device {name}", {"config": before}, {"config": config})
        return after

    def device_kind(self, hall_id: int, name: str) -> tuple[str, int | None]:
        """A device's kind and window (NotFound when there is no such device)."""
        with self.db.read() as session:
            device = session.scalar(select(Device).where(Device.hall_id == hall_id, Device.name == name))
            if device is None:
                raise NotFound(f"设备不存在: {name}", code="device_not_found")
            return device.kind, device.window_number

    def set_device_active(self, actor: Actor, hall_id: int, name: str, active: bool) -> dict[str, Any]:
        """Deactivate (its token is refused at once, once principals are forgotten) or reactivate a device."""
        with self._change(actor, hall_id) as session:
            device = session.scalar(select(Device).where(Device.hall_id == hall_id, Device.name == name))
            if device is None:
                raise NotFound(f"设备不存在: {name}", code="device_not_found")
            before = device_view(device)
            device.active = active
            after = device_view(device)
        action = "admin.device.activate" if active else "admin.device.deactivate"
        self._done(actor, hall_id, action, f"device {name}", before, after)
        return after

    # --- hall settings: notices, hours, routing / tidal / 过号 --------------------------------------
    def _settings(self, hall_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            return copy.deepcopy(dict(self._hall(session, hall_id).settings or {}))

    def _put_setting(self, actor: Actor, hall_id: int, key: str, value: Any, action: str) -> tuple[Any, Any]:
        with self._change(actor, hall_id) as session:
            hall = self._hall(session, hall_id)
            settings = copy.deepcopy(dict(hall.settings or {}))
            before = settings.get(key)
            settings[key] = value
            hall.settings = settings  # a new dict: JSON columns do not track in-place changes
        self._done(actor, hall_id, action, f"settings {key}", {key: before}, {key: value})
        return before, value

    def notices(self, hall_id: int) -> dict[str, Any]:
        """The hall display's notices and the public notice (kiosk closed screen, phone page)."""
        settings = self._settings(hall_id)
        return {"notices": list(settings.get("notices") or []), "public_notice": settings.get("public_notice") or ""}

    def set_notices(
        self, actor: Actor, hall_id: int, notices: list[str], public_notice: str | None = None
    ) -> dict[str, Any]:
        """Replace the display's notices (blank lines dropped); optionally the public notice too."""
        cleaned = [n.strip() for n in notices if n.strip()]
        self._put_setting(actor, hall_id, "notices", cleaned, "admin.notices")
        if public_notice is not None:
            self._put_setting(actor, hall_id, "public_notice", public_notice.strip(), "admin.public_notice")
        return self.notices(hall_id)

    def hours(self, hall_id: int) -> dict[str, Any]:
        """The stored opening hours (defaults filled in)."""
        raw = self._settings(hall_id).get("hours") or {}
        return validate_hours({"weekdays": [["08:30", "17:30"]], **raw}, require_open=False)

    def set_hours(self, actor: Actor, hall_id: int, raw: dict[str, Any]) -> dict[str, Any]:
        """Replace the opening hours (validated with hall.schedule.parse_hours)."""
        self._check(actor, hall_id)
        hours = validate_hours(raw)
        self._put_setting(actor, hall_id, "hours", hours, "admin.hours")
        return hours

    def rules(self, hall_id: int) -> dict[str, Any]:
        """Routing, tidal, 过号 and kiosk settings in effect (stored values over the defaults)."""
        merged = merged_settings(self._settings(hall_id))
        return {
            "routing": dict(merged["routing"]),
            "no_show": dict(merged["no_show"]),
            "tidal": {**TIDAL_DEFAULTS, **(merged.get("tidal") or {})},
            "kiosk": dict(merged["kiosk"]),
        }

    def set_rules(self, actor: Actor, hall_id: int, changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Change some keys of the routing / tidal / no_show / kiosk sections; the others keep their values."""
        self._check(actor, hall_id)
        current = self.rules(hall_id)
        stored = self._settings(hall_id)
        updates = {}
        for section, values in changes.items():
            if section not in SETTING_SECTIONS or not values:
                continue
            merged = {**current[section], **values}
            validate_section(section, merged)
            base = DEFAULT_SETTINGS.get(section) or {}
            updates[section] = {**base, **(stored.get(section) or {}), **values}
        for section, value in updates.items():
            self._put_setting(actor, hall_id, section, value, f"admin.settings.{section}")
        return self.rules(hall_id)
