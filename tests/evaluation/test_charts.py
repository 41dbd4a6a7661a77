"""The course page's score charts: one dot per measurement, a line from two, text escaped."""

from datetime import date

import pytest

from evaluation.charts import Point, svg_chart

DAYS = [date(2026, 1, 5), date(2026, 3, 2), date(2026, 6, 1)]


@pytest.mark.parametrize(
    "instrument,totals,dots,line",
    [
        pytest.param("PHQ-9", [], 0, False, id="no-measurement"),
        pytest.param("PHQ-9", [14], 1, False, id="one-dot-no-line"),
        pytest.param("WHO-5", [8, 13], 2, True, id="two-dots-a-line"),
        pytest.param("AUDIT", [30, 18, 9], 3, True, id="three-dots"),
    ],
)
def test_a_chart_has_a_dot_per_measurement_and_a_line_from_two(instrument, totals, dots, line):
    points = [
        Point(day=day, total=total, label="Bas") for day, total in zip(DAYS, totals, strict=False)
    ]

    svg = str(svg_chart(instrument, points, title=instrument))

    assert svg.startswith(
        f'<svg class="score-chart" viewBox="0 0 360 180" role="img" aria-label="{instrument}">'
    )
    assert svg.endswith("</svg>")
    assert svg.count("<circle") == dots
    assert ("<polyline" in svg) is line
    for total in totals:
        assert f"<title>Bas: {total}</title>" in svg


@pytest.mark.parametrize(
    "instrument,total,top",
    [
        # The plot is 148 high from y=8: a total of 0 sits on the bottom, the maximum on top.
        pytest.param("PHQ-9", 0, "156.0", id="zero-on-the-bottom"),
        pytest.param("PHQ-9", 27, "8.0", id="maximum-on-top"),
        pytest.param("WHO-5", 25, "8.0", id="who5-maximum-on-top"),
    ],
)
def test_a_dot_sits_at_its_total_on_the_instruments_scale(instrument, total, top):
    svg = str(svg_chart(instrument, [Point(day=DAYS[0], total=total, label="B")], title="t"))

    assert f'cy="{top}"' in svg


def test_the_title_and_labels_are_escaped():
    points = [Point(day=DAYS[0], total=3, label='<b>"x"</b>')]

    svg = str(svg_chart("GAD-7", points, title='GAD-7 <script>"'))

    assert "<script>" not in svg and "<b>" not in svg
    assert 'aria-label="GAD-7 &lt;script&gt;&quot;"' in svg
    assert "<title>&lt;b&gt;&quot;x&quot;&lt;/b&gt;: 3</title>" in svg
