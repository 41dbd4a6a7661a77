"""State changes of the referral workflow: register, screen, decide (and open the course)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apu.models import Municipality, User
from apu.versioning import ensure_unchanged
from referrals.cpr import parse_cpr
from referrals.deadlines import intake_meeting_due
from referrals.icd10 import normalize_code
from referrals.models import (
    Course,
    Decision,
    DiagnosisCode,
    Patient,
    Referral,
    ReferralDiagnosis,
    Screening,
    ScreeningCriterion,
)
from referrals.screening import ScreeningResult, screen

FUTURE_FIRST_CONTACT = _("The first contact cannot be in the future.")
FUTURE_RECEIVED = _("The referral cannot be received in the future.")
RECEIVED_BEFORE_CONTACT = _("The referral cannot be received before the first contact.")
UNKNOWN_CODES = _("Unknown diagnosis code: %(codes)s. Choose a code from the ICD-10 F chapter.")
NO_DIAGNOSES = _("Enter at least one diagnosis code.")
OTHER_MUNICIPALITY = _("A coordinator can only refer citizens of their own municipality.")
CPR_OUTSIDE_REACH = _(
    "This CPR number cannot be registered from your municipality. Contact the clinic."
)
NOT_OPEN = _("This referral has already been decided (%(status)s); nothing was changed.")
NOT_SCREENED = _("Record the severity axes of the screening before accepting the referral.")
OVERRIDE_NEEDS_REASON = _(
    "The decision goes against the screening (%(outcome)s): write the reason for the override."
)
REJECT_NEEDS_REASON = _(
    "Write the reason for rejecting the referral, for the letter to the referrer."
)
OPEN_COURSE_EXISTS = _("The patient already has an open course; discharge it before a new one.")
CLINIC_ONLY = _("Only clinic staff can screen and decide referrals.")


@dataclass(frozen=True)
class PatientDetails:
    cpr: str
    name: str
    municipality: Municipality
    address: str = ""
    phone: str = ""
    email: str = ""


def diagnosis_role(code: str) -> str:
    """F10-F19 are substance use disorders; every other F code is a mental disorder."""
    return (
        ReferralDiagnosis.Role.SUBSTANCE if code.startswith("F1") else ReferralDiagnosis.Role.MENTAL
    )


def normalize_codes(values: list[str]) -> list[str]:
    """Normal forms of ``values``, without duplicates; unknown codes are a ValidationError."""
    codes = list(dict.fromkeys(normalize_code(value) for value in values))
    if not codes:
        raise ValidationError(NO_DIAGNOSES, code="no_diagnoses")
    known = set(DiagnosisCode.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise ValidationError(
            UNKNOWN_CODES, code="unknown_code", params={"codes": ", ".join(unknown)}
        )
    return codes


def check_dates(*, first_contact: date, received: date) -> None:
    today = timezone.localdate()
    if first_contact > today:
        raise ValidationError(
            {"first_contact": ValidationError(FUTURE_FIRST_CONTACT, code="future")}
        )
    if received > today:
        raise ValidationError({"received": ValidationError(FUTURE_RECEIVED, code="future")})
    if received < first_contact:
        raise ValidationError({"received": ValidationError(RECEIVED_BEFORE_CONTACT, code="order")})


def _save_patient(details: PatientDetails, *, by: User) -> Patient:
    cpr = parse_cpr(details.cpr)
    if by.is_coordinator and details.municipality.pk != by.municipality_id:
        raise PermissionDenied(OTHER_MUNICIPALITY)
    # Lock an existing patient row so two registrations do not update it at once.
    patient = Patient.objects.select_for_update().filter(cpr=cpr.digits).first()
    if patient is None:
        return Patient.objects.create(
            cpr=cpr.digits,
            name=details.name,
            municipality=details.municipality,
            address=details.address,
            phone=details.phone,
            email=details.email,
            birth_date=cpr.birth_date,
            sex=cpr.sex,
        )
    if by.is_coordinator and patient.municipality_id != by.municipality_id:
        raise ValidationError({"cpr": ValidationError(CPR_OUTSIDE_REACH, code="outside")})
    # A new referral brings the current name, address and municipality.
    patient.name = details.name
    patient.municipality = details.municipality
    patient.address = details.address or patient.address
    patient.phone = details.phone or patient.phone
    patient.email = details.email or patient.email
    patient.save()
    return patient


def screening_inputs(referral: Referral) -> dict:
    """What screening needs from a referral, as stored alongside the result."""
    return {
        "municipality_code": referral.patient.municipality.code,
        "diagnosis_codes": sorted(referral.diagnoses.values_list("code", flat=True)),
        "birth_date": referral.patient.birth_date.isoformat(),
        "referral_date": referral.first_contact.isoformat(),
        "in_municipal_substance_treatment": referral.in_municipal_substance_treatment,
        "substitution_treatment": referral.substitution_treatment,
    }


def preview_screening(inputs: dict) -> ScreeningResult:
    """Screen stored-style inputs (dates as ISO strings) without saving anything."""
    return screen(
        municipality_code=inputs["municipality_code"],
        diagnosis_codes=inputs["diagnosis_codes"],
        birth_date=date.fromisoformat(inputs["birth_date"]),
        referral_date=date.fromisoformat(inputs["referral_date"]),
        in_municipal_substance_treatment=inputs["in_municipal_substance_treatment"],
        substitution_treatment=inputs["substitution_treatment"],
    )


def _store_screening(
    referral: Referral, *, by: User, mental_severity: str = "", substance_severity: str = ""
) -> Screening:
    inputs = screening_inputs(referral)
    result = preview_screening(inputs)
    screening = Screening.objects.create(
        referral=referral,
        screened_by=by,
        outcome=result.outcome,
        mental_severity=mental_severity,
        substance_severity=substance_severity,
        inputs=inputs | {"code_lists": result.codes},
    )
    ScreeningCriterion.objects.bulk_create(
        ScreeningCriterion(
            screening=screening,
            position=position,
            key=item.key,
            outcome=item.outcome,
            message=item.message,
            params=item.params,
        )
        for position, item in enumerate(result.criteria)
    )
    return screening


@transaction.atomic
def register_referral(
    *,
    patient: PatientDetails,
    first_contact: date,
    received: date,
    referrer_kind: str,
    referrer_name: str = "",
    referrer_organisation: str = "",
    diagnosis_codes: list[str],
    in_municipal_substance_treatment: bool,
    substitution_treatment: str = "none",
    reason: str = "",
    mental_severity: str = "",
    substance_severity: str = "",
    by: User,
) -> Referral:
    """Record a referral (patient found or created by CPR) and screen it at once.

    A clinician who records both severity axes completes the screening; otherwise the
    referral waits for a clinician to screen it.
    """
    check_dates(first_contact=first_contact, received=received)
    codes = normalize_codes(diagnosis_codes)
    if not by.is_clinic_staff:
        mental_severity = substance_severity = ""
    patient_row = _save_patient(patient, by=by)
    referral = Referral.objects.create(
        patient=patient_row,
        first_contact=first_contact,
        received=received,
        referrer_kind=referrer_kind,
        referrer_name=referrer_name,
        referrer_organisation=referrer_organisation,
        in_municipal_substance_treatment=in_municipal_substance_treatment,
        substitution_treatment=substitution_treatment,
        reason=reason,
        submitted_by=by,
    )
    for code in codes:
        ReferralDiagnosis.objects.create(referral=referral, code_id=code, role=diagnosis_role(code))
    _store_screening(
        referral, by=by, mental_severity=mental_severity, substance_severity=substance_severity
    )
    if mental_severity and substance_severity:
        referral.status = Referral.Status.SCREENED
        referral.save(update_fields=["status", "updated_at"])
    return referral


def ensure_open(referral: Referral) -> None:
    """Refuse to screen or decide a referral that is already decided."""
    if not referral.is_open:
        raise ValidationError(
            NOT_OPEN, code="not_open", params={"status": referral.get_status_display()}
        )


@transaction.atomic
def screen_referral(
    referral: Referral,
    *,
    by: User,
    mental_severity: str,
    substance_severity: str,
    seen: str | None = None,
) -> Screening:
    """Screen an open referral again with the current code lists, and record the axes.

    ``seen`` is the referral's fingerprint as the form showed it (apu.versioning): screened
    or decided since, the save is refused. None skips the check (demo data, commands).
    """
    if not by.is_clinic_staff:
        raise PermissionDenied(CLINIC_ONLY)
    # Lock the referral: a screening and a decision must not interleave, and what the form
    # saw must still be the row when the screening is saved.
    referral = (
        Referral.objects.select_for_update()
        .select_related("patient__municipality")
        .get(pk=referral.pk)
    )
    # Decided first: "save again" would be no advice for a referral that takes no screening.
    ensure_open(referral)
    ensure_unchanged(referral, seen)
    screening = _store_screening(
        referral, by=by, mental_severity=mental_severity, substance_severity=substance_severity
    )
    referral.status = Referral.Status.SCREENED
    referral.save(update_fields=["status", "updated_at"])
    return screening


def _overrides(kind: str, outcome: str) -> bool:
    if kind == Decision.Kind.ACCEPT:
        return outcome != Screening.Outcome.ELIGIBLE
    if kind == Decision.Kind.REJECT:
        return outcome == Screening.Outcome.ELIGIBLE
    return False


@transaction.atomic
def decide_referral(
    referral: Referral, *, by: User, kind: str, reason: str = "", seen: str | None = None
) -> Decision:
    """Accept, reject or withdraw an open referral; accepting opens the patient's course.

    The referral row is locked first, so of two clinicians deciding at the same moment
    exactly one succeeds and the other is told the referral is already decided; a decision
    from a form opened before the referral was screened again (``seen``, its fingerprint as
    the form showed it) is refused, since it was made on a screening no longer current.
    """
    if not by.is_clinic_staff:
        raise PermissionDenied(CLINIC_ONLY)
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    ensure_open(referral)
    ensure_unchanged(referral, seen)
    screening = referral.screenings.order_by("-screened_at", "-pk").first()
    if kind == Decision.Kind.ACCEPT and referral.status != Referral.Status.SCREENED:
        raise ValidationError(NOT_SCREENED, code="not_screened")
    reason = reason.strip()
    overrides = screening is not None and _overrides(kind, screening.outcome)
    if overrides and not reason:
        raise ValidationError(
            {
                "reason": ValidationError(
                    OVERRIDE_NEEDS_REASON,
                    code="override_reason",
                    params={"outcome": screening.get_outcome_display()},
                )
            }
        )
    if kind == Decision.Kind.REJECT and not reason:
        raise ValidationError(
            {"reason": ValidationError(REJECT_NEEDS_REASON, code="reject_reason")}
        )
    decision = Decision.objects.create(
        referral=referral,
        kind=kind,
        decided_by=by,
        reason=reason,
        overrides_screening=overrides,
        screening=screening,
    )
    referral.status = {
        Decision.Kind.ACCEPT: Referral.Status.ACCEPTED,
        Decision.Kind.REJECT: Referral.Status.REJECTED,
        Decision.Kind.WITHDRAW: Referral.Status.WITHDRAWN,
    }[kind]
    referral.save(update_fields=["status", "updated_at"])
    if kind == Decision.Kind.ACCEPT:
        open_course(referral)
    return decision


def open_course(referral: Referral) -> Course:
    """Open the course of an accepted referral: 26 weeks, 25 norm hours, intake clock running."""
    start = timezone.localdate()
    try:
        # A savepoint, so a second open course is reported instead of breaking the transaction.
        with transaction.atomic():
            return Course.objects.create(
                patient_id=referral.patient_id,
                referral=referral,
                start=start,
                planned_end=start + timedelta(weeks=Course.PLANNED_WEEKS),
                intake_meeting_due=intake_meeting_due(referral.first_contact),
            )
    except IntegrityError as error:
        if "one_open_course_per_patient" in str(error):
            raise ValidationError(OPEN_COURSE_EXISTS, code="open_course") from error
        raise
