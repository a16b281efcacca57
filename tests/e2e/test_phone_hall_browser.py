"""Real Chromium: a second hall's citizen follows and rates their ticket on the phone page (issue 15, item 8)."""

from __future__ import annotations

import pytest
import requests

from bench.server import Server, staff_session

pytestmark = pytest.mark.browser
TOWN_KIOSK = {"Authorization": "Bearer demo-cg-kiosk-1"}


@pytest.fixture(scope="module")
def city():
    """The demo county hall and the chengguan township hall on one server."""
    with Server(env={"HALL_CONFIG": "hall/halls/demo.toml,hall/halls/township.toml"}) as srv:
        yield srv


def test_a_second_halls_citizen_rates_from_the_phone(browser, city) -> None:
    from playwright.sync_api import expect

    url = city.url
    r = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB001"]}, headers=TOWN_KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    t = r.json()["ticket"]
    clerk = staff_session(url, "cg-clerk1")
    for action in ("call-next", "start", "complete"):
        assert clerk.post(f"{url}/api/v1/windows/1/{action}", timeout=10).status_code == 200
    page = browser.new_page(viewport={"width": 390, "height": 844})
    api_calls: list[str] = []
    page.on("request", lambda req: api_calls.append(req.url) if "/api/v1/" in req.url else None)
    page.goto(t["track_url"])
    expect(page.locator("#rate")).to_be_visible(timeout=5000)
    page.get_by_role("button", name="满意", exact=True).click()
    with page.expect_response(lambda resp: "/rating" in resp.url) as answer:
        page.locator("#rate-send").click()
    assert answer.value.status == 201, answer.value.text()
    expect(page.locator("#rated")).to_be_visible(timeout=5000)  # the phone page says 已评价
    assert api_calls and all("hall=chengguan" in u for u in api_calls), api_calls
    summary = staff_session(url, "cg-manager").get(f"{url}/api/v1/ratings/summary", timeout=10).json()
    assert summary["count"] == 1
    page.close()
