"""Real Chromium against the real server: a clerk's morning at the counter console (1366×768)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from bench.server import staff_session
from tests.factories import elderly_id

pytestmark = pytest.mark.browser
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}
SHOTS = Path(os.environ.get("HALL_COUNTER_SHOTS", "/tmp/counter-shots"))


def take(url: str, item: str = "YB001", **body: object) -> dict:
    r = requests.post(f"{url}/api/v1/tickets", json={"items": [item], **body}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


def window(url: str, number: int) -> dict:
    s = staff_session(url, "manager")
    return {w["number"]: w for w in s.get(f"{url}/api/v1/hall/load", timeout=10).json()["windows"]}[number]


def ticket_status(url: str, ticket_id: int) -> str:
    return staff_session(url, "manager").get(f"{url}/api/v1/tickets/{ticket_id}", timeout=10).json()["ticket"]["status"]


def console(browser, url: str, username: str, lang: str = ""):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{url}/counter{lang}")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", "demo")
    page.click("#login-form button")
    expect(page.locator("#console")).to_be_visible(timeout=5000)
    return context, page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_clerks_morning(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    assert window(url, 2)["staffed"] is False, "open by default, nobody signed in yet"
    context, page = console(browser, url, "clerk2")
    try:
        expect(page.locator("#presence")).to_have_class("presence on", timeout=5000)
        assert window(url, 2)["staffed"] is True, "the console's socket signed the clerk in"
        expect(page.locator("#window-state")).to_have_text("开放")

        # Nobody waiting: call-next says so neutrally, not a green 操作成功.
        page.keyboard.press("F1")
        expect(page.locator("#alert")).to_have_text("当前无人等候")
        expect(page.locator("#alert")).to_have_class("alert info")
        shot(page, "zh-1-nobody-waiting")

        plain = take(url)
        elderly = take(url, priority="elderly", id_number=elderly_id(1950))
        later = take(url, "YB006")
        expect(page.locator("#waiting li")).to_have_count(3, timeout=3000)
        # The list is the routing policy's order (绿色通道 first here), with names and marks.
        order = staff_session(url, "clerk2").get(f"{url}/api/v1/windows/2/next", timeout=10).json()["tickets"]
        expect(page.locator("#waiting li .no")).to_have_text([t["number"] for t in order])
        assert order[0]["number"] == elderly["number"]
        expect(page.locator("#waiting li").first).to_contain_text("绿色通道·老年人")
        expect(page.locator("#waiting li").first).to_contain_text("城乡居民参保登记")
        expect(page.locator('[data-act="complete"]')).to_be_disabled()

        # A letter typed on the page calls nobody; F1 calls the first of the list.
        page.locator("body").press("n")
        page.keyboard.press("F1")
        expect(page.locator("#number")).to_have_text(elderly["number"])
        assert ticket_status(url, plain["id"]) == "waiting" and ticket_status(url, later["id"]) == "waiting"
        expect(page.locator("#marks")).to_contain_text("绿色通道·老年人")
        expect(page.locator("#marks")).to_contain_text("*")  # the masked ID, to check the citizen's age
        expect(page.locator('[data-act="start"]')).to_be_enabled()
        expect(page.locator('[data-act="complete"]')).to_be_disabled()
        expect(page.locator('[data-act="call-next"]')).to_be_disabled()
        expect(page.locator("#timer")).not_to_have_text("—")
        shot(page, "zh-2-called")

        page.keyboard.press("F4")
        expect(page.locator('[data-act="complete"]')).to_be_enabled()
        expect(page.locator('[data-act="no-show"]')).to_be_disabled()
        expect(page.locator("#ticket-info")).not_to_contain_text("限时办结，限时办结")
        shot(page, "zh-3-serving")
        page.keyboard.press("F5")
        expect(page.locator("#today")).to_contain_text("本窗口 1 件")

        # 选呼: the later ticket, out of turn, after a confirmation.
        page.locator(f'[data-number="{later["number"]}"]').click()
        expect(page.locator("#confirm")).to_be_visible()
        shot(page, "zh-4-select-confirm")
        page.click("#confirm-ok")
        expect(page.locator("#number")).to_have_text(later["number"])
        expect(page.locator("#ticket-info")).to_contain_text("限时办结，5 个工作日")  # read "限时办结，限时办结 5 …"

        # 过号 asks first; cancelling keeps the ticket.
        page.keyboard.press("F3")
        expect(page.locator("#confirm")).to_be_visible()
        page.click("#confirm-cancel")
        expect(page.locator("#confirm")).to_be_hidden()
        assert ticket_status(url, later["id"]) == "called"
        page.keyboard.press("F3")
        page.click("#confirm-ok")
        expect(page.locator("#number")).to_have_text("—")
        assert ticket_status(url, later["id"]) in ("waiting", "no_show")

        # Pause with a reason: the window (and its display and LED strip) says why.
        page.click('[data-act="pause"]')
        page.check('#confirm-reasons input[value="meal"]')
        shot(page, "zh-5-pause-reason")
        page.click("#confirm-ok")
        expect(page.locator("#window-state")).to_have_text("暂停·就餐")
        assert window(url, 2)["pause_reason"] == "meal"
        wall = context.new_page()
        wall.set_viewport_size({"width": 1920, "height": 1080})
        wall.goto(f"{url}/display/window/2")
        expect(wall.locator("#state")).to_have_text("暂停服务·就餐", timeout=5000)
        wall.screenshot(path=str(SHOTS / "window-display-paused.png"))
        wall.close()
        expect(page.locator('[data-act="call-next"]')).to_be_disabled()
        page.click('[data-act="resume"]')
        expect(page.locator("#window-state")).to_have_text("开放")
        page.click('[data-act="close"]')  # citizens still wait: the console says so and asks first
        expect(page.locator("#confirm-text")).to_contain_text("人在等候")
        page.click("#confirm-ok")
        expect(page.locator("#window-state")).to_have_text("已关闭")
        expect(page.locator('[data-act="open"]')).to_be_enabled()
        expect(page.locator('[data-act="call-next"]')).to_be_disabled()
        shot(page, "zh-6-closed")
        page.click('[data-act="open"]')
        expect(page.locator("#window-state")).to_have_text("开放")

        # Logging out signs the clerk out of the window.
        page.click("#logout")
        expect(page.locator("#confirm-text")).to_contain_text("确认退出")
        page.click("#confirm-ok")
        expect(page.locator("#login")).to_be_visible()
        assert window(url, 2)["staffed"] is False
    finally:
        context.close()


def test_the_console_in_english_and_a_tidal_window_asking_for_staff(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    manager = staff_session(url, "manager")
    assert manager.post(f"{url}/api/v1/hall/tidal", json={"mode": "open"}, timeout=10).status_code == 200
    limited = take(url, "YB006")  # 限时办结, 5 working days
    context, page = console(browser, url, "clerk3", "?lang=en")
    try:
        expect(page.locator("#staff-needed")).to_be_visible(timeout=5000)
        expect(page.locator("#staff-needed")).to_contain_text("Window 6")
        expect(page.locator("#window-state")).to_have_text("Open")
        expect(page.locator('[data-act="call-next"]')).to_contain_text("Call next")
        shot(page, "en-1-staff-needed")
        page.locator(f'[data-number="{limited["number"]}"]').click()
        expect(page.locator("#confirm-text")).to_have_text(f"Call {limited['number']} now, out of turn?")
        page.click("#confirm-ok")
        expect(page.locator("#number")).to_have_text(limited["number"])
        expect(page.locator("#ticket-info")).to_contain_text("Time limit, 5 working days")
        shot(page, "en-2-called")
        assert "柜台" not in page.locator("body").inner_text()
    finally:
        manager.post(f"{url}/api/v1/hall/tidal", json={"mode": "auto"}, timeout=10)
        context.close()
