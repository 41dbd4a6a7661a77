"""Properties of the referral rules over generated input: CPR numbers, ICD-10 codes, screening.

Whatever comes in, ``parse_cpr``, ``normalize_code`` and ``screen`` answer with a result or a
ValidationError, never another exception; and on well-formed input each result is what the
clinic's rules (DESIGN.md) say it must be. The expected values are worked out here from the
rules as written, not by calling the functions' own helpers.
"""

import calendar
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from referrals.cpr import Cpr, parse_cpr
from referrals.icd10 import is_normal_form, normalize_code
from referrals.icd10_data import CODE_RULES, F_CHAPTER
from referrals.screening import ScreeningResult, screen

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
FIRST_BIRTH_DATE = date(1858, 1, 1)
LAST_BIRTH_DATE = date(2057, 12, 31)

# No example database: the suite runs in parallel checkouts and writes no .hypothesis/ folder.
# Every test here uses a function-scoped fixture (the autouse password hasher at least), which
# stays the same across the examples of one test; none of them depends on it being fresh.
PROPERTY = settings(
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
PURE = settings(PROPERTY, max_examples=200)
# screen() reads the code lists and the municipality: two queries per example.
WITH_DATABASE = settings(PROPERTY, max_examples=200)

# Text with everything a form field or an import can carry: any code point (lone surrogates
# too), NUL and other control characters, digits of other scripts, and long runs.
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
ANY_TEXT = st.one_of(
    st.text(ANY_CHARACTER),
    # Something well-formed inside arbitrary text, or on its own.
    st.from_regex(r"[0-9]{6}-?[0-9]{4}", fullmatch=False),
    st.from_regex(r"[0-9]{6}-?[0-9]{4}", fullmatch=True),
    st.from_regex(r"\s*[Dd]?[A-Za-z][0-9]{2}\.?[0-9]{0,2}\s*", fullmatch=False),
    st.from_regex(r"\s*[Dd]?[A-Za-z][0-9]{2}\.?[0-9]{0,2}\s*", fullmatch=True),
    st.text(st.sampled_from("0123456789-- \t\n\x00\u00a0\u0663\uff11"), max_size=14),
    st.text(ANY_CHARACTER, min_size=2_000, max_size=5_000),
)
NOT_TEXT = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.binary(max_size=12),
    st.lists(st.text(max_size=5), max_size=2),
)


def is_ascii(text: str) -> bool:
    return all(ord(char) < 128 for char in text)


# --- parse_cpr ---------------------------------------------------------------------------------


def century_digits(year: int) -> tuple[int, ...]:
    """The 7th digits the CPR office's table allows for a birth year, read row by row."""
    if 1858 <= year <= 1899:
        return (5, 6, 7, 8)
    if 1900 <= year <= 1936:
        return (0, 1, 2, 3)
    if 1937 <= year <= 1999:
        return (0, 1, 2, 3, 4, 9)
    if 2000 <= year <= 2036:
        return (4, 5, 6, 7, 8, 9)
    if 2037 <= year <= 2057:
        return (5, 6, 7, 8)
    return ()


def table_year(two_digit_year: int, seventh_digit: int) -> int:
    """The one century whose table row allows this 7th digit for these two year digits."""
    (year,) = [
        century + two_digit_year
        for century in (1800, 1900, 2000)
        if seventh_digit in century_digits(century + two_digit_year)
    ]
    return year


def is_real_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def cpr_text(born: date, serial: str, *, hyphen: bool) -> str:
    return f"{born:%d%m%y}{'-' if hyphen else ''}{serial}"


@st.composite
def birth_and_serial(draw, latest: date = LAST_BIRTH_DATE) -> tuple[date, str]:
    """A birth date the table covers and a serial number whose 7th digit fits its century."""
    born = draw(st.dates(min_value=FIRST_BIRTH_DATE, max_value=latest))
    seventh = draw(st.sampled_from(century_digits(born.year)))
    return born, f"{seventh}{draw(st.integers(0, 999)):03d}"


