"""Read an ESC/POS byte stream back into operations: text runs, sizes, QR, images, cuts, status queries.

Used by the printer emulator to show what a receipt says and by tests to assert on printed bytes. Every
command the project (and python-escpos) emits is known by its length; anything else raises, so a test
notices a new command instead of reading it as text.
"""

from __future__ import annotations

from typing import Any

Op = tuple[Any, ...]

ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
# ESC x (one parameter byte) and ESC x (no parameter) that python-escpos uses; reported as ("cmd", hex).
ESC_ONE = {ord(c) for c in "!-MtV{JcR%U"} | {0x47, 0x20}
ESC_NONE = {ord("2"), ord("<")}
GS_ONE = {ord(c) for c in "BbfhwHTI"}


def decode(data: bytes, encoding: str = "gb18030") -> list[Op]:
    """Parse ``data`` into a list of operations (see the module docstring)."""
    ops: list[Op] = []
    text = bytearray()
    i, n = 0, len(data)

    def flush() -> None:
        if text:
            ops.append(("text", text.decode(encoding, errors="replace")))
            text.clear()

    def need(k: int) -> bytes:
        if i + k > n:
            raise ValueError(f"truncated command at byte {i}: {data[i : i + k].hex(' ')}")
        return data[i : i + k]

    while i < n:
        b = data[i]
        if b == 0x0A:  # LF ends a line of text
            flush()
            i += 1
        elif b == 0x1B:  # ESC
            flush()
            cmd = need(2)[1]
            if cmd == 0x40:
                ops.append(("init",))
                i += 2
            elif cmd == 0x61:
                ops.append(("align", ALIGN.get(need(3)[2], str(data[i + 2]))))
                i += 3
            elif cmd == 0x45:
                ops.append(("bold", bool(need(3)[2])))
                i += 3
            elif cmd == 0x64:
                ops.append(("feed", need(3)[2]))
                i += 3
            elif cmd == 0x33 or cmd in ESC_ONE:
                ops.append(("cmd", need(3).hex(" ")))
                i += 3
            elif cmd in ESC_NONE:
                ops.append(("cmd", need(2).hex(" ")))
                i += 2
            else:
                raise ValueError(f"unknown ESC command {need(2).hex(' ')} at byte {i}")
        elif b == 0x1D:  # GS
            flush()
            cmd = need(2)[1]
            if cmd == 0x21:
                v = need(3)[2]
                ops.append(("size", (v >> 4) + 1, (v & 0x0F) + 1))
                i += 3
            elif cmd == 0x56:  # GS V m [n]
                m = need(3)[2]
                ops.append(("cut",))
                i += 4 if m in (65, 66, 97, 98, 103, 104) else 3
            elif cmd == 0x28 and need(3)[2] == 0x6B:  # GS ( k pL pH cn fn …
                head = need(8)
                length = head[3] | head[4] << 8
                body = need(5 + length)[5:]
                fn = body[1] if len(body) > 1 else None
                if fn == 0x50:
                    ops.append(("qr_store", body[3:].decode("utf-8", errors="replace")))
                elif fn == 0x51:
                    ops.append(("qr_print",))
                else:
                    ops.append(("qr_setting", fn, body[2] if len(body) > 2 else None))
                i += 5 + length
            elif cmd == 0x76 and need(3)[2] == 0x30:  # GS v 0 m xL xH yL yH data
                head = need(8)
                width_bytes = head[4] | head[5] << 8
                height = head[6] | head[7] << 8
                need(8 + width_bytes * height)
                ops.append(("image", width_bytes * 8, height))
                i += 8 + width_bytes * height
            elif cmd == 0x4C or cmd == 0x57:  # GS L / GS W nL nH
                ops.append(("cmd", need(4).hex(" ")))
                i += 4
            elif cmd in GS_ONE:
                ops.append(("cmd", need(3).hex(" ")))
                i += 3
            else:
                raise ValueError(f"unknown GS command {need(2).hex(' ')} at byte {i}")
        elif b == 0x10 and i + 2 < n + 1 and data[i + 1 : i + 2] == b"\x04":  # DLE EOT n
            flush()
            ops.append(("status_query", need(3)[2]))
            i += 3
        elif b == 0x1C:  # FS & / FS . (Chinese mode on/off)
            flush()
            ops.append(("cmd", need(2).hex(" ")))
            i += 2
        elif b < 0x20 and b not in (0x0D, 0x09):
            raise ValueError(f"unknown control byte {b:#04x} at byte {i}")
        else:
            text.append(b)
            i += 1
    flush()
    return ops


def texts(data: bytes, encoding: str = "gb18030") -> list[str]:
    """Only the text lines of a stream."""
    return [op[1] for op in decode(data, encoding) if op[0] == "text"]


def describe(data: bytes, encoding: str = "gb18030") -> str:
    """A readable rendering of a receipt: text lines, with markers for sizes, QR codes, images and cuts."""
    out: list[str] = []
    size = 1
    for op in decode(data, encoding):
        if op[0] == "text":
            out.append(f"[x{size}] {op[1]}" if size > 1 else op[1])
        elif op[0] == "size":
            size = op[1]
        elif op[0] == "qr_store":
            out.append(f"[QR {op[1]}]")
        elif op[0] == "image":
            out.append(f"[image {op[1]}x{op[2]}]")
        elif op[0] == "cut":
            out.append("[cut]")
    return "\n".join(out)
