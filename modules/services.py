"""State changes of treatment: sessions, enrolment and the waiting list, attendance,
individual appointments, the case formulation and the plan.

Every treatment step first asks coordination's gate: no treatment before the intake
meeting is held, none after discharge.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import holidays
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from apu.models import User
from apu.versioning import ABSENT, ensure_unchanged, lock_unchanged
from coordination.services import ensure_course_accepts_treatment
from modules.models import (
    Appointment,
    AttendanceStatus,
    CaseFormulation,
    Enrolment,
    Group,
    Module,
    NoShowReason,
    Session,
    TreatmentPlan,
    WaitingListEntry,
)
from modules.models import (
    Attendance as AttendanceRecord,
)
from referrals.models import Course

CLINIC_ONLY = _("Only clinic staff can do this.")
GROUP_CLOSED = _("The group is closed for intake.")
GROUP_ENDED = _("The group has ended.")
SLOT_TAKEN = _("The group already has a session at that time. Choose another time.")
ALREADY_ENROLLED = _("The patient is already in this group.")
ALREADY_WAITING = _("The patient is already on this group's waiting list.")
FULL_FOR_SWITCH = _("The new group is full: put the patient on its waiting list instead.")
NOT_ENROLLED = _("The patient is not in the group on the day of the session.")
SESSION_CANCELLED = _("The session is cancelled; there is no attendance to record.")
SESSION_IN_FUTURE = _("Attendance can be recorded from the day of the session.")
ENDED_BEFORE_START = _("An enrolment cannot end before it started.")
ENROLMENT_ENDED = _("The enrolment has already ended.")
NO_SHOW_REASON_ONLY = _("A reason for not coming goes with a no-show or an absence only.")
STALE = _(
    "Someone else saved this after you opened it; your text is still in the form. "
    "Check the current version below and save again."
)
WAITING_NOT_OPEN = _("This waiting-list place is no longer waiting.")
STILL_FULL = _("The group is full; the patient is on its waiting list.")


def _require_clinic(user: User) -> None:
    if not user.is_clinic_staff:
        raise PermissionDenied(CLINIC_ONLY)


def _lock(queryset: models.QuerySet, pk: int, seen: str | None) -> models.Model:
    """The row locked, refused (StaleRecord) if saved since the form showed it as ``seen``."""
    row = lock_unchanged(queryset, pk, seen)
    if row is None:
        # Deleted since the page was opened, and no fingerprint to say so: as .get() would.
        raise queryset.model.DoesNotExist
    return row


# --- Sessions -----------------------------------------------------------------------


def danish_holidays(years) -> set[date]:
    return set(holidays.country_holidays("DK", years=list(years)).keys())


@transaction.atomic
def generate_sessions(
    group: Group, *, weeks: int = 8, today: date | None = None, skip_holidays: bool = True
) -> list[Session]:
    """Create the group's weekly sessions for the coming weeks; existing ones are kept."""
    group = Group.objects.select_for_update().get(pk=group.pk)
    today = today or timezone.localdate()
    first = max(group.starts_on, today)
    last = first + timedelta(weeks=weeks)
    if group.ends_on:
        last = min(last, group.ends_on)
    skip = danish_holidays(range(first.year, last.year + 1)) if skip_holidays else set()
    day = first + timedelta(days=(group.weekday - first.weekday()) % 7)
    # A slot the group ever had a session at is not generated again, even when that session
    # was moved since (its history keeps the slot): pressing the button weekly must not put
    # a second session into a week whose session was moved.
    existing = set(group.sessions.values_list("starts_at", flat=True))
    existing |= set(Session.history.filter(group_id=group.pk).values_list("starts_at", flat=True))
    created = []
    while day <= last:
        starts_at = timezone.make_aware(datetime.combine(day, group.start_time))
        if day not in skip and starts_at not in existing:
            created.append(
                Session(
                    group=group,
                    starts_at=starts_at,
                    duration_minutes=group.duration_minutes,
                    room=group.room,
                    therapist_count=group.therapist_count,
                    normed_group_size=group.normed_group_size,
                )
            )
        day += timedelta(weeks=1)
    # bulk_create_with_history keeps the change history that a plain bulk_create would lose.
    return bulk_create_with_history(created, Session)


