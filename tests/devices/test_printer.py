"""ESC/POS bytes read back with the decoder; status and printing through real connections (TCP emulator, a
pty for serial, a file), the emulator itself, and the ``python -m devices.emulate`` command."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import pytest
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.emulators import PrinterEmulator, status_reply
from devices.printer import (
    PrinterConfig,
    PrinterStatus,
    PrintFailed,
    open_printer,
    print_receipt,
    query_status,
    raster_qr,
    render,
    render_bytes,
    write_text,
)
from kiosk.receipt import QR, Cut, Feed, Rule, Text, build_receipt
from tests.devices.escpos_decode import decode, texts
from tests.devices.test_receipt import HALL, JOINT, NOTICE, PRIORITY, TICKET

ROOT = Path(__file__).resolve().parents[2]


def cfg(url: str = "tcp://127.0.0.1:9", **kw) -> PrinterConfig:
    return PrinterConfig.from_dict({"url": url, "timeout": 0.3, **kw})


def receipt(width: int = 80, ticket: dict | None = None) -> list:
    return build_receipt(ticket or PRIORITY, hall_name=HALL, width_mm=width, notice=NOTICE)


def dummy_render(blocks: list, config: PrinterConfig) -> bytes:
    printer = Dummy()
    render(printer, blocks, config)
    return printer.output


def printed(data: bytes, encoding: str = "gb18030") -> str:
    """All printed text, lines joined without breaks (wrapped phrases are whole again)."""
    return "".join(t.strip() for t in texts(data, encoding))


# --- bytes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "size"), [(80, 4), (58, 3)])
@pytest.mark.parametrize("ticket", [TICKET, JOINT, PRIORITY], ids=["single", "joint", "priority"])
def test_receipt_bytes_decode_back_to_the_receipt(ticket, width, size) -> None:
    data = dummy_render(receipt(width, ticket), cfg(width_mm=width))
    ops = decode(data)
    assert ops[0] == ("init",)
    assert ops[-1] == ("cut",)
    text = printed(data)
    assert HALL in text and ticket["number"] in text and f"前面还有 {ticket['people_ahead']} 人" in text
    for item in ticket["items"]:
        assert item["name"] in text
    if ticket["id_masked"]:
        assert f"证件号：{ticket['id_masked']}" in text
    if ticket["joint"]:
        assert "一件事联办" in text
    at = ops.index(("text", ticket["number"]))
    assert ops[at - 1] == ("size", size, size), "the number is magnified with GS !"
    assert ops[at + 1] == ("size", 1, 1), "and the size is reset after it"
    assert ("qr_store", ticket["track_url"]) in ops and ("qr_print",) in ops
    store = ops.index(("qr_store", ticket["track_url"]))
    assert ("align", "center") in ops[store - 5 : store]
    assert ops.count(("qr_print",)) == 1


def test_render_bytes_is_what_a_printer_object_gets() -> None:
    config = cfg(width_mm=58)
    assert render_bytes(receipt(58), config) == dummy_render(receipt(58), config)


def test_text_blocks_become_style_size_text() -> None:
    data = dummy_render([Text("大字", size=2, bold=True, align="right"), Rule(), Feed(3), Cut()], cfg(width_mm=58))
    assert decode(data) == [
        ("init",),
        ("bold", True),
        ("align", "right"),
        ("size", 2, 2),
        ("text", "大字"),
        ("size", 1, 1),
        ("bold", False),
        ("align", "left"),
        ("text", "-" * 32),
        ("feed", 3),
        ("feed", 6),  # cut() feeds the slip past the cutter
        ("cut",),
    ]
    assert b"\x1d\x21\x11" + "大字".encode("gb18030") + b"\n\x1d\x21\x00" in data


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8"])
def test_text_goes_out_in_the_printer_encoding(encoding) -> None:
    line = "办理事项：异地就医备案（A012）"
    data = dummy_render([Text(line)], cfg(encoding=encoding))
    assert line.encode(encoding) + b"\n" in data
    assert texts(data, encoding) == [line]
    if encoding != "utf-8":
        assert line.encode("utf-8") not in data


def test_write_text_replaces_what_the_encoding_cannot_say() -> None:
    printer = Dummy()
    write_text(printer, "㐀镕", "gbk")  # U+3400 is not in GBK
    assert printer.output == b"?" + "镕".encode("gbk")
    printer = Dummy()
    write_text(printer, "㐀镕", "gb18030")  # GB18030 covers all of Unicode
    assert printer.output == "㐀镕".encode("gb18030") and len(printer.output) == 6


@pytest.mark.parametrize(("width", "dots"), [(58, 384), (80, 576)])
def test_raster_qr_is_an_image_that_fits_the_paper(width, dots) -> None:
    ops = decode(dummy_render(receipt(width), cfg(width_mm=width, qr="raster")))
    images = [op for op in ops if op[0] == "image"]
    assert len(images) == 1
    _, image_width, image_height = images[0]
    assert 100 < image_width <= dots and 100 < image_height < 400
    assert not any(op[0] in ("qr_store", "qr_print") for op in ops)


def test_raster_qr_never_contains_a_status_request() -> None:
    # A printer answers DLE EOT n even inside image data; such bytes would garble the next status read.
    for n in range(40):
        data = raster_qr(f"http://192.168.1.10:5000/t/{n:04d}abcdefghijklmnopqrstuv", 6, 576)
        assert not any(b"\x10\x04" + bytes([k]) in data for k in (1, 2, 3, 4))
        assert [op[0] for op in decode(data)] == ["image"]


def test_native_qr_module_size_and_error_correction() -> None:
    ops = decode(dummy_render([QR("http://h/t/x", size=5)], cfg()))
    settings_ = {op[1]: op[2] for op in ops if op[0] == "qr_setting"}
    assert settings_[67] == 5, "module size"
    assert settings_[69] == 49, "error correction M"


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(
        alphabet=st.one_of(
            st.characters(min_codepoint=0x20, max_codepoint=0x7E),
            st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
            st.sampled_from("，。：；！？（）【】《》“”‘’、·—–…￥"),
        ),
        max_size=60,
    ),
    encoding=st.sampled_from(["gb18030", "utf-8"]),
)
def test_text_round_trips_through_the_bytes(text, encoding) -> None:
    ops = decode(dummy_render([Text(text)], cfg(encoding=encoding)), encoding)
    assert [op[1] for op in ops if op[0] == "text"] == [text]


def test_config_from_dict() -> None:
    c = PrinterConfig.from_dict({"url": " tcp://10.0.0.5:9100 ", "encoding": "GBK", "width_mm": "58", "qr": "raster"})
    assert c == PrinterConfig("tcp://10.0.0.5:9100", "gbk", 58, "raster", 2.0)
    assert c.dots == 384 and c.columns == 32
    assert PrinterConfig.from_dict({"url": "file:///dev/usb/lp0", "encoding": "utf8"}).encoding == "utf-8"
    for url in ("serial:///dev/ttyUSB0?baudrate=115200", "usb://04b8:0202", "tcp://printer.local"):
        assert PrinterConfig.from_dict({"url": url}).url == url


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ({}, "url is missing"),
        ({"url": "lpt1"}, "must look like"),
        ({"url": "ipp://x"}, "unknown printer connection"),
        ({"url": "tcp://:9100"}, "no host"),
        ({"url": "tcp://x:abc"}, "bad printer url"),
        ({"url": "usb://epson"}, "bad printer url"),
        ({"url": "serial:///dev/ttyS0?baudrate=fast"}, "bad printer url"),
        ({"url": "tcp://x", "encoding": "big5"}, "encoding"),
        ({"url": "tcp://x", "width_mm": 76}, "58 or 80"),
        ({"url": "tcp://x", "width_mm": "wide"}, "58 or 80"),
        ({"url": "tcp://x", "qr": "svg"}, "native or raster"),
        ({"url": "tcp://x", "timeout": 0}, "timeout"),
    ],
)
def test_bad_printer_configs_are_refused_clearly(bad, words) -> None:
    with pytest.raises(ValueError, match=words):
        PrinterConfig.from_dict(bad)


# --- the decoder ------------------------------------------------------------------------------------------


def test_decoder_knows_the_commands_python_escpos_sends() -> None:
    p = Dummy()
    p.set(underline=1, font="b", double_width=True, double_height=True, invert=True, smooth=True, flip=True)
    p.set(density=3)
    p.line_spacing(30)
    p.line_spacing()
    p.charcode("CP437")
    p.text("ok\n")
    p.barcode("4006381333931", "EAN13")
    p.cut(mode="PART", feed=False)
    ops = decode(p.output)
    assert [op[1] for op in ops if op[0] == "text" and op[1]] == ["ok"]
    assert all(op[0] in ("cmd", "text", "align", "cut") for op in ops), ops
    assert ops[-1] == ("cut",)


@pytest.mark.parametrize(
    "data",
    [b"\x1b\xff", b"\x1dZ\x00", b"ab\x07cd", b"\x1d!", b"\x1dv0\x00\x02\x00\x05\x00\xff", b"\x1c\x7f", b"\x10\x09"],
)
def test_decoder_refuses_what_it_does_not_know(data) -> None:
    with pytest.raises(ValueError):
        decode(data)


def test_decoder_reports_status_requests_and_blank_lines() -> None:
    assert decode(b"\x10\x04\x01a\n\n\x10\x04\x04") == [
        ("status_query", 1),
        ("text", "a"),
        ("text", ""),
        ("status_query", 4),
    ]


# --- status and printing over real connections -------------------------------------------------------------

STATES = [
    ("ok", PrinterStatus.OK),
    ("near_end", PrinterStatus.NEAR_END),
    ("out", PrinterStatus.PAPER_OUT),
    ("offline", PrinterStatus.OFFLINE),
    ("silent", PrinterStatus.OFFLINE),
]


@pytest.mark.parametrize(("state", "status"), STATES)
def test_query_status_over_tcp(state, status) -> None:
    with PrinterEmulator(state=state) as emu:
        assert query_status(cfg(emu.url)) is status
        assert emu.jobs == [] and emu.received == b"", "status requests are not print data"


def test_printing_sends_the_receipt_and_says_ok() -> None:
    with PrinterEmulator() as emu:
        config = cfg(emu.url)
        assert print_receipt(config, receipt()) is PrinterStatus.OK
        # The status request after the job was answered, so the whole job is already recorded.
        (job,) = emu.jobs
        assert job == render_bytes(receipt(), config) == emu.received
        text = printed(job)
        assert HALL in text and "V001" in text and "前面还有 0 人" in text and "3301**********1234" in text
        assert ("qr_store", PRIORITY["track_url"]) in decode(job) and decode(job)[-1] == ("cut",)


def test_each_slip_is_one_job() -> None:
    with PrinterEmulator() as emu:
        for ticket in (TICKET, JOINT):
            print_receipt(cfg(emu.url, width_mm=58, qr="raster"), receipt(58, ticket))
        assert len(emu.jobs) == 2
        assert "A012" in texts(emu.jobs[0]) and "J003" in texts(emu.jobs[1])
        assert [op[0] for op in decode(emu.jobs[1])].count("image") == 1


def test_near_end_still_prints() -> None:
    with PrinterEmulator(state="near_end") as emu:
        assert print_receipt(cfg(emu.url), receipt()) is PrinterStatus.NEAR_END
        assert len(emu.jobs) == 1 and "V001" in texts(emu.jobs[0])


@pytest.mark.parametrize(("state", "status"), [s for s in STATES if s[0] in ("out", "offline", "silent")])
def test_nothing_is_printed_on_a_printer_that_cannot_print(state, status) -> None:
    with PrinterEmulator(state=state) as emu:
        with pytest.raises(PrintFailed) as err:
            print_receipt(cfg(emu.url), receipt())
        assert err.value.status is status
        assert emu.wait_for_jobs(1, timeout=0.3) == []


def test_a_switched_off_printer_is_offline() -> None:
    emu = PrinterEmulator()
    config = cfg(emu.url)
    emu.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", emu.port), timeout=1).close()
    assert query_status(config) is PrinterStatus.OFFLINE
    with pytest.raises(PrintFailed) as err:
        print_receipt(config, receipt())
    assert err.value.status is PrinterStatus.OFFLINE


def test_the_state_can_change_between_slips() -> None:
    with PrinterEmulator() as emu:
        config = cfg(emu.url)
        assert print_receipt(config, receipt()) is PrinterStatus.OK
        emu.state = "out"
        assert query_status(config) is PrinterStatus.PAPER_OUT
        with pytest.raises(PrintFailed):
            print_receipt(config, receipt())
        emu.state = "ok"
        assert print_receipt(config, receipt()) is PrinterStatus.OK
        assert len(emu.jobs) == 2


class ScriptedPrinter:
    """A TCP printer answering status requests with the next byte of a script (to run out of paper mid-slip)."""

    def __init__(self, replies: list[int]) -> None:
        self.replies = list(replies)
        self.data = bytearray()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        conn, _ = self.server.accept()
        answered = 0
        with conn:
            while chunk := conn.recv(65536):
                self.data += chunk
                while self.data.count(b"\x10\x04") > answered and self.replies:
                    conn.sendall(bytes([self.replies.pop(0)]))
                    answered += 1

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=2)


@pytest.mark.parametrize(
    ("replies", "outcome"),
    [
        ([0x12, 0x12, 0x12, 0x72], PrinterStatus.PAPER_OUT),  # paper ran out while the slip went out
        ([0x12, 0x12, 0x12, 0x1E], PrinterStatus.NEAR_END),  # got low meanwhile: printed, warn
        ([0x12, 0x12], PrinterStatus.OK),  # no answer after the job: it took the job, report what we knew
    ],
)
def test_the_status_after_the_job_counts(replies, outcome, monkeypatch) -> None:
    monkeypatch.setattr("devices.printer.POST_JOB_TIMEOUT", 0.3)
    printer = ScriptedPrinter(replies)
    try:
        if outcome is PrinterStatus.PAPER_OUT:
            with pytest.raises(PrintFailed) as err:
                print_receipt(cfg(printer.url), receipt())
            assert err.value.status is outcome
        else:
            assert print_receipt(cfg(printer.url), receipt()) is outcome
        assert "V001" in texts(bytes(printer.data).replace(b"\x10\x04\x01", b"").replace(b"\x10\x04\x04", b""))
    finally:
        printer.close()


def test_logs_never_carry_the_tracking_token(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with PrinterEmulator() as emu:
        print_receipt(cfg(emu.url), receipt())
        emu.state = "out"
        with pytest.raises(PrintFailed):
            print_receipt(cfg(emu.url), receipt())
    assert caplog.records and "abcdef" not in caplog.text


def test_file_printer_gets_the_bytes(tmp_path) -> None:
    target = tmp_path / "lp0"
    target.touch()
    config = cfg(f"file://{target}")
    assert query_status(config) is PrinterStatus.OK  # a device file cannot answer: it is ok if it opens
    assert print_receipt(config, receipt()) is PrinterStatus.OK
    assert target.read_bytes() == render_bytes(receipt(), config)
    missing = cfg(f"file://{tmp_path}/no/such/dir/lp0")
    assert query_status(missing) is PrinterStatus.OFFLINE


def test_serial_printer_status_and_printing_over_a_pty() -> None:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    received = bytearray()
    state = {"paper": 0x1E}

    def printer() -> None:  # a serial printer on the other end of the pty
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            for n in range(len(chunk)):
                if chunk[n : n + 2] == b"\x10\x04":
                    os.write(master, bytes([0x12 if chunk[n + 2] == 1 else state["paper"]]))
            received.extend(chunk)

    threading.Thread(target=printer, daemon=True).start()
    try:
        config = cfg(f"serial://{os.ttyname(slave)}?baudrate=9600")
        started = time.monotonic()
        assert query_status(config) is PrinterStatus.NEAR_END
        assert time.monotonic() - started < 0.3 * 2, "reads one byte, not until the timeout"
        assert print_receipt(config, receipt(58)) is PrinterStatus.NEAR_END
        deadline = time.monotonic() + 5
        while b"\x1dV" not in received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "V001" in texts(bytes(received).replace(b"\x10\x04\x01", b"").replace(b"\x10\x04\x04", b""))
    finally:
        os.close(slave)
        os.close(master)


def test_unusable_usb_or_serial_is_reported_not_raised() -> None:
    assert query_status(cfg("serial:///dev/ttyNOPE0")) is PrinterStatus.OFFLINE
    # Without pyusb (or without the device) a USB printer cannot be used; either way nothing raises.
    assert query_status(cfg("usb://04b8:0202")) in (PrinterStatus.OFFLINE, PrinterStatus.ERROR)
    with pytest.raises(PrintFailed) as err:
        print_receipt(cfg("usb://04b8:0202"), receipt())
    assert err.value.status in (PrinterStatus.OFFLINE, PrinterStatus.ERROR)


def test_open_printer_connects_to_the_url() -> None:
    with PrinterEmulator() as emu:
        printer = open_printer(cfg(emu.url))
        printer._raw(b"\x1b@hello\n")
        printer.close()
        assert emu.wait_for_jobs(1) == [b"\x1b@hello\n"]


# --- the emulator ------------------------------------------------------------------------------------------


def test_emulator_answers_status_requests_in_the_stream_and_across_chunks() -> None:
    with PrinterEmulator(state="near_end") as emu, socket.create_connection(("127.0.0.1", emu.port), 2) as s:
        s.sendall(b"\x1b@abc\x10")
        time.sleep(0.05)
        s.sendall(b"\x04")
        time.sleep(0.05)
        s.sendall(b"\x04def\n\x10\x04\x01")
        assert s.recv(1) == b"\x1e" and s.recv(1) == b"\x12"
        emu.state = "offline"
        s.sendall(b"\x10\x04\x01\x10\x04\x05")  # n = 5 is not a status request: kept as data
        assert s.recv(1) == b"\x1a"
        s.close()
        assert emu.wait_for_jobs(1) == [b"\x1b@abcdef\n\x10\x04\x05"]


def test_emulator_status_bytes_are_a_printers() -> None:
    assert status_reply("ok", 1) == status_reply("ok", 4) == b"\x12"
    assert status_reply("offline", 1) == b"\x1a" and status_reply("offline", 4) == b"\x12"
    assert status_reply("near_end", 4) == b"\x1e" and status_reply("out", 4) == b"\x72"
    assert status_reply("silent", 1) is None
    with pytest.raises(ValueError):
        PrinterEmulator(state="jammed")


# --- the command line ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_emulator_command_prints_received_receipts() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "devices.emulate", "printer", "--listen", f"127.0.0.1:{port}"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert proc.stdout.readline().startswith(f"printer emulator listening on tcp://127.0.0.1:{port}")
        proc.stdout.readline()  # how to change the state
        proc.stdin.write("near_end\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "state: near_end"
        assert print_receipt(cfg(f"tcp://127.0.0.1:{port}"), receipt()) is PrinterStatus.NEAR_END
        out: list[str] = []
        while not out or out[-1].strip() != "-----":  # the job's closing line
            line = proc.stdout.readline()
            assert line, "the emulator stopped"
            out.append(line)
        shown = "".join(out)
        assert "[x4] V001" in shown and HALL in shown and "前面还有 0 人" in shown and "[cut]" in shown
        assert f"[QR {PRIORITY['track_url']}]" in shown
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert "stopped" in stdout


def test_emulator_command_needs_a_device_and_a_valid_address() -> None:
    run = [sys.executable, "-m", "devices.emulate"]
    assert subprocess.run(run, cwd=ROOT, capture_output=True, timeout=30).returncode == 2
    bad = subprocess.run([*run, "printer", "--listen", "nowhere"], cwd=ROOT, capture_output=True, timeout=30)
    assert bad.returncode == 2 and b"host:port" in bad.stderr
