"""modbus-led framing through pymodbus: golden RTU frames of the register map, round trips, corrupt frames."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import modbus_led as mb
from devices.serial_emulators import ModbusLedDevice

MAP = mb.RegisterMap()
SPACES = " ".join(["20"] * 53)  # 64 bytes minus the 11 of the text


def hexes(raw: bytes) -> str:
    return raw.hex(" ")


def test_golden_display_requests() -> None:
    number, text = mb.display_requests(1, "A012", "请到1号窗口", MAP)
    # FC16 at 0x0000, 5 registers: 12, then "A012    " in ASCII
    assert hexes(mb.build(number)) == "01 10 00 00 00 05 0a 00 0c 41 30 31 32 20 20 20 20 8e f0"
    # FC16 at 0x0010, 32 registers: the GB2312 text padded with spaces to 64 bytes
    assert hexes(mb.build(text)) == (f"01 10 00 10 00 20 40 c7 eb b5 bd 31 ba c5 b4 b0 bf da {SPACES} d6 f6")


def test_golden_heartbeat_and_answers() -> None:
    assert hexes(mb.build(mb.heartbeat_request(1, MAP))) == "01 03 00 00 00 01 84 0a"  # the textbook FC03 frame
    number, _ = mb.display_requests(1, "A012", "", MAP)
    assert hexes(mb.build(mb.write_response(number))) == "01 10 00 00 00 05 00 0a"
    assert hexes(mb.build(mb.read_response(1, [12]))) == "01 03 02 00 0c b8 41"
    assert hexes(mb.build(mb.exception_response(number, 2))) == "01 90 02 cd c1"
    small = mb.RegisterMap(text_registers=4)
    assert hexes(mb.build(mb.display_requests(7, "", "暂停服务", small)[1])) == (
        "07 10 00 10 00 04 08 d4 dd cd a3 b7 fe ce f1 f7 81"
    )


def test_replies_are_matched_to_their_request() -> None:
    number, text = mb.display_requests(1, "A012", "x", MAP)
    decoder = mb.ReplyDecoder()
    (reply,) = decoder.feed(mb.build(mb.write_response(number)))
    assert mb.answers(number, reply) and not mb.answers(text, reply)  # other address/count
    (error,) = decoder.feed(mb.build(mb.exception_response(text, 6)))
    assert mb.answers(text, error) and mb.exception_text(error) == "Modbus exception 6 (server device busy)"
    (other_unit,) = decoder.feed(mb.build(mb.write_response(mb.display_requests(2, "", "", MAP)[0])))
    assert not mb.answers(number, other_unit)


def test_noise_and_split_frames() -> None:
    requests = mb.display_requests(1, "B7", "窗口关闭", MAP)
    stream = b"\x00\xff\x13" + b"".join(mb.build(r) for r in requests)
    decoder = mb.RequestDecoder()
    got = [pdu for i in range(0, len(stream), 5) for pdu in decoder.feed(stream[i : i + 5])]
    assert [(p.address, p.count) for p in got] == [(0, 5), (0x10, 32)]


def test_number_and_text_helpers() -> None:
    assert mb.number_value("A012") == 12 and mb.number_value("") == 0 and mb.number_value("Z99999") == 65535
    assert mb.parse_number(mb.number_registers("A012")) == "A012"
    regs = mb.text_registers("号" * 40, MAP)  # 80 bytes do not fit in 64: cut at a character
    assert len(regs) == 32 and mb.parse_text(regs) == "号" * 32
    assert mb.parse_text(mb.text_registers("㐀", MAP)) == "?"  # outside GB2312: the display cannot show it
    with pytest.raises(ValueError):
        mb.RegisterMap(text_register=2)  # overlaps the number registers
    with pytest.raises(ValueError):
        mb.RegisterMap(text_registers=200)


gb2312_text = st.text(
    alphabet=st.sampled_from("请到号窗口暂停服务关闭欢迎光临评价谢谢ABCXYZ0123456789 -"), max_size=40
).map(str.strip)


@given(gb2312_text, st.from_regex(r"[A-Z]?[0-9]{0,4}", fullmatch=True), st.integers(1, 247))
def test_display_round_trip_through_an_emulated_display(text: str, number: str, unit: int) -> None:
    display = ModbusLedDevice(unit)
    decoder, answers = mb.RequestDecoder(), mb.ReplyDecoder()
    for request in mb.display_requests(unit, number, text, MAP):
        (heard,) = decoder.feed(mb.build(request))
        (reply,) = answers.feed(mb.build(display.handle(heard)))
        assert mb.answers(request, reply) and mb.exception_text(reply) is None
    expected = mb.fit_text(text, 64, "gb2312").decode("gb2312")
    assert display.shown == [(number, expected)]


@given(st.sampled_from([0, 1]), st.data())
def test_any_single_byte_change_is_rejected(which: int, data: st.DataObject) -> None:
    raw = bytearray(mb.build(mb.display_requests(1, "A012", "请到1号窗口", MAP)[which]))
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]))
    assert mb.RequestDecoder().feed(bytes(raw)) == []  # the CRC (or the framing) gives it away
