"""Hall-local times, the 预约 mark, English answers and the small page fixes (issue 14 items 2, 3, 11).

The server may run under TZ=UTC: every time a person reads is the hall's clock (Asia/Shanghai in the demo).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from devices.emulators import PrinterEmulator
from hall import queries
from tests.devices.escpos_decode import decode
from tests.factories import act, elderly_id, error_code, issue
from tests.web.test_printing import set_printer

SH = ZoneInfo("Asia/Shanghai")


def printed_text(job: bytes) -> str:
    """Every printed line of one slip, joined by newlines."""
    return "\n".join(op[1] for op in decode(job) if op[0] == "text")


@pytest.fixture
def utc_server(monkeypatch):
    """The process runs under TZ=UTC, as a server in a container often does."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def printer(svc):
    """An emulated ESC/POS printer behind the demo kiosk."""
    with PrinterEmulator() as emu:
        set_printer(svc, "kiosk-1", emu.url)
        yield emu


def test_slip_prints_the_hall_clock_under_tz_utc(utc_server, kiosk, printer, clock) -> None:
    clock.set(datetime(2026, 11, 23, 1, 52, tzinfo=UTC))  # 09:52 in the hall
    assert time.strftime("%H:%M", time.localtime(clock.now().timestamp())) == "01:52", "the process is on UTC"
    t = issue(kiosk)
    assert kiosk.post(f"/api/v1/tickets/{t['id']}/print").get_json()["printed"] is True
    (job,) = printer.wait_for_jobs(1)
    text = printed_text(job)
    assert "取号时间：2026-11-23 09:52" in text, text
    assert "01:52" not in text
    assert "【预约】" not in text, "a walk-in ticket carries no booking mark"


def test_a_checked_in_booking_is_marked_everywhere(client, kiosk, staff, svc, clock, printer) -> None:
    slot = datetime(2026, 11, 23, 9, 30, tzinfo=SH).isoformat()
    r = client.post("/api/v1/appointments", json={"item": "YB001", "slot_start": slot, "id_number": elderly_id(1960)})
    assert r.status_code == 201, r.get_json()
    code = r.get_json()["booking"]["code"]
    clock.advance(minutes=20)
    r = kiosk.post(f"/api/v1/appointments/{code}/check-in")
    assert r.status_code == 201, r.get_json()
    ticket = r.get_json()["ticket"]
    assert ticket["appointment"] is True
    # the slip
    assert kiosk.post(f"/api/v1/tickets/{ticket['id']}/print").get_json()["printed"] is True
    (job,) = printer.wait_for_jobs(1)
    assert "【预约】" in printed_text(job)
    # the counter's waiting list, then its current ticket once called
    clerk = staff("clerk1")
    waiting = clerk.get("/api/v1/windows/1").get_json()["window"]["waiting"]
    assert [(w["number"], w["appointment"]) for w in waiting] == [(ticket["number"], True)]
    called = act(clerk, 1, "call-next")["ticket"]
    assert called["number"] == ticket["number"] and called["appointment"] is True
    walk_in = issue(kiosk)
    assert walk_in["appointment"] is False
    waiting = clerk.get("/api/v1/windows/1").get_json()["window"]["waiting"]
    assert [(w["number"], w["appointment"]) for w in waiting] == [(walk_in["number"], False)]
    assert clerk.get("/api/v1/windows/1").get_json()["window"]["current"]["appointment"] is True
    # the displays' snapshot and the phone page's ticket
    with svc.db.read() as session:
        snap = queries.display_snapshot(session, svc.hall_id, clock.now())
    assert snap["recent_calls"][0]["number"] == ticket["number"] and snap["recent_calls"][0]["appointment"] is True
    assert next(w for w in snap["windows"] if w["number"] == 1)["current"]["appointment"] is True
    assert snap["hall"]["timezone"] == "Asia/Shanghai"
    token = ticket["track_url"].rsplit("/", 1)[1]
    assert client.get(f"/api/v1/tickets/{ticket['id']}", query_string={"token": token}).get_json()["ticket"][
        "appointment"
    ]


