"""Two-factor authentication (TOTP) for everyone who sees patient data."""

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

SETUP = "/account/2fa/setup/"
VERIFY = "/account/2fa/verify/"
QR = "/account/2fa/qr.svg"
WRONG_CODE_MESSAGE = "Koden er ikke korrekt"


@pytest.fixture
def two_factor_required(settings):
    settings.REQUIRE_2FA = True


@pytest.fixture
def frozen(time_machine):
    """Time stands still, so a code computed here is the code the server expects."""
    time_machine.move_to(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False)
    return time_machine


def code_for(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows right now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    return f"{(int(code_for(device)) + 500_000) % 1_000_000:06d}"


def guarded(path: str, page: str) -> str:
    return f"{page}?{urlencode({'next': path})}"


def enrolling_device(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=False)


@pytest.fixture
def enrolled(clinician) -> TOTPDevice:
    return TOTPDevice.objects.create(user=clinician, name="default", confirmed=True)


@pytest.mark.usefixtures("two_factor_required")
@pytest.mark.parametrize(
    "persona,first_page",
    [
        ("clinician", SETUP),
        ("coordinator_ballerup", SETUP),
        ("admin_user", SETUP),
        ("researcher", None),  # sees no patient data, so may log in with a password alone
    ],
)
def test_who_must_enrol_before_reaching_home(request, client, log_in, persona, first_page):
    user = request.getfixturevalue(persona)

    assert log_in(user.username).url == "/"
    response = client.get("/")

    if first_page:
        assert response.status_code == 302
        assert response.url == guarded("/", first_page)
    else:
        assert response.status_code == 200


@pytest.mark.usefixtures("two_factor_required")
def test_an_unenrolled_clinician_is_kept_out_of_the_admin_and_account_pages(
    client, log_in, clinician
):
    log_in("clinician")

    for path in ["/account/", "/admin/", "/account/password/"]:
        response = client.get(path)
        assert (response.status_code, response.url) == (302, guarded(path, SETUP))


@pytest.mark.usefixtures("two_factor_required")
def test_the_setup_page_shows_a_qr_code_for_a_new_device(client, log_in, clinician):
    log_in("clinician")
    assert not TOTPDevice.objects.filter(user=clinician).exists()

    page = client.get(SETUP)
    qr = client.get(QR)

    assert page.status_code == 200
    assert f'src="{QR}"' in page.content.decode()
    device = enrolling_device(clinician)
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content
    # The QR code and the typed-in key are for the same device, however often they are shown.
    assert client.get(SETUP).context["secret"].replace(" ", "") in device.config_url
    assert TOTPDevice.objects.filter(user=clinician).count() == 1


@pytest.mark.usefixtures("two_factor_required")
def test_a_wrong_code_does_not_confirm_and_the_right_one_does(client, log_in, clinician, frozen):
    log_in("clinician")
    client.get(SETUP)
    device = enrolling_device(clinician)

    wrong = client.post(SETUP, {"token": wrong_code_for(device), "next": "/"})

    assert wrong.status_code == 200
    assert WRONG_CODE_MESSAGE in str(wrong.context["form"].errors["token"])
    device.refresh_from_db()
    assert device.confirmed is False
    assert client.get("/").url == guarded("/", SETUP)

    # After a wrong code django-otp makes the next try wait a moment.
    frozen.shift(timedelta(seconds=30))
    right = client.post(SETUP, {"token": code_for(device), "next": "/"})

    assert (right.status_code, right.url) == (302, "/")
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/").status_code == 200


@pytest.mark.usefixtures("two_factor_required")
def test_a_code_that_is_not_six_digits_is_refused(client, log_in, clinician):
    log_in("clinician")
    client.get(SETUP)

    response = client.post(SETUP, {"token": "12ab56"})

    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert enrolling_device(clinician).confirmed is False


@pytest.mark.usefixtures("two_factor_required")
def test_an_enrolled_user_must_give_a_code_at_each_login(client, log_in, enrolled, frozen):
    log_in("clinician")

    assert client.get("/").url == guarded("/", VERIFY)
    wrong = client.post(VERIFY, {"token": wrong_code_for(enrolled), "next": "/"})
    assert WRONG_CODE_MESSAGE in str(wrong.context["form"].errors["token"])
    assert client.get("/").url == guarded("/", VERIFY)

    frozen.shift(timedelta(seconds=30))
    right = client.post(VERIFY, {"token": code_for(enrolled), "next": "/"})

    assert (right.status_code, right.url) == (302, "/")
    assert client.get("/").status_code == 200


@pytest.mark.usefixtures("without_two_factor")
def test_an_enrolled_user_gives_a_code_even_when_two_factor_is_not_required(
    client, log_in, enrolled
):
    log_in("clinician")

    assert client.get("/").url == guarded("/", VERIFY)


@pytest.mark.usefixtures("two_factor_required")
def test_a_code_cannot_be_used_twice(client, log_in, enrolled, frozen):
    log_in("clinician")
    code = code_for(enrolled)
    assert client.post(VERIFY, {"token": code}).status_code == 302

    client.post("/logout/")
    log_in("clinician")
    replay = client.post(VERIFY, {"token": code})

    assert replay.status_code == 200
    assert client.get("/").url == guarded("/", VERIFY)


@pytest.mark.usefixtures("two_factor_required")
def test_a_password_alone_cannot_replace_the_enrolled_device(client, log_in, enrolled):
    log_in("clinician")

    # Someone who knows only the password must not enrol a phone of their own.
    for path in [SETUP, QR]:
        response = client.get(path)
        assert (response.status_code, response.url) == (302, guarded(path, VERIFY))

    assert list(TOTPDevice.objects.filter(user=enrolled.user)) == [enrolled]


@pytest.mark.usefixtures("two_factor_required")
def test_a_verified_user_can_move_two_factor_to_a_new_phone(client, log_in, enrolled, frozen):
    log_in("clinician")
    client.post(VERIFY, {"token": code_for(enrolled)})

    assert client.get(SETUP).status_code == 200
    new_phone = enrolling_device(enrolled.user)
    frozen.shift(timedelta(seconds=30))
    response = client.post(SETUP, {"token": code_for(new_phone), "next": "/account/"})

    assert (response.status_code, response.url) == (302, "/account/")
    assert list(TOTPDevice.objects.filter(user=enrolled.user)) == [new_phone]


@pytest.mark.usefixtures("without_two_factor")
def test_without_the_requirement_a_clinician_reaches_home_with_a_password(
    client, log_in, clinician
):
    assert log_in("clinician").url == "/"

    response = client.get("/")

    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=clinician).exists()
