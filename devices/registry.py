"""The hall's devices with a driver: serial devices (devices/drivers.py) and ESC/POS printers, by name.

The hall TOML names a driver per device, e.g.::

    [[devices]]
    name = "led-1"
    kind = "led"                 # led | pad | keypad
    window = 1
    config = { driver = "hall-serial", url = "socket://127.0.0.1:9201", address = 1 }

Printers (a kiosk's ``config.printer`` table, a printer device's own config) are listed here with the driver
``escpos``; they are printed on and checked by kiosk/printing.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from devices.drivers import DRIVERS, SERIAL_KINDS, DeviceSpec
from devices.printer import PrinterConfig
from hall.db import Database
from hall.models import Device

PRINTER_DRIVER = "escpos"


@dataclass(frozen=True)
class Entry:
    """One device with a driver; ``problem`` when its configuration cannot work."""

    name: str
    kind: str
    window: int | None
    driver: str
    url: str
    address: int | None = None
    problem: str | None = None
    spec: DeviceSpec | None = None  # serial devices whose configuration is valid
    hall_id: int = 0

    @property
    def key(self) -> tuple[int, str]:
        """Unique across halls: (hall id, device name)."""
        return self.hall_id, self.name

    @property
    def serial(self) -> bool:
        """Driven over a serial line by this package (not a printer)."""
        return self.driver != PRINTER_DRIVER


def describe(device: Device) -> Entry | None:
    """The registry entry for a device row (None: a device without a driver, e.g. a display or a tablet)."""
    conf = dict(device.config or {})
    where = {"name": device.name, "kind": device.kind, "window": device.window_number, "hall_id": device.hall_id}
    if device.kind in SERIAL_KINDS:
        driver, url = str(conf.get("driver", "")) or "?", str(conf.get("url", ""))
        try:
            spec = DeviceSpec.from_config(device.name, device.kind, device.window_number, conf, hall_id=device.hall_id)
        except ValueError as exc:
            return Entry(**where, driver=driver, url=url, problem=str(exc))
        return Entry(**where, driver=spec.driver, url=spec.url, address=spec.address, spec=spec)
    raw = (conf if conf.get("url") else None) if device.kind == "printer" else conf.get("printer")
    if not raw:
        return None
    try:
        cfg = PrinterConfig.from_dict(dict(raw))
    except (ValueError, TypeError) as exc:
        url = str(raw.get("url", "")) if isinstance(raw, dict) else ""
        return Entry(**where, driver=PRINTER_DRIVER, url=url, problem=str(exc))
    return Entry(**where, driver=PRINTER_DRIVER, url=cfg.url)


def entries(db: Database, hall_id: int) -> list[Entry]:
    """Every active device of the hall that has a driver, by name."""
    with db.read() as session:
        rows = session.scalars(
            select(Device).where(Device.hall_id == hall_id, Device.active.is_(True)).order_by(Device.name)
        ).all()
        return [entry for row in rows if (entry := describe(row)) is not None]


def lines(specs: list[DeviceSpec]) -> tuple[dict[str, list[DeviceSpec]], dict[tuple[int, str], str]]:
    """Serial devices grouped by line (URL), and the problems that keep some off any line.

    Devices sharing a URL share an RS-485 line: they need the same driver and baud rate and distinct addresses.
    """
    grouped: dict[str, list[DeviceSpec]] = {}
    problems: dict[tuple[int, str], str] = {}
    for spec in specs:
        line = grouped.setdefault(spec.url, [])
        first = line[0] if line else None
        if first is not None and (first.driver, first.baudrate) != (spec.driver, spec.baudrate):
            problems[spec.key] = f"{spec.url} 上已有 {first.name}（{first.driver}, {first.baudrate}），驱动或波特率不同"
        elif any(other.address == spec.address or other.name == spec.name for other in line):
            problems[spec.key] = f"{spec.url} 上地址 {spec.address} 或名称 {spec.name} 已被占用"
        else:
            line.append(spec)
    return {url: line for url, line in grouped.items() if line}, problems


def driver_names() -> list[str]:
    """Every driver the configuration may name."""
    return sorted(DRIVERS) + [PRINTER_DRIVER]


def entry_dict(entry: Entry) -> dict[str, Any]:
    """A plain dict for listings."""
    return {
        "name": entry.name,
        "kind": entry.kind,
        "window": entry.window,
        "driver": entry.driver,
        "url": entry.url,
        "address": entry.address,
        "problem": entry.problem,
    }
