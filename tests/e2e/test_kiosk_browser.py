"""Real Chromium on the kiosk page against the real server, printing to an emulated network printer."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from bench.server import ROOT, Server
from devices.emulators import PrinterEmulator
from tests.devices.escpos_decode import texts

pytestmark = pytest.mark.browser
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
QR_LOADED = "() => { const i = document.getElementById('r-qr'); return i.complete && i.naturalWidth > 0; }"


def point_printer(server: Server, device: str, url: str) -> None:
    """Give a kiosk of the running server a printer at ``url`` (printers are read from the database per job)."""
    db = sqlite3.connect(server.instance / "hall.db")
    with db:
        (raw,) = db.execute("SELECT config FROM devices WHERE name = ?", (device,)).fetchone()
        conf = json.loads(raw or "{}")
        conf["printer"] = {"url": url, "encoding": "gb18030", "width_mm": 80, "qr": "native", "timeout": 0.5}
        db.execute("UPDATE devices SET config = ? WHERE name = ?", (json.dumps(conf), device))
    db.close()


@pytest.fixture(scope="module")
def printer(live_server):
    """An emulated printer behind kiosk-1."""
    with PrinterEmulator() as emu:
        point_printer(live_server, "kiosk-1", emu.url)
        yield emu


@pytest.fixture
def page(browser, live_server, printer):
    """A fresh kiosk tab (portrait), registered with kiosk-1's token."""
    printer.state = "ok"
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN")
    p = context.new_page()
    p.goto(f"{live_server.url}/kiosk?device=demo-kiosk-1")
    yield p
    context.close()


def take_ticket(page, category: str, item: str) -> str:
    from playwright.sync_api import expect

    page.get_by_role("button", name=category, exact=True).click()
    page.get_by_role("button", name=re.compile(item)).first.click()
    expect(page.locator("#d-title")).to_have_text(item)
    page.locator("#take").click()
    expect(page.locator("#r-number")).to_have_text(re.compile(r"^[A-Z]\d{3}$"), timeout=5000)
    return page.locator("#r-number").inner_text()


def test_pick_an_item_see_materials_take_a_number_and_get_the_slip(page, printer, tmp_path) -> None:
    from playwright.sync_api import expect

    assert "device=" not in page.url, "the token leaves the address bar"
    page.get_by_role("button", name="参保登记", exact=True).click()
    page.get_by_role("button", name=re.compile("城乡居民参保登记")).click()
    expect(page.locator("#d-materials")).to_contain_text("居民身份证或户口簿原件")
    expect(page.locator("#d-limit")).to_have_text("当场办结")
    expect(page.locator("#d-online")).to_be_visible()  # 掌上办 hint for an online-capable item
    page.locator("#take").click()
    expect(page.locator("#r-number")).to_have_text(re.compile(r"^A\d{3}$"), timeout=5000)
    number = page.locator("#r-number").inner_text()
    expect(page.locator("#r-ahead")).to_contain_text("前面还有")
    expect(page.locator("#r-print")).to_have_text("请取走号票", timeout=5000)
    page.wait_for_function(QR_LOADED, timeout=5000)  # the tracking QR loads
    jobs = printer.wait_for_jobs(1)
    assert any(number in texts(job) for job in jobs)
    shot = tmp_path / "kiosk.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20000
    page.locator("#finish").click()
    expect(page.locator("#home")).to_be_visible()


def test_search_finds_items(page) -> None:
    from playwright.sync_api import expect

    page.locator("#q").fill("报销")
    expect(page.locator("#results button").first).to_contain_text("报销")
    expect(page.locator("#categories")).to_be_hidden()


def test_elderly_mode_has_larger_type_and_fewer_choices(page) -> None:
    from playwright.sync_api import expect

    normal = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    page.locator("#elderly").click()
    expect(page.locator("body")).to_have_class(re.compile("elderly"))
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") > normal * 1.3
    page.get_by_role("button", name="待遇享受", exact=True).click()
    assert page.locator("#cat-items button").count() <= 4
    expect(page.locator("#pager")).to_be_visible()


