"""Resident ID number parsing, checksum, age and masking (hall.idcard)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall.idcard import IdInfo, InvalidIdNumber, is_elderly, make_valid, mask, mask_name, normalise, parse

# Computed by hand: weighted sum of 11010519491231002 is 167, 167 % 11 == 2 → "X".
PUBLISHED = "11010519491231002X"
# 110101 / 1950-01-01 / sequence 123 (odd → male); check char computed independently as "9".
VALID_1950 = make_valid("110101" + "19500101" + "123")


def _with_check(number: str, check: str) -> str:
    return number[:17] + check


def _code(number: str, **kwargs) -> str:
    with pytest.raises(InvalidIdNumber) as exc_info:
        parse(number, **kwargs)
    return exc_info.value.code


# --- valid numbers ---------------------------------------------------------------------------------


def test_make_valid_appends_the_expected_check_char():
    assert VALID_1950 == "110101195001011239"
    assert make_valid("11010519491231002") == PUBLISHED


def test_published_example_parses():
    info = parse(PUBLISHED)
    assert info == IdInfo(birth_date=date(1949, 12, 31), sex="female", region="110105")


def test_sex_follows_parity_of_the_17th_digit():
    assert parse(VALID_1950).sex == "male"
    assert parse(make_valid("11010119500101124")).sex == "female"


def test_lowercase_x_and_spaces_are_accepted():
    assert parse(PUBLISHED.lower()) == parse(PUBLISHED)
    assert parse(" 110105 19491231 002x ").birth_date == date(1949, 12, 31)
    assert normalise(" 110105 19491231 002x\t") == PUBLISHED


# --- rejections ------------------------------------------------------------------------------------


def test_wrong_checksum():
    assert _code(_with_check(VALID_1950, "0")) == "id_checksum"
    assert _code(_with_check(PUBLISHED, "1")) == "id_checksum"
    with pytest.raises(InvalidIdNumber) as exc_info:
        parse(_with_check(PUBLISHED, "5"))
    assert str(exc_info.value) == "身份证号码校验位不正确，请核对"
    assert isinstance(exc_info.value, ValueError)


@pytest.mark.parametrize(
    "number",
    [
        "",
        "1101011950010112",  # 16 digits
        "11010119500101123",  # 17 digits
        "1101011950010112390",  # 19 digits
        "11010A195001011239",  # letter in the body
        "X10101195001011239",
        "11010119500101123Y",  # check char not a digit or X
        "１１０１０５１９４９１２３１００２X",  # full-width digits
        "110101-19500101-1239",
    ],
)
def test_bad_format(number):
    assert _code(number) == "id_format"


def test_fifteen_digit_legacy_number_is_refused_with_18_in_message():
    with pytest.raises(InvalidIdNumber) as exc_info:
        parse("110105491231002")
    assert exc_info.value.code == "id_format"
    assert "18位" in str(exc_info.value)


def test_non_string_is_a_format_error():
    assert _code(110101195001011239) == "id_format"


def test_format_message():
    with pytest.raises(InvalidIdNumber) as exc_info:
        parse("123")
    assert str(exc_info.value) == "身份证号码应为18位"


@pytest.mark.parametrize("birth", ["19990230", "19990001", "19991301", "19990431", "19000229", "00000000"])
def test_impossible_birth_date(birth):
    number = make_valid("110101" + birth + "123")  # checksum right, date wrong
    assert _code(number) == "id_birthdate"


def test_leap_day_is_a_real_date():
    assert parse(make_valid("11010120000229123")).birth_date == date(2000, 2, 29)


def test_birth_year_before_1900_is_refused():
    assert _code(make_valid("11010118991231123")) == "id_birthdate"
    assert parse(make_valid("11010119000101123")).birth_date == date(1900, 1, 1)


def test_future_birth_date_relative_to_today():
    number = make_valid("11010120300601123")
    assert _code(number, today=date(2025, 1, 1)) == "id_birthdate"
    with pytest.raises(InvalidIdNumber) as exc_info:
        parse(number, today=date(2030, 5, 31))
    assert str(exc_info.value) == "身份证号码中的出生日期无效"
    # born today is fine; without ``today`` no future check is made
    assert parse(number, today=date(2030, 6, 1)).birth_date == date(2030, 6, 1)
    assert parse(number).birth_date == date(2030, 6, 1)


def test_make_valid_rejects_bad_prefix():
    for prefix in ["1101011950010112", "110101195001011234", "1101011950010112a"]:
        with pytest.raises(InvalidIdNumber):
            make_valid(prefix)


# --- age -------------------------------------------------------------------------------------------


def test_age_on():
    info = parse(VALID_1950)
    assert info.age_on(date(1950, 1, 1)) == 0
    assert info.age_on(date(2014, 12, 31)) == 64
    assert info.age_on(date(2015, 1, 1)) == 65
    with pytest.raises(ValueError):
        info.age_on(date(1949, 12, 31))


def test_age_of_leap_day_birth():
    info = parse(make_valid("11010119600229123"))
    assert info.age_on(date(2025, 2, 28)) == 64
    assert info.age_on(date(2025, 3, 1)) == 65


def test_elderly_boundary_is_the_65th_birthday():
    assert is_elderly(VALID_1950, today=date(2015, 1, 1)) is True
    assert is_elderly(VALID_1950, today=date(2014, 12, 31)) is False
    assert is_elderly(VALID_1950, today=date(2025, 6, 1)) is True


def test_elderly_custom_age_and_invalid_number():
    assert is_elderly(VALID_1950, today=date(2020, 1, 1), age=70) is True
    assert is_elderly(VALID_1950, today=date(2019, 12, 31), age=70) is False
    with pytest.raises(InvalidIdNumber):
        is_elderly(_with_check(VALID_1950, "0"), today=date(2025, 1, 1))


# --- masking ---------------------------------------------------------------------------------------


def test_mask_id_number():
    masked = mask("110101195001011234")
    assert masked == "1101**********1234"
    assert len(masked) == 18
    assert mask(PUBLISHED) == "1101**********002X"


def test_mask_custom_keep():
    assert mask("110101195001011234", keep_start=6, keep_end=0) == "110101************"
    assert mask("110101195001011234", keep_start=0, keep_end=2) == "****************34"
    assert mask("13800138000", keep_start=3, keep_end=4) == "138****8000"


def test_mask_short_strings():
    assert mask("12345678") == "*******8"
    assert mask("123") == "**3"
    assert mask("1") == "1"
    assert mask("") == ""
    for text in ["", "1", "1234", "123456789"]:
        assert len(mask(text)) == len(text)


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("王小明", "王**"), ("欧阳娜娜", "欧***"), ("李", "*"), ("", ""), (" 张三 ", "张*")],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


# --- property --------------------------------------------------------------------------------------


@settings(database=None, max_examples=200)
@given(
    region=st.from_regex(r"\A[0-9]{6}\Z"),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31)),
    seq=st.from_regex(r"\A[0-9]{3}\Z"),
    other=st.sampled_from("0123456789X"),
)
def test_make_valid_roundtrip_and_any_other_check_char_fails(region, birth, seq, other):
    number = make_valid(region + birth.strftime("%Y%m%d") + seq)
    info = parse(number)
    assert info.birth_date == birth
    assert info.region == region
    assert info.sex == ("male" if int(seq[-1]) % 2 else "female")
    assert parse(number, today=birth) == info
    assert parse(number.lower()) == info
    if other != number[-1]:
        assert _code(_with_check(number, other)) == "id_checksum"
    if birth > date(1900, 1, 1):
        assert _code(number, today=birth - timedelta(days=1)) == "id_birthdate"
