"""ESC/POS receipt printers through python-escpos: connections, Chinese text, sizes, QR codes, status, printing.

Receipts arrive as printer-agnostic blocks (kiosk/receipt.py). Text bypasses python-escpos's text(), which
guesses a code page per string; a hall needs one encoding per printer model (GB18030 by default), chosen in
the configuration. Operator notes: docs/printing.md.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlsplit

import qrcode
from escpos.constants import QR_ECLEVEL_M
from escpos.exceptions import DeviceNotFoundError, USBNotFoundError
from escpos.printer import Dummy, File, Network, Serial, Usb
from PIL import Image

from kiosk.receipt import QR, Block, Cut, Feed, Rule, Text, clean, columns

log = logging.getLogger(__name__)

ENCODINGS = ("gb18030", "gbk", "utf-8")
SCHEMES = ("tcp", "serial", "usb", "file")
DOTS = {58: 384, 80: 576}  # printable dots per line at 203 dpi, the widest a raster image may be
DLE_EOT = b"\x10\x04"
POST_JOB_TIMEOUT = 5.0  # seconds to wait for the status after a job (the printer may be busy printing it)
URL_HELP = "tcp://host:9100, serial:///dev/ttyUSB0?baudrate=9600, usb://04b8:0202 or file:///dev/usb/lp0"
# Errors that mean "cannot reach the printer" (OFFLINE) rather than "something else went wrong" (ERROR);
# pyserial's SerialException and pyusb's USBError are OSErrors.
CONNECTION_ERRORS = (OSError, DeviceNotFoundError, USBNotFoundError)


class PrinterStatus(StrEnum):
    """What a printer says about itself (``.value`` is what the API and the alerts use)."""

    OK = "ok"
    NEAR_END = "near_end"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"
    ERROR = "error"


class PrintFailed(Exception):
    """The slip did not come out; ``status`` says why (OFFLINE, PAPER_OUT or ERROR)."""

    def __init__(self, status: PrinterStatus, detail: str = "") -> None:
        super().__init__(f"{status.value}: {detail}" if detail else status.value)
        self.status = status


@dataclass(frozen=True)
class PrinterConfig:
    """One printer: where it is (``url``) and how it speaks."""

    url: str
    encoding: str = "gb18030"
    width_mm: int = 80
    qr: str = "native"
    timeout: float = 2.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrinterConfig:
        """A validated config from a table of the hall TOML or a device row; ValueError says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("printer config must be a table with at least url")
        url = data.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ValueError(f"printer url is missing; use {URL_HELP}")
        url = url.strip()
        _check_url(url)
        encoding = str(data.get("encoding", "gb18030")).strip().lower().replace("utf8", "utf-8")
        if encoding not in ENCODINGS:
            raise ValueError(f"printer encoding {data.get('encoding')!r} is not one of {', '.join(ENCODINGS)}")
        try:
            width = int(data.get("width_mm", 80))
        except (TypeError, ValueError):
            width = 0
        if width not in DOTS:
            raise ValueError(f"printer width_mm {data.get('width_mm')!r} is not 58 or 80")
        qr = str(data.get("qr", "native")).strip().lower()
        if qr not in ("native", "raster"):
            raise ValueError(f"printer qr {data.get('qr')!r} is not native or raster")
        try:
            timeout = float(data.get("timeout", 2.0))
        except (TypeError, ValueError):
            timeout = -1.0
        if not 0 < timeout <= 30:
            raise ValueError(f"printer timeout {data.get('timeout')!r} is not a number of seconds in (0, 30]")
        unknown = set(data) - {"url", "encoding", "width_mm", "qr", "timeout"}
        if unknown:  # a misspelt key would silently fall back to a default
            log.warning("printer %s: ignoring unknown settings %s", url, ", ".join(sorted(map(str, unknown))))
        return cls(url=url, encoding=encoding, width_mm=width, qr=qr, timeout=timeout)

    @property
    def dots(self) -> int:
        """Printable width in dots (203 dpi)."""
        return DOTS[self.width_mm]

    @property
    def columns(self) -> int:
        """Characters per line in the normal font (a Hanzi takes two)."""
        return columns(self.width_mm)


