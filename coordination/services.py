"""State changes of coordination: plan meetings, schedule, record outcomes, discharge.

Accepting a referral is orchestrated here, so the course and its three meetings are
created in one transaction while ``referrals`` stays unaware of this app.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from apu.models import User
from apu.versioning import ensure_unchanged
from coordination.deadlines import discharge_meeting_due, midpoint_meeting_due
from coordination.models import Action, CalendarFeed, Discharge, Meeting, new_feed_token
from referrals.models import Course, Decision, Referral
from referrals.services import decide_referral

STALE = _(
    "Someone else saved this meeting after you opened it. Their changes are shown below; "
    "your text is still in the form. Check it and save again."
)
CLOSED_COURSE = _("The course is discharged; its meetings can no longer be changed.")
HELD_NEEDS_SUMMARY = _("Write a summary of what was agreed at the meeting.")
ABSENT_NEEDS_ANSWER = _("The patient was absent: record whether the patient accepted the plan.")
OUTCOME_STATUSES_ONLY = _("An outcome is held, patient did not attend, or cancelled.")
ALREADY_DISCHARGED = _("The course is already discharged.")
DISCHARGE_MEETING_FIRST = _("Hold the discharge meeting first, or write why it could not be held.")
DISCHARGE_BEFORE_START = _("The discharge date cannot be before the course started.")
DISCHARGE_IN_FUTURE = _("The discharge date cannot be in the future.")
AWAITING_INTAKE = _(
    "No treatment before the intake meeting: record the coordination meeting with the "
    "municipality as held first."
)
COURSE_DISCHARGED = _("The course is discharged and accepts no further treatment.")
CLINIC_ONLY = _("Only clinic staff can do this.")


class StaleEdit(ValidationError):
    """The form started from an older version of the meeting than the one saved now."""

    def __init__(self, changes: list[tuple[str, str]], *, version: int | None = None):
        super().__init__(STALE, code="stale")
        self.changes = changes
        # The version saved now: the refused form carries it, so saving again after checking
        # the changes goes through instead of being refused over and over.
        self.version = version


# --- The gate the treatment services in ``modules`` call -------------------------------


def ensure_course_accepts_treatment(course: Course) -> None:
    """Refuse treatment before the intake meeting is held, and after discharge."""
    if course.status == Course.Status.AWAITING_INTAKE:
        raise ValidationError(AWAITING_INTAKE, code="awaiting_intake")
    if course.status == Course.Status.DISCHARGED:
        raise ValidationError(COURSE_DISCHARGED, code="discharged")


# --- Planning ---------------------------------------------------------------------------


def plan_meetings(course: Course) -> list[Meeting]:
    """The intake, midpoint and discharge meetings every course gets, with their due dates."""
    dues = {
        Meeting.Kind.INTAKE: course.intake_meeting_due,
        Meeting.Kind.MIDPOINT: midpoint_meeting_due(
            start=course.start, planned_end=course.planned_end
        ),
        Meeting.Kind.DISCHARGE: discharge_meeting_due(
            start=course.start, planned_end=course.planned_end
        ),
    }
    return [
        Meeting.objects.create(course=course, kind=kind, due_date=due) for kind, due in dues.items()
    ]


@transaction.atomic
def decide_and_plan(
    referral: Referral, *, by: User, kind: str, reason: str = "", seen: str | None = None
) -> Decision:
    """Decide a referral; an acceptance opens the course and plans its three meetings.

    ``seen``: the referral as the form showed it (see ``decide_referral``).
    """
    decision = decide_referral(referral, by=by, kind=kind, reason=reason, seen=seen)
    if decision.kind == Decision.Kind.ACCEPT:
        plan_meetings(Course.objects.get(referral_id=referral.pk))
    return decision


@transaction.atomic
def add_extra_meeting(course: Course, *, by: User, due_date: date) -> Meeting:
    """An extra coordination meeting, beyond the three planned ones."""
    if not by.is_clinic_staff:
        raise PermissionDenied(CLINIC_ONLY)
    course = Course.objects.select_for_update().get(pk=course.pk)
    if course.status == Course.Status.DISCHARGED:
        raise ValidationError(CLOSED_COURSE, code="closed")
    return Meeting.objects.create(course=course, kind=Meeting.Kind.EXTRA, due_date=due_date)


# --- Editing a meeting, with a version check ---------------------------------------------


def _locked(meeting: Meeting, version: int) -> Meeting:
    # Lock the row so the version check and the save are one step for concurrent editors.
    current = Meeting.objects.select_for_update().select_related("course").get(pk=meeting.pk)
    if current.course.status == Course.Status.DISCHARGED:
        raise ValidationError(CLOSED_COURSE, code="closed")
    if current.version != version:
        raise StaleEdit(changes_since(current, version), version=current.version)
    return current


def changes_since(meeting: Meeting, version: int) -> list[tuple[str, str]]:
    """(field label, value now) for each field changed since ``version`` was saved."""
    # history_id breaks ties: two saves can carry the same timestamp (one clock tick).
    newest_first = ("-history_date", "-history_id")
    old = meeting.history.filter(version=version).order_by(*newest_first).first()
    new = meeting.history.order_by(*newest_first).first()
    if old is None or new is None:
        return []
    delta = new.diff_against(old, excluded_fields=["version", "updated_at", "outcome_recorded_at"])
    # The newest history row is the row as saved now, so the values come from ``meeting``.
    return [
        (str(Meeting._meta.get_field(change.field).verbose_name), _shown(meeting, change.field))
        for change in delta.changes
    ]


def _person(user: User) -> str:
    return user.get_full_name() or user.username


def _shown(meeting: Meeting, name: str) -> str:
    """A field's value as the pages show it: labels, names, local dates and times."""
    field = Meeting._meta.get_field(name)
    if field.many_to_many:
        return ", ".join(_person(user) for user in getattr(meeting, name).all())
    if field.choices:
        return str(getattr(meeting, f"get_{name}_display")())
    value = getattr(meeting, name)
    if value is None:
        return ""
    if isinstance(value, User):
        return _person(value)
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "d.m.Y H:i")
    if isinstance(value, date):
        return date_format(value, "d.m.Y")
    return str(value)


