"""Coordination data built as the clinic builds it: a referral registered (and screened with
both severity axes), accepted through ``decide_and_plan``, meetings scheduled and held
through the services."""

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from apu.models import User
from coordination.models import Meeting
from coordination.services import ActionInput, decide_and_plan, record_outcome, schedule_meeting
from referrals.models import Course, Decision, Referral
from referrals.services import PatientDetails, register_referral
from tests.factories import municipality

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
BALLERUP = "151"
GLADSAXE = "159"

# One made-up CPR number per patient: a new birth date each time. Serial 2468 has a 7th
# digit of 2 (born in the 1900s) and is even (female); modulus 11 is not required.
_born = itertools.count()


def fresh_cpr() -> str:
    """A made-up CPR number (DDMMYYSSSS) no other test patient has."""
    born = date(1961, 3, 1) + timedelta(days=next(_born) % 12_000)
    return f"{born:%d%m%y}2468"


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An aware time on ``day`` in Copenhagen, as the clinic's clock shows it."""
    return datetime.combine(day, time(hour, minute), tzinfo=COPENHAGEN)


def register(
    by: User,
    *,
    name: str = "Bodil Ballerup",
    municipality_code: str = BALLERUP,
    first_contact: date | None = None,
    cpr: str | None = None,
) -> Referral:
    """A screened, eligible referral (depression and alcohol dependence), both axes given."""
    first_contact = first_contact or timezone.localdate() - timedelta(days=7)
    return register_referral(
        patient=PatientDetails(
            cpr=cpr or fresh_cpr(), name=name, municipality=municipality(municipality_code)
        ),
        first_contact=first_contact,
        received=first_contact,
        referrer_kind=Referral.ReferrerKind.GP,
        referrer_name="Dr. Lund",
        diagnosis_codes=["F32.1", "F10.2"],
        in_municipal_substance_treatment=True,
        mental_severity="higher",
        substance_severity="lower",
        by=by,
    )


def accepted_course(
    by: User,
    *,
    name: str = "Bodil Ballerup",
    municipality_code: str = BALLERUP,
    first_contact: date | None = None,
    cpr: str | None = None,
) -> Course:
    """The course of a referral accepted through ``decide_and_plan``: three meetings planned."""
    referral = register(
        by, name=name, municipality_code=municipality_code, first_contact=first_contact, cpr=cpr
    )
    decide_and_plan(referral, by=by, kind=Decision.Kind.ACCEPT)
    return Course.objects.select_related("patient", "referral").get(referral=referral)


def meeting_of(course: Course, kind: str = Meeting.Kind.INTAKE) -> Meeting:
    return course.meetings.get(kind=kind)


def schedule(
    meeting: Meeting, *, by: User, when: datetime, place: str = "APU, mødelokale 1"
) -> Meeting:
    """Give the meeting a time and place, from its current version."""
    meeting.refresh_from_db()
    return schedule_meeting(meeting, by=by, version=meeting.version, scheduled_at=when, place=place)


def hold(
    meeting: Meeting,
    *,
    by: User,
    summary: str = "Planen er holdt op mod handleplanen og aftalt med borgeren.",
    actions: tuple[ActionInput, ...] = (),
    **outcome,
) -> Meeting:
    """Record the meeting as held (from its current version), with any agreed actions."""
    meeting.refresh_from_db()
    return record_outcome(
        meeting,
        by=by,
        version=meeting.version,
        status=Meeting.Status.HELD,
        summary=summary,
        patient_present=outcome.pop("patient_present", True),
        new_actions=list(actions),
        **outcome,
    )