def _check_url(url: str) -> None:
    if "://" not in url:
        raise ValueError(f"printer url {url!r} must look like {URL_HELP}")
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"unknown printer connection {parts.scheme or url!r}; use {URL_HELP}")
    try:
        if parts.scheme == "tcp":
            if not parts.hostname:
                raise ValueError("no host")
            _ = parts.port  # raises for a port that is not a number
        elif parts.scheme == "serial":
            if not parts.path or parts.path == "/":
                raise ValueError("no device")
            int(parse_qs(parts.query).get("baudrate", ["9600"])[0])
        elif parts.scheme == "usb":
            vid, _, pid = parts.netloc.partition(":")
            int(vid, 16), int(pid, 16)
        elif not parts.path:
            raise ValueError("no path")
    except ValueError as exc:
        raise ValueError(f"bad printer url {url!r} ({exc}); use {URL_HELP}") from None


def open_printer(cfg: PrinterConfig) -> Any:
    """A connected python-escpos printer for ``cfg.url`` (raises if it cannot be reached)."""
    parts = urlsplit(cfg.url)
    query = parse_qs(parts.query)
    if parts.scheme == "tcp":
        printer: Any = Network(parts.hostname, parts.port or 9100, timeout=cfg.timeout)
        # Connect ourselves: Network.open() leaks its socket when the connection is refused.
        printer.device = socket.create_connection((parts.hostname, parts.port or 9100), timeout=cfg.timeout)
        return printer
    if parts.scheme == "serial":
        baudrate = int(query.get("baudrate", ["9600"])[0])
        printer = Serial(parts.path, baudrate=baudrate, timeout=cfg.timeout)
    elif parts.scheme == "usb":
        if not Usb.is_usable():  # checked first: a Usb object without pyusb raises again when collected
            raise RuntimeError("USB printers need pyusb: pip install 'python-escpos[usb]'")
        vid, _, pid = parts.netloc.partition(":")
        printer = Usb(int(vid, 16), int(pid, 16), timeout=int(cfg.timeout * 1000))
    elif parts.scheme == "file":
        printer = File(parts.path)
    else:
        raise ValueError(f"unknown printer connection {parts.scheme!r}; use {URL_HELP}")
    # python-escpos connects lazily on the first write; connect now so "unreachable" shows up here.
    printer.open()
    return printer


def write_text(printer: Any, text: str, encoding: str) -> None:
    """Send ``text`` in the printer's encoding; characters it cannot encode print as '?', never raise."""
    printer._raw(text.encode(encoding, errors="replace"))


def size_command(width: int, height: int) -> bytes:
    """``GS ! n``: character magnification 1–8 (``set(double_width=…)`` does not enlarge Hanzi on many models)."""
    w, h = max(1, min(8, width)), max(1, min(8, height))
    return b"\x1d\x21" + bytes([(w - 1) << 4 | (h - 1)])


def render(printer: Any, blocks: list[Block], cfg: PrinterConfig) -> None:
    """Write receipt blocks to a python-escpos printer as ESC/POS commands."""
    printer._raw(b"\x1b\x40")  # ESC @: start from the printer's defaults whatever the last job left set
    for block in blocks:
        if isinstance(block, Text):
            printer.set(align=block.align, bold=block.bold)
            if block.size > 1:
                printer._raw(size_command(block.size, block.size))
            write_text(printer, clean(block.text) + "\n", cfg.encoding)
            if block.size > 1:
                printer._raw(size_command(1, 1))
        elif isinstance(block, Rule):
            printer.set(align="left", bold=False)
            write_text(printer, "-" * cfg.columns + "\n", cfg.encoding)
        elif isinstance(block, QR):
            # ESC a centres the native symbol (python-escpos refuses center=True with native=True).
            printer.set(align="center", bold=False)
            size = max(1, min(16, block.size))
            if cfg.qr == "native":
                printer.qr(block.data, native=True, size=size, ec=QR_ECLEVEL_M)
            else:
                printer._raw(raster_qr(block.data, size, cfg.dots))
        elif isinstance(block, Feed):
            printer._raw(b"\x1b\x64" + bytes([max(0, min(255, block.lines))]))  # ESC d n
        elif isinstance(block, Cut):
            printer.cut()  # ESC d 6 (past the cutter) + GS V 0