def test_every_two_digit_year_and_7th_digit_give_the_century_of_the_table():
    # All 1,000 combinations, each against the DESIGN.md table as century_digits() spells it.
    with time_machine.travel(datetime(2060, 1, 1, 12, tzinfo=COPENHAGEN), tick=False):
        born = {
            (yy, digit): parse_cpr(f"1506{yy:02d}{digit}001").birth_date.year
            for yy in range(100)
            for digit in range(10)
        }

    assert born == {key: table_year(*key) for key in born}
    assert set(born.values()) == set(range(1858, 2058))


@PURE
@given(value=st.one_of(ANY_TEXT, NOT_TEXT))
@example(value="\x00")
@example(value="010190-1238\x00")
@example(value="\u0660\u0661\u0660\u0661\u0669\u0660-\u0661\u0662\u0663\u0668")
@example(value="010190-1238" * 1000)
@example(value="010190\u20111238")  # a non-breaking hyphen
def test_any_input_gives_a_cpr_or_a_validation_error(value):
    try:
        cpr = parse_cpr(value)
    except ValidationError as error:
        event(f"refused: {error.code}")
        assert error.code in {"bad_format", "impossible_date", "future_date"}
        if (
            not isinstance(value, str)
            or re.fullmatch(r"[0-9]{6}-?[0-9]{4}", value.strip(), flags=re.ASCII) is None
        ):
            assert error.code == "bad_format"
        return
    event("parsed")
    assert isinstance(cpr, Cpr)
    typed = value.strip()
    # Only ASCII digits and at most the one hyphen make a CPR number.
    assert is_ascii(typed)
    assert cpr.digits == typed.replace("-", "", 1)
    assert re.fullmatch(r"[0-9]{10}", cpr.digits)
    assert str(cpr) == f"{cpr.digits[:6]}-{cpr.digits[6:]}"


@PURE
@given(data=birth_and_serial(), hyphen=st.booleans(), padding=st.sampled_from(["", " ", "\t\n"]))
@example(data=(date(1858, 1, 1), "5000"), hyphen=True, padding="")
@example(data=(date(2057, 12, 31), "8999"), hyphen=False, padding="")
@example(data=(date(2000, 2, 29), "4001"), hyphen=True, padding="")
@example(data=(date(1936, 12, 31), "3999"), hyphen=True, padding="")
@example(data=(date(1937, 1, 1), "9000"), hyphen=True, padding="")
def test_a_real_past_birth_date_round_trips_with_its_sex(data, hyphen, padding):
    born, serial = data
    written = padding + cpr_text(born, serial, hyphen=hyphen) + padding

    # Late enough that every birth date of the table lies in the past.
    with time_machine.travel(datetime(2060, 1, 1, 12, tzinfo=COPENHAGEN), tick=False):
        cpr = parse_cpr(written)
        other_form = parse_cpr(cpr_text(born, serial, hyphen=not hyphen))

    assert cpr.birth_date == born
    assert cpr.sex == ("male" if int(serial[-1]) % 2 else "female")
    assert str(cpr) == f"{born:%d%m%y}-{serial}"
    assert cpr.masked == f"{born:%d%m%y}-xxxx"
    assert repr(cpr) == f"Cpr('{born:%d%m%y}-xxxx')"
    assert cpr == other_form
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    digits = cpr.digits
    # Reported, never required: every serial number above was accepted.
    assert cpr.modulus11_ok is (
        sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0
    )


TEN_DIGITS = st.one_of(
    st.text(st.sampled_from("0123456789"), min_size=10, max_size=10),
    # Mostly a day and month that can exist, so the century and the clock decide.
    st.tuples(st.integers(1, 31), st.integers(1, 12), st.integers(0, 9999_99)).map(
        lambda parts: f"{parts[0]:02d}{parts[1]:02d}{parts[2]:06d}"
    ),
)


