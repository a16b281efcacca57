"""Real Chromium on the kiosk against the real server: search by the words people use and by pinyin initials on
the on-screen keyboard, the green channel (ID checked before the item, refusal keeps the citizen, 跳过 → 待核验),
the idle reset to Chinese and normal mode, and a citizen's whole path: kiosk → slip → phone → called → rated."""

from __future__ import annotations

import re

import pytest
import requests

from bench.server import staff_session
from devices.emulators import PrinterEmulator
from hall.idcard import make_valid
from tests.devices.escpos_decode import decode, texts
from tests.e2e.test_kiosk_browser import point_printer

pytestmark = pytest.mark.browser
PORTRAIT = {"width": 1080, "height": 1920}
PHONE = {"width": 390, "height": 844}
OLD = make_valid("11010119500101123")  # born 1950
YOUNG = make_valid("11010119900101123")  # born 1990


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)
    p = context.new_page()
    p.goto(f"{live_server.url}/kiosk?device=demo-kiosk-1")
    p.locator("#categories button").first.wait_for()
    yield p
    context.close()


def press_id(page, number: str) -> None:
    for digit in number:
        page.locator(f'.key[data-key="{digit}"]').click()


def open_item(page, category: str, item: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name=category, exact=True).click()
    page.get_by_role("button", name=re.compile(re.escape(item))).first.click()
    expect(page.locator("#d-title")).to_have_text(item)


def tracked(page, server) -> str:
    """The phone page of the ticket just taken (its view data is embedded), found from the kiosk's QR."""
    token = page.locator("#r-qr").get_attribute("src").split("/")[2]
    r = requests.get(f"{server.url}/t/{token}", timeout=5)
    assert r.status_code == 200
    return r.text


def test_search_by_keyword_and_by_pinyin_initials(page) -> None:
    from playwright.sync_api import expect

    for words in ("医保卡", "社保卡", "补办社保卡"):
        page.locator("#q").fill(words)
        expect(page.locator("#results")).to_contain_text("社会保障卡补换")
    page.locator("#q").fill("报销")  # a name still matches first
    expect(page.locator("#results button").first).to_contain_text("报销")
    page.locator("#q-clear").click()
    expect(page.locator("#categories")).to_be_visible()
    page.locator("#q").click()
    for letter in "SBK":  # 社保卡 on the on-screen keyboard
        page.locator(f'[data-letter="{letter}"]').click()
    expect(page.locator("#q")).to_have_value("sbk")
    expect(page.locator("#results button").first).to_contain_text("社会保障卡补换")
    page.locator('[data-letter="⌫"]').click()
    page.locator("#q-clear").click()
    for letter in "YDJY":  # 异地就医
        page.locator(f'[data-letter="{letter}"]').click()
    expect(page.locator("#results button").first).to_contain_text("异地就医备案")
    page.locator("#results button").first.click()
    expect(page.locator("#d-title")).to_have_text("异地就医备案")


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_refused_id_stays_explains_and_offers_a_normal_number(page, live_server, lang) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/kiosk?lang={lang}")
    page.locator("#priority").click()
    page.locator('[data-group="elderly"]').click()
    press_id(page, YOUNG)
    # Only the first and last 4 digits are on screen while typing.
    shown = page.locator("#id-value").inner_text()
    assert shown.startswith(YOUNG[:4]) and shown.endswith(YOUNG[-4:]) and YOUNG[4:14] not in shown
    assert "•" * 10 in shown
    page.locator("#id-ok").click()
    expect(page.locator("#id-error")).to_contain_text("未满65周岁" if lang == "zh_CN" else "under 65")
    expect(page.locator("#idpad")).to_be_visible()  # not sent back home
    page.locator("#id-normal").click()
    expect(page.locator("#home")).to_be_visible()
    expect(page.locator("#banner")).to_be_hidden()
    open_item(page, "参保登记", "城乡居民参保登记")
    page.locator("#take").click()
    expect(page.locator("#r-number")).to_have_text(re.compile(r"^A\d{3}$"), timeout=5000)
    expect(page.locator("#r-items")).not_to_contain_text("绿色通道" if lang == "zh_CN" else "Priority")


def test_id_is_checked_before_the_item_and_the_item_is_kept(page, live_server) -> None:
    from playwright.sync_api import expect

    open_item(page, "参保登记", "城乡居民参保登记")
    page.locator("#d-priority").click()
    page.locator('[data-group="elderly"]').click()
    press_id(page, OLD[:-1] + ("0" if OLD[-1] != "0" else "1"))  # a wrong check digit
    page.locator("#id-ok").click()
    expect(page.locator("#id-error")).to_contain_text("校验")
    expect(page.locator("#idpad")).to_be_visible()
    page.locator('.key[data-key="⌫"]').click()
    page.locator(f'.key[data-key="{OLD[-1]}"]').click()
    page.locator("#id-ok").click()
    # Back on the item chosen before, now in the green channel.
    expect(page.locator("#detail")).to_be_visible()
    expect(page.locator("#d-title")).to_have_text("城乡居民参保登记")
    expect(page.locator("#banner")).to_contain_text("绿色通道")
    page.locator("#take").click()
    expect(page.locator("#r-items")).to_contain_text("绿色通道", timeout=5000)
    expect(page.locator("#r-verify")).to_be_hidden()
    assert re.search(r'"priority_verified":\s*true', tracked(page, live_server))