def test_an_invalid_id_number_shows_the_message(page) -> None:
    from playwright.sync_api import expect

    page.locator("#priority").click()
    page.get_by_role("button", name="65周岁以上老年人").click()
    for digit in "110101195001011230":  # checksum digit wrong (should be 9)
        page.locator(f'.key[data-key="{digit}"]').click()
    page.locator("#id-ok").click()
    # Checked before the item: the pad says what is wrong and stays.
    expect(page.locator("#idpad")).to_be_visible()
    expect(page.locator("#id-error")).to_contain_text("校验")
    # Correct the last digit: the elderly citizen gets a priority number.
    page.locator('.key[data-key="⌫"]').click()
    page.locator('.key[data-key="9"]').click()
    page.locator("#id-ok").click()
    expect(page.locator("#banner")).to_contain_text("绿色通道")
    page.get_by_role("button", name="参保登记", exact=True).click()
    page.get_by_role("button", name=re.compile("城乡居民参保登记")).click()
    page.locator("#take").click()
    expect(page.locator("#r-items")).to_contain_text("绿色通道", timeout=5000)


def test_dead_printer_leaves_the_number_on_screen(page, printer) -> None:
    from playwright.sync_api import expect

    printer.state = "out"
    before = len(printer.jobs)
    number = take_ticket(page, "参保登记", "城乡居民参保登记")
    expect(page.locator("#r-print")).to_contain_text("拍照或扫码", timeout=5000)
    expect(page.locator("body")).to_have_class(re.compile("noprint"))
    page.wait_for_function(QR_LOADED, timeout=5000)
    assert number and len(printer.jobs) == before


def test_joint_ticket_of_two_departments_in_landscape(browser, live_server, printer) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/kiosk?device=demo-kiosk-1")
    page.get_by_role("button", name="参保登记", exact=True).click()
    page.get_by_role("button", name=re.compile("城乡居民参保登记")).click()
    page.locator("#add").click()
    expect(page.locator("#cat-title")).to_have_text("请选择另一个部门的事项")
    # Only the other department's items can be chosen.
    page.locator("#cat-items button:not([disabled])").first.click()
    expect(page.locator("#d-chosen")).to_contain_text("一件事联办")
    page.locator("#take").click()
    expect(page.locator("#r-items")).to_contain_text("一件事联办", timeout=5000)
    context.close()


def test_unregistered_browser_is_told_so(browser, live_server) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PORTRAIT)
    page = context.new_page()
    page.goto(f"{live_server.url}/kiosk")
    expect(page.locator("#unregistered")).to_be_visible()
    context.close()


def test_closed_hall_shows_the_closed_screen(browser, tmp_path) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from playwright.sync_api import expect

    config = (ROOT / "hall" / "halls" / "demo.toml").read_text(encoding="utf-8")
    # Today (the hall's day) is a holiday: a week with no opening day at all is refused at start-up.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    config = re.sub(r"^\[hours\]$", f'[hours]\nholidays = ["{today}"]', config, count=1, flags=re.M)
    path = tmp_path / "closed.toml"
    path.write_text(config, encoding="utf-8")
    with Server(env={"HALL_CONFIG": str(path), "HALL_OPEN_ALL_HOURS": "0"}) as server:
        context = browser.new_context(viewport=PORTRAIT)
        page = context.new_page()
        page.goto(f"{server.url}/kiosk?device=demo-kiosk-1")
        expect(page.locator("#closed")).to_be_visible(timeout=5000)
        expect(page.locator("#c-today")).to_have_text("今日不办公")
        context.close()


def test_appointment_check_in_at_the_kiosk(page, live_server) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import requests
    from playwright.sync_api import expect

    from hall.idcard import make_valid

    # A slot that is open now: the live server accepts tickets at any hour, but bookings follow the calendar,
    # so book through the API for the next open slot of any day and check that the kiosk refuses it early.
    slots = []
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)  # from the day after tomorrow
    for _ in range(10):
        day += timedelta(days=1)
        r = requests.get(
            f"{live_server.url}/api/v1/appointments/slots", params={"item": "YB001", "day": day.isoformat()}, timeout=10
        )
        slots = [s for s in r.json()["slots"] if s["open"]]
        if slots:
            break
    booking = requests.post(
        f"{live_server.url}/api/v1/appointments",
        json={"item": "YB001", "slot_start": slots[0]["start"], "id_number": make_valid("11010119600101123")},
        timeout=10,
    ).json()["booking"]
    page.locator("#booking").click()
    for digit in booking["code"]:
        page.locator(f'.bkey[data-key="{digit}"]').click()
    page.locator("#b-ok").click()
    # Not today: the kiosk says so instead of giving a number.
    expect(page.locator("#b-error")).to_contain_text("签到只限预约当天", timeout=5000)
    page.locator('.bkey[data-key="⌫"]').click()
    page.locator("#b-ok").click()
    expect(page.locator("#b-error")).to_have_text("预约号为6位数字")
