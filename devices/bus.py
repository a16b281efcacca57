"""One serial line and the devices on it: the line's master, health per device, resend after recovery.

RS-485 is half-duplex with one master: the hall sends one request at a time and waits for the addressed
device's answer, so every line gets one worker thread that takes turns — display updates first, then
heartbeat polls when they are due. Keypads and pads report key presses only in their poll answers. The
reader thread of the line (devices/transport.py) feeds the driver's decoder and wakes the worker.

Health per device: ``ok`` after any proper answer, ``error`` when it refuses (NAK, Modbus exception, wrong
device kind), ``offline`` when the port is gone or the device stays silent through every retry. A device
that comes back gets what it should be showing again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devices.drivers import DeviceSpec, Driver, Outcome, Request
from devices.transport import LinkDown, SerialLink

log = logging.getLogger(__name__)

OFFLINE_POLL = 1.0  # at least this long between single-attempt polls of a silent device (it would hold the line)
StatusHandler = Callable[[DeviceSpec, str, "str | None"], None]
EventHandler = Callable[[DeviceSpec, Any], None]


@dataclass
class DeviceState:
    """What the line's master knows about one device."""

    spec: DeviceSpec
    status: str | None = None  # ok | offline | error; None before the first contact
    detail: str | None = None
    last_seen: float | None = None  # time.time() of the last proper answer
    display: tuple[str, str] | None = None  # what it should show (number, text)
    dirty: bool = False  # display not yet confirmed by the device
    next_poll: float = 0.0  # time.monotonic()
    identified: bool = False
    mismatch: str | None = None  # the device says it is another kind
    checked: int = 0  # the last check round that polled it

    def snapshot(self) -> dict[str, Any]:
        """A plain dict for listings."""
        return {
            "name": self.spec.name,
            "kind": self.spec.kind,
            "window": self.spec.window,
            "driver": self.spec.driver,
            "url": self.spec.url,
            "address": self.spec.address,
            "status": self.status,
            "detail": self.detail,
            "last_seen": self.last_seen,
            "display": list(self.display) if self.display else None,
        }


