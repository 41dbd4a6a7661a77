"""Treatment data built as the clinic builds it: a referral registered and accepted, the
intake meeting held, groups from the menu, sessions, and enrolment through the services."""

import importlib
import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps as django_apps
from django.utils import timezone

from apu.models import User
from coordination.models import Meeting
from coordination.services import decide_and_plan, record_outcome
from modules import services
from modules.models import Attendance, Enrolment, Group, Module, Session
from referrals.models import Course, Decision, Referral
from referrals.services import PatientDetails, register_referral
from tests.factories import municipality

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
BALLERUP = "151"
GLADSAXE = "159"
MENU_MIGRATION = "modules.migrations.0002_treatment_menu"

# One made-up CPR number per patient: a new birth date each time (7th digit 1: the 1900s).
_born = itertools.count()


def fresh_cpr() -> str:
    born = date(1960, 1, 1) + timedelta(days=next(_born) % 12_000)
    return f"{born:%d%m%y}-1234"


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An aware time on ``day`` in Copenhagen, as the clinic's clock shows it."""
    return datetime.combine(day, time(hour, minute), tzinfo=COPENHAGEN)


def menu_module(name: str = "Adfærdsaktivering") -> Module:
    """A module of the migrated menu; reloaded when a transactional test emptied the tables."""
    if not Module.objects.filter(name=name).exists():
        importlib.import_module(MENU_MIGRATION).load(django_apps, None)
    return Module.objects.get(name=name)


def register(
    by: User,
    *,
    name: str = "Bente Ballerup",
    municipality_code: str = BALLERUP,
    first_contact: date | None = None,
) -> Referral:
    """A screened, eligible referral (depression and alcohol dependence), both axes given."""
    first_contact = first_contact or timezone.localdate() - timedelta(days=7)
    return register_referral(
        patient=PatientDetails(
            cpr=fresh_cpr(), name=name, municipality=municipality(municipality_code)
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


def hold_intake(course: Course, *, by: User) -> Course:
    """Hold the intake meeting: the course is in treatment from now on."""
    meeting = course.meetings.get(kind=Meeting.Kind.INTAKE)
    record_outcome(
        meeting,
        by=by,
        version=meeting.version,
        status=Meeting.Status.HELD,
        summary="Planen er aftalt med kommunen og borgeren.",
    )
    course.refresh_from_db()
    return course


def new_course(
    by: User,
    *,
    name: str = "Bente Ballerup",
    municipality_code: str = BALLERUP,
    in_treatment: bool = True,
) -> Course:
    """An accepted referral's course; with ``in_treatment`` its intake meeting is held."""
    referral = register(by, name=name, municipality_code=municipality_code)
    decide_and_plan(referral, by=by, kind=Decision.Kind.ACCEPT)
    course = Course.objects.select_related("patient").get(referral=referral)
    if in_treatment:
        hold_intake(course, by=by)
    return course


def new_group(
    *,
    module: str = "Adfærdsaktivering",
    name: str | None = None,
    weekday: int = Group.Weekday.MONDAY,
    start_time: time = time(10, 0),
    capacity: int = 8,
    starts_on: date = date(2026, 1, 5),
    therapists: tuple[User, ...] = (),
    **fields,
) -> Group:
    """A group of a menu module, with the module's duration and norm parameters."""
    menu = menu_module(module)
    group = Group.objects.create(
        module=menu,
        name=name or menu.name,
        weekday=weekday,
        start_time=start_time,
        duration_minutes=menu.default_duration_minutes,
        room="Lokale 2",
        therapist_count=menu.default_therapists,
        normed_group_size=menu.normed_group_size,
        capacity=capacity,
        starts_on=starts_on,
        **fields,
    )
    group.therapists.set(therapists)
    return group


def new_session(group: Group, *, starts_at: datetime, **fields) -> Session:
    """One meeting of ``group`` with the group's duration, room and norm parameters."""
    values = {
        "duration_minutes": group.duration_minutes,
        "room": group.room,
        "therapist_count": group.therapist_count,
        "normed_group_size": group.normed_group_size,
    } | fields
    return Session.objects.create(group=group, starts_at=starts_at, **values)


def enrolled(course: Course, group: Group, *, by: User, starts_on: date) -> Enrolment:
    """Enrol through the service; fails loudly if the group put the course on its waiting list."""
    result = services.enrol(course, group, by=by, starts_on=starts_on)
    assert isinstance(result, Enrolment), result
    return result


def attended(
    course: Course, sessions: list[Session], *, by: User, status: str = "attended"
) -> list[Attendance]:
    """One tap for ``course`` on each of ``sessions``."""
    return [
        services.record_attendance(session, course, by=by, status=status) for session in sessions
    ]


def weekly_sessions(group: Group, *, first: date, count: int, hour: int = 10) -> list[Session]:
    """``count`` sessions a week apart from ``first``."""
    return [
        new_session(group, starts_at=at(first + timedelta(weeks=week), hour))
        for week in range(count)
    ]
