"""The run-chart rules of healthcare quality improvement: a shift is six or more points on one
side of the median, a trend five or more points going the same way; points on the median and
equal neighbours neither break nor count. And the chart itself, drawn as SVG."""

import re
from dataclasses import dataclass
from datetime import date

import pytest

from evaluation.runcharts import RunPoint, run_chart, shift_points, trend_points

# --- Shifts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values,marked",
    [
        pytest.param([11, 12, 11, 13, 11, 12], set(range(6)), id="six-above-marks"),
        pytest.param([11, 12, 11, 13, 11], set(), id="five-above-does-not"),
        pytest.param([9, 8, 9, 7, 9, 8], set(range(6)), id="six-below-marks"),
        pytest.param([9, 8, 9, 7, 9], set(), id="five-below-does-not"),
        pytest.param([12] * 8, set(range(8)), id="eight-above-all-marked"),
        pytest.param(
            [11, 11, 11, 10, 11, 11, 11], {0, 1, 2, 4, 5, 6}, id="on-the-median-neither-breaks"
        ),
        pytest.param([11, 11, 10, 11, 11, 11], set(), id="on-the-median-does-not-count"),
        pytest.param([10] * 7, set(), id="all-on-the-median-no-shift"),
        pytest.param([11, 11, 11, 9, 11, 11, 11], set(), id="a-point-below-breaks-the-run"),
        pytest.param([9, 9, 11, 11, 11, 11, 11, 11, 9], set(range(2, 8)), id="shift-in-the-middle"),
        pytest.param([9] * 6 + [11] * 6, set(range(12)), id="a-shift-down-then-a-shift-up"),
        pytest.param([], set(), id="no-points"),
    ],
)
def test_shift_points(values, marked):
    assert shift_points(values, 10) == marked


# --- Trends -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values,marked",
    [
        pytest.param([1, 2, 3, 4, 5], set(range(5)), id="five-rising-marks"),
        pytest.param([1, 2, 3, 4], set(), id="four-rising-does-not"),
        pytest.param([5, 4, 3, 2, 1], set(range(5)), id="five-falling-marks"),
        pytest.param([4, 3, 2, 1], set(), id="four-falling-does-not"),
        pytest.param([1, 2, 2, 3, 4, 5], {0, 1, 3, 4, 5}, id="an-equal-neighbour-neither-breaks"),
        pytest.param([1, 2, 2, 3, 4], set(), id="an-equal-neighbour-does-not-count"),
        pytest.param([3, 3, 3, 3, 3, 3], set(), id="flat-no-trend"),
        pytest.param([1, 2, 3, 2, 3, 4], set(), id="a-step-back-breaks-the-run"),
        pytest.param(
            [1, 2, 3, 4, 3, 4, 5, 6, 7], {4, 5, 6, 7, 8}, id="the-turning-point-starts-a-new-run"
        ),
        pytest.param([9, 1, 2, 3, 4, 5], {1, 2, 3, 4, 5}, id="trend-after-a-fall"),
        pytest.param([7], set(), id="one-point"),
        pytest.param([], set(), id="no-points"),
    ],
)
def test_trend_points(values, marked):
    assert trend_points(values) == marked


# --- The chart --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    date: date
    title: str


def months(*values: float) -> list[RunPoint]:
    """Monthly points from January 2025."""
    return [
        RunPoint(month=date(2025 + i // 12, i % 12 + 1, 1), value=v) for i, v in enumerate(values)
    ]


MEDIAN_LINE = re.compile(r'<line x1="40" y1="([\d.]+)" x2="548" y2="\1" stroke="#55606b"')
NOTE_LINE = 'stroke="#6b4fa0" stroke-dasharray="4 3"'
RED, ORANGE, BLUE = 'fill="#a61b1b"', 'fill="#8a5a00"', 'fill="#1f5f8b"'


def test_the_chart_draws_each_point_and_the_median_line():
    chart = run_chart(months(4, 8, 6, 10, 2), title="Fremmøde", unit=" %")

    svg = str(chart["svg"])
    assert svg.startswith('<svg class="run-chart"')
    assert 'aria-label="Fremmøde"' in svg
    assert chart["median"] == 6
    assert svg.count("<circle") == 5
    assert "<title>01.2025: 4.0 %</title>" in svg
    # The dashed median line, labelled with its value on the axis.
    assert MEDIAN_LINE.search(svg)
    assert ">6.0</text>" in svg
    assert chart["points"] == months(4, 8, 6, 10, 2)


def test_signal_points_are_coloured():
    # Six points below the median of 3.5, then six above: a shift; from the fifth point on
    # every point rises (1, 2, 5, ..., 10): a trend as well.
    chart = run_chart(months(1, 2, 1, 2, 1, 2, 5, 6, 7, 8, 9, 10), title="t")

    assert chart["median"] == 3.5
    assert chart["shift"] == set(range(12))
    assert chart["trend"] == set(range(4, 12))
    svg = str(chart["svg"])
    assert svg.count(RED) == 12  # a shift outranks a trend


def test_a_trend_without_a_shift_is_orange():
    chart = run_chart(months(5, 1, 2, 3, 4, 5, 5), title="t")

    assert chart["shift"] == set()
    assert chart["trend"] == {1, 2, 3, 4, 5}
    assert str(chart["svg"]).count(ORANGE) == 5


def test_an_empty_series_draws_nothing():
    assert run_chart([], title="Ingen data") == {
        "svg": "",
        "median": None,
        "shift": set(),
        "trend": set(),
        "points": [],
    }


def test_a_single_point_is_drawn_in_the_middle_on_its_own_median():
    chart = run_chart(months(7), title="Én måned", notes=[Note(date(2025, 1, 1), "Ny praksis")])

    svg = str(chart["svg"])
    assert chart["median"] == 7
    assert svg.count("<circle") == 1
    assert '<circle cx="294.0"' in svg  # 40 + 508 / 2
    assert MEDIAN_LINE.search(svg)
    assert NOTE_LINE not in svg  # a single month has no time axis to place a note on


def test_a_series_of_zeros_is_drawn():
    chart = run_chart(months(0, 0, 0), title="Nul")

    assert chart["median"] == 0
    assert str(chart["svg"]).count("<circle") == 3


@pytest.mark.parametrize(
    "day,shown",
    [
        pytest.param(date(2024, 12, 31), False, id="before-the-first-month"),
        pytest.param(date(2025, 1, 1), True, id="on-the-first-month"),
        pytest.param(date(2025, 2, 15), True, id="inside"),
        pytest.param(date(2025, 3, 1), True, id="on-the-last-month"),
        pytest.param(date(2025, 3, 2), False, id="after-the-last-month"),
    ],
)
def test_an_improvement_note_is_drawn_when_it_falls_within_the_chart(day, shown):
    chart = run_chart(months(3, 4, 5), title="t", notes=[Note(day, "SMS-påmindelse")])

    svg = str(chart["svg"])
    assert (NOTE_LINE in svg) is shown
    assert ("SMS-påmindelse" in svg) is shown


def test_text_in_the_chart_is_escaped():
    chart = run_chart(
        months(1, 2), title='<script>"x"</script>', notes=[Note(date(2025, 1, 10), "<b>ny</b>")]
    )

    svg = str(chart["svg"])
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;b&gt;ny&lt;/b&gt;" in svg