@PURE
@given(
    digits=TEN_DIGITS,
    near_birth=st.booleans(),
    offset=st.integers(-2, 2),
    anyday=st.dates(min_value=date(1970, 1, 1), max_value=date(2060, 12, 31)),
    second=st.integers(0, 24 * 3600 - 1),
)
@example(digits="2902000001", near_birth=False, offset=0, anyday=date(2026, 6, 15), second=0)
@example(digits="2902004001", near_birth=False, offset=0, anyday=date(2026, 6, 15), second=0)
@example(digits="3112574001", near_birth=False, offset=0, anyday=date(2026, 6, 15), second=0)
@example(digits="0000000000", near_birth=False, offset=0, anyday=date(2026, 6, 15), second=0)
@example(digits="1506264001", near_birth=True, offset=-1, anyday=date(2026, 6, 15), second=600)
def test_any_ten_digits_parse_exactly_when_they_hold_a_real_date_not_after_today(
    digits, near_birth, offset, anyday, second
):
    day, month, two_digit_year = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    year = table_year(two_digit_year, int(digits[6]))
    real = is_real_date(year, month, day)
    today = anyday
    if real and near_birth and date(1970, 1, 3) <= date(year, month, day) <= date(2060, 12, 29):
        # The clinic's today a day or two either side of the birth date.
        today = date(year, month, day) + timedelta(days=offset)
    # Any moment of that day on the clinic's clock, so UTC may still say yesterday.
    moment = datetime.combine(today, time(), tzinfo=COPENHAGEN) + timedelta(seconds=second)

    with time_machine.travel(moment, tick=False):
        try:
            cpr = parse_cpr(digits)
        except ValidationError as error:
            refused = error.code
        else:
            refused = None

    event(f"outcome: {refused or 'parsed'}")
    if not real:
        assert refused == "impossible_date"
    elif date(year, month, day) > today:
        assert refused == "future_date"
    else:
        assert refused is None
        assert cpr.birth_date == date(year, month, day)


@PURE
@given(data=birth_and_serial(), today=st.dates(date(1970, 1, 1), date(2060, 12, 31)))
def test_a_birth_date_after_the_clinics_today_is_refused(data, today):
    born, serial = data

    with time_machine.travel(datetime.combine(today, time(0, 5), tzinfo=COPENHAGEN), tick=False):
        try:
            cpr = parse_cpr(cpr_text(born, serial, hyphen=True))
        except ValidationError as error:
            assert born > today
            assert error.code == "future_date"
        else:
            assert born <= today
            assert cpr.birth_date == born


# --- normalize_code ---------------------------------------------------------------------------

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@st.composite
def icd10_codes(draw) -> tuple[str, str, str]:
    """A code as its letter, two-digit category and optional one- or two-digit subcategory."""
    letter = draw(st.sampled_from(LETTERS))
    category = f"{draw(st.integers(0, 99)):02d}"
    subcategory = draw(st.sampled_from(["", *"0123456789"]) | st.from_regex(r"\A[0-9]{2}\Z"))
    return letter, category, subcategory


def written_forms(letter: str, category: str, subcategory: str) -> list[str]:
    """Every way DESIGN.md says a clinician may write the code."""
    forms = [f"{letter}{category}{subcategory}", f"D{letter}{category}{subcategory}"]
    if subcategory:
        forms.append(f"{letter}{category}.{subcategory}")
    return forms + [form.lower() for form in forms] + [f" {forms[0]}\t"]


@PURE
@given(value=st.one_of(ANY_TEXT, NOT_TEXT))
@example(value="F32.1\x00")
@example(value="\ud800F32")
@example(value="\u017f32")  # long s: upper-cases to an ASCII S
@example(value="\u212a32")  # the Kelvin sign, lower-cases to an ASCII k
@example(value="F32.1" * 2000)
def test_any_input_gives_a_normal_form_or_a_validation_error(value):
    try:
        normal = normalize_code(value)
    except ValidationError as error:
        event("refused")
        assert error.code == "invalid_code"
        assert error.messages  # the message renders, with what was typed in it
        return
    event("normalised")
    assert isinstance(value, str)
    assert is_ascii(value.strip())
    assert is_normal_form(normal)
    assert normalize_code(normal) == normal
    assert normalize_code(f"\n {value} ") == normal


@PURE
@given(code=icd10_codes())
@example(code=("D", "50", "1"))  # chapter D, which is no SKS prefix
@example(code=("F", "60", "30"))
def test_every_written_form_of_a_code_has_the_one_normal_form(code):
    letter, category, subcategory = code
    normal = f"{letter}{category}.{subcategory}" if subcategory else f"{letter}{category}"

    assert {form: normalize_code(form) for form in written_forms(*code)} == dict.fromkeys(
        written_forms(*code), normal
    )
    assert is_normal_form(normal)


