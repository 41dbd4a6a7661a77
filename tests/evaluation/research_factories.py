"""Patients as the clinic records them, full of identifying data and free text, so the
research export can be shown to leave every bit of it out."""

import itertools
from dataclasses import dataclass
from datetime import date, datetime

from apu.models import User
from coordination.services import decide_and_plan
from evaluation import research
from evaluation.models import ResearchConsent
from evaluation.services import record_measurement
from modules.models import Appointment, Attendance, AttendanceStatus, Session
from referrals.models import Course, Decision, Patient, Referral
from referrals.services import PatientDetails, register_referral
from tests.factories import municipality
from tests.modules.factories import fresh_cpr, hold_intake, new_group, new_session

_number = itertools.count(1)


@dataclass(frozen=True)
class Identity:
    """Everything about a patient that must never reach a researcher."""

    cpr: str  # DDMMYY-SSSS
    name: str
    address: str
    phone: str
    email: str
    reason: str

    @property
    def cpr_digits(self) -> str:
        return self.cpr.replace("-", "")


def identity(name: str) -> Identity:
    n = next(_number)
    return Identity(
        cpr=fresh_cpr(),
        name=name,
        address=f"Skovvej {n}, 2750 Ballerup",
        phone=f"40 11 {n:02d} 33",
        email=f"borger{n}@example.org",
        reason=f"Henvist efter indlæggelse nr. {n} med svær depression og dagligt alkoholforbrug",
    )


def register(by: User, who: Identity, *, first_contact: date, municipality_code="151") -> Referral:
    """A screened, eligible referral with the patient's full contact details and a reason."""
    return register_referral(
        patient=PatientDetails(
            cpr=who.cpr,
            name=who.name,
            municipality=municipality(municipality_code),
            address=who.address,
            phone=who.phone,
            email=who.email,
        ),
        first_contact=first_contact,
        received=first_contact,
        referrer_kind=Referral.ReferrerKind.GP,
        referrer_name="Dr. Lund",
        diagnosis_codes=["F32.1", "F10.2"],
        in_municipal_substance_treatment=True,
        reason=who.reason,
        mental_severity="higher",
        substance_severity="lower",
        by=by,
    )


def course_of(by: User, who: Identity, *, first_contact: date, municipality_code="151") -> Course:
    """The accepted referral's course (it starts today), intake meeting held."""
    referral = register(by, who, first_contact=first_contact, municipality_code=municipality_code)
    decide_and_plan(referral, by=by, kind=Decision.Kind.ACCEPT)
    return hold_intake(Course.objects.get(referral=referral), by=by)


def consent(
    patient: Patient, *, by: User, given_on: date, withdrawn_on: date | None = None
) -> ResearchConsent:
    given = research.give_consent(
        patient, by=by, given_on=given_on, scope=ResearchConsent.Scope.OUTCOMES
    )
    if withdrawn_on is None:
        return given
    return research.withdraw_consent(given, by=by, withdrawn_on=withdrawn_on)


PHQ9_BASELINE = [2, 2, 1, 3, 1, 2, 2, 1, 1]  # total 15: moderately severe, item 9 flagged
WHO5_MIDPOINT = [3, 2, 3, 2, 3]  # raw 13: adequate, 52 %


def measure(course: Course, *, by: User, instrument: str, point: str, answered_on: date, answers):
    return record_measurement(
        course, by=by, instrument=instrument, point=point, answered_on=answered_on, answers=answers
    )


def treatment(course: Course, *, by: User, sessions: list[tuple[datetime, str]], appointment_at):
    """Group sessions (120 minutes, 2 therapists, normed size 8) with the given attendance,
    and one attended 60-minute individual session, recorded as the attendance page would."""
    group = new_group(name=f"Hold {course.pk}", therapists=(by,))
    for starts_at, status in sessions:
        session = new_session(
            group, starts_at=starts_at, duration_minutes=120, therapist_count=2, normed_group_size=8
        )
        if status == "cancelled_session":
            session.status = Session.Status.CANCELLED
            session.save(update_fields=["status"])
            status = AttendanceStatus.ATTENDED
        Attendance.objects.create(session=session, course=course, status=status, recorded_by=by)
    Appointment.objects.create(
        course=course,
        clinician=by,
        starts_at=appointment_at,
        duration_minutes=60,
        kind=Appointment.Kind.INDIVIDUAL_THERAPY,
        attendance=AttendanceStatus.ATTENDED,
        created_by=by,
    )
