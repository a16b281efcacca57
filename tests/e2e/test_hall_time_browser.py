"""Times people read are the hall's clock, with the server under TZ=UTC and the browser PC in New York.

The demo hall is in Asia/Shanghai (UTC+8, no DST); New York is 12 or 13 hours behind it, so a time shown in the
server's or the browser's zone can never pass for the hall's.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.server import ROOT, Server
from devices.emulators import PrinterEmulator
from tests.devices.escpos_decode import texts
from tests.e2e.test_kiosk_browser import PORTRAIT, point_printer, take_ticket

pytestmark = pytest.mark.browser
SH = ZoneInfo("Asia/Shanghai")
NY = "America/New_York"


@pytest.fixture(scope="module")
def utc_server():
    """The real server on UTC (as in a container), open all hours."""
    with Server(env={"TZ": "UTC"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def printer(utc_server):
    """An emulated ESC/POS printer behind kiosk-1."""
    with PrinterEmulator() as emu:
        point_printer(utc_server, "kiosk-1", emu.url)
        yield emu


@pytest.fixture
def new_york(browser):
    """A browser context whose PC clock is set to New York."""
    context = browser.new_context(viewport=PORTRAIT, locale="zh-CN", timezone_id=NY)
    yield context
    context.close()


def issued_at(server: Server, number: str) -> datetime:
    """When a ticket was issued, from the server's database (stored as naive UTC)."""
    db = sqlite3.connect(server.instance / "hall.db")
    try:
        (raw,) = db.execute("SELECT issued_at FROM tickets WHERE number = ? ORDER BY id DESC", (number,)).fetchone()
    finally:
        db.close()
    return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)


def hours_around(zone: ZoneInfo | str, read) -> tuple[set[str], str]:
    """What ``read()`` returned, with the zone's hour (HH) just before and just after reading it."""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    before = datetime.now(zone).strftime("%H")
    value = read()
    return {before, datetime.now(zone).strftime("%H")}, value


def test_slip_and_phone_page_show_the_hall_clock(utc_server, printer, new_york) -> None:
    from playwright.sync_api import expect

    page = new_york.new_page()
    page.goto(f"{utc_server.url}/kiosk?device=demo-kiosk-1")
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == NY
    number = take_ticket(page, "参保登记", "城乡居民参保登记")
    at = issued_at(utc_server, number)
    hall_clock = at.astimezone(SH).strftime("%Y-%m-%d %H:%M")
    slip = next(job for job in printer.wait_for_jobs(1) if number in texts(job))
    lines = texts(slip)
    assert f"取号时间：{hall_clock}" in lines, lines
    assert not any(at.strftime("%H:%M") in line for line in lines if line.startswith("取号时间")), "not UTC"
    # the citizen's phone page (the slip's QR)
    phone = new_york.new_page()
    phone.goto(f"{utc_server.url}/t/{_token_of(utc_server, number)}")
    expect(phone.locator("#issued")).to_have_text(at.astimezone(SH).strftime("%H:%M"))


def _token_of(server: Server, number: str) -> str:
    db = sqlite3.connect(server.instance / "hall.db")
    try:
        (token,) = db.execute("SELECT track_token FROM tickets WHERE number = ? ORDER BY id DESC", (number,)).fetchone()
    finally:
        db.close()
    return token


def test_hall_display_clock_is_the_halls(utc_server, new_york) -> None:
    page = new_york.new_page()
    page.goto(f"{utc_server.url}/display/hall")
    page.wait_for_function("() => /^\\d\\d:\\d\\d:\\d\\d$/.test(document.getElementById('clock').textContent)")
    hours, shown = hours_around(SH, lambda: page.locator("#clock").inner_text())
    assert shown[:2] in hours, (shown, hours)
    ny_hours, _ = hours_around(NY, lambda: None)
    assert shown[:2] not in ny_hours, "the browser's zone is not the hall's"


@pytest.fixture(scope="module")
def closed_server(tmp_path_factory):
    """The real server on UTC with today a holiday: the kiosk shows its closed screen."""
    today = datetime.now(SH).date()
    toml = (ROOT / "hall/halls/demo.toml").read_text()
    holidays = ", ".join(f'"{today + timedelta(days=n)}"' for n in range(2))
    toml = toml.replace("[hours]\n", f"[hours]\nholidays = [{holidays}]\n", 1)
    path = Path(tmp_path_factory.mktemp("closed")) / "hall.toml"
    path.write_text(toml)
    with Server(env={"TZ": "UTC", "HALL_OPEN_ALL_HOURS": "0", "HALL_CONFIG": str(path)}) as srv:
        yield srv


def test_kiosk_closed_screen_names_the_halls_opening_time(closed_server, new_york) -> None:
    from playwright.sync_api import expect

    page = new_york.new_page()
    page.goto(f"{closed_server.url}/kiosk?device=demo-kiosk-1")
    expect(page.locator("#closed")).to_be_visible(timeout=10000)
    expect(page.locator("#c-next")).to_contain_text("08:30")
    text = page.locator("#c-next").inner_text()
    assert not re.search(r"\b(00|19|20):30\b", text), f"UTC or New York time shown: {text}"


def test_dashboard_clock_is_the_halls(utc_server, new_york) -> None:
    from playwright.sync_api import expect

    page = new_york.new_page()
    page.goto(f"{utc_server.url}/manager")
    page.fill("#login-form input[name=username]", "manager")
    page.fill("#login-form input[name=password]", "demo")
    page.click("#login-form button")
    expect(page.locator("#app")).to_be_visible(timeout=5000)
    page.wait_for_function("() => /\\d\\d:\\d\\d:\\d\\d/.test(document.getElementById('clock').textContent)")
    hours, shown = hours_around(SH, lambda: page.locator("#clock").inner_text())
    assert shown.strip()[:2] in hours, (shown, hours)
