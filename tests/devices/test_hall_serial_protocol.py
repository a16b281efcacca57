"""hall-serial framing (docs/devices.md): golden bytes, round trips and corrupt frames, with no I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols import hall_serial as hs

# Golden frames: the bytes docs/devices.md shows a firmware writer, decoded both ways.
GOLDEN = [
    (hs.Frame(1, 0, "P"), b"\x020100P\x03DD7A\n"),
    (hs.Frame(1, 0, "A", b"KN"), b"\x020100AKN\x03B0C9\n"),
    (hs.Frame(2, 0x1A, "A", b"R5"), b"\x02021AAR5\x0396AE\n"),
    (
        hs.Frame(1, 7, "D", b"A001," + "请到1号窗口".encode("gb18030")),
        b"\x020107DA001,\xc7\xeb\xb5\xbd1\xba\xc5\xb4\xb0\xbf\xda\x0346E8\n",
    ),
    (hs.Frame(1, 7, "A"), b"\x020107A\x0346FD\n"),
    (hs.Frame(3, 0xFF, "N", b"ARG"), b"\x0203FFNARG\x037B54\n"),
    (
        hs.Frame(0xFF, 1, "D", b"," + "暂停服务".encode("gb18030")),
        b"\x02FF01D,\xd4\xdd\xcd\xa3\xb7\xfe\xce\xf1\x03DBD7\n",
    ),
    (hs.Frame(1, 2, "I"), b"\x020102I\x033800\n"),
    (hs.Frame(1, 2, "A", b"led,EMU,1.0"), b"\x020102Aled,EMU,1.0\x03F35B\n"),
]


def test_crc_is_ccitt_false() -> None:
    assert hs.crc(b"123456789") == 0x29B1  # the catalogued check value of CRC-16/CCITT-FALSE


@pytest.mark.parametrize(("frame", "raw"), GOLDEN)
def test_golden_frames(frame: hs.Frame, raw: bytes) -> None:
    assert hs.encode(frame) == raw
    assert hs.decode(raw) == frame


def test_display_payload_is_number_comma_gb18030_text() -> None:
    data = hs.display_data("A001", "请到1号窗口")
    assert data == b"A001," + "请到1号窗口".encode("gb18030")
    assert hs.parse_display(data) == ("A001", "请到1号窗口")
    assert hs.display_data("", "窗口关闭") == b"," + "窗口关闭".encode("gb18030")
    # Control characters never travel (they would be frame delimiters); the number is ASCII only.
    assert hs.display_data("A\x02001", "a\nb") == b"A001,a b"
    # Rare characters (GB18030 four-byte) still fit the rule: no byte below 0x20.
    assert all(b >= 0x20 for b in hs.display_data("A1", "㐀𠀀"))


def test_long_text_is_cut_at_a_character_boundary() -> None:
    data = hs.display_data("A001", "号" * 500)
    assert len(data) <= hs.MAX_DATA
    number, text = hs.parse_display(data)
    assert number == "A001" and set(text) == {"号"}
    assert len(hs.encode(hs.Frame(1, 0, "D", data))) <= hs.MAX_FRAME


def test_events() -> None:
    assert hs.parse_event(b"") is None
    assert hs.parse_event(b"KN") == hs.KeyPress("N") and hs.KeyPress("S").action == "no_show"
    assert hs.parse_event(b"R1") == hs.RatingPress(1)
    for bad in (b"K", b"KX", b"R0", b"R6", b"R12", b"X1"):
        with pytest.raises(hs.FrameError):
            hs.parse_event(bad)
    assert hs.event_data(hs.RatingPress(5)) == b"R5" and hs.event_data(None) == b""
    with pytest.raises(ValueError):
        hs.event_data(hs.RatingPress(9))


def test_encode_refuses_what_cannot_travel() -> None:
    for frame in (
        hs.Frame(256, 0, "P"),
        hs.Frame(1, -1, "P"),
        hs.Frame(1, 0, "p"),
        hs.Frame(1, 0, "PP"),
        hs.Frame(1, 0, "D", b"a\nb"),
        hs.Frame(1, 0, "D", b"x" * (hs.MAX_DATA + 1)),
    ):
        with pytest.raises(ValueError):
            hs.encode(frame)


def test_decoder_finds_frames_in_noise_and_pieces() -> None:
    stream = b"\x00\xffnoise" + b"".join(raw for _, raw in GOLDEN) + b"\x03\n"
    decoder = hs.Decoder()
    out = [f for i in range(0, len(stream), 3) for f in decoder.feed(stream[i : i + 3])]
    assert out == [frame for frame, _ in GOLDEN]
    # A frame cut short by the next STX is dropped and counted; the next one still decodes.
    decoder = hs.Decoder()
    assert decoder.feed(GOLDEN[0][1][:6] + GOLDEN[1][1]) == [GOLDEN[1][0]]
    assert decoder.errors == 1


def test_decoder_counts_corrupt_frames() -> None:
    raw = bytearray(GOLDEN[3][1])
    raw[8] ^= 0x01
    decoder = hs.Decoder()
    assert decoder.feed(bytes(raw)) == [] and decoder.errors == 1
    lower = GOLDEN[0][1].replace(b"DD7A", b"dd7a")  # the CRC is upper-case hex: no second spelling
    assert decoder.feed(lower) == [] and decoder.errors == 2


frames = st.builds(
    hs.Frame,
    address=st.integers(0, 255),
    seq=st.integers(0, 255),
    command=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    data=st.binary(max_size=hs.MAX_DATA).map(lambda b: bytes(x | 0x20 if x < 0x20 else x for x in b)),
)


@given(frames, st.lists(st.integers(1, 40), max_size=8))
def test_round_trip_in_any_chunking(frame: hs.Frame, cuts: list[int]) -> None:
    raw = hs.encode(frame)
    assert hs.decode(raw) == frame
    decoder, out, at = hs.Decoder(), [], 0
    for cut in cuts:
        out += decoder.feed(raw[at : at + cut])
        at += cut
    out += decoder.feed(raw[at:])
    assert out == [frame] and decoder.errors == 0


@given(frames, st.data())
def test_any_single_byte_change_is_rejected(frame: hs.Frame, data: st.DataObject) -> None:
    raw = bytearray(hs.encode(frame))
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]))
    assert hs.decode_all(bytes(raw)) == []
    with pytest.raises(hs.FrameError):
        hs.decode(bytes(raw))


@given(frames, st.integers(1, 11))
def test_truncated_frames_are_rejected(frame: hs.Frame, cut: int) -> None:
    raw = hs.encode(frame)
    with pytest.raises(hs.FrameError):
        hs.decode(raw[:-cut])
    assert hs.decode_all(raw[:-cut]) == []


@given(st.text(max_size=120), st.from_regex(r"[A-Z]?[0-9]{0,4}", fullmatch=True))
def test_display_round_trip(text: str, number: str) -> None:
    got_number, got_text = hs.parse_display(hs.display_data(number, text))
    assert got_number == number
    expected = hs.clean_text(text).encode("gb18030", errors="replace").decode("gb18030")
    assert expected.startswith(got_text)  # cut to fit, never altered
