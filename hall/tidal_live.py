"""The tidal window in a running hall: measure the load, ask hall.tidal, open or close the window, tell people.

``tick()`` runs every minute as the scheduler's ``tidal_tick`` job (docs/operations.md). Each change is a
TidalDecided event that the clerks' consoles, the manager dashboard and the log receive; the window's own open/close is
an ordinary window move, so the hall display shows it like any other window. Managers and duty leaders may
force the window open or closed until they set it back to automatic. Core module: no Flask or Socket.IO.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hall.engine import SUPERVISOR_ROLES, Actor, Engine
from hall.errors import Conflict, Forbidden, Invalid, NotFound
from hall.events import TidalDecided
from hall.models import Ticket
from hall.schedule import parse_time
from hall.tidal import Decision, Load, TidalRule, TidalState, decide

log = logging.getLogger(__name__)

RATE_WINDOW = timedelta(minutes=30)  # arrivals counted over the last half hour for the rate estimate
MODES = ("open", "closed", "auto")


def rule_from(settings: dict[str, Any]) -> TidalRule:
    """The hall's tidal rule from ``settings.tidal`` (peaks as [["09:00", "10:30"], …])."""
    raw = settings.get("tidal") or {}
    base = TidalRule()
    peaks = tuple((parse_time(a), parse_time(b)) for a, b in raw["peaks"]) if "peaks" in raw else base.peaks
    return TidalRule(
        open_above=float(raw.get("open_above", base.open_above)),
        close_below=float(raw.get("close_below", base.close_below)),
        calm_minutes=float(raw.get("calm_minutes", base.calm_minutes)),
        peaks=peaks,
        use_schedule=bool(raw.get("use_schedule", base.use_schedule)),
        use_load=bool(raw.get("use_load", base.use_load)),
    )


@dataclass
class _HallTide:
    state: TidalState
    last: Decision | None = None
    pending_close: bool = False