class Bus:
    """The master of one line: its link, its devices, one worker thread taking turns between them."""

    def __init__(
        self,
        url: str,
        driver: Driver,
        specs: list[DeviceSpec],
        *,
        on_status: StatusHandler | None = None,
        on_event: EventHandler | None = None,
        backoff_max: float = 2.0,
    ) -> None:
        if not specs:
            raise ValueError("a line needs at least one device")
        self.url = url
        self.driver = driver
        self.devices = {s.name: DeviceState(s) for s in specs}
        self.on_status = on_status
        self.on_event = on_event
        self._decoder = driver.decoder()
        self._replies: list[Any] = []
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._resync = False
        self._round = 0
        self._thread: threading.Thread | None = None
        self.link = SerialLink(
            url,
            on_data=self._on_data,
            on_state=self._on_link,
            baudrate=specs[0].baudrate,
            backoff_max=backoff_max,
            name=f"{driver.name} {url}",
        )

    # --- control -----------------------------------------------------------------------------------
    def start(self) -> Bus:
        """Open the line and start talking to its devices."""
        if self._thread is None:
            self.link.start()
            self._thread = threading.Thread(target=self._run, name=f"bus:{self.url}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the worker and close the line."""
        self._stop.set()
        self._wake.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.link.close()

    def show(self, name: str, number: str, text: str, *, force: bool = False) -> None:
        """Make a device show ``number`` and ``text`` (sent at once, and again whenever it comes back)."""
        with self._cond:
            state = self.devices[name]
            if state.display == (number, text) and not force:
                return
            state.display = (number, text)
            state.dirty = True
        self._wake.set()

    def check(self, timeout: float = 3.0) -> dict[str, str]:
        """Poll every device now and return name → status (a line that is not open: all offline)."""
        deadline = time.monotonic() + timeout
        if not self.link.connected:
            self.link.wait_tried(min(2.0, timeout))
        with self._cond:
            self._round += 1
            wanted = self._round
            for state in self.devices.values():
                state.next_poll = 0.0
        self._wake.set()
        with self._cond:
            self._cond.wait_for(
                lambda: (
                    self._stop.is_set()
                    or not self.link.connected
                    or all(s.checked >= wanted for s in self.devices.values())
                ),
                max(0.0, deadline - time.monotonic()),
            )
            return {
                name: (s.status or "offline") if self.link.connected else "offline" for name, s in self.devices.items()
            }

    def states(self) -> list[dict[str, Any]]:
        """A snapshot of every device on the line."""
        with self._cond:
            return [s.snapshot() for s in self.devices.values()]

    # --- the reader thread's side ------------------------------------------------------------------
    def _on_data(self, data: bytes) -> None:
        with self._cond:
            self._replies.extend(self._decoder.feed(data))
            self._cond.notify_all()

    def _on_link(self, up: bool, error: str | None) -> None:
        with self._cond:
            if up:
                self._resync = True
            self._cond.notify_all()
        self._wake.set()

    # --- the worker ----------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except LinkDown:
                self._stop.wait(0.05)  # the reader thread notices too and reopens the port
            except Exception:
                log.exception("line %s: worker step failed", self.url)
                self._stop.wait(0.5)

    def _step(self) -> None:
        self._wake.clear()  # before choosing: a wake-up after this point is not lost
        if not self.link.connected and self.link.error is None:
            self._wake.wait(0.1)  # the first attempt to open the port is still under way
            return
        if not self.link.connected:
            detail = f"串口不可用：{self.link.error}" if self.link.error else "串口未连接"
            for state in list(self.devices.values()):
                self._set(state, "offline", detail)
            with self._cond:
                for state in self.devices.values():
                    state.checked = self._round
                self._cond.notify_all()
            self._wake.wait(0.5)
            return
        with self._cond:
            if self._resync:  # the port is (back) open: contact everyone now, resend what they should show
                self._resync = False
                self._decoder.reset()
                for state in self.devices.values():
                    state.next_poll = 0.0
                    state.dirty = state.display is not None
        job = self._next_job(time.monotonic())
        if job is None:
            with self._cond:
                due = min(s.next_poll for s in self.devices.values())
            self._wake.wait(max(0.0, min(1.0, due - time.monotonic())))
            return
        purpose, state = job
        if purpose == "identify":
            self._identify(state)
        elif purpose == "display":
            self._display(state)
        else:
            self._poll(state)

    def _next_job(self, now: float) -> tuple[str, DeviceState] | None:
        with self._cond:
            states = list(self.devices.values())
            for state in states:
                if state.status == "ok" and not state.identified:
                    return "identify", state
            for state in states:
                if state.dirty and state.status != "offline" and state.mismatch is None:
                    return "display", state
            due = [s for s in states if s.next_poll <= now]
            if due:
                return "poll", min(due, key=lambda s: s.next_poll)
        return None

    def _identify(self, state: DeviceState) -> None:
        request = self.driver.identify(state.spec)
        if request is None:
            with self._cond:
                state.identified = True
            return
        self._exchange(state, request)

    def _display(self, state: DeviceState) -> None:
        with self._cond:
            content = state.display
            state.dirty = False
        if content is None:
            return
        for request in self.driver.display(state.spec, *content):
            outcome = self._exchange(state, request)
            if outcome is None:  # silent: send it again once it answers
                with self._cond:
                    state.dirty = True
                return
            if not outcome.ok:
                return

    def _poll(self, state: DeviceState) -> None:
        with self._cond:
            wanted = self._round
        outcome = self._exchange(state, self.driver.poll(state.spec))
        now = time.monotonic()
        with self._cond:
            interval = state.spec.poll_seconds
            if state.status == "offline":
                interval = max(interval, OFFLINE_POLL)
            state.checked = max(state.checked, wanted)
            drain = outcome is not None and bool(outcome.events)  # more key presses may be queued
            # Poll again at once to drain, or when a check came in while this poll ran.
            state.next_poll = now if drain or state.checked < self._round else now + interval
            self._cond.notify_all()

    def _exchange(self, state: DeviceState, request: Request) -> Outcome | None:
        """Send a request and wait for its answer, retrying; None (and offline) when the device stays silent."""
        spec = state.spec
        attempts = 1 if state.status == "offline" else spec.retries
        for attempt in range(attempts):
            with self._cond:
                self._replies.clear()
                self._decoder.reset()
            self.link.write(request.data)
            reply = self._await(lambda r: self.driver.answers(spec, request, r), spec.timeout)
            if self._stop.is_set():
                return None  # shutting down: no verdict on the device
            if reply is None:
                continue
            outcome = self.driver.outcome(spec, request, reply)
            if outcome.retry and attempt + 1 < attempts:
                continue
            self.driver.settled(spec, request, True)
            self._contact(state, outcome)
            return outcome
        self.driver.settled(spec, request, False)
        self._set(state, "offline", "无应答")
        return None

    def _await(self, matches: Callable[[Any], bool], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for reply in self._replies:
                    if matches(reply):
                        return reply
                if not self.link.connected:
                    raise LinkDown(self.link.error or "port closed")
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(remaining)

    def _contact(self, state: DeviceState, outcome: Outcome) -> None:
        if not outcome.ok:
            self._set(state, "error", outcome.error)
            return
        state.last_seen = time.time()
        if outcome.identity is not None:
            state.identified = True
            if outcome.identity.kind and outcome.identity.kind != state.spec.kind:
                state.mismatch = f"设备类型不符：配置为{state.spec.kind}，设备报告{outcome.identity.kind}"
                self._set(state, "error", state.mismatch)
                return
        if state.mismatch is None:
            self._set(state, "ok", None)
        for event in outcome.events:
            if self.on_event is not None:
                try:
                    self.on_event(state.spec, event)
                except Exception:
                    log.exception("line %s: handling %r from %s failed", self.url, event, state.spec.name)

    def _set(self, state: DeviceState, status: str, detail: str | None) -> None:
        with self._cond:
            if state.status == status and (status != "error" or state.detail == detail):
                return
            previous = state.status
            state.status, state.detail = status, detail
            if status == "offline":
                state.identified = False
                state.mismatch = None
            if status == "ok" and previous in (None, "offline"):
                # Here for the first time, or back: ask what it is; one that was away (maybe powered off)
                # gets what it should show again. (From "error" not: a refused display would loop.)
                state.identified = not self.driver.identifies
                if previous == "offline":
                    state.dirty = state.display is not None
            self._cond.notify_all()
        if status == "ok":
            log.info("%s: %s -> ok", state.spec.label, previous)
        else:
            log.warning("%s: %s -> %s (%s)", state.spec.label, previous, status, detail)
        if self.on_status is not None:
            try:
                self.on_status(state.spec, status, detail)
            except Exception:
                log.exception("line %s: status callback failed", self.url)