def test_skip_gives_a_green_channel_number_to_be_verified(page, live_server) -> None:
    from playwright.sync_api import expect

    page.locator("#priority").click()
    page.locator('[data-group="elderly"]').click()
    page.locator("#id-skip").click()
    expect(page.locator("#banner")).to_contain_text("待核验")
    open_item(page, "参保登记", "城乡居民参保登记")
    page.locator("#take").click()
    expect(page.locator("#r-verify")).to_be_visible(timeout=5000)
    assert re.search(r'"priority_verified":\s*false', tracked(page, live_server))  # for the counter to show


def test_idle_reset_to_chinese_and_normal_mode_with_a_countdown(browser, live_server) -> None:
    from playwright.sync_api import expect

    admin = staff_session(live_server.url, "admin")
    settings = f"{live_server.url}/api/v1/admin/settings"
    r = admin.put(settings, json={"kiosk": {"idle_seconds": 3, "idle_warning_seconds": 2}}, timeout=10)
    assert r.status_code == 200, r.text
    try:
        context = browser.new_context(viewport=PORTRAIT, has_touch=True)
        page = context.new_page()
        page.goto(f"{live_server.url}/kiosk?device=demo-kiosk-1&lang=en")
        page.locator("#elderly").click()
        page.get_by_role("button", name="参保登记", exact=True).click()
        expect(page.locator("#category")).to_be_visible()
        # The countdown warns first; a touch keeps the citizen where they are.
        expect(page.locator("#idle")).to_be_visible(timeout=10000)
        expect(page.locator("#idle-n")).to_have_text(re.compile(r"^\d+ s$"))
        page.locator("#idle-stay").click()
        expect(page.locator("#idle")).to_be_hidden()
        expect(page.locator("#category")).to_be_visible()
        # Left alone: back to the home screen, in Chinese and normal mode, for the next citizen.
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN", timeout=15000)
        expect(page.locator("#home")).to_be_visible()
        expect(page.locator("#elderly")).to_have_text("大字模式")
        expect(page.locator("body")).not_to_have_class(re.compile("elderly"))
        assert page.evaluate("sessionStorage.getItem('kioskElderly')") is None
        context.close()
    finally:
        admin.put(settings, json={"kiosk": {"idle_seconds": 60, "idle_warning_seconds": 10}}, timeout=10)


def test_a_citizens_whole_path(browser, live_server) -> None:
    """Kiosk (search, take) → slip (its QR) → phone page → called at window 4 → 办结 → rated, also after reload."""
    from playwright.sync_api import expect

    url = live_server.url
    with PrinterEmulator() as printer:
        point_printer(live_server, "kiosk-1", printer.url)
        kiosk = browser.new_context(viewport=PORTRAIT, has_touch=True).new_page()
        kiosk.goto(f"{url}/kiosk?device=demo-kiosk-1")
        kiosk.locator("#q").click()
        for letter in "CXJM":  # 城乡居民参保登记
            kiosk.locator(f'[data-letter="{letter}"]').click()
        kiosk.get_by_role("button", name=re.compile("城乡居民参保登记")).click()
        kiosk.locator("#take").click()
        expect(kiosk.locator("#r-number")).to_have_text(re.compile(r"^A\d{3}$"), timeout=5000)
        number = kiosk.locator("#r-number").inner_text()
        expect(kiosk.locator("#r-print")).to_have_class(re.compile("ok"), timeout=5000)
        job = printer.wait_for_jobs(1)[-1]
        assert any(number in line for line in texts(job))
        track_url = next(op[1] for op in decode(job) if op[0] == "qr_store")
    assert "/t/" in track_url
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(track_url.replace(track_url.split("/t/")[0], url))
    expect(phone.locator("#number")).to_have_text(number)
    expect(phone.locator("#wait")).to_be_visible()
    clerk = staff_session(url, "clerk4")
    for _ in range(30):  # earlier tests of this module left numbers waiting: serve them first
        called = clerk.post(f"{url}/api/v1/windows/4/call-next", timeout=10).json()["ticket"]
        if called["number"] == number:
            break
        for action in ("start", "complete"):
            clerk.post(f"{url}/api/v1/windows/4/{action}", timeout=10)
    expect(phone.locator("#call")).to_have_text("请到4号窗口办理", timeout=8000)
    for action in ("start", "complete"):
        assert clerk.post(f"{url}/api/v1/windows/4/{action}", timeout=10).status_code == 200
    expect(phone.locator("#call")).to_be_hidden()
    phone.locator('[data-score="4"]').click()
    phone.locator("#rate-send").click()
    expect(phone.locator("#rated")).to_be_visible(timeout=5000)
    phone.reload()
    expect(phone.locator("#rated")).to_be_visible()
    expect(phone.locator("#rate")).to_be_hidden()


def test_a_long_item_page_shows_a_cue_to_scroll(browser, live_server) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/kiosk?device=demo-kiosk-1")
    page.locator("#elderly").click()
    open_item(page, "费用报销", "医疗费用零星（手工）报销")  # six materials and the 掌上办 QR: taller than the screen
    expect(page.locator("#detail")).to_have_class(re.compile(r"\bmore\b"))
    cue = page.evaluate("getComputedStyle(document.querySelector('#detail > .bar'), '::before').content")
    assert "向下滑动查看更多" in cue
    page.locator("#detail > .body").evaluate("b => b.scrollTo(0, b.scrollHeight)")
    expect(page.locator("#detail")).not_to_have_class(re.compile(r"\bmore\b"))
    expect(page.locator("#take")).to_be_in_viewport(ratio=1)
    context.close()
