"""Real Chromium on /admin at 1920×1080, zh and en (issue 14 item 10): names instead of raw values, skills as
checkboxes of the businesses, opening hours and 延时服务 with time pickers, and adding a window."""

from __future__ import annotations

import pytest

from bench.server import staff_session

pytestmark = pytest.mark.browser
RAW = ("comprehensive", "dedicated", "tidal", "pooled", "near_end", "paper_out", "offline")
DEVICE_KINDS = ("kiosk", "display", "rater", "printer", "led", "pad", "keypad")
TEXT = {
    "zh": {
        "windows": "窗口",
        "devices": "设备",
        "hours": "办公时间",
        "rules": "叫号规则",
        "kind": "综合窗口",
        "device": "取号机",
        "queue": "人社业务",
        "saved": "已保存",
    },
    "en": {
        "windows": "Windows",
        "devices": "Devices",
        "hours": "Opening hours",
        "rules": "Call rules",
        "kind": "Comprehensive window",
        "device": "Kiosk",
        "queue": "人社业务",
        "saved": "Saved",
    },
}


def _admin_page(browser, url, lang):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(f"{url}/admin?lang={lang}")
    page.fill("#login-form input[name=username]", "admin")
    page.fill("#login-form input[name=password]", "demo")
    page.click("#login-form button")
    expect(page.locator("#app")).to_be_visible(timeout=5000)
    return context, page


def _visible_text(page) -> str:
    """What a person reads: the text and the chosen options, not the option values."""
    return page.evaluate("document.body.innerText")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_admin_shows_names_not_raw_values(browser, live_server, lang, tmp_path) -> None:
    from playwright.sync_api import expect

    t = TEXT[lang]
    context, page = _admin_page(browser, live_server.url, lang)
    page.locator('[data-tab="windows"]').click()
    row = page.locator('#windows tr[data-window="1"]')
    expect(row.locator("select[name=kind] option:checked")).to_have_text(t["kind"], timeout=5000)
    expect(row.locator(".skills label")).to_have_count(5)  # every business of the hall, by name
    assert t["queue"] in row.inner_text()
    page.screenshot(path=str(tmp_path / f"admin-windows-{lang}.png"))
    page.locator('[data-tab="devices"]').click()
    expect(page.locator("#devices tr").first).to_be_visible(timeout=5000)
    assert t["device"] in page.locator("#devices").inner_text()
    kinds = page.locator("#devices tr td:nth-child(2)").all_inner_texts()  # the names column holds kiosk-1 etc.
    assert kinds and not set(kinds) & set(DEVICE_KINDS), kinds
    page.locator('[data-tab="rules"]').click()
    policy = page.locator("select[name='routing.policy'] option:checked")
    expect(policy).not_to_have_text("hall", timeout=5000)
    page.locator('[data-tab="hours"]').click()
    expect(page.locator('[data-sessions="weekdays"] input[type=time]').first).to_be_visible(timeout=5000)
    page.screenshot(path=str(tmp_path / f"admin-hours-{lang}.png"))
    for tab in ("windows", "devices", "rules", "hours"):
        page.locator(f'[data-tab="{tab}"]').click()
        page.wait_for_load_state("networkidle")
        options = set(page.locator("main > section:not([hidden]) select option").all_inner_texts())
        assert not options & {*RAW, "hall", "green", "joint"}, (tab, options)  # a choice is a name, never a value
        if lang == "zh":  # in Chinese no English value may show at all (in English, "Tidal window" is a name)
            shown = _visible_text(page)
            assert not [raw for raw in RAW if raw in shown], (tab, shown)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    context.close()


def test_add_a_window_and_edit_skills_and_hours_through_the_page(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    context, page = _admin_page(browser, url, "zh")
    admin = staff_session(url, "admin")
    page.locator('[data-tab="windows"]').click()
    form = page.locator("#window-form")
    expect(form.locator("#new-window-skills label")).to_have_count(5, timeout=5000)
    form.locator("[name=number]").fill("12")
    form.locator("[name=name]").fill("人社专窗")
    form.locator("[name=kind]").select_option(label="专窗")
    form.locator('#new-window-skills label[data-queue="R"] input').check()
    form.locator('#new-window-skills label[data-queue="A"] input').check()
    page.locator("#window-add").click()
    expect(page.locator('#windows tr[data-window="12"]')).to_be_visible(timeout=5000)
    windows = {w["number"]: w for w in admin.get(f"{url}/api/v1/admin/windows", timeout=10).json()["windows"]}
    assert windows[12] == {"number": 12, "name": "人社专窗", "kind": "dedicated", "queues": ["A", "R"]}

    # window 1: drop 报销审核 (B), add 人社业务 (R) and move it before 综合业务 (A) with ↑ (twice: past L, past A)
    row = page.locator('#windows tr[data-window="1"]')
    row.locator('label[data-queue="B"] input').uncheck()
    row.locator('label[data-queue="R"] input').check()
    for _ in range(4):  # R starts last of the five; four moves bring it to the front
        row.locator('label[data-queue="R"] button.up').click()
    row.locator("button[data-save]").click()
    expect(page.locator("#alert")).to_have_text("已保存", timeout=5000)
    windows = {w["number"]: w for w in admin.get(f"{url}/api/v1/admin/windows", timeout=10).json()["windows"]}
    assert windows[1]["queues"] == ["R", "A", "L"]

    # hours: a second weekday session by time pickers; 延时服务 moves from Wednesday (the demo's 3=19:00) to
    # Thursday until 18:30
    page.locator('[data-tab="hours"]').click()
    weekdays = page.locator('[data-sessions="weekdays"]')
    expect(weekdays.locator("input[type=time]").first).to_be_visible(timeout=5000)
    before = admin.get(f"{url}/api/v1/admin/hours", timeout=10).json()
    weekdays.locator("[data-remove]").first.click()  # the page shows what the hall has; rebuild it
    while weekdays.locator("[data-remove]").count():
        weekdays.locator("[data-remove]").first.click()
    for start, end in (("08:30", "12:00"), ("13:30", "17:30")):
        weekdays.locator("[data-add-session]").click()
        span = weekdays.locator(".sessions > span").last
        span.locator("input").nth(0).fill(start)
        span.locator("input").nth(1).fill(end)
    expect(page.locator("input[name=ext-on-3]")).to_be_checked()
    expect(page.locator("input[name=ext-until-3]")).to_have_value("19:00")
    page.uncheck("input[name=ext-on-3]")
    page.check("input[name=ext-on-4]")
    page.fill("input[name=ext-until-4]", "18:30")
    page.get_by_role("button", name="保存办公时间").click()
    expect(page.locator("#alert")).to_have_text("已保存", timeout=5000)
    hours = admin.get(f"{url}/api/v1/admin/hours", timeout=10).json()
    assert hours["weekdays"] == [["08:30", "12:00"], ["13:30", "17:30"]]
    assert hours["extended"] == [{"weekday": 4, "until": "18:30"}]
    assert hours["saturday"] == before["saturday"]
    # the page reads back what it saved
    page.locator('[data-tab="items"]').click()
    page.locator('[data-tab="hours"]').click()
    expect(page.locator("input[name=ext-until-4]")).to_have_value("18:30", timeout=5000)
    expect(page.locator("input[name=ext-on-4]")).to_be_checked()
    expect(page.locator("input[name=ext-on-3]")).not_to_be_checked()
    admin.put(f"{url}/api/v1/admin/hours", json=before, timeout=10)
    context.close()
