"""CPR numbers: century table, real dates, sex, modulus 11 (reported, never required)."""

import dataclasses
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from referrals.cpr import BAD_FORMAT, FUTURE_DATE, IMPOSSIBLE_DATE, parse_cpr

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def in_2060(time_machine):
    """A today late enough that every birth year of the century table lies in the past."""
    time_machine.move_to(datetime(2060, 1, 1, 12, 0, tzinfo=COPENHAGEN), tick=False)


# The CPR office's table, typed out by hand: 7th digit -> birth year for YY = 00, 36,
# 37, 57, 58, 99 (both sides of every boundary).
CENTURY_TABLE = {
    0: (1900, 1936, 1937, 1957, 1958, 1999),
    1: (1900, 1936, 1937, 1957, 1958, 1999),
    2: (1900, 1936, 1937, 1957, 1958, 1999),
    3: (1900, 1936, 1937, 1957, 1958, 1999),
    4: (2000, 2036, 1937, 1957, 1958, 1999),
    5: (2000, 2036, 2037, 2057, 1858, 1899),
    6: (2000, 2036, 2037, 2057, 1858, 1899),
    7: (2000, 2036, 2037, 2057, 1858, 1899),
    8: (2000, 2036, 2037, 2057, 1858, 1899),
    9: (2000, 2036, 1937, 1957, 1958, 1999),
}
TWO_DIGIT_YEARS = (0, 36, 37, 57, 58, 99)
CENTURY_CASES = [
    pytest.param(f"1506{yy:02d}-{digit}001", year, id=f"7th-{digit}-yy{yy:02d}-is-{year}")
    for digit, years in CENTURY_TABLE.items()
    for yy, year in zip(TWO_DIGIT_YEARS, years, strict=True)
]


@pytest.mark.parametrize("value,year", CENTURY_CASES)
def test_century_follows_the_cpr_office_table(in_2060, value, year):
    assert parse_cpr(value).birth_date == date(year, 6, 15)


@pytest.mark.parametrize(
    "value,born",
    [
        ("290200-4001", date(2000, 2, 29)),
        ("290200-5001", date(2000, 2, 29)),
        ("290296-1001", date(1996, 2, 29)),
        ("290224-4001", date(2024, 2, 29)),
        ("310190-1001", date(1990, 1, 31)),
        ("311299-9875", date(1999, 12, 31)),
    ],
    ids=[
        "29-feb-2000-century-leap-year",
        "29-feb-2000-via-7th-digit-5",
        "29-feb-1996",
        "29-feb-2024",
        "31-january",
        "31-december-1999-via-7th-digit-9",
    ],
)
def test_real_dates_are_accepted(value, born):
    assert parse_cpr(value).birth_date == born


@pytest.mark.parametrize(
    "value",
    [
        "290200-0001",
        "290223-4001",
        "290258-5001",
        "300290-1001",
        "310490-1001",
        "310690-1001",
        "320190-1001",
        "001090-1001",
        "010090-1001",
        "011390-1001",
    ],
    ids=[
        "29-feb-1900-not-a-leap-year",
        "29-feb-2023",
        "29-feb-1858",
        "30-feb",
        "31-april",
        "31-june",
        "32-january",
        "day-00",
        "month-00",
        "month-13",
    ],
)
def test_a_date_that_does_not_exist_is_rejected(value):
    with pytest.raises(ValidationError) as excinfo:
        parse_cpr(value)
    assert excinfo.value.code == "impossible_date"
    assert excinfo.value.message == IMPOSSIBLE_DATE


@pytest.mark.parametrize(
    "now,value,accepted",
    [
        (datetime(2026, 6, 15, 12, 0, tzinfo=COPENHAGEN), "150626-4001", True),
        (datetime(2026, 6, 15, 12, 0, tzinfo=COPENHAGEN), "140626-4001", True),
        (datetime(2026, 6, 15, 12, 0, tzinfo=COPENHAGEN), "160626-4001", False),
        (datetime(2026, 6, 15, 12, 0, tzinfo=COPENHAGEN), "010137-5001", False),
        (datetime(2026, 6, 15, 12, 0, tzinfo=COPENHAGEN), "160626-0001", True),
        # 22:30 UTC on 14 June is 00:30 on 15 June in Copenhagen (summer time).
        (datetime(2026, 6, 14, 22, 30, tzinfo=UTC), "150626-4001", True),
        # 21:30 UTC on 15 June is 23:30 the same day in Copenhagen: 16 June is tomorrow.
        (datetime(2026, 6, 15, 21, 30, tzinfo=UTC), "160626-4001", False),
    ],
    ids=[
        "born-today",
        "born-yesterday",
        "born-tomorrow",
        "born-2037",
        "same-digits-with-7th-digit-0-is-1926",
        "just-after-midnight-in-copenhagen-is-today-there",
        "just-before-midnight-in-copenhagen-tomorrow-is-still-future",
    ],
)
def test_a_birth_date_in_the_future_is_rejected(time_machine, now, value, accepted):
    time_machine.move_to(now, tick=False)
    if accepted:
        assert parse_cpr(value).birth_date <= date(2026, 6, 15)
    else:
        with pytest.raises(ValidationError) as excinfo:
            parse_cpr(value)
        assert excinfo.value.code == "future_date"
        assert excinfo.value.message == FUTURE_DATE


