"""hall-serial: the project's line protocol for LED strips, rating pads and keypads (pure framing, no I/O).

docs/devices.md is the specification a device maker implements; this module is its reference implementation.
One frame, in both directions::

    STX  ADDR  SEQ  CMD  DATA…  ETX  CRC   LF
    02   "01"  "1A" "D"  0–200  03   "3F2B" 0A
         bytes   (ADDR, SEQ: 2 upper-case hex digits; CMD: one letter; CRC: 4 upper-case hex digits)

The CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF; ``binascii.crc_hqx``) over ADDR…DATA. DATA bytes are
0x20–0xFF only: text is GB18030, whose multi-byte sequences never contain a byte below 0x30, so STX, ETX and LF
can only appear as frame delimiters and a receiver finds frames without unescaping anything.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from enum import StrEnum

STX, ETX, LF = 0x02, 0x03, 0x0A
BROADCAST = 0xFF  # host → every device on the line; nobody answers
MAX_DATA = 200
MIN_FRAME = 12  # STX + ADDR(2) + SEQ(2) + CMD + ETX + CRC(4) + LF
MAX_FRAME = MIN_FRAME + MAX_DATA
NUMBER_MAX = 8  # characters of a ticket number in a DISPLAY command
_HEX2 = re.compile(rb"[0-9A-F]{2}")
_HEX4 = re.compile(rb"[0-9A-F]{4}")


class Command(StrEnum):
    """The command letter of a frame."""

    POLL = "P"  # host → device: heartbeat; the reply carries at most one queued event
    DISPLAY = "D"  # host → device: show a number and a text
    IDENTIFY = "I"  # host → device: which kind of device are you (optional for devices)
    ACK = "A"  # device → host: done (DATA: the answer, if any)
    NAK = "N"  # device → host: not done (DATA: a reason code)


class Nak(StrEnum):
    """Reason codes a device puts in a NAK."""

    COMMAND = "CMD"  # unknown command
    ARGUMENT = "ARG"  # malformed DATA
    BUSY = "BSY"  # cannot do it now; the host retries


# Keypad keys (呼叫器) as they travel in a poll reply ``K<key>``, and what they ask the hall to do.
KEYS: dict[str, str] = {
    "N": "call_next",  # 叫号
    "R": "recall",  # 重呼
    "S": "no_show",  # 过号
    "P": "pause",  # 暂停 / 恢复
}
SCORES = range(1, 6)  # rating pad (评价器) buttons: 1 非常不满意 … 5 非常满意


class FrameError(ValueError):
    """Bytes that are not one valid frame (bad delimiters, hex, CRC or DATA)."""


@dataclass(frozen=True)
class Frame:
    """One frame: the device's address, the host's sequence number, the command letter and its DATA."""

    address: int
    seq: int
    command: str
    data: bytes = b""


@dataclass(frozen=True)
class KeyPress:
    """A keypad key was pressed (``key`` is a KEYS letter)."""

    key: str

    @property
    def action(self) -> str:
        """What the key asks for: call_next, recall, no_show or pause."""
        return KEYS[self.key]


@dataclass(frozen=True)
class RatingPress:
    """A rating pad button was pressed (1–5)."""

    score: int


Event = KeyPress | RatingPress


@dataclass(frozen=True)
class Identity:
    """What a device says it is in its IDENTIFY answer."""

    kind: str
    model: str = ""
    version: str = ""


def crc(body: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``body`` (``crc(b"123456789") == 0x29B1``)."""
    return binascii.crc_hqx(body, 0xFFFF)


def encode(frame: Frame) -> bytes:
    """The bytes of one frame; ValueError for a field out of range."""
    if not 0 <= frame.address <= 0xFF or not 0 <= frame.seq <= 0xFF:
        raise ValueError(f"address and seq must be 0–255, not {frame.address}, {frame.seq}")
    if len(frame.command) != 1 or not "A" <= frame.command <= "Z":
        raise ValueError(f"command must be one letter A–Z, not {frame.command!r}")
    if len(frame.data) > MAX_DATA:
        raise ValueError(f"DATA is {len(frame.data)} bytes, at most {MAX_DATA}")
    if any(b < 0x20 for b in frame.data):
        raise ValueError("DATA may not contain control bytes (below 0x20)")
    body = b"%02X%02X" % (frame.address, frame.seq) + frame.command.encode() + frame.data
    return bytes([STX]) + body + bytes([ETX]) + b"%04X" % crc(body) + bytes([LF])