@transaction.atomic
def cancel_session(session: Session, *, by: User, seen: str | None = None) -> Session:
    """Cancel a session: it costs no course anything, whatever was recorded.

    ``seen`` is the session as the page showed it: one moved since is not cancelled.
    """
    _require_clinic(by)
    session = _lock(Session.objects.all(), session.pk, seen)
    session.status = Session.Status.CANCELLED
    session.save(update_fields=["status"])
    return session


@transaction.atomic
def move_session(
    session: Session, *, by: User, starts_at: datetime, room: str, seen: str | None = None
) -> Session:
    """Move a session to another time or room; history keeps the old ones."""
    _require_clinic(by)
    session = _lock(Session.objects.all(), session.pk, seen)
    taken = Session.objects.filter(group_id=session.group_id, starts_at=starts_at)
    if taken.exclude(pk=session.pk).exists():
        raise ValidationError(SLOT_TAKEN, code="slot_taken")
    session.starts_at = starts_at
    session.room = room
    session.save(update_fields=["starts_at", "room"])
    return session


# --- Enrolment and the waiting list ---------------------------------------------------


def _open_seats(group: Group) -> int:
    return group.capacity - group.enrolments.holding_seat().count()


@transaction.atomic
def enrol(
    course: Course, group: Group, *, by: User, starts_on: date
) -> Enrolment | WaitingListEntry:
    """Give the course a seat from ``starts_on``; a full group puts it on the waiting list,
    and free seats go to the waiting list in order before anyone new.

    The group row is locked first, so two clinicians taking the last seat at the same
    moment are served one after the other: one gets the seat, the other a waiting place.
    """
    _require_clinic(by)
    ensure_course_accepts_treatment(course)
    group = Group.objects.select_for_update().get(pk=group.pk)
    if group.ends_on and group.ends_on < starts_on:
        raise ValidationError(GROUP_ENDED, code="ended")
    if group.enrolments.filter(course=course, ends_on__isnull=True).exists():
        raise ValidationError(ALREADY_ENROLLED, code="already_enrolled")
    if not group.open_for_intake:
        raise ValidationError(GROUP_CLOSED, code="closed")
    waiting = list(
        group.waiting_list.filter(status=WaitingListEntry.Status.WAITING)
        .order_by("added_at", "pk")
        .values_list("course_id", flat=True)
    )
    # Those already waiting come first: a course may take a free seat only if the free
    # seats outnumber the waiting courses ahead of it.
    ahead = waiting.index(course.pk) if course.pk in waiting else len(waiting)
    if _open_seats(group) <= ahead:
        if course.pk in waiting:
            raise ValidationError(ALREADY_WAITING, code="already_waiting")
        return WaitingListEntry.objects.create(group=group, course=course, wanted_from=starts_on)
    return Enrolment.objects.create(course=course, group=group, starts_on=starts_on, created_by=by)


@transaction.atomic
def end_enrolment(
    enrolment: Enrolment, *, by: User, ends_on: date, seen: str | None = None
) -> WaitingListEntry | None:
    """End the seat; returns the first waiting course, to whom the freed seat is offered."""
    _require_clinic(by)
    enrolment = _lock(Enrolment.objects.all(), enrolment.pk, seen)
    if enrolment.ends_on is not None:
        raise ValidationError(ENROLMENT_ENDED, code="ended")
    if ends_on < enrolment.starts_on:
        raise ValidationError(ENDED_BEFORE_START, code="before_start")
    enrolment.ends_on = ends_on
    enrolment.save(update_fields=["ends_on"])
    return first_waiting(enrolment.group)


