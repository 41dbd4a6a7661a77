"""The worklists' rows as the meeting_rows and unscheduled_course_rows tags build them: each
cell, in both languages, escaped."""

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.template import Context, Template
from django.utils import translation

from apu.models import Municipality
from coordination.models import Meeting
from referrals.models import Course, Patient

TODAY = date(2026, 3, 4)


def a_meeting(*, scheduled_at=None, name="Anna Jensen", status=Meeting.Status.PLANNED):
    patient = Patient(name=name, cpr="0101901234", municipality=Municipality(name="Ballerup"))
    course = Course(patient=patient)
    return Meeting(
        pk=41,
        course=course,
        kind=Meeting.Kind.INTAKE,
        due_date=TODAY,
        scheduled_at=scheduled_at,
        status=status,
    )


def rows(tag, objects, language="da") -> list[list[str]]:
    """The cells of each row ``tag`` renders for ``objects``."""
    template = Template("{% load coordination_tags %}{% " + tag + " objects %}")
    with translation.override(language), time_machine.travel(TODAY, tick=False):
        html = template.render(Context({"objects": objects}))
    assert html.startswith("<tr>") and html.endswith("</tr>")
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in html.split("</tr>")[:-1]]


def cells(meeting, language="da"):
    [row] = rows("meeting_rows", [meeting], language)
    return row


@pytest.mark.parametrize(
    ("language", "kind", "status", "not_scheduled"),
    [
        pytest.param("da", "Indsatsmøde (opstart)", "Planlagt", "Ikke planlagt", id="danish"),
        pytest.param("en", "Intake meeting", "Planned", "Not scheduled", id="english"),
    ],
)
def test_a_row_shows_patient_municipality_meeting_deadline_time_and_status(
    language, kind, status, not_scheduled
):
    patient, municipality, link, due, when, shown_status = cells(a_meeting(), language)

    assert patient == 'Anna Jensen <small class="nowrap">010190-xxxx</small>'
    assert municipality == "Ballerup"
    assert link == f'<a href="/meetings/41/">{kind}</a>'
    assert f'<time datetime="{TODAY.isoformat()}">04.03.2026</time>' in due
    assert when == f'<span class="badge badge-warn">{not_scheduled}</span>'
    assert shown_status == status


def test_a_scheduled_meeting_shows_its_time_in_copenhagen():
    meeting = a_meeting(scheduled_at=datetime(2026, 3, 9, 9, 30, tzinfo=UTC))

    assert cells(meeting)[4] == "09.03.2026 10:30"


def test_the_patients_name_is_escaped():
    patient = cells(a_meeting(name="<b>Bo</b> & Co"))[0]

    assert patient.startswith("&lt;b&gt;Bo&lt;/b&gt; &amp; Co ")


def test_each_meeting_gets_its_own_row_and_link():
    first, second = a_meeting(), a_meeting(name="Bo Hansen")
    second.pk = 42

    shown = rows("meeting_rows", [first, second])

    assert [row[0].split(" <small")[0] for row in shown] == ["Anna Jensen", "Bo Hansen"]
    assert [row[2].split('"')[1] for row in shown] == ["/meetings/41/", "/meetings/42/"]


def a_course(*, status=Course.Status.AWAITING_INTAKE, name="Anna Jensen", pk=7):
    patient = Patient(name=name, cpr="0101901234", municipality=Municipality(name="Ballerup"))
    return Course(pk=pk, patient=patient, status=status, intake_meeting_due=date(2026, 3, 1))


@pytest.mark.parametrize(
    ("language", "status", "shown_status", "overdue"),
    [
        pytest.param(
            "da",
            "awaiting_intake",
            "Afventer indsatsmøde",
            "3 dage over fristen",
            id="danish-awaiting-intake",
        ),
        pytest.param(
            "en",
            "awaiting_intake",
            "Awaiting intake meeting",
            "3 days overdue",
            id="english-awaiting-intake",
        ),
        pytest.param("da", "in_treatment", "I behandling", None, id="danish-in-treatment"),
        pytest.param("en", "in_treatment", "In treatment", None, id="english-in-treatment"),
    ],
)
def test_an_unscheduled_course_row_shows_patient_municipality_status_and_intake_deadline(
    language, status, shown_status, overdue
):
    [[patient, municipality, course_status, due]] = rows(
        "unscheduled_course_rows", [a_course(status=status)], language
    )

    assert patient == '<a href="/courses/7/">Anna Jensen</a> <small>010190-xxxx</small>'
    assert municipality == "Ballerup"
    assert course_status == shown_status
    if overdue is None:
        assert due == "–"  # the intake deadline only while the course awaits it
    else:
        assert f"<strong>{overdue}</strong>" in due
        assert '<time datetime="2026-03-01">01.03.2026</time>' in due


def test_an_unscheduled_course_rows_patient_is_escaped():
    [[patient, *_rest]] = rows("unscheduled_course_rows", [a_course(name="<i>Eva</i> & Co")])

    assert patient.startswith('<a href="/courses/7/">&lt;i&gt;Eva&lt;/i&gt; &amp; Co</a>')
