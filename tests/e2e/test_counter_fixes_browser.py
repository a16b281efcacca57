"""Real Chromium against the real server: what a window clerk found on the counter console and window display."""

from __future__ import annotations

import pytest

from bench.server import staff_session
from tests.e2e.test_counter_browser import console, shot, take, ticket_status

pytestmark = pytest.mark.browser


def test_ticks_survive_live_refreshes_and_the_forms_validate_and_close(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    take(url, "YB006")
    context, page = console(browser, url, "clerk1")
    try:
        page.keyboard.press("F1")
        expect(page.locator("#ticket-info")).to_contain_text("已叫号", timeout=3000)
        expect(page.locator('[data-act="start"]')).to_be_enabled()
        page.keyboard.press("F4")
        expect(page.locator("#ticket-info")).to_contain_text("办理中", timeout=3000)
        expect(page.locator('[data-act="park"]')).to_be_enabled()
        page.locator("#materials input").first.check()
        page.keyboard.press("F7")
        expect(page.locator("#park-form")).to_be_visible()
        expect(page.locator("#park-form input").first).to_be_focused()
        page.locator("#park-materials input").nth(1).check()
        page.locator("#park-materials input").nth(1).uncheck()
        page.fill('#park-form input[name="days"]', "5")
        # Another citizen takes a number: a hall event re-renders the console.
        take(url, "YB001")
        expect(page.locator("#waiting-count")).to_have_text("(1)", timeout=3000)
        expect(page.locator("#materials input").first).to_be_checked()
        # Empty 容缺: the page says what is missing and keeps the form open with its input.
        page.click("#park-form button[type=submit]")
        expect(page.locator("#park-form .form-error")).to_have_text("请登记所缺材料：勾选或填写至少一项")
        expect(page.locator("#park-form")).to_be_visible()
        expect(page.locator('#park-form input[name="days"]')).to_have_value("5")
        # Esc closes the form; F6 opens the transfer form on its first field; 取消 closes it.
        page.keyboard.press("Escape")
        expect(page.locator("#park-form")).to_be_hidden()
        page.keyboard.press("F6")
        expect(page.locator('#transfer-form input[name="to_window"]')).to_be_focused()
        expect(page.locator("#transfer-form")).to_contain_text("加办事项")
        page.click("#transfer-form [data-cancel]")
        expect(page.locator("#transfer-form")).to_be_hidden()
        # A transfer to a window nobody is signed in at is refused, the form stays open and says why.
        page.keyboard.press("F6")
        page.fill('#transfer-form input[name="to_window"]', "4")
        page.click("#transfer-form button[type=submit]")
        expect(page.locator("#transfer-form .form-error")).to_contain_text("无人签到")
        expect(page.locator("#transfer-form")).to_be_visible()
        expect(page.locator("#materials input").first).to_be_checked()
        shot(page, "fix-zh-transfer-refused")
    finally:
        context.close()


def test_no_show_says_what_happens_select_by_number_and_recall_limit(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    clerk = staff_session(url, "clerk2")
    while clerk.post(f"{url}/api/v1/windows/2/call-next", timeout=10).status_code == 200:  # empty the queue
        clerk.post(f"{url}/api/v1/windows/2/start", timeout=10)
        clerk.post(f"{url}/api/v1/windows/2/complete", timeout=10)
    tickets = [take(url) for _ in range(24)]
    first, far = tickets[0], tickets[-1]
    context, page = console(browser, url, "clerk2")
    try:
        expect(page.locator("#waiting li")).to_have_count(20, timeout=3000)
        page.keyboard.press("F1")
        expect(page.locator("#number")).to_have_text(first["number"], timeout=3000)
        page.keyboard.press("F2")
        expect(page.locator("#ticket-info")).to_contain_text("重呼 1", timeout=3000)
        page.keyboard.press("F2")
        expect(page.locator('[data-act="recall"]')).to_be_disabled(timeout=3000)
        expect(page.locator("#recall-hint")).to_have_text("已重呼 2 次（上限）")
        expect(page.locator('[data-act="recall"]')).to_have_attribute("title", "已重呼 2 次（上限）")
        page.keyboard.press("F3")
        expect(page.locator("#confirm-text")).to_contain_text(f"{first['number']} 将后移 3 位")
        page.click("#confirm-ok")
        expect(page.locator("#alert")).to_have_text(f"{first['number']} 已后移 3 位")
        row = page.locator("#waiting li", has=page.locator(f'[data-number="{first["number"]}"]'))
        expect(row).to_contain_text("过号回队")
        # 选呼 by number: the citizen at the counter holds a number beyond the 20 listed.
        assert page.locator(f'[data-number="{far["number"]}"]').count() == 0
        page.fill("#pick-form input", far["number"].lower())
        page.click("#pick-form button")
        expect(page.locator("#confirm-text")).to_have_text(f"确认选呼 {far['number']}？")
        page.click("#confirm-ok")
        expect(page.locator("#number")).to_have_text(far["number"], timeout=3000)
        page.keyboard.press("F4")
        expect(page.locator('[data-act="complete"]')).to_be_enabled(timeout=3000)
        page.keyboard.press("F5")
        expect(page.locator("#number")).to_have_text("—", timeout=3000)
        # The requeued ticket again: its second 过号 ends it, and the dialog says so.
        page.locator(f'[data-number="{first["number"]}"]').click()
        page.click("#confirm-ok")
        expect(page.locator("#number")).to_have_text(first["number"], timeout=3000)
        page.keyboard.press("F3")
        expect(page.locator("#confirm-text")).to_contain_text(f"{first['number']} 将作废")
        shot(page, "fix-zh-no-show-ends")
        page.click("#confirm-ok")
        expect(page.locator("#alert")).to_have_text(f"{first['number']} 已作废")
        assert ticket_status(url, first["id"]) == "no_show"
    finally:
        context.close()


def test_timer_runs_from_the_first_call_and_logout_with_a_called_ticket_asks(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    t = take(url)
    context, page = console(browser, url, "clerk3")
    try:
        clerk = staff_session(url, "clerk3")
        called = clerk.post(f"{url}/api/v1/windows/3/call-ticket", json={"ticket": t["id"]}, timeout=10).json()
        expect(page.locator("#number")).to_have_text(called["ticket"]["number"], timeout=3000)
        first = clerk.get(f"{url}/api/v1/windows/3", timeout=10).json()["window"]["current"]["first_called_at"]
        # The page counts from the first call: the same instant the API gives, however often it recalls.
        clerk.post(f"{url}/api/v1/windows/3/recall", timeout=10)
        expect(page.locator("#ticket-info")).to_contain_text("重呼 1", timeout=3000)
        assert page.evaluate("detail.current.first_called_at") == first
        page.keyboard.press("F4")
        expect(page.locator("#service-box")).to_be_visible(timeout=3000)
        expect(page.locator('[data-act="complete"]')).to_be_enabled(timeout=3000)
        page.keyboard.press("F5")
        expect(page.locator("#service-box")).to_be_hidden(timeout=3000)
        t2 = take(url)
        clerk.post(f"{url}/api/v1/windows/3/call-ticket", json={"ticket": t2["id"]}, timeout=10)
        expect(page.locator("#number")).to_have_text(t2["number"], timeout=3000)
        page.click("#logout")
        expect(page.locator("#confirm-text")).to_contain_text(f"当前号码 {t2['number']} 将重新排到队首")
        page.click("#confirm-cancel")
        assert ticket_status(url, t2["id"]) == "called"
        page.click("#logout")
        page.click("#confirm-ok")
        expect(page.locator("#login")).to_be_visible(timeout=3000)
        assert ticket_status(url, t2["id"]) == "waiting"
    finally:
        context.close()


def test_close_asks_when_citizens_wait(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    take(url)
    context, page = console(browser, url, "clerk5")
    try:
        expect(page.locator("#presence")).to_have_class("presence on", timeout=5000)
        page.click('[data-act="close"]')
        expect(page.locator("#confirm-text")).to_contain_text("人在等候")
        page.click("#confirm-cancel")
        expect(page.locator("#window-state")).to_have_text("开放")
    finally:
        context.close()


def test_window_display_says_idle_called_and_in_service(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    clerk = staff_session(url, "clerk4")
    assert clerk.post(f"{url}/api/v1/windows/4/presence", timeout=10).status_code == 200
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        wall.goto(f"{url}/display/window/4")
        expect(wall.locator("#state")).to_have_text("空闲", timeout=5000)
        expect(wall.locator("#current")).to_have_text("请稍候")
        t = take(url)
        number = clerk.post(f"{url}/api/v1/windows/4/call-ticket", json={"ticket": t["id"]}, timeout=10).json()
        expect(wall.locator("#state")).to_have_text(f"请 {number['ticket']['number']} 到本窗口", timeout=3000)
        expect(wall.locator("#current")).to_have_text(number["ticket"]["number"])
        shot(wall, "fix-window-display-called")
        clerk.post(f"{url}/api/v1/windows/4/start", timeout=10)
        expect(wall.locator("#state")).to_have_text("服务中", timeout=3000)
        clerk.post(f"{url}/api/v1/windows/4/complete", timeout=10)
        expect(wall.locator("#state")).to_have_text("空闲", timeout=3000)
    finally:
        wall.close()


def test_login_page_has_a_language_switch_and_english_states(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto(f"{url}/counter?lang=en")  # another tab chose English: the cookie follows
        page.goto(f"{url}/counter")
        expect(page.locator("#login h1")).to_have_text("Counter console")
        page.click('#login .lang a[lang="zh-CN"]')
        expect(page.locator("#login h1")).to_have_text("柜台叫号台")
        page.goto(f"{url}/counter")
        expect(page.locator("#login h1")).to_have_text("柜台叫号台", timeout=3000)
        page.click('#login .lang a[lang="en"]')
        page.fill("#login-form input[name=username]", "clerk7")
        page.fill("#login-form input[name=password]", "demo")
        page.click("#login-form button")
        expect(page.locator("#console")).to_be_visible(timeout=5000)
        staff_session(url, "clerk7").post(f"{url}/api/v1/windows/7/pause", json={"reason": "meal"}, timeout=10)
        expect(page.locator("#window-state")).to_have_text("Paused · meal break", timeout=3000)
        staff_session(url, "clerk7").post(f"{url}/api/v1/windows/7/close", timeout=10)
        expect(page.locator("#window-state")).to_have_text("Closed", timeout=3000)
        shot(page, "fix-en-closed")
    finally:
        context.close()


def test_a_session_ended_elsewhere_returns_the_console_to_its_login_form(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    context, page = console(browser, url, "clerk3")
    try:
        expect(page.locator('[data-act="pause"]')).to_be_enabled(timeout=5000)
        # The clerk logs out on another PC: logout ends every session of the account (docs/security.md).
        other = staff_session(url, "clerk3")
        assert other.post(f"{url}/api/v1/auth/logout", timeout=10).status_code == 204
        page.keyboard.press("F1")
        expect(page.locator("#login")).to_be_visible(timeout=5000)
        expect(page.locator("#console")).to_be_hidden()
        expect(page.locator("#session-ended")).to_have_text("登录已失效，请重新登录")
    finally:
        context.close()


def test_an_unverified_green_channel_number_is_confirmed_or_made_normal_at_the_counter(browser, live_server) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    first, second = take(url, "YB003", priority="disabled"), take(url, "YB003", priority="disabled")  # no ID: 待核验
    assert first["priority_verified"] is False
    context, page = console(browser, url, "clerk7")
    clerk = staff_session(url, "clerk7")
    assert clerk.post(f"{url}/api/v1/windows/7/open", timeout=10).status_code in (200, 409)  # an earlier test closed it
    try:
        for ticket, verified in ((first, True), (second, False)):
            r = clerk.post(f"{url}/api/v1/windows/7/call-ticket", json={"number": ticket["number"]}, timeout=10)
            assert r.status_code == 200, r.text
            expect(page.locator("#number")).to_have_text(ticket["number"], timeout=5000)
            expect(page.locator("#verify")).to_be_visible()
            if verified:
                page.click("#verify-ok")
                expect(page.locator("#verify")).to_be_hidden(timeout=5000)
                assert clerk.post(f"{url}/api/v1/windows/7/start", timeout=10).status_code == 200
                assert clerk.post(f"{url}/api/v1/windows/7/complete", timeout=10).status_code == 200
            else:
                page.click("#verify-no")
                page.click("#confirm-ok")
                expect(page.locator("#number")).to_have_text("—", timeout=5000)
        seen = staff_session(url, "manager")
        kept = seen.get(f"{url}/api/v1/tickets/{first['id']}", timeout=10).json()["ticket"]
        normal = seen.get(f"{url}/api/v1/tickets/{second['id']}", timeout=10).json()["ticket"]
        assert kept["priority"] == "disabled" and kept["priority_verified"] is True
        assert normal["priority"] is None and normal["status"] == "waiting"
    finally:
        context.close()
