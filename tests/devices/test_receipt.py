"""The slip's content and layout, before any printer is involved."""

from __future__ import annotations

import pytest

from kiosk.receipt import QR, Cut, Text, build_receipt, columns, text_width, wrap

TICKET = {
    "number": "A012",
    "items": [
        {
            "code": "YB001",
            "name": "城乡居民参保登记",
            "materials": ["居民身份证或户口簿原件", "《城乡居民基本医疗保险参保登记表》（窗口现场填写）"],
        },
    ],
    "queue": "A",
    "priority": None,
    "joint": False,
    "people_ahead": 3,
    "eta_minutes": {"low": 5, "high": 15},
    "issued_at": "2026-11-23T01:00:00+00:00",
    "id_masked": None,
    "track_url": "http://192.168.1.10:5000/t/abcdef",
}


def lines(blocks) -> list[str]:
    return [b.text for b in blocks if isinstance(b, Text)]


@pytest.mark.parametrize(("width", "size"), [(80, 4), (58, 3)])
def test_number_is_the_biggest_thing_and_lines_fit_the_paper(width, size) -> None:
    blocks = build_receipt(
        TICKET, hall_name="安澜县医疗保障服务大厅", width_mm=width, notice="过号请到咨询引导台申请补叫，本票当日有效"
    )
    number = next(b for b in blocks if isinstance(b, Text) and b.text == "A012")
    assert number.size == size == max(b.size for b in blocks if isinstance(b, Text))
    for b in blocks:
        if isinstance(b, Text):
            assert text_width(b.text) * b.size <= columns(width), b.text
    text = "\n".join(lines(blocks))
    assert "城乡居民参保登记" in text and "前面还有 3 人" in text and "预计等候 5–15 分钟" in text
    assert "2026-11-23 01:00" in text, "time as issued (the API gives hall-local ISO times)"
    assert [b.data for b in blocks if isinstance(b, QR)] == [TICKET["track_url"]]
    assert isinstance(blocks[-1], Cut)


def test_joint_and_priority_tickets_say_so() -> None:
    t = {
        **TICKET,
        "joint": True,
        "priority": "elderly",
        "items": [*TICKET["items"], {"code": "RS001", "name": "社保卡补办"}],
    }
    text = "\n".join(lines(build_receipt(t, hall_name="h")))
    assert "一件事联办" in text and "绿色通道·老年人" in text and "社保卡补办" in text


def test_an_unmasked_id_is_never_printed() -> None:
    full = "110101195001011237"
    text = "\n".join(lines(build_receipt({**TICKET, "id_masked": full}, hall_name="h")))
    assert full not in text and "1101**********1237" in text
    masked = "\n".join(lines(build_receipt({**TICKET, "id_masked": "1101**********1237"}, hall_name="h")))
    assert "证件号：1101**********1237" in masked


def test_materials_are_capped_and_wrapped() -> None:
    many = {**TICKET, "items": [{"code": "X", "name": "x", "materials": [f"材料{n}" * 10 for n in range(9)]}]}
    text = lines(build_receipt(many, hall_name="h", width_mm=58, max_materials=4))
    assert any(line.startswith("4. ") for line in text) and not any(line.startswith("5. ") for line in text)


def test_wrap_counts_hanzi_as_two_columns() -> None:
    assert wrap("一二三四五", 4) == ["一二", "三四", "五"]
    assert wrap("ab一c", 3) == ["ab", "一c"]
    assert wrap("", 10) == [""]
