"""Real Chromium against the real server: the manager dashboard follows the hall live; reports and roles."""

from __future__ import annotations

import re

import pytest
import requests

from bench.server import staff_session

pytestmark = pytest.mark.browser
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}


def take(url: str, item: str = "YB001") -> dict:
    r = requests.post(f"{url}/api/v1/tickets", json={"items": [item]}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


def log_in(page, url: str, path: str, username: str) -> None:
    page.goto(f"{url}{path}")
    page.fill("#login-form input[name=username]", username)
    page.fill("#login-form input[name=password]", "demo")
    page.click("#login-form button")


@pytest.fixture(scope="module")
def dashboard(browser, live_server):
    """The dashboard on a 1920×1080 wall screen, logged in as the hall manager and connected."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(f"{live_server.url}/manager")
    expect(page.locator("#login")).to_be_visible(timeout=10000)  # anonymous: the login screen
    log_in(page, live_server.url, "/manager", "manager")
    expect(page.locator("#app")).to_be_visible(timeout=5000)
    expect(page.locator("#live")).to_have_class(re.compile(r"\bon\b"), timeout=5000)
    expect(page.locator("#hall-name")).to_have_text("安澜县医疗保障服务大厅", timeout=5000)
    expect(page.locator('[data-window="1"]')).to_be_visible(timeout=5000)
    yield page
    context.close()


def test_a_call_over_the_api_shows_on_the_dashboard_within_a_second(dashboard, live_server, tmp_path) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    t = take(url)
    expect(dashboard.locator('#queues tr[data-queue="A"] td').nth(1)).not_to_have_text("0", timeout=2000)
    clerk = staff_session(url, "clerk5")
    r = clerk.post(f"{url}/api/v1/windows/5/call-next", timeout=10)
    assert r.status_code == 200 and r.json()["ticket"]["number"] == t["number"]

    card = dashboard.locator('[data-window="5"]')
    expect(card.locator(".ticket")).to_have_text(t["number"], timeout=1000)
    expect(card.locator(".items")).to_contain_text("城乡居民参保登记", timeout=1000)
    expect(card.locator(".clerk")).to_contain_text("陈静", timeout=1000)

    assert clerk.post(f"{url}/api/v1/windows/5/start", timeout=10).status_code == 200
    expect(card.locator(".timer")).to_contain_text("/ 5", timeout=1000)  # time in service / the item's 5 minutes
    assert clerk.post(f"{url}/api/v1/windows/5/complete", timeout=10).status_code == 200
    expect(card.locator(".ticket")).to_have_text("—", timeout=1000)

    # Charts are drawn from local chart.js and the report API.
    for chart in ("#chart-arrivals", "#chart-wait", "#chart-satisfaction", "#chart-windows"):
        box = dashboard.locator(chart).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, chart
    expect(dashboard.locator("#kpi-tickets .v")).not_to_have_text("—", timeout=5000)
    # The wall screen shows everything without scrolling sideways.
    assert dashboard.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot = tmp_path / "dashboard.png"
    dashboard.screenshot(path=str(shot))
    assert shot.stat().st_size > 30000


def test_a_bad_rating_appears_as_an_alert(dashboard, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    t = take(url)
    clerk = staff_session(url, "clerk4")
    assert clerk.post(f"{url}/api/v1/windows/4/call-next", timeout=10).json()["ticket"]["number"] == t["number"]
    for action in ("start", "complete"):
        assert clerk.post(f"{url}/api/v1/windows/4/{action}", timeout=10).status_code == 200
    token = t["track_url"].rsplit("/", 1)[1]
    r = requests.post(f"{url}/api/v1/tickets/{t['id']}/rating", json={"token": token, "score": 1}, timeout=10)
    assert r.status_code == 201 and r.json()["rating"]["case_opened"]

    alert = dashboard.locator('#alerts li[data-kind="bad_rating"]')
    expect(alert).to_contain_text("4号窗口收到差评", timeout=2000)
    expect(dashboard.locator("#rating-count")).to_contain_text("1", timeout=2000)
    expect(dashboard.locator("#kpi-good .v")).to_have_text("0.0%", timeout=2000)


def test_tidal_buttons_override_the_rule(dashboard, live_server) -> None:
    from playwright.sync_api import expect

    dashboard.click('[data-tidal="open"]')
    expect(dashboard.locator('[data-tidal="open"]')).to_have_attribute("aria-pressed", "true", timeout=3000)
    # The demo hall has two tidal windows (6, then 9 as a second stage): the override opens both.
    expect(dashboard.locator("#tidal-window")).to_have_text("6、9", timeout=3000)
    expect(dashboard.locator('#tidal-state [data-stage="6"]')).to_have_text("6号窗口 开放中", timeout=3000)
    expect(dashboard.locator('#tidal-state [data-stage="9"]')).to_have_text("9号窗口 开放中", timeout=3000)
    expect(dashboard.locator('[data-window="6"] .st')).to_have_text("开放", timeout=2000)
    # Nobody is signed in at the tidal window yet: the card asks for staff (it does not count as open).
    expect(dashboard.locator('[data-window="6"]')).to_have_class(re.compile(r"\bneeds-staff\b"), timeout=2000)
    expect(dashboard.locator('[data-window="6"] .items')).to_have_text("请安排人员到岗")
    # … and so does the tidal panel, next to the state it explains
    expect(dashboard.locator('#tidal-reason [data-needs-staff="6"]')).to_contain_text("请安排人员到岗", timeout=3000)
    dashboard.screenshot(path="/tmp/counter-shots/dashboard-needs-staff.png")
    clerk = staff_session(live_server.url, "clerk6")
    assert clerk.post(f"{live_server.url}/api/v1/windows/6/presence", timeout=10).status_code == 200
    expect(dashboard.locator('[data-window="6"]')).not_to_have_class(re.compile(r"\bneeds-staff\b"), timeout=3000)
    expect(dashboard.locator('[data-window="6"] .items')).to_have_text("空闲")
    expect(dashboard.locator('#tidal-reason [data-needs-staff="6"]')).to_have_count(0, timeout=3000)
    clerk.delete(f"{live_server.url}/api/v1/windows/6/presence", timeout=10)
    dashboard.click('[data-tidal="auto"]')
    expect(dashboard.locator('[data-tidal="auto"]')).to_have_attribute("aria-pressed", "true", timeout=3000)


def test_laptop_screen_and_reports_equal_the_api(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    log_in(page, url, "/manager", "leader")
    expect(page.locator("#app")).to_be_visible(timeout=5000)
    expect(page.locator('[data-window="8"]')).to_be_visible(timeout=5000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.click("text=统计报表")
    expect(page.locator("#report tbody tr").first).to_be_visible(timeout=5000)
    page.select_option("#report-form select[name=by]", "window")
    expect(page.locator("#report tfoot tr")).to_be_visible(timeout=5000)
    api = staff_session(url, "leader").get(f"{url}/api/v1/reports?by=window", timeout=10).json()
    shown = page.locator("#report tbody tr")
    expect(shown).to_have_count(len(api["rows"]), timeout=5000)
    for n, row in enumerate(api["rows"]):
        cells = shown.nth(n).locator("td").all_inner_texts()
        assert cells[2:] == row["cells"], row["key"]
    assert page.locator("#report tfoot td").all_inner_texts()[2:] == api["total"]["cells"]
    href = page.locator("#export-xlsx").get_attribute("href")
    assert href and "format=xlsx" in href and "by=window" in href
    download = page.request.get(f"{url}{href}")
    assert download.status == 200 and download.body()[:2] == b"PK"  # a zip: the XLSX
    context.close()


def test_roles(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    assert requests.get(f"{url}/api/v1/reports", timeout=10).status_code == 401
    assert requests.get(f"{url}/api/v1/dashboard", timeout=10).status_code == 401
    clerk = staff_session(url, "clerk1")
    assert clerk.get(f"{url}/api/v1/reports", timeout=10).status_code == 403
    assert clerk.get(f"{url}/api/v1/reports/export?format=csv", timeout=10).status_code == 403

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/manager/reports")
    expect(page.locator("#login")).to_be_visible(timeout=5000)
    log_in(page, url, "/manager/reports", "clerk1")
    expect(page.locator("#forbidden")).to_be_visible(timeout=5000)
    expect(page.locator("#app")).to_be_hidden()
    context.close()


def test_the_dashboard_shows_today_s_duty(dashboard, live_server) -> None:
    from playwright.sync_api import expect

    from bench.server import staff_session

    today = staff_session(live_server.url, "manager").get(f"{live_server.url}/api/v1/roster/today", timeout=10).json()
    expected = today["leader"]["name"] if today["leader"] else "未安排"
    expect(dashboard.locator("#duty-leader")).to_have_text(expected, timeout=5000)