def raster_qr(data: str, module: int, dots: int) -> bytes:
    """A QR code as a ``GS v 0`` raster image, centred in ``dots`` (for printers without a QR encoder).

    The module size shrinks until the code fits the paper. The image is padded to the full width, because
    cheap printers ignore ESC a for images. Printers treat ``DLE EOT n`` bytes inside image data as status
    requests and answer them, which would garble the next status read, so the code is shifted by a dot
    until its bytes contain no such sequence.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(data)
    code.make(fit=True)
    count = code.modules_count + 2 * code.border
    module = max(1, min(module, dots // count))
    code.box_size = module
    symbol = code.make_image().get_image().convert("1")
    centre = (dots - symbol.width) // 2
    offsets = [centre + d for d in (0, 1, -1, 2, -2, 3, -3, 4, -4) if 0 <= centre + d <= dots - symbol.width]
    out = b""
    for x in offsets or [0]:
        canvas = Image.new("1", (dots, symbol.height), 1)
        canvas.paste(symbol, (x, 0))
        dummy = Dummy()
        # The profile's data is shared by every printer object: give this one its own copy with the width.
        dummy.profile.profile_data = {**dummy.profile.profile_data, "media": {"width": {"pixels": dots}}}
        dummy.image(canvas, impl="bitImageRaster", center=False)
        out = dummy.output
        if not _has_status_request(out):
            return out
    log.warning("raster QR contains a DLE EOT byte sequence; the printer may answer it")
    return out


def _has_status_request(data: bytes) -> bool:
    return any(DLE_EOT + bytes([n]) in data for n in (1, 2, 3, 4))


def render_bytes(blocks: list[Block], cfg: PrinterConfig) -> bytes:
    """The exact bytes a receipt becomes (for previews, tests and sending in one write)."""
    dummy = Dummy()
    render(dummy, blocks, cfg)
    return dummy.output


def _read_byte(printer: Any, timeout: float) -> int | None:
    """One reply byte, or None when nothing arrives within ``timeout``."""
    if isinstance(printer, Network):
        printer.device.settimeout(timeout)
        try:
            reply = printer.device.recv(1)
        except TimeoutError:
            return None
        return reply[0] if reply else None  # b"": the printer closed the connection
    if isinstance(printer, Serial):
        # read(1) returns as soon as one byte is in; printer._read() (read(16)) would wait the whole timeout.
        printer.device.timeout = timeout
        reply = printer.device.read(1)
        return reply[0] if reply else None
    reply = printer._read()  # USB: whatever the IN endpoint has
    return int(reply[0]) if reply is not None and len(reply) else None


def _ask(printer: Any, n: int, timeout: float) -> int | None:
    """Send ``DLE EOT n`` and return the status byte, or None when the printer stays silent."""
    printer._raw(DLE_EOT + bytes([n]))
    reply = _read_byte(printer, timeout)
    if reply is not None and reply & 0x93 != 0x12:  # bits 1 and 4 are 1, bits 0 and 7 are 0 in every reply
        log.warning("printer reply %#04x to DLE EOT %d is not a status byte", reply, n)
    return reply


def _probe(printer: Any, timeout: float) -> PrinterStatus | None:
    """Status over an open connection (DLE EOT 1: online?, then DLE EOT 4: paper); None when it stays silent."""
    if isinstance(printer, File):
        return PrinterStatus.OK  # a device file has no way back: it is fine if it opened
    online = _ask(printer, 1, timeout)
    if online is None:
        return None
    if online & 0x08:
        return PrinterStatus.OFFLINE
    paper = _ask(printer, 4, timeout)
    if paper is None:
        return None
    if paper & 0x60:
        return PrinterStatus.PAPER_OUT
    if paper & 0x0C:
        return PrinterStatus.NEAR_END
    return PrinterStatus.OK


def _close(printer: Any) -> None:
    try:
        printer.close()
    except Exception:  # closing a dead connection must not hide the real status
        log.debug("closing printer failed", exc_info=True)


def query_status(cfg: PrinterConfig) -> PrinterStatus:
    """Ask the printer (DLE EOT 1, DLE EOT 4) and say how it is; never raises for a dead printer.

    No connection or no reply within ``cfg.timeout`` is OFFLINE: python-escpos's ``paper_status()`` would call a
    silent printer "ok".
    """
    try:
        printer = open_printer(cfg)
    except CONNECTION_ERRORS as exc:
        log.info("printer %s unreachable: %s", cfg.url, exc)
        return PrinterStatus.OFFLINE
    except Exception as exc:  # a missing USB library, a bad config: not the printer's fault, not printable either
        log.error("printer %s cannot be opened: %s", cfg.url, exc)  # polled often: no traceback every time
        return PrinterStatus.ERROR
    try:
        return _probe(printer, cfg.timeout) or PrinterStatus.OFFLINE
    except CONNECTION_ERRORS as exc:
        log.info("status query on %s failed: %s", cfg.url, exc)
        return PrinterStatus.OFFLINE
    except Exception:
        log.exception("status query on %s failed", cfg.url)
        return PrinterStatus.ERROR
    finally:
        _close(printer)


def print_receipt(cfg: PrinterConfig, blocks: list[Block]) -> PrinterStatus:
    """Print a receipt and return the printer's status (NEAR_END still prints).

    Raises PrintFailed(OFFLINE | PAPER_OUT | ERROR) when the slip cannot come out. One connection carries the
    status check, the job and a second status request: its answer confirms the printer has received the whole
    job (status requests are answered in order as bytes arrive) and catches paper running out meanwhile.
    """
    try:
        data = render_bytes(blocks, cfg)
    except Exception as exc:  # a block the layout cannot render: a bug, but the kiosk must go on
        log.exception("rendering a receipt for %s failed", cfg.url)
        raise PrintFailed(PrinterStatus.ERROR, "render failed") from exc
    try:
        printer = open_printer(cfg)
    except CONNECTION_ERRORS as exc:
        log.warning("printer %s unreachable: %s", cfg.url, exc)
        raise PrintFailed(PrinterStatus.OFFLINE, str(exc)) from exc
    except Exception as exc:
        log.error("printer %s cannot be opened: %s", cfg.url, exc)
        raise PrintFailed(PrinterStatus.ERROR, type(exc).__name__) from exc
    try:
        status = _probe(printer, cfg.timeout) or PrinterStatus.OFFLINE
        if status in (PrinterStatus.OFFLINE, PrinterStatus.PAPER_OUT, PrinterStatus.ERROR):
            log.warning("printer %s not printing: %s", cfg.url, status.value)
            raise PrintFailed(status)
        if isinstance(printer, Network):  # a busy printer takes a long job slowly: allow for it
            printer.device.settimeout(max(cfg.timeout, POST_JOB_TIMEOUT))
        printer._raw(data)
        # A printer with a small buffer reads the request only once most of the job is printed: wait longer.
        after = _probe(printer, max(cfg.timeout, POST_JOB_TIMEOUT))
        if after is None:
            # Silent after taking the whole job: it may well have printed; report what it said before.
            log.warning("printer %s did not confirm the job", cfg.url)
            after = status
        elif after in (PrinterStatus.OFFLINE, PrinterStatus.PAPER_OUT):
            log.warning("printer %s after the job: %s", cfg.url, after.value)
            raise PrintFailed(after, "after sending")
        log.info("printed a receipt (%d bytes) on %s: %s", len(data), cfg.url, after.value)
        return after
    except PrintFailed:
        raise
    except CONNECTION_ERRORS as exc:
        log.warning("printing on %s failed: %s", cfg.url, exc)
        raise PrintFailed(PrinterStatus.OFFLINE, str(exc)) from exc
    except Exception as exc:
        log.exception("printing on %s failed", cfg.url)
        raise PrintFailed(PrinterStatus.ERROR, type(exc).__name__) from exc
    finally:
        _close(printer)
