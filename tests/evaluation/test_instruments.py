"""Scoring rules of the outcome instruments, edge by edge, and the item labels behind them."""

import importlib

import pytest
from django.core.exceptions import ValidationError

from evaluation.instruments import INSTRUMENTS, score
from evaluation.item_labels import ANSWER_SCALES, ITEM_LABELS, answer_scale

ITEM_COUNTS = {"WHO-5": 5, "PHQ-9": 9, "GAD-7": 7, "AUDIT": 10, "DUDIT": 11}


def answers_totalling(instrument: str, total: int) -> list[int]:
    """Answers that sum to ``total``, filling the items from the first with the most allowed."""
    answers = []
    remaining = total
    for allowed in INSTRUMENTS[instrument].items:
        value = max(value for value in allowed if value <= remaining)
        answers.append(value)
        remaining -= value
    assert sum(answers) == total, f"{instrument} cannot reach {total} this way"
    return answers


def refused(instrument, answers, **kwargs) -> ValidationError:
    """The ValidationError ``score`` raises; any other exception fails the test."""
    with pytest.raises(ValidationError) as excinfo:
        score(instrument, answers, **kwargs)
    assert excinfo.value.messages  # the message renders with its parameters
    return excinfo.value


# --- bands at every edge, on both sides -----------------------------------------------


@pytest.mark.parametrize(
    ("raw", "band", "percentage"),
    [
        pytest.param(0, "likely_depression", 0, id="raw-0-is-0pct"),
        pytest.param(7, "likely_depression", 28, id="raw-7-is-28pct-likely-depression"),
        pytest.param(8, "poor", 32, id="raw-8-is-32pct-poor"),
        pytest.param(12, "poor", 48, id="raw-12-is-48pct-poor"),
        pytest.param(13, "adequate", 52, id="raw-13-is-52pct-adequate"),
        pytest.param(25, "adequate", 100, id="raw-25-is-100pct"),
    ],
)
def test_who5_band_and_percentage(raw, band, percentage):
    result = score("WHO-5", answers_totalling("WHO-5", raw))
    assert (result.total, result.band, result.percentage) == (raw, band, percentage)


@pytest.mark.parametrize(
    ("instrument", "total", "band"),
    [
        pytest.param("PHQ-9", 0, "minimal", id="phq9-0-minimal"),
        pytest.param("PHQ-9", 4, "minimal", id="phq9-4-minimal"),
        pytest.param("PHQ-9", 5, "mild", id="phq9-5-mild"),
        pytest.param("PHQ-9", 9, "mild", id="phq9-9-mild"),
        pytest.param("PHQ-9", 10, "moderate", id="phq9-10-moderate"),
        pytest.param("PHQ-9", 14, "moderate", id="phq9-14-moderate"),
        pytest.param("PHQ-9", 15, "moderately_severe", id="phq9-15-moderately-severe"),
        pytest.param("PHQ-9", 19, "moderately_severe", id="phq9-19-moderately-severe"),
        pytest.param("PHQ-9", 20, "severe", id="phq9-20-severe"),
        pytest.param("PHQ-9", 27, "severe", id="phq9-27-severe"),
        pytest.param("GAD-7", 0, "minimal", id="gad7-0-minimal"),
        pytest.param("GAD-7", 4, "minimal", id="gad7-4-minimal"),
        pytest.param("GAD-7", 5, "mild", id="gad7-5-mild"),
        pytest.param("GAD-7", 9, "mild", id="gad7-9-mild"),
        pytest.param("GAD-7", 10, "moderate", id="gad7-10-moderate"),
        pytest.param("GAD-7", 14, "moderate", id="gad7-14-moderate"),
        pytest.param("GAD-7", 15, "severe", id="gad7-15-severe"),
        pytest.param("GAD-7", 21, "severe", id="gad7-21-severe"),
        pytest.param("AUDIT", 0, "zone_1", id="audit-0-zone1"),
        pytest.param("AUDIT", 7, "zone_1", id="audit-7-zone1"),
        pytest.param("AUDIT", 8, "zone_2", id="audit-8-zone2"),
        pytest.param("AUDIT", 15, "zone_2", id="audit-15-zone2"),
        pytest.param("AUDIT", 16, "zone_3", id="audit-16-zone3"),
        pytest.param("AUDIT", 19, "zone_3", id="audit-19-zone3"),
        pytest.param("AUDIT", 20, "zone_4", id="audit-20-zone4"),
        pytest.param("AUDIT", 40, "zone_4", id="audit-40-zone4"),
    ],
)
def test_band_at_each_edge(instrument, total, band):
    result = score(instrument, answers_totalling(instrument, total))
    assert (result.total, result.band) == (total, band)
    assert result.percentage is None  # only WHO-5 has a percentage


