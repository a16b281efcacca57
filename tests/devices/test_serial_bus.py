"""A line's master against emulated devices over real TCP sockets and ptys: displays, key presses, retries,
addressing several devices on one line, health, reconnect. No Flask here; waits never assume timing."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from devices.bus import Bus
from devices.drivers import DRIVERS, DeviceSpec
from devices.protocols import hall_serial as hs
from devices.serial_emulators import EmulatedLine, HallSerialDevice, ModbusLedDevice
from devices.transport import SerialLink
from tests.devices.conftest import line_config, wait_until


class Recorder:
    """Collects a bus's status changes and events."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, str, str | None]] = []
        self.events: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    def status(self, spec: DeviceSpec, status: str, detail: str | None) -> None:
        with self.lock:
            self.statuses.append((spec.name, status, detail))

    def event(self, spec: DeviceSpec, event: Any) -> None:
        with self.lock:
            self.events.append((spec.name, event))

    def last(self, name: str) -> str | None:
        with self.lock:
            return next((s for n, s, _ in reversed(self.statuses) if n == name), None)


@pytest.fixture
def buses():
    """Factory for started buses, stopped after the test."""
    made: list[Bus] = []

    def make(url: str, specs: list[DeviceSpec], recorder: Recorder, driver: str = "hall-serial") -> Bus:
        bus = Bus(url, DRIVERS[driver](), specs, on_status=recorder.status, on_event=recorder.event, backoff_max=0.3)
        made.append(bus.start())
        return bus

    yield make
    for bus in made:
        bus.stop()


def spec(name: str, kind: str, url: str, address: int = 1, driver: str = "hall-serial", **extra: Any) -> DeviceSpec:
    return DeviceSpec.from_config(name, kind, 1, line_config(url, address, driver, **extra))


class LossyLine(EmulatedLine):
    """Loses the answers whose numbers (0, 1, …) are in ``lose``: the host must retry."""

    def __init__(self, devices: list[Any], lose: set[int]) -> None:
        super().__init__("hall-serial", devices)
        self.lose = lose
        self.answers = 0

    def receive(self, data: bytes) -> bytes:
        out = super().receive(data)
        if out:
            n, self.answers = self.answers, self.answers + 1
            if n in self.lose:
                return b""
        return out


def test_strip_keypad_and_pad_share_one_line_by_address(lines, buses) -> None:
    led, keypad, pad = HallSerialDevice("led", 1), HallSerialDevice("keypad", 2), HallSerialDevice("pad", 3)
    line = lines("hall-serial", [led, keypad, pad])
    rec = Recorder()
    bus = buses(
        line.url,
        [spec("led", "led", line.url, 1), spec("kp", "keypad", line.url, 2), spec("pad", "pad", line.url, 3)],
        rec,
    )
    bus.show("led", "A001", "请到1号窗口")
    bus.show("kp", "A001", "已叫号")
    keypad.press("N")
    pad.rate(4)
    wait_until(lambda: len(rec.events) == 2, what="the key press and the rating")
    assert sorted(rec.events, key=lambda e: e[0]) == [("kp", hs.KeyPress("N")), ("pad", hs.RatingPress(4))]
    wait_until(lambda: led.shown and keypad.shown, what="both displays")
    assert led.shown == [("A001", "请到1号窗口")] and keypad.shown == [("A001", "已叫号")] and pad.shown == []
    assert bus.check() == {"led": "ok", "kp": "ok", "pad": "ok"}
    assert keypad.pending == [] and pad.pending == []
    # Every device answered IDENTIFY with its own kind.
    assert all(any(f.command == "I" for f in d.received) for d in (led, keypad, pad))


def test_a_lost_answer_is_retried_without_acting_twice(lines, buses) -> None:
    led = HallSerialDevice("led", 1)
    line = lines("hall-serial", [], listen=("127.0.0.1", 0))
    line.line = LossyLine([led], lose=set(range(0, 40, 2)))  # every other answer vanishes
    rec = Recorder()
    bus = buses(line.url, [spec("led", "led", line.url)], rec)
    bus.show("led", "A002", "请到1号窗口")
    wait_until(lambda: led.shown, what="the display")
    first = next(f for f in led.received if f.command == "D")
    # Done with it once the host moves on to a newer command.
    wait_until(lambda: any(f.seq > first.seq for f in led.received), what="the next command")
    displays = [f for f in led.received if f.command == "D"]
    assert len(displays) >= 2 and len({f.seq for f in displays}) == 1, "retries repeat the SEQ"
    assert led.shown == [("A002", "请到1号窗口")], "the retry was answered again, not shown again"


