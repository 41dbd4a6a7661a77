"""A meeting worklist row, as the meeting_row tag builds it: each cell, in both languages."""

import re
from datetime import UTC, date, datetime

import pytest
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


def cells(meeting, language="da"):
    template = Template("{% load coordination_tags %}{% meeting_row meeting %}")
    with translation.override(language):
        html = template.render(Context({"meeting": meeting}))
    assert html.startswith("<tr>") and html.endswith("</tr>")
    return re.findall(r"<td[^>]*>(.*?)</td>", html)


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
