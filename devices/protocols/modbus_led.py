"""modbus-led: generic LED-485 window displays over Modbus-RTU (pure framing, no I/O).

Frames and CRCs come from pymodbus (``FramerRTU`` with its PDU classes); this module only decides which
registers hold what. The register map (docs/devices.md), all holding registers, big-endian::

    0x0000          the ticket number's digits as an integer (A012 → 12; 0 = blank), for numeric displays
    0x0001–0x0004   the ticket number as ASCII, 8 bytes, two per register, high byte first, space padded
    0x0010–0x002F   the message, GB2312, 64 bytes (32 Hanzi), two per register, high byte first, space padded

A display update is two Write Multiple Registers (FC16) requests, number then message; the heartbeat reads
register 0x0000 (FC03). Addresses, the message length and the encoding are configurable per device.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from typing import Any

from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
)

log = logging.getLogger(__name__)

NUMBER_CHARS = 8
MAX_WRITE = 123  # registers in one FC16 request (Modbus limit)
MAX_BUFFER = 512  # bytes kept while hunting for a frame in noise
# Modbus exception codes that mean "try again" rather than "never".
BUSY_CODES = frozenset({5, 6})  # acknowledge (long operation), server device busy
EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
}


@dataclass(frozen=True)
class RegisterMap:
    """Where a display keeps the number and the message, and how it encodes text."""

    number_register: int = 0x0000
    text_register: int = 0x0010
    text_registers: int = 32
    encoding: str = "gb2312"

    def __post_init__(self) -> None:
        if not 0 <= self.number_register <= 0xFFFF - 4 or not 0 <= self.text_register <= 0xFFFF:
            raise ValueError("register addresses must be 0–65535")
        if not 1 <= self.text_registers <= MAX_WRITE:
            raise ValueError(f"text_registers must be 1–{MAX_WRITE}")
        overlap = range(self.number_register, self.number_register + 5)
        if self.text_register in overlap or self.number_register in range(
            self.text_register, self.text_register + self.text_registers
        ):
            raise ValueError("the number and text registers overlap")
        "".encode(self.encoding)  # LookupError for an unknown encoding


def number_value(number: str) -> int:
    """The digits of a ticket number as an integer for numeric displays (A012 → 12, "" → 0)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return min(int(digits), 0xFFFF) if digits else 0


def pack_bytes(data: bytes, registers: int) -> list[int]:
    """``data`` padded with spaces (0x20) to ``registers`` × 2 bytes, two per register, high byte first."""
    data = data[: registers * 2].ljust(registers * 2, b" ")
    return list(struct.unpack(f">{registers}H", data))


def unpack_bytes(registers: list[int]) -> bytes:
    """The bytes held in ``registers`` (high byte first)."""
    return struct.pack(f">{len(registers)}H", *registers)


def fit_text(text: str, size: int, encoding: str) -> bytes:
    """``text`` encoded, cut at a character boundary to at most ``size`` bytes; unencodable characters → '?'."""
    out = b""
    for ch in text:
        piece = (" " if ord(ch) < 0x20 else ch).encode(encoding, errors="replace")
        if len(out) + len(piece) > size:
            break
        out += piece
    return out


