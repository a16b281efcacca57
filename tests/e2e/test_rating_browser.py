"""Real Chromium: a citizen rates on the phone page, and on the window's rating tablet."""

from __future__ import annotations

import pytest
import requests

from bench.server import staff_session

pytestmark = pytest.mark.browser
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}


def serve(url: str, window: int) -> dict:
    t = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB001"]}, headers=KIOSK, timeout=10).json()["ticket"]
    clerk = staff_session(url, f"clerk{window}")
    for action in ("call-next", "start", "complete"):
        assert clerk.post(f"{url}/api/v1/windows/{window}/{action}", timeout=10).status_code == 200
    return t


def manager(url: str) -> requests.Session:
    return staff_session(url, "manager")


def test_phone_rating_after_completion(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    before = manager(url).get(f"{url}/api/v1/ratings/summary", timeout=10).json()["count"]
    t = serve(url, 4)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(t["track_url"])
    expect(page.locator("#rate")).to_be_visible(timeout=5000)
    page.get_by_role("button", name="满意", exact=True).click()
    page.locator('[data-ind="attitude"]').select_option("5")
    page.locator("#rate-send").click()
    expect(page.locator("#rated")).to_be_visible(timeout=5000)  # the phone page says 已评价
    after = manager(url).get(f"{url}/api/v1/ratings/summary", timeout=10).json()
    assert after["count"] == before + 1
    page.close()


def test_window_tablet_offers_the_service_just_done(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{url}/rate/window/3?device=demo-rate-3")
    expect(page.locator("#idle")).to_be_visible(timeout=5000)
    t = serve(url, 3)
    expect(page.locator("#who")).to_have_text(t["number"], timeout=8000)
    page.get_by_role("button", name="非常不满意").click()
    page.locator("#rate-comment").fill("等候时间太长")
    page.locator("#rate-send").click()
    expect(page.locator("#rate-thanks")).to_be_visible(timeout=5000)
    alerts = manager(url).get(f"{url}/api/v1/hall/alerts", timeout=10).json()["alerts"]
    assert any(a["kind"] == "bad_rating" and "3号窗口" in a["message"] for a in alerts)
    page.close()
