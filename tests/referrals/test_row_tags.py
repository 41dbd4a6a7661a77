"""The tags on every worklist row: the deadline (countdown, colour, date, ISO week),
the screening outcome badge, the time of a meeting, and a whole referral row."""

import re
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


def referral_cells(referral, role):
    from apu.models import User

    template = Template("{% load referrals_tags %}{% referral_rows referrals user %}")
    with translation.override("en"):
        html = template.render(Context({"referrals": [referral], "user": User(role=role)}))
    assert html.startswith("<tr>") and html.endswith("</tr>")
    return re.findall(r"<td[^>]*>(.*?)</td>", html)


def a_referral(*, status="received", outcome="eligible", name="Anna Jensen"):
    from apu.models import Municipality
    from referrals.models import Patient, Referral

    patient = Patient(name=name, cpr="0101901234", municipality=Municipality(name="Ballerup"))
    referral = Referral(pk=7, patient=patient, first_contact=date(2026, 3, 2), status=status)
    referral.latest_outcome = outcome
    return referral


@pytest.mark.parametrize(
    ("role", "columns", "outcome_shown"),
    [
        pytest.param("clinician", 8, True, id="clinician-sees-the-screening"),
        pytest.param("admin", 8, True, id="admin-sees-the-screening"),
        pytest.param("coordinator", 7, False, id="coordinator-does-not"),
    ],
)
def test_a_referral_row_has_its_cells_and_the_screening_only_for_the_clinic(
    role, columns, outcome_shown
):
    cells = referral_cells(a_referral(), role)

    assert len(cells) == columns
    assert cells[:4] == [
        '<a href="/referrals/7/">Anna Jensen</a>',
        "010190-xxxx",
        "Ballerup",
        "02.03.2026",
    ]
    assert int(cells[4]) >= 0  # days since the first contact
    from referrals.deadlines import intake_meeting_due

    due = intake_meeting_due(date(2026, 3, 2))
    assert f'<time datetime="{due.isoformat()}">{due:%d.%m.%Y}</time>' in cells[5]
    assert ('<span class="badge badge-ok">Eligible</span>' in cells) is outcome_shown
    assert cells[-1] == "Received, awaiting screening"


@pytest.mark.parametrize(
    ("status", "deadline_shown"),
    [
        pytest.param("received", True, id="received"),
        pytest.param("screened", True, id="screened"),
        pytest.param("accepted", False, id="accepted"),
        pytest.param("rejected", False, id="rejected"),
        pytest.param("withdrawn", False, id="withdrawn"),
    ],
)
def test_only_an_open_referral_shows_its_intake_deadline(status, deadline_shown):
    deadline_cell = referral_cells(a_referral(status=status), "clinician")[5]

    assert (deadline_cell != "–") is deadline_shown


def test_a_referral_rows_patient_name_is_escaped():
    link = referral_cells(a_referral(name="<i>Bo</i>"), "clinician")[0]

    assert link == '<a href="/referrals/7/">&lt;i&gt;Bo&lt;/i&gt;</a>'


@pytest.mark.parametrize(
    ("name", "pk"),
    [
        ("coordination:meeting_detail", 1),
        ("coordination:meeting_detail", 10),
        ("coordination:meeting_detail", 987654320),
        ("course_detail", 100),
        ("course_detail", 7),
        ("referrals:referral_detail", 2024),
    ],
)
def test_a_rows_link_is_what_reverse_gives(name, pk):
    from django.urls import reverse

    from referrals.templatetags.referrals_tags import url_with_pk

    assert url_with_pk(name)(pk) == reverse(name, args=[pk])
