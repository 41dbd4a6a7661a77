"""A clinician enters a PHQ-9 in a real browser: the item-9 warning shows as soon as the
answer is chosen, the course page warns after saving and its chart gains the new point; then
the Lean dashboard. Screenshots of both for a person to look at."""

import os

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from playwright.sync_api import expect

from apu.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from apu.models import User
from evaluation.models import Measurement
from evaluation.services import record_measurement
from evaluation.views import ITEM9_WARNING
from tests.e2e.conftest import screenshot
from tests.modules.factories import new_course

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHQ9_CHART = "svg.score-chart[aria-label='PHQ-9']"
# Items 1-8 as chosen below (2, 1, 2, 1 by keyboard; 2, 1, 2, 1 by clicks), item 9 = 1.
ITEMS_1_TO_8 = [2, 1, 2, 1, 2, 1, 2, 1]


@pytest.fixture
def klinik(settings, reference_data) -> User:
    settings.DEBUG = True
    settings.DEMO_PASSWORD = ""
    call_command("seed_demo", "--users-only", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.DEBUG = False
    settings.REQUIRE_2FA = False
    return User.objects.get(username="klinik")


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEFAULT_DEMO_PASSWORD)
    page.locator("form:has(#id_username) button[type=submit]").click()
    page.wait_for_url("**/")


def test_clinician_enters_a_phq9_sees_the_item9_warning_and_the_new_point(page, klinik):
    course = new_course(klinik, name="Bente Ballerup")  # in treatment: intake meeting held
    record_measurement(
        course,
        by=klinik,
        instrument="PHQ-9",
        point=Measurement.Point.BASELINE,
        answered_on=course.referral.first_contact,
        answers=[3, 2, 2, 2, 2, 2, 2, 1, 0],
    )
    log_in(page, "klinik")

    page.goto(f"/courses/{course.pk}/")
    expect(page.locator(f"{PHQ9_CHART} circle")).to_have_count(1)
    page.locator("section[aria-labelledby=outcomes-heading]").get_by_role(
        "link", name="PHQ-9", exact=True
    ).click()
    page.wait_for_url(f"**/courses/{course.pk}/measurements/PHQ-9/")

    page.locator("#id_point").select_option("midpoint")
    # Items 1-4 with the keyboard: Space picks 0, each arrow the next answer.
    for number, value in enumerate(ITEMS_1_TO_8[:4], start=1):
        page.locator(f"#id_item_{number}_0").focus()
        page.keyboard.press("Space")
        for _step in range(value):
            page.keyboard.press("ArrowRight")
        expect(page.locator(f"#id_item_{number}_{value}")).to_be_checked()
    # Items 5-8 with clicks on the answer's label.
    for number, value in enumerate(ITEMS_1_TO_8[4:], start=5):
        page.locator(f"label[for=id_item_{number}_{value}]").click()
        expect(page.locator(f"#id_item_{number}_{value}")).to_be_checked()

    warning = page.locator("#item9-warning")
    page.locator("#id_item_9_0").focus()
    page.keyboard.press("Space")
    expect(warning).to_be_hidden()  # 0 on item 9: no warning
    page.keyboard.press("ArrowRight")
    expect(page.locator("#id_item_9_1")).to_be_checked()
    expect(warning).to_be_visible()  # before anything is saved
    assert Measurement.objects.filter(course=course).count() == 1
    screenshot(page, "evaluation-phq9-item9-warning")

    page.locator("form.measurement-form button[type=submit]").click()
    page.wait_for_url(f"**/courses/{course.pk}/")

    with translation.override("da"):
        alert_text = str(ITEM9_WARNING)
    expect(page.locator(".messages [role=alert]")).to_have_text(alert_text)
    expect(page.locator(f"{PHQ9_CHART} circle")).to_have_count(2)
    saved = Measurement.objects.get(course=course, point=Measurement.Point.MIDPOINT)
    assert (saved.total, saved.flags, saved.answered_on, saved.entered_by) == (
        sum(ITEMS_1_TO_8) + 1,
        ["item9_positive"],
        timezone.localdate(),
        klinik,
    )
    assert list(saved.answers.values_list("value", flat=True)) == [*ITEMS_1_TO_8, 1]
    screenshot(page, "evaluation-course")

    page.goto("/dashboard/")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator(".run-chart-box")).to_have_count(8)
    # This month's new course is on the courses-started chart.
    expect(page.locator("svg.run-chart").first.locator("circle")).to_have_count(1)
    screenshot(page, "evaluation-dashboard")
