"""The ticket slip as printer-agnostic blocks: what goes on paper, in which order and size.

devices/printer.py turns the blocks into ESC/POS; tests read them back. No printer code here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PRIORITY_NAMES = {
    "elderly": "老年人",
    "disabled": "残疾人",
    "veteran": "退役军人",
    "military": "军人军属",
    "talent": "高层次人才",
    "compatriot": "港澳台同胞",
}


@dataclass(frozen=True)
class Text:
    """A line of text; ``size`` is the GS ! magnification (1–8)."""

    text: str
    size: int = 1
    bold: bool = False
    align: str = "left"


@dataclass(frozen=True)
class Rule:
    """A full-width separator line."""


@dataclass(frozen=True)
class QR:
    """A QR code of ``data``; ``size`` is the module size in dots."""

    data: str
    size: int = 6


@dataclass(frozen=True)
class Feed:
    """Blank lines before the cut."""

    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """Cut the paper."""


Block = Text | Rule | QR | Feed | Cut


def columns(width_mm: int) -> int:
    """Characters per line in the normal font: 48 on 80 mm paper, 32 on 58 mm (a Hanzi takes two)."""
    return 48 if width_mm == 80 else 32


def text_width(text: str) -> int:
    """Printed width in columns: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Break text into lines of at most ``width`` columns (by character: Chinese has no spaces)."""
    lines: list[str] = []
    line, used = "", 0
    for ch in text:
        w = text_width(ch)
        if used + w > width and line:
            lines.append(line)
            line, used = "", 0
        line += ch
        used += w
    if line or not lines:
        lines.append(line)
    return lines


def safe_id(id_masked: str | None) -> str | None:
    """Never print a full ID number: keep the first 4 and last 4 if the stored value is not masked."""
    if not id_masked:
        return None
    if "*" in id_masked:
        return id_masked
    return id_masked[:4] + "*" * max(0, len(id_masked) - 8) + id_masked[-4:]


def _issued(ticket: dict[str, Any]) -> str:
    try:
        return datetime.fromisoformat(ticket["issued_at"]).strftime("%Y-%m-%d %H:%M")
    except (KeyError, TypeError, ValueError):
        return ""


def build_receipt(
    ticket: dict[str, Any],
    *,
    hall_name: str,
    width_mm: int = 80,
    notice: str | None = None,
    max_materials: int = 4,
) -> list[Block]:
    """The slip for a ticket view (the API's ticket dict with ``track_url``)."""
    cols = columns(width_mm)
    big = 4 if width_mm == 80 else 3  # the number as large as the paper allows (5 characters at size 4 on 80 mm)

    def lines(text: str, **style: Any) -> list[Block]:
        size = style.get("size", 1)
        return [Text(part, **style) for part in wrap(text, cols // size)]

    items = ticket.get("items") or []
    out: list[Block] = [*lines(hall_name, bold=True, align="center"), Rule()]
    out.append(Text(ticket["number"], size=big, bold=True, align="center"))
    if ticket.get("joint"):
        out += lines("【一件事联办】", bold=True, align="center")
    if ticket.get("priority"):
        group = PRIORITY_NAMES.get(ticket["priority"], ticket["priority"])
        out += lines(f"【绿色通道·{group}】", bold=True, align="center")
    for item in items:
        out += lines(f"办理事项：{item['name']}")
    ahead = ticket.get("people_ahead")
    if ahead is not None:
        out += lines(f"前面还有 {ahead} 人")
    eta = ticket.get("eta_minutes")
    if eta:
        out += lines(f"预计等候 {eta['low']}–{eta['high']} 分钟")
    issued = _issued(ticket)
    if issued:
        out += lines(f"取号时间：{issued}")
    masked = safe_id(ticket.get("id_masked"))
    if masked:
        out += lines(f"证件号：{masked}")
    materials = [m for item in items for m in (item.get("materials") or [])][:max_materials]
    if materials:
        out.append(Rule())
        out += lines("请备齐以下材料：", bold=True)
        for n, m in enumerate(materials, 1):
            out += lines(f"{n}. {m}")
    out.append(Rule())
    if ticket.get("track_url"):
        out.append(QR(ticket["track_url"], size=6 if width_mm == 80 else 5))
        out += lines("扫码查看排队进度", align="center")
    if notice:
        out += lines(notice, align="center")
    out += [Feed(3), Cut()]
    return out
