"""Each course's meeting_scheduled flag, kept by the database from the course's meetings.

The clinic's meeting worklist lists and counts the open courses with no meeting scheduled
from that flag, so it must follow the meetings whatever writes them: the services, the admin,
bulk inserts, raw SQL, a meeting moved to another course, and a save from a stale copy of
the course.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from coordination.models import Meeting
from coordination.queries import clinic_worklist
from referrals.models import Course
from tests.coordination.factories import GLADSAXE, accepted_course, at, hold, meeting_of, schedule

pytestmark = pytest.mark.django_db

FOLLOW_UP = Meeting.Kind.MIDPOINT


def flag(course: Course) -> bool:
    return Course.objects.values_list("meeting_scheduled", flat=True).get(pk=course.pk)


def from_meetings(course: Course) -> bool:
    """The rule, from the meetings themselves: an open meeting with a time."""
    return any(
        m.status in Meeting.OPEN_STATUSES and m.scheduled_at is not None
        for m in Meeting.objects.filter(course=course)
    )


def soon(days: int = 3):
    return at(timezone.localdate() + timedelta(days=days))


def nothing(course, other, clinician):
    pass


def schedule_intake(course, other, clinician):
    schedule(meeting_of(course), by=clinician, when=soon())


def hold_the_scheduled_intake(course, other, clinician):
    schedule_intake(course, other, clinician)
    hold(meeting_of(course), by=clinician)


def hold_one_of_two_scheduled(course, other, clinician):
    schedule_intake(course, other, clinician)
    schedule(meeting_of(course, FOLLOW_UP), by=clinician, when=soon(40))
    hold(meeting_of(course), by=clinician)


def cancel_the_scheduled_intake(course, other, clinician):
    schedule_intake(course, other, clinician)
    Meeting.objects.filter(pk=meeting_of(course).pk).update(status=Meeting.Status.CANCELLED)


def move_the_time(course, other, clinician):
    schedule_intake(course, other, clinician)
    schedule(meeting_of(course), by=clinician, when=soon(5))


def delete_the_scheduled_meeting(course, other, clinician):
    schedule_intake(course, other, clinician)
    meeting_of(course).delete()


def remove_the_time(course, other, clinician):
    schedule_intake(course, other, clinician)
    Meeting.objects.filter(course=course).update(scheduled_at=None)


def move_the_scheduled_meeting_to_the_other_course(course, other, clinician):
    schedule_intake(course, other, clinician)
    # The other course's own intake makes room under the one-intake rule.
    meeting_of(other).delete()
    Meeting.objects.filter(pk=meeting_of(course).pk).update(course=other)


def bulk_insert_a_scheduled_meeting(course, other, clinician):
    Meeting.objects.bulk_create(
        [
            Meeting(
                course=course,
                kind=Meeting.Kind.EXTRA,
                due_date=timezone.localdate(),
                scheduled_at=soon(),
                status=Meeting.Status.PLANNED,
            ),
            Meeting(course=other, kind=Meeting.Kind.EXTRA, due_date=timezone.localdate()),
        ]
    )


def schedule_with_raw_sql(course, other, clinician):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE coordination_meeting SET scheduled_at = now() WHERE course_id = %s",
            [course.pk],
        )


def save_a_stale_copy_of_the_course(course, other, clinician):
    stale = Course.objects.get(pk=course.pk)  # read before the meeting had its time
    schedule_intake(course, other, clinician)
    stale.norm_hour_budget = 30
    stale.save()


def write_the_flag_by_hand(course, other, clinician):
    Course.objects.filter(pk=course.pk).update(meeting_scheduled=True)


# (what happens, the course's flag, the other course's flag)
CASES = [
    (nothing, False, False),
    (schedule_intake, True, False),
    (hold_the_scheduled_intake, False, False),
    (hold_one_of_two_scheduled, True, False),
    (cancel_the_scheduled_intake, False, False),
    (move_the_time, True, False),
    (delete_the_scheduled_meeting, False, False),
    (remove_the_time, False, False),
    (move_the_scheduled_meeting_to_the_other_course, False, True),
    (bulk_insert_a_scheduled_meeting, True, False),
    (schedule_with_raw_sql, True, False),
    (save_a_stale_copy_of_the_course, True, False),
    (write_the_flag_by_hand, False, False),
]


each_case = pytest.mark.parametrize(
    "change,expected,other_expected", [pytest.param(*case, id=case[0].__name__) for case in CASES]
)


def two_courses_after(change, clinician) -> tuple[Course, Course]:
    """A Ballerup and a Gladsaxe course, each with its three planned meetings, after
    ``change``."""
    course = accepted_course(clinician)
    other = accepted_course(clinician, name="Gorm Gladsaxe", municipality_code=GLADSAXE)
    change(course, other, clinician)
    return course, other


@each_case
def test_the_flag_follows_the_meetings(change, expected, other_expected, clinician, now):
    course, other = two_courses_after(change, clinician)

    assert (flag(course), flag(other)) == (expected, other_expected)
    assert (from_meetings(course), from_meetings(other)) == (expected, other_expected)


@each_case
def test_the_worklist_lists_the_open_courses_with_no_meeting_scheduled(
    change, expected, other_expected, clinician, now
):
    course, other = two_courses_after(change, clinician)

    unscheduled = clinic_worklist(clinician)["unscheduled_courses"]
    listed = {c.pk for c in unscheduled}
    assert listed == {
        c.pk for c, scheduled in ((course, expected), (other, other_expected)) if not scheduled
    }
    assert unscheduled.count() == len(listed)


def test_the_flag_is_not_in_the_course_history(clinician, now):
    course = accepted_course(clinician)
    before = course.history.count()

    schedule(meeting_of(course), by=clinician, when=soon())

    assert flag(course) is True
    assert course.history.count() == before
    assert "meeting_scheduled" not in {f.name for f in Course.history.model._meta.fields}
