"""ESC/POS bytes, read back with the decoder; printing and status through the TCP printer emulator."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.emulators import PrinterEmulator
from devices.printer import PrinterConfig, PrinterStatus, PrintFailed, print_receipt, query_status, render_bytes
from kiosk.receipt import Text, build_receipt
from tests.devices.escpos_decode import decode, texts
from tests.devices.test_receipt import TICKET

HALL = "安澜县医疗保障服务大厅"


def cfg(url: str = "file:///dev/null", **kw) -> PrinterConfig:
    return PrinterConfig.from_dict({"url": url, "timeout": 0.3, **kw})


def receipt(width: int = 80, **ticket) -> list:
    return build_receipt({**TICKET, **ticket}, hall_name=HALL, width_mm=width, notice="本票当日有效")


@pytest.mark.parametrize(("width", "size"), [(80, 4), (58, 3)])
def test_receipt_bytes_decode_to_the_receipt(width, size) -> None:
    data = render_bytes(receipt(width, id_masked="1101**********1237"), cfg(width_mm=width))
    ops = decode(data)
    assert ops[0] == ("init",) and ops[-1] == ("cut",) or ("cut",) in ops[-3:]
    lines = texts(data)
    assert HALL in lines and "A012" in lines and "前面还有 3 人" in lines and "证件号：1101**********1237" in lines
    number_at = ops.index(("text", "A012"))
    assert ops[number_at - 1] == ("size", size, size), "the number is printed magnified with GS !"
    assert ("size", 1, 1) in ops[number_at:]
    assert ("qr_store", TICKET["track_url"]) in ops and ("qr_print",) in ops


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("gb18030", "办理".encode("gb18030")), ("gbk", "办理".encode("gbk")), ("utf-8", "办理".encode())],
)
def test_text_goes_out_in_the_printer_encoding(encoding, expected) -> None:
    data = render_bytes([Text("办理")], cfg(encoding=encoding))
    assert expected in data
    assert texts(data, encoding) == ["办理"]


def test_gb18030_prints_rare_characters_that_gbk_cannot() -> None:
    name = "㐀镕"  # U+3400 is outside GBK
    assert texts(render_bytes([Text(name)], cfg()), "gb18030") == [name]
    assert texts(render_bytes([Text(name)], cfg(encoding="gbk")), "gbk") == ["?镕"]


@pytest.mark.parametrize(("width", "dots"), [(58, 384), (80, 576)])
def test_raster_qr_fits_the_paper(width, dots) -> None:
    ops = decode(render_bytes(receipt(width), cfg(width_mm=width, qr="raster")))
    images = [op for op in ops if op[0] == "image"]
    assert len(images) == 1 and 100 < images[0][1] <= dots
    assert not any(op[0] == "qr_store" for op in ops)


def test_bad_printer_configs_are_refused_clearly() -> None:
    for bad, words in [
        ({"url": "lpt1"}, "url"),
        ({"url": "tcp://x", "encoding": "big5"}, "encoding"),
        ({"url": "tcp://x", "width_mm": 76}, "58 or 80"),
        ({"url": "ipp://x"}, "connection"),
        ({"url": "tcp://x", "qr": "svg"}, "qr"),
    ]:
        with pytest.raises(ValueError, match=words):
            PrinterConfig.from_dict(bad)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="gb18030", categories=("L", "N", "P", "Zs")), min_size=1, max_size=40))
def test_text_round_trips_through_the_bytes(text) -> None:
    assert texts(render_bytes([Text(text)], cfg())) == [text]


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("ok", PrinterStatus.OK),
        ("near_end", PrinterStatus.NEAR_END),
        ("out", PrinterStatus.PAPER_OUT),
        ("offline", PrinterStatus.OFFLINE),
        ("silent", PrinterStatus.OFFLINE),
    ],
)
def test_status_over_tcp(state, status) -> None:
    with PrinterEmulator(state=state) as emu:
        assert query_status(cfg(emu.url)) is status
        assert emu.jobs == [], "status queries are not print jobs"


def test_a_switched_off_printer_is_offline() -> None:
    emu = PrinterEmulator()
    url = emu.url
    emu.close()
    assert query_status(cfg(url)) is PrinterStatus.OFFLINE
    with pytest.raises(PrintFailed) as err:
        print_receipt(cfg(url), receipt())
    assert err.value.status is PrinterStatus.OFFLINE


def test_printing_sends_the_receipt() -> None:
    with PrinterEmulator() as emu:
        assert print_receipt(cfg(emu.url), receipt()) is PrinterStatus.OK
        (job,) = emu.wait_for_jobs(1)
        assert job == render_bytes(receipt(), cfg(emu.url))
        assert "A012" in texts(job)


@pytest.mark.parametrize(
    ("state", "status"),
    [("out", PrinterStatus.PAPER_OUT), ("offline", PrinterStatus.OFFLINE), ("silent", PrinterStatus.OFFLINE)],
)
def test_nothing_is_sent_to_a_printer_that_cannot_print(state, status) -> None:
    with PrinterEmulator(state=state) as emu:
        with pytest.raises(PrintFailed) as err:
            print_receipt(cfg(emu.url), receipt())
        assert err.value.status is status
        assert emu.wait_for_jobs(1, timeout=0.3) == []


def test_near_end_prints() -> None:
    with PrinterEmulator(state="near_end") as emu:
        assert print_receipt(cfg(emu.url), receipt()) is PrinterStatus.NEAR_END
        assert len(emu.wait_for_jobs(1)) == 1


def test_file_printer_gets_the_bytes(tmp_path) -> None:
    target = tmp_path / "lp0"
    target.touch()
    from devices.printer import open_printer, render

    c = cfg(f"file://{target}")
    p = open_printer(c)
    render(p, receipt(), c)
    p.close()
    assert "A012" in texts(target.read_bytes())


def test_emulator_command_shows_receipts() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "devices.emulate", "printer", "--listen", f"127.0.0.1:{port}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "printer emulator on" in proc.stdout.readline()
        url = f"tcp://127.0.0.1:{port}"
        proc.stdin.write("near_end\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "state: near_end"
        assert print_receipt(cfg(url), receipt()) is PrinterStatus.NEAR_END
        out = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("[cut]" in line for line in out):
            out.append(proc.stdout.readline())
        shown = "".join(out)
        assert "[x4] A012" in shown and HALL in shown and f"[QR {TICKET['track_url']}]" in shown
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # also closes the pipes
