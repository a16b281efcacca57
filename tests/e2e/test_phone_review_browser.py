"""Real Chromium at 390×844: the phone page's 绿色通道 / 一件事联办 badge is readable for weak eyes, and a bad
rating tells the citizen when the hall will follow up (the case's deadline from the rating answer)."""

from __future__ import annotations

import pytest

from bench.server import staff_session
from tests.e2e.test_phone_page_browser import PHONE, issue, readable

pytestmark = pytest.mark.browser

CONTRAST = """(e) => {
  const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => { const [r, g, b] = c.map(lin);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const cs = getComputedStyle(e), a = lum(rgb(cs.color)), b = lum(rgb(cs.backgroundColor));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.mark.parametrize("body", [{"priority": "elderly"}, {"items": ["YB001", "RS001"]}], ids=["priority", "joint"])
def test_badge_has_high_contrast(browser, live_server, body) -> None:
    from playwright.sync_api import expect

    t = issue(live_server.url, **body)
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(t["track_url"])
    mark = page.locator("#mark")
    expect(mark).to_be_visible()
    assert mark.evaluate(CONTRAST) >= 7
    readable(page)
    page.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_bad_rating_says_when_the_hall_follows_up(browser, live_server, lang) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    t = issue(url)
    clerk = staff_session(url, "clerk4")
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(f"{t['track_url']}?lang={lang}")
    for _ in range(10):  # tickets of other tests in this module may be ahead: serve them first
        called = clerk.post(f"{url}/api/v1/windows/4/call-next", timeout=10).json()
        assert "ticket" in called, called
        for action in ("start", "complete"):
            assert clerk.post(f"{url}/api/v1/windows/4/{action}", timeout=10).status_code == 200
        if called["ticket"]["number"] == t["number"]:
            break
    expect(page.locator("#rate")).to_be_visible(timeout=8000)
    page.locator('[data-score="2"]').click()
    with page.expect_response(lambda r: r.url.split("?")[0].endswith("/rating")) as answer:
        page.locator("#rate-send").click()
    rating = answer.value.json()["rating"]
    assert rating["case_opened"] and rating["followup_days"] >= 1 and len(rating["followup_by"]) == 10
    followup = page.locator("#followup")
    expect(followup).to_be_visible(timeout=5000)
    days, by = str(rating["followup_days"]), rating["followup_by"]
    expect(followup).to_contain_text(f"{days}个工作日内" if lang == "zh_CN" else f"within {days} working days")
    expect(followup).to_contain_text(by)
    readable(page)
    page.screenshot(path=f"/tmp/phone-followup-{lang}.png", full_page=True)
    page.close()
