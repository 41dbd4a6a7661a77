"""Demo treatment for seed_demo: the menu's running groups, 18 months of sessions and
attendance with realistic no-shows, individual appointments, and treatment plans.

Written with simple-history's bulk helpers (history kept) for speed; capacity is kept
by counting overlapping seats, as the enrolment service would.
"""

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from apu.models import User
from coordination.models import Meeting
from modules.models import (
    Appointment,
    Attendance,
    Enrolment,
    Group,
    Module,
    NoShowReason,
    Session,
    TreatmentPlan,
)
from modules.services import danish_holidays
from referrals.models import Course

SEED = 5151
DAYS_BACK = 560
# (module name, group name, weekday, hour, room)
GROUPS = [
    ("Recoverygruppe", "Recoverygruppe mandag", 0, 10, "Lokale 1"),
    ("Recoverygruppe", "Recoverygruppe torsdag", 3, 13, "Lokale 1"),
    ("Adfærdsaktivering", "Adfærdsaktivering", 1, 9, "Lokale 2"),
    ("Tænkestil", "Tænkestil", 2, 9, "Lokale 2"),
    ("Compassion", "Compassion", 3, 9, "Lokale 2"),
    ("Værdier", "Værdier", 4, 9, "Lokale 2"),
    ("Følelsesregulering", "Følelsesregulering", 0, 13, "Lokale 3"),
    ("Relationer", "Relationer", 2, 13, "Lokale 3"),
    ("Vedholdenhed", "Vedholdenhed", 1, 13, "Lokale 3"),
    ("Basic Body Awareness Therapy", "BBAT", 1, 15, "Salen"),
    ("Yoga", "Yoga", 3, 15, "Salen"),
    ("Mindfulness", "Mindfulness", 4, 13, "Salen"),
    # A second set: the clinic's norm (25 norm hours buy about 100 hours in groups) means two
    # or three group sessions a week per patient, so the menu runs about twice the seats.
    ("Recoverygruppe", "Recoverygruppe onsdag", 2, 10, "Lokale 1"),
    ("Tænkestil", "Tænkestil torsdag", 3, 15, "Lokale 1"),
    ("Flow", "Flow", 0, 13, "Lokale 2"),
    ("Robusthed", "Robusthed", 1, 13, "Lokale 2"),
    ("Opmærksomhed", "Opmærksomhed", 3, 13, "Lokale 2"),
    ("Adfærdsaktivering", "Adfærdsaktivering fredag", 4, 13, "Lokale 3"),
    ("Følelsesregulering", "Følelsesregulering torsdag", 3, 9, "Lokale 3"),
    ("Relationer", "Relationer fredag", 4, 9, "Lokale 3"),
    ("Vedholdenhed", "Vedholdenhed mandag", 0, 15, "Lokale 3"),
    ("Basic Body Awareness Therapy", "BBAT mandag", 0, 15, "Salen"),
    ("Yoga", "Yoga onsdag", 2, 15, "Salen"),
    ("Mindfulness", "Mindfulness tirsdag", 1, 9, "Salen"),
    ("Compassion", "Compassion tirsdag", 1, 15, "Lokale 1"),
    ("Værdier", "Værdier mandag", 0, 9, "Lokale 2"),
]
ATTENDANCE_WEIGHTS = [
    ("attended", 76),
    ("absent_notice", 12),
    ("no_show", 9),
    ("cancelled_by_clinic", 3),
]


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def seed(*, stdout=None) -> int:
    """Create groups, sessions, enrolments, attendance, appointments and plans once."""
    if Group.objects.exists():
        return 0
    clinicians = list(User.objects.filter(role=User.Role.CLINICIAN, is_active=True))
    if not clinicians:
        return 0
    rng = random.Random(SEED)  # noqa: S311 (repeatable demo data, not security)
    today = timezone.localdate()
    with transaction.atomic():
        groups = _groups(clinicians, today)
        sessions = _sessions(rng, groups, today)
        _treatment(rng, groups, sessions, clinicians, today)
    return len(sessions)


def _groups(clinicians, today):
    modules = {m.name: m for m in Module.objects.all()}
    groups = []
    for module_name, name, weekday, hour, room in GROUPS:
        module = modules[module_name]
        group = Group.objects.create(
            module=module,
            name=name,
            weekday=weekday,
            start_time=time(hour, 0),
            duration_minutes=module.default_duration_minutes,
            room=room,
            therapist_count=module.default_therapists,
            normed_group_size=module.normed_group_size,
            capacity=8,
            starts_on=today - timedelta(days=DAYS_BACK),
        )
        group.therapists.set(clinicians[:2] if module.default_therapists >= 2 else clinicians[:1])
        groups.append(group)
    return groups


