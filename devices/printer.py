"""ESC/POS receipt printers through python-escpos: connections, Chinese text, sizes, QR, status and printing.

Receipts arrive as printer-agnostic blocks (kiosk/receipt.py). Text bypasses python-escpos's own text() because
that one guesses a code page per string; halls need one encoding per printer model (GB18030 by default).
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, File, Network, Serial, Usb

from kiosk.receipt import QR, Block, Cut, Feed, Rule, Text, columns

log = logging.getLogger(__name__)

ENCODINGS = ("gb18030", "gbk", "utf-8")
WIDTHS = {58: 384, 80: 576}  # paper width → printable dots (203 dpi)
DLE_EOT = b"\x10\x04"


class PrinterStatus(StrEnum):
    """What a printer says about itself."""

    OK = "ok"
    NEAR_END = "near_end"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    ERROR = "error"


class PrintFailed(Exception):
    """The slip did not come out; ``status`` says why."""

    def __init__(self, status: PrinterStatus, detail: str = "") -> None:
        super().__init__(f"{status.value}{': ' + detail if detail else ''}")
        self.status = status


@dataclass(frozen=True)
class PrinterConfig:
    """One printer: where it is and how it speaks."""

    url: str
    encoding: str = "gb18030"
    width_mm: int = 80
    qr: str = "native"
    timeout: float = 2.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrinterConfig:
        """Validate a config table (from the hall TOML or the device row)."""
        url = data.get("url")
        if not isinstance(url, str) or "://" not in url:
            raise ValueError(
                "printer url must look like tcp://host:9100, serial:///dev/ttyUSB0, usb://vid:pid or file:///path"
            )
        encoding = str(data.get("encoding", "gb18030")).lower()
        if encoding not in ENCODINGS:
            raise ValueError(f"printer encoding must be one of {', '.join(ENCODINGS)}")
        width = int(data.get("width_mm", 80))
        if width not in WIDTHS:
            raise ValueError("printer width_mm must be 58 or 80")
        qr = str(data.get("qr", "native"))
        if qr not in ("native", "raster"):
            raise ValueError("printer qr must be native or raster")
        timeout = float(data.get("timeout", 2.0))
        if not 0 < timeout <= 30:
            raise ValueError("printer timeout must be between 0 and 30 seconds")
        scheme = urlsplit(url).scheme
        if scheme not in ("tcp", "serial", "usb", "file"):
            raise ValueError(f"unknown printer connection {scheme!r}")
        return cls(url=url, encoding=encoding, width_mm=width, qr=qr, timeout=timeout)

    @property
    def dots(self) -> int:
        """Printable width in dots."""
        return WIDTHS[self.width_mm]


class _Network(Network):
    """python-escpos's Network leaves its socket open when the connection is refused; this one closes it."""

    def open(self, raise_not_found: bool = True) -> None:
        """Connect to the printer's raw port."""
        if self._device:
            self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            self._device = None
            raise DeviceNotFoundError(f"printer {self.host}:{self.port} unreachable: {exc}") from exc
        self.device = sock


def open_printer(cfg: PrinterConfig) -> Any:
    """A python-escpos printer for the config's URL (connected)."""
    parts = urlsplit(cfg.url)
    query = parse_qs(parts.query)
    if parts.scheme == "tcp":
        return _Network(parts.hostname or "127.0.0.1", parts.port or 9100, timeout=cfg.timeout)
    if parts.scheme == "serial":
        baud = int(query.get("baudrate", ["9600"])[0])
        return Serial(parts.path, baudrate=baud, timeout=cfg.timeout)
    if parts.scheme == "usb":
        vid, _, pid = (parts.netloc or parts.path.strip("/")).partition(":")
        return Usb(int(vid, 16), int(pid, 16), timeout=int(cfg.timeout * 1000))
    if parts.scheme == "file":
        return File(parts.path)
    raise ValueError(f"unknown printer connection {parts.scheme!r}")


def write_text(printer: Any, text: str, encoding: str) -> None:
    """Send text in the printer's encoding (unencodable characters become '?', never an exception)."""
    printer._raw(text.encode(encoding, errors="replace"))


def size_command(width: int, height: int) -> bytes:
    """``GS ! n``: character magnification 1–8 (``set(double_width=…)`` does not enlarge Hanzi on many models)."""
    w, h = max(1, min(8, width)), max(1, min(8, height))
    return b"\x1d\x21" + bytes([(w - 1) << 4 | (h - 1)])


