"""Printing tickets for kiosks and the guide desk, and watching printer health.

The receipt layout lives in kiosk/receipt.py (printer-agnostic) and the ESC/POS code in devices/printer.py;
this module decides which printer a ticket goes to, turns failures into the on-screen fallback, and reports
every printer's status to the alerts so the manager sees "缺纸" or "离线" and sees it clear.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import select

from devices.printer import PrinterConfig, PrinterStatus, PrintFailed, print_receipt, query_status
from hall.alerts import Alerts
from hall.db import Database
from hall.models import Device
from hall.ticker import Ticker
from kiosk.receipt import build_receipt

log = logging.getLogger(__name__)


def N_(text: str) -> str:  # noqa: N802 - the gettext marker: the API answers these in the request's language
    """Mark a message for translation (hall/api/tickets.py translates it)."""
    return text


# What the citizen or the guide sees when the slip did not come out. The ticket is issued either way.
FAILURE_MESSAGES = {
    PrinterStatus.PAPER_OUT: N_("打印机缺纸，号码已取到，请拍照或扫码保存"),
    PrinterStatus.OFFLINE: N_("打印机暂不可用，号码已取到，请拍照或扫码保存"),
    PrinterStatus.ERROR: N_("打印出错，号码已取到，请拍照或扫码保存"),
}
NO_PRINTER = N_("本机未连接打印机，请拍照或扫码保存号码")
PRINTED = N_("请取走号票")


def printer_config(device: Device) -> PrinterConfig | None:
    """The printer a device prints on: a kiosk's ``config.printer`` table, or a printer device's own config."""
    conf = device.config or {}
    raw = (conf if conf.get("url") else None) if device.kind == "printer" else conf.get("printer")
    if not raw:
        return None
    try:
        return PrinterConfig.from_dict(dict(raw))
    except (ValueError, TypeError, KeyError) as exc:
        log.error("printer of device %s is misconfigured: %s", device.name, exc)
        return None


class PrintService:
    """Prints tickets on the right printer and keeps the printers' health and alerts current."""

    def __init__(self, db: Database, alerts: Alerts, *, notice: str | None = None) -> None:
        self.db = db
        self.alerts = alerts
        self.notice = notice
        self._monitor: Ticker | None = None
        self._lock = threading.Lock()  # one slip at a time per process: two jobs on one printer interleave

    def printers(self, hall_id: int) -> dict[str, PrinterConfig]:
        """Every device of the hall that has a printer, by device name."""
        with self.db.read() as session:
            devices = session.scalars(select(Device).where(Device.hall_id == hall_id, Device.active.is_(True)))
            return {d.name: cfg for d in devices if (cfg := printer_config(d)) is not None}

    def default_printer(self, hall_id: int, settings: dict[str, Any]) -> str | None:
        """The guide-desk printer for reprints: ``settings.guide_printer``, else the first printer device."""
        printers = self.printers(hall_id)
        wanted = settings.get("guide_printer")
        if wanted in printers:
            return wanted
        with self.db.read() as session:
            names = session.scalars(
                select(Device.name).where(Device.hall_id == hall_id, Device.kind == "printer").order_by(Device.name)
            ).all()
        return next((n for n in names if n in printers), None)

    def print_ticket(
        self, hall_id: int, device: str | None, ticket: dict[str, Any], *, hall_name: str, timezone: str | None = None
    ) -> dict:
        """Print one ticket (times in the hall's ``timezone``); never raises for printer trouble.

        Returns ``{printed, status, message}``.
        """
        cfg = self.printers(hall_id).get(device) if device else None
        if cfg is None:
            return {"printed": False, "status": "no_printer", "message": NO_PRINTER, "printer": device}
        blocks = build_receipt(
            ticket, hall_name=hall_name, width_mm=cfg.width_mm, notice=self.notice, timezone=timezone
        )
        try:
            with self._lock:
                status = print_receipt(cfg, blocks)
        except PrintFailed as exc:
            status = PrinterStatus(exc.status)
            self._report(hall_id, device, status)
            log.warning("ticket %s not printed on %s: %s", ticket.get("number"), device, status.value)
            return {
                "printed": False,
                "status": status.value,
                "message": FAILURE_MESSAGES.get(status, FAILURE_MESSAGES[PrinterStatus.ERROR]),
                "printer": device,
            }
        self._report(hall_id, device, status)
        return {"printed": True, "status": status.value, "message": PRINTED, "printer": device}

    def check(self, hall_id: int) -> dict[str, str]:
        """Ask every printer of the hall for its status (DLE EOT) and record it; returns name → status."""
        out: dict[str, str] = {}
        for name, cfg in self.printers(hall_id).items():
            status = query_status(cfg)
            self._report(hall_id, name, status)
            out[name] = status.value
        return out

    def _report(self, hall_id: int, device: str, status: PrinterStatus) -> None:
        try:
            self.alerts.report_device(hall_id, device, status.value)
        except Exception:  # health bookkeeping must never turn a printed ticket into an error
            log.exception("recording the status of %s failed", device)

    # --- background health polling (moves to the scheduler's jobs later) ------------------------
    def start_monitor(self, hall_ids: list[int], interval: float = 30.0) -> None:
        """Poll every printer every ``interval`` seconds in a daemon thread."""
        if self._monitor is None:
            self._monitor = Ticker("printer-monitor", self.check, hall_ids, interval).start()

    def stop(self) -> None:
        """Stop the health polling."""
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None