def _sessions(rng, groups, today):
    first = today - timedelta(days=DAYS_BACK)
    skip = danish_holidays(range(first.year, today.year + 2))
    rows = []
    for group in groups:
        day = first + timedelta(days=(group.weekday - first.weekday()) % 7)
        while day <= today + timedelta(weeks=4):
            if day not in skip:
                rows.append(
                    Session(
                        group=group,
                        starts_at=_at(day, group.start_time.hour),
                        duration_minutes=group.duration_minutes,
                        room=group.room,
                        therapist_count=group.therapist_count,
                        normed_group_size=group.normed_group_size,
                        status=Session.Status.CANCELLED
                        if rng.random() < 0.03
                        else Session.Status.PLANNED,
                    )
                )
            day += timedelta(weeks=1)
    return bulk_create_with_history(rows, Session)


def _treatment(rng, groups, sessions, clinicians, today):
    by_group = {}
    for session in sessions:
        by_group.setdefault(session.group_id, []).append(session)
    seats = {group.pk: [] for group in groups}  # (start, end) of each seat taken
    intake_held = dict(
        Meeting.objects.filter(kind=Meeting.Kind.INTAKE, status=Meeting.Status.HELD).values_list(
            "course_id", "scheduled_at"
        )
    )
    reasons = list(NoShowReason.objects.all())
    enrolments, attendance, appointments, plans = [], [], [], []
    courses = Course.objects.exclude(status=Course.Status.AWAITING_INTAKE).select_related(
        "discharge"
    )
    for course in courses.order_by("start", "pk"):
        held = intake_held.get(course.pk)
        if held is None:
            continue
        begin = timezone.localtime(held).date() + timedelta(days=rng.randint(3, 10))
        end = course.discharge.date if course.status == Course.Status.DISCHARGED else None
        last = min(end or today, today)
        by = rng.choice(clinicians)
        appointments.append(
            _appointment(rng, course, by, begin - timedelta(days=2), "first_conversation", reasons)
        )
        for _n in range(rng.randint(0, 4)):
            day = begin + timedelta(days=rng.randint(7, 120))
            if day <= last:
                appointments.append(
                    _appointment(rng, course, by, day, "individual_therapy", reasons)
                )
        chosen = []
        wanted = rng.choice([2, 3])
        for group in rng.sample(groups, k=len(groups)):
            taken = [
                s
                for s in seats[group.pk]
                if s[0] <= (end or today) and (s[1] is None or s[1] >= begin)
            ]
            if len(taken) < group.capacity:
                seats[group.pk].append((begin, end))
                chosen.append(group)
                if len(chosen) == wanted:
                    break
        for group in chosen:
            enrolments.append(
                Enrolment(course=course, group=group, starts_on=begin, ends_on=end, created_by=by)
            )
            for session in by_group[group.pk]:
                day = timezone.localtime(session.starts_at).date()
                if begin <= day <= last and session.status == Session.Status.PLANNED:
                    status = rng.choices(
                        [s for s, _w in ATTENDANCE_WEIGHTS], [w for _s, w in ATTENDANCE_WEIGHTS]
                    )[0]
                    attendance.append(
                        Attendance(
                            session=session,
                            course=course,
                            status=status,
                            recorded_by=by,
                            recorded_at=session.starts_at + timedelta(hours=2),
                        )
                    )
        plans.append((course, chosen, by))
    bulk_create_with_history(enrolments, Enrolment)
    bulk_create_with_history(attendance, Attendance, batch_size=2000)
    bulk_create_with_history(appointments, Appointment)
    for course, chosen, by in plans:
        plan = TreatmentPlan.objects.create(
            course=course,
            goals="Mindre alkohol, mere struktur i hverdagen, tilbage i arbejde.",
            intensity=rng.choice(["low", "medium", "high"]),
            updated_by=by,
        )
        plan.modules.set([group.module for group in chosen])


def _appointment(rng, course, clinician, day, kind, reasons):
    starts_at = _at(day, rng.choice([9, 10, 11, 13, 14]))
    attendance, reason = "", None
    if day <= timezone.localdate():
        roll = rng.random()
        attendance = "attended" if roll < 0.78 else ("no_show" if roll < 0.93 else "absent_notice")
        if kind == "first_conversation" and attendance != "attended":
            reason = rng.choice(reasons) if reasons else None
    return Appointment(
        course=course,
        clinician=clinician,
        starts_at=starts_at,
        duration_minutes=60,
        kind=kind,
        attendance=attendance,
        no_show_reason=reason,
        created_by=clinician,
    )