@transaction.atomic
def schedule_meeting(
    meeting: Meeting,
    *,
    by: User,
    version: int,
    scheduled_at: datetime,
    place: str,
    duration_minutes: int = 60,
) -> Meeting:
    """Set or move the meeting's time and place; a move keeps the old time in history."""
    meeting = _locked(meeting, version)
    moved = meeting.scheduled_at is not None and meeting.scheduled_at != scheduled_at
    if moved or meeting.status in (Meeting.Status.CANCELLED, Meeting.Status.PATIENT_ABSENT):
        meeting.status = Meeting.Status.RESCHEDULED
    elif meeting.status == Meeting.Status.HELD:
        raise ValidationError(_("The meeting has been held; add an extra meeting instead."))
    meeting.scheduled_at = scheduled_at
    meeting.place = place
    meeting.duration_minutes = duration_minutes
    meeting.version += 1
    meeting.save()
    return meeting


@dataclass(frozen=True)
class ActionInput:
    what: str
    responsible: str
    person: str = ""
    due_date: date | None = None
    done: bool = False


@transaction.atomic
def record_outcome(
    meeting: Meeting,
    *,
    by: User,
    version: int,
    status: str,
    summary: str = "",
    patient_present: bool | None = None,
    patient_accepted_plan: bool | None = None,
    other_participants: str = "",
    clinic_staff: list[User] | None = None,
    action_plan_status: str = "",
    action_plan_date: date | None = None,
    action_plan_summary: str = "",
    plan_fit: str = "",
    next_meeting_date: date | None = None,
    new_actions: list[ActionInput] | None = None,
) -> Meeting:
    """Write what happened at the meeting; a held intake meeting starts the treatment."""
    meeting = _locked(meeting, version)
    if status not in (Meeting.Status.HELD, Meeting.Status.PATIENT_ABSENT, Meeting.Status.CANCELLED):
        raise ValidationError({"status": ValidationError(OUTCOME_STATUSES_ONLY, code="status")})
    if status == Meeting.Status.HELD and not summary.strip():
        raise ValidationError({"summary": ValidationError(HELD_NEEDS_SUMMARY, code="summary")})
    if status == Meeting.Status.HELD and patient_present is False and patient_accepted_plan is None:
        raise ValidationError(
            {"patient_accepted_plan": ValidationError(ABSENT_NEEDS_ANSWER, code="accepted")}
        )
    meeting.status = status
    meeting.summary = summary
    meeting.patient_present = patient_present
    meeting.patient_accepted_plan = patient_accepted_plan if patient_present is False else None
    meeting.other_participants = other_participants
    meeting.action_plan_status = action_plan_status
    meeting.action_plan_date = action_plan_date
    meeting.action_plan_summary = action_plan_summary
    meeting.plan_fit = plan_fit
    meeting.next_meeting_date = next_meeting_date
    if by.is_coordinator and meeting.coordinator_id is None:
        meeting.coordinator = by
    meeting.outcome_recorded_at = timezone.now()
    meeting.outcome_recorded_by = by
    meeting.version += 1
    meeting.save()
    if clinic_staff is not None:
        meeting.clinic_staff.set(clinic_staff)
    for item in new_actions or []:
        Action.objects.create(
            meeting=meeting,
            what=item.what,
            responsible=item.responsible,
            person=item.person,
            due_date=item.due_date,
            done=item.done,
        )
    if meeting.kind == Meeting.Kind.INTAKE and status == Meeting.Status.HELD:
        course = Course.objects.select_for_update().get(pk=meeting.course_id)
        if course.status == Course.Status.AWAITING_INTAKE:
            course.status = Course.Status.IN_TREATMENT
            course.save(update_fields=["status", "updated_at"])
    return meeting


