"""Drivers: how one kind of serial device is spoken to, behind one interface, looked up by name.

A driver turns "show this", "anything to report?" and "who are you?" into requests of its protocol
(devices/protocols/), recognises the answer to each request, and says what the answer means (an Outcome).
It does no I/O: a Bus (devices/bus.py) sends the bytes, waits for answers, retries and keeps the health.
Adding a vendor means one Driver subclass with ``@register`` and a protocol module with golden-byte tests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from devices.protocols import hall_serial as hs
from devices.protocols import modbus_led as mb

SERIAL_KINDS = ("led", "pad", "keypad")
KIND_NAMES = {"led": "条屏", "pad": "评价器", "keypad": "呼叫器"}
# Keypads and pads are polled often (a key press waits for the next poll); a strip's poll is a heartbeat.
DEFAULT_POLL = {"led": 2.0, "pad": 0.2, "keypad": 0.2}
_COMMON_KEYS = {"driver", "url", "address", "baudrate", "poll_seconds", "timeout", "retries", "encoding"}


@dataclass(frozen=True)
class DeviceSpec:
    """One configured serial device: what it is, where it hangs, how to reach it."""

    name: str
    kind: str
    window: int | None
    driver: str
    url: str
    address: int
    baudrate: int = 9600
    poll_seconds: float = 2.0
    timeout: float = 0.3  # seconds to wait for each answer
    retries: int = 3  # attempts per request before the device counts as not answering
    encoding: str = "gb18030"
    options: dict[str, Any] = field(default_factory=dict)  # driver-specific settings
    hall_id: int = 0

    @property
    def key(self) -> tuple[int, str]:
        """Unique across halls: (hall id, device name)."""
        return self.hall_id, self.name

    @property
    def label(self) -> str:
        """How people call it: 1号窗口条屏 led-1."""
        where = f"{self.window}号窗口" if self.window is not None else ""
        return f"{where}{KIND_NAMES.get(self.kind, self.kind)} {self.name}"

    @classmethod
    def from_config(
        cls, name: str, kind: str, window: int | None, config: dict[str, Any], *, hall_id: int = 0
    ) -> DeviceSpec:
        """A validated spec from a device's ``config`` table; ValueError says which key is wrong and why."""
        if kind not in SERIAL_KINDS:
            raise ValueError(f"kind {kind!r} is not a serial device kind ({', '.join(SERIAL_KINDS)})")
        conf = dict(config or {})
        driver_name = conf.get("driver")
        if driver_name not in DRIVERS:
            raise ValueError(f"driver {driver_name!r} is unknown; use one of {', '.join(sorted(DRIVERS))}")
        driver = DRIVERS[driver_name]
        if kind not in driver.kinds:
            raise ValueError(f"driver {driver_name} cannot drive a {kind} (only {', '.join(sorted(driver.kinds))})")
        url = conf.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ValueError("url is missing (e.g. /dev/ttyUSB0, socket://192.168.1.60:4001)")
        low, high = driver.addresses
        address = _number(conf, "address", int, 1)
        if not low <= address <= high:
            raise ValueError(f"address {address} is outside {low}–{high} for {driver_name}")
        baudrate = _number(conf, "baudrate", int, 9600)
        if baudrate not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
            raise ValueError(f"baudrate {baudrate} is not a standard rate")
        poll = _number(conf, "poll_seconds", float, DEFAULT_POLL[kind])
        timeout = _number(conf, "timeout", float, 0.3)
        retries = _number(conf, "retries", int, 3)
        if not 0.02 <= poll <= 3600 or not 0.01 <= timeout <= 10 or not 1 <= retries <= 10:
            raise ValueError("poll_seconds must be 0.02–3600, timeout 0.01–10 s, retries 1–10")
        encoding = str(conf.get("encoding", driver.encoding)).lower()
        try:
            "号".encode(encoding)
        except LookupError:
            raise ValueError(f"encoding {encoding!r} is unknown (gb18030, gb2312, gbk)") from None
        options = {k: v for k, v in conf.items() if k not in _COMMON_KEYS}
        unknown = set(options) - driver.options
        if unknown:
            raise ValueError(f"unknown settings {', '.join(sorted(unknown))} for {driver_name}")
        spec = cls(
            name=name,
            kind=kind,
            window=window,
            driver=driver_name,
            url=url.strip(),
            address=address,
            baudrate=baudrate,
            poll_seconds=poll,
            timeout=timeout,
            retries=retries,
            encoding=encoding,
            options=options,
            hall_id=hall_id,
        )
        driver.validate(spec)
        return spec


