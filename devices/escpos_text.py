"""Read an ESC/POS byte stream back into operations: text lines, sizes, QR codes, images, cuts, status queries.

The printer emulator uses it to show what a receipt says, and tests use it to assert on the printed bytes.
Every command this project and python-escpos emit is known by its length; anything else raises ValueError,
so a new command fails a test loudly instead of being read as text.

Operations (tuples):
    ("init",) ESC @ · ("align", "left"|"center"|"right") ESC a · ("bold", bool) ESC E · ("size", w, h) GS !
    ("text", str) one run of text, ended by LF or by the next command (LF alone gives ("text", ""))
    ("qr_store", str) / ("qr_print",) / ("qr_setting", fn, value) GS ( k with cn 49
    ("image", width_px, height_px) GS v 0 raster or GS ( L graphics · ("feed", n) ESC d · ("cut",) GS V
    ("status_query", n) DLE EOT n · ("cmd", "hex bytes") any other known command
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Op = tuple[Any, ...]

ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}

# ESC commands by the number of parameter bytes after the command byte (ESC @ a E d * D are decoded below).
ESC_PARAMS = {
    **dict.fromkeys(b"2<im", 0),  # default line spacing, return home, partial cuts
    **dict.fromkeys(b" !%+-3=?AGJKMRTUVert{", 1),  # spacing, print mode, underline, font, code table, …
    **dict.fromkeys(b"$\\Bc", 2),  # positions, buzzer, panel buttons / paper sensors
    **dict.fromkeys(b"p", 3),  # cash drawer pulse
}
GS_ONE = set(b"BHIabfhrw|")  # reverse, HRI, printer id, ASB, smoothing, barcode settings, status, density
GS_TWO = set(b"$LPW\\")  # nL nH: positions, left margin, motion units, print area width


def iter_ops(data: bytes, encoding: str = "gb18030") -> Iterator[tuple[int, int, Op]]:
    """Yield ``(start, end, op)`` for every operation of ``data`` (the byte span it came from, then the op)."""
    i, n = 0, len(data)
    text_start = -1  # start of the pending text run, -1 when none

    def text_op(end: int) -> tuple[int, int, Op]:
        return text_start, end, ("text", data[text_start:end].replace(b"\r", b"").decode(encoding, "replace"))

    def need(k: int) -> bytes:
        if i + k > n:
            raise ValueError(f"truncated command at byte {i}: {data[i:n].hex(' ')}")
        return data[i : i + k]

    while i < n:
        b = data[i]
        if b == 0x0A:  # LF prints the line
            if text_start >= 0:
                yield text_op(i)
                text_start = -1
            else:
                yield i, i + 1, ("text", "")
            i += 1
            continue
        if b >= 0x20 or b in (0x09, 0x0D):  # text (CR is dropped from the run, HT kept)
            if text_start < 0:
                text_start = i
            i += 1
            continue
        if text_start >= 0:  # a command ends a text run without printing the line
            yield text_op(i)
            text_start = -1
        start = i
        op, length = _command(data, i, need)
        i += length
        yield start, i, op
    if text_start >= 0:
        yield text_op(n)


def _command(data: bytes, i: int, need: Any) -> tuple[Op, int]:
    """The operation of the command at ``data[i]`` and its length in bytes."""
    b = data[i]
    if b == 0x1B:  # ESC
        cmd = need(2)[1]
        if cmd == 0x40:
            return ("init",), 2
        if cmd == 0x61:
            v = need(3)[2]
            if v not in ALIGN:
                raise ValueError(f"bad ESC a parameter {v} at byte {i}")
            return ("align", ALIGN[v]), 3
        if cmd == 0x45:
            return ("bold", bool(need(3)[2] & 1)), 3
        if cmd == 0x64:
            return ("feed", need(3)[2]), 3
        if cmd == 0x44:  # ESC D n1 … NUL: tab positions
            end = data.find(b"\x00", i + 2)
            if end < 0:
                raise ValueError(f"unterminated ESC D at byte {i}")
            return ("cmd", data[i : end + 1].hex(" ")), end + 1 - i
        if cmd == 0x2A:  # ESC * m nL nH d…: column bit image, 1 or 3 bytes per column
            head = need(5)
            columns = head[3] | head[4] << 8
            size = columns * (1 if head[2] in (0, 1) else 3)
            need(5 + size)
            return ("cmd", head.hex(" ")), 5 + size
        if cmd in ESC_PARAMS:
            k = 2 + ESC_PARAMS[cmd]
            return ("cmd", need(k).hex(" ")), k
        raise ValueError(f"unknown ESC command {need(2).hex(' ')} at byte {i}")
    if b == 0x1D:  # GS
        cmd = need(2)[1]
        if cmd == 0x21:
            v = need(3)[2]
            return ("size", (v >> 4) + 1, (v & 0x0F) + 1), 3
        if cmd == 0x56:  # GS V m [n]
            m = need(3)[2]
            if m in (0, 1, 48, 49):
                return ("cut",), 3
            if m in (65, 66, 97, 98, 103, 104):
                need(4)
                return ("cut",), 4
            raise ValueError(f"bad GS V mode {m} at byte {i}")
        if cmd == 0x28:  # GS ( x pL pH …
            head = need(5)
            length = head[3] | head[4] << 8
            body = need(5 + length)[5:]
            if head[2] == 0x6B and len(body) >= 2 and body[0] == 49:  # GS ( k, cn 49: QR code
                fn = body[1]
                if fn == 80:
                    return ("qr_store", body[3:].decode("utf-8", "replace")), 5 + length
                if fn == 81:
                    return ("qr_print",), 5 + length
                return ("qr_setting", fn, body[2] if len(body) > 2 else None), 5 + length
            if head[2] == 0x4C and len(body) >= 10 and body[1] == 112:  # GS ( L fn 112: store graphics
                return ("image", body[6] | body[7] << 8, body[8] | body[9] << 8), 5 + length
            return ("cmd", need(5).hex(" ")), 5 + length
        if cmd == 0x76:  # GS v 0 m xL xH yL yH d…
            head = need(8)
            if head[2] != 0x30:
                raise ValueError(f"unknown GS v command {head[:3].hex(' ')} at byte {i}")
            width_bytes = head[4] | head[5] << 8
            height = head[6] | head[7] << 8
            need(8 + width_bytes * height)
            return ("image", width_bytes * 8, height), 8 + width_bytes * height
        if cmd == 0x6B:  # GS k m …: barcode, NUL-terminated (m 0–6) or with a length byte (m 65–79)
            m = need(3)[2]
            if m <= 6:
                end = data.find(b"\x00", i + 3)
                if end < 0:
                    raise ValueError(f"unterminated barcode at byte {i}")
                return ("cmd", data[i : i + 3].hex(" ")), end + 1 - i
            k = need(4)[3]
            need(4 + k)
            return ("cmd", data[i : i + 4].hex(" ")), 4 + k
        if cmd in GS_ONE:
            return ("cmd", need(3).hex(" ")), 3
        if cmd in GS_TWO:
            return ("cmd", need(4).hex(" ")), 4
        raise ValueError(f"unknown GS command {need(2).hex(' ')} at byte {i}")
    if b == 0x10:  # DLE
        cmd = need(2)[1]
        if cmd == 0x04:
            return ("status_query", need(3)[2]), 3
        if cmd == 0x05:  # DLE ENQ n
            return ("cmd", need(3).hex(" ")), 3
        if cmd == 0x14:  # DLE DC4 fn a b
            return ("cmd", need(5).hex(" ")), 5
        raise ValueError(f"unknown DLE command {need(2).hex(' ')} at byte {i}")
    if b == 0x1C:  # FS
        cmd = need(2)[1]
        if cmd in (0x26, 0x2E):  # FS & / FS . : Chinese character mode on / off
            return ("cmd", need(2).hex(" ")), 2
        if cmd in (0x21, 0x2D, 0x57):  # FS ! n, FS - n, FS W n: Chinese print mode, underline, quadruple
            return ("cmd", need(3).hex(" ")), 3
        raise ValueError(f"unknown FS command {need(2).hex(' ')} at byte {i}")
    raise ValueError(f"unknown control byte {b:#04x} at byte {i}")


def decode(data: bytes, encoding: str = "gb18030") -> list[Op]:
    """Parse ``data`` into a list of operations (see the module docstring)."""
    return [op for _, _, op in iter_ops(data, encoding)]


def texts(data: bytes, encoding: str = "gb18030") -> list[str]:
    """Only the non-empty text runs of a stream."""
    return [op[1] for op in decode(data, encoding) if op[0] == "text" and op[1]]


def describe(data: bytes, encoding: str = "gb18030") -> str:
    """A readable rendering of a receipt: its lines, with markers for sizes, QR codes, images and cuts."""
    out: list[str] = []
    size = 1
    align = "left"
    for op in decode(data, encoding):
        kind = op[0]
        if kind == "text":
            line = op[1]
            if size > 1:
                line = f"[x{size}] {line}"
            if align in ("center", "right") and line:  # pad by printed width: a Hanzi takes two columns
                pad = max(0, 48 - sum(1 if ch < "\x80" else 2 for ch in line))
                line = " " * (pad // 2 if align == "center" else pad) + line
            out.append(line)
        elif kind == "size":
            size = op[1]
        elif kind == "align":
            align = op[1]
        elif kind == "qr_store":
            out.append(f"[QR {op[1]}]")
        elif kind == "image":
            out.append(f"[image {op[1]}x{op[2]}]")
        elif kind == "cut":
            out.append("[cut]")
    # blank lines from feeds and raster padding add nothing to read
    return "\n".join(line for line in out if line.strip())
