"""The tags on every worklist row: the deadline (countdown, colour, date, ISO week) and
the screening outcome badge."""

from datetime import date

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