def test_favicon_is_served_and_linked(client) -> None:
    with client.get("/favicon.ico") as r:
        assert r.status_code == 200 and r.mimetype == "image/x-icon" and r.data[:4] == b"\x00\x00\x01\x00"
    for page in ("/kiosk", "/counter", "/manager", "/manager/reports", "/admin", "/city", "/display/hall"):
        assert '<link rel="icon" href="/favicon.ico">' in client.get(page).text, page


def test_an_unknown_window_display_says_so(client) -> None:
    r = client.get("/display/window/99")
    assert r.status_code == 404 and "没有这个窗口" in r.text and "99" in r.text
    r = client.get("/display/window/99?lang=en")
    assert r.status_code == 404 and "No such window" in r.text
    assert client.get("/display/window/1").status_code == 200


def test_window_display_names_the_window_in_each_language(client) -> None:
    zh = client.get("/display/window/3").text
    assert '<div class="window-no">3<small>号窗口</small></div>' in zh and "<title>3号窗口</title>" in zh
    en = client.get("/display/window/3?lang=en").text
    assert '<div class="window-no"><small>Window </small>3<small></small></div>' in en, "not '3 window'"


def test_pages_carry_the_hall_time_zone(client) -> None:
    for page in ("/kiosk", "/counter", "/manager", "/manager/reports", "/display/hall", "/display/window/1"):
        assert 'data-tz="Asia/Shanghai"' in client.get(page).text, page


def test_reports_page_renders_in_english(client) -> None:
    r = client.get("/manager/reports?lang=en")
    assert r.status_code == 200 and "Nine in ten tickets" in r.text


def test_errors_and_print_outcomes_answer_in_the_request_language(staff, kiosk) -> None:
    clerk = staff("clerk1")
    zh = clerk.post("/api/v1/windows/1/complete")
    assert error_code(zh) == "no_current_ticket" and "1号窗口当前没有号码" in zh.get_json()["error"]["message"]
    en = clerk.post("/api/v1/windows/1/complete?lang=en")
    assert error_code(en) == "no_current_ticket"
    assert en.get_json()["error"]["message"] == "This window has no current ticket"
    t = issue(kiosk)
    out = kiosk.post(f"/api/v1/tickets/{t['id']}/print?lang=en").get_json()
    assert out["printed"] is False and out["message"].startswith("The printer is unavailable.")


def test_every_english_error_text_is_english() -> None:
    """Each code's English text exists in the catalogue (a missing one would answer Chinese on an English page)."""
    from babel.messages.pofile import read_po

    from hall.api.error_texts import TEXTS

    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    with open(os.path.join(root, "hall/translations/en/LC_MESSAGES/messages.po"), "rb") as fh:
        catalog = read_po(fh)
    missing = [code for code, text in TEXTS.items() if text not in catalog or not catalog[text].string]
    assert not missing


def test_reports_and_exports_use_the_hall_day_and_clock(utc_server, staff, clock) -> None:
    """At 01:00 on the 24th in the hall it is still the 23rd in UTC: the default report is the hall's day."""
    import io

    from openpyxl import load_workbook

    clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # 01:00 on Tuesday 24 November in the hall
    manager = staff("manager")
    r = manager.get("/api/v1/reports").get_json()
    assert r["from"] == "2026-11-24" and r["generated_at"].startswith("2026-11-24T01:00")
    x = manager.get("/api/v1/reports/export", query_string={"format": "xlsx"})
    assert "report-demo-day-2026-11-24-hall.xlsx" in x.headers["Content-Disposition"]
    info = dict(load_workbook(io.BytesIO(x.data)).worksheets[1].iter_rows(values_only=True))
    assert info["生成时间"] == "2026-11-24 01:00:00" and info["起"] == "2026-11-24"


def test_a_printed_slip_is_announced_in_english(kiosk, printer) -> None:
    t = issue(kiosk)
    kiosk.set_cookie("lang", "en")  # the kiosk page's choice travels in its cookie
    out = kiosk.post(f"/api/v1/tickets/{t['id']}/print").get_json()
    assert out["printed"] is True and out["message"] == "Please take your ticket"
