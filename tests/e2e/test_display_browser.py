"""Real Chromium: a call made over the REST API shows on the hall display and the counter display."""

from __future__ import annotations

import pytest
import requests

from bench.server import staff_session

pytestmark = pytest.mark.browser
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}


def test_a_call_appears_on_both_displays_within_a_second(browser, live_server, tmp_path) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    t = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=10).json()["ticket"]
    hall = browser.new_page(viewport={"width": 1920, "height": 1080})
    hall.goto(f"{url}/display/hall")
    expect(hall.locator("#hall-name")).to_have_text("安澜县医疗保障服务大厅", timeout=10000)
    counter = browser.new_page(viewport={"width": 1280, "height": 720})
    counter.goto(f"{url}/display/window/1")
    # Open, but nobody signed in yet: no clerk's name, and the display says so (presence, docs/routing.md §7).
    expect(counter.locator("#state")).to_have_text("暂无工作人员", timeout=10000)
    expect(counter.locator("#clerk")).to_have_text("")

    clerk = staff_session(url, "clerk1")
    assert clerk.post(f"{url}/api/v1/windows/1/call-next", timeout=10).status_code == 200
    expect(counter.locator("#clerk")).to_contain_text("工号", timeout=1000)  # the clerk calling is signed in

    expect(hall.locator("#latest")).to_contain_text(t["number"], timeout=1000)
    expect(hall.locator("#recent li.newest")).to_contain_text(t["number"], timeout=1000)
    expect(counter.locator("#current")).to_have_text(t["number"], timeout=1000)
    expect(hall.locator("#queues")).to_contain_text("综合业务", timeout=2000)

    for name, page in (("hall", hall), ("counter", counter)):
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20000
    # Chinese renders with a real font: the number line is wider than a box-glyph fallback would be.
    assert "窗口" in hall.content()


def test_a_display_that_reconnects_shows_the_current_state(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    t = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=10).json()["ticket"]
    clerk = staff_session(url, "clerk2")
    assert clerk.post(f"{url}/api/v1/windows/2/call-next", timeout=10).status_code == 200
    page = browser.new_page()
    page.goto(f"{url}/display/window/2")  # opened after the call: the snapshot brings it
    expect(page.locator("#current")).to_have_text(t["number"], timeout=5000)


def test_clerk_calls_from_the_console_and_the_displays_follow(browser, live_server, tmp_path) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    t = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=10).json()["ticket"]
    hall = browser.new_page(viewport={"width": 1920, "height": 1080})
    hall.goto(f"{url}/display/hall")
    counter_display = browser.new_page()
    counter_display.goto(f"{url}/display/window/3")
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    console = context.new_page()
    console.goto(f"{url}/counter")
    console.fill("input[name=username]", "clerk3")
    console.fill("input[name=password]", "demo")
    console.click("#login-form button")
    expect(console.locator("#who")).to_contain_text("clerk3", timeout=5000)
    # nothing to complete yet: the button follows the ticket's state
    expect(console.locator("[data-act=complete]")).to_be_disabled(timeout=3000)
    console.keyboard.press("F1")
    expect(console.locator("#number")).to_have_text(t["number"], timeout=3000)
    expect(hall.locator("#latest")).to_contain_text(t["number"], timeout=1000)
    expect(counter_display.locator("#current")).to_have_text(t["number"], timeout=1000)
    console.click("[data-act=start]")
    expect(console.locator("#ticket-info")).to_contain_text("办理中", timeout=3000)
    shot = tmp_path / "console.png"
    console.screenshot(path=str(shot))
    assert shot.stat().st_size > 20000
    assert console.locator("#transfer-form").is_hidden() and console.locator("#park-form").is_hidden()
    console.click("[data-act=complete]")
    expect(console.locator("#number")).to_have_text("—", timeout=3000)


def test_the_phone_page_says_which_window_when_called(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    t = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=10).json()["ticket"]
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    assert t["track_url"].startswith(url)  # the link on the printed QR points at this server
    phone.goto(t["track_url"])
    expect(phone.locator("#status")).to_have_text("等候中", timeout=5000)
    clerk = staff_session(url, "clerk4")
    assert clerk.post(f"{url}/api/v1/windows/4/call-next", timeout=10).json()["ticket"]["number"] == t["number"]
    expect(phone.locator("#call")).to_have_text("请到4号窗口办理", timeout=2000)