@pytest.mark.parametrize(
    ("sex", "total", "band"),
    [
        pytest.param("male", 0, "no_problem", id="male-0-no-problem"),
        pytest.param("male", 5, "no_problem", id="male-5-no-problem"),
        pytest.param("male", 6, "problem_use", id="male-6-problem-use"),
        pytest.param("male", 24, "problem_use", id="male-24-problem-use"),
        pytest.param("male", 25, "probable_dependence", id="male-25-probable-dependence"),
        pytest.param("male", 44, "probable_dependence", id="male-44-probable-dependence"),
        pytest.param("female", 0, "no_problem", id="female-0-no-problem"),
        pytest.param("female", 1, "no_problem", id="female-1-no-problem"),
        pytest.param("female", 2, "problem_use", id="female-2-problem-use"),
        pytest.param("female", 5, "problem_use", id="female-5-problem-use"),
        pytest.param("female", 24, "problem_use", id="female-24-problem-use"),
        pytest.param("female", 25, "probable_dependence", id="female-25-probable-dependence"),
        pytest.param("female", 44, "probable_dependence", id="female-44-probable-dependence"),
    ],
)
def test_dudit_band_by_sex(sex, total, band):
    result = score("DUDIT", answers_totalling("DUDIT", total), sex=sex)
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(
    ("instrument", "max_total"),
    [("WHO-5", 25), ("PHQ-9", 27), ("GAD-7", 21), ("AUDIT", 40), ("DUDIT", 44)],
)
def test_highest_possible_total(instrument, max_total):
    assert INSTRUMENTS[instrument].max_total == max_total


# --- PHQ-9 item 9 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "flagged"),
    [
        pytest.param([0] * 9, False, id="item9-0-no-flag"),
        pytest.param([0] * 8 + [1], True, id="item9-1-flag"),
        pytest.param([0] * 8 + [2], True, id="item9-2-flag"),
        pytest.param([0] * 8 + [3], True, id="item9-3-flag"),
        pytest.param([3] * 8 + [0], False, id="total-24-item9-0-no-flag"),
        pytest.param([1] * 8 + [0], False, id="item8-1-is-not-item9"),
    ],
)
def test_phq9_item9_flag(answers, flagged):
    result = score("PHQ-9", answers)
    assert ("item9_positive" in result.flags) is flagged


def test_phq9_item9_flag_does_not_depend_on_the_band():
    result = score("PHQ-9", [0] * 8 + [1])
    assert (result.total, result.band, result.flags) == (1, "minimal", {"item9_positive"})


@pytest.mark.parametrize("instrument", ["WHO-5", "GAD-7", "AUDIT", "DUDIT"])
def test_other_instruments_raise_no_flag_even_at_the_top(instrument):
    top = [max(allowed) for allowed in INSTRUMENTS[instrument].items]
    assert score(instrument, top, sex="female").flags == set()


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument", "given"),
    [
        pytest.param(code, count + delta, id=f"{code}-{count + delta}-answers")
        for code, count in ITEM_COUNTS.items()
        for delta in (-1, +1)
    ]
    + [pytest.param("PHQ-9", 0, id="PHQ-9-no-answers")],
)
def test_wrong_number_of_answers_is_refused(instrument, given):
    error = refused(instrument, [0] * given, sex="male")
    assert error.code == "count"


def with_value(instrument: str, number: int, value) -> list:
    answers = [0] * ITEM_COUNTS[instrument]
    answers[number - 1] = value
    return answers


@pytest.mark.parametrize(
    ("instrument", "number", "value"),
    [
        pytest.param("PHQ-9", 1, -1, id="phq9-minus-1"),
        pytest.param("PHQ-9", 9, 4, id="phq9-item9-4"),
        pytest.param("PHQ-9", 1, 4, id="phq9-item1-4"),
        pytest.param("GAD-7", 7, 4, id="gad7-4"),
        pytest.param("GAD-7", 1, -1, id="gad7-minus-1"),
        pytest.param("WHO-5", 1, 6, id="who5-6"),
        pytest.param("WHO-5", 5, -1, id="who5-minus-1"),
        pytest.param("AUDIT", 1, 5, id="audit-item1-5"),
        pytest.param("AUDIT", 9, 3, id="audit-item9-3"),
        pytest.param("AUDIT", 10, 1, id="audit-item10-1"),
        pytest.param("AUDIT", 10, 3, id="audit-item10-3"),
        pytest.param("DUDIT", 1, 5, id="dudit-item1-5"),
        pytest.param("DUDIT", 10, 3, id="dudit-item10-3"),
        pytest.param("DUDIT", 11, 1, id="dudit-item11-1"),
        pytest.param("DUDIT", 1, -1, id="dudit-minus-1"),
    ],
)
def test_value_out_of_range_is_refused(instrument, number, value):
    error = refused(instrument, with_value(instrument, number, value), sex="female")
    assert error.code == "value"
    assert error.params["item"] == number


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="none"),
        pytest.param("1", id="digit-string"),
        pytest.param(1.0, id="float"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param([1], id="nested-list"),
    ],
)
@pytest.mark.parametrize("instrument", ["PHQ-9", "DUDIT"])
def test_answer_that_is_not_a_whole_number_is_refused(instrument, value):
    error = refused(instrument, with_value(instrument, 2, value), sex="male")
    assert error.code == "value"


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param("000000000", id="string-of-nine-digits"),
        pytest.param(b"\x00" * 9, id="bytes"),
        pytest.param(None, id="none"),
        pytest.param(0, id="int"),
        pytest.param(dict.fromkeys(range(9), 0), id="dict"),
        pytest.param({0}, id="set"),
        pytest.param((0 for _ in range(9)), id="generator"),
    ],
)
def test_answers_that_are_not_a_list_are_refused(answers):
    assert refused("PHQ-9", answers).code == "not_a_list"


