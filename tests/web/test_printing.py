"""Printing through the API onto emulated ESC/POS printers (real TCP listeners): kiosk print, fallback,
guide-desk reprint, printer health alerts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from devices.emulators import PrinterEmulator
from hall.models import AuditEntry, Device
from tests.devices.escpos_decode import decode
from tests.factories import issue, item_code


def texts(job: bytes) -> str:
    """All text printed in one job, joined."""
    return "\n".join(op[1] for op in decode(job) if op[0] == "text")


def set_printer(svc, device: str, url: str | None, **extra) -> None:
    """Point a device's printer at ``url`` (None: no printer) in the hall's database."""
    with svc.db.write() as session:
        d = session.scalar(select(Device).where(Device.hall_id == svc.hall_id, Device.name == device))
        conf = dict(d.config or {})
        printer = {"url": url, "encoding": "gb18030", "width_mm": 80, "qr": "native", "timeout": 0.5, **extra}
        if d.kind == "printer":
            conf = printer if url else {}
        elif url:
            conf["printer"] = printer
        else:
            conf.pop("printer", None)
        d.config = conf


@pytest.fixture
def kiosk_printer(svc):
    """An emulated printer behind kiosk-1 (the demo kiosk token's device)."""
    with PrinterEmulator() as emu:
        set_printer(svc, "kiosk-1", emu.url)
        yield emu


@pytest.fixture
def guide_printer(svc):
    """An emulated guide-desk printer."""
    with PrinterEmulator() as emu:
        set_printer(svc, "guide-printer", emu.url)
        yield emu


def alerts(staff, source: str = "device:kiosk-1", **query) -> list[dict]:
    """The manager's alerts about one device (the demo's other printers are not running in tests)."""
    r = staff("manager").get("/api/v1/hall/alerts", query_string=query)
    assert r.status_code == 200, r.get_json()
    return [a for a in r.get_json()["alerts"] if a["source"] == source]


def test_kiosk_prints_the_slip_once(kiosk, kiosk_printer, svc) -> None:
    t = issue(kiosk, [item_code(kiosk)])
    r = kiosk.post(f"/api/v1/tickets/{t['id']}/print")
    assert r.status_code == 200
    out = r.get_json()
    assert out["printed"] is True and out["status"] == "ok" and out["ticket"]["number"] == t["number"]
    (job,) = kiosk_printer.wait_for_jobs(1)
    printed = texts(job)
    assert t["number"] in printed and "安澜县医疗保障服务大厅" in printed
    assert ("qr_store", t["track_url"]) in decode(job)
    again = kiosk.post(f"/api/v1/tickets/{t['id']}/print")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_printed"
    assert len(kiosk_printer.wait_for_jobs(2, timeout=0.3)) == 1, "a second slip for one number is refused"
    with svc.db.read() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == t["number"])).all()
    assert "ticket.print" in actions


@pytest.mark.parametrize(("state", "status"), [("out", "paper_out"), ("offline", "offline"), ("silent", "offline")])
def test_a_dead_printer_never_costs_the_number(kiosk, staff, kiosk_printer, state, status) -> None:
    kiosk_printer.state = state
    t = issue(kiosk, [item_code(kiosk)])
    r = kiosk.post(f"/api/v1/tickets/{t['id']}/print")
    assert r.status_code == 200
    out = r.get_json()
    assert out["printed"] is False and out["status"] == status
    assert "拍照或扫码" in out["message"]
    assert kiosk_printer.jobs == []
    # The ticket stands, and the citizen can follow it with the QR on screen.
    token = t["track_url"].rsplit("/", 1)[1]
    assert kiosk.get(f"/api/v1/tickets/{t['id']}?token={token}").get_json()["ticket"]["status"] == "waiting"
    kinds = {a["kind"] for a in alerts(staff)}
    assert ("paper_out" if status == "paper_out" else "device_offline") in kinds


def test_alerts_clear_when_the_printer_is_fixed(kiosk, staff, kiosk_printer) -> None:
    kiosk_printer.state = "out"
    t = issue(kiosk, [item_code(kiosk)])
    kiosk.post(f"/api/v1/tickets/{t['id']}/print")
    assert [a["kind"] for a in alerts(staff)] == ["paper_out"]
    kiosk_printer.state = "near_end"
    r = staff("manager").post("/api/v1/hall/devices/check")
    assert r.status_code == 200
    assert {d["name"]: d["status"] for d in r.get_json()["devices"]}["kiosk-1"] == "near_end"
    assert [a["kind"] for a in alerts(staff)] == ["paper_near_end"], "paper out cleared, near end raised"
    kiosk_printer.state = "ok"
    staff("manager").post("/api/v1/hall/devices/check")
    assert alerts(staff) == []
    history = alerts(staff, all=1)
    assert {a["kind"] for a in history} == {"paper_out", "paper_near_end"} and all(a["cleared_at"] for a in history)


