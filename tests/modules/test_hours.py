"""The norm-hour rule: what a seat costs the course, and what the patient receives."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from coordination.services import discharge_course
from modules import services
from modules.hours import norm_hours
from modules.models import Appointment, AttendanceStatus
from modules.queries import Hours, course_hours
from tests.modules.conftest import LAST_MONDAY
from tests.modules.factories import at, enrolled, new_group, new_session

HOUR = timedelta(hours=1)


# --- norm_hours: the pure rule ---------------------------------------------------------------


@pytest.mark.parametrize(
    "duration,therapists,size,expected",
    [
        pytest.param(2 * HOUR, 2, 8, Decimal("0.5"), id="group-2h-2-therapists-of-8"),
        pytest.param(HOUR, 1, 1, Decimal("1"), id="individual-hour"),
        pytest.param(timedelta(minutes=90), 2, 8, Decimal("0.375"), id="skills-90min-2-of-8"),
        pytest.param(HOUR, 1, 8, Decimal("0.125"), id="body-1h-1-therapist-of-8"),
        pytest.param(timedelta(minutes=45), 1, 1, Decimal("0.75"), id="individual-45min"),
        pytest.param(2 * HOUR, 2, 12, Decimal(1) / Decimal(3), id="recovery-school-2-of-12"),
    ],
)
def test_a_seat_costs_duration_times_therapists_over_normed_size(
    duration, therapists, size, expected
):
    cost = norm_hours(duration=duration, therapists=therapists, normed_group_size=size)

    assert isinstance(cost, Decimal)
    assert cost == expected


def test_25_norm_hours_buy_100_hours_of_two_hour_group_sessions():
    sessions = [2 * HOUR] * 50

    cost = sum(norm_hours(duration=d, therapists=2, normed_group_size=8) for d in sessions)

    assert cost == Decimal(25)
    assert sum(sessions, timedelta()) == timedelta(hours=100)


def test_the_sum_is_exact_not_rounded():
    third = norm_hours(duration=2 * HOUR, therapists=2, normed_group_size=12)

    assert sum([third] * 3) != Decimal("0.9999")
    assert norm_hours(
        duration=timedelta(seconds=1), therapists=1, normed_group_size=1
    ) * 3600 == Decimal(1)


@pytest.mark.parametrize(
    "duration,therapists,size",
    [
        pytest.param(timedelta(0), 2, 8, id="zero-duration"),
        pytest.param(-HOUR, 2, 8, id="negative-duration"),
        pytest.param(2, 2, 8, id="duration-not-a-timedelta"),
        pytest.param(None, 2, 8, id="duration-missing"),
        pytest.param(HOUR, 0, 8, id="no-therapists"),
        pytest.param(HOUR, -1, 8, id="negative-therapists"),
        pytest.param(HOUR, True, 8, id="therapists-bool"),
        pytest.param(HOUR, 1.5, 8, id="therapists-fraction"),
        pytest.param(HOUR, "2", 8, id="therapists-text"),
        pytest.param(HOUR, 2, 0, id="group-size-zero"),
        pytest.param(HOUR, 2, False, id="group-size-bool"),
        pytest.param(HOUR, 2, None, id="group-size-missing"),
    ],
)
def test_bad_inputs_are_refused(duration, therapists, size):
    with pytest.raises(ValidationError) as refused:
        norm_hours(duration=duration, therapists=therapists, normed_group_size=size)

    assert refused.value.code == "invalid"


# --- course_hours: what the course has used and the patient received ------------------------


@pytest.mark.parametrize(
    "status,used,received",
    [
        pytest.param(AttendanceStatus.ATTENDED, "0.5", "2", id="attended-charges-and-counts"),
        pytest.param(AttendanceStatus.NO_SHOW, "0.5", "0", id="no-show-charges-the-seat"),
        pytest.param(AttendanceStatus.ABSENT_NOTICE, "0", "0", id="absent-with-notice-is-free"),
        pytest.param(AttendanceStatus.CANCELLED_BY_CLINIC, "0", "0", id="clinic-cancelled-free"),
    ],
)
def test_a_group_session_charges_the_course_by_attendance(
    clinician, ballerup_course, group, status, used, received
):
    enrolled(ballerup_course, group, by=clinician, starts_on=LAST_MONDAY)
    session = new_session(group, starts_at=at(LAST_MONDAY))
    before = course_hours(ballerup_course)
    assert (before.used, before.received) == (0, 0)

    services.record_attendance(session, ballerup_course, by=clinician, status=status)

    after = course_hours(ballerup_course)
    assert after.used == Decimal(used)
    assert after.received == Decimal(received)
    assert after.budget == Decimal(25)


def test_a_cancelled_session_costs_nothing_even_with_attendance_recorded(
    clinician, ballerup_course, group
):
    enrolled(ballerup_course, group, by=clinician, starts_on=LAST_MONDAY)
    session = new_session(group, starts_at=at(LAST_MONDAY))
    services.record_attendance(session, ballerup_course, by=clinician, status="attended")
    assert course_hours(ballerup_course).used == Decimal("0.5")

    services.cancel_session(session, by=clinician)

    hours = course_hours(ballerup_course)
    assert (hours.used, hours.received) == (0, 0)


def test_hours_add_up_over_sessions_of_different_modules(clinician, ballerup_course, group):
    skills = new_group(module="Følelsesregulering", weekday=1)  # 90 min, 2 of 8
    enrolled(ballerup_course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=2))
    enrolled(ballerup_course, skills, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=2))
    monday_1, monday_2 = (
        new_session(group, starts_at=at(LAST_MONDAY - timedelta(weeks=w))) for w in (1, 0)
    )
    tuesday = new_session(skills, starts_at=at(LAST_MONDAY + timedelta(days=1), 13))
    services.record_attendance(monday_1, ballerup_course, by=clinician, status="attended")
    services.record_attendance(monday_2, ballerup_course, by=clinician, status="no_show")
    services.record_attendance(tuesday, ballerup_course, by=clinician, status="attended")

    hours = course_hours(ballerup_course)

    assert hours.used == Decimal("0.5") + Decimal("0.5") + Decimal("0.375")
    assert hours.received == Decimal("2") + Decimal("1.5")


def test_hours_already_charged_keep_the_session_norm_when_the_group_changes(
    clinician, ballerup_course, group
):
    enrolled(ballerup_course, group, by=clinician, starts_on=LAST_MONDAY)
    session = new_session(group, starts_at=at(LAST_MONDAY))
    services.record_attendance(session, ballerup_course, by=clinician, status="attended")

    group.therapist_count = 1
    group.normed_group_size = 4
    group.save()

    assert course_hours(ballerup_course).used == Decimal("0.5")


@pytest.mark.parametrize(
    "statuses,cancelled,expected",
    [
        pytest.param([], 0, {}, id="no-sessions"),
        pytest.param(["attended"], 0, {"attended": 1}, id="one-attended"),
        pytest.param(
            ["attended", "no_show", "absent_notice", "attended"],
            0,
            {"attended": 2, "no_show": 1, "absent_notice": 1},
            id="each-status-counted",
        ),
        pytest.param(["attended", "no_show"], 1, {"no_show": 1}, id="cancelled-session-left-out"),
        pytest.param(["cancelled_by_clinic"], 0, {"cancelled_by_clinic": 1}, id="clinic-cancel"),
    ],
)
def test_the_attendance_summary_counts_the_held_sessions_by_status(
    clinician, ballerup_course, group, statuses, cancelled, expected
):
    """The course page's "Group sessions: n attended, ..." line comes with the hours: every
    status counted, 0 for a status never recorded, sessions cancelled since left out."""
    enrolled(ballerup_course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=8))
    sessions = []
    for weeks_back, status in enumerate(statuses):
        session = new_session(group, starts_at=at(LAST_MONDAY - timedelta(weeks=weeks_back)))
        services.record_attendance(session, ballerup_course, by=clinician, status=status)
        sessions.append(session)
    for session in sessions[:cancelled]:
        services.cancel_session(session, by=clinician)

    counts = course_hours(ballerup_course).attendance

    assert counts == {status: expected.get(status, 0) for status in AttendanceStatus.values}


@pytest.mark.parametrize(
    "minutes,status,used,received",
    [
        pytest.param(60, AttendanceStatus.ATTENDED, "1", "1", id="attended-hour-costs-1"),
        pytest.param(45, AttendanceStatus.ATTENDED, "0.75", "0.75", id="attended-45min"),
        pytest.param(60, AttendanceStatus.NO_SHOW, "1", "0", id="no-show-costs-the-time"),
        pytest.param(60, AttendanceStatus.ABSENT_NOTICE, "0", "0", id="absent-notice-free"),
        pytest.param(60, AttendanceStatus.CANCELLED_BY_CLINIC, "0", "0", id="clinic-cancel-free"),
    ],
)
def test_an_individual_appointment_costs_its_duration(
    clinician, ballerup_course, today, minutes, status, used, received
):
    appointment = services.book_appointment(
        ballerup_course,
        by=clinician,
        clinician=clinician,
        starts_at=at(today, 8),
        duration_minutes=minutes,
        kind=Appointment.Kind.INDIVIDUAL_THERAPY,
    )
    assert course_hours(ballerup_course).used == 0  # booked, not yet held

    services.record_appointment_attendance(appointment, by=clinician, status=status)

    hours = course_hours(ballerup_course)
    assert hours.used == Decimal(used)
    assert hours.received == Decimal(received)


# --- Projection to the planned end, and the warning levels -----------------------------------


@pytest.mark.parametrize(
    "days_in,projected",
    [
        pytest.param(0, None, id="first-day-no-pace-yet"),
        pytest.param(14, Decimal(13), id="two-weeks-in"),
        pytest.param(91, Decimal(2), id="halfway"),
        pytest.param(182, Decimal(1), id="at-the-planned-end"),
        pytest.param(300, Decimal(1), id="after-the-planned-end"),
    ],
)
def test_the_projection_extends_the_pace_to_the_planned_end(
    clinician, ballerup_course, group, time_machine, now, days_in, projected
):
    course = ballerup_course
    assert (course.planned_end - course.start).days == 182
    time_machine.move_to(now + timedelta(days=14), tick=False)
    enrolled(course, group, by=clinician, starts_on=course.start)
    first_monday = course.start + timedelta(days=(0 - course.start.weekday()) % 7)
    for week in range(2):
        session = new_session(group, starts_at=at(first_monday + timedelta(weeks=week)))
        services.record_attendance(session, course, by=clinician, status="attended")

    hours = course_hours(course, today=course.start + timedelta(days=days_in))

    assert hours.used == Decimal(1)
    assert hours.projected == projected


def test_a_discharged_course_has_no_projection(clinician, ballerup_course, today):
    discharge_course(
        ballerup_course, by=clinician, date=today, kind="other", meeting_not_held_reason="Moved."
    )
    ballerup_course.refresh_from_db()

    assert course_hours(ballerup_course, today=today + timedelta(days=30)).projected is None


@pytest.mark.parametrize(
    "used,level,percent",
    [
        pytest.param("0", "ok", 0, id="nothing-used"),
        pytest.param("19.99", "ok", 79, id="just-under-80-percent"),
        pytest.param("20", "warn", 80, id="80-percent-warns"),
        pytest.param("24.99", "warn", 99, id="almost-all"),
        pytest.param("25", "over", 100, id="budget-used-up"),
        pytest.param("31", "over", 100, id="over-budget-bar-stays-full"),
    ],
)
def test_the_budget_warns_at_80_percent_and_at_100_percent(used, level, percent):
    hours = Hours(budget=Decimal(25), used=Decimal(used), received=Decimal(0), projected=None)

    assert hours.level == level
    assert hours.percent == percent


@pytest.mark.parametrize(
    "projected,level",
    [
        pytest.param(None, "ok", id="no-projection"),
        pytest.param("19", "ok", id="on-course"),
        pytest.param("20", "warn", id="heading-for-80-percent"),
        pytest.param("25", "over", id="heading-for-the-budget"),
    ],
)
def test_the_projection_has_its_own_warning_level(projected, level):
    hours = Hours(
        budget=Decimal(25),
        used=Decimal(1),
        received=Decimal(0),
        projected=None if projected is None else Decimal(projected),
    )

    assert hours.projected_level == level