def test_a_tuple_of_answers_is_accepted():
    assert score("PHQ-9", (1,) * 9).total == 9


@pytest.mark.parametrize(
    "instrument",
    [
        pytest.param("PHQ-8", id="other-instrument"),
        pytest.param("phq-9", id="lower-case"),
        pytest.param(" PHQ-9", id="leading-space"),
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(9, id="int"),
        pytest.param(["PHQ-9"], id="list"),
    ],
)
def test_unknown_instrument_is_refused(instrument):
    assert refused(instrument, [0] * 9).code == "unknown"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="sex-missing"),
        pytest.param({"sex": None}, id="sex-none"),
        pytest.param({"sex": ""}, id="sex-empty"),
        pytest.param({"sex": "unknown"}, id="sex-unknown"),
        pytest.param({"sex": "Male"}, id="sex-capitalised"),
        pytest.param({"sex": "M"}, id="sex-abbreviated"),
    ],
)
def test_dudit_without_a_known_sex_is_refused(kwargs):
    assert refused("DUDIT", [0] * 11, **kwargs).code == "sex"


def test_sex_is_ignored_where_the_instrument_does_not_use_it():
    answers = answers_totalling("AUDIT", 8)
    assert score("AUDIT", answers, sex="female") == score("AUDIT", answers)


# --- item and answer labels ----------------------------------------------------------------


@pytest.mark.parametrize("instrument", list(ITEM_COUNTS))
def test_labels_number_every_item_once(instrument):
    numbers = [number for code, number, _, _ in ITEM_LABELS if code == instrument]
    assert numbers == list(range(1, len(INSTRUMENTS[instrument].items) + 1))


def test_labels_are_short_and_in_both_languages():
    too_long_or_empty = [
        (code, number)
        for code, number, label_da, label_en in ITEM_LABELS
        for label in (label_da, label_en)
        if not label.strip() or len(label.split()) > 6
    ]
    assert too_long_or_empty == []


def test_label_instruments_are_the_scored_instruments():
    assert {code for code, _, _, _ in ITEM_LABELS} == set(INSTRUMENTS)
    assert set(ITEM_COUNTS) == set(INSTRUMENTS)


@pytest.mark.parametrize(
    ("instrument", "number"),
    [
        pytest.param(code, number, id=f"{code}-item{number}")
        for code, rules in INSTRUMENTS.items()
        for number in range(1, len(rules.items) + 1)
    ],
)
def test_answer_scale_offers_exactly_the_allowed_values(instrument, number):
    scale = answer_scale(instrument, number)
    assert [value for value, _, _ in scale] == sorted(INSTRUMENTS[instrument].items[number - 1])
    assert all(label_da.strip() and label_en.strip() for _, label_da, label_en in scale)


@pytest.mark.parametrize(
    ("instrument", "number"),
    [("PHQ-9", 0), ("PHQ-9", 10), ("AUDIT", 11), ("DUDIT", 0), ("PHQ-8", 1)],
)
def test_answer_scale_of_an_item_that_does_not_exist(instrument, number):
    with pytest.raises(KeyError):
        answer_scale(instrument, number)


def test_uniform_scales_are_only_for_instruments_whose_items_share_one_range():
    for instrument in ANSWER_SCALES:
        assert len(set(INSTRUMENTS[instrument].items)) == 1


# --- the data migration ------------------------------------------------------------------


@pytest.mark.django_db
def test_migrations_load_one_label_per_item_in_both_languages():
    from evaluation.models import ItemLabel

    for code, rules in INSTRUMENTS.items():
        labels = ItemLabel.objects.filter(instrument=code)
        assert labels.count() == len(rules.items), code
        assert list(labels.values_list("number", flat=True)) == list(range(1, len(rules.items) + 1))
        assert not labels.filter(label_da="").exists()
        assert not labels.filter(label_en="").exists()


@pytest.mark.django_db
def test_the_data_migration_reverses_to_no_labels():
    from django.apps import apps

    from evaluation.models import ItemLabel

    migration = importlib.import_module("evaluation.migrations.0002_item_labels")
    assert ItemLabel.objects.count() == len(ITEM_LABELS)
    migration.unload(apps, None)
    assert ItemLabel.objects.count() == 0
    migration.load(apps, None)
    assert ItemLabel.objects.count() == len(ITEM_LABELS)
