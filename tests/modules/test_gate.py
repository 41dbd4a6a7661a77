"""The gate: no group seat, attendance or individual session before the intake meeting is
held, and none after discharge; refused by the services and shown clearly on the pages."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from apu.models import User
from apu.versioning import ABSENT
from coordination.services import AWAITING_INTAKE, discharge_course
from modules import services
from modules.models import Appointment, Attendance, Enrolment, Group, Session, WaitingListEntry
from referrals.models import Course
from tests.modules.conftest import LAST_MONDAY
from tests.modules.factories import (
    at,
    enrolled,
    hold_intake,
    new_course,
    new_group,
    new_session,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]


def shown(message) -> str:
    """``message`` as a page shows it: in Danish, HTML-escaped."""
    with translation.override("da"):
        return escape(str(message))


def treatment_rows() -> tuple:
    """Everything a treatment step could write."""
    return (
        list(Enrolment.objects.values_list("pk", "ends_on")),
        list(WaitingListEntry.objects.values_list("pk", "status")),
        list(Attendance.objects.values_list("pk", "status")),
        list(Appointment.objects.values_list("pk", "attendance")),
    )


@dataclass
class Case:
    course: Course
    group: Group
    session: Session
    appointment: Appointment
    clinician: User
    today: date


@pytest.fixture
def awaiting(clinician, group, now) -> Case:
    """A course whose intake meeting is not yet held, and a group session that took place."""
    course = new_course(clinician, name="Vera Venter", in_treatment=False)
    assert course.status == Course.Status.AWAITING_INTAKE
    # No service books an appointment before the intake meeting, so the row is made directly:
    # recording its attendance must still be refused.
    appointment = Appointment.objects.create(
        course=course,
        clinician=clinician,
        starts_at=at(now.date(), 8),
        kind=Appointment.Kind.FIRST_CONVERSATION,
        created_by=clinician,
    )
    session = new_session(group, starts_at=at(LAST_MONDAY))
    return Case(course, group, session, appointment, clinician, now.date())


@pytest.fixture
def discharged(clinician, group, now) -> Case:
    """A course that was in a group and had an appointment, then was discharged."""
    course = new_course(clinician, name="Dorte Dimitteret")
    enrolled(course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=1))
    appointment = services.book_appointment(
        course,
        by=clinician,
        clinician=clinician,
        starts_at=at(now.date(), 8),
        duration_minutes=60,
        kind=Appointment.Kind.INDIVIDUAL_THERAPY,
    )
    session = new_session(group, starts_at=at(LAST_MONDAY))
    discharge_course(
        course,
        by=clinician,
        date=now.date(),
        kind="dropped_out",
        meeting_not_held_reason="Flyttet.",
    )
    course.refresh_from_db()
    other = new_group(module="Tænkestil", weekday=Group.Weekday.WEDNESDAY)
    return Case(course, other, session, appointment, clinician, now.date())


STEPS = {
    "enrol": lambda c: services.enrol(c.course, c.group, by=c.clinician, starts_on=c.today),
    "record_attendance": lambda c: services.record_attendance(
        c.session, c.course, by=c.clinician, status="attended"
    ),
    "book_appointment": lambda c: services.book_appointment(
        c.course,
        by=c.clinician,
        clinician=c.clinician,
        starts_at=at(c.today + timedelta(days=1), 9),
        duration_minutes=60,
        kind=Appointment.Kind.INDIVIDUAL_THERAPY,
    ),
    "record_appointment_attendance": lambda c: services.record_appointment_attendance(
        c.appointment, by=c.clinician, status="attended"
    ),
}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize(
    "situation,code",
    [
        pytest.param("awaiting", "awaiting_intake", id="before-the-intake-meeting"),
        pytest.param("discharged", "discharged", id="after-discharge"),
    ],
)
def test_treatment_is_refused_outside_the_course_and_nothing_is_saved(
    request, situation, code, step
):
    case = request.getfixturevalue(situation)
    before = treatment_rows()

    with pytest.raises(ValidationError) as refused:
        STEPS[step](case)

    assert refused.value.code == code
    assert treatment_rows() == before


def test_holding_the_intake_meeting_opens_the_gate(clinician, awaiting):
    hold_intake(awaiting.course, by=clinician)

    enrolment = services.enrol(awaiting.course, awaiting.group, by=clinician, starts_on=LAST_MONDAY)
    record = services.record_attendance(
        awaiting.session, awaiting.course, by=clinician, status="attended"
    )
    assert enrolment.course == record.course == awaiting.course


# --- Through the pages --------------------------------------------------------------------------


def test_the_enrol_page_refuses_before_the_intake_meeting(client_for, clinician, awaiting):
    before = treatment_rows()

    response = client_for(clinician).post(
        reverse("modules:course_enrol", args=[awaiting.course.pk]),
        {"group": awaiting.group.pk, "starts_on": awaiting.today.isoformat()},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("course_detail", args=[awaiting.course.pk]), 302)]
    assert shown(AWAITING_INTAKE) in response.content.decode()
    assert treatment_rows() == before


def test_the_attendance_tap_refuses_before_the_intake_meeting(client_for, clinician, awaiting):
    before = treatment_rows()
    client = client_for(clinician)
    url = reverse("modules:session_tap", args=[awaiting.session.pk])
    data = {"course": awaiting.course.pk, "status": "attended", "seen": ABSENT}

    partial = client.post(url, data, headers={"HX-Request": "true"})
    page = client.post(url, data, follow=True)

    assert partial.status_code == 400
    assert shown(AWAITING_INTAKE) in partial.content.decode()
    assert "<html" not in partial.content.decode()
    assert page.redirect_chain == [
        (reverse("modules:session_attendance", args=[awaiting.session.pk]), 302)
    ]
    assert shown(AWAITING_INTAKE) in page.content.decode()
    assert treatment_rows() == before


def test_the_appointment_page_refuses_before_the_intake_meeting(client_for, clinician, awaiting):
    before = treatment_rows()

    response = client_for(clinician).post(
        reverse("modules:appointment_new", args=[awaiting.course.pk]),
        {
            "clinician": clinician.pk,
            "starts_at": f"{awaiting.today + timedelta(days=1)}T09:00",
            "duration_minutes": 60,
            "kind": Appointment.Kind.FIRST_CONVERSATION,
        },
    )

    assert response.status_code == 200  # the form again, with the reason
    assert shown(AWAITING_INTAKE) in response.content.decode()
    assert response.context["form"].non_field_errors() == [str(AWAITING_INTAKE)]
    assert treatment_rows() == before


def test_the_course_page_says_treatment_waits_for_the_intake_meeting(
    client_for, clinician, awaiting
):
    response = client_for(clinician).get(reverse("course_detail", args=[awaiting.course.pk]))

    content = response.content.decode()
    assert reverse("modules:course_enrol", args=[awaiting.course.pk]) not in content
    assert reverse("modules:appointment_new", args=[awaiting.course.pk]) not in content
    with translation.override("da"):
        assert (
            escape(
                translation.gettext(
                    "Groups and individual sessions start once the intake meeting has been held."
                )
            )
            in content
        )