class TidalController:
    """Keeps each hall's tidal state and applies decisions through the engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._halls: dict[int, _HallTide] = {}
        self._lock = threading.Lock()  # one decision at a time: a tick and an override must not interleave

    def _tide(self, hall_id: int) -> _HallTide:
        tide = self._halls.get(hall_id)
        if tide is None:
            window = self.window(hall_id)
            tide = _HallTide(TidalState(is_open=window is not None and window["state"] == "open"))
            self._halls[hall_id] = tide
        return tide

    def window(self, hall_id: int) -> dict[str, Any] | None:
        """The hall's tidal window (kind ``tidal``) as the engine's load shows it, or None."""
        return next((w for w in self.engine.load(hall_id)["windows"] if w["kind"] == "tidal"), None)

    def measure(self, hall_id: int, window: dict[str, Any]) -> Load:
        """Arrival rate, service time, open windows and head-of-line wait for the tidal window's queues."""
        ref = self.engine.reference(hall_id)
        now = self.engine.clock.now()
        load = self.engine.load(hall_id)
        queues = set(window["queues"])
        with self.engine.db.read() as session:
            recent = session.scalar(
                select(func.count(Ticket.id)).where(
                    Ticket.hall_id == hall_id,
                    Ticket.issued_at >= now - RATE_WINDOW,
                    Ticket.queue_code.in_(queues),
                )
            )
        means = [q.service_minutes for code, q in ref.queues.items() if code in queues]
        others = [
            w
            for w in load["windows"]
            if w["number"] != window["number"] and w["state"] == "open" and queues & set(w["queues"])
        ]
        head = max((q["longest_wait_seconds"] for q in load["queues"] if q["code"] in queues), default=0)
        return Load(
            arrivals_per_hour=(recent or 0) * (timedelta(hours=1) / RATE_WINDOW),
            mean_service_minutes=sum(means) / len(means) if means else 6.0,
            open_windows=len(others),
            head_wait_minutes=head / 60,
            local_time=now.astimezone(ZoneInfo(ref.timezone)).time(),
        )

    def tick(self, hall_id: int) -> dict[str, Any]:
        """Decide now and act; returns the status."""
        with self._lock:
            return self._tick(hall_id)

    def _tick(self, hall_id: int) -> dict[str, Any]:
        window = self.window(hall_id)
        if window is None:
            return {"window": None, "open": False, "override": None, "reason": "no tidal window configured"}
        tide = self._tide(hall_id)
        tide.state.is_open = window["state"] != "closed" and not tide.pending_close
        rule = rule_from(self.engine.reference(hall_id).settings)
        load = self.measure(hall_id, window)
        decision = decide(rule, tide.state, load, self.engine.clock.now())
        tide.last = decision
        system = Actor.system(hall_id)
        if decision.open and window["state"] == "closed":
            self._move(system, hall_id, window["number"], "open")
        elif decision.open and window["state"] == "paused":
            self._move(system, hall_id, window["number"], "resume")
        elif not decision.open and window["state"] != "closed":
            # Never close on a citizen being served: close once the current service ends (next tick).
            tide.pending_close = window["current_ticket_id"] is not None
            if not tide.pending_close:
                self._move(system, hall_id, window["number"], "close")
        if decision.changed:
            log.info(
                "tidal window %s of hall %s: %s (%s)",
                window["number"],
                hall_id,
                "open" if decision.open else "close",
                decision.reason,
            )
            self.engine.bus.publish(
                [
                    TidalDecided(
                        hall_id=hall_id,
                        at=self.engine.clock.now(),
                        window=window["number"],
                        open=decision.open,
                        reason=decision.reason,
                        predicted_wait_minutes=decision.predicted_wait_minutes,
                        override=tide.state.override,
                    )
                ]
            )
        return self._status(hall_id, window["number"], tide)

    def _move(self, actor: Actor, hall_id: int, number: int, action: str) -> None:
        try:
            self.engine.window_action(actor, hall_id, number, action)
        except (Conflict, Invalid) as exc:  # someone moved the window by hand meanwhile: next tick re-reads
            log.info("tidal window %s: %s skipped: %s", number, action, exc)

    def override(self, actor: Actor, hall_id: int, mode: str) -> dict[str, Any]:
        """Force the tidal window open or closed, or hand it back to the rule (``auto``); audited."""
        if actor.role not in SUPERVISOR_ROLES:
            raise Forbidden("只有值班领导或大厅负责人可以调整潮汐窗口", code="forbidden_role")
        if mode not in MODES:
            raise Invalid("mode 应为 open、closed 或 auto", code="bad_mode")
        if actor.hall_id is not None and actor.hall_id != hall_id:
            raise Forbidden("无权操作其他大厅", code="other_hall")
        with self._lock:
            window = self.window(hall_id)
            if window is None:
                raise NotFound("本大厅未配置潮汐窗口", code="no_tidal_window")
            tide = self._tide(hall_id)
            before = tide.state.override
            tide.state.override = None if mode == "auto" else mode
            self.engine.record(
                actor,
                hall_id,
                "tidal.override",
                target=f"window {window['number']}",
                before={"override": before},
                after={"override": tide.state.override},
            )
            return self._tick(hall_id)

    def status(self, hall_id: int) -> dict[str, Any]:
        """The tidal window's state, the override and the last decision."""
        with self._lock:
            window = self.window(hall_id)
            if window is None:
                return {"window": None, "open": False, "override": None, "reason": "no tidal window configured"}
            return self._status(hall_id, window["number"], self._tide(hall_id))

    def _status(self, hall_id: int, number: int, tide: _HallTide) -> dict[str, Any]:
        window = next(w for w in self.engine.load(hall_id)["windows"] if w["number"] == number)
        last = tide.last
        return {
            "window": number,
            "state": window["state"],
            "open": window["state"] == "open",
            "override": tide.state.override,
            "pending_close": tide.pending_close,
            "reason": last.reason if last else None,
            "predicted_wait_minutes": last.predicted_wait_minutes if last else None,
        }
