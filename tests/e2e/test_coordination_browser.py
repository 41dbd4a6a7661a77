"""A Ballerup coordinator records the intake meeting's outcome in a real browser; the clinic's
course page then shows the course has left "awaiting intake meeting"."""

import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from apu.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from apu.models import User
from coordination.models import Meeting
from coordination.services import decide_and_plan, schedule_meeting
from referrals.models import Course, Decision, Referral
from referrals.services import PatientDetails, register_referral
from tests.e2e.conftest import screenshot
from tests.factories import municipality

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_users(settings, reference_data) -> None:
    settings.DEBUG = True
    settings.DEMO_PASSWORD = ""
    call_command("seed_demo", "--users-only", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.DEBUG = False
    settings.REQUIRE_2FA = False


@pytest.fixture
def intake_meeting(demo_users) -> Meeting:
    """A Ballerup citizen's accepted course (by klinik); the intake meeting was an hour ago."""
    klinik = User.objects.get(username="klinik")
    first_contact = timezone.localdate() - timedelta(days=12)
    referral = register_referral(
        patient=PatientDetails(
            cpr="0304711236", name="Birthe Browser", municipality=municipality("151")
        ),
        first_contact=first_contact,
        received=first_contact,
        referrer_kind=Referral.ReferrerKind.GP,
        diagnosis_codes=["F33.1", "F10.2"],
        in_municipal_substance_treatment=True,
        mental_severity="higher",
        substance_severity="higher",
        by=klinik,
    )
    decide_and_plan(referral, by=klinik, kind=Decision.Kind.ACCEPT)
    intake = Meeting.objects.get(course__referral=referral, kind=Meeting.Kind.INTAKE)
    schedule_meeting(
        intake,
        by=klinik,
        version=intake.version,
        scheduled_at=timezone.now() - timedelta(hours=1),
        place="Rusmiddelcentret Ballerup",
    )
    assert intake.course.status == Course.Status.AWAITING_INTAKE
    return intake


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEFAULT_DEMO_PASSWORD)
    page.locator("form:has(#id_username) button[type=submit]").click()
    page.wait_for_url("**/")


def log_out(page) -> None:
    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url("**/login/")


def test_coordinator_records_the_intake_outcome_and_the_course_starts(page, intake_meeting):
    meeting_url = f"/meetings/{intake_meeting.pk}/"
    course_url = f"/courses/{intake_meeting.course_id}/"

    log_in(page, "koordinator-ballerup")
    page.goto("/meetings/")
    waiting = page.locator("section[aria-labelledby=outcome-heading]")
    expect(waiting).to_contain_text("Birthe Browser")
    screenshot(page, "coordination-worklist-ballerup")
    waiting.locator(f"a[href='{meeting_url}']").click()
    page.wait_for_url(f"**{meeting_url}")
    expect(page.locator("h1")).to_contain_text("Birthe Browser")

    page.locator(f"a[href='{meeting_url}outcome/']").click()
    page.wait_for_url(f"**{meeting_url}outcome/")
    page.locator("#id_status_0").check()  # held
    page.locator("#id_patient_present_1").check()  # yes
    page.locator("#id_summary").fill(
        "Behandlingsplanen og handleplanen er holdt op mod hinanden; borgeren starter i gruppe."
    )
    page.locator("#id_action_plan_status_1").check()  # exists
    page.locator("#id_actions-0-what").fill("Opfølgende samtale i rusmiddelcentret")
    page.locator("#id_actions-0-responsible").select_option("municipality")
    page.locator("#id_actions-0-person").fill("Kim")
    page.locator("#id_actions-1-what").fill("Føre alkoholdagbog til næste møde")
    page.locator("#id_actions-1-responsible").select_option("patient")
    screenshot(page, "coordination-outcome-form")
    page.locator("form.outcome-form button[type=submit]").click()

    page.wait_for_url(f"**{meeting_url}")
    actions = page.locator("section[aria-labelledby=actions-heading] tbody")
    expect(actions).to_contain_text("Opfølgende samtale i rusmiddelcentret")
    expect(actions).to_contain_text("Føre alkoholdagbog til næste møde")
    expect(page.locator("dl.facts").first).to_contain_text("Afholdt")
    screenshot(page, "coordination-meeting-held")
    log_out(page)

    log_in(page, "klinik")
    page.goto(course_url)
    status = page.locator("#course-status")
    expect(status).to_have_text("I behandling")
    expect(status).not_to_have_text("Afventer indsatsmøde")
    screenshot(page, "coordination-course-in-treatment")
    assert Course.objects.get(pk=intake_meeting.course_id).status == Course.Status.IN_TREATMENT
    assert Meeting.objects.get(pk=intake_meeting.pk).actions.count() == 2
