"""The hall manager's wall screen at 1920×1080 with a busy hall: the newest 差评 on top of the alerts, counts per
kind and 知道了; 16 windows without scrolling; a revoked session back at the login form on every staff page."""

from __future__ import annotations

import re

import pytest
import requests

from bench.server import staff_session

pytestmark = pytest.mark.browser
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}
WALL = {"width": 1920, "height": 1080}


def take(url: str, item: str = "YB001") -> dict:
    r = requests.post(f"{url}/api/v1/tickets", json={"items": [item]}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


def log_in(page, url: str, path: str, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}{path}")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", "demo")
    page.click("#login-form button")
    expect(page.locator("#app")).to_be_visible(timeout=5000)


@pytest.fixture(scope="module")
def busy(live_server) -> str:
    """Sixteen windows (one with a long name), fifty tickets, and a 差评 given after the device alarms."""
    url = live_server.url
    admin = staff_session(url, "admin")
    have = {w["number"] for w in admin.get(f"{url}/api/v1/admin/windows", timeout=10).json()["windows"]}
    for n in range(1, 17):
        if n not in have:
            name = "医保关系转移接续及异地就医备案综合专窗" if n == 10 else f"综合窗口{n}"
            r = admin.post(
                f"{url}/api/v1/admin/windows",
                json={"number": n, "name": name, "kind": "comprehensive", "queues": ["A"]},
                timeout=10,
            )
            assert r.status_code == 201, r.text
    items = [i["code"] for i in requests.get(f"{url}/api/v1/items", timeout=10).json()["items"]]
    tickets = [take(url, items[i % len(items)]) for i in range(50)]
    clerk = staff_session(url, "clerk4")
    called = clerk.post(f"{url}/api/v1/windows/4/call-next", timeout=10).json()["ticket"]
    for action in ("start", "complete"):
        assert clerk.post(f"{url}/api/v1/windows/4/{action}", timeout=10).status_code == 200
    token = next(t for t in tickets if t["id"] == called["id"])["track_url"].rsplit("/", 1)[1]
    r = requests.post(f"{url}/api/v1/tickets/{called['id']}/rating", json={"token": token, "score": 1}, timeout=10)
    assert r.status_code == 201, r.text
    return url


def test_the_newest_bad_rating_is_on_top_and_can_be_acknowledged(browser, busy) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=WALL)
    page = context.new_page()
    log_in(page, busy, "/manager", "manager")
    first = page.locator("#alerts li").first
    expect(first).to_have_attribute("data-kind", "bad_rating", timeout=5000)
    box = first.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= WALL["height"], "visible without scrolling"
    expect(page.locator('#alert-count [data-count="rating"]')).to_contain_text("1")
    assert page.locator("#alerts li").count() >= 1
    first.locator("button.ack").click()
    expect(page.locator('#alerts li[data-kind="bad_rating"]')).to_have_class(re.compile(r"\backed\b"), timeout=5000)
    expect(page.locator('#alerts li[data-kind="bad_rating"] .ack-by')).to_contain_text("林晓燕")
    # technical detail never in the text people read
    assert not re.search(r"Errno|socket://|Could not open", page.locator("#alerts").inner_text())
    context.close()


def test_sixteen_windows_fit_the_wall_screen(browser, busy) -> None:
    from playwright.sync_api import expect

    for lang in ("", "?lang=en"):
        context = browser.new_context(viewport=WALL)
        page = context.new_page()
        log_in(page, busy, f"/manager{lang}", "manager")
        expect(page.locator("#windows .win")).to_have_count(16, timeout=5000)
        panel = page.evaluate(
            "(() => { const p = document.getElementById('windows-panel'); return [p.scrollHeight, p.clientHeight]; })()"
        )
        assert panel[0] <= panel[1] + 1, f"the windows panel scrolls: {panel}"
        # measured in one go in the page: live updates re-render the tiles, so a tile read one by one can be gone
        bottoms = page.evaluate(
            "[...document.querySelectorAll('#windows .win')].map((w) => w.getBoundingClientRect().bottom)"
        )
        assert len(bottoms) == 16 and max(bottoms) <= WALL["height"], bottoms
        badge, line = page.evaluate(
            "(() => { const w = document.querySelector('[data-window=\"10\"]');"
            " return ['.st', '.no'].map((s) => { const r = w.querySelector(s).getBoundingClientRect();"
            " return {width: r.width, height: r.height}; }); })()"
        )
        assert badge["height"] <= line["height"] * 1.3, "the state badge stays on one line"
        assert badge["width"] > badge["height"], "not one character per line"
        if lang:
            assert "Close" not in [t.strip() for t in page.locator("#windows .st").all_inner_texts()]
            assert "：" not in page.locator("#duty").inner_text()
        context.close()


