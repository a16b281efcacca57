"""The 绿色通道 priority groups and their names: the one place kiosk, slip, counter and dashboard take them from."""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - the gettext marker pybabel extracts by default
    """Mark a name for translation (pages translate it; the slip prints the Chinese)."""
    return text


# Names as the hall's rules give them (see /work/shared/domain.md: 台胞侨胞, not 港澳台同胞).
NAMES = {
    "elderly": N_("老年人"),
    "disabled": N_("残疾人"),
    "veteran": N_("退役军人"),
    "military": N_("军人军属"),
    "talent": N_("高层次人才"),
    "compatriot": N_("台胞侨胞"),
}
GROUPS = tuple(NAMES)
