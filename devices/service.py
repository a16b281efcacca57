"""The hall's serial devices at work: strips follow their window, keypads act for its clerk, pads rate.

DeviceService subscribes to the engine's EventBus (events arrive after commit): a call or recall at a window
puts the number and "请到N号窗口" on that window's LED strip, a paused or closed window shows so. Keypad keys
call next, recall, 过号 or pause/resume with the authority of the clerk working at the keypad's window
(Window.clerk_id); with nobody there the key is refused and the keypad says why. A pad press rates the 办件
just completed at its window. Every device's health goes to hall.alerts (offline/error alerts that clear
on recovery). Events, key presses and health reports are handled in one worker thread, so the request that
published an event never waits for a serial line, and the order of events is kept.

One process drives the lines (a lock file in the instance directory): a second server process, or a
``flask`` command while the server runs, leaves them alone. The owner also reconciles every strip with the
windows' state in the database every few seconds, so calls made in other server processes show too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from devices import registry
from devices.bus import Bus
from devices.drivers import DRIVERS, DeviceSpec
from devices.protocols.hall_serial import KeyPress, RatingPress
from hall.engine import Actor
from hall.errors import HallError
from hall.events import (
    DomainEvent,
    TicketCalled,
    TicketCompleted,
    TicketEvent,
    TicketNoShow,
    TicketParked,
    TicketRecalled,
    TicketRequeued,
    TicketTransferred,
    WindowChanged,
)
from hall.repository import Repository

log = logging.getLogger(__name__)

# What a strip shows (docs/devices.md).
CALL_TEXT = "请到{window}号窗口"
PAUSED_TEXT = "暂停服务"
CLOSED_TEXT = "窗口关闭"
IDLE_TEXT = "欢迎光临"
# Events after which the window has nobody at it any more.
FREED = (TicketCompleted, TicketNoShow, TicketRequeued, TicketTransferred, TicketParked)
# Keypad answers.
NO_CLERK = "窗口无人登录，不能操作"
KEY_DONE = {"call_next": "已叫号", "recall": "已重呼", "no_show": "已过号"}
NOBODY_WAITING = "暂无等候"
PAD_THANKS = "感谢您的评价"
PAD_NOTHING = "暂无可评价的业务"
PAD_ALREADY = "已评价，谢谢"
RESUMED_TEXT = "恢复服务"


# Why a window pauses, as its strip says it (暂停服务·就餐).
PAUSE_REASON_TEXT = {"meal": "就餐", "meeting": "会议", "away": "临时离开"}


def strip_content(window: int, state: str, current: str | None, reason: str | None = None) -> tuple[str, str]:
    """What a window's strip shows: (ticket number, text)."""
    if state == "paused":
        return "", f"{PAUSED_TEXT}·{PAUSE_REASON_TEXT[reason]}" if reason in PAUSE_REASON_TEXT else PAUSED_TEXT
    if state == "closed":
        return "", CLOSED_TEXT
    if current:
        return current, CALL_TEXT.format(window=window)
    return "", IDLE_TEXT


def should_start(config: Mapping[str, Any], environ: Mapping[str, str]) -> bool:
    """Whether this process drives the serial lines.

    ``SERIAL_DEVICES`` (env HALL_SERIAL_DEVICES): ``auto`` (default) starts them unless TESTING or in a
    ``flask`` command; ``1`` always (tests that want them at start-up); ``0`` never.
    """
    mode = str(config.get("SERIAL_DEVICES", "auto")).lower()
    if mode in ("0", "off", "false", "no"):
        return False
    if mode in ("1", "on", "true", "yes"):
        return True
    return not config.get("TESTING") and environ.get("FLASK_RUN_FROM_CLI") != "true"