@PURE
@given(
    code=icd10_codes(),
    position=st.integers(0, 10),
    lookalike=st.sampled_from(
        ["\u0663", "\uff13", "\u017f", "\u0424", "\u212a", "\u00e9", "\u0660"]
    ),
)
def test_a_code_with_a_character_of_another_script_is_refused(code, position, lookalike):
    written = f"{code[0]}{code[1]}.{code[2]}" if code[2] else f"{code[0]}{code[1]}"
    index = position % len(written)
    tampered = written[:index] + lookalike + written[index + 1 :]

    with pytest.raises(ValidationError) as refused:
        normalize_code(tampered)

    assert refused.value.code == "invalid_code"


# --- screen -----------------------------------------------------------------------------------

PARTICIPATING = {"151", "159", "163", "173", "230"}  # DESIGN.md: the municipalities at start
CRITERIA_KEYS = [
    "municipality",
    "adult",
    "mental_disorder",
    "substance_use",
    "no_exclusion",
    "other_codes",
    "municipal_treatment",
    "substitution",
]
REAL_CATEGORIES = {code[:3] for code, _da, _en in F_CHAPTER}
# DESIGN.md criterion 5, ranges spelt out; only categories ICD-10 has (there is no F08).
EXCLUDING_CATEGORIES = {
    f"F{number:02d}" for number in [*range(0, 10), 20, 22, 23, 25, 50, *range(70, 90)]
} & REAL_CATEGORIES
QUALIFYING_MENTAL = ["F32", "F33", "F40.1", "F41", "F42", "F43.1", "F60.3", "F60.6"]
QUALIFYING_SUBSTANCE = [f"F1{kind}.{use}" for kind in "01234569" for use in "12"]

KNOWN_CODES = sorted({code for code, _da, _en in F_CHAPTER} | {code for _c, code, _n in CODE_RULES})


def weighted(*options):
    """One of ``(weight, strategy)`` options, chosen by weight."""
    # one_of() would flatten nested alternatives and weigh each of them alike.
    bag = [strategy for weight, strategy in options for _ in range(weight)]
    return st.sampled_from(range(len(bag))).flatmap(lambda index: bag[index])


# Mostly close to an eligible referral, so every outcome comes up; malformed now and then.
VALID_CODE_TEXT = st.one_of(
    st.sampled_from(KNOWN_CODES),
    st.sampled_from(KNOWN_CODES).map(lambda code: "d" + code.replace(".", "")),  # SKS
    icd10_codes().map(lambda code: f"{code[0]}{code[1]}{code[2]}"),
)
CODE_TEXT = weighted(
    (6, VALID_CODE_TEXT),
    (1, st.one_of(st.text(max_size=6), st.just("F32\x00"), st.none(), st.integers())),
)
CODE_LISTS = weighted(
    (3, st.just(["F32.1", "F10.2"])),
    (2, st.lists(VALID_CODE_TEXT, max_size=3).map(lambda codes: ["F32.1", "F10.2", *codes])),
    (2, st.lists(CODE_TEXT, max_size=6)),
    (1, st.lists(st.sampled_from(KNOWN_CODES), max_size=5).map(tuple)),
    (1, st.lists(VALID_CODE_TEXT, max_size=5).map(lambda codes: (c for c in codes))),
    (1, st.one_of(st.text(max_size=5), st.none(), st.integers())),  # one string, or no list
)
MUNICIPALITY_CODES = weighted(
    (6, st.sampled_from(sorted(PARTICIPATING))),
    (2, st.sampled_from(["101", "400", "147", "999", "", "0151", " 151"])),
    (1, st.one_of(st.integers(-1000, 1000), st.none())),
    (1, st.text(ANY_CHARACTER, max_size=6)),
    (1, st.text(st.sampled_from("0123456789 \t\x00\ud800\udfff"), max_size=4)),
)
NOT_A_DATE = st.one_of(st.text(max_size=10), st.none(), st.integers())
BORN = st.dates(min_value=date(1900, 1, 1), max_value=date(2015, 12, 31))
DATE_PAIRS = weighted(
    # Referred as an adult, 18-80 years after birth.
    (
        4,
        st.tuples(BORN, st.integers(18 * 366, 80 * 365)).map(
            lambda pair: (pair[0], pair[0] + timedelta(days=pair[1]))
        ),
    ),
    # Referred within a few days of the 18th birthday, either side.
    (
        2,
        st.tuples(BORN, st.integers(-3, 3)).map(
            lambda pair: (
                (pair[0], date(pair[0].year + 18, 3, 1) + timedelta(days=pair[1]))
                if (pair[0].month, pair[0].day) == (2, 29)
                else (pair[0], pair[0].replace(year=pair[0].year + 18) + timedelta(days=pair[1]))
            )
        ),
    ),
    (2, st.tuples(st.dates(), st.dates())),
    (1, st.tuples(st.dates() | NOT_A_DATE, NOT_A_DATE)),
    (1, st.tuples(NOT_A_DATE, st.dates())),
)
FLAGS = weighted(
    (6, st.just(True)),
    (1, st.just(False)),
    (1, st.one_of(st.none(), st.integers(0, 1), st.text(max_size=3))),
)
SUBSTITUTIONS = weighted(
    (6, st.sampled_from(["none", "stable", "unstable"])),
    (1, st.one_of(st.sampled_from(["None", "STABLE", "", " none"]), st.text(max_size=8))),
)


