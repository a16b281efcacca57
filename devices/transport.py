"""A serial line opened by URL, read by its own thread, reopened with backoff when it disappears.

Every port goes through ``serial.serial_for_url``, so the configuration may say ``/dev/ttyUSB0``, a pty path,
``socket://192.168.1.60:4001`` (an RS-485-to-Ethernet converter, or an emulator) or ``loop://``. The reader
thread hands every byte it reads to ``on_data``; when the port fails (USB adapter pulled, converter
rebooted, pty closed) it closes it, reports the state through ``on_state`` and tries again after 0.1 s,
0.2 s, 0.4 s … at most ``backoff_max`` seconds, so a plugged-back device is found again within about that.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import serial

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.1  # how long one read waits; bounds how fast close() stops the reader
WRITE_TIMEOUT = 2.0
# pyserial raises SerialException (an OSError) for most failures, ValueError for a malformed URL or setting.
PORT_ERRORS = (serial.SerialException, OSError, ValueError)


class LinkDown(ConnectionError):
    """The port is not open (unplugged, or not found yet)."""


class SerialLink:
    """One port: opened by URL, read by a daemon thread, reopened with backoff; ``write`` from any thread."""

    def __init__(
        self,
        url: str,
        *,
        on_data: Callable[[bytes], None],
        on_state: Callable[[bool, str | None], None] | None = None,
        baudrate: int = 9600,
        backoff_min: float = 0.1,
        backoff_max: float = 2.0,
        name: str | None = None,
    ) -> None:
        self.url = url
        self.on_data = on_data
        self.on_state = on_state
        self.baudrate = baudrate
        self.backoff_min = backoff_min
        self.backoff_max = max(backoff_min, backoff_max)
        self.name = name or url
        self.error: str | None = None  # why the port is not open, while it is not
        self._port: Any = None
        self._write_lock = threading.Lock()
        self._connected = threading.Event()
        self._tried = threading.Event()  # the first attempt to open the port has finished
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- public ----------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """Whether the port is open right now."""
        return self._connected.is_set()

    def start(self) -> SerialLink:
        """Start the reader thread (it opens the port, and reopens it whenever it fails)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"serial:{self.name}", daemon=True)
            self._thread.start()
        return self

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the port is open; False after ``timeout`` seconds."""
        return self._connected.wait(timeout)

    def wait_tried(self, timeout: float) -> bool:
        """Wait until the first attempt to open the port has succeeded or failed; whether it is open."""
        self._tried.wait(timeout)
        return self.connected

    def write(self, data: bytes) -> None:
        """Send bytes; LinkDown when the port is not open or fails while writing."""
        with self._write_lock:
            port = self._port
            if port is None or not self._connected.is_set():
                raise LinkDown(self.error or "port not open")
            try:
                port.write(data)
                port.flush()
            except PORT_ERRORS as exc:
                raise LinkDown(str(exc)) from exc

    def close(self) -> None:
        """Stop the reader and close the port."""
        self._stop.set()
        port = self._port
        if port is not None and hasattr(port, "cancel_read"):
            with contextlib.suppress(Exception):
                port.cancel_read()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SerialLink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the reader thread ---------------------------------------------------------------------------
    def open_port(self) -> Any:
        """Open the port (8N1 at ``baudrate``; a local device exclusively, so two programs cannot share it)."""
        options: dict[str, Any] = {
            "baudrate": self.baudrate,
            "bytesize": serial.EIGHTBITS,
            "parity": serial.PARITY_NONE,
            "stopbits": serial.STOPBITS_ONE,
            "timeout": READ_TIMEOUT,
            "write_timeout": WRITE_TIMEOUT,
        }
        if "://" not in self.url:
            options["exclusive"] = True
        return serial.serial_for_url(self.url, **options)

    def _run(self) -> None:
        delay = self.backoff_min
        announced: bool | None = None  # the last state reported, so each change is reported once
        while not self._stop.is_set():
            try:
                port = self.open_port()
            except PORT_ERRORS as exc:
                self.error = _short(exc)
                self._tried.set()
                if announced is not False:
                    log.warning("serial %s cannot be opened: %s", self.name, self.error)
                    announced = False
                    self._report(False)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            with self._write_lock:
                self._port = port
                self.error = None
                self._connected.set()
            self._tried.set()
            log.info("serial %s open", self.name)
            announced = True
            self._report(True)
            delay = self.backoff_min
            failure = self._read(port)
            with self._write_lock:
                self._connected.clear()
                self._port = None
                self.error = failure or "closed"
            with contextlib.suppress(Exception):
                port.close()
            if self._stop.is_set():
                break
            log.warning("serial %s lost: %s", self.name, self.error)
            announced = False
            self._report(False)
            self._stop.wait(delay)

    def _read(self, port: Any) -> str | None:
        """Read until the port fails (returns why) or close() is called (returns None)."""
        while not self._stop.is_set():
            try:
                waiting = port.in_waiting
                data = port.read(waiting or 1)
            except PORT_ERRORS as exc:
                return _short(exc)
            except Exception as exc:  # a pyserial handler bug must not kill the thread silently
                log.exception("serial %s read failed", self.name)
                return _short(exc)
            if data:
                try:
                    self.on_data(data)
                except Exception:  # the protocol's problem, not the port's: keep reading
                    log.exception("serial %s: handling received data failed", self.name)
        return None

    def _report(self, connected: bool) -> None:
        if self.on_state is None:
            return
        try:
            self.on_state(connected, None if connected else self.error)
        except Exception:
            log.exception("serial %s: state callback failed", self.name)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
