"""Logging in through the form, the role's navigation, and the lock after five failed logins."""

from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

PERSONAS = ["clinician", "coordinator_ballerup", "researcher", "admin_user"]


def logged_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_role_logs_in_through_the_form_and_lands_on_home(request, client, log_in, persona):
    user = request.getfixturevalue(persona)
    assert logged_in_user_id(client) is None

    response = log_in(user.username)

    assert response.status_code == 302
    assert response.url == "/"
    assert logged_in_user_id(client) == str(user.pk)
    home = client.get(response.url)
    assert home.status_code == 200
    assert "apu/home.html" in [template.name for template in home.templates]


@pytest.mark.parametrize(
    "persona,sees_admin_link,shown,not_shown",
    [
        ("clinician", False, "Kliniker", None),
        ("researcher", False, "Forsker", None),
        ("coordinator_ballerup", False, "Ballerup", "Gladsaxe"),
        ("coordinator_gladsaxe", False, "Gladsaxe", "Ballerup"),
        ("admin_user", True, "Administrator", None),
    ],
)
def test_home_shows_the_navigation_of_the_role(
    request, client, log_in, persona, sees_admin_link, shown, not_shown
):
    user = request.getfixturevalue(persona)
    log_in(user.username)

    home = client.get("/")

    nav_urls = [entry["url"] for entry in home.context["nav_entries"]]
    assert nav_urls[0] == "/"
    assert ("/admin/" in nav_urls) is sees_admin_link
    page = home.content.decode()
    assert ('href="/admin/"' in page) is sees_admin_link
    assert shown in page
    if not_shown:
        assert not_shown not in page


def test_a_wrong_password_shows_the_form_again_and_logs_nobody_in(client, log_in, clinician):
    response = log_in("clinician", "not-the-password")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert logged_in_user_id(client) is None


@pytest.fixture
def frozen_now(time_machine):
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    return time_machine


def fail_to_log_in(log_in, username: str, times: int) -> list[int]:
    return [log_in(username, "not-the-password").status_code for _ in range(times)]


def test_five_failed_logins_lock_the_account_even_against_the_right_password(
    client, log_in, clinician, frozen_now
):
    assert fail_to_log_in(log_in, "clinician", 4) == [200, 200, 200, 200]
    assert AccessAttempt.objects.get(username="clinician").failures_since_start == 4

    # The fifth failure locks the account at once.
    assert fail_to_log_in(log_in, "clinician", 1) == [429]

    response = log_in("clinician")
    assert response.status_code == 429
    assert "registration/locked_out.html" in [template.name for template in response.templates]
    assert "Kontoen er låst" in response.content.decode()
    assert logged_in_user_id(client) is None


def test_a_locked_account_does_not_lock_anyone_else(log_in, clinician, researcher, frozen_now):
    fail_to_log_in(log_in, "clinician", 5)
    assert log_in("clinician").status_code == 429

    other = Client()
    response = log_in("researcher", via=other)

    assert response.status_code == 302
    assert other.session["_auth_user_id"] == str(researcher.pk)


def test_the_lock_lifts_after_the_cool_off_time(client, log_in, clinician, frozen_now):
    fail_to_log_in(log_in, "clinician", 5)
    assert logged_in_user_id(client) is None

    frozen_now.shift(django_settings.AXES_COOLOFF_TIME + timedelta(minutes=1))
    response = log_in("clinician")

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(clinician.pk)


def test_trying_again_while_locked_starts_the_cool_off_again(log_in, clinician, frozen_now):
    # django-axes' default (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT): someone who keeps
    # guessing keeps the account locked.
    cool_off = django_settings.AXES_COOLOFF_TIME
    fail_to_log_in(log_in, "clinician", 5)

    frozen_now.shift(cool_off - timedelta(minutes=1))
    assert log_in("clinician").status_code == 429

    frozen_now.shift(timedelta(minutes=2))
    assert log_in("clinician").status_code == 429

    frozen_now.shift(cool_off + timedelta(minutes=1))
    assert log_in("clinician").status_code == 302


def test_a_successful_login_forgets_earlier_failures(log_in, clinician, frozen_now):
    fail_to_log_in(log_in, "clinician", 4)
    assert AccessAttempt.objects.filter(username="clinician").exists()

    assert log_in("clinician").status_code == 302

    assert not AccessAttempt.objects.filter(username="clinician").exists()
