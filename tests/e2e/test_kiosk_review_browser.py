"""What a reviewer playing a citizen (and an elderly one without a smartphone) found on the kiosk, in real
Chromium against the real server: no 跳过 after a refused ID, the printer's state known before a number is
taken, both items' materials for 一件事, no stale "已选" over the number, English wording, full-size 返回."""

from __future__ import annotations

import re

import pytest

from bench.server import staff_session
from devices.emulators import PrinterEmulator
from hall.idcard import make_valid
from tests.e2e.test_kiosk_browser import point_printer
from tests.e2e.test_kiosk_flows_browser import open_item, press_id

pytestmark = pytest.mark.browser
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
YOUNG = "330102198605101236"  # the reviewer's number: valid, born 1986
assert make_valid(YOUNG[:17]) == YOUNG


@pytest.fixture(scope="module")
def printer(live_server):
    """An emulated printer behind kiosk-1, checked by the server's health query (as its polling does)."""
    with PrinterEmulator() as emu:
        point_printer(live_server, "kiosk-1", emu.url)
        yield emu


def set_printer(server, printer, state: str) -> None:
    """Put the printer in ``state`` and let the server poll it now (what the 30 s monitor does)."""
    printer.state = state
    r = staff_session(server.url, "leader").post(f"{server.url}/api/v1/hall/devices/check", timeout=10)
    assert r.status_code == 200, r.text


def kiosk(browser, server, lang="zh_CN", viewport=PORTRAIT, elderly=False):
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=True)
    page = context.new_page()
    page.goto(f"{server.url}/kiosk?device=demo-kiosk-1")
    # The kiosk asks for its printer's state on load: wait for that answer, so the page shows what it knows.
    with page.expect_response(lambda r: "/api/v1/hall/devices/mine" in r.url):
        page.goto(f"{server.url}/kiosk?lang={lang}")
    page.locator("#categories button").first.wait_for()
    if elderly:
        page.locator("#elderly").click()
    return context, page


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_after_a_refusal_skip_is_not_offered(browser, live_server, printer, lang) -> None:
    from playwright.sync_api import expect

    set_printer(live_server, printer, "ok")
    context, page = kiosk(browser, live_server, lang)
    page.locator("#priority").click()
    page.locator('[data-group="elderly"]').click()
    expect(page.locator("#id-skip")).to_be_visible()  # no ID card with them: 跳过 is offered before any refusal
    press_id(page, YOUNG)
    page.locator("#id-ok").click()
    # Two sentences, each with its full stop.
    sentence = "绿色通道。可以改取普通号" if lang == "zh_CN" else re.compile(r"not available\. You can take")
    expect(page.locator("#id-error")).to_contain_text(sentence)
    expect(page.locator("#id-skip")).to_be_hidden()
    expect(page.locator("#id-skip-hint")).to_be_hidden()
    expect(page.locator("#id-title")).not_to_contain_text("可跳过" if lang == "zh_CN" else "optional")
    expect(page.locator("#id-normal")).to_be_visible()
    # Back to the groups and 老年人 again: still no 跳过 for this citizen.
    page.locator("#idpad .back").click()
    page.locator('[data-group="elderly"]').click()
    expect(page.locator("#id-skip")).to_be_hidden()
    expect(page.locator("#id-normal")).to_be_visible()
    # Another group is still open to them (shown at the window).
    page.locator("#idpad .back").click()
    page.locator('[data-group="disabled"]').click()
    expect(page.locator("#home")).to_be_visible()
    context.close()


