"""Properties of ``norm_hours`` over generated durations and counts: the exact cost of a seat,
duration × therapists ÷ normed group size, or a ValidationError, never another exception."""

from datetime import timedelta
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from modules.hours import norm_hours

# No example database (parallel checkouts, no .hypothesis/ folder); the autouse password
# hasher fixture is function-scoped and the same for every example, which is harmless here.
PROPERTY = settings(
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
MICROSECONDS_PER_HOUR = 3_600_000_000

DURATIONS = st.timedeltas(min_value=timedelta(microseconds=1))
SESSION_LENGTHS = st.integers(1, 8 * 60).map(lambda minutes: timedelta(minutes=minutes))
COUNTS = st.one_of(st.integers(1, 20), st.integers(min_value=1))
NOT_A_DURATION = st.one_of(
    st.integers(), st.floats(), st.none(), st.text(max_size=5), st.just(Decimal("1.5"))
)
NOT_A_COUNT = st.one_of(
    st.integers(max_value=0),
    st.booleans(),
    st.floats(),
    st.none(),
    st.text(max_size=3),
    st.just(Decimal(2)),
    st.just(Fraction(2)),
)


def exact(duration: timedelta, therapists: int, size: int) -> Fraction:
    """The rule in rational numbers: hours of the session × therapists ÷ places."""
    microseconds = (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds
    return Fraction(microseconds, MICROSECONDS_PER_HOUR) * therapists / size


def terminates_within_precision(value: Fraction, digits: int = 28) -> bool:
    """Whether ``value`` is a decimal fraction with at most ``digits`` significant digits."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return False
    scaled = value
    while scaled.denominator != 1:
        scaled *= 10
    return len(str(abs(scaled.numerator)).rstrip("0") or "0") <= digits


def is_valid_count(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


def mostly(well_formed, malformed):
    """Well-formed five times in six, so the examples are not all refused at the first check."""
    return st.integers(0, 5).flatmap(lambda ok: well_formed if ok else malformed)


@PROPERTY
@given(
    duration=mostly(st.timedeltas(), NOT_A_DURATION),
    therapists=mostly(COUNTS, NOT_A_COUNT),
    size=mostly(COUNTS, NOT_A_COUNT),
)
@example(duration=timedelta.max, therapists=10**30, size=1)
@example(duration=timedelta(microseconds=1), therapists=1, size=10**30)
@example(duration=timedelta.min, therapists=2, size=8)
@example(duration=timedelta(0), therapists=2, size=8)
@example(duration=timedelta(hours=2), therapists=True, size=8)
def test_any_input_gives_norm_hours_or_a_validation_error(duration, therapists, size):
    valid = (
        isinstance(duration, timedelta)
        and duration > timedelta(0)
        and is_valid_count(therapists)
        and is_valid_count(size)
    )

    try:
        cost = norm_hours(duration=duration, therapists=therapists, normed_group_size=size)
    except ValidationError as error:
        event("refused")
        assert not valid
        assert error.code == "invalid"
        assert error.messages
        return
    event("costed")
    assert valid
    assert isinstance(cost, Decimal)
    assert cost > 0


@PROPERTY
@given(duration=DURATIONS | SESSION_LENGTHS, therapists=COUNTS, size=COUNTS)
@example(duration=timedelta(minutes=20), therapists=3, size=1)  # a third of an hour, thrice
@example(duration=timedelta(hours=2), therapists=2, size=12)  # a third, as Decimal(1)/3
@example(duration=timedelta(microseconds=1), therapists=MICROSECONDS_PER_HOUR, size=1)
@example(duration=timedelta(hours=2), therapists=2, size=8)
def test_the_cost_is_duration_times_therapists_over_size(duration, therapists, size):
    cost = norm_hours(duration=duration, therapists=therapists, normed_group_size=size)
    rule = exact(duration, therapists, size)

    assert isinstance(cost, Decimal)
    if terminates_within_precision(rule):
        # Representable as a Decimal: exactly the rule, no rounding at all.
        event("exact")
        assert Fraction(cost) == rule
    else:
        # A third of an hour has no exact Decimal: the rule correctly rounded, once, to the
        # context's 28 significant digits.
        event("rounded once")
        assert cost == Decimal(rule.numerator) / Decimal(rule.denominator)
        assert abs(Fraction(cost) - rule) <= rule / 10**27


@PROPERTY
@given(
    durations=st.lists(DURATIONS | SESSION_LENGTHS, min_size=2, max_size=2).map(sorted),
    therapists=st.lists(COUNTS, min_size=2, max_size=2).map(sorted),
    sizes=st.lists(COUNTS, min_size=2, max_size=2).map(sorted),
)
def test_more_time_or_more_therapists_never_cost_less_and_more_places_never_more(
    durations, therapists, sizes
):
    def cost(duration, therapist_count, size):
        return norm_hours(duration=duration, therapists=therapist_count, normed_group_size=size)

    shorter, longer = durations
    fewer, more = therapists
    smaller, larger = sizes

    assert cost(shorter, fewer, smaller) <= cost(longer, fewer, smaller)
    assert cost(shorter, fewer, smaller) <= cost(shorter, more, smaller)
    assert cost(shorter, fewer, larger) <= cost(shorter, fewer, smaller)


# --- Regressions the properties found -----------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "therapists", "size", "expected"),
    [
        # Rounding the hours first (1/3 to 28 digits) and multiplying after gave 0.999...9.
        pytest.param(timedelta(minutes=20), 3, 1, Decimal(1), id="third-of-an-hour-times-3"),
        pytest.param(timedelta(minutes=40), 3, 2, Decimal(1), id="two-thirds-times-3-over-2"),
        pytest.param(
            timedelta(seconds=1), MICROSECONDS_PER_HOUR // 1_000_000, 1, Decimal(1), id="1s-x-3600"
        ),
        pytest.param(timedelta(minutes=10), 6, 1, Decimal(1), id="sixth-times-6"),
    ],
)
def test_a_cost_a_decimal_can_hold_comes_out_exact(duration, therapists, size, expected):
    cost = norm_hours(duration=duration, therapists=therapists, normed_group_size=size)

    assert cost == expected


@pytest.mark.parametrize(
    ("therapists", "size"),
    [
        pytest.param(10**60, 1, id="therapists-past-the-exponent-range"),
        pytest.param(1, 10**60, id="group-size-past-the-exponent-range"),
    ],
)
def test_a_count_past_the_decimal_exponent_range_is_still_exact(therapists, size):
    # decimal's default context overflows (decimal.Overflow) past 10**999999 and rounds to
    # 0 below 10**-1000026; a count of a million digits takes half a minute just to convert,
    # so a caller's narrow context stands in for it here. norm_hours() uses the widest range.
    with localcontext(Emax=30, Emin=-30):
        cost = norm_hours(
            duration=timedelta(hours=1), therapists=therapists, normed_group_size=size
        )

    assert Fraction(cost) == Fraction(therapists, size)