def test_a_key_press_survives_a_lost_poll_answer(lines) -> None:
    keypad = HallSerialDevice("keypad", 1)
    line = lines("hall-serial", [], listen=("127.0.0.1", 0))
    lossy = LossyLine([keypad], lose=set())
    line.line = lossy
    rec = Recorder()
    bus = Bus(line.url, DRIVERS["hall-serial"](), [spec("kp", "keypad", line.url)], on_event=rec.event)
    bus.start()
    try:
        wait_until(lambda: lossy.answers > 3, what="polls")
        lossy.lose = {lossy.answers + 1, lossy.answers + 2}  # lose the answers around the press
        keypad.press("R")
        wait_until(lambda: rec.events, what="the key press")
        wait_until(lambda: lossy.answers > max(lossy.lose) + 5, what="more polls")
    finally:
        bus.stop()
    assert rec.events == [("kp", hs.KeyPress("R"))], "delivered exactly once"


def test_refusals_are_errors_and_silence_is_offline(lines, buses) -> None:
    led = HallSerialDevice("keypad", 1)  # configured as a strip below: a different kind answers IDENTIFY
    right = HallSerialDevice("led", 2)
    line = lines("hall-serial", [led, right])
    rec = Recorder()
    bus = buses(line.url, [spec("wrong", "led", line.url, 1), spec("right", "led", line.url, 2)], rec)
    wait_until(lambda: rec.last("wrong") == "error", what="a kind mismatch")
    assert "设备类型不符" in [d for n, s, d in rec.statuses if n == "wrong"][-1]
    wait_until(lambda: rec.last("right") == "ok", what="the right device")
    right.silent = True
    wait_until(lambda: rec.last("right") == "offline", what="the silent device going offline")
    bus.show("right", "A003", "请到1号窗口")
    right.silent = False
    wait_until(lambda: right.shown == [("A003", "请到1号窗口")], what="the display once it answers again")
    assert rec.last("right") == "ok"


def test_unplug_and_plug_back_over_tcp(lines, buses) -> None:
    led = HallSerialDevice("led", 1)
    first = lines("hall-serial", [led])
    rec = Recorder()
    bus = buses(first.url, [spec("led", "led", first.url)], rec)
    bus.show("led", "A004", "请到1号窗口")
    wait_until(lambda: led.shown, what="the first display")
    first.close()  # the converter loses power
    wait_until(lambda: rec.last("led") == "offline", what="offline after the unplug")
    assert bus.check(timeout=1) == {"led": "offline"}
    again = HallSerialDevice("led", 1)  # a device that remembers nothing
    lines("hall-serial", [again], listen=("127.0.0.1", first.port))
    wait_until(lambda: again.shown == [("A004", "请到1号窗口")], what="the display resent after reconnecting")
    wait_until(lambda: rec.last("led") == "ok", what="ok again")


def test_modbus_display_over_tcp(lines, buses) -> None:
    display = ModbusLedDevice(5)
    line = lines("modbus-led", [display])
    rec = Recorder()
    bus = buses(line.url, [spec("led", "led", line.url, 5, "modbus-led")], rec, driver="modbus-led")
    bus.show("led", "B012", "请到2号窗口")
    wait_until(lambda: display.shown, what="the Modbus display")
    assert display.shown == [("B012", "请到2号窗口")]
    assert display.registers[0] == 12
    assert bus.check() == {"led": "ok"}
    display.silent = True
    wait_until(lambda: rec.last("led") == "offline", what="offline when it stops answering")


def test_a_strip_over_a_real_pty_pair(socat, lines, buses) -> None:
    led = HallSerialDevice("led", 1)
    lines("hall-serial", [led], url=str(socat.device))
    rec = Recorder()
    bus = buses(str(socat.hall), [spec("led", "led", str(socat.hall))], rec)
    bus.show("led", "A005", "请到1号窗口")
    wait_until(lambda: led.shown == [("A005", "请到1号窗口")], what="the display over the pty")
    assert bus.check() == {"led": "ok"}


def test_link_reports_a_missing_port_and_echoes_on_loop() -> None:
    states: list[tuple[bool, str | None]] = []
    missing = SerialLink("/nonexistent/ttyUSB9", on_data=lambda data: None, on_state=lambda *s: states.append(s))
    with missing:
        wait_until(lambda: states, what="the first failed open")
        assert states[0][0] is False and "ttyUSB9" in (states[0][1] or "")
        assert not missing.connected
    got = bytearray()
    with SerialLink("loop://", on_data=got.extend) as loop:
        assert loop.wait_connected(5)
        frame = hs.encode(hs.Frame(1, 0, "P"))
        loop.write(frame)
        wait_until(lambda: bytes(got) == frame, what="the echo")