def is_valid_code(value) -> bool:
    try:
        normalize_code(value)
    except ValidationError:
        return False
    return True


def expected_errors(inputs: dict, codes) -> set[str]:
    """The ValidationError codes malformed ``inputs`` call for; empty when they are well-formed."""
    errors = set()
    if not isinstance(inputs["birth_date"], date) or not isinstance(inputs["referral_date"], date):
        errors.add("bad_date")
    if inputs["substitution_treatment"] not in ("none", "stable", "unstable"):
        errors.add("bad_substitution")
    if not isinstance(inputs["in_municipal_substance_treatment"], bool):
        errors.add("bad_flag")
    if isinstance(codes, str | bytes) or not isinstance(codes, Iterable):
        errors.add("bad_codes")
    elif not all(is_valid_code(code) for code in codes):
        errors.add("invalid_code")
    # PostgreSQL text holds neither NUL nor a lone surrogate.
    if re.search("[\x00\ud800-\udfff]", str(inputs["municipality_code"])):
        errors.add("bad_municipality")
    return errors


def eighteenth_birthday(born: date) -> date | None:
    try:
        return born.replace(year=born.year + 18)
    except ValueError:
        # 29 February: the birthday falls on 1 March in a common year (or past year 9999).
        return None if born.year + 18 > 9999 else date(born.year + 18, 3, 1)


def falls_under(code: str, prefixes: list[str]) -> bool:
    # Between normal forms the ICD-10 hierarchy is a character prefix: "F60.31" under "F60.3".
    return any(code.startswith(prefix) for prefix in prefixes)


