"""``python -m devices.emulate keypad|hall`` as subprocesses: they print what they are told to show and turn
typed input into key presses and ratings that the hall's line master collects."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devices.bus import Bus
from devices.drivers import DRIVERS, DeviceSpec
from devices.protocols import hall_serial as hs
from tests.devices.conftest import line_config, wait_until

ROOT = Path(__file__).resolve().parents[2]


class Emulator:
    """A running emulator process whose output lines are collected by a thread."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devices.emulate", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def seen(self, pattern: str) -> re.Match | None:
        return next((m for line in list(self.lines) if (m := re.search(pattern, line))), None)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def emulators():
    made: list[Emulator] = []

    def start(*args: str) -> Emulator:
        made.append(Emulator(*args))
        return made[-1]

    yield start
    for emulator in made:
        emulator.stop()


def collect(url: str, specs: list[DeviceSpec]) -> tuple[Bus, list]:
    events: list = []
    bus = Bus(url, DRIVERS["hall-serial"](), specs, on_event=lambda spec, event: events.append((spec.name, event)))
    return bus.start(), events


def test_keypad_and_pad_on_one_line(emulators) -> None:
    emu = emulators("keypad", "--listen", "127.0.0.1:0", "--address", "1", "--also", "pad:2")
    url = wait_until(lambda: emu.seen(r"(socket://127\.0\.0\.1:\d+)"), timeout=20, what="the listening line")[1]
    specs = [
        DeviceSpec.from_config("kp", "keypad", 1, line_config(url, 1)),
        DeviceSpec.from_config("pad", "pad", 1, line_config(url, 2)),
    ]
    bus, events = collect(url, specs)
    try:
        wait_until(lambda: bus.check(timeout=1) == {"kp": "ok", "pad": "ok"}, what="both devices answering")
        emu.type("n")
        emu.type("5")
        wait_until(lambda: len(events) == 2, what="the typed key and rating")
        assert sorted(events, key=lambda e: e[0]) == [("kp", hs.KeyPress("N")), ("pad", hs.RatingPress(5))]
        bus.show("kp", "A001", "已叫号")
        wait_until(lambda: emu.seen(r"\[keypad@1\] A001\s+已叫号"), what="the keypad's screen in the output")
    finally:
        bus.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_whole_demo_hall_in_one_process(emulators, tmp_path: Path) -> None:
    demo = (ROOT / "hall" / "halls" / "demo.toml").read_text(encoding="utf-8")
    ports = {old: free_port() for old in sorted(set(re.findall(r"127\.0\.0\.1:(9\d\d\d)", demo)))}
    config = tmp_path / "hall.toml"
    config.write_text(re.sub(r"127\.0\.0\.1:(9\d\d\d)", lambda m: f"127.0.0.1:{ports[m[1]]}", demo), encoding="utf-8")
    emu = emulators("hall", "--config", str(config))
    wait_until(lambda: emu.seen("type <device> <input>"), timeout=20, what="the emulators to start")
    assert emu.seen(r"printer kiosk-1 on tcp://127\.0\.0\.1") and emu.seen(r"modbus-led line .*led-2")
    keypad_url = f"socket://127.0.0.1:{ports['9202']}"
    bus, events = collect(keypad_url, [DeviceSpec.from_config("keypad-1", "keypad", 1, line_config(keypad_url, 1))])
    try:
        wait_until(lambda: bus.check(timeout=1) == {"keypad-1": "ok"}, what="keypad-1 answering")
        emu.type("keypad-1 r")
        wait_until(lambda: events == [("keypad-1", hs.KeyPress("R"))], what="the typed recall")
        emu.type("kiosk-1 out")
        wait_until(lambda: emu.seen("kiosk-1: state out"), what="the printer state change")
    finally:
        bus.stop()
