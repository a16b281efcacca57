"""The ticket slip as printer-agnostic blocks: what goes on paper, in which order and at which size.

devices/printer.py turns the blocks into ESC/POS bytes; tests read them back. No printer code here, so the
layout can be checked (line widths, sizes, what is masked) without a printer or python-escpos.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hall.priority_groups import NAMES

# The hall's green-channel groups as printed on the slip (the same names as on every screen).
PRIORITY_NAMES = NAMES

ALIGNS = ("left", "center", "right")
# Largest GS ! magnification for the ticket number per paper width (the brief's 80 mm: 4, 58 mm: 3).
NUMBER_SIZE = {80: 4, 58: 3}


@dataclass(frozen=True)
class Text:
    """One printed line; ``size`` is the GS ! magnification (1–8, width and height alike)."""

    text: str
    size: int = 1
    bold: bool = False
    align: str = "left"

    def __post_init__(self) -> None:
        if not 1 <= self.size <= 8:
            raise ValueError(f"text size must be 1–8, not {self.size}")
        if self.align not in ALIGNS:
            raise ValueError(f"align must be one of {', '.join(ALIGNS)}, not {self.align!r}")


@dataclass(frozen=True)
class Rule:
    """A full-width separator line."""


@dataclass(frozen=True)
class QR:
    """A QR code of ``data``; ``size`` is the module size in dots (1–16)."""

    data: str
    size: int = 6


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """Cut the paper."""


Block = Text | Rule | QR | Feed | Cut


def columns(width_mm: int) -> int:
    """Columns per line in the normal font: 48 on 80 mm paper, 32 on 58 mm (a Hanzi takes two)."""
    if width_mm not in NUMBER_SIZE:
        raise ValueError(f"paper width must be 58 or 80 mm, not {width_mm}")
    return 48 if width_mm == 80 else 32


def char_width(ch: str) -> int:
    """Printed columns of one character.

    Chinese printers print every multi-byte GB character double width, including "ambiguous" ones such as
    '–', '·' or '：', so anything outside ASCII counts two (combining marks none): a line may come out a little
    short, never wrapped by the printer in the middle of a word.
    """
    if ch < "\x80":
        return 1
    if unicodedata.combining(ch):
        return 0
    return 2


def text_width(text: str) -> int:
    """Printed width of ``text`` in columns."""
    return sum(char_width(ch) for ch in text)


def clean(text: str) -> str:
    """Text safe to send to a printer: control characters (ESC, GS, LF …) become spaces.

    Item names, notices and materials come from configuration and callers; a stray ESC or GS would be a
    printer command, not text.
    """
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in str(text))


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Break ``text`` into lines of at most ``width`` columns; continuation lines start with ``indent``.

    Chinese has no spaces, so lines break between any two characters; an ASCII word (a number, a URL part)
    is kept whole when it fits on a line of its own.
    """
    width = max(1, width)
    if text_width(indent) >= width:
        indent = ""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"[!-~]+|.", clean(text)):  # runs of printable ASCII, else single characters
        if text_width(line + token) <= width:
            line += token
            continue
        # a word longer than a line breaks anywhere
        too_long = len(token) > 1 and text_width(token) > width - text_width(indent)
        chunks = list(token) if too_long else [token]
        for chunk in chunks:
            if line.strip(" ") and text_width(line + chunk) > width:
                lines.append(line.rstrip(" "))
                line = indent
            if not line.strip(" ") and chunk == " ":
                continue  # no line starts with the space it was broken at
            line += chunk
    if line.strip(" ") or not lines:
        lines.append(line.rstrip(" "))
    return lines


def safe_id(id_masked: str | None) -> str | None:
    """The ID as it may be printed: never a full number.

    The API masks it already; if a value without any '*' gets here (15- or 18-character ID numbers), only the
    first 4 and last 4 characters are kept.
    """
    if not id_masked:
        return None
    value = clean(id_masked).strip()
    if "*" in value:
        return value
    if len(value) > 8:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    if len(value) > 4:
        return "*" * (len(value) - 4) + value[-4:]
    return "*" * len(value)


