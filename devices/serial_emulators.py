"""Emulated serial devices: LED strips, rating pads and keypads that answer like real firmware would.

``HallSerialDevice`` follows docs/devices.md (the firmware side of hall-serial); ``ModbusLedDevice`` is a
Modbus-RTU display with the register map of devices/protocols/modbus_led.py. An ``EmulatedLine`` holds the
devices sharing one line; a ``LineEmulator`` connects it to the hall through a serial port or pty (by URL,
reopened when it disappears) or as a TCP listener the hall reaches with ``socket://host:port``.
``python -m devices.emulate led|pad|keypad|hall`` runs them from the command line.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from devices.protocols import hall_serial as hs
from devices.protocols import modbus_led as mb
from devices.transport import LinkDown, SerialLink

log = logging.getLogger(__name__)

MAX_EVENTS = 8  # unreported key presses a device keeps (the oldest are dropped beyond this)
DisplayHandler = Callable[[Any, str, str], None]


class HallSerialDevice:
    """One hall-serial device (led, pad or keypad) at an address on a line."""

    def __init__(
        self,
        kind: str,
        address: int = 1,
        *,
        encoding: str = "gb18030",
        model: str = "EMU",
        version: str = "1.0",
        on_display: DisplayHandler | None = None,
    ) -> None:
        if not 1 <= address <= 254:
            raise ValueError("a hall-serial address is 1–254")
        self.kind = kind
        self.address = address
        self.encoding = encoding
        self.identity = hs.Identity(kind, model, version)
        self.label = self.name  # how the emulator CLI prints it
        self.on_display = on_display
        self.shown: list[tuple[str, str]] = []  # every DISPLAY received, in order
        self.received: list[hs.Frame] = []  # every frame addressed to it (or broadcast), retries included
        self.silent = False  # True: hears everything, answers nothing (a hung device)
        self._events: deque[hs.Event] = deque(maxlen=MAX_EVENTS)
        self._carried: int | None = None  # SEQ of the POLL whose answer carried the oldest event
        self._last: tuple[hs.Frame, hs.Frame | None] | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """``keypad@2``."""
        return f"{self.kind}@{self.address}"

    @property
    def pending(self) -> list[hs.Event]:
        """Key presses not yet collected by the hall."""
        with self._lock:
            return list(self._events)

    def press(self, key: str) -> None:
        """A keypad key: N 叫号, R 重呼, S 过号, P 暂停/恢复."""
        if key not in hs.KEYS:
            raise ValueError(f"keys are {', '.join(hs.KEYS)}, not {key!r}")
        with self._lock:
            self._events.append(hs.KeyPress(key))

    def rate(self, score: int) -> None:
        """A rating pad button, 1 (非常不满意) to 5 (非常满意)."""
        if score not in hs.SCORES:
            raise ValueError("a score is 1–5")
        with self._lock:
            self._events.append(hs.RatingPress(score))

    def handle(self, frame: hs.Frame) -> hs.Frame | None:
        """The answer to a frame heard on the line (None: not for this device, broadcast, or silent)."""
        if frame.address in (self.address, hs.BROADCAST):
            self.received.append(frame)
        if frame.address == hs.BROADCAST:
            if frame.command == hs.Command.DISPLAY:
                with self._lock:
                    self._act(frame)
            return None
        if frame.address != self.address or self.silent:
            return None
        with self._lock:
            if self._last is not None and self._last[0] == frame:
                return self._last[1]  # the host's retry: the same answer again, nothing done twice
            reply = self._act(frame)
            self._last = (frame, reply)
            return reply

    def _act(self, frame: hs.Frame) -> hs.Frame:
        ack = hs.Command.ACK.value
        if frame.command == hs.Command.POLL:
            if self._carried is not None and frame.seq != self._carried and self._events:
                self._events.popleft()  # a POLL with a new SEQ: the host got the answer that carried it
            event = self._events[0] if self._events else None
            self._carried = frame.seq if event is not None else None
            return hs.Frame(self.address, frame.seq, ack, hs.event_data(event))
        if frame.command == hs.Command.DISPLAY:
            try:
                number, text = hs.parse_display(frame.data, self.encoding)
            except hs.FrameError:
                return hs.Frame(self.address, frame.seq, hs.Command.NAK.value, hs.Nak.ARGUMENT.encode())
            self.shown.append((number, text))
            if self.on_display is not None:
                self.on_display(self, number, text)
            return hs.Frame(self.address, frame.seq, ack)
        if frame.command == hs.Command.IDENTIFY:
            return hs.Frame(self.address, frame.seq, ack, hs.identity_data(self.identity))
        return hs.Frame(self.address, frame.seq, hs.Command.NAK.value, hs.Nak.COMMAND.encode())


class ModbusLedDevice:
    """A Modbus-RTU LED display: holding registers, the map of devices/protocols/modbus_led.py."""

    kind = "led"

    def __init__(
        self, unit: int = 1, regmap: mb.RegisterMap | None = None, *, on_display: DisplayHandler | None = None
    ) -> None:
        self.unit = unit
        self.regmap = regmap or mb.RegisterMap()
        self.label = self.name
        self.on_display = on_display
        self.registers: dict[int, int] = {}
        self.shown: list[tuple[str, str]] = []
        self.silent = False
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """``led@1``."""
        return f"led@{self.unit}"

    @property
    def address(self) -> int:
        """The unit id."""
        return self.unit

    def handle(self, pdu: Any) -> Any:
        """The answer PDU to a request (None: another unit's, broadcast, or silent)."""
        if pdu.dev_id not in (self.unit, 0) or self.silent:
            return None
        with self._lock:
            reply = self._act(pdu)
        return None if pdu.dev_id == 0 else reply

    def _act(self, pdu: Any) -> Any:
        rm = self.regmap
        if pdu.function_code == 16:
            registers = list(pdu.registers)
            if len(registers) != pdu.count or not 1 <= pdu.count <= mb.MAX_WRITE:
                return mb.exception_response(pdu, 3)
            for offset, value in enumerate(registers):
                self.registers[pdu.address + offset] = value
            if pdu.address <= rm.text_register < pdu.address + pdu.count:
                number = mb.parse_number([self.registers.get(rm.number_register + i, 0) for i in range(5)])
                text = mb.parse_text(
                    [self.registers.get(rm.text_register + i, 0x2020) for i in range(rm.text_registers)], rm.encoding
                )
                self.shown.append((number, text))
                if self.on_display is not None:
                    self.on_display(self, number, text)
            return mb.write_response(pdu)
        if pdu.function_code == 3:
            return mb.read_response(self.unit, [self.registers.get(pdu.address + i, 0) for i in range(pdu.count)])
        return mb.exception_response(pdu, 1)


class EmulatedLine:
    """The devices on one line: bytes from the host in, their answers out (no I/O)."""

    def __init__(self, driver: str, devices: list[Any]) -> None:
        if driver not in ("hall-serial", "modbus-led"):
            raise ValueError(f"no emulator for driver {driver!r}")
        self.driver = driver
        self.devices = devices
        self._decoder: Any = hs.Decoder() if driver == "hall-serial" else mb.RequestDecoder()

    def receive(self, data: bytes) -> bytes:
        """Everything the devices answer to ``data``."""
        out = b""
        for message in self._decoder.feed(data):
            for device in self.devices:
                reply = device.handle(message)
                if reply is not None:
                    out += hs.encode(reply) if self.driver == "hall-serial" else mb.build(reply)
        return out

    def device(self, kind: str | None = None, address: int | None = None) -> Any:
        """The first device of a kind and/or at an address."""
        for device in self.devices:
            if (kind is None or device.kind == kind) and (address is None or device.address == address):
                return device
        raise LookupError(f"no {kind or 'device'} at {address}")


class LineEmulator:
    """Runs an EmulatedLine on a serial port/pty (``url``) or as a TCP listener (``listen=(host, port)``)."""

    def __init__(
        self,
        line: EmulatedLine,
        *,
        url: str | None = None,
        listen: tuple[str, int] | None = None,
        backoff_max: float = 0.5,
    ) -> None:
        if (url is None) == (listen is None):
            raise ValueError("give either url or listen")
        self.line = line
        self._stop = threading.Event()
        self._link: SerialLink | None = None
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        if url is not None:
            self._link = SerialLink(url, on_data=self._from_link, backoff_max=backoff_max, name=f"emulator {url}")
            self._link.start()
            self.url = url
        else:
            host, port = listen  # type: ignore[misc]
            self._server = socket.create_server((host, port))
            self._server.settimeout(0.1)
            self.host, self.port = self._server.getsockname()[:2]
            self.url = f"socket://{self.host}:{self.port}"
            self._spawn(self._serve, f"line-emulator-{self.port}")

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    @property
    def connected(self) -> bool:
        """Whether the hall is on the line (a TCP client is connected, or the port is open)."""
        if self._link is not None:
            return self._link.connected
        return self._client is not None

    def _from_link(self, data: bytes) -> None:
        answer = self.line.receive(data)
        if answer and self._link is not None:
            with contextlib.suppress(LinkDown):
                self._link.write(answer)

    def _serve(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            previous, self._client = self._client, conn  # one host per line: a new connection replaces the old
            if previous is not None:
                _drop(previous)
            self._spawn(self._talk, f"line-emulator-{self.port}-client", conn)

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                answer = self.line.receive(data)
                if answer:
                    try:
                        conn.sendall(answer)
                    except OSError:
                        break
        finally:
            if self._client is conn:
                self._client = None
            conn.close()

    def close(self) -> None:
        """Unplug: the port closes, or the listener and its connection close."""
        self._stop.set()
        if self._link is not None:
            self._link.close()
        if self._server is not None:
            self._server.close()
        client = self._client
        if client is not None:
            _drop(client)
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> LineEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drop(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)


def make_device(driver: str, kind: str, address: int, **options: Any) -> Any:
    """An emulated device for a driver (modbus-led: LED displays only)."""
    if driver == "modbus-led":
        if kind != "led":
            raise ValueError("modbus-led emulates LED displays only")
        return ModbusLedDevice(address, options.get("regmap"), on_display=options.get("on_display"))
    return HallSerialDevice(
        kind, address, encoding=options.get("encoding", "gb18030"), on_display=options.get("on_display")
    )
