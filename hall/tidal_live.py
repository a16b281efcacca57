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
from datetime import datetime, timedelta
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
NO_TIDAL_WINDOW = {
    "window": None,
    "open": False,
    "override": None,
    "reason": "no tidal window configured",
    "why": "none",
}

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
        stage_after_minutes=float(raw.get("stage_after_minutes", base.stage_after_minutes)),
    )


@dataclass
class _HallTide:
    state: TidalState
    last: Decision | None = None
    pending_close: bool = False
    open_since: datetime | None = None


class TidalController:
    """Keeps each hall's tidal state and applies decisions through the engine.

    A hall may have several tidal windows (kind ``tidal``): they are stages in window-number order (hall.tidal).
    The status and the override concern all of them; the status's top-level keys describe the first one.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._halls: dict[int, dict[int, _HallTide]] = {}
        self._lock = threading.Lock()  # one decision at a time: a tick and an override must not interleave

    def _tides(self, hall_id: int, windows: list[dict[str, Any]]) -> dict[int, _HallTide]:
        tides = self._halls.setdefault(hall_id, {})
        override = next((t.state.override for t in tides.values()), None)
        for w in windows:
            if w["number"] not in tides:
                is_open = w["state"] == "open"
                tides[w["number"]] = _HallTide(
                    TidalState(is_open=is_open, override=override),
                    open_since=self.engine.clock.now() if is_open else None,
                )
        return tides

    def windows(self, hall_id: int) -> list[dict[str, Any]]:
        """The hall's tidal windows (kind ``tidal``) in stage order, as the engine's load shows them."""
        return sorted(
            (w for w in self.engine.load(hall_id)["windows"] if w["kind"] == "tidal"), key=lambda w: w["number"]
        )

    def window(self, hall_id: int) -> dict[str, Any] | None:
        """The hall's first tidal window, or None."""
        return next(iter(self.windows(hall_id)), None)

    def measure(self, hall_id: int, window: dict[str, Any]) -> Load:
        """Arrival rate, service time, open windows and head-of-line wait for the tidal window's queues.

        The mean service time is that of the queues weighted by their arrivals in the rate window (their plain
        average when nobody came), so a few long-item queues do not inflate the prediction.
        """
        ref = self.engine.reference(hall_id)
        now = self.engine.clock.now()
        load = self.engine.load(hall_id)
        queues = set(window["queues"])
        with self.engine.db.read() as session:
            counts = dict(
                session.execute(
                    select(Ticket.queue_code, func.count(Ticket.id))
                    .where(
                        Ticket.hall_id == hall_id,
                        Ticket.issued_at >= now - RATE_WINDOW,
                        Ticket.queue_code.in_(queues),
                    )
                    .group_by(Ticket.queue_code)
                ).all()
            )
        recent = sum(counts.values())
        means = {code: q.service_minutes for code, q in ref.queues.items() if code in queues}
        if recent and means:
            mean = sum(means.get(code, 6.0) * n for code, n in counts.items()) / recent
        else:
            mean = sum(means.values()) / len(means) if means else 6.0
        others = [
            w
            for w in load["windows"]
            if w["number"] != window["number"] and w["available"] and queues & set(w["queues"])
        ]
        head = max((q["longest_wait_seconds"] for q in load["queues"] if q["code"] in queues), default=0)
        return Load(
            arrivals_per_hour=recent * (timedelta(hours=1) / RATE_WINDOW),
            mean_service_minutes=mean,
            open_windows=len(others),
            head_wait_minutes=head / 60,
            local_time=now.astimezone(ZoneInfo(ref.timezone)).time(),
        )

    def tick(self, hall_id: int) -> dict[str, Any]:
        """Decide now and act; returns the status."""
        with self._lock:
            return self._tick(hall_id)

    def _tick(self, hall_id: int) -> dict[str, Any]:
        windows = self.windows(hall_id)
        if not windows:
            return dict(NO_TIDAL_WINDOW)
        tides = self._tides(hall_id, windows)
        rule = rule_from(self.engine.reference(hall_id).settings)
        now = self.engine.clock.now()
        for w in windows:
            tide = tides[w["number"]]
            tide.state.is_open = w["state"] != "closed" and not tide.pending_close
            if not tide.state.is_open:
                tide.open_since = None
        # Last stage first: a stage may open only after the one before it has been open a while, and stays
        # open while a later one is open.
        later_open = False
        for stage in range(len(windows) - 1, -1, -1):
            w = windows[stage]
            tide = tides[w["number"]]
            earlier: float | None = None
            if stage > 0:
                before = tides[windows[stage - 1]["number"]]
                if before.state.is_open and before.open_since is not None:
                    earlier = (now - before.open_since) / timedelta(minutes=1)
            decision = decide(
                rule,
                tide.state,
                self.measure(hall_id, w),
                now,
                stage=stage,
                earlier_open_minutes=earlier,
                later_open=later_open,
            )
            tide.last = decision
            self._act(hall_id, w, tide, decision)
            later_open = later_open or decision.open
        return self._status(hall_id, windows[0]["number"], tides)

    def _act(self, hall_id: int, window: dict[str, Any], tide: _HallTide, decision: Decision) -> None:
        system = Actor.system(hall_id)
        now = self.engine.clock.now()
        if decision.open and window["state"] == "closed":
            self._move(system, hall_id, window["number"], "open")
            tide.open_since = now
        elif decision.open and window["state"] == "paused":
            self._move(system, hall_id, window["number"], "resume")
        elif not decision.open and window["state"] != "closed":
            # Never close on a citizen being served: close once the current service ends (next tick).
            tide.pending_close = window["current_ticket_id"] is not None
            if not tide.pending_close:
                self._move(system, hall_id, window["number"], "close")
                tide.open_since = None
        if decision.open:
            tide.pending_close = False
            if tide.open_since is None:
                tide.open_since = now
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
                        at=now,
                        window=window["number"],
                        open=decision.open,
                        reason=decision.reason,
                        predicted_wait_minutes=decision.predicted_wait_minutes,
                        override=tide.state.override,
                    )
                ]
            )

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
            windows = self.windows(hall_id)
            if not windows:
                raise NotFound("本大厅未配置潮汐窗口", code="no_tidal_window")
            tides = self._tides(hall_id, windows)
            before = tides[windows[0]["number"]].state.override
            for tide in tides.values():
                tide.state.override = None if mode == "auto" else mode
            self.engine.record(
                actor,
                hall_id,
                "tidal.override",
                target=", ".join(f"window {w['number']}" for w in windows),
                before={"override": before},
                after={"override": None if mode == "auto" else mode},
            )
            return self._tick(hall_id)

    def status(self, hall_id: int) -> dict[str, Any]:
        """The tidal windows' states, the override and the last decisions."""
        with self._lock:
            windows = self.windows(hall_id)
            if not windows:
                return dict(NO_TIDAL_WINDOW)
            return self._status(hall_id, windows[0]["number"], self._tides(hall_id, windows))

    def _status(self, hall_id: int, first: int, tides: dict[int, _HallTide]) -> dict[str, Any]:
        states = {w["number"]: w["state"] for w in self.engine.load(hall_id)["windows"]}
        each = []
        for number in sorted(tides):
            tide, last = tides[number], tides[number].last
            each.append(
                {
                    "window": number,
                    "state": states.get(number),
                    "open": states.get(number) == "open",
                    "pending_close": tide.pending_close,
                    "reason": last.reason if last else None,
                    "why": last.why if last else None,
                    "why_args": dict(last.why_args) if last else {},
                    "rule_open": last.open if last else None,  # what the rule decided; the state may differ
                    "predicted_wait_minutes": last.predicted_wait_minutes if last else None,
                }
            )
        head = next(e for e in each if e["window"] == first)
        return {**head, "override": tides[first].state.override, "windows": each}
