"""Every user-facing string marked for translation has an English text (Chinese first, English second)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_marked_string_is_translated(tmp_path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "hall/translations/babel.cfg",
            "-o",
            str(pot),
            "hall",
            "display",
            "kiosk",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (ROOT / "hall/translations/en/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    missing = sorted(i for i in wanted if i not in catalog or not catalog[i].string or catalog[i].fuzzy)
    assert not missing, f"add English for these (pybabel extract/update, see docs): {missing}"


def test_no_english_text_has_a_bare_percent_sign() -> None:
    """Jinja's gettext always applies ``%`` formatting: "90% of" raised a TypeError (a 500 on /manager/reports)."""
    import re

    with (ROOT / "hall/translations/en/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh)
    bare = [m.id for m in catalog if m.id and re.search(r"%(?!\(\w+\)s|%)", m.string or "")]
    assert not bare, f"write '%%' or avoid '%' in these English texts: {bare}"