def test_refused_from_an_item_takes_a_normal_number_for_that_item(browser, live_server, printer) -> None:
    from playwright.sync_api import expect

    set_printer(live_server, printer, "ok")
    context, page = kiosk(browser, live_server)
    open_item(page, "参保登记", "城乡居民参保登记")
    page.locator("#d-priority").click()
    page.locator('[data-group="elderly"]').click()
    press_id(page, YOUNG)
    page.locator("#id-ok").click()
    expect(page.locator("#id-skip")).to_be_hidden()
    page.locator("#id-normal").click()
    expect(page.locator("#d-title")).to_have_text("城乡居民参保登记")  # the item is kept
    page.locator("#take").click()
    expect(page.locator("#r-number")).to_have_text(re.compile(r"^A\d{3}$"), timeout=5000)
    expect(page.locator("#r-items")).not_to_contain_text("绿色通道")
    expect(page.locator("#r-verify")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_printer_down_is_known_before_the_number_and_the_number_is_kept_without_a_phone(
    browser, live_server, printer, lang
) -> None:
    from playwright.sync_api import expect

    set_printer(live_server, printer, "offline")
    context, page = kiosk(browser, live_server, lang)
    banner = page.locator("#printer-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("本机暂不能打印号票" if lang == "zh_CN" else "cannot print tickets")
    page.locator("#categories button").first.click()
    page.locator("#cat-items button").first.click()
    page.locator("#take").click()
    expect(page.locator("#r-number")).to_have_text(re.compile(r"^[A-Z]\d{3}$"), timeout=5000)
    keep = page.locator("#r-keep")
    expect(keep).to_be_visible()
    expect(keep).to_contain_text("请记住您的号码" if lang == "zh_CN" else "remember your number")
    expect(keep).to_contain_text("凭号码补打号票" if lang == "zh_CN" else "information desk can print")
    size = page.locator("#r-number").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 180, size  # very large
    page.screenshot(path=f"/tmp/kiosk-noprint-{lang}.png")
    context.close()
    # Fixed: the next page load (or the 30 s poll) drops the note.
    set_printer(live_server, printer, "ok")
    context, page = kiosk(browser, live_server, lang)
    expect(page.locator("#printer-banner")).to_be_hidden()
    context.close()


def test_own_printer_status_api(live_server, printer) -> None:
    import requests

    set_printer(live_server, printer, "out")
    r = requests.get(
        f"{live_server.url}/api/v1/hall/devices/mine", headers={"Authorization": "Bearer demo-kiosk-1"}, timeout=5
    )
    assert r.status_code == 200 and r.json() == {
        "device": "kiosk-1",
        "printer": True,
        "status": "paper_out",
        "can_print": False,
    }
    set_printer(live_server, printer, "near_end")
    r = requests.get(
        f"{live_server.url}/api/v1/hall/devices/mine", headers={"Authorization": "Bearer demo-kiosk-1"}, timeout=5
    )
    assert r.json()["can_print"] is True  # near end still prints
    assert requests.get(f"{live_server.url}/api/v1/hall/devices/mine", timeout=5).status_code == 401
    set_printer(live_server, printer, "ok")


def test_joint_item_lists_both_items_materials_and_the_banner_goes_after_issuing(browser, live_server, printer) -> None:
    from playwright.sync_api import expect

    set_printer(live_server, printer, "ok")
    context, page = kiosk(browser, live_server)
    open_item(page, "参保登记", "城乡居民参保登记")
    page.locator("#add").click()
    page.locator("#cat-items button:not([disabled])").first.click()
    second = page.locator("#d-title").inner_text()
    groups = page.locator("#d-materials .mgroup")
    expect(groups).to_have_count(2)
    expect(groups.nth(0).locator("h4")).to_have_text("城乡居民参保登记")
    expect(groups.nth(0)).to_contain_text("居民身份证或户口簿原件")
    expect(groups.nth(1).locator("h4")).to_have_text(second)
    assert groups.nth(1).locator("li").count() > 0
    expect(page.locator("#banner")).to_contain_text("已选")
    page.locator("#take").click()
    expect(page.locator("#r-items")).to_contain_text("一件事联办", timeout=5000)
    expect(page.locator("#banner")).to_be_hidden()
    context.close()


def test_english_has_no_full_width_punctuation(browser, live_server, printer) -> None:
    from playwright.sync_api import expect

    set_printer(live_server, printer, "ok")
    context, page = kiosk(browser, live_server, "en")
    page.locator("#priority").click()
    page.locator('[data-group="elderly"]').click()
    page.locator("#id-skip").click()
    expect(page.locator("#banner")).to_contain_text("Priority lane: ")
    assert not re.search("[：（）]", page.locator("#banner").inner_text())
    page.locator("#categories button").first.click()
    page.locator("#cat-items button").first.click()
    page.locator("#take").click()
    expect(page.locator("#r-number")).to_have_text(re.compile(r"^[A-Z]\d{3}$"), timeout=5000)
    expect(page.locator("#r-items")).to_contain_text("(Priority lane)")
    assert not re.search("[：（）]", page.locator("#r-items").inner_text())
    context.close()


ONE_LINE = """(b) => { const r = document.createRange(); r.selectNodeContents(b);
  const lines = new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
  return lines.size; }"""


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
@pytest.mark.parametrize("elderly", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_back_is_full_size_and_labels_stay_on_one_line(browser, live_server, printer, viewport, elderly, lang) -> None:
    from playwright.sync_api import expect

    set_printer(live_server, printer, "ok")
    context, page = kiosk(browser, live_server, lang, viewport, elderly)
    page.locator("#priority").click()
    page.locator('[data-group="elderly"]').click()
    press_id(page, YOUNG)
    page.locator("#id-ok").click()
    expect(page.locator("#id-normal")).to_be_visible()
    want = 96 if elderly else 64
    for sel in ("#idpad .back", "#id-normal", "#id-ok"):
        button = page.locator(sel)
        box = button.bounding_box()
        assert box["height"] >= want, (sel, box)
        assert button.evaluate(ONE_LINE) == 1, f"{sel} wraps"
        assert button.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), f"{sel} is cut off"
    back = page.locator("#idpad .back").bounding_box()
    others = [page.locator(s).bounding_box() for s in ("#id-normal", "#id-ok")]
    assert back["height"] >= max(o["height"] for o in others) - 1
    page.locator("#idpad .back").click()  # the groups screen: 返回 alone
    box = page.locator("#groups .back").bounding_box()
    assert box["height"] >= want and box["width"] >= 180, box
    context.close()