def issued_time(issued_at: str | None, timezone: str | None = None) -> str:
    """``YYYY-MM-DD HH:MM`` in the hall's ``timezone`` (the API's times are UTC), or '' when absent or bad.

    Without a zone (or an unknown one) the time is printed in the zone the ISO time carries.
    """
    if not issued_at:
        return ""
    try:
        at = datetime.fromisoformat(issued_at)
    except (TypeError, ValueError):
        return ""
    if timezone and at.tzinfo is not None:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            at = at.astimezone(ZoneInfo(timezone))
    return at.strftime("%Y-%m-%d %H:%M")


def number_size(number: str, width_mm: int) -> int:
    """The largest size the ticket number fits the paper at (at most 4 on 80 mm, 3 on 58 mm)."""
    cols = columns(width_mm)
    size = NUMBER_SIZE[width_mm]
    while size > 1 and text_width(number) * size > cols:
        size -= 1
    return size


def build_receipt(
    ticket: dict[str, Any],
    *,
    hall_name: str,
    width_mm: int = 80,
    notice: str | None = None,
    max_materials: int = 4,
    timezone: str | None = None,
) -> list[Block]:
    """The slip for a ticket view (the API's ticket dict, with ``track_url``), as blocks for any printer.

    ``timezone`` is the hall's zone: the issue time is printed as the hall's clock shows it.
    """
    cols = columns(width_mm)

    def lines(text: str, *, size: int = 1, bold: bool = False, align: str = "left", indent: str = "") -> list[Block]:
        return [Text(part, size=size, bold=bold, align=align) for part in wrap(text, cols // size, indent)]

    items = [item for item in ticket.get("items") or [] if isinstance(item, dict)]
    number = clean(ticket.get("number") or "").strip()
    out: list[Block] = [*lines(hall_name, bold=True, align="center"), Rule()]

    size = number_size(number, width_mm)
    out += lines(number, size=size, bold=True, align="center")

    names = [clean(item.get("name") or item.get("code") or "").strip() for item in items]
    names = [name for name in names if name]
    if ticket.get("appointment"):
        out += lines("【预约】", bold=True, align="center")
    if ticket.get("joint"):
        out += lines("【一件事联办】", bold=True, align="center")
    if len(names) == 1:
        out += lines(f"办理事项：{names[0]}", indent="  ")
    elif names:
        out += lines("办理事项：")
        for n, name in enumerate(names, 1):
            out += lines(f"{n}. {name}", indent="   ")

    priority = ticket.get("priority")
    if priority:
        group = PRIORITY_NAMES.get(priority, clean(priority))
        out += lines(f"【绿色通道·{group}】", bold=True, align="center")
        if ticket.get("priority_verified") is False:  # 跳过 at the kiosk, or a group an ID cannot prove
            out += lines("待核验：请向窗口出示身份证或相关证件", align="center")

    ahead = ticket.get("people_ahead")
    if isinstance(ahead, int):
        out += lines(f"前面还有 {ahead} 人")
    eta = ticket.get("eta_minutes")
    if isinstance(eta, dict) and eta.get("low") is not None and eta.get("high") is not None:
        low, high = int(eta["low"]), int(eta["high"])
        out += lines(f"预计等候 {low} 分钟" if low == high else f"预计等候 {low}–{high} 分钟")
    issued = issued_time(ticket.get("issued_at"), timezone)
    if issued:
        out += lines(f"取号时间：{issued}")

    materials = [clean(m).strip() for item in items for m in (item.get("materials") or [])]
    materials = [m for m in materials if m]
    if materials and max_materials > 0:
        out.append(Rule())
        out += lines("请备齐以下材料：", bold=True)
        for n, material in enumerate(materials[:max_materials], 1):
            out += lines(f"{n}. {material}", indent="   ")
        if len(materials) > max_materials:
            out += lines(f"……共 {len(materials)} 项，扫码查看全部")

    masked = safe_id(ticket.get("id_masked"))
    if masked:
        out += lines(f"证件号：{masked}")

    out.append(Rule())
    track_url = ticket.get("track_url")
    if track_url:
        out.append(QR(track_url, size=6 if width_mm == 80 else 5))
        out += lines("扫码查看排队进度", align="center")
    if notice:
        out += lines(notice, align="center")
    # cut() feeds the last lines past the cutter itself; this is the margin below the notice.
    out += [Feed(2), Cut()]
    return out
