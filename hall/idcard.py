"""Chinese resident ID numbers (居民身份证号码, GB 11643-1999): validation, age, masking (stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "IdInfo",
    "InvalidIdNumber",
    "is_elderly",
    "make_valid",
    "mask",
    "mask_name",
    "normalise",
    "parse",
]

# ISO 7064 MOD 11-2 weights for the first 17 digits, and the check character for each remainder.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_DIGITS = frozenset("0123456789")
_MIN_YEAR = 1900

_MESSAGES = {
    "id_format": "身份证号码应为18位",
    "id_checksum": "身份证号码校验位不正确，请核对",
    "id_birthdate": "身份证号码中的出生日期无效",
}


class InvalidIdNumber(ValueError):
    """An ID number that cannot be accepted; ``code`` is machine-readable, ``str(exc)`` is Chinese text."""

    def __init__(self, code: str, message: str | None = None) -> None:
        if code not in _MESSAGES:
            raise ValueError(f"unknown InvalidIdNumber code: {code!r}")
        self.code = code
        self.message = message or _MESSAGES[code]
        super().__init__(self.message)


@dataclass(frozen=True)
class IdInfo:
    """What an ID number says about its holder: birth date, sex and the 6-digit region code."""

    birth_date: date
    sex: str  # "male" / "female"
    region: str

    def age_on(self, day: date) -> int:
        """Age in full years on ``day`` (the birthday itself counts; 29 Feb births turn on 1 Mar)."""
        if day < self.birth_date:
            raise ValueError("day is before the birth date")
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


def normalise(number: str) -> str:
    """Remove all whitespace and upper-case the check character (``x`` → ``X``)."""
    return "".join(str(number).split()).upper()


def _is_digits(text: str) -> bool:
    # str.isdigit() would also accept full-width and other Unicode digits.
    return bool(text) and all(ch in _DIGITS for ch in text)


def _check_char(prefix17: str) -> str:
    total = sum(int(ch) * weight for ch, weight in zip(prefix17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def make_valid(prefix17: str) -> str:
    """Append the MOD 11-2 check character to 17 digits (the birth date is not checked)."""
    prefix17 = normalise(prefix17)
    if len(prefix17) != 17 or not _is_digits(prefix17):
        raise InvalidIdNumber("id_format", "身份证号码前17位应为数字")
    return prefix17 + _check_char(prefix17)


def parse(number: str, *, today: date | None = None) -> IdInfo:
    """Validate an 18-character ID number and return its :class:`IdInfo`.

    Raises :class:`InvalidIdNumber` with code ``id_format`` (length/characters; 15-digit legacy numbers
    are refused), ``id_checksum`` or ``id_birthdate`` (not a real date, before 1900, or after ``today``).
    """
    if not isinstance(number, str):
        raise InvalidIdNumber("id_format")
    text = normalise(number)
    if len(text) == 15 and _is_digits(text):
        raise InvalidIdNumber("id_format", "身份证号码应为18位，不支持15位旧号码")
    if len(text) != 18:
        raise InvalidIdNumber("id_format")
    body, check = text[:17], text[17]
    if not _is_digits(body) or not (check in _DIGITS or check == "X"):
        raise InvalidIdNumber("id_format", "身份证号码应为18位，前17位为数字，最后一位为数字或X")
    if _check_char(body) != check:
        raise InvalidIdNumber("id_checksum")
    year, month, day = int(body[6:10]), int(body[10:12]), int(body[12:14])
    try:
        birth = date(year, month, day)
    except ValueError:
        raise InvalidIdNumber("id_birthdate") from None
    if year < _MIN_YEAR or (today is not None and birth > today):
        raise InvalidIdNumber("id_birthdate")
    sex = "male" if int(body[16]) % 2 else "female"
    return IdInfo(birth_date=birth, sex=sex, region=body[:6])


def is_elderly(number: str, today: date, age: int = 65) -> bool:
    """True if the holder is at least ``age`` full years old on ``today``; invalid numbers raise."""
    return parse(number, today=today).age_on(today) >= age


def mask(number: str, keep_start: int = 4, keep_end: int = 4) -> str:
    """Hide the middle with ``*``, keeping length: ``1101**********1234``.

    If the string is too short to keep both ends, everything but the last character is masked.
    """
    if keep_start < 0 or keep_end < 0:
        raise ValueError("keep_start and keep_end must not be negative")
    text = str(number)
    if len(text) <= keep_start + keep_end:
        return "*" * (len(text) - 1) + text[-1:]
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + text[len(text) - keep_end :]


def mask_name(name: str) -> str:
    """Keep the first character (the surname) and mask the rest: ``张三`` → ``张*``; ``李`` → ``*``."""
    text = str(name).strip()
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 1)
