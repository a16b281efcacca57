"""Real Chromium at 1920×1080, zh and en: the hall display and the dashboard read as wall screens (issue 14, 8–9).

Layout facts, measured in the page: the main call on one line, type sizes readable from the seats, a tile for
every window (空闲 for an open window nobody is being served at), the dashboard without scrolling.
"""

from __future__ import annotations

import pytest
import requests

from bench.server import staff_session

pytestmark = pytest.mark.browser
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}
WALL = {"width": 1920, "height": 1080}
FREE = {"zh": "空闲", "en": "Free"}


@pytest.fixture(scope="module")
def called(live_server):
    """Three tickets called at windows 1–3; window 5 paused; window 4 open, staffed and free."""
    url = live_server.url
    numbers = []
    for w in (1, 2, 3):
        r = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=10)
        assert r.status_code == 201, r.text
        call = staff_session(url, f"clerk{w}").post(f"{url}/api/v1/windows/{w}/call-next", timeout=10)
        numbers.append(call.json()["ticket"]["number"])
    assert staff_session(url, "clerk5").post(f"{url}/api/v1/windows/5/pause", timeout=10).status_code == 200
    # clerk4 signs in at window 4 (with presence a window counts only while someone is signed in there)
    staff_session(url, "clerk4").post(f"{url}/api/v1/windows/4/presence", timeout=10)
    return numbers


def _px(page, selector: str) -> float:
    return page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")


def _no_overflow(page) -> None:
    width, height = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert width <= WALL["width"] and height <= WALL["height"], (width, height)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hall_display_reads_from_the_seats(browser, live_server, called, lang, tmp_path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport=WALL)
    page.goto(f"{live_server.url}/display/hall?lang={lang}")
    expect(page.locator("#latest")).to_contain_text(called[-1], timeout=10000)
    expect(page.locator("#windows li")).to_have_count(9, timeout=5000)
    latest = page.locator("#latest")
    box, size = latest.bounding_box(), _px(page, "#latest")
    assert size >= 100 and box["height"] < 1.6 * size  # one line, in the largest type on the screen
    assert page.eval_on_selector("#latest", "el => el.scrollWidth <= el.clientWidth")  # not cut off either
    assert box["width"] > WALL["width"] / 2  # across the screen, not squeezed into its left third
    for sel in ("#recent li b", "#recent li span"):
        assert _px(page, sel) >= 40, sel  # the grid of last calls
    for sel in ("#queues li span", "#queues li b", "#windows li b", "#windows li .no"):
        assert _px(page, sel) >= 40, sel  # waiting counts per business, window states
    assert page.locator("#recent li").count() == 3 and page.locator("#queues li").count() >= 3
    # every window has a tile: the number being served, 空闲 when open and free, 已关闭 for the tidal ones
    tiles = page.locator("#windows li")
    assert tiles.nth(0).locator("b").inner_text() == called[0]
    assert tiles.nth(3).locator("b").inner_text() == FREE[lang]
    assert "closed" in tiles.nth(5).get_attribute("class") and "paused" in tiles.nth(4).get_attribute("class")
    for i in range(9):
        assert tiles.nth(i).locator("b").inner_text().strip(), i
        assert tiles.nth(i).evaluate("el => el.scrollWidth <= el.clientWidth"), i  # the state fits its tile
    # what the hall's window states can also be (presence, pause reasons): each one readable in its tile
    page.evaluate(
        """renderWindows([
          {number: 1, name: 'a', state: 'open', staffed: false, current: null},
          {number: 2, name: 'b', state: 'paused', pause_reason: 'away', current: null},
          {number: 12, name: 'c', state: 'open', staffed: true, current: {number: 'JR1234'}}])"""
    )
    expect(tiles).to_have_count(3)
    assert "unstaffed" in tiles.nth(0).get_attribute("class")
    assert tiles.nth(1).locator("small").inner_text() == {"zh": "临时离开", "en": "Away briefly"}[lang]
    for i in range(3):
        for part in tiles.nth(i).locator("b, small").all():
            assert part.evaluate("el => el.scrollWidth <= el.clientWidth"), (i, part.inner_text())
        assert _px(page, f"#windows li:nth-child({i + 1}) b") >= 40
    _no_overflow(page)
    page.screenshot(path=str(tmp_path / f"hall-{lang}.png"))
    # a longer call (two-letter prefix, a long English window name) shrinks the type and still takes one line
    page.eval_on_selector("#latest", "el => { el.textContent = 'JR1234 → Joint-service window 12'; }")
    page.wait_for_function("() => $('latest').scrollWidth <= $('latest').clientWidth")
    size = _px(page, "#latest")
    assert 60 <= size < 150 and page.locator("#latest").bounding_box()["height"] < 1.6 * size


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dashboard_fits_a_wall_screen(browser, live_server, called, lang, tmp_path) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=WALL)
    page = context.new_page()
    page.goto(f"{live_server.url}/manager?lang={lang}")
    page.fill("#login-form input[name=username]", "manager")
    page.fill("#login-form input[name=password]", "demo")
    page.click("#login-form button")
    expect(page.locator("#windows .win")).to_have_count(9, timeout=10000)
    _no_overflow(page)  # was 1396 px tall: the charts below the fold
    for canvas in ("#chart-arrivals", "#chart-wait", "#chart-satisfaction", "#chart-windows"):
        box = page.locator(canvas).bounding_box()
        assert box["height"] > 120 and box["y"] + box["height"] <= WALL["height"], canvas
    # nothing the manager needs is hidden inside a panel: every window card is whole on screen
    for i in range(9):
        card = page.locator("#windows .win").nth(i).bounding_box()
        panel = page.locator("#windows-panel").bounding_box()
        assert card["y"] + card["height"] <= panel["y"] + panel["height"], i
    page.screenshot(path=str(tmp_path / f"manager-{lang}.png"))
    context.close()
