"""State changes for users: the set-password e-mail and two-factor enrolment."""

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from apu.models import User

WRONG_CODE = _("The code is not correct. Check the clock on your phone and try again.")
NO_EMAIL = _("The user has no e-mail address, so no set-password e-mail was sent.")
TWO_FACTOR_REQUIRED = _(
    "Two-factor authentication is required for your role and cannot be removed."
)


def send_set_password_email(user: User, *, request: HttpRequest) -> None:
    """E-mail a new user a one-time link to choose their own password."""
    if not user.email:
        raise ValidationError(NO_EMAIL)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = request.build_absolute_uri(
        reverse("apu:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    )
    context = {"user": user, "link": link}
    # New users read Danish first; the e-mail carries both languages.
    with override("da"):
        subject = render_to_string("emails/set_password_subject.txt", context).strip()
    body = render_to_string("emails/set_password.txt", context)
    send_mail(subject, body, None, [user.email])


def totp_device_for_enrolment(user: User) -> TOTPDevice:
    """The user's unconfirmed TOTP device, created on first use, to show as a QR code."""
    device = user.totpdevice_set.filter(confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return device


@transaction.atomic
def confirm_totp_device(request: HttpRequest, *, token: str) -> TOTPDevice:
    """Confirm the enrolment with a first code from the app, and verify this session."""
    user = request.user
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None or not device.verify_token(token):
        raise ValidationError(WRONG_CODE, code="wrong_code")
    # One confirmed device per user: an older one is replaced by the new enrolment.
    user.totpdevice_set.filter(confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _verified_login(request, device)
    return device


def verify_totp(request: HttpRequest, *, token: str) -> TOTPDevice:
    """Check a code against the user's confirmed device and mark this session verified."""
    device = request.user.totpdevice_set.filter(confirmed=True).first()
    if device is None or not device.verify_is_allowed()[0] or not device.verify_token(token):
        raise ValidationError(WRONG_CODE, code="wrong_code")
    _verified_login(request, device)
    return device


def _verified_login(request: HttpRequest, device: TOTPDevice) -> None:
    # django_otp only marks the session verified; a new key as well, so a session key seen or
    # planted between the password and the code never becomes a verified session.
    otp_login(request, device)
    request.session.cycle_key()


@transaction.atomic
def remove_two_factor(request: HttpRequest, *, token: str) -> None:
    """Remove the user's TOTP device after a valid code, unless their role requires one."""
    user = request.user
    if user.needs_two_factor():
        raise ValidationError(TWO_FACTOR_REQUIRED, code="required")
    verify_totp(request, token=token)
    user.totpdevice_set.all().delete()
