"""Real Chromium on /admin against the real server: the admin logs in, adds a notice and an item, the API sees them."""

from __future__ import annotations

import pytest
import requests

from bench.server import staff_session

pytestmark = pytest.mark.browser
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}


@pytest.fixture
def page(browser, live_server):
    """/admin logged in as the demo admin."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    p = context.new_page()
    p.goto(f"{live_server.url}/admin")
    expect(p.locator("#login")).to_be_visible(timeout=10000)
    p.fill("#login-form input[name=username]", "admin")
    p.fill("#login-form input[name=password]", "demo")
    p.click("#login-form button")
    expect(p.locator("#app")).to_be_visible(timeout=5000)
    expect(p.locator('#items tr[data-item="YB001"]')).to_be_visible(timeout=5000)
    yield p
    context.close()


def test_admin_adds_a_notice_and_an_item_through_the_page(page, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    page.get_by_role("tab", name="大厅公告").click()
    expect(page.locator("#notices-text")).not_to_have_value("", timeout=5000)
    before = page.locator("#notices-text").input_value()
    page.fill("#notices-text", before + "\n浏览器测试公告：今日下午系统维护")
    page.get_by_role("button", name="保存公告").click()
    expect(page.locator("#alert")).to_have_text("已保存", timeout=5000)
    admin = staff_session(url, "admin")
    notices = admin.get(f"{url}/api/v1/admin/notices", timeout=10).json()["notices"]
    assert notices[-1] == "浏览器测试公告：今日下午系统维护"

    page.get_by_role("tab", name="事项").click()
    form = page.locator("#item-form")
    form.locator("[name=code]").fill("YB950")
    form.locator("[name=name]").fill("浏览器新增事项")
    form.locator("[name=category]").fill("参保登记")
    form.locator("[name=queue]").select_option("A")
    form.locator("[name=materials]").fill("居民身份证\n户口簿")
    page.locator("#item-save").click()
    expect(page.locator('#items tr[data-item="YB950"]')).to_contain_text("浏览器新增事项", timeout=5000)
    catalogue = {i["code"]: i for i in requests.get(f"{url}/api/v1/items", timeout=10).json()["items"]}
    assert catalogue["YB950"]["materials"] == ["居民身份证", "户口簿"]
    r = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB950"]}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text  # issuable at once (the test server runs with HALL_OPEN_ALL_HOURS)


def test_a_deactivated_device_stays_off_after_a_new_token_until_enabled(page, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    admin = staff_session(url, "admin")
    page.on("dialog", lambda d: d.accept())
    page.get_by_role("tab", name="设备").click()
    row = page.locator('#devices tr[data-device="kiosk-2"]')
    row.get_by_role("button", name="停用").click()
    expect(row.get_by_role("button", name="重新启用")).to_be_visible(timeout=5000)
    row.get_by_role("button", name="更换令牌").click()
    expect(page.locator("#token-box")).to_contain_text("kiosk-2", timeout=5000)
    expect(row).to_have_class("off")
    devices = {d["name"]: d for d in admin.get(f"{url}/api/v1/admin/devices", timeout=10).json()["devices"]}
    assert devices["kiosk-2"]["active"] is False, "a new token does not bring the device back"
    row.get_by_role("button", name="重新启用").click()
    expect(row.get_by_role("button", name="停用")).to_be_visible(timeout=5000)
    devices = {d["name"]: d for d in admin.get(f"{url}/api/v1/admin/devices", timeout=10).json()["devices"]}
    assert devices["kiosk-2"]["active"] is True
