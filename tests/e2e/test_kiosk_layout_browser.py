"""Real Chromium on the kiosk at its two screen sizes, in normal and 大字 mode, in Chinese and English: every
screen keeps its actions (确认取号, 确定/跳过, 绿色通道/预约签到…) inside the viewport, never scrolls sideways,
and the header never wraps."""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.pagelayout import off_screen, overflow_px
from tests.e2e.test_kiosk_browser import QR_LOADED

pytestmark = pytest.mark.browser
SIZES = {"portrait": {"width": 1080, "height": 1920}, "landscape": {"width": 1920, "height": 1080}}
SHOTS = os.environ.get("HALL_SHOTS")
CATEGORY = "待遇享受"  # catalogue data stays Chinese in English too
# Lines of text a button's label takes (a wrapped "大字模/式" takes two).
LINES = """(sel) => [...document.querySelectorAll(sel)].map((el) => {
  const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
})"""


def check(page, name: str, selectors: list[str]) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/kiosk-{name}.png")
    assert overflow_px(page) <= 0, f"{name}: scrolls sideways"
    assert off_screen(page, selectors) == [], name


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("mode", ["normal", "large"])
@pytest.mark.parametrize("size", ["portrait", "landscape"])
def test_every_action_is_on_screen(browser, live_server, size, mode, lang) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=SIZES[size], locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/kiosk?device=demo-kiosk-1&lang={lang}")
    expect(page.locator("#categories button").first).to_be_visible()
    if mode == "large":
        page.locator("#elderly").click()
        expect(page.locator("body")).to_have_class(re.compile("elderly"))
    tag = f"{size}-{mode}-{lang}"
    assert max(page.evaluate(LINES, ".top .tool")) == 1, "a header button wraps"
    check(page, f"{tag}-home", [".top .tool", "#q", "#categories button", "#priority", "#booking"])
    page.locator("#q").click()  # the on-screen keyboard opens (a touch kiosk has no other)
    expect(page.locator("#keyboard")).to_be_visible()
    for letter in "YBK":
        page.locator(f'[data-letter="{letter}"]').click()
    expect(page.locator("#results button").first).to_be_visible()
    check(page, f"{tag}-search", ["#q", "[data-letter]", "#kb-close", "#results button", "#priority", "#booking"])
    page.locator("#q-clear").click()
    page.locator("#kb-close").click()
    page.get_by_role("button", name=CATEGORY, exact=True).click()
    check(page, f"{tag}-category", ["#cat-items button", "#pager button", "#category .back"])
    page.locator("#cat-items button").first.click()
    expect(page.locator("#detail")).to_be_visible()
    check(page, f"{tag}-detail", ["#take", "#add", "#detail .back"])
    page.locator("#detail .back").click()
    page.locator("#category .back").click()
    page.locator("#priority").click()
    check(page, f"{tag}-groups", ["[data-group]", "#groups .back"])
    page.locator('[data-group="elderly"]').click()
    expect(page.locator("#idpad")).to_be_visible()
    check(page, f"{tag}-idpad", [".key", "#id-ok", "#id-skip", "#idpad .back"])
    page.locator("#idpad .back").click()
    page.locator("#groups .back").click()
    page.locator("#booking").click()
    check(page, f"{tag}-checkin", [".bkey", "#b-ok", "#checkin .back"])
    page.locator("#checkin .back").click()
    page.get_by_role("button", name=CATEGORY, exact=True).click()
    page.locator("#cat-items button").first.click()
    page.locator("#take").click()
    expect(page.locator("#r-number")).to_have_text(re.compile(r"^[A-Z]\d{3}$"), timeout=5000)
    expect(page.locator("#r-print")).not_to_have_text(re.compile(r"正在打印|Printing"), timeout=5000)
    page.wait_for_function(QR_LOADED)
    check(page, f"{tag}-done", ["#r-number", "#r-qr", "#finish"])
    context.close()
