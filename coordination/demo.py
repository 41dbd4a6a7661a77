"""Demo coordination for seed_demo: meetings for the demo courses, most intake meetings on
time, some late, some cancelled and moved, outcomes with actions, and discharges."""

import random
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from apu.models import User
from coordination.models import Meeting
from coordination.services import (
    ActionInput,
    discharge_course,
    plan_meetings,
    record_outcome,
    schedule_meeting,
)
from referrals.models import Course

SEED = 4242
PLACES = ["APU, mødelokale 1", "APU, mødelokale 2", "Rusmiddelcentret", "Borgerens hjem"]
ACTIONS = [
    ("Start i gruppen for adfærdsaktivering", "region"),
    ("Opfølgende samtale i rusmiddelcentret", "municipality"),
    ("Opdatere den kommunale handleplan", "municipality"),
    ("Føre alkoholdagbog frem til næste møde", "patient"),
    ("Kontakt til jobcenter om sygemelding", "municipality"),
    ("Psykiatrisk vurdering af medicin", "region"),
]


def _at(day, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed(*, stdout=None) -> int:
    """Plan and play out the meetings of the demo courses; return how many meetings."""
    if Meeting.objects.exists():
        return 0
    clinicians = list(User.objects.filter(role=User.Role.CLINICIAN, is_active=True))
    if not clinicians:
        return 0
    rng = random.Random(SEED)  # noqa: S311 (repeatable demo data, not security)
    coordinators = {u.municipality_id: u for u in User.objects.filter(role=User.Role.COORDINATOR)}
    today = timezone.localdate()
    count = 0
    with transaction.atomic():
        for course in Course.objects.select_related("referral", "patient").order_by("start", "pk"):
            meetings = plan_meetings(course)
            count += len(meetings)
            _play(
                rng,
                course,
                meetings,
                today,
                clinicians,
                coordinators.get(course.patient.municipality_id),
            )
    return count


def _play(rng, course, meetings, today, clinicians, coordinator):
    intake, midpoint, discharge = meetings
    first_contact = course.referral.first_contact
    late = rng.random() < 0.15
    intake_day = first_contact + timedelta(
        days=rng.randint(22, 35) if late else rng.randint(12, 21)
    )
    intake_day = max(intake_day, course.start)
    if intake_day > today + timedelta(days=14):
        return
    by = rng.choice(clinicians)
    if intake_day > today:
        _schedule(intake, by, intake_day)
        return
    if rng.random() < 0.1:
        # Cancelled once (the patient was ill), then moved a week on.
        meeting = _schedule(intake, by, intake_day - timedelta(days=7))
        record_outcome(
            meeting,
            by=by,
            version=meeting.version,
            status=Meeting.Status.CANCELLED,
            summary="Aflyst: borgeren var syg.",
        )
        intake.refresh_from_db()
    _hold(rng, intake, by, coordinator, intake_day, today)
    for meeting, day in ((midpoint, midpoint.due_date), (discharge, discharge.due_date)):
        day = day + timedelta(days=rng.randint(-5, 5))
        if day > today + timedelta(days=14):
            return
        if day > today:
            _schedule(meeting, by, day)
            return
        _hold(rng, meeting, by, coordinator, day, today)
    kind = "completed" if rng.random() < 0.8 else rng.choice(["dropped_out", "transferred"])
    discharge_course(
        course,
        by=by,
        date=min(today, discharge.due_date + timedelta(days=3)),
        kind=kind,
        reason="Forløbet er afsluttet efter planen."
        if kind == "completed"
        else "Borgeren ophørte.",
    )


def _schedule(meeting, by, day):
    return schedule_meeting(
        meeting,
        by=by,
        version=meeting.version,
        scheduled_at=_at(day, 10),
        place=PLACES[meeting.pk % len(PLACES)],
    )


def _hold(rng, meeting, by, coordinator, day, today):
    meeting = _schedule(meeting, by, day)
    present = rng.random() < 0.9
    actions = [
        ActionInput(
            what=what,
            responsible=responsible,
            person="",
            due_date=day + timedelta(days=rng.randint(7, 30)),
            done=day + timedelta(days=30) < today,
        )
        for what, responsible in rng.sample(ACTIONS, k=rng.randint(1, 3))
    ]
    record_outcome(
        meeting,
        by=coordinator or by,
        version=meeting.version,
        status=Meeting.Status.HELD,
        summary="Behandlingsplan og handleplan gennemgået; borgeren deltager i gruppeforløb.",
        patient_present=present,
        patient_accepted_plan=None if present else True,
        clinic_staff=[by],
        action_plan_status=rng.choice(["exists", "exists", "in_progress", "none"]),
        action_plan_date=day - timedelta(days=rng.randint(5, 60)),
        action_plan_summary="Handleplan om stabil boligsituation og nedsat forbrug.",
        plan_fit="Planerne supplerer hinanden: grupper i APU, samtaler i rusmiddelcentret.",
        new_actions=actions,
    )
    Meeting.objects.filter(pk=meeting.pk).update(outcome_recorded_at=_at(day, 12))
