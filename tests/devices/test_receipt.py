"""The slip's content and layout (kiosk/receipt.py), before any printer is involved."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.receipt import (
    QR,
    Cut,
    Feed,
    Rule,
    Text,
    build_receipt,
    columns,
    number_size,
    safe_id,
    text_width,
    wrap,
)

HALL = "安澜县医疗保障服务大厅"
TICKET = {
    "number": "A012",
    "items": [
        {
            "code": "YB001",
            "name": "城乡居民参保登记",
            "materials": ["居民身份证或户口簿原件", "《城乡居民基本医疗保险参保登记表》（窗口现场填写）"],
            "time_limit_days": 0,
        },
    ],
    "queue": "A",
    "priority": None,
    "joint": False,
    "people_ahead": 3,
    "eta_minutes": {"low": 5, "high": 15},
    "issued_at": "2026-11-23T09:00:00+08:00",
    "id_masked": None,
    "track_url": "http://192.168.1.10:5000/t/abcdef",
}
JOINT = {
    **TICKET,
    "number": "J003",
    "queue": "J",
    "joint": True,
    "items": [
        {
            "code": "YB010",
            "name": "新生儿参保登记及医保关系建立（含出生医学证明核验与户籍信息联网核查）",
            "materials": ["出生医学证明", "户口簿"],
            "time_limit_days": 0,
        },
        {"code": "RS001", "name": "社保卡申领", "time_limit_days": 7},  # no "materials" key at all
    ],
}
PRIORITY = {
    **TICKET,
    "number": "V001",
    "priority": "elderly",
    "people_ahead": 0,
    "eta_minutes": {"low": 0, "high": 5},
    "id_masked": "3301**********1234",
}
TICKETS = {"single": TICKET, "joint": JOINT, "priority": PRIORITY}
NOTICE = "过号请到咨询引导台申请补叫，本票当日有效"


def texts(blocks) -> list[str]:
    return [b.text for b in blocks if isinstance(b, Text)]


def joined(blocks) -> str:
    """All lines run together (a wrapped phrase is found again)."""
    return "".join(t.strip() for t in texts(blocks))


@pytest.mark.parametrize("kind", TICKETS)
@pytest.mark.parametrize(("width", "size"), [(80, 4), (58, 3)])
def test_every_line_fits_and_the_number_is_the_biggest_thing(kind, width, size) -> None:
    ticket = TICKETS[kind]
    blocks = build_receipt(ticket, hall_name=HALL, width_mm=width, notice=NOTICE)
    for b in blocks:
        if isinstance(b, Text):
            assert text_width(b.text) * b.size <= columns(width), (b.size, b.text)
            assert "\n" not in b.text
    number = [b for b in blocks if isinstance(b, Text) and b.text == ticket["number"]]
    assert len(number) == 1
    assert number[0].size == size == max(b.size for b in blocks if isinstance(b, Text))
    assert number[0].bold and number[0].align == "center"
    assert [b.data for b in blocks if isinstance(b, QR)] == [ticket["track_url"]]
    assert isinstance(blocks[-1], Cut) and isinstance(blocks[-2], Feed)
    text = joined(blocks)
    assert HALL in text and "扫码查看排队进度" in text and NOTICE in text
    assert f"前面还有 {ticket['people_ahead']} 人" in text
    eta = ticket["eta_minutes"]
    assert f"预计等候 {eta['low']}–{eta['high']} 分钟" in text


def test_the_layout_order() -> None:
    blocks = build_receipt(PRIORITY, hall_name=HALL, notice=NOTICE)
    lines = texts(blocks)
    order = [HALL, "V001", "办理事项：城乡居民参保登记", "【绿色通道·老年人】", "前面还有 0 人"]
    order += ["预计等候 0–5 分钟", "取号时间：2026-11-23 09:00", "请备齐以下材料：", "证件号：3301**********1234"]
    order += ["扫码查看排队进度", NOTICE]
    positions = [lines.index(line) for line in order]
    assert positions == sorted(positions)
    assert blocks.index(QR(PRIORITY["track_url"], size=6)) == blocks.index(Text("扫码查看排队进度", align="center")) - 1
    assert isinstance(blocks[1], Rule)


def test_joint_tickets_list_every_item_under_the_joint_marker() -> None:
    blocks = build_receipt(JOINT, hall_name=HALL, width_mm=58)
    lines = texts(blocks)
    assert "【一件事联办】" in lines
    text = joined(blocks)
    assert "1. 新生儿参保登记及医保关系建立" in text and "2. 社保卡申领" in text
    assert "绿色通道" not in text
    # The long name wraps with its continuation indented under the text, not under the number.
    at = next(i for i, line in enumerate(lines) if line.startswith("1. 新生儿"))
    assert lines[at + 1].startswith("   ") and not lines[at + 1].startswith("    ")


@pytest.mark.parametrize(
    ("priority", "label"), [("elderly", "老年人"), ("veteran", "退役军人"), ("disabled", "残疾人")]
)
def test_priority_tickets_print_the_green_channel(priority, label) -> None:
    assert f"【绿色通道·{label}】" in texts(build_receipt({**TICKET, "priority": priority}, hall_name=HALL))


def test_issue_time_is_shown_in_the_time_zone_it_carries() -> None:
    for issued, shown in [
        ("2026-11-23T09:05:59+08:00", "2026-11-23 09:05"),
        ("2026-11-23T01:05:00+00:00", "2026-11-23 01:05"),  # not converted to the server's zone
        ("2026-11-23T01:05:00Z", "2026-11-23 01:05"),
    ]:
        assert f"取号时间：{shown}" in texts(build_receipt({**TICKET, "issued_at": issued}, hall_name=HALL))
    assert not any("取号时间" in t for t in texts(build_receipt({**TICKET, "issued_at": "soon"}, hall_name=HALL)))


@pytest.mark.parametrize(
    ("given_id", "printed"),
    [
        ("330102199001011234", "3301**********1234"),  # 18 characters, not masked by the caller
        ("33010219900101X", "3301*******101X"),  # 15 characters
        ("3301**********1234", "3301**********1234"),  # already masked: as is
    ],
)
def test_an_unmasked_id_is_never_printed(given_id, printed) -> None:
    for width in (58, 80):
        blocks = build_receipt({**TICKET, "id_masked": given_id}, hall_name=HALL, width_mm=width)
        assert f"证件号：{printed}" in texts(blocks)
        if "*" not in given_id:
            assert given_id not in joined(blocks)


def test_no_id_no_id_line() -> None:
    assert not any("证件号" in t for t in texts(build_receipt(TICKET, hall_name=HALL)))
    assert safe_id(None) is None and safe_id("") is None
    assert safe_id("12345678") == "****5678" and safe_id("123") == "***"


def test_materials_are_the_first_few_across_items_and_wrapped() -> None:
    items = [
        {"code": "A", "name": "甲", "materials": ["身份证", "户口簿", "委托书（由委托人本人签字并按手印，注明期限）"]},
        {"code": "B", "name": "乙", "materials": ["医保电子凭证", "诊断证明", "出院小结"]},
    ]
    blocks = build_receipt({**TICKET, "items": items}, hall_name=HALL, width_mm=58, max_materials=4)
    lines = texts(blocks)
    after = lines[lines.index("请备齐以下材料：") + 1 :]
    numbered = [line for line in after if line[:2] in {f"{n}." for n in range(1, 10)}]
    assert [line.split(" ", 1)[1][:3] for line in numbered] == ["身份证", "户口簿", "委托书", "医保电"]
    assert "诊断证明" not in joined(blocks)
    assert any("共 6 项" in line for line in lines), "the slip says there are more"
    assert all(text_width(line) <= 32 for line in lines)
    none = build_receipt({**TICKET, "items": [{"code": "C", "name": "丙"}]}, hall_name=HALL)
    assert "请备齐以下材料：" not in texts(none)


def test_a_long_number_shrinks_to_fit() -> None:
    assert number_size("A012", 80) == 4 and number_size("A012", 58) == 3
    assert number_size("A0123456789", 80) == 4 and number_size("A0123456789", 58) == 2
    blocks = build_receipt({**TICKET, "number": "VIP-A0123"}, hall_name=HALL, width_mm=58)
    number = next(b for b in blocks if isinstance(b, Text) and b.text == "VIP-A0123")
    assert text_width(number.text) * number.size <= 32 and number.size == 3


def test_control_characters_never_reach_the_printer() -> None:
    item = {"code": "X", "name": "参保\x1b@\x1dV\x00登记\n第二行", "materials": ["a\x10\x04\x01b"]}
    evil = {**TICKET, "items": [item]}
    blocks = build_receipt(evil, hall_name="大厅\x1b!\x30", notice="注意\r\n事项")
    for t in texts(blocks):
        assert not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in t), repr(t)
    assert "参保 @ V 登记 第二行" in joined(blocks)


def test_text_blocks_refuse_impossible_styles() -> None:
    with pytest.raises(ValueError, match="size"):
        Text("x", size=9)
    with pytest.raises(ValueError, match="align"):
        Text("x", align="middle")
    with pytest.raises(ValueError, match="58 or 80"):
        build_receipt(TICKET, hall_name=HALL, width_mm=76)


def test_wrap_counts_hanzi_and_full_width_punctuation_as_two_columns() -> None:
    assert wrap("一二三四五", 4) == ["一二", "三四", "五"]
    assert wrap("ab一c", 3) == ["ab", "一c"]
    assert wrap("预计等候 10–25 分钟", 12) == ["预计等候 10", "–25 分钟"]
    assert wrap("，。：", 4) == ["，。", "："]
    assert wrap("", 10) == [""]
    assert wrap("see http://h/t/abcdef now", 12) == ["see http://h", "/t/abcdef", "now"]
    assert wrap("1. 一二三四五六", 8, indent="   ") == ["1. 一二", "   三四", "   五六"]


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.characters(codec="gb18030", exclude_categories=("Cc", "Cs")), max_size=80),
    width=st.integers(min_value=4, max_value=48),
)
def test_wrapped_lines_fit_and_keep_every_character(text, width) -> None:
    lines = wrap(text, width)
    assert all(text_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
