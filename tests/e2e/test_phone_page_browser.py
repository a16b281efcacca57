"""Real Chromium at 390×844: the citizen's phone page from the slip's QR, readable without zoom, through a
ticket's whole life (waiting → called → 办结 → 已评价, also after a reload), in Chinese and English."""

from __future__ import annotations

import os

import pytest
import requests

from bench.server import staff_session
from tests.e2e.pagelayout import overflow_px, small_text

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}
SHOTS = os.environ.get("HALL_SHOTS")  # a folder: save screenshots there to look at them


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/phone-{name}.png", full_page=True)


def issue(url: str, **body) -> dict:
    r = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB001"], **body}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


def readable(page) -> None:
    assert page.evaluate("document.documentElement.clientWidth") == PHONE["width"], "laid out at the phone's width"
    assert overflow_px(page) <= 0
    assert small_text(page) == []


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_waiting_page_is_phone_sized_and_readable(browser, live_server, lang) -> None:
    from playwright.sync_api import expect

    t = issue(live_server.url)
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(f"{t['track_url']}?lang={lang}")
    expect(page.locator("#wait")).to_be_visible()
    expect(page.locator("#status")).to_have_text("等候中" if lang == "zh_CN" else "Waiting")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh_CN" else "en")
    assert page.evaluate("parseFloat(getComputedStyle(document.getElementById('number')).fontSize)") >= 64
    readable(page)
    shot(page, f"waiting-{lang}")
    page.get_by_text("English" if lang == "zh_CN" else "中文").click()
    expect(page.locator("#status")).to_have_text("Waiting" if lang == "zh_CN" else "等候中")
    requests.post(f"{live_server.url}/api/v1/tickets/{t['id']}/cancel", json={"token": t["track_url"].rsplit("/")[-1]})
    page.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_called_finished_rated_and_reloaded(browser, live_server, lang) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    t = issue(url, priority="elderly")  # 跳过 at the kiosk: no ID
    clerk = staff_session(url, "clerk4")
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(f"{t['track_url']}?lang={lang}")
    zh = lang == "zh_CN"
    expect(page.locator("#mark")).to_contain_text("待核验" if zh else "to be verified")
    assert clerk.post(f"{url}/api/v1/windows/4/call-next", timeout=10).json()["ticket"]["number"] == t["number"]
    expect(page.locator("#call")).to_have_text("请到4号窗口办理" if zh else "Please go to window 4 now", timeout=8000)
    expect(page.locator("#wait")).to_be_hidden()
    readable(page)
    shot(page, f"called-{lang}")
    for action in ("start", "complete"):
        assert clerk.post(f"{url}/api/v1/windows/4/{action}", timeout=10).status_code == 200
    # 办结: the call banner goes, the finished state and the rating form come.
    finished = "已办结，感谢您的耐心等候" if zh else "Done — thank you for your patience"
    expect(page.locator("#status")).to_have_text(finished)
    expect(page.locator("#call")).to_be_hidden()
    expect(page.locator("#rate")).to_be_visible()
    readable(page)
    shot(page, f"completed-{lang}")
    page.locator('[data-score="5"]').click()
    page.locator("#rate-send").click()
    expect(page.locator("#rated")).to_be_visible(timeout=5000)
    expect(page.locator("#rate")).to_be_hidden()
    page.reload()
    expect(page.locator("#rated")).to_be_visible()
    expect(page.locator("#rate")).to_be_hidden()
    expect(page.locator("#call")).to_be_hidden()
    readable(page)
    shot(page, f"rated-{lang}")
    page.close()


def test_unknown_ticket_page_is_readable_too(browser, live_server) -> None:
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    response = page.goto(f"{live_server.url}/t/no-such-ticket")
    assert response.status == 404
    assert "号码不存在或已过期" in page.locator("h1").inner_text()
    readable(page)
    page.close()
