"""Reads for the coordination worklists and pages, each a fixed number of queries."""

from datetime import timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from apu.models import User
from coordination.models import Action, Meeting
from referrals.models import Course, within_reach

SOON_DAYS = 7

# What a worklist row shows (the meeting_rows and unscheduled_course_rows tags): loading only
# these columns halved the cost of a page of 75 rows, and keeps the patients' contact
# details out of it.
PATIENT_ROW = ("name", "cpr", "municipality__name")
MEETING_ROW = (
    "kind",
    "due_date",
    "scheduled_at",
    "status",
    *(f"course__patient__{name}" for name in PATIENT_ROW),
)


def meetings_for(user: User) -> QuerySet[Meeting]:
    return Meeting.objects.for_user(user).select_related("course__patient__municipality")


def meeting_rows(user: User) -> QuerySet[Meeting]:
    """The user's open meetings as worklist rows."""
    return meetings_for(user).open().only(*MEETING_ROW)


def clinic_worklist(user: User, *, municipality_id: int | None = None) -> dict:
    """Overdue meetings, meetings due within 7 days, and courses with no meeting scheduled,
    each most urgent first (unevaluated: the page pages each list)."""
    today = timezone.localdate()
    meetings = meeting_rows(user).order_by("due_date", "pk")
    courses = (
        Course.objects.for_user(user)
        .open()
        .select_related("patient__municipality")
        .only("status", "intake_meeting_due", *(f"patient__{name}" for name in PATIENT_ROW))
    )
    if municipality_id:
        meetings = meetings.filter(municipality_id=municipality_id)
        courses = courses.filter(patient__municipality_id=municipality_id)
    return {
        "overdue": meetings.filter(due_date__lt=today),
        "due_soon": meetings.filter(
            due_date__gte=today, due_date__lte=today + timedelta(days=SOON_DAYS)
        ),
        # The course's own flag (kept by the database from its meetings), not a NOT EXISTS
        # over every open course's meetings: at regional scale that anti-join was most of
        # the page's time in PostgreSQL.
        "unscheduled_courses": courses.filter(meeting_scheduled=False).order_by(
            "intake_meeting_due", "pk"
        ),
    }


def coordinator_worklist(user: User) -> dict:
    """Upcoming meetings, meetings waiting for their outcome, the municipality's open actions,
    each most urgent first (unevaluated: the page pages each list)."""
    now = timezone.now()
    meetings = meeting_rows(user)
    return {
        "upcoming": meetings.filter(
            Q(scheduled_at__gte=now) | Q(scheduled_at__isnull=True)
        ).order_by("due_date", "pk"),
        "awaiting_outcome": meetings.filter(scheduled_at__lt=now).order_by("scheduled_at", "pk"),
        # The reach on the action's own copy of the patient's municipality (the same rule
        # as Meeting.for_user), so one partial index answers the list and its count.
        "open_actions": within_reach(
            Action.objects.filter(responsible=Action.Responsible.MUNICIPALITY, done=False),
            user,
            "",
        )
        .select_related("meeting__course__patient")
        .only("what", "person", "due_date", "meeting__kind", "meeting__course__patient__name")
        .order_by("due_date", "pk"),
    }


def meeting_for_detail(user: User) -> QuerySet[Meeting]:
    return (
        meetings_for(user)
        .select_related("coordinator", "outcome_recorded_by")
        .prefetch_related(
            "clinic_staff", Prefetch("actions", queryset=Action.objects.order_by("due_date", "pk"))
        )
    )


def course_meetings(course: Course) -> QuerySet[Meeting]:
    """The course's meetings as its page lists them and draws them on the timeline."""
    return course.meetings.order_by("due_date", "pk").only(
        "course_id", "kind", "due_date", "scheduled_at", "status"
    )


def feed_meetings(user: User) -> QuerySet[Meeting]:
    """Scheduled meetings for a user's calendar feed, from 30 days back."""
    since = timezone.now() - timedelta(days=30)
    return Meeting.objects.for_user(user).filter(scheduled_at__gte=since).order_by("scheduled_at")


def timeline(course: Course, meetings: list[Meeting]) -> list[dict]:
    """The pathway at a glance: first contact, each meeting (due, held), the discharge."""
    today = timezone.localdate()
    steps = [{"label": "first_contact", "date": course.referral.first_contact, "state": "done"}]
    for meeting in meetings:
        if meeting.status == Meeting.Status.HELD:
            state = "done"
        elif meeting.status in Meeting.OPEN_STATUSES:
            state = "overdue" if meeting.due_date < today else "planned"
        else:
            state = "missed"
        held_on = meeting.scheduled_at and timezone.localtime(meeting.scheduled_at).date()
        shown = held_on if held_on and meeting.status == Meeting.Status.HELD else meeting.due_date
        steps.append({"meeting": meeting, "date": shown, "state": state})
    return steps
