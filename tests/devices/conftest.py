"""Fixtures for serial device tests: waiting without timing assumptions, pty pairs from socat, TCP lines,
and the hall's DeviceService pointed at them."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from devices.drivers import SERIAL_KINDS
from devices.serial_emulators import EmulatedLine, LineEmulator
from hall.models import Device
from tests.conftest import require


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds (never asserts speed)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class SocatPair:
    """Two linked ptys (``hall`` and ``device`` paths) made by socat; stop() is pulling the cable."""

    def __init__(self, directory: Path) -> None:
        self.hall = directory / "tty-hall"
        self.device = directory / "tty-device"
        self.proc: subprocess.Popen | None = None

    def start(self) -> SocatPair:
        """Create the pair (again, at the same paths)."""
        for link in (self.hall, self.device):
            link.unlink(missing_ok=True)  # a link left by a killed socat
        self.proc = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.hall}", f"pty,raw,echo=0,link={self.device}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: self.hall.exists() and self.device.exists(), what="socat's pty links")
        return self

    def stop(self) -> None:
        """Kill socat: both ends see their pty go away."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
            self.proc = None


@pytest.fixture
def socat(tmp_path: Path) -> Iterator[SocatPair]:
    """A running socat pty pair (skipped without socat, failed under HALL_REQUIRE_ALL=1)."""
    require(shutil.which("socat") is not None, "socat is not installed")
    pair = SocatPair(tmp_path).start()
    yield pair
    pair.stop()


@pytest.fixture
def lines() -> Iterator[Callable[..., LineEmulator]]:
    """Factory: ``lines("hall-serial", [devices], url=… | listen=…)`` → a running LineEmulator, closed after."""
    made: list[LineEmulator] = []

    def make(driver: str, devices: list[Any], **where: Any) -> LineEmulator:
        if not where:
            where = {"listen": ("127.0.0.1", 0)}
        emulator = LineEmulator(EmulatedLine(driver, devices), **where)
        made.append(emulator)
        return emulator

    yield make
    for emulator in made:
        emulator.close()


def use_devices(svc: Any, **configs: dict[str, Any]) -> None:
    """Give the named serial devices these configs; every other serial device of the demo hall is switched off."""
    with svc.db.write() as session:
        rows = session.scalars(select(Device).where(Device.hall_id == svc.hall_id, Device.kind.in_(SERIAL_KINDS)))
        for device in rows:
            device.active = device.name in configs
            if device.name in configs:
                device.config = configs[device.name]


def line_config(url: str, address: int = 1, driver: str = "hall-serial", **extra: Any) -> dict[str, Any]:
    """A device config with quick polls (tests wait for outcomes, they never assume timing)."""
    return {"driver": driver, "url": url, "address": address, "poll_seconds": 0.05, "timeout": 0.3, **extra}


@pytest.fixture
def serial_service(app: Any) -> Iterator[Any]:
    """The app's DeviceService, not yet started (tests configure devices first); stopped after the test."""
    service = app.extensions["hall.devices"]
    service.backoff_max = 0.5
    service.sync_seconds = 0.0  # strips follow events only: what a test sees comes from what it did
    yield service
    service.stop()


def alerts_of(svc: Any, device: str) -> list[dict[str, Any]]:
    """Open alerts about one device."""
    return [a for a in svc.alerts.open_alerts(svc.hall_id) if a["source"] == f"device:{device}"]


def status_of(svc: Any, device: str) -> str | None:
    """A device's recorded health."""
    return {d["name"]: d["status"] for d in svc.alerts.devices(svc.hall_id)}.get(device)
