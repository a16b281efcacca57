"""Every page as people see it, in real Chromium: each state × size × language × mode, five checks each.

The table of states is ``tests/e2e/pages.py`` (shared with ``make screens``). Each state is opened once per
language and measured; each check is its own test, so a failure names the page, size, language and check.
"""

from __future__ import annotations

import pytest
import requests

from bench.server import Server
from tests.e2e.pages import LANGS, PAGES, SERVER_ENV, STATES, Pages, State, describe, seed

pytestmark = pytest.mark.browser
CHECKS = ("overflow", "actions", "text", "wrap", "lang", "console", "requests", "axe")


def cases() -> list:
    """The table: states × languages × checks (the text size check only where the page has a minimum)."""
    out = []
    for state in STATES:
        for lang in LANGS:
            for check in CHECKS:
                if (check == "text" and not PAGES[state.page].min_text) or (
                    check == "wrap" and not PAGES[state.page].one_line
                ):
                    continue
                out.append(pytest.param(check, state, lang, id=f"{check}-{state.id}-{lang}"))
    return out


@pytest.fixture(scope="module")
def live_server():
    """The real server for the page checks: the seeded morning stays as seeded (no presence sweep)."""
    with Server(env=SERVER_ENV) as srv:
        yield srv


@pytest.fixture(scope="module")
def measured(browser, live_server):
    """Open each (state, language) once, measure it, run axe-core and close it; results are cached per module."""
    pages = Pages(browser, live_server.url, seed(live_server.url))
    cache: dict[tuple[str, str], dict] = {}

    def get(state: State, lang: str) -> dict:
        key = (state.id, lang)
        if key not in cache:
            loaded = pages.open(state, lang)
            try:
                result = pages.measure(loaded, state)
                result["axe"] = pages.axe(loaded)
                result["console"] = list(loaded.console_errors)
                result["requests"] = list(loaded.failed_requests)
            finally:
                loaded.context.close()
            cache[key] = result
        return cache[key]

    return get


@pytest.mark.parametrize(("check", "state", "lang"), cases())
def test_page(measured, check: str, state: State, lang: str) -> None:
    r = measured(state, lang)
    w, h = state.size
    if check == "overflow":
        assert r["overflow"] <= 0, f"page is {r['overflow']} px wider than the {w}×{h} screen"
    elif check == "actions":
        assert not r["offscreen"], "primary actions not on screen:\n" + describe(r["offscreen"])
    elif check == "text":
        assert not r["small"], f"text under {PAGES[state.page].min_text[1]:.0f} px:\n" + describe(r["small"])
    elif check == "wrap":
        assert not r["wrapped"], "text that must stay on one line wraps:\n" + describe(r["wrapped"])
    elif check == "lang":
        assert r["lang"].split("-")[0] == lang, f"<html lang={r['lang']!r}> on the {lang} page (screen readers)"
    elif check == "console":
        assert not r["console"], "console errors:\n" + describe(r["console"])
    elif check == "requests":
        assert not r["requests"], "failed requests:\n" + describe(r["requests"])
    else:
        assert not r["axe"], "axe-core serious/critical WCAG 2.1 AA violations:\n" + "\n".join(r["axe"])


def test_icon(measured) -> None:
    """Every page's icon (its <link rel=icon>, else /favicon.ico) loads: a 404 there is a console error."""
    icons = {measured(next(s for s in STATES if s.page == name), "zh")["icon"] for name in PAGES}
    missing = [url for url in sorted(icons) if requests.get(url, timeout=10).status_code != 200]
    assert not missing, missing
