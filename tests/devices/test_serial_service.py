"""The hall with its serial devices on real pty pairs (socat) and TCP lines: calls reach the strip, keypads
act for the window's clerk, pads rate, unplugging raises an alert and plugging back resends the state."""

from __future__ import annotations

import json
import socket

from sqlalchemy import select

from app import create_app
from devices.protocols import hall_serial as hs
from devices.serial_emulators import HallSerialDevice, ModbusLedDevice
from devices.service import IDLE_TEXT, NO_CLERK, PAD_ALREADY, PAD_NOTHING, PAD_THANKS, PAUSED_TEXT
from hall.models import AuditEntry, Rating, User, Window
from tests.conftest import make_config
from tests.devices.conftest import alerts_of, line_config, status_of, use_devices, wait_until
from tests.factories import act, issue


def current_number(svc, window: int) -> str | None:
    """The number now called or served at a window."""
    current = svc.engine.window_state(svc.hall_id, window).get("current")
    return current["number"] if current else None


def dead_url() -> str:
    """A socket:// URL where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"socket://127.0.0.1:{port}"


def set_clerk(svc, window: int, username: str | None) -> None:
    """Who works at a window now (Window.clerk_id)."""
    with svc.db.write() as session:
        w = session.scalar(select(Window).where(Window.hall_id == svc.hall_id, Window.number == window))
        w.clerk_id = session.scalar(select(User.id).where(User.username == username)) if username else None


def test_a_call_puts_the_frame_on_the_strip_over_a_pty(socat, lines, serial_service, svc, kiosk, staff) -> None:
    led = HallSerialDevice("led", 1)
    lines("hall-serial", [led], url=str(socat.device))
    use_devices(svc, **{"led-1": line_config(str(socat.hall))})
    assert serial_service.start()
    wait_until(lambda: led.shown == [("", IDLE_TEXT)], what="the idle text at start")
    ticket = issue(kiosk)
    act(staff("clerk1"), 1, "call-next")
    expected = hs.display_data(ticket["number"], "请到1号窗口")
    wait_until(lambda: any(f.command == "D" and f.data == expected for f in led.received), what="the call's frame")
    assert led.shown[-1] == (ticket["number"], "请到1号窗口")
    wait_until(lambda: status_of(svc, "led-1") == "ok", what="the strip recorded as ok")
    assert serial_service.check(svc.hall_id) == {"led-1": "ok"}


def test_keypad_keys_act_for_the_clerk_at_its_window(socat, lines, serial_service, svc, kiosk, staff) -> None:
    led, keypad = HallSerialDevice("led", 1), HallSerialDevice("keypad", 2)  # one RS-485 line, two addresses
    lines("hall-serial", [led, keypad], url=str(socat.device))
    use_devices(svc, **{"led-1": line_config(str(socat.hall), 1), "keypad-1": line_config(str(socat.hall), 2)})
    assert serial_service.start()
    first, _ = issue(kiosk), issue(kiosk)

    keypad.press("N")
    wait_until(lambda: current_number(svc, 1) == first["number"], what="the keypad's call")
    wait_until(lambda: keypad.shown[-1:] == [(first["number"], "已叫号")], what="the keypad's answer")
    wait_until(lambda: led.shown[-1:] == [(first["number"], "请到1号窗口")], what="the strip")
    with svc.db.read() as session:
        entry = session.execute(
            select(AuditEntry.actor, AuditEntry.role, AuditEntry.client).where(
                AuditEntry.action == "ticket.call", AuditEntry.target == first["number"]
            )
        ).one()
    assert tuple(entry) == ("clerk1", "clerk", "keypad:keypad-1")

    calls = led.shown.count((first["number"], "请到1号窗口"))
    keypad.press("R")
    wait_until(lambda: keypad.shown[-1:] == [(first["number"], "已重呼")], what="the recall")
    wait_until(lambda: led.shown.count((first["number"], "请到1号窗口")) == calls + 1, what="the strip again")

    keypad.press("S")
    wait_until(lambda: keypad.shown[-1:] == [(first["number"], "已过号")], what="过号")
    wait_until(lambda: led.shown[-1:] == [("", IDLE_TEXT)], what="the strip free again")
    assert current_number(svc, 1) is None

    keypad.press("P")
    wait_until(lambda: keypad.shown[-1:] == [("", PAUSED_TEXT)], what="the pause")
    wait_until(lambda: led.shown[-1:] == [("", PAUSED_TEXT)], what="暂停服务 on the strip")
    keypad.press("N")
    wait_until(lambda: "未开放" in keypad.shown[-1][1], what="a call refused while paused")
    keypad.press("P")
    wait_until(lambda: keypad.shown[-1:] == [("", "恢复服务")], what="the resume")
    wait_until(lambda: led.shown[-1:] == [("", IDLE_TEXT)], what="the strip open again")


def test_keypad_needs_the_clerk_of_its_window(lines, serial_service, svc, kiosk) -> None:
    keypad = HallSerialDevice("keypad", 1)
    line = lines("hall-serial", [keypad])
    use_devices(svc, **{"keypad-1": line_config(line.url)})
    assert serial_service.start()
    ticket = issue(kiosk)
    set_clerk(svc, 1, None)
    keypad.press("N")
    wait_until(lambda: keypad.shown[-1:] == [("", NO_CLERK)], what="the refusal on the keypad")
    set_clerk(svc, 1, "clerk2")  # clerk2 works window 2 only: the keypad has exactly clerk2's rights
    keypad.press("N")
    wait_until(lambda: "2号窗口" in (keypad.shown[-1][1] if len(keypad.shown) > 1 else ""), what="wrong window")
    assert svc.engine.ticket(svc.hall_id, ticket["id"])["status"] == "waiting"


def test_a_pad_press_rates_the_service_just_completed(lines, serial_service, svc, kiosk, staff) -> None:
    pad = HallSerialDevice("pad", 2)
    line = lines("hall-serial", [pad])
    use_devices(svc, **{"pad-1": line_config(line.url, 2)})
    assert serial_service.start()
    pad.rate(5)
    wait_until(lambda: pad.shown[-1:] == [("", PAD_NOTHING)], what="nothing to rate yet")

    ticket = issue(kiosk)
    clerk = staff("clerk1")
    for action in ("call-next", "start", "complete"):
        act(clerk, 1, action)
    pad.rate(5)
    wait_until(lambda: pad.shown[-1:] == [("", PAD_THANKS)], what="the thanks")
    pad.rate(1)
    wait_until(lambda: pad.shown[-1:] == [("", PAD_ALREADY)], what="one rating per 办件")
    with svc.db.read() as session:
        ratings = session.execute(
            select(Rating.score, Rating.channel, Rating.window_number).where(Rating.ticket_id == ticket["id"])
        ).all()
    assert [tuple(r) for r in ratings] == [(5, "pad", 1)]


def test_unplug_raises_offline_and_plug_back_resends(socat, lines, serial_service, svc, kiosk, staff) -> None:
    led = HallSerialDevice("led", 1)
    lines("hall-serial", [led], url=str(socat.device))
    use_devices(svc, **{"led-1": line_config(str(socat.hall))})
    assert serial_service.start()
    ticket = issue(kiosk)
    act(staff("clerk1"), 1, "call-next")
    showing = (ticket["number"], "请到1号窗口")
    wait_until(lambda: led.shown[-1:] == [showing] and status_of(svc, "led-1") == "ok", what="the call shown")

    socat.stop()  # pull the cable
    wait_until(
        lambda: [a["kind"] for a in alerts_of(svc, "led-1")] == ["device_offline"], timeout=5, what="offline alert"
    )
    assert status_of(svc, "led-1") == "offline"
    assert serial_service.check(svc.hall_id) == {"led-1": "offline"}
    before = len(led.shown)

    socat.start()  # plug it back in (the same device paths)
    wait_until(lambda: len(led.shown) > before and led.shown[-1] == showing, timeout=5, what="the state resent")
    wait_until(lambda: alerts_of(svc, "led-1") == [], timeout=5, what="the alert cleared")
    assert status_of(svc, "led-1") == "ok"


def test_modbus_strip_follows_its_window(lines, serial_service, svc, kiosk, staff) -> None:
    display = ModbusLedDevice(1)
    line = lines("modbus-led", [display])
    use_devices(svc, **{"led-2": line_config(line.url, 1, "modbus-led")})
    assert serial_service.start()
    ticket = issue(kiosk)
    clerk = staff("clerk2")
    act(clerk, 2, "call-next")
    wait_until(lambda: display.shown[-1:] == [(ticket["number"], "请到2号窗口")], what="the call on the display")
    act(clerk, 2, "start")
    act(clerk, 2, "complete")
    wait_until(lambda: display.shown[-1:] == [("", IDLE_TEXT)], what="free again")
    act(clerk, 2, "close")
    wait_until(lambda: display.shown[-1:] == [("", "窗口关闭")], what="窗口关闭")


def test_missing_or_misconfigured_devices_only_raise_alerts(serial_service, svc, kiosk, staff) -> None:
    nowhere = dead_url()
    use_devices(
        svc,
        **{
            "led-1": line_config(nowhere, 1),
            "keypad-1": line_config(nowhere, 2),
            "led-2": {"driver": "no-such-driver", "url": nowhere},
            "pad-2": line_config(nowhere, 300),
        },
    )
    assert serial_service.start()
    wait_until(lambda: status_of(svc, "led-1") == "offline" and status_of(svc, "keypad-1") == "offline", what="offline")
    wait_until(lambda: status_of(svc, "led-2") == "error" and status_of(svc, "pad-2") == "error", what="config errors")
    # the manager reads a sentence; the technical cause stays in the alert's details (a tooltip) and the log
    (led2,) = alerts_of(svc, "led-2")
    assert "故障" in led2["message"] and "no-such-driver" not in led2["message"]
    assert "配置错误" in led2["details"]["detail"] and "no-such-driver" in led2["details"]["detail"]
    assert [a["kind"] for a in alerts_of(svc, "led-1")] == ["device_offline"]
    issue(kiosk)
    act(staff("clerk1"), 1, "call-next")  # the hall works without its devices


def test_start_up_with_the_flag_and_nothing_plugged_in(db_path, clock) -> None:
    app = create_app(make_config(db_path, clock, AUTO_MIGRATE=False, SERIAL_DEVICES="1"))
    service = app.extensions["hall.devices"]
    try:
        assert service.running, "SERIAL_DEVICES=1 starts the devices even under TESTING"
        assert sorted(s.name for s in service.specs.values()) == [
            "keypad-1",
            "keypad-2",
            "led-1",
            "led-2",
            "pad-1",
            "pad-2",
        ]
    finally:
        service.stop()
        app.extensions["hall.broadcaster"].stop()
        app.extensions["hall"].db.dispose()
    assert not service.running


def test_devices_check_command(app, lines, svc) -> None:
    led = HallSerialDevice("led", 1)
    line = lines("hall-serial", [led])
    use_devices(svc, **{"led-1": line_config(line.url), "keypad-1": line_config(dead_url())})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hall", "devices", "check"])
    assert result.exit_code == 1, result.output  # the keypad (and the demo printers) are not there
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert rows["led-1"][1:6] == ["led", "1", "hall-serial", line.url, "#1"] and rows["led-1"][6] == "ok"
    assert rows["keypad-1"][6] == "offline"
    assert {"kiosk-1", "kiosk-2", "guide-printer"} <= set(rows) and rows["kiosk-1"][3] == "escpos"
    assert led.received, "the check polled the strip through the line"
    listing = json.loads(runner.invoke(args=["hall", "devices", "check", "--json"]).output)
    assert {r["name"]: r["status"] for r in listing}["led-1"] == "ok"


def test_the_managers_device_check_covers_serial_devices(lines, svc, staff) -> None:
    keypad = HallSerialDevice("keypad", 1)
    line = lines("hall-serial", [keypad])
    use_devices(svc, **{"keypad-1": line_config(line.url), "led-1": line_config(dead_url())})
    r = staff("manager").post("/api/v1/hall/devices/check")
    assert r.status_code == 200, r.get_json()
    devices = {d["name"]: d for d in r.get_json()["devices"]}
    assert devices["keypad-1"]["status"] == "ok" and devices["keypad-1"]["last_seen"]
    assert devices["led-1"]["status"] == "offline"
    assert [a["kind"] for a in alerts_of(svc, "led-1")] == ["device_offline"]


def test_a_paused_strip_says_why() -> None:
    from devices.service import strip_content

    assert strip_content(1, "paused", None, "meal") == ("", f"{PAUSED_TEXT}·就餐")
    assert strip_content(1, "paused", None, "away") == ("", f"{PAUSED_TEXT}·临时离开")
    assert strip_content(1, "paused", None) == ("", PAUSED_TEXT)