def test_a_revoked_session_returns_to_the_login_form(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    context = browser.new_context(viewport=WALL)
    dashboard, reports = context.new_page(), context.new_page()
    log_in(dashboard, url, "/manager", "leader")
    reports.goto(f"{url}/manager/reports")
    expect(reports.locator("#app")).to_be_visible(timeout=5000)
    other = browser.new_context()  # the same account elsewhere, then logged out: every session of it ends
    elsewhere = other.new_page()
    log_in(elsewhere, url, "/manager/reports", "leader")
    elsewhere.click("#app [data-logout]")
    expect(elsewhere.locator("#login")).to_be_visible(timeout=5000)
    # the page's next call (a live refresh may already have made it): the API answers 401
    dashboard.evaluate("window.HALL.api('POST', '/hall/tidal', {mode: 'auto'}).catch(() => null)")
    expect(dashboard.locator("#login")).to_be_visible(timeout=5000)
    expect(dashboard.locator("#session-ended")).to_have_text("登录已失效，请重新登录")
    expect(dashboard.locator("#flash")).to_be_hidden()
    reports.evaluate("document.querySelector('#report-form button[type=submit]').click()")
    expect(reports.locator("#login")).to_be_visible(timeout=5000)
    expect(reports.locator("#session-ended")).to_have_text("登录已失效，请重新登录")
    # signing in again brings the page back
    dashboard.fill("#login-form input[name=username]", "leader")
    dashboard.fill("#login-form input[name=password]", "demo")
    dashboard.click("#login-form button")
    expect(dashboard.locator("#app")).to_be_visible(timeout=5000)
    other.close()
    context.close()


def test_city_rounds_minutes_says_as_of_and_notices_a_revoked_session(browser, busy) -> None:
    from playwright.sync_api import expect

    url = busy
    context = browser.new_context(viewport=WALL)
    page = context.new_page()
    page.goto(f"{url}/city?lang=en")
    page.fill("#login-form input[name=username]", "city")
    page.fill("#login-form input[name=password]", "demo")
    page.click("#login-form button")
    expect(page.locator("#overview")).to_be_visible(timeout=5000)
    expect(page.locator("#as-of")).to_have_text(re.compile(r"^as of \d\d:\d\d$"))
    numbers = page.locator("#halls td.num").all_inner_texts()
    assert numbers and not any("." in n for n in numbers), numbers
    assert "，" not in page.locator("#halls").inner_text() and "（" not in page.locator("#halls").inner_text()
    staff_session(url, "city").post(f"{url}/api/v1/auth/logout", timeout=10)  # every session of the account ends
    page.evaluate("refresh()")
    expect(page.locator("#login")).to_be_visible(timeout=5000)
    expect(page.locator("#alert")).to_have_text("Your session has ended. Please sign in again")
    context.close()


def test_admin_returns_to_its_login_form_when_the_session_ends(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    context = browser.new_context(viewport=WALL)
    page = context.new_page()
    log_in(page, url, "/admin", "admin")
    staff_session(url, "admin").post(f"{url}/api/v1/auth/logout", timeout=10)
    page.evaluate("api('GET', '/admin/windows').catch(() => null)")  # the page's next call
    expect(page.locator("#login")).to_be_visible(timeout=5000)
    expect(page.locator("#session-ended")).to_have_text("登录已失效，请重新登录")
    expect(page.locator("#app")).to_be_hidden()
    context.close()
