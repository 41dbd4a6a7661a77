"""The admin's login page (/admin/login/) for someone already logged in: an admin past the
second factor goes on into the admin, anyone else who is logged in is refused."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.apu.test_two_factor import code_for

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/"
VERIFY = reverse("apu:two_factor_verify")


@pytest.fixture(autouse=True)
def as_in_production(settings, time_machine):
    """Two-factor required; the clock stands still, so a code computed here is the server's."""
    settings.REQUIRE_2FA = True
    time_machine.move_to("2026-03-02 08:00:00+00:00", tick=False)


@pytest.fixture
def device(admin_user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=admin_user, name="default", confirmed=True)


@pytest.fixture
def verified_admin(client, log_in, admin_user, device):
    """The admin logged in through the login form and the code step, as a person does."""
    assert log_in(admin_user.username).status_code == 302
    assert client.post(VERIFY, {"token": code_for(device)}).status_code == 302
    return client


def test_a_verified_admin_goes_on_to_the_admin_index(verified_admin):
    response = verified_admin.get(ADMIN_LOGIN)

    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    assert verified_admin.get(response.url).status_code == 200


def test_a_verified_admin_goes_on_to_next(verified_admin):
    target = reverse("admin:referrals_patient_changelist")

    response = verified_admin.get(ADMIN_LOGIN, {"next": target})

    assert response.url == target


@pytest.mark.parametrize(
    "target", ["https://evil.example/admin/", "//evil.example/", "javascript:x"]
)
def test_a_next_to_another_site_goes_to_the_admin_index_instead(verified_admin, target):
    response = verified_admin.get(ADMIN_LOGIN, {"next": target})

    assert response.url == reverse("admin:index")


def test_an_admin_not_yet_past_the_second_factor_is_asked_for_the_code_first(
    client, log_in, admin_user, device
):
    log_in(admin_user.username)

    asked = client.get(ADMIN_LOGIN)

    assert asked.status_code == 302
    assert asked.url == f"{VERIFY}?{urlencode({'next': ADMIN_LOGIN})}"
    verified = client.post(asked.url, {"token": code_for(device)})
    assert verified.url == ADMIN_LOGIN
    assert client.get(ADMIN_LOGIN).url == reverse("admin:index")


def test_a_logged_in_user_who_is_not_staff_is_refused(client_for, researcher):
    response = client_for(researcher).get(ADMIN_LOGIN)

    assert response.status_code == 403


def test_a_visitor_is_sent_to_the_sites_login(client):
    response = client.get(ADMIN_LOGIN)

    assert response.status_code == 302
    assert response.url == f"{reverse('apu:login')}?next=/admin/"
