"""Ticket numbers: per-queue prefix plus a daily sequence (A001). The counter row lives in the database."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def format_number(prefix: str, seq: int, digits: int = 3) -> str:
    """``format_number("A", 7) == "A007"``; grows past ``digits`` instead of wrapping (A1000)."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return f"{prefix}{seq:0{digits}d}"


def service_day(at: datetime, timezone: str = "Asia/Shanghai") -> date:
    """The hall's local calendar day for an aware instant (numbering restarts each day)."""
    return at.astimezone(ZoneInfo(timezone)).date()


def digits_spoken(number: str) -> str:
    """Spell the digits one by one in Hanzi for announcements: ``A001`` → ``A零零一``."""
    table = str.maketrans("0123456789", "零一二三四五六七八九")
    return number.translate(table)