def first_waiting(group: Group) -> WaitingListEntry | None:
    return (
        group.waiting_list.filter(status=WaitingListEntry.Status.WAITING)
        .select_related("course__patient")
        .order_by("added_at", "pk")
        .first()
    )


@transaction.atomic
def enrol_from_waiting_list(entry: WaitingListEntry, *, by: User, starts_on: date) -> Enrolment:
    """Give a freed seat to a waiting course (the list is served in order by the page)."""
    entry = WaitingListEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != WaitingListEntry.Status.WAITING:
        raise ValidationError(WAITING_NOT_OPEN, code="not_waiting")
    # Count the seats under the group's lock, as enrol() does: for a course already on the
    # waiting list enrol() would only answer "already waiting", not that the group is full.
    group = Group.objects.select_for_update().get(pk=entry.group_id)
    queue = list(
        group.waiting_list.filter(status=WaitingListEntry.Status.WAITING)
        .order_by("added_at", "pk")
        .values_list("pk", flat=True)
    )
    ahead = queue.index(entry.pk)
    if _open_seats(group) <= ahead:
        raise ValidationError(STILL_FULL, code="full")
    result = enrol(entry.course, entry.group, by=by, starts_on=starts_on)
    entry.status = WaitingListEntry.Status.ENROLLED
    entry.save(update_fields=["status"])
    return result


@transaction.atomic
def switch_group(
    enrolment: Enrolment, new_group: Group, *, by: User, on: date, seen: str | None = None
) -> Enrolment:
    """End one enrolment and start another in one step; a full new group refuses."""
    _require_clinic(by)
    # Lock both groups in a fixed order (by id) so two switches cannot deadlock.
    for group_id in sorted({enrolment.group_id, new_group.pk}):
        Group.objects.select_for_update().get(pk=group_id)
    old = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    ensure_unchanged(old, seen)
    if old.ends_on is not None:
        raise ValidationError(ENROLMENT_ENDED, code="ended")
    old.ends_on = max(old.starts_on, on - timedelta(days=1))
    old.save(update_fields=["ends_on"])
    result = enrol(old.course, new_group, by=by, starts_on=on)
    if isinstance(result, WaitingListEntry):
        raise ValidationError(FULL_FOR_SWITCH, code="full")
    return result


# --- Attendance -------------------------------------------------------------------------


@transaction.atomic
def record_attendance(
    session: Session, course: Course, *, by: User, status: str, seen: str | None = None
) -> AttendanceRecord:
    """Record one tap on the attendance page: attended, absent with notice, no-show, or
    cancelled by the clinic. Tapping again changes the record (history keeps the old).

    ``seen`` is the record as the row showed it (``ABSENT`` before the first tap): a tap
    does not overwrite another status another therapist recorded since.
    """
    _require_clinic(by)
    if status not in AttendanceStatus.values:
        raise ValidationError(_("Unknown attendance."), code="invalid")
    ensure_course_accepts_treatment(course)
    session = Session.objects.select_related("group").get(pk=session.pk)
    if session.status == Session.Status.CANCELLED:
        raise ValidationError(SESSION_CANCELLED, code="cancelled")
    day = timezone.localtime(session.starts_at).date()
    if day > timezone.localdate():
        raise ValidationError(SESSION_IN_FUTURE, code="future")
    if not Enrolment.objects.filter(course=course, group=session.group).active_on(day).exists():
        raise ValidationError(NOT_ENROLLED, code="not_enrolled")
    recorded = AttendanceRecord.objects.select_for_update().filter(session=session, course=course)
    record = recorded.first()
    if record is None and seen in (None, ABSENT):
        try:
            with transaction.atomic():
                return AttendanceRecord.objects.create(
                    session=session, course=course, status=status, recorded_by=by
                )
        except IntegrityError:
            # Another tap recorded the participant between the look-up and the insert: judged
            # below like any record saved after the page was opened.
            record = recorded.get()
    if record is not None and record.status == status:
        # Already as tapped, whoever recorded it: nothing to change, so nothing to refuse.
        return record
    ensure_unchanged(record, seen)
    record.status = status
    record.recorded_by = by
    record.recorded_at = timezone.now()
    record.save(update_fields=["status", "recorded_by", "recorded_at"])
    return record