@pytest.mark.django_db
@WITH_DATABASE
@given(
    municipality_code=MUNICIPALITY_CODES,
    diagnosis_codes=CODE_LISTS,
    dates=DATE_PAIRS,
    in_treatment=FLAGS,
    substitution=SUBSTITUTIONS,
)
@example(
    municipality_code="1\x0051",
    diagnosis_codes=["F32.1", "F10.2"],
    dates=(date(1990, 1, 1), date(2026, 3, 2)),
    in_treatment=True,
    substitution="none",
)
@example(
    municipality_code="\ud800",
    diagnosis_codes=["F32.1", "F10.2"],
    dates=(date(1990, 1, 1), date(2026, 3, 2)),
    in_treatment=True,
    substitution="none",
)
@example(
    municipality_code="151",
    diagnosis_codes=["F32.1", "F10.2"],
    dates=(date(2008, 2, 29), date(2026, 3, 1)),
    in_treatment=True,
    substitution="stable",
)
def test_any_input_gives_a_screening_by_the_rules_or_a_validation_error(
    municipality_code, diagnosis_codes, dates, in_treatment, substitution
):
    birth_date, referral_date = dates
    # A generator can be read once: keep what it yields to check against.
    given_codes = diagnosis_codes
    if isinstance(diagnosis_codes, Iterator):
        diagnosis_codes = list(diagnosis_codes)
        given_codes = iter(diagnosis_codes)
    inputs = {
        "municipality_code": municipality_code,
        "birth_date": birth_date,
        "referral_date": referral_date,
        "in_municipal_substance_treatment": in_treatment,
        "substitution_treatment": substitution,
    }
    errors = expected_errors(inputs, diagnosis_codes)

    try:
        result = screen(diagnosis_codes=given_codes, **inputs)
    except ValidationError as error:
        event(f"refused: {error.code}")
        assert error.code in errors
        with translation.override("da"):
            assert error.messages
        return
    assert errors == set()
    assert isinstance(result, ScreeningResult)
    event(f"outcome: {result.outcome}")

    outcomes = {item.key: item.outcome for item in result.criteria}
    assert [item.key for item in result.criteria] == CRITERIA_KEYS
    assert set(outcomes.values()) <= {"pass", "fail", "review"}
    for language in ("da", "en"):
        with translation.override(language):
            assert all(isinstance(item.reason, str) and item.reason for item in result.criteria)
    # The overall outcome, as DESIGN.md defines it.
    assert (result.outcome == "eligible") is all(value == "pass" for value in outcomes.values())
    assert (result.outcome == "ineligible") is ("fail" in outcomes.values())
    assert (result.outcome == "review") is (
        "fail" not in outcomes.values() and "review" in outcomes.values()
    )
    # Each criterion by its rule.
    normal = {normalize_code(code) for code in diagnosis_codes}
    assert set(result.codes) == normal
    assert (outcomes["municipality"] == "pass") is (str(municipality_code) in PARTICIPATING)
    birthday = eighteenth_birthday(birth_date)
    assert (outcomes["adult"] == "pass") is (birthday is not None and referral_date >= birthday)
    assert (outcomes["mental_disorder"] == "pass") is any(
        falls_under(code, QUALIFYING_MENTAL) for code in normal
    )
    assert (outcomes["substance_use"] == "pass") is any(
        falls_under(code, QUALIFYING_SUBSTANCE) for code in normal
    )
    assert (outcomes["municipal_treatment"] == "pass") is in_treatment
    assert outcomes["substitution"] == ("review" if substitution == "unstable" else "pass")
    # An excluding diagnosis anywhere makes the referral ineligible, whatever else holds.
    excluding = {code for code in normal if code[:3] in EXCLUDING_CATEGORIES}
    assert (outcomes["no_exclusion"] == "fail") is bool(excluding)
    if excluding:
        assert result.outcome == "ineligible"


@pytest.mark.django_db
@WITH_DATABASE
@given(
    excluding=st.sampled_from(sorted(c for c in KNOWN_CODES if c[:3] in EXCLUDING_CATEGORIES)),
    others=st.lists(st.sampled_from(KNOWN_CODES), max_size=5),
    position=st.integers(0, 5),
    municipality_code=st.sampled_from(sorted(PARTICIPATING)),
    substitution=st.sampled_from(["none", "stable", "unstable"]),
)
def test_an_excluding_diagnosis_anywhere_makes_an_otherwise_eligible_referral_ineligible(
    excluding, others, position, municipality_code, substitution
):
    codes = ["F32.1", "F10.2", *others]
    codes.insert(position % (len(codes) + 1), excluding)

    result = screen(
        municipality_code=municipality_code,
        diagnosis_codes=codes,
        birth_date=date(1980, 1, 1),
        referral_date=date(2026, 3, 2),
        in_municipal_substance_treatment=True,
        substitution_treatment=substitution,
    )

    assert result.outcome == "ineligible"
    assert result.criterion("no_exclusion").outcome == "fail"
    assert excluding in result.criterion("no_exclusion").params["codes"]


# --- Regressions the properties found -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code",
    [
        pytest.param("1\x0051", id="nul-byte"),
        pytest.param("\x00", id="only-nul"),
        pytest.param("15\ud8001", id="lone-surrogate"),
    ],
)
def test_a_municipality_code_postgresql_cannot_hold_is_a_validation_error(code):
    # Found by the property above: the lookup reached the database and failed there with
    # DataError (NUL) or UnicodeEncodeError (a surrogate is no UTF-8).
    with pytest.raises(ValidationError) as refused:
        screen(
            municipality_code=code,
            diagnosis_codes=["F32.1", "F10.2"],
            birth_date=date(1990, 1, 1),
            referral_date=date(2026, 3, 2),
            in_municipal_substance_treatment=True,
        )

    assert refused.value.code == "bad_municipality"
