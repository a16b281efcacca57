"""Real Chromium: a call made over the REST API shows on the hall display and the counter display."""

from __future__ import annotations

import pytest
import requests

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
    expect(counter.locator("#clerk")).to_contain_text("工号", timeout=10000)

    clerk = requests.Session()
    clerk.post(f"{url}/api/v1/auth/login", json={"username": "clerk1", "password": "demo"}, timeout=10)
    assert clerk.post(f"{url}/api/v1/windows/1/call-next", timeout=10).status_code == 200

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
    clerk = requests.Session()
    clerk.post(f"{url}/api/v1/auth/login", json={"username": "clerk2", "password": "demo"}, timeout=10)
    assert clerk.post(f"{url}/api/v1/windows/2/call-next", timeout=10).status_code == 200
    page = browser.new_page()
    page.goto(f"{url}/display/window/2")  # opened after the call: the snapshot brings it
    expect(page.locator("#current")).to_have_text(t["number"], timeout=5000)
