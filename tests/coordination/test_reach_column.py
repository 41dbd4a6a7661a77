"""Each meeting's and action's copy of the patient's municipality, kept by the database.

A coordinator's reach over meetings and actions reads that copy (``Meeting.for_user``), so
it must follow the patient whatever writes the rows: the services, the admin, raw SQL.
"""

from datetime import date

import pytest
from django.db import connection

from apu.models import Municipality
from coordination.models import Action, Meeting
from coordination.queries import coordinator_worklist
from coordination.services import ActionInput
from referrals.models import Course, Patient
from tests.coordination.factories import (
    BALLERUP,
    GLADSAXE,
    accepted_course,
    fresh_cpr,
    hold,
    meeting_of,
)

pytestmark = pytest.mark.django_db


def municipalities_of(course: Course) -> set[tuple[str, int | None]]:
    rows = {
        ("meeting", m)
        for m in Meeting.objects.filter(course=course).values_list("municipality_id", flat=True)
    }
    rows |= {
        ("action", a)
        for a in Action.objects.filter(meeting__course=course).values_list(
            "municipality_id", flat=True
        )
    }
    return rows


def with_action(course: Course, clinician) -> Course:
    action = ActionInput(what="Bostøtte søges", responsible=Action.Responsible.MUNICIPALITY)
    hold(meeting_of(course), by=clinician, actions=(action,))
    return course


def test_new_meetings_and_actions_take_the_patients_municipality(clinician, now):
    course = with_action(accepted_course(clinician), clinician)
    ballerup = Municipality.objects.get(code=BALLERUP).pk

    assert municipalities_of(course) == {("meeting", ballerup), ("action", ballerup)}
    assert Meeting.objects.filter(course=course).count() == 3


@pytest.mark.parametrize(
    "move",
    [
        pytest.param("patient", id="the patient moves"),
        pytest.param("course", id="the course is given to another patient"),
        pytest.param("meeting", id="the meeting is moved to another course"),
        pytest.param("raw_sql", id="a meeting written with raw SQL"),
    ],
)
def test_the_copy_follows_the_patient(move, clinician, now):
    course = with_action(accepted_course(clinician), clinician)
    gladsaxe = Municipality.objects.get(code=GLADSAXE)
    other = accepted_course(clinician, name="Gorm Gladsaxe", municipality_code=GLADSAXE)
    if move == "patient":
        course.patient.municipality = gladsaxe
        course.patient.save()
        moved = course
    elif move == "course":
        newcomer = Patient.objects.create(
            cpr=fresh_cpr(),
            name="Gitte Gladsaxe",
            municipality=gladsaxe,
            birth_date=date(1980, 1, 1),
            sex=Patient.Sex.FEMALE,
        )
        Course.objects.filter(pk=course.pk).update(patient=newcomer)
        moved = course
    elif move == "meeting":
        # The held intake meeting, with its action, moves to Gladsaxe's course (one of the
        # other course's planned meetings makes room for it under the one-intake rule).
        meeting_of(other).delete()
        Meeting.objects.filter(pk=meeting_of(course).pk).update(course=other)
        moved = other
    else:
        # Whoever writes another municipality into the copy is overruled by the patient's.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE coordination_meeting SET municipality_id = %s WHERE course_id = %s",
                [Municipality.objects.get(code=BALLERUP).pk, other.pk],
            )
        moved = with_action(other, clinician)

    assert municipalities_of(moved) == {("meeting", gladsaxe.pk), ("action", gladsaxe.pk)}


def test_a_coordinator_loses_and_gains_a_patient_who_moves(
    clinician, coordinator_ballerup, coordinator_gladsaxe, now
):
    course = with_action(accepted_course(clinician), clinician)
    meeting_ids = set(course.meetings.values_list("pk", flat=True))

    def reach(user):
        lists = coordinator_worklist(user)
        return (
            set(Meeting.objects.for_user(user).values_list("pk", flat=True)),
            lists["open_actions"].count(),
        )

    assert reach(coordinator_ballerup) == (meeting_ids, 1)
    assert reach(coordinator_gladsaxe) == (set(), 0)

    course.patient.municipality = coordinator_gladsaxe.municipality
    course.patient.save()

    assert reach(coordinator_ballerup) == (set(), 0)
    assert reach(coordinator_gladsaxe) == (meeting_ids, 1)


def test_no_meeting_or_action_is_left_without_a_municipality(clinician, now):
    with_action(accepted_course(clinician), clinician)
    accepted_course(clinician, name="Gorm Gladsaxe", municipality_code=GLADSAXE)

    assert not Meeting.objects.filter(municipality__isnull=True).exists()
    assert not Action.objects.filter(municipality__isnull=True).exists()
