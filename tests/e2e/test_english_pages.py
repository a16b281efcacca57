"""Every page under ?lang=en, in real Chromium against the real server, shows no Chinese of its own.

Han characters may appear only where they are data (the hall's name, items, queues, windows, people, notices
from the hall's config) or deliberate (the language switch "中文"). Everything else is the page's own text and
must be English. The check reads what a person sees (innerText, select options, title attributes left out).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator

import pytest
import requests

from bench.server import ROOT, staff_session

pytestmark = pytest.mark.browser
HAN = re.compile(r"[\u3400-\u9fff]+")
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}
DELIBERATE = ["中文"]


def strings(value: object) -> Iterator[str]:
    """Every string inside a TOML value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


@pytest.fixture(scope="module")
def data_texts() -> list[str]:
    """Texts that come from the hall's data (longest first, so a name inside a longer one goes with it)."""
    config = tomllib.loads((ROOT / "hall/halls/demo.toml").read_text())
    found = {s for s in strings(config) if HAN.search(s)}
    for s in list(found):  # lists in config texts are also shown piece by piece (materials, keywords)
        found.update(p for p in re.split(r"[，、；。,;\s]+", s) if HAN.search(p))
    return sorted(found | set(DELIBERATE), key=len, reverse=True)


def own_chinese(text: str, data: list[str]) -> list[str]:
    """The Han runs left in ``text`` once data and deliberate texts are taken out."""
    for d in data:
        text = text.replace(d, " ")
    return HAN.findall(text)


def visible_text(page) -> str:
    """What a person can read: the body's innerText plus the options of visible selects."""
    return page.evaluate(
        """() => document.body.innerText + '\\n' +
        [...document.querySelectorAll('select')].flatMap(s => [...s.options].map(o => o.text)).join('\\n')"""
    )


@pytest.fixture(scope="module")
def english(browser, live_server):
    """A browser context that asked for English once (the choice sticks in a cookie)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
    page = context.new_page()
    page.goto(f"{live_server.url}/display/hall?lang=en")
    yield context
    context.close()


@pytest.fixture(scope="module")
def hall_state(live_server):
    """A called ticket at window 1 and a waiting one, so pages have something to show."""
    url = live_server.url
    tickets = []
    for _ in range(2):
        r = requests.post(f"{url}/api/v1/tickets?lang=en", json={"items": ["YB001"]}, headers=KIOSK, timeout=10)
        assert r.status_code == 201, r.text
        tickets.append(r.json()["ticket"])
    clerk = staff_session(url, "clerk1")
    assert clerk.post(f"{url}/api/v1/windows/1/call-next", timeout=10).status_code == 200
    return tickets


def log_in(page, url: str, path: str, username: str) -> None:
    """Open a staff page and log in through its form."""
    page.goto(f"{url}{path}?lang=en")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", "demo")
    page.click("#login-form button")


def check(page, data: list[str], what: str) -> None:
    """No Chinese of the page's own on screen."""
    left = own_chinese(visible_text(page), data)
    assert not left, f"{what}: Chinese left on the English page: {sorted(set(left))}"


def test_public_screens_are_english(english, live_server, hall_state, data_texts) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    page = english.new_page()
    page.goto(f"{url}/display/hall?lang=en")
    expect(page.locator("#latest")).to_contain_text(hall_state[0]["number"], timeout=5000)
    expect(page.locator("#latest")).to_contain_text("Window 1")
    check(page, data_texts, "hall display")
    page.goto(f"{url}/display/window/1?lang=en")
    expect(page.locator("#current")).to_contain_text(hall_state[0]["number"], timeout=5000)
    check(page, data_texts, "window display")
    page.goto(f"{url}/display/window/99?lang=en")
    check(page, data_texts, "missing window display")
    page.goto(hall_state[1]["track_url"] + "?lang=en")
    expect(page.locator("#status")).not_to_be_empty(timeout=5000)
    check(page, data_texts, "phone page")
    page.goto(f"{url}/rate/window/1?lang=en")
    page.wait_for_load_state("networkidle")
    check(page, data_texts, "rating tablet")


def test_kiosk_is_english_through_taking_a_ticket(english, live_server, data_texts) -> None:
    from playwright.sync_api import expect

    page = english.new_page()
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{live_server.url}/kiosk?device=demo-kiosk-1&lang=en")
    expect(page.locator("#home")).to_be_visible(timeout=5000)
    check(page, data_texts, "kiosk home")
    page.locator("#priority").click()
    expect(page.locator("#groups")).to_be_visible()
    check(page, data_texts, "kiosk 绿色通道 groups")
    page.locator("#groups .back").click()
    page.locator("#booking").click()
    expect(page.locator("#checkin")).to_be_visible()
    check(page, data_texts, "kiosk booking check-in")
    page.locator("#checkin .back").first.click()
    expect(page.locator("#home")).to_be_visible()
    page.locator("#categories button").first.click()
    page.locator("#cat-items button").first.click()
    expect(page.locator("#take")).to_be_visible(timeout=5000)
    check(page, data_texts, "kiosk item")
    page.locator("#take").click()
    expect(page.locator("#r-number")).to_have_text(re.compile(r"^[A-Z]\d{3}$"), timeout=5000)
    expect(page.locator("#r-print")).not_to_be_empty(timeout=5000)
    check(page, data_texts, "kiosk ticket")


@pytest.mark.parametrize(
    ("path", "user", "ready"),
    [
        ("/counter", "clerk1", "#console"),
        ("/manager", "manager", "#app"),
        ("/manager/reports", "manager", "#app"),
        ("/admin", "admin", "#app"),
        ("/city", "manager", "#overview"),
    ],
)
def test_staff_pages_are_english(browser, live_server, hall_state, data_texts, path, user, ready) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")  # its own login
    page = context.new_page()
    page.goto(f"{live_server.url}{path}?lang=en")
    page.wait_for_load_state("networkidle")
    check(page, data_texts, f"{path} login")
    log_in(page, live_server.url, path, user)
    expect(page.locator(ready)).to_be_visible(timeout=5000)
    page.wait_for_load_state("networkidle")
    check(page, data_texts, path)
    if path == "/counter":  # the forms, and an error answered by the server, read English too
        page.locator('[data-act="start"]').click()  # the called ticket is served: its forms open
        page.locator('[data-act="transfer"]').click()
        page.locator('[data-act="park"]').click()
        check(page, data_texts, "counter forms")
        page.fill("#transfer-form input[name=to_window]", "99")  # no such window: the server's error
        page.locator("#transfer-form button[type=submit]").click()
        expect(page.locator("#alert.err")).to_be_visible(timeout=5000)
        check(page, data_texts, "counter error")
    context.close()