@pytest.mark.parametrize(
    "last_digit,sex",
    [(digit, "male" if digit % 2 else "female") for digit in range(10)],
    ids=[f"last-digit-{digit}" for digit in range(10)],
)
def test_sex_follows_the_last_digit(last_digit, sex):
    assert parse_cpr(f"010190-123{last_digit}").sex == sex


# Check digits worked out with the weights 4,3,2,7,6,5,4,3,2,1: for 070761-4285 the sum is
# 0+21+0+49+36+5+16+6+16+5 = 154 = 14 x 11.
@pytest.mark.parametrize(
    "value,ok",
    [
        ("070761-4285", True),
        ("010190-1238", True),
        ("150587-0006", True),
        ("290200-4001", True),
        ("311299-9875", True),
        ("070761-4286", False),
        ("010190-1234", False),
        ("290200-4002", False),
    ],
    ids=[
        "passes-070761-4285",
        "passes-010190-1238",
        "passes-150587-0006",
        "passes-290200-4001",
        "passes-311299-9875",
        "fails-070761-4286",
        "fails-010190-1234",
        "fails-290200-4002",
    ],
)
def test_modulus11_is_reported_but_never_required(value, ok):
    assert parse_cpr(value).modulus11_ok is ok


@pytest.mark.parametrize(
    "value",
    [
        "0101901238",
        "010190-1238",
        " 010190-1238 ",
        "\t0101901238\n",
    ],
    ids=["ten-digits", "with-hyphen", "surrounding-spaces", "surrounding-tab-and-newline"],
)
def test_both_written_forms_give_the_same_number(value):
    cpr = parse_cpr(value)
    assert cpr.digits == "0101901238"
    assert str(cpr) == "010190-1238"
    assert cpr.masked == "010190-xxxx"
    assert cpr.birth_date == date(1990, 1, 1)
    assert cpr == parse_cpr("0101901238")


def test_repr_never_shows_the_serial_number():
    assert "1238" not in repr(parse_cpr("010190-1238"))


def test_a_parsed_number_cannot_be_changed():
    cpr = parse_cpr("010190-1238")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cpr.digits = "0101901234"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "010190123",
        "01019012",
        "01019012345",
        "010190-12345",
        "010190-123",
        "0101901-238",
        "01019-01238",
        "010190--1238",
        "-0101901238",
        "0101901238-",
        "010190 1238",
        "010190/1238",
        "010190.1238",
        "010190\u20131238",
        "01019O1238",
        "010190-123x",
        "abcdefghij",
        "0101 901238",
        "\u0660\u0661\u0660\u0661\u0669\u0660\u0661\u0662\u0663\u0668",
        "\uff10\uff11\uff10\uff11\uff19\uff10\uff11\uff12\uff13\uff18",
        None,
        101901238,
        1.0,
        b"0101901238",
        ["0101901238"],
    ],
    ids=[
        "empty",
        "only-spaces",
        "nine-digits",
        "eight-digits",
        "eleven-digits",
        "eleven-digits-with-hyphen",
        "nine-digits-with-hyphen",
        "hyphen-after-7th-digit",
        "hyphen-after-5th-digit",
        "two-hyphens",
        "leading-hyphen",
        "trailing-hyphen",
        "space-separator",
        "slash-separator",
        "dot-separator",
        "en-dash-separator",
        "letter-o-for-zero",
        "letter-in-serial",
        "letters-only",
        "space-inside-date",
        "arabic-indic-digits",
        "fullwidth-digits",
        "none",
        "int",
        "float",
        "bytes",
        "list",
    ],
)
def test_malformed_input_is_rejected(value):
    with pytest.raises(ValidationError) as excinfo:
        parse_cpr(value)
    assert excinfo.value.code == "bad_format"
    assert excinfo.value.message == BAD_FORMAT
