"""The tags on every worklist row: the deadline (countdown, colour, date, ISO week),
the screening outcome badge, and the time of a meeting."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.utils import translation

TODAY = date(2026, 3, 4)  # a Wednesday in ISO week 10


def shown(due):
    template = Template("{% load referrals_tags %}{% deadline due today %}")
    with translation.override("da"):
        return template.render(Context({"due": due, "today": TODAY}))


@pytest.mark.parametrize(
    ("due", "level", "text", "week"),
    [
        (date(2026, 3, 1), "overdue", "3 dage over fristen", 9),
        (date(2026, 3, 3), "overdue", "1 dag over fristen", 10),
        (date(2026, 3, 4), "soon", "frist i dag", 10),
        (date(2026, 3, 11), "soon", "om 7 dage", 11),
        (date(2026, 3, 12), "ok", "om 8 dage", 11),
    ],
)
def test_the_deadline_shows_countdown_level_date_and_week(due, level, text, week):
    html = shown(due)

    assert f'class="deadline deadline-{level}"' in html
    assert f"<strong>{text}</strong>" in html
    assert f'<time datetime="{due.isoformat()}">{due:%d.%m.%Y}</time>' in html
    assert f"uge {week}" in html


def test_no_deadline_is_a_dash():
    assert shown(None) == "–"


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("eligible", '<span class="badge badge-ok">Kan optages</span>'),
        ("ineligible", '<span class="badge badge-danger">Kan ikke optages</span>'),
        ("review", '<span class="badge badge-warn">Skal vurderes</span>'),
        (None, "–"),
        ("", "–"),
    ],
)
def test_the_screening_outcome_badge(outcome, expected):
    template = Template("{% load referrals_tags %}{% outcome_badge outcome %}")
    with translation.override("da"):
        assert template.render(Context({"outcome": outcome})) == expected


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        pytest.param(
            datetime(2026, 1, 5, 8, 30, tzinfo=UTC), "05.01.2026 09:30", id="winter-utc+1"
        ),
        pytest.param(
            datetime(2026, 7, 1, 22, 15, tzinfo=UTC), "02.07.2026 00:15", id="summer-next-day"
        ),
        pytest.param(
            datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29.03.2026 01:59", id="before-dst-starts"
        ),
        pytest.param(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29.03.2026 03:00", id="dst-starts"),
        pytest.param(
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "25.10.2026 02:30", id="before-dst-ends"
        ),
        pytest.param(
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "25.10.2026 02:30", id="after-dst-ends"
        ),
        pytest.param(None, "", id="none"),
    ],
)
def test_a_time_on_a_row_is_shown_as_the_date_filter_shows_it(moment, text):
    """``day_time`` shows what ``|date:"d.m.Y H:i"`` shows, in Copenhagen time."""
    by_tag = Template("{% load referrals_tags %}{{ moment|day_time }}")
    by_filter = Template('{{ moment|date:"d.m.Y H:i" }}')
    context = Context({"moment": moment})

    assert by_tag.render(context) == text
    assert by_filter.render(context) == text