@transaction.atomic
def set_action_done(action: Action, *, by: User, done: bool, seen: str | None = None) -> Action:
    """Tick an agreed action off (or back on).

    ``seen`` is the action's fingerprint as the row showed it (apu.versioning): a tick from a
    row changed since is refused. None skips the check (demo data, commands).
    """
    action = Action.objects.select_for_update().select_related("meeting__course").get(pk=action.pk)
    if action.meeting.course.status == Course.Status.DISCHARGED:
        raise ValidationError(CLOSED_COURSE, code="closed")
    ensure_unchanged(action, seen)
    action.done = done
    action.save(update_fields=["done"])
    return action


# --- Discharge --------------------------------------------------------------------------


@transaction.atomic
def discharge_course(
    course: Course,
    *,
    by: User,
    date: date,
    kind: str,
    reason: str = "",
    meeting_not_held_reason: str = "",
    seen: str | None = None,
) -> Discharge:
    """End the course after the discharge meeting (or say why it was not held).

    ``seen`` is the course's fingerprint as the form showed it (apu.versioning): a course
    changed since (its planned end moved, its intake held) is refused, so the discharge is
    decided on the course as it is. None skips the check (demo data, commands).
    """
    if not by.is_clinic_staff:
        raise PermissionDenied(CLINIC_ONLY)
    # Locked until the discharge is saved, so the check against what the form saw holds.
    course = Course.objects.select_for_update().get(pk=course.pk)
    # Discharged first: "save again" would be no advice for a course already ended.
    if course.status == Course.Status.DISCHARGED:
        raise ValidationError(ALREADY_DISCHARGED, code="discharged")
    ensure_unchanged(course, seen)
    if date < course.start:
        raise ValidationError(
            {"date": ValidationError(DISCHARGE_BEFORE_START, code="before_start")}
        )
    if date > timezone.localdate():
        raise ValidationError({"date": ValidationError(DISCHARGE_IN_FUTURE, code="future")})
    discharge_held = course.meetings.filter(
        kind=Meeting.Kind.DISCHARGE, status=Meeting.Status.HELD
    ).exists()
    if not discharge_held and not meeting_not_held_reason.strip():
        raise ValidationError(
            {"meeting_not_held_reason": ValidationError(DISCHARGE_MEETING_FIRST, code="meeting")}
        )
    discharge = Discharge.objects.create(
        course=course,
        date=date,
        kind=kind,
        reason=reason,
        meeting_not_held_reason=meeting_not_held_reason if not discharge_held else "",
        recorded_by=by,
    )
    # Meetings still waiting will not happen now; cancel them so no worklist chases them.
    for meeting in course.meetings.select_for_update().filter(status__in=Meeting.OPEN_STATUSES):
        meeting.status = Meeting.Status.CANCELLED
        meeting.version += 1
        meeting.save(update_fields=["status", "version", "updated_at"])
    course.status = Course.Status.DISCHARGED
    course.save(update_fields=["status", "updated_at"])
    return discharge


# --- Calendar feeds ---------------------------------------------------------------------


def renew_calendar_feed(user: User) -> CalendarFeed:
    """Give the user a feed URL with a new secret; any older URL stops working."""
    feed, created = CalendarFeed.objects.get_or_create(user=user)
    if not created:
        feed.token = new_feed_token()
        feed.save(update_fields=["token"])
    return feed


def revoke_calendar_feed(user: User) -> None:
    """Turn the user's feed off: its URL answers 404 from now on."""
    CalendarFeed.objects.filter(user=user).delete()
