"""Referrals as the clinic registers them: through the service, with sensible defaults."""

from datetime import date

from apu.models import User
from referrals.models import Referral
from referrals.services import PatientDetails, register_referral
from tests.factories import municipality

# Made-up CPR numbers with real, past birth dates (7th digit 1 -> 1900s).
CPR_MALE_1990 = "170590-1233"  # born 17 May 1990, odd last digit: male
CPR_FEMALE_1985 = "010285-1234"  # born 1 February 1985, even last digit: female

FIRST_CONTACT = date(2026, 3, 2)
RECEIVED = date(2026, 3, 4)


def patient_details(**overrides) -> PatientDetails:
    """A Ballerup citizen, unless told otherwise; ``municipality`` may be given as a code."""
    values = {"cpr": CPR_MALE_1990, "name": "Jens Hansen", "municipality": "151"} | overrides
    if isinstance(values["municipality"], str):
        values["municipality"] = municipality(values["municipality"])
    return PatientDetails(**values)


def register(*, by: User, patient: PatientDetails | dict | None = None, **overrides) -> Referral:
    """Register an eligible referral (depression and alcohol dependence), axes recorded.

    ``patient`` may be a dict of ``patient_details`` overrides (usable in parametrize,
    where the database is not yet open); ``mental_severity=""`` leaves it unscreened.
    """
    if not isinstance(patient, PatientDetails):
        patient = patient_details(**(patient or {}))
    values = {
        "first_contact": FIRST_CONTACT,
        "received": RECEIVED,
        "referrer_kind": Referral.ReferrerKind.GP,
        "referrer_name": "Dr. Lund",
        "diagnosis_codes": ["F32.1", "F10.2"],
        "in_municipal_substance_treatment": True,
        "substitution_treatment": "none",
        "mental_severity": "lower",
        "substance_severity": "higher",
    } | overrides
    return register_referral(patient=patient, by=by, **values)
