"""Device health and alerts: one open alert per (hall, source, kind), raised and cleared by checks.

Core module: no Flask, Socket.IO, serial or escpos. Printers and serial devices report a status here; the
manager dashboard and the log learn about it through the events published after commit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from hall.bus import EventBus
from hall.clock import Clock, SystemClock
from hall.db import Database
from hall.errors import Conflict, NotFound
from hall.events import AlertCleared, AlertRaised, DeviceStatusChanged, DomainEvent
from hall.models import Alert, Device
from hall.repository import Repository

log = logging.getLogger(__name__)


def N_(text: str) -> str:  # noqa: N802 - the gettext marker pybabel extracts by default
    """Mark a text for translation (the API says it in the request's language)."""
    return text


# Device status -> (alert kind, level, message template). "ok" raises nothing and clears the device's alerts.
# The message is a sentence for the hall manager (what, and what to do); the device's technical detail
# (serial port errors and the like) goes to the log and the alert's ``details.detail`` (a tooltip), never the text.
STATUS_ALERTS: dict[str, tuple[str, str, str]] = {
    "near_end": ("paper_near_end", "warning", N_("%(name)s纸卷将尽，请及时更换")),
    "paper_out": ("paper_out", "critical", N_("%(name)s缺纸，已无法打印小票")),
    "offline": ("device_offline", "critical", N_("%(name)s离线，请检查电源和连线")),
    "error": ("device_error", "critical", N_("%(name)s故障，请检查设备或联系运维")),
}
DEVICE_ALERT_TEXTS = {kind: template for kind, _level, template in STATUS_ALERTS.values()}
# What people call each kind of device (the dashboard lists devices by these, not by code names).
DEVICE_KINDS = {
    "kiosk": N_("取号机"),
    "display": N_("显示屏"),
    "rater": N_("评价平板"),  # the HTTP rating tablet (/rate/window/N)
    "printer": N_("打印机"),
    "led": N_("窗口条屏"),
    "pad": N_("评价器"),  # the serial rating pad on the counter
    "keypad": N_("呼叫器"),
}


def device_label(kind: str, name: str, window: int | None, translate: Callable[[str], str] = str) -> str:
    """The name people read: 1号窗口 评价平板, 2号取号机, 打印机（guide-printer）. ``translate``: a gettext."""
    kind_name = translate(DEVICE_KINDS[kind]) if kind in DEVICE_KINDS else kind
    if window is not None:
        return translate(N_("%(n)s号窗口 %(kind)s")) % {"n": window, "kind": kind_name}
    number = re.fullmatch(r"[A-Za-z_-]+?-?(\d+)", name)
    if number:
        return translate(N_("%(n)s号%(kind)s")) % {"n": int(number.group(1)), "kind": kind_name}
    return translate(N_("%(kind)s（%(name)s）")) % {"kind": kind_name, "name": name}


def device_alert_label(kind: str, name: str, window: int | None, translate: Callable[[str], str] = str) -> str:
    """Whom a device's health alert names: a kiosk reports the health of its receipt printer (1号取号机的打印机)."""
    label = device_label(kind, name, window, translate)
    if kind == "kiosk":
        return translate(N_("%(kiosk)s的打印机")) % {"kiosk": label}
    return label


# Alert kinds by what they are about, most urgent first: a citizen's complaint (差评) and the service itself come
# before the equipment, so the wall screen shows them at the top of the list.
ALERT_CATEGORIES = {
    "bad_rating": "rating",
    "case_overdue": "rating",
    "overload": "service",
    "long_wait": "service",
    "service_overtime": "service",
    "parked_overdue": "service",
    **{kind: "device" for kind, _level, _text in STATUS_ALERTS.values()},
}
CATEGORY_ORDER = ("rating", "service", "device", "system")


def alert_category(kind: str) -> str:
    """rating, service, device or system (scheduled jobs and everything else)."""
    return ALERT_CATEGORIES.get(kind, "system")


def alert_sort_key(alert: dict[str, Any]) -> tuple:
    """Unacknowledged first, then by category (差评, service, devices, system), then newest first."""
    return (
        alert.get("acknowledged_at") is not None,
        CATEGORY_ORDER.index(alert_category(alert["kind"])),
        -datetime.fromisoformat(alert["raised_at"]).timestamp(),
        -alert["id"],
    )


DEVICE_STATUSES = frozenset({"ok", *STATUS_ALERTS})
# A device whose last request is older than this shows as not online. Rating tablets ask every 5 s and a
# request is recorded at most once a minute (hall/web/security.py), so three minutes means three missed marks.
ONLINE_SECONDS = 180


def device_source(name: str) -> str:
    """The alert source naming a device."""
    return f"device:{name}"


class Alerts:
    """Raises, clears and lists alerts; records device health."""

    def __init__(self, db: Database, clock: Clock | None = None, bus: EventBus | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.bus = bus or EventBus()

    def raise_alert(
        self, hall_id: int, source: str, kind: str, message: str, *, level: str = "warning", details: dict | None = None
    ) -> int:
        """Open an alert unless the same one is already open; returns its id."""
        events: list[DomainEvent] = []
        with self.db.write() as session:
            alert_id = self._raise(session, hall_id, source, kind, message, level, details or {}, events)
        self.bus.publish(events)
        return alert_id

    def clear(self, hall_id: int, source: str, kind: str | None = None) -> int:
        """Close the open alerts of a source (of one kind, or all); returns how many closed."""
        events: list[DomainEvent] = []
        with self.db.write() as session:
            n = self._clear(session, hall_id, source, kind, events)
        self.bus.publish(events)
        return n

    def open_alerts(self, hall_id: int, *, include_cleared: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        """Alerts of the hall, most important first (see ``alert_sort_key``; open ones only unless asked)."""
        stmt = select(Alert).where(Alert.hall_id == hall_id).order_by(Alert.id.desc()).limit(limit)
        if not include_cleared:
            stmt = stmt.where(Alert.cleared_at.is_(None))
        with self.db.read() as session:
            found = [_alert_dict(a) for a in session.scalars(stmt)]
        return sorted(found, key=alert_sort_key)

    def acknowledge(self, actor: Any, hall_id: int, alert_id: int) -> dict[str, Any]:
        """A leader or manager has seen an open alert and is on it: it stays open (it clears when the cause goes
        away) but moves below the unseen ones. Audited; acknowledging twice keeps the first acknowledgement."""
        now = self.clock.now()
        with self.db.write() as session:
            alert = session.get(Alert, alert_id)
            if alert is None or alert.hall_id != hall_id:
                raise NotFound("告警不存在", code="alert_not_found")
            if alert.cleared_at is not None:
                raise Conflict("告警已解除", code="alert_cleared")
            details = dict(alert.details or {})
            if "ack" not in details:
                details["ack"] = {"at": now.isoformat(), "by": actor.display_name or actor.name, "by_id": actor.id}
                alert.details = details  # a new dict: the JSON column notices reassignment, not mutation
                Repository(session).audit(
                    hall_id=hall_id,
                    at=now,
                    actor_id=actor.id,
                    actor=actor.name,
                    role=actor.role,
                    window_number=actor.window_number,
                    action="alert.acknowledge",
                    target=f"alert {alert.id}",
                    before={"kind": alert.kind, "acknowledged": False},
                    after={"kind": alert.kind, "acknowledged": True},
                    client=actor.client,
                )
            return _alert_dict(alert)

    def report_device(self, hall_id: int, name: str, status: str, *, detail: str | None = None) -> str | None:
        """Record a device's health; raise or clear its alerts when the status changes. Returns the previous one."""
        if status not in DEVICE_STATUSES:
            raise ValueError(f"unknown device status {status!r}")
        now = self.clock.now()
        events: list[DomainEvent] = []
        with self.db.write() as session:
            device = session.scalar(select(Device).where(Device.hall_id == hall_id, Device.name == name))
            if device is None:
                raise NotFound(f"设备不存在: {name}", code="device_not_found")
            previous = device.status
            device.status, device.status_at = status, now
            if status != "offline":
                device.last_seen = now
            source = device_source(name)
            wanted = STATUS_ALERTS.get(status)
            # Clear alerts of other kinds first: paper out → near end is progress and must not leave "out" open.
            self._clear(session, hall_id, source, None, events, keep=wanted[0] if wanted else None)
            if wanted:
                kind, level, template = wanted
                label = device_alert_label(device.kind, device.name, device.window_number)
                details = {"device": name, **({"detail": detail[:300]} if detail else {})}
                self._raise(session, hall_id, source, kind, template % {"name": label}, level, details, events)
            if previous != status:
                events.append(
                    DeviceStatusChanged(
                        hall_id=hall_id, at=now, device=name, kind=device.kind, status=status, previous=previous
                    )
                )
        if previous != status:
            logger = log.info if status == "ok" else log.warning
            logger("device %s: %s -> %s%s", name, previous, status, f" ({detail})" if detail else "")
        self.bus.publish(events)
        return previous

    def devices(self, hall_id: int) -> list[dict[str, Any]]:
        """Registered devices with their last known health (never their tokens).

        ``online``: the device made a request within ``ONLINE_SECONDS`` (HTTP devices such as the rating
        tablets and kiosks have no status query; their requests are their heartbeat). ``status_of``: what
        ``status`` is the health of — a kiosk's status is its receipt printer's (``printer``), not the kiosk's.
        """
        now = self.clock.now()
        with self.db.read() as session:
            rows = session.scalars(select(Device).where(Device.hall_id == hall_id).order_by(Device.name))
            return [
                {
                    "name": d.name,
                    "kind": d.kind,
                    "window": d.window_number,
                    "active": d.active,
                    "status": d.status,
                    "status_at": _iso(d.status_at),
                    "last_seen": _iso(d.last_seen),
                    "online": d.last_seen is not None and (now - d.last_seen).total_seconds() <= ONLINE_SECONDS,
                    "status_of": "printer" if d.kind == "kiosk" else "device",
                }
                for d in rows
            ]

    def seen(self, hall_id: int, name: str) -> None:
        """A device made a request: remember when (its status and alerts stay as its health checks left them)."""
        with self.db.write() as session:
            session.execute(
                update(Device).where(Device.hall_id == hall_id, Device.name == name).values(last_seen=self.clock.now())
            )

    # --- inside a transaction -------------------------------------------------------------------
    def _raise(
        self,
        session: Any,
        hall_id: int,
        source: str,
        kind: str,
        message: str,
        level: str,
        details: dict,
        events: list[DomainEvent],
    ) -> int:
        existing = session.scalar(
            select(Alert).where(
                Alert.hall_id == hall_id, Alert.source == source, Alert.kind == kind, Alert.cleared_at.is_(None)
            )
        )
        if existing is not None:
            return existing.id
        now = self.clock.now()
        alert = Alert(
            hall_id=hall_id,
            source=source,
            kind=kind,
            level=level,
            message=message[:200],
            details=details,
            raised_at=now,
        )
        session.add(alert)
        session.flush()
        events.append(
            AlertRaised(
                hall_id=hall_id, at=now, alert_id=alert.id, source=source, kind=kind, level=level, message=alert.message
            )
        )
        return alert.id

    def _clear(
        self,
        session: Any,
        hall_id: int,
        source: str,
        kind: str | None,
        events: list[DomainEvent],
        *,
        keep: str | None = None,
    ) -> int:
        stmt = select(Alert).where(Alert.hall_id == hall_id, Alert.source == source, Alert.cleared_at.is_(None))
        if kind is not None:
            stmt = stmt.where(Alert.kind == kind)
        now = self.clock.now()
        n = 0
        for alert in session.scalars(stmt):
            if alert.kind == keep:
                continue
            alert.cleared_at = now
            events.append(AlertCleared(hall_id=hall_id, at=now, alert_id=alert.id, source=source, kind=alert.kind))
            n += 1
        return n


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _alert_dict(a: Alert) -> dict[str, Any]:
    ack = (a.details or {}).get("ack") or {}
    return {
        "id": a.id,
        "source": a.source,
        "kind": a.kind,
        "level": a.level,
        "message": a.message,
        "details": a.details or {},
        "raised_at": a.raised_at.isoformat(),
        "cleared_at": _iso(a.cleared_at),
        "category": alert_category(a.kind),
        "acknowledged_at": ack.get("at"),
        "acknowledged_by": ack.get("by"),
    }
