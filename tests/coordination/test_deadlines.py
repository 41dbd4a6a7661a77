"""When the coordination meetings are due: intake three weeks after first contact, midpoint
halfway (rounded down), discharge on the planned end; shown with days left and ISO week."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from coordination.deadlines import BAD_PERIOD, discharge_meeting_due, midpoint_meeting_due
from coordination.models import Meeting
from referrals.deadlines import intake_meeting_due
from referrals.models import Course
from tests.coordination.factories import accepted_course, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

# --- Midpoint and discharge: pure rules ------------------------------------------------------

MIDPOINT_CASES = [
    pytest.param(date(2026, 1, 1), date(2026, 1, 31), date(2026, 1, 16), id="30-days-even"),
    pytest.param(date(2026, 1, 1), date(2026, 2, 1), date(2026, 1, 16), id="31-days-odd-down"),
    pytest.param(date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 1), id="1-day-start-itself"),
    pytest.param(date(2026, 1, 1), date(2026, 1, 3), date(2026, 1, 2), id="2-days"),
    pytest.param(date(2026, 1, 31), date(2026, 3, 31), date(2026, 3, 1), id="month-ends-59-days"),
    pytest.param(date(2025, 11, 30), date(2026, 1, 31), date(2025, 12, 31), id="across-new-year"),
    pytest.param(date(2024, 2, 1), date(2024, 3, 31), date(2024, 3, 1), id="leap-february-59"),
    pytest.param(date(2025, 2, 1), date(2025, 3, 31), date(2025, 3, 2), id="plain-february-58"),
    pytest.param(date(2024, 2, 28), date(2024, 3, 1), date(2024, 2, 29), id="lands-on-leap-day"),
    pytest.param(date(2025, 2, 28), date(2025, 3, 1), date(2025, 2, 28), id="no-leap-day-1-day"),
    pytest.param(date(2024, 1, 31), date(2024, 3, 31), date(2024, 3, 1), id="leap-60-days-even"),
    pytest.param(date(2025, 12, 3), date(2026, 6, 3), date(2026, 3, 4), id="26-week-course"),
]


@pytest.mark.parametrize("start,planned_end,due", MIDPOINT_CASES)
def test_midpoint_is_halfway_in_whole_days_rounded_down(start, planned_end, due):
    assert midpoint_meeting_due(start=start, planned_end=planned_end) == due


DISCHARGE_CASES = [
    pytest.param(date(2026, 1, 1), date(2026, 7, 2), id="26-weeks"),
    pytest.param(date(2026, 1, 31), date(2026, 2, 28), id="month-end"),
    pytest.param(date(2023, 8, 31), date(2024, 2, 29), id="leap-day"),
    pytest.param(date(2025, 12, 31), date(2026, 1, 1), id="new-year"),
]


@pytest.mark.parametrize("start,planned_end", DISCHARGE_CASES)
def test_discharge_is_due_on_the_planned_end(start, planned_end):
    assert discharge_meeting_due(start=start, planned_end=planned_end) == planned_end


BAD_PERIODS = [
    pytest.param(date(2026, 1, 1), date(2026, 1, 1), id="same-day"),
    pytest.param(date(2026, 1, 2), date(2026, 1, 1), id="end-before-start"),
    pytest.param(datetime(2026, 1, 1, 9, tzinfo=UTC), date(2026, 7, 1), id="start-datetime"),
    pytest.param(date(2026, 1, 1), datetime(2026, 7, 1, 9, tzinfo=UTC), id="end-datetime"),
    pytest.param("2026-01-01", date(2026, 7, 1), id="start-text"),
    pytest.param(date(2026, 1, 1), None, id="end-missing"),
]


@pytest.mark.parametrize("rule", [midpoint_meeting_due, discharge_meeting_due])
@pytest.mark.parametrize("start,planned_end", BAD_PERIODS)
def test_a_period_that_is_not_two_ordered_dates_is_refused(rule, start, planned_end):
    with pytest.raises(ValidationError) as excinfo:
        rule(start=start, planned_end=planned_end)
    assert excinfo.value.code == "bad_period"
    assert excinfo.value.message == BAD_PERIOD


# --- Intake: first contact + 21 days, and as the pages show it ------------------------------


def test_accepting_plans_the_intake_meeting_21_days_after_first_contact(clinician, now):
    first_contact = date(2025, 11, 12)
    course = accepted_course(clinician, first_contact=first_contact)
    intake = course.meetings.get(kind=Meeting.Kind.INTAKE)

    assert intake_meeting_due(first_contact) == date(2025, 12, 3)
    assert course.intake_meeting_due == date(2025, 12, 3)
    assert intake.due_date == date(2025, 12, 3)


def section(html: str, heading_id: str) -> str:
    """The HTML of the worklist section labelled by ``heading_id``."""
    match = re.search(
        rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html, flags=re.DOTALL
    )
    assert match, heading_id
    return match.group(1)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# The first contact on Wednesday 12 November 2025: the intake meeting is due Wednesday
# 3 December 2025, ISO week 49. The clinic's day moves; the deadline does not.
FIRST_CONTACT = date(2025, 11, 12)
INTAKE_CLOCK = [
    pytest.param(20, "soon-heading", "om 1 dag", "in 1 day", id="day-20-due-tomorrow"),
    pytest.param(21, "soon-heading", "frist i dag", "due today", id="day-21-on-time"),
    pytest.param(22, "overdue-heading", "1 dag over fristen", "1 day overdue", id="day-22-late"),
    pytest.param(30, "overdue-heading", "9 dage over fristen", "9 days overdue", id="day-30-late"),
]


@pytest.mark.parametrize("days,listed_under,danish,english", INTAKE_CLOCK)
def test_the_worklist_shows_the_intake_deadline_with_its_iso_week(
    client_for, clinician, time_machine, days, listed_under, danish, english
):
    # The referral is accepted on the day of first contact; then the clinic's days pass.
    time_machine.move_to(at(FIRST_CONTACT, 9, 30), tick=False)
    course = accepted_course(clinician, name="Ida Indsats", first_contact=FIRST_CONTACT)
    time_machine.move_to(at(FIRST_CONTACT + timedelta(days=days), 9, 30), tick=False)
    client = client_for(clinician)

    page = client.get(reverse("coordination:worklist")).content.decode()

    other = "overdue-heading" if listed_under == "soon-heading" else "soon-heading"
    listed = text(section(page, listed_under))
    assert "Ida Indsats" in listed
    assert "Ida Indsats" not in text(section(page, other))
    assert danish in listed
    assert "03.12.2025 · uge 49" in listed

    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("coordination:worklist")).content.decode()
    listed = text(section(page, listed_under))
    assert english in listed
    assert "03.12.2025 · week 49" in listed
    assert course.status == Course.Status.AWAITING_INTAKE


@pytest.mark.parametrize("days,listed_under,danish,english", INTAKE_CLOCK)
def test_the_course_page_shows_the_intake_deadline_with_its_iso_week(
    client_for, clinician, time_machine, days, listed_under, danish, english
):
    time_machine.move_to(at(FIRST_CONTACT, 9, 30), tick=False)
    course = accepted_course(clinician, name="Ida Indsats", first_contact=FIRST_CONTACT)
    time_machine.move_to(at(FIRST_CONTACT + timedelta(days=days), 9, 30), tick=False)
    client = client_for(clinician)

    page = text(client.get(reverse("course_detail", args=[course.pk])).content.decode())

    assert f"{danish} 03.12.2025 · uge 49" in page
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(client.get(reverse("course_detail", args=[course.pk])).content.decode())
    assert f"{english} 03.12.2025 · week 49" in page