def test_near_end_still_prints_and_warns(kiosk, staff, kiosk_printer) -> None:
    kiosk_printer.state = "near_end"
    t = issue(kiosk, [item_code(kiosk)])
    out = kiosk.post(f"/api/v1/tickets/{t['id']}/print").get_json()
    assert out["printed"] is True and out["status"] == "near_end" and len(kiosk_printer.wait_for_jobs(1)) == 1
    assert [a["kind"] for a in alerts(staff)] == ["paper_near_end"]


def test_kiosk_without_a_printer_shows_the_number_on_screen(kiosk, svc) -> None:
    set_printer(svc, "kiosk-1", None)
    t = issue(kiosk, [item_code(kiosk)])
    out = kiosk.post(f"/api/v1/tickets/{t['id']}/print").get_json()
    assert out["printed"] is False and out["status"] == "no_printer"


def test_guide_desk_reprints(kiosk, staff, kiosk_printer, guide_printer, svc) -> None:
    kiosk_printer.state = "out"
    t = issue(kiosk, [item_code(kiosk)])
    kiosk.post(f"/api/v1/tickets/{t['id']}/print")
    r = staff("leader").post(f"/api/v1/tickets/{t['id']}/reprint", json={})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["printed"] is True and r.get_json()["printer"] == "guide-printer"
    assert t["number"] in texts(guide_printer.wait_for_jobs(1)[0])
    named = staff("clerk1").post(f"/api/v1/tickets/{t['id']}/reprint", json={"printer": "guide-printer"})
    assert named.status_code == 200 and len(guide_printer.wait_for_jobs(2)) == 2
    with svc.db.read() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == t["number"])).all()
    assert actions.count("ticket.reprint") == 2


def test_print_and_reprint_are_guarded(app, client, kiosk, staff, guide_printer) -> None:
    t = issue(kiosk, [item_code(kiosk)])
    assert client.post(f"/api/v1/tickets/{t['id']}/print").status_code == 401
    assert client.post(f"/api/v1/tickets/{t['id']}/reprint", json={}).status_code == 401
    assert kiosk.post(f"/api/v1/tickets/{t['id']}/reprint", json={}).status_code == 403
    assert staff("clerk1").post(f"/api/v1/tickets/{t['id']}/print").status_code == 403
    assert client.get(f"/api/v1/tickets/{t['id']}/print").status_code == 405, "printing is never a GET"
    missing = staff("clerk1").post("/api/v1/tickets/999999/reprint", json={})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "ticket_not_found"
    unknown = staff("clerk1").post(f"/api/v1/tickets/{t['id']}/reprint", json={"printer": "nope"})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "printer_not_found"
    bad = staff("clerk1").post(f"/api/v1/tickets/{t['id']}/reprint", json={"printer": 5})
    assert bad.status_code == 422 and "error" in bad.get_json()
    assert staff("clerk1").get("/api/v1/hall/alerts").status_code == 403
    assert staff("clerk1").post("/api/v1/hall/devices/check").status_code == 403


def test_ended_tickets_are_not_printed(kiosk, staff, guide_printer) -> None:
    t = issue(kiosk, [item_code(kiosk)])
    token = t["track_url"].rsplit("/", 1)[1]
    assert kiosk.post(f"/api/v1/tickets/{t['id']}/cancel", json={"token": token}).status_code == 200
    r = staff("leader").post(f"/api/v1/tickets/{t['id']}/reprint", json={})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ticket_ended"
    assert guide_printer.jobs == []


def test_device_list_never_shows_tokens(staff, kiosk_printer) -> None:
    staff("manager").post("/api/v1/hall/devices/check")
    r = staff("manager").get("/api/v1/hall/devices")
    devices = {d["name"]: d for d in r.get_json()["devices"]}
    assert devices["kiosk-1"]["status"] == "ok" and devices["kiosk-1"]["last_seen"]
    assert "demo-kiosk" not in r.get_data(as_text=True)
