"""Referrals for page tests, made through the real services (register, screen, decide)."""

import itertools
from datetime import date, timedelta

from django.db import models
from django.utils import timezone

from apu.models import User
from apu.versioning import fingerprint
from referrals import services
from referrals.cpr import modulus11_ok
from referrals.models import Decision, Referral
from tests.factories import municipality

# Every made-up CPR number is new, so each referral brings its own patient unless told.
_serials = itertools.count()


def valid_cpr(born: date = date(1994, 5, 17)) -> str:
    """A fresh made-up CPR number (DDMMYYSSSS) for ``born`` in the 1900s, passing modulus 11."""
    assert 1900 <= born.year <= 1999, "serials 0000-3999 mean a 1900s birth"
    prefix = born.strftime("%d%m%y")
    # Serials below 4000 put the birth in the 1900s (the CPR office's century table).
    for serial in itertools.islice(_serials, 4000):
        digits = f"{prefix}{serial % 4000:04d}"
        if modulus11_ok(digits):
            return digits
    raise AssertionError("no modulus-11 serial left")  # pragma: no cover


def cpr_failing_modulus11(born: date = date(1994, 5, 17)) -> str:
    """A well-formed CPR number whose check digit is wrong (issued since 2007, say)."""
    digits = valid_cpr(born)
    last = (int(digits[-1]) + 1) % 10
    candidate = f"{digits[:-1]}{last}"
    assert not modulus11_ok(candidate)
    return candidate


def days_ago(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)


def register(
    by: User,
    *,
    cpr: str | None = None,
    name: str = "Mette Testesen",
    municipality_code: str = "151",
    codes: tuple[str, ...] = ("F32.1", "F10.2"),
    first_contact: date | None = None,
    in_municipal_substance_treatment: bool = True,
    reason: str = "",
    axes: tuple[str, str] | None = ("higher", "higher"),
) -> Referral:
    """Register (and so screen) a referral; with ``axes`` the screening is complete."""
    first_contact = first_contact or days_ago(3)
    mental, substance = axes or ("", "")
    return services.register_referral(
        patient=services.PatientDetails(
            cpr=cpr or valid_cpr(), name=name, municipality=municipality(municipality_code)
        ),
        first_contact=first_contact,
        received=first_contact,
        referrer_kind=Referral.ReferrerKind.GP,
        referrer_name="Dr. Hansen",
        diagnosis_codes=list(codes),
        in_municipal_substance_treatment=in_municipal_substance_treatment,
        reason=reason,
        mental_severity=mental,
        substance_severity=substance,
        by=by,
    )


def accept(referral: Referral, by: User) -> Referral:
    """Accept ``referral`` (opens its course); returns it fresh from the database."""
    services.decide_referral(referral, by=by, kind=Decision.Kind.ACCEPT)
    return Referral.objects.select_related("course", "patient").get(pk=referral.pk)


def reject(referral: Referral, by: User, reason: str = "Not in municipal treatment.") -> Referral:
    services.decide_referral(referral, by=by, kind=Decision.Kind.REJECT, reason=reason)
    return Referral.objects.select_related("patient").get(pk=referral.pk)


def seen_now(row: models.Model) -> str:
    """The fingerprint (``seen``) a page opened now carries for ``row``: a form posting it
    saves; one posting an older fingerprint is refused as stale (apu.versioning)."""
    return fingerprint(type(row).objects.get(pk=row.pk))
