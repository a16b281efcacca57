"""Pinyin initials of item names and keywords, for searching on a touch kiosk without a Chinese keyboard."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


def _keep_latin(text: str) -> list[str]:
    """Letters and digits pass through as they are; punctuation (“”、（）) is dropped."""
    return [c.lower() for c in text if c.isascii() and c.isalnum()]


@lru_cache(maxsize=4096)
def initials(text: str) -> str:
    """The first letter of each syllable, lower case: 社会保障卡补换 → shbzkbh, "两病"用药认定 → lbyyrd."""
    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors=_keep_latin)).lower()
