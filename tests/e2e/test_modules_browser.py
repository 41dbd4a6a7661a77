"""A clinician opens today's group session in a real browser, taps attendance for every
participant without a page reload, and sees the course's norm-hours bar move."""

import os
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from apu.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from apu.models import User
from modules.models import Attendance, AttendanceStatus
from tests.e2e.conftest import screenshot
from tests.modules.factories import enrolled, new_course, new_group, new_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def klinik(settings, reference_data) -> User:
    """The demo clinician, logging in with the demo password."""
    settings.DEBUG = True
    settings.DEMO_PASSWORD = ""
    call_command("seed_demo", "--users-only", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.DEBUG = False
    settings.REQUIRE_2FA = False
    return User.objects.get(username="klinik")


@pytest.fixture
def todays_session(klinik):
    """A behavioural-activation session that started this hour, led by klinik, with two
    courses in treatment enrolled in its group."""
    now = timezone.localtime()
    today = now.date()
    group = new_group(
        name="Adfærdsaktivering i dag",
        weekday=today.weekday(),
        therapists=(klinik,),
        starts_on=today - timedelta(weeks=4),
    )
    session = new_session(group, starts_at=now.replace(minute=0, second=0, microsecond=0))
    courses = [new_course(klinik, name=name) for name in ("Anna Andersen", "Bo Berg")]
    for course in courses:
        enrolled(course, group, by=klinik, starts_on=today - timedelta(weeks=1))
    return session, courses


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEFAULT_DEMO_PASSWORD)
    page.locator("form:has(#id_username) button[type=submit]").click()
    page.wait_for_url("**/")


def norm_hours_bar(page) -> float:
    """The value the browser reads from the hours bar (an unparsable value reads as 0)."""
    return page.locator("progress#norm-hours").evaluate("el => el.value")


def test_clinician_marks_todays_attendance_and_the_hours_bar_moves(page, klinik, todays_session):
    session, courses = todays_session
    log_in(page, klinik.username)

    page.goto(reverse("course_detail", args=[courses[0].pk]))
    before = norm_hours_bar(page)
    assert before == 0
    screenshot(page, "modules-course-before")

    page.goto(reverse("modules:today"))
    attendance_url = reverse("modules:session_attendance", args=[session.pk])
    page.locator(f"a[href='{attendance_url}']").first.click()
    page.wait_for_url(f"**{attendance_url}")
    expect(page.locator("li.attendance-row")).to_have_count(2)
    screenshot(page, "modules-attendance-before")

    # A full page load would wipe this; an htmx swap of one row keeps it.
    page.evaluate("window.marker = 1")
    for course in courses:
        button = page.locator(f"#participant-{course.pk} button.tap-attended")
        expect(button).to_have_attribute("aria-pressed", "false")
        button.click()
        expect(page.locator(f"#participant-{course.pk} button.tap-attended")).to_have_attribute(
            "aria-pressed", "true"
        )
        assert page.evaluate("window.marker") == 1
    screenshot(page, "modules-attendance-tapped")

    assert sorted(Attendance.objects.values_list("course_id", "status")) == [
        (course.pk, AttendanceStatus.ATTENDED) for course in courses
    ]
    assert page.evaluate("window.marker") == 1
    assert re.search(rf"{attendance_url}$", page.url)

    page.goto(reverse("course_detail", args=[courses[0].pk]))
    after = norm_hours_bar(page)
    assert after > before
    assert after == 0.5  # two hours, two therapists, normed group of eight
    expect(page.locator("#norm-hours")).to_have_attribute("value", "0.50")
    screenshot(page, "modules-course-after")


def test_a_tap_refused_as_stale_shows_the_saved_status_and_the_next_tap_goes_through(
    page, klinik, todays_session
):
    from modules import services

    session, courses = todays_session
    course = courses[0]
    log_in(page, klinik.username)
    page.goto(reverse("modules:session_attendance", args=[session.pk]))
    row = f"#participant-{course.pk}"
    expect(page.locator(f"{row} button.tap-attended")).to_have_attribute("aria-pressed", "false")
    # A colleague records a no-show after this page was shown.
    services.record_attendance(session, course, by=klinik, status=AttendanceStatus.NO_SHOW)

    page.evaluate("window.marker = 1")
    page.locator(f"{row} button.tap-attended").click()

    # The row is swapped in place with the colleague's record and the reason.
    expect(page.locator(f"{row} [role=alert]")).to_be_visible()
    expect(page.locator(f"{row} button.tap-no_show")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"{row} button.tap-attended")).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("window.marker") == 1
    assert Attendance.objects.get(session=session, course=course).status == AttendanceStatus.NO_SHOW
    screenshot(page, "modules-attendance-stale-tap")

    # Having seen it, the clinician taps again: the row now carries the saved record.
    page.locator(f"{row} button.tap-attended").click()
    expect(page.locator(f"{row} button.tap-attended")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"{row} [role=alert]")).to_have_count(0)
    assert (
        Attendance.objects.get(session=session, course=course).status == AttendanceStatus.ATTENDED
    )