def render(printer: Any, blocks: list[Block], cfg: PrinterConfig) -> None:
    """Write the receipt blocks as ESC/POS commands."""
    # python-escpos sizes and centres images from its profile; tell it this paper's width.
    media = printer.profile.profile_data.setdefault("media", {})
    media.setdefault("width", {})["pixels"] = cfg.dots
    printer._raw(b"\x1b\x40")  # ESC @: start from the printer's defaults
    for block in blocks:
        if isinstance(block, Text):
            printer.set(align=block.align, bold=block.bold)
            if block.size > 1:
                printer._raw(size_command(block.size, block.size))
            write_text(printer, block.text + "\n", cfg.encoding)
            if block.size > 1:
                printer._raw(size_command(1, 1))
        elif isinstance(block, Rule):
            printer.set(align="left", bold=False)
            write_text(printer, "-" * columns(cfg.width_mm) + "\n", cfg.encoding)
        elif isinstance(block, QR):
            # ESC a centres both the native symbol and a raster image (python-escpos's center= needs a profile).
            printer.set(align="center", bold=False)
            if cfg.qr == "native":
                printer.qr(block.data, native=True, size=block.size)
            else:
                # Raster: the module size is chosen so the image stays inside the paper's dots.
                printer.qr(block.data, native=False, size=min(block.size, _raster_module(block.data, cfg)))
        elif isinstance(block, Feed):
            printer._raw(b"\x1b\x64" + bytes([max(0, min(255, block.lines))]))
        elif isinstance(block, Cut):
            printer.cut()
    printer.set(align="left", bold=False)


def _raster_module(data: str, cfg: PrinterConfig) -> int:
    import qrcode

    qr = qrcode.QRCode(border=4)
    qr.add_data(data)
    qr.make(fit=True)
    modules = qr.modules_count + 8
    return max(1, min(16, cfg.dots // modules))


def render_bytes(blocks: list[Block], cfg: PrinterConfig) -> bytes:
    """The exact bytes a receipt becomes (for tests, previews and the file connection)."""
    dummy = Dummy()
    render(dummy, blocks, cfg)
    return dummy.output


def query_status(cfg: PrinterConfig) -> PrinterStatus:
    """Ask the printer with ``DLE EOT 1`` and ``DLE EOT 4``; no reply within the timeout means offline.

    python-escpos's ``paper_status()`` reports paper present when the printer stays silent, so the replies
    are read and parsed here.
    """
    try:
        printer = open_printer(cfg)
    except Exception as exc:  # connection refused, no such device, no USB permission
        log.debug("printer %s unreachable: %s", cfg.url, exc)
        return PrinterStatus.OFFLINE
    try:
        online = _ask(printer, 1)
        if online is None or online & 0x08:
            return PrinterStatus.OFFLINE
        paper = _ask(printer, 4)
        if paper is None:
            return PrinterStatus.OFFLINE
        if paper & 0x60:
            return PrinterStatus.PAPER_OUT
        if paper & 0x0C:
            return PrinterStatus.NEAR_END
        return PrinterStatus.OK
    except Exception as exc:
        log.debug("status query on %s failed: %s", cfg.url, exc)
        return PrinterStatus.OFFLINE
    finally:
        _close(printer)


def _ask(printer: Any, n: int) -> int | None:
    """Send ``DLE EOT n`` and return the status byte, or None when nothing comes back in time."""
    printer._raw(DLE_EOT + bytes([n]))
    try:
        reply = printer._read()
    except (TimeoutError, OSError):
        return None
    if not reply:
        return None
    return reply[0] if isinstance(reply, bytes | bytearray) else int(reply[0])


def _close(printer: Any) -> None:
    try:
        printer.close()
    except Exception:  # closing a dead connection must not hide the real status
        log.debug("closing printer failed", exc_info=True)


def print_receipt(cfg: PrinterConfig, blocks: list[Block]) -> PrinterStatus:
    """Check the printer, print the receipt, return the status (near end still prints); else PrintFailed."""
    status = query_status(cfg)
    if status in (PrinterStatus.OFFLINE, PrinterStatus.PAPER_OUT, PrinterStatus.ERROR):
        raise PrintFailed(status)
    data = render_bytes(blocks, cfg)
    try:
        printer = open_printer(cfg)
    except Exception as exc:
        raise PrintFailed(PrinterStatus.OFFLINE, str(exc)) from exc
    try:
        printer._raw(data)
    except Exception as exc:
        raise PrintFailed(PrinterStatus.OFFLINE, str(exc)) from exc
    finally:
        _close(printer)
    return status
