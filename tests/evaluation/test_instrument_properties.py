"""Properties of ``score`` over generated answers: a Score by the published rules, or a
ValidationError, never another exception.

The item tables and the cut-offs are typed out here from DESIGN.md ("Evaluation" and the
Domain API's band list), not read from evaluation.instruments, so a slip there shows here.
"""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from evaluation.instruments import Score, score

# No example database (parallel checkouts, no .hypothesis/ folder); the autouse password
# hasher fixture is function-scoped and the same for every example, which is harmless here.
PROPERTY = settings(
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

ZERO_TO = {top: frozenset(range(top + 1)) for top in (3, 4, 5)}
ZERO_TWO_FOUR = frozenset({0, 2, 4})
ITEMS = {
    "WHO-5": [ZERO_TO[5]] * 5,
    "PHQ-9": [ZERO_TO[3]] * 9,
    "GAD-7": [ZERO_TO[3]] * 7,
    "AUDIT": [ZERO_TO[4]] * 8 + [ZERO_TWO_FOUR] * 2,
    "DUDIT": [ZERO_TO[4]] * 9 + [ZERO_TWO_FOUR] * 2,
}
SEXES = ("female", "male")


def expected_band(instrument: str, total: int, sex: str | None) -> str:
    """The band DESIGN.md gives for ``total``, written as the published cut-off tables read."""
    if instrument == "WHO-5":
        if total <= 7:
            return "likely_depression"
        return "poor" if total <= 12 else "adequate"
    if instrument == "PHQ-9":
        for upper, band in [
            (4, "minimal"),
            (9, "mild"),
            (14, "moderate"),
            (19, "moderately_severe"),
        ]:
            if total <= upper:
                return band
        return "severe"
    if instrument == "GAD-7":
        for upper, band in [(4, "minimal"), (9, "mild"), (14, "moderate")]:
            if total <= upper:
                return band
        return "severe"
    if instrument == "AUDIT":
        for upper, band in [(7, "zone_1"), (15, "zone_2"), (19, "zone_3")]:
            if total <= upper:
                return band
        return "zone_4"
    assert instrument == "DUDIT"
    if total >= 25:
        return "probable_dependence"
    threshold = {"male": 6, "female": 2}[sex]
    return "problem_use" if total >= threshold else "no_problem"


@st.composite
def completed(draw, instrument=None):
    """An instrument, a valid answer to each of its items, and a sex where it needs one."""
    instrument = instrument or draw(st.sampled_from(sorted(ITEMS)))
    answers = [draw(st.sampled_from(sorted(allowed))) for allowed in ITEMS[instrument]]
    sex = draw(st.sampled_from(SEXES)) if instrument == "DUDIT" else draw(st.none() | st.text())
    return instrument, answers, sex


ANY_ANSWER = st.one_of(
    st.integers(-10, 10),
    st.integers(),
    st.sampled_from([2**63, -(2**63), 10**30]),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.none(),
)


@st.composite
def any_questionnaire(draw):
    """Any instrument text and any answers: near-valid ones mostly, so the value checks run."""
    instrument = draw(
        # A known instrument three times in four.
        st.sampled_from(sorted(ITEMS))
        if draw(st.integers(0, 3))
        else st.one_of(
            st.sampled_from(["who-5", "PHQ9", "GAD-7 ", "", "AUDIT-C"]),
            st.text(),
            st.none(),
            st.integers(),
        )
    )
    if instrument in ITEMS and draw(st.booleans()):
        # The right number of answers: valid values mostly, now and then anything at all.
        answers = [
            draw(st.sampled_from(sorted(allowed)) if draw(st.integers(0, 5)) else ANY_ANSWER)
            for allowed in ITEMS[instrument]
        ]
    else:
        answers = draw(
            st.one_of(
                st.lists(ANY_ANSWER, max_size=15),
                st.lists(ANY_ANSWER, min_size=100, max_size=200),
                st.lists(st.integers(0, 5), max_size=12).map(tuple),
                st.text(max_size=11),
                st.binary(max_size=11),
                st.none(),
                st.integers(),
                st.sets(st.integers(0, 4), max_size=11),  # no order: not a sequence
            )
        )
    sex = draw(st.one_of(st.sampled_from(SEXES), st.none(), st.text(max_size=8), st.integers()))
    return instrument, answers, sex


def expected_error(instrument, answers, sex) -> str | None:
    """The ValidationError code the published rules call for; None when the answers fit."""
    if not isinstance(instrument, str) or instrument not in ITEMS:
        return "unknown"
    if isinstance(answers, str | bytes) or not isinstance(answers, list | tuple):
        return "not_a_list"
    if len(answers) != len(ITEMS[instrument]):
        return "count"
    for value, allowed in zip(answers, ITEMS[instrument], strict=True):
        # Whole numbers only: True is no answer, nor is 1.0.
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            return "value"
    if instrument == "DUDIT" and sex not in SEXES:
        return "sex"
    return None


@PROPERTY
@given(questionnaire=any_questionnaire())
@example(questionnaire=("PHQ-9", [0] * 8 + [10**5000], None))
@example(questionnaire=("PHQ-9", [0] * 8 + [-(10**5000)], None))
@example(questionnaire=(10**5000, [0] * 9, None))
@example(questionnaire=("DUDIT", [0] * 11, 10**5000))
@example(questionnaire=("WHO-5", [1.0] * 5, None))
@example(questionnaire=("AUDIT", [True] * 10, None))
def test_any_input_gives_a_score_or_a_validation_error(questionnaire):
    instrument, answers, sex = questionnaire
    expected = expected_error(instrument, answers, sex)

    try:
        result = score(instrument, answers, sex=sex)
    except ValidationError as error:
        event(f"refused: {error.code}")
        assert error.code == expected
        assert error.messages  # the message renders with its parameters
        return
    event(f"scored: {instrument}")
    assert expected is None
    assert isinstance(result, Score)
    assert result.total == sum(answers)


@PROPERTY
@given(questionnaire=completed())
@example(questionnaire=("WHO-5", [1, 1, 2, 1, 2], None))  # raw 7, 28 %
@example(questionnaire=("PHQ-9", [0] * 8 + [1], None))
@example(questionnaire=("DUDIT", [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], "female"))
@example(questionnaire=("DUDIT", [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], "male"))
@example(questionnaire=("AUDIT", [4] * 8 + [4, 4], None))
def test_a_completed_questionnaire_scores_by_the_published_rules(questionnaire):
    instrument, answers, sex = questionnaire

    result = score(instrument, answers, sex=sex)

    event(f"{instrument}: {result.band}")
    assert result.total == sum(answers)
    assert isinstance(result.total, int) and not isinstance(result.total, bool)
    assert result.band == expected_band(instrument, result.total, sex)
    if instrument == "PHQ-9":
        # Thoughts of self-harm: any answer above 0 on item 9 goes to the clinician.
        assert ("item9_positive" in result.flags) is (answers[8] > 0)
        assert result.flags <= {"item9_positive"}
    else:
        assert result.flags == frozenset()
    if instrument == "WHO-5":
        assert result.percentage == 4 * result.total
        assert 0 <= result.percentage <= 100
    else:
        assert result.percentage is None
    # A tuple is as good as a list, and the answers are not changed.
    assert score(instrument, tuple(answers), sex=sex) == result


@PROPERTY
@given(questionnaire=completed(), item=st.integers(0, 10), value=ANY_ANSWER)
def test_one_answer_out_of_range_refuses_the_whole_questionnaire(questionnaire, item, value):
    instrument, answers, sex = questionnaire
    index = item % len(answers)
    allowed = ITEMS[instrument][index]
    if not isinstance(value, bool) and isinstance(value, int) and value in allowed:
        value = max(allowed) + 1
    answers[index] = value

    with pytest.raises(ValidationError) as refused:
        score(instrument, answers, sex=sex)

    assert refused.value.code == "value"
    assert refused.value.params["item"] == index + 1


@PROPERTY
@given(questionnaire=completed(), extra=st.lists(st.integers(0, 2), min_size=1, max_size=3))
def test_one_answer_too_many_or_too_few_is_refused(questionnaire, extra):
    instrument, answers, sex = questionnaire

    for wrong in (answers + extra, answers[: -len(extra)]):
        with pytest.raises(ValidationError) as refused:
            score(instrument, wrong, sex=sex)
        assert refused.value.code == "count"
        assert refused.value.params["given"] == len(wrong)


# --- Regressions the properties found -----------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "answers", "code"),
    [
        pytest.param("PHQ-9", [0] * 8 + [10**5000], "value", id="answer-with-5000-digits"),
        pytest.param("GAD-7", [-(10**5000)] + [0] * 6, "value", id="negative-5000-digits"),
        pytest.param(10**5000, [0] * 9, "unknown", id="instrument-a-5000-digit-int"),
    ],
)
def test_an_int_too_long_to_print_is_refused_with_a_message(instrument, answers, code):
    # str() of an int past 4300 digits raises ValueError (Python's int_max_str_digits), and
    # the message quoted the value with str().
    with pytest.raises(ValidationError) as refused:
        score(instrument, answers)

    assert refused.value.code == code
    assert refused.value.messages
