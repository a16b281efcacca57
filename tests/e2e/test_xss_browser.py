"""Real Chromium: names an admin types in /admin stay text on the clerk's console (issue 15, item 10)."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.browser
KIOSK = {"Authorization": "Bearer demo-kiosk-1"}
ATTRIBUTE = '" onmouseover="window.__xss=1" x="'
ELEMENT = '\'><img src=x onerror="window.__xss=2">'


def test_material_names_do_not_run_script_on_the_counter(browser, live_server, tmp_path) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    admin_ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    admin = admin_ctx.new_page()
    admin.goto(f"{url}/admin")
    admin.fill("#login-form input[name=username]", "admin")
    admin.fill("#login-form input[name=password]", "demo")
    admin.click("#login-form button")
    expect(admin.locator('#items tr[data-item="YB001"]')).to_be_visible(timeout=10000)
    form = admin.locator("#item-form")
    form.locator("[name=code]").fill("YB951")
    form.locator("[name=name]").fill('测试事项"><b>')
    form.locator("[name=queue]").select_option("A")
    form.locator("[name=materials]").fill(f"{ATTRIBUTE}\n{ELEMENT}\n居民身份证")
    admin.locator("#item-save").click()
    expect(admin.locator('#items tr[data-item="YB951"]')).to_be_visible(timeout=5000)
    assert admin.evaluate("window.__xss") is None
    admin_ctx.close()

    r = requests.post(f"{url}/api/v1/tickets", json={"items": ["YB951"]}, headers=KIOSK, timeout=10)
    assert r.status_code == 201, r.text
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    console = context.new_page()
    dialogs: list[str] = []
    console.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    console.goto(f"{url}/counter")
    console.fill("input[name=username]", "clerk1")
    console.fill("input[name=password]", "demo")
    console.click("#login-form button")
    expect(console.locator("#who")).to_contain_text("clerk1", timeout=5000)
    expect(console.locator("[data-act=call-next]")).to_be_enabled(timeout=5000)  # the console has its window
    console.click("[data-act=call-next]")
    expect(console.locator("#number")).to_have_text(r.json()["ticket"]["number"], timeout=5000)
    expect(console.locator("#materials li")).to_have_count(3, timeout=3000)
    console.click("[data-act=start]")  # 容缺受理 is for a ticket in service
    expect(console.locator("[data-act=park]")).to_be_enabled(timeout=5000)
    console.click("[data-act=park]")
    boxes = console.locator("#park-materials input[type=checkbox]")
    expect(boxes).to_have_count(3)
    for n in range(3):
        console.locator("#park-materials label").nth(n).hover()
        console.locator("#materials li").nth(n).hover()
    assert [boxes.nth(n).get_attribute("value") for n in range(3)] == [ATTRIBUTE, ELEMENT, "居民身份证"]
    assert console.locator("#park-materials [onmouseover], #materials [onmouseover], img").count() == 0
    expect(console.locator("#materials")).to_contain_text(ATTRIBUTE.strip())
    console.screenshot(path=str(tmp_path / "counter.png"))
    assert console.evaluate("window.__xss") is None and dialogs == []
    context.close()