def decode(raw: bytes) -> Frame:
    """One whole frame, STX to LF; FrameError says what is wrong."""
    if len(raw) < MIN_FRAME or len(raw) > MAX_FRAME:
        raise FrameError(f"frame length {len(raw)}")
    if raw[0] != STX or raw[-1] != LF or raw[-6] != ETX:
        raise FrameError("delimiters")
    body, check = raw[1:-6], raw[-5:-1]
    if not _HEX4.fullmatch(check):
        raise FrameError("CRC is not 4 upper-case hex digits")
    if int(check, 16) != crc(body):
        raise FrameError("CRC mismatch")
    if not _HEX2.fullmatch(body[0:2]) or not _HEX2.fullmatch(body[2:4]):
        raise FrameError("address or seq is not 2 upper-case hex digits")
    command = body[4:5]
    if not b"A" <= command <= b"Z":
        raise FrameError("command is not a letter")
    data = body[5:]
    if any(b < 0x20 for b in data):
        raise FrameError("control byte in DATA")
    return Frame(int(body[0:2], 16), int(body[2:4], 16), command.decode(), data)


class Decoder:
    """Finds frames in a byte stream fed in arbitrary pieces; noise and corrupt frames are counted, not raised."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.errors = 0  # corrupt or truncated frames dropped so far

    def feed(self, data: bytes) -> list[Frame]:
        """The frames completed by ``data``."""
        out: list[Frame] = []
        for b in data:
            if b == STX:
                if self._buf:
                    self.errors += 1  # a frame cut short by the next one
                self._buf = bytearray((STX,))
                continue
            if not self._buf:
                continue  # noise between frames
            self._buf.append(b)
            if b == LF:
                try:
                    out.append(decode(bytes(self._buf)))
                except FrameError:
                    self.errors += 1
                self._buf = bytearray()
            elif len(self._buf) >= MAX_FRAME:
                self.errors += 1
                self._buf = bytearray()
        return out

    def reset(self) -> None:
        """Forget a partial frame."""
        self._buf = bytearray()


def decode_all(data: bytes) -> list[Frame]:
    """Every valid frame in ``data`` (convenience for tests and tools)."""
    return Decoder().feed(data)


# --- DATA of each command -------------------------------------------------------------------------
def clean_text(text: str) -> str:
    """Text as a strip can show it: control characters become spaces (they may not travel in DATA)."""
    return "".join(" " if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in text)


def _fit(text: str, encoding: str, limit: int) -> bytes:
    """``text`` encoded, cut at a character boundary to at most ``limit`` bytes; unencodable characters → '?'."""
    out = b""
    for ch in clean_text(text):
        piece = ch.encode(encoding, errors="replace")
        if len(out) + len(piece) > limit:
            break
        out += piece
    return out


def display_data(number: str, text: str, encoding: str = "gb18030") -> bytes:
    """DATA of DISPLAY: the ticket number (ASCII, up to 8 characters, may be empty), a comma, then the text."""
    num = "".join(ch for ch in number if ch.isascii() and (ch.isalnum() or ch == "-"))[:NUMBER_MAX]
    head = num.encode("ascii") + b","
    return head + _fit(text, encoding, MAX_DATA - len(head))


def parse_display(data: bytes, encoding: str = "gb18030") -> tuple[str, str]:
    """The (number, text) of a DISPLAY command; FrameError when there is no comma."""
    number, sep, text = data.partition(b",")
    if not sep or len(number) > NUMBER_MAX or not number.isascii():
        raise FrameError("DISPLAY data is not <number>,<text>")
    return number.decode("ascii"), text.decode(encoding, errors="replace")


def event_data(event: Event | None) -> bytes:
    """DATA of a POLL answer: ``K<key>``, ``R<score>`` or nothing."""
    if event is None:
        return b""
    if isinstance(event, KeyPress):
        if event.key not in KEYS:
            raise ValueError(f"unknown key {event.key!r}")
        return b"K" + event.key.encode()
    if event.score not in SCORES:
        raise ValueError(f"score must be 1–5, not {event.score}")
    return b"R%d" % event.score


def parse_event(data: bytes) -> Event | None:
    """The event in a POLL answer (None: nothing to report); FrameError for anything else."""
    if not data:
        return None
    if len(data) == 2 and data[:1] == b"K" and data[1:].decode("ascii", "replace") in KEYS:
        return KeyPress(data[1:].decode())
    if len(data) == 2 and data[:1] == b"R" and data[1:].isdigit() and int(data[1:]) in SCORES:
        return RatingPress(int(data[1:]))
    raise FrameError(f"unknown event {data!r}")


def identity_data(identity: Identity) -> bytes:
    """DATA of an IDENTIFY answer: ``<kind>,<model>,<version>`` in ASCII."""
    return ",".join((identity.kind, identity.model, identity.version)).encode("ascii", errors="replace")[:MAX_DATA]


def parse_identity(data: bytes) -> Identity:
    """The identity in an IDENTIFY answer."""
    parts = data.decode("ascii", errors="replace").split(",")
    return Identity(*(parts + ["", ""])[:3])