# --- Individual appointments ---------------------------------------------------------------


@transaction.atomic
def book_appointment(
    course: Course,
    *,
    by: User,
    clinician: User,
    starts_at: datetime,
    duration_minutes: int,
    kind: str,
) -> Appointment:
    """Book an individual session with one clinician."""
    _require_clinic(by)
    ensure_course_accepts_treatment(course)
    return Appointment.objects.create(
        course=course,
        clinician=clinician,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        kind=kind,
        created_by=by,
    )


@transaction.atomic
def record_appointment_attendance(
    appointment: Appointment,
    *,
    by: User,
    status: str,
    no_show_reason: NoShowReason | None = None,
    seen: str | None = None,
) -> Appointment:
    """Whether the patient came; for a missed first conversation, the reason given."""
    _require_clinic(by)
    appointment = _lock(Appointment.objects.select_related("course"), appointment.pk, seen)
    ensure_course_accepts_treatment(appointment.course)
    if status not in AttendanceStatus.values:
        raise ValidationError(_("Unknown attendance."), code="invalid")
    if no_show_reason is not None and status not in (
        AttendanceStatus.NO_SHOW,
        AttendanceStatus.ABSENT_NOTICE,
    ):
        raise ValidationError(
            {"no_show_reason": ValidationError(NO_SHOW_REASON_ONLY, code="reason")}
        )
    if timezone.localtime(appointment.starts_at).date() > timezone.localdate():
        raise ValidationError(SESSION_IN_FUTURE, code="future")
    appointment.attendance = status
    appointment.no_show_reason = no_show_reason
    appointment.save(update_fields=["attendance", "no_show_reason"])
    return appointment


# --- Case formulation and plan ---------------------------------------------------------------


class StaleEdit(ValidationError):
    def __init__(self):
        super().__init__(STALE, code="stale")


@dataclass(frozen=True)
class Formulation:
    situations: str = ""
    actions: str = ""
    consequences: str = ""
    alternatives: str = ""
    goals_and_values: str = ""


@transaction.atomic
def save_case_formulation(
    course: Course, *, by: User, version: int, text: Formulation
) -> CaseFormulation:
    """Save the case formulation; a form opened on an older version is refused."""
    _require_clinic(by)
    Course.objects.select_for_update().get(pk=course.pk)
    formulation = CaseFormulation.objects.select_for_update().filter(course=course).first()
    current = formulation.version if formulation else 0
    if version != current:
        raise StaleEdit()
    if formulation is None:
        formulation = CaseFormulation(course=course, version=0)
    for name, value in text.__dict__.items():
        setattr(formulation, name, value)
    formulation.version += 1
    formulation.updated_by = by
    formulation.save()
    return formulation


@transaction.atomic
def save_plan(
    course: Course, *, by: User, version: int, modules: list[Module], goals: str, intensity: str
) -> TreatmentPlan:
    """Save the treatment plan (modules chosen with the patient, goals, intensity)."""
    _require_clinic(by)
    Course.objects.select_for_update().get(pk=course.pk)
    plan = TreatmentPlan.objects.select_for_update().filter(course=course).first()
    current = plan.version if plan else 0
    if version != current:
        raise StaleEdit()
    if plan is None:
        plan = TreatmentPlan(course=course, version=0)
    plan.goals = goals
    plan.intensity = intensity
    plan.version += 1
    plan.updated_by = by
    plan.save()
    plan.modules.set(modules)
    return plan