class DeviceService:
    """Drives the serial devices of the server's halls and reports their health."""

    def __init__(
        self,
        hall: Any,
        *,
        printing: Any = None,
        lock_path: Path | str | None = None,
        sync_seconds: float = 5.0,
        refresh_seconds: float = 60.0,
        backoff_max: float = 2.0,
        check_timeout: float = 3.0,
    ) -> None:
        self.hall = hall  # hall.web.context.HallApp: db, engine, alerts, ratings, bus, hall_id(s)
        self.hall_ids: list[int] = list(getattr(hall, "hall_ids", None) or [hall.hall_id])
        self.printing = printing
        self.lock_path = Path(lock_path) if lock_path else None
        self.sync_seconds = sync_seconds
        self.refresh_seconds = refresh_seconds
        self.backoff_max = backoff_max
        self.check_timeout = check_timeout
        self.buses: list[Bus] = []
        self.specs: dict[tuple[int, str], DeviceSpec] = {}
        self.problems: dict[tuple[int, str], str] = {}
        self._bus_of: dict[tuple[int, str], Bus] = {}
        self._actions: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._start_lock = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether this process drives the lines."""
        return self._thread is not None

    def start(self) -> bool:
        """Open every line and start; False when another process drives them. Never raises for a device."""
        with self._start_lock:
            if self.running:
                return True
            if not self._take_lock():
                log.warning("serial devices are driven by another process (%s)", self.owner() or "unknown")
                return False
            grouped, self.problems = self._configured(self.hall_ids)
            self.buses = [self._bus(url, line) for url, line in grouped.items()]
            self.specs = {s.key: s for line in grouped.values() for s in line}
            self._bus_of = {state.spec.key: bus for bus in self.buses for state in bus.devices.values()}
            self._thread = threading.Thread(target=self._work, name="serial-devices", daemon=True)
            self._thread.start()
            for key, problem in self.problems.items():
                log.error("serial device %s is misconfigured: %s", key[1], problem)
                self._actions.put(lambda k=key, p=problem: self._report(k, "error", f"配置错误：{p}"))
            self._actions.put(self.sync)  # what every strip should show now
            for bus in self.buses:
                bus.start()
            self.hall.bus.subscribe(self.handle)
            log.info("serial devices: %d on %d lines", len(self.specs), len(self.buses))
            return True

    def _configured(self, hall_ids: list[int]) -> tuple[dict[str, list[DeviceSpec]], dict[tuple[int, str], str]]:
        """The valid serial devices of the halls grouped by line, and the misconfigured ones with why."""
        entries = [e for h in hall_ids for e in registry.entries(self.hall.db, h) if e.serial]
        problems = {e.key: e.problem for e in entries if e.problem}
        grouped, clashes = registry.lines([e.spec for e in entries if e.spec is not None])
        return grouped, {**problems, **clashes}

    def _bus(self, url: str, specs: list[DeviceSpec]) -> Bus:
        return Bus(
            url,
            DRIVERS[specs[0].driver](),
            specs,
            on_status=lambda spec, status, detail: self._actions.put(lambda: self._report(spec.key, status, detail)),
            on_event=lambda spec, event: self._actions.put(lambda: self._device_event(spec, event)),
            backoff_max=self.backoff_max,
        )

    def stop(self) -> None:
        """Stop handling events, close every line."""
        with self._start_lock:
            if not self.running:
                return
            self.hall.bus.unsubscribe(self.handle)
            for bus in self.buses:
                bus.stop()
            self._actions.put(None)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._thread = None
            self._release_lock()

    # --- the one-process lock -------------------------------------------------------------------------
    def _take_lock(self) -> bool:
        if self.lock_path is None:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
        return True

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def owner(self) -> str | None:
        """Which other process holds the lock ("pid N"), or None when nobody else does."""
        if self.lock_path is None or self._lock_fd is not None or not self.lock_path.exists():
            return None
        fd = os.open(self.lock_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return f"pid {os.pread(fd, 32, 0).decode(errors='replace').strip() or '?'}"
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    # --- the worker thread ----------------------------------------------------------------------------
    def _work(self) -> None:
        never = float("inf")
        next_sync = time.monotonic() + self.sync_seconds if self.sync_seconds > 0 else never
        next_refresh = time.monotonic() + self.refresh_seconds if self.refresh_seconds > 0 else never
        while True:
            wait = max(0.0, min(next_sync, next_refresh, time.monotonic() + 1.0) - time.monotonic())
            try:
                action = self._actions.get(timeout=wait)
            except queue.Empty:
                action = None
            else:
                if action is None:
                    return
            try:
                if action is not None:
                    action()
                now = time.monotonic()
                if now >= next_sync:
                    next_sync = now + self.sync_seconds
                    self.sync()
                if now >= next_refresh:
                    next_refresh = now + self.refresh_seconds
                    self._refresh()
            except Exception:  # a device or a database hiccup must never end the worker
                log.exception("serial device work failed")

    # --- strips follow the windows -------------------------------------------------------------------
    def handle(self, event: DomainEvent) -> None:
        """EventBus subscriber (runs in the publishing thread): queue what the strips must show."""
        if event.hall_id not in self.hall_ids:
            return
        hall_id = event.hall_id
        if isinstance(event, TicketCalled | TicketRecalled) and event.window is not None:
            content = strip_content(event.window, "open", event.number)
            self._actions.put(lambda: self._show_window(hall_id, event.window, content, force=True))
        elif isinstance(event, WindowChanged) and event.state != event.previous:
            content = strip_content(event.window, event.state, None, event.reason)
            self._actions.put(lambda: self._show_window(hall_id, event.window, content))
        elif isinstance(event, FREED) and isinstance(event, TicketEvent) and event.window is not None:
            content = strip_content(event.window, "open", None)
            self._actions.put(lambda: self._show_window(hall_id, event.window, content))

    def strips(self, hall_id: int, window: int | None) -> list[DeviceSpec]:
        """The LED strips over a window."""
        return [s for s in self.specs.values() if s.kind == "led" and s.hall_id == hall_id and s.window == window]

    def _show_window(self, hall_id: int, window: int | None, content: tuple[str, str], *, force: bool = False) -> None:
        for spec in self.strips(hall_id, window) if window is not None else []:
            self._bus_of[spec.key].show(spec.name, *content, force=force)

    def sync(self) -> None:
        """Make every strip show its window's state from the database (calls made by other processes too)."""
        for hall_id in self.hall_ids:
            windows = {s.window for s in self.specs.values() if s.kind == "led" and s.hall_id == hall_id}
            if not windows:
                continue
            for w in self.hall.engine.load(hall_id)["windows"]:
                if w["number"] not in windows:
                    continue
                current = w.get("current") or {}
                number = current.get("number") if current.get("status") in ("called", "serving") else None
                content = strip_content(w["number"], w["state"], number, w.get("pause_reason"))
                self._show_window(hall_id, w["number"], content)

    # --- keypads and pads ---------------------------------------------------------------------------
    def _device_event(self, spec: DeviceSpec, event: Any) -> None:
        if isinstance(event, KeyPress) and spec.kind == "keypad":
            self._key(spec, event.action)
        elif isinstance(event, RatingPress) and spec.kind == "pad":
            self._rate(spec, event.score)
        else:
            log.warning("%s sent %r, which a %s does not send; ignored", spec.label, event, spec.kind)

    def clerk_actor(
        self, hall_id: int, window_number: int, client: str | None = None
    ) -> tuple[Actor | None, str | None]:
        """The clerk working at a window as an engine Actor (None: nobody), and the window's state."""
        from hall.web.security import staff_actor

        with self.hall.db.read() as session:
            repo = Repository(session)
            window = repo.window(hall_id, window_number)
            if window is None:
                return None, None
            user = repo.user(window.clerk_id) if window.clerk_id is not None else None
            if user is None or not user.active or (self.hall.production and user.is_demo):
                return None, window.state
            return dataclasses.replace(staff_actor(user), client=client), window.state

    def _key(self, spec: DeviceSpec, action: str) -> None:
        if spec.window is None:
            self._answer(spec, "", "呼叫器未配置窗口")
            return
        actor, state = self.clerk_actor(spec.hall_id, spec.window, client=f"keypad:{spec.name}")
        if actor is None:
            log.info("%s: %s refused, nobody works window %s", spec.label, action, spec.window)
            self._answer(spec, "", NO_CLERK)
            return
        engine, hall_id, window = self.hall.engine, spec.hall_id, spec.window
        try:
            if action == "call_next":
                ticket = engine.call_next(actor, hall_id, window)
                answer = (ticket["number"], KEY_DONE[action]) if ticket else ("", NOBODY_WAITING)
            elif action == "recall":
                answer = (engine.recall(actor, hall_id, window)["number"], KEY_DONE[action])
            elif action == "no_show":
                answer = (engine.no_show(actor, hall_id, window)["number"], KEY_DONE[action])
            else:  # pause: a paused window resumes, an open one pauses
                move = "resume" if state == "paused" else "pause"
                engine.window_action(actor, hall_id, window, move)
                answer = ("", PAUSED_TEXT if move == "pause" else RESUMED_TEXT)
        except HallError as exc:
            log.info("%s: %s refused: %s (%s)", spec.label, action, exc.message, exc.code)
            answer = ("", exc.message)
        self._answer(spec, *answer)

    def _rate(self, spec: DeviceSpec, score: int) -> None:
        if spec.window is None:
            self._answer(spec, "", "评价器未配置窗口")
            return
        actor = Actor(
            name=spec.name, role="pad", hall_id=spec.hall_id, window_number=spec.window, client=f"pad:{spec.name}"
        )
        try:
            self.hall.ratings.rate_at_window(actor, spec.hall_id, spec.window, score, channel="pad")
            text = PAD_THANKS
        except HallError as exc:
            text = {"nothing_to_rate": PAD_NOTHING, "already_rated": PAD_ALREADY}.get(exc.code, exc.message)
            log.info("%s: rating %d not stored: %s", spec.label, score, exc.code)
        self._answer(spec, "", text)

    def _answer(self, spec: DeviceSpec, number: str, text: str) -> None:
        """Show an answer on the keypad or pad itself, or on the window's strip when it has no screen."""
        if spec.options.get("display", True):
            self._bus_of[spec.key].show(spec.name, number, text, force=True)
        else:
            self._show_window(spec.hall_id, spec.window, (number, text), force=True)

    # --- health ----------------------------------------------------------------------------------------
    def _report(self, key: tuple[int, str], status: str, detail: str | None) -> None:
        try:
            self.hall.alerts.report_device(key[0], key[1], status, detail=detail)
        except Exception:  # bookkeeping must never stop the devices
            log.exception("recording the status of %s failed", key[1])

    def _refresh(self) -> None:
        """Record every working device's state again (keeps last_seen current for listings)."""
        for bus in self.buses:
            for state in bus.devices.values():
                if state.status == "ok":
                    self._report(state.spec.key, "ok", None)

    def check(self, hall_id: int) -> dict[str, str]:
        """Poll every serial device of the hall now, record and return name → status.

        In the process that drives the lines this polls through them. Elsewhere (a ``flask`` command) it opens
        the lines briefly itself, unless the server holds them: then it returns the server's last reports.
        """
        if self.running:
            return self._check(self.buses, self.problems, hall_id)
        if self.owner() is not None:
            names = {e.name for e in registry.entries(self.hall.db, hall_id) if e.serial}
            recorded = self.hall.alerts.devices(hall_id)
            return {d["name"]: d["status"] or "unknown" for d in recorded if d["name"] in names}
        if not self._take_lock():
            return self.check(hall_id)  # a server started meanwhile
        try:  # probe: open the lines, poll each device, close them (key presses meanwhile are not acted on)
            grouped, problems = self._configured([hall_id])
            buses = [Bus(url, DRIVERS[ln[0].driver](), ln, backoff_max=self.backoff_max) for url, ln in grouped.items()]
            try:
                for bus in buses:
                    bus.start()
                return self._check(buses, problems, hall_id)
            finally:
                for bus in buses:
                    bus.stop()
        finally:
            self._release_lock()

    def _check(self, buses: list[Bus], problems: dict[tuple[int, str], str], hall_id: int) -> dict[str, str]:
        statuses: dict[str, str] = {}
        for bus in buses:
            if not any(state.spec.hall_id == hall_id for state in bus.devices.values()):
                continue
            found = bus.check(self.check_timeout)
            for name, state in bus.devices.items():
                if state.spec.hall_id != hall_id:
                    continue
                status = found[name]
                self._report(state.spec.key, status, state.detail if status != "ok" else None)
                statuses[name] = status
        for (h, name), problem in problems.items():
            if h == hall_id:
                self._report((h, name), "error", f"配置错误：{problem}")
                statuses[name] = "error"
        return statuses

    def check_all(self, hall_id: int) -> list[dict[str, Any]]:
        """Check printers (kiosk.printing) and serial devices now; the listing of every device with a driver."""
        if self.printing is not None:
            self.printing.check(hall_id)
        self.check(hall_id)
        return self.listing(hall_id)

    def listing(self, hall_id: int) -> list[dict[str, Any]]:
        """Every device of the hall with a driver (serial devices and printers) and its last recorded health."""
        recorded = {d["name"]: d for d in self.hall.alerts.devices(hall_id)}
        live = {
            state.spec.name: state.detail
            for bus in self.buses
            for state in bus.devices.values()
            if state.spec.hall_id == hall_id
        }
        out = []
        for entry in registry.entries(self.hall.db, hall_id):
            rec = recorded.get(entry.name, {})
            out.append(
                {
                    **registry.entry_dict(entry),
                    "status": rec.get("status"),
                    "status_at": rec.get("status_at"),
                    "last_seen": rec.get("last_seen"),
                    "detail": entry.problem or live.get(entry.name),
                }
            )
        return out