def number_registers(number: str) -> list[int]:
    """The five registers from ``number_register``: the digits as an integer, then the number in ASCII."""
    ascii_number = "".join(ch for ch in number if ch.isascii() and ch.isprintable())[:NUMBER_CHARS]
    return [number_value(number), *pack_bytes(ascii_number.encode("ascii"), NUMBER_CHARS // 2)]


def text_registers(text: str, regmap: RegisterMap) -> list[int]:
    """The message registers for ``text``."""
    return pack_bytes(fit_text(text, regmap.text_registers * 2, regmap.encoding), regmap.text_registers)


def parse_number(registers: list[int]) -> str:
    """The ticket number kept in the five number registers."""
    return unpack_bytes(registers[1:5]).decode("ascii", errors="replace").rstrip(" \x00")


def parse_text(registers: list[int], encoding: str = "gb2312") -> str:
    """The message kept in the text registers (padding removed)."""
    return unpack_bytes(registers).rstrip(b" \x00").decode(encoding, errors="replace")


def build(pdu: ModbusPDU) -> bytes:
    """One RTU frame (unit id, PDU, CRC) for a request or a response."""
    return FramerRTU(DecodePDU(False)).buildFrame(pdu)


def display_requests(unit: int, number: str, text: str, regmap: RegisterMap) -> list[WriteMultipleRegistersRequest]:
    """The two FC16 writes that show ``number`` and ``text``."""
    return [
        WriteMultipleRegistersRequest(address=regmap.number_register, registers=number_registers(number), dev_id=unit),
        WriteMultipleRegistersRequest(
            address=regmap.text_register, registers=text_registers(text, regmap), dev_id=unit
        ),
    ]


def heartbeat_request(unit: int, regmap: RegisterMap) -> ReadHoldingRegistersRequest:
    """FC03 reading the number register: any proper answer means the display is alive."""
    return ReadHoldingRegistersRequest(address=regmap.number_register, count=1, dev_id=unit)


def answers(request: ModbusPDU, reply: ModbusPDU) -> bool:
    """Whether ``reply`` is the answer (or the exception answer) to ``request``."""
    if reply.dev_id != request.dev_id:
        return False
    if isinstance(reply, ExceptionResponse):
        return reply.function_code & 0x7F == request.function_code
    if reply.function_code != request.function_code:
        return False
    if isinstance(request, WriteMultipleRegistersRequest):
        return (reply.address, reply.count) == (request.address, request.count)
    if isinstance(request, ReadHoldingRegistersRequest):
        return len(reply.registers) == request.count
    return True


def exception_text(reply: ModbusPDU) -> str | None:
    """A short description when ``reply`` is a Modbus exception, else None."""
    if not isinstance(reply, ExceptionResponse):
        return None
    return f"Modbus exception {reply.exception_code} ({EXCEPTION_NAMES.get(reply.exception_code, 'unknown')})"


class _Decoder:
    """RTU frames out of a byte stream fed in pieces (pymodbus's framer hunts past noise, checks the CRC)."""

    def __init__(self, server: bool) -> None:
        self._framer = FramerRTU(DecodePDU(server))
        self._buf = b""
        self.errors = 0

    def feed(self, data: bytes) -> list[ModbusPDU]:
        """The PDUs completed by ``data`` (each with ``dev_id`` set to its unit id)."""
        self._buf = (self._buf + data)[-MAX_BUFFER:]
        out: list[ModbusPDU] = []
        skipping = False
        while self._buf:
            try:
                used, pdu = self._framer.handleFrame(self._buf, 0, 0)
            except (ModbusException, struct.error, IndexError, ValueError) as exc:
                log.debug("undecodable Modbus frame: %s", exc)
                used, pdu = 1, None
            if not used:
                break  # an incomplete frame: wait for more bytes
            if pdu is None:
                # A CRC failure: the framer would drop the whole buffer, valid frames after the noise included.
                # Step one byte and look again instead; one error per stretch of noise.
                self._buf = self._buf[1:]
                self.errors += 0 if skipping else 1
                skipping = True
                continue
            skipping = False
            # The RTU framer reports the whole buffer as used even when another frame follows (a master
            # expects one answer per request); keep what comes after this frame's own bytes.
            frame = self._framer.buildFrame(pdu)
            at = self._buf.find(frame)
            self._buf = self._buf[at + len(frame) :] if at >= 0 else self._buf[used:]
            out.append(pdu)
        return out

    def reset(self) -> None:
        """Forget buffered bytes."""
        self._buf = b""


class ReplyDecoder(_Decoder):
    """The master's side: answers from displays."""

    def __init__(self) -> None:
        super().__init__(server=False)


class RequestDecoder(_Decoder):
    """The display's side (emulators): requests from the master."""

    def __init__(self) -> None:
        super().__init__(server=True)


def write_response(request: WriteMultipleRegistersRequest) -> WriteMultipleRegistersResponse:
    """The normal answer to an FC16 write (echoes address and count)."""
    return WriteMultipleRegistersResponse(address=request.address, count=request.count, dev_id=request.dev_id)


def read_response(unit: int, registers: list[int]) -> ReadHoldingRegistersResponse:
    """The normal answer to an FC03 read."""
    return ReadHoldingRegistersResponse(registers=registers, dev_id=unit)


def exception_response(request: Any, code: int) -> ExceptionResponse:
    """An exception answer (e.g. 2: illegal data address)."""
    return ExceptionResponse(request.function_code, code, device_id=request.dev_id)
