"""A clinician registers a referral in a real browser, watches the live screening, accepts it."""

import os
import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from apu.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from referrals.cpr import modulus11_ok
from referrals.deadlines import intake_meeting_due
from referrals.models import Course, Referral
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PREVIEW = "#screening-preview"
OUTCOME = f"{PREVIEW} .screening-outcome"


@pytest.fixture
def clinic_user(settings, reference_data) -> str:
    settings.DEBUG = True
    settings.DEMO_PASSWORD = ""
    call_command("seed_demo", "--users-only", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.DEBUG = False
    settings.REQUIRE_2FA = False
    return "klinik"


def made_up_cpr(age: int) -> str:
    """A valid (modulus-11) CPR number, DDMMYY-SSSS, of someone ``age`` years old today."""
    born = date(timezone.localdate().year - age, 1, 2)
    assert 1900 <= born.year <= 1999
    for serial in range(4000):  # serials below 4000 mean a 1900s birth
        digits = f"{born:%d%m%y}{serial:04d}"
        if modulus11_ok(digits):
            return f"{digits[:6]}-{digits[6:]}"
    raise AssertionError("no valid serial")  # pragma: no cover


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEFAULT_DEMO_PASSWORD)
    page.locator("form:has(#id_username) button[type=submit]").click()
    page.wait_for_url("**/")


def blur(page, selector: str, value: str) -> None:
    """Type into a field and leave it, as a person does; leaving fires the change event."""
    page.locator(selector).fill(value)
    page.locator(selector).press("Tab")


def test_clinician_registers_screens_and_accepts_a_referral(page, clinic_user):
    first_contact = timezone.localdate() - timedelta(days=4)
    assert not Referral.objects.exists()
    log_in(page, clinic_user)

    page.goto("/referrals/")
    page.locator("a[href='/referrals/new/']").first.click()
    page.wait_for_url("**/referrals/new/")
    preview = page.locator(PREVIEW)
    expect(preview).to_be_visible()
    expect(page.locator(OUTCOME)).to_have_count(0)

    # The CPR alone: the preview lists what is still missing before it can screen.
    blur(page, "#id_cpr", made_up_cpr(30))
    expect(preview.locator("li")).not_to_have_count(0)
    expect(page.locator(OUTCOME)).to_have_count(0)
    screenshot(page, "referral-new-missing-fields")

    blur(page, "#id_name", "Test Testesen")
    page.locator("#id_municipality").select_option(label="Ballerup")
    page.locator("#id_first_contact").fill(first_contact.isoformat())
    page.locator("#id_first_contact").press("Tab")
    blur(page, "#id_diagnosis_1", "DF321")
    blur(page, "#id_diagnosis_2", "DF102")
    page.locator("#id_in_municipal_substance_treatment_0").check()  # yes

    # Every criterion met: eligible, with the criteria listed one by one.
    expect(page.locator(f"{OUTCOME} .badge-ok")).to_be_visible()
    expect(preview.locator("li")).to_have_count(0)
    expect(preview.locator("tr.criterion-pass")).to_have_count(8)
    screenshot(page, "referral-new-eligible")

    page.locator("#id_in_municipal_substance_treatment_1").check()  # no
    expect(page.locator(f"{OUTCOME} .badge-danger")).to_be_visible()
    expect(preview.locator("tr.criterion-fail")).to_have_count(1)
    screenshot(page, "referral-new-not-eligible")

    page.locator("#id_in_municipal_substance_treatment_0").check()  # yes again
    expect(page.locator(f"{OUTCOME} .badge-ok")).to_be_visible()
    expect(preview.locator("tr.criterion-fail")).to_have_count(0)

    page.locator("#id_mental_severity_1").check()  # higher
    page.locator("#id_substance_severity_1").check()  # higher
    assert not Referral.objects.exists()  # the preview saved nothing
    page.locator("#referral-form button[type=submit]").click()

    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    referral = Referral.objects.get()
    assert referral.status == Referral.Status.SCREENED
    assert page.url.endswith(f"/referrals/{referral.pk}/")
    expect(page.locator("h1")).to_contain_text("Test Testesen")
    expect(page.locator(".criteria tr.criterion-pass")).to_have_count(8)
    screenshot(page, "referral-detail")

    page.locator("#id_kind_0").check()  # accept
    page.locator(f"form[action='/referrals/{referral.pk}/decide/'] button[type=submit]").click()

    page.wait_for_url(re.compile(r"/courses/\d+/$"))
    course = Course.objects.get()
    assert page.url.endswith(f"/courses/{course.pk}/")
    assert course.referral == referral
    due = intake_meeting_due(first_contact)
    assert course.intake_meeting_due == due
    expect(page.locator(f"time[datetime='{due:%Y-%m-%d}']").first).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"{due:%d.%m.%Y}")
    screenshot(page, "course-after-accept")