def _number(conf: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = conf.get(key, default)
    if isinstance(value, bool):
        raise ValueError(f"{key} must be a number, not {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, not {value!r}") from None


@dataclass(frozen=True)
class Request:
    """One request on the line: the protocol message, its bytes, and what it is for."""

    purpose: str  # poll | display | identify
    message: Any
    data: bytes


@dataclass(frozen=True)
class Outcome:
    """What an answer means: done (with events or an identity), refused, or busy (ask again)."""

    ok: bool
    events: tuple[Any, ...] = ()
    error: str | None = None
    retry: bool = False
    identity: hs.Identity | None = None


class Driver(ABC):
    """How to speak to one family of devices; one instance per line (it may keep per-address state)."""

    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    addresses: ClassVar[tuple[int, int]] = (1, 247)
    encoding: ClassVar[str] = "gb18030"
    options: ClassVar[frozenset[str]] = frozenset()
    identifies: ClassVar[bool] = False  # whether identify() returns a request

    @classmethod
    def validate(cls, spec: DeviceSpec) -> None:
        """Raise ValueError for driver-specific settings that cannot work (most drivers need no check)."""
        return None

    @abstractmethod
    def decoder(self) -> Any:
        """A fresh stream decoder for answers (``feed(bytes) -> list``, ``reset()``)."""

    @abstractmethod
    def poll(self, spec: DeviceSpec) -> Request:
        """The heartbeat request (for pads and keypads it also collects key presses)."""

    @abstractmethod
    def display(self, spec: DeviceSpec, number: str, text: str) -> list[Request]:
        """The requests that make the device show ``number`` and ``text``."""

    def identify(self, spec: DeviceSpec) -> Request | None:
        """A request asking the device what it is (None: the protocol has none)."""
        return None

    def settled(self, spec: DeviceSpec, request: Request, answered: bool) -> None:
        """Told after the last attempt at a request, answered or not (hall-serial repeats unanswered polls)."""
        return None

    @abstractmethod
    def answers(self, spec: DeviceSpec, request: Request, reply: Any) -> bool:
        """Whether ``reply`` is the answer to ``request``."""

    @abstractmethod
    def outcome(self, spec: DeviceSpec, request: Request, reply: Any) -> Outcome:
        """What the answer means."""


DRIVERS: dict[str, type[Driver]] = {}


def register(cls: type[Driver]) -> type[Driver]:
    """Class decorator: make a driver available by its ``name`` in the hall configuration."""
    DRIVERS[cls.name] = cls
    return cls


@register
class HallSerialDriver(Driver):
    """hall-serial (docs/devices.md): LED strips, rating pads and keypads, several per RS-485 line."""

    name = "hall-serial"
    kinds = frozenset({"led", "pad", "keypad"})
    addresses = (1, 254)
    identifies = True
    options = frozenset({"display"})  # keypad/pad: display = false when it has no screen for answers

    def __init__(self) -> None:
        self._seq: dict[int, int] = {}
        self._unanswered: dict[int, hs.Frame] = {}  # per address: a POLL whose answer never came

    def decoder(self) -> hs.Decoder:
        """Frames from the line."""
        return hs.Decoder()

    def _frame(self, spec: DeviceSpec, command: hs.Command, data: bytes = b"") -> hs.Frame:
        # Per address: a device takes a repeated SEQ for a retry of its last command, so consecutive
        # commands to one device must differ, whatever was sent to the others in between.
        seq = (self._seq.get(spec.address, -1) + 1) % 256
        self._seq[spec.address] = seq
        return hs.Frame(spec.address, seq, command.value, data)

    def _request(self, purpose: str, frame: hs.Frame) -> Request:
        return Request(purpose, frame, hs.encode(frame))

    def poll(self, spec: DeviceSpec) -> Request:
        """POLL; the same SEQ again after an unanswered one (its answer may have carried a key press)."""
        frame = self._unanswered.get(spec.address) or self._frame(spec, hs.Command.POLL)
        return self._request("poll", frame)

    def settled(self, spec: DeviceSpec, request: Request, answered: bool) -> None:
        """Remember an unanswered POLL so the next one repeats its SEQ."""
        if request.purpose != "poll":
            return
        if answered:
            self._unanswered.pop(spec.address, None)
        else:
            self._unanswered[spec.address] = request.message

    def display(self, spec: DeviceSpec, number: str, text: str) -> list[Request]:
        """One DISPLAY."""
        data = hs.display_data(number, text, spec.encoding)
        return [self._request("display", self._frame(spec, hs.Command.DISPLAY, data))]

    def identify(self, spec: DeviceSpec) -> Request:
        """IDENTIFY."""
        return self._request("identify", self._frame(spec, hs.Command.IDENTIFY))

    def answers(self, spec: DeviceSpec, request: Request, reply: Any) -> bool:
        """Same address and SEQ, ACK or NAK."""
        return (
            isinstance(reply, hs.Frame)
            and reply.address == spec.address
            and reply.seq == request.message.seq
            and reply.command in (hs.Command.ACK, hs.Command.NAK)
        )

    def outcome(self, spec: DeviceSpec, request: Request, reply: hs.Frame) -> Outcome:
        """ACK (with an event or identity) or NAK (BSY: ask again)."""
        if reply.command == hs.Command.NAK:
            reason = reply.data.decode("ascii", errors="replace")
            if request.purpose == "identify" and reason == hs.Nak.COMMAND:
                return Outcome(ok=True)  # IDENTIFY is optional for devices
            return Outcome(ok=False, error=f"设备拒绝命令（{reason}）", retry=reason == hs.Nak.BUSY)
        if request.purpose == "poll":
            try:
                event = hs.parse_event(reply.data)
            except hs.FrameError:
                return Outcome(ok=False, error=f"无法识别的应答 {reply.data[:16]!r}")
            return Outcome(ok=True, events=(event,) if event else ())
        if request.purpose == "identify":
            return Outcome(ok=True, identity=hs.parse_identity(reply.data))
        return Outcome(ok=True)


@register
class ModbusLedDriver(Driver):
    """modbus-led: generic LED-485 displays over Modbus-RTU (register map in devices/protocols/modbus_led.py)."""

    name = "modbus-led"
    kinds = frozenset({"led"})
    addresses = (1, 247)
    encoding = "gb2312"
    options = frozenset({"number_register", "text_register", "text_registers"})

    @classmethod
    def register_map(cls, spec: DeviceSpec) -> mb.RegisterMap:
        """The device's register map (defaults, overridden by its settings)."""
        return mb.RegisterMap(
            number_register=int(spec.options.get("number_register", 0x0000)),
            text_register=int(spec.options.get("text_register", 0x0010)),
            text_registers=int(spec.options.get("text_registers", 32)),
            encoding=spec.encoding,
        )

    @classmethod
    def validate(cls, spec: DeviceSpec) -> None:
        """The register map must make sense."""
        try:
            cls.register_map(spec)
        except (TypeError, LookupError) as exc:
            raise ValueError(f"bad register map: {exc}") from None

    def decoder(self) -> mb.ReplyDecoder:
        """RTU answers."""
        return mb.ReplyDecoder()

    def poll(self, spec: DeviceSpec) -> Request:
        """FC03 read of the number register."""
        pdu = mb.heartbeat_request(spec.address, self.register_map(spec))
        return Request("poll", pdu, mb.build(pdu))

    def display(self, spec: DeviceSpec, number: str, text: str) -> list[Request]:
        """Two FC16 writes: number, then message."""
        return [
            Request("display", pdu, mb.build(pdu))
            for pdu in mb.display_requests(spec.address, number, text, self.register_map(spec))
        ]

    def answers(self, spec: DeviceSpec, request: Request, reply: Any) -> bool:
        """Same unit and function (or its exception), matching address/count."""
        return mb.answers(request.message, reply)

    def outcome(self, spec: DeviceSpec, request: Request, reply: Any) -> Outcome:
        """A normal answer is done; an exception is an error (busy codes: ask again)."""
        problem = mb.exception_text(reply)
        if problem is None:
            return Outcome(ok=True)
        return Outcome(ok=False, error=problem, retry=reply.exception_code in mb.BUSY_CODES)
