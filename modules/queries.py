"""Reads for treatment pages: hours, follow-up flags, the attendance page, the day."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from apu.models import User
from modules.hours import hours_of, norm_hours
from modules.models import (
    CHARGED,
    Appointment,
    Attendance,
    AttendanceStatus,
    Enrolment,
    Group,
    Session,
)
from referrals.models import Course

WARN_SHARE = Decimal("0.8")
FOLLOW_UP_DAYS = 28


@dataclass(frozen=True)
class Hours:
    budget: Decimal
    used: Decimal
    received: Decimal
    projected: Decimal | None
    # Group sessions held, by the patient's attendance status (every status, 0 when none).
    attendance: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> Decimal:
        return self.used / self.budget if self.budget else Decimal(0)

    @property
    def percent(self) -> int:
        return int(min(self.share, Decimal(1)) * 100)

    @property
    def level(self) -> str:
        if self.share >= 1:
            return "over"
        return "warn" if self.share >= WARN_SHARE else "ok"

    @property
    def projected_level(self) -> str:
        if self.projected is None:
            return "ok"
        if self.projected >= self.budget:
            return "over"
        return "warn" if self.projected >= self.budget * WARN_SHARE else "ok"


def hours_by_course(
    course_ids: list[int], *, seats: list | None = None
) -> dict[int, tuple[Decimal, Decimal]]:
    """(norm hours used, treatment hours received) for each course, in two queries.

    The records counted: group sessions that took place and the patient attended or did
    not show for, and individual appointments likewise; the rule itself is in
    ``modules.hours``. ``seats``: the courses' seats at group sessions as ``_seats`` reads
    them, when the caller has them already (any status: only the charged ones count).
    """
    used: dict[int, Decimal] = defaultdict(Decimal)
    received: dict[int, Decimal] = defaultdict(Decimal)
    if seats is None:
        seats = _seats(course_ids, status__in=CHARGED)
    _charge_seats(seats, used, received)
    _charge_appointments(course_ids, used, received)
    return {course_id: (used[course_id], received[course_id]) for course_id in course_ids}


def _seats(course_ids: list[int], **status) -> QuerySet:
    """The courses' seats at group sessions that took place, with what charging them needs."""
    return Attendance.objects.filter(
        course_id__in=course_ids, session__status=Session.Status.PLANNED, **status
    ).values_list(
        "course_id",
        "status",
        "session__duration_minutes",
        "session__therapist_count",
        "session__normed_group_size",
    )


def _charge_seats(seats, used: dict, received: dict) -> None:
    for course_id, status, minutes, therapists, size in seats:
        if status not in CHARGED:
            continue
        duration = timedelta(minutes=minutes)
        used[course_id] += norm_hours(
            duration=duration, therapists=therapists, normed_group_size=size
        )
        if status == AttendanceStatus.ATTENDED:
            received[course_id] += hours_of(duration)


def _charge_appointments(course_ids: list[int], used: dict, received: dict) -> None:
    appointments = Appointment.objects.filter(
        course_id__in=course_ids, attendance__in=CHARGED
    ).values_list("course_id", "attendance", "duration_minutes")
    for course_id, status, minutes in appointments:
        used[course_id] += hours_of(timedelta(minutes=minutes))
        if status == AttendanceStatus.ATTENDED:
            received[course_id] += hours_of(timedelta(minutes=minutes))


def course_hours(course: Course, *, today: date | None = None) -> Hours:
    """Norm hours used and treatment hours received, with a projection to the planned end
    at the current pace, and the patient's attendance at group sessions (two queries)."""
    today = today or timezone.localdate()
    seats = list(_seats([course.pk]))
    used, received = hours_by_course([course.pk], seats=seats)[course.pk]
    attendance = dict.fromkeys(AttendanceStatus.values, 0)
    for _course_id, status, *_session in seats:
        attendance[status] += 1
    elapsed = (min(today, course.planned_end) - course.start).days
    total = (course.planned_end - course.start).days
    projected = None
    if elapsed > 0 and total > 0 and course.status != Course.Status.DISCHARGED:
        projected = used * Decimal(total) / Decimal(elapsed)
    return Hours(
        budget=course.norm_hour_budget,
        used=used,
        received=received,
        projected=projected,
        attendance=attendance,
    )


def follow_up_courses(user: User, *, today: date | None = None) -> QuerySet[Course]:
    """Courses in treatment that may be dropping out: the last two group sessions were
    no-shows, or an active enrolment has had no attended session for four weeks."""
    today = today or timezone.localdate()
    recorded = Attendance.objects.filter(course=OuterRef("pk")).order_by("-session__starts_at")
    cutoff = timezone.make_aware(datetime.combine(today - timedelta(days=FOLLOW_UP_DAYS), time.min))
    # NOT EXISTS rather than the latest attended session (a MAX over all of a course's
    # attendance, grouped by course): the same courses, without aggregating the attendance
    # of every course in treatment on each page view.
    attended_since = Attendance.objects.filter(
        course=OuterRef("pk"),
        status=AttendanceStatus.ATTENDED,
        session__starts_at__gte=cutoff,
    )
    return (
        Course.objects.for_user(user)
        .filter(status=Course.Status.IN_TREATMENT)
        .annotate(
            last_status=Subquery(recorded.values("status")[:1]),
            previous_status=Subquery(recorded.values("status")[1:2]),
            first_enrolled=Subquery(
                Enrolment.objects.filter(course=OuterRef("pk"), ends_on__isnull=True)
                .order_by("starts_on")
                .values("starts_on")[:1]
            ),
        )
        .filter(
            Q(last_status=AttendanceStatus.NO_SHOW, previous_status=AttendanceStatus.NO_SHOW)
            | Q(first_enrolled__lte=today - timedelta(days=FOLLOW_UP_DAYS))
            & ~Exists(attended_since)
        )
        .select_related("patient__municipality")
        .order_by("patient__name", "pk")
    )


def session_participants(session: Session) -> list[dict]:
    """The courses enrolled on the session's day, with their attendance (two queries)."""
    day = timezone.localtime(session.starts_at).date()
    enrolments = (
        Enrolment.objects.filter(group_id=session.group_id)
        .active_on(day)
        .select_related("course__patient")
        .order_by("course__patient__name")
    )
    records = {a.course_id: a for a in Attendance.objects.filter(session=session)}
    return [{"course": e.course, "attendance": records.get(e.course_id)} for e in enrolments]


def sessions_on(day: date, *, therapist: User | None = None) -> QuerySet[Session]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    sessions = Session.objects.filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=1))
    if therapist is not None:
        sessions = sessions.filter(group__therapists=therapist)
    return sessions.select_related("group__module").order_by("starts_at", "pk")


def appointments_on(day: date, *, clinician: User) -> QuerySet[Appointment]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return (
        Appointment.objects.filter(
            clinician=clinician, starts_at__gte=start, starts_at__lt=start + timedelta(days=1)
        )
        .select_related("course__patient")
        .order_by("starts_at")
    )


def week_grid(monday: date) -> dict:
    """The week's sessions by weekday, for the groups-and-rooms calendar."""
    start = timezone.make_aware(datetime.combine(monday, time.min))
    sessions = (
        Session.objects.filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=7))
        .select_related("group__module")
        .order_by("starts_at")
    )
    days = {monday + timedelta(days=offset): [] for offset in range(5)}
    for session in sessions:
        day = timezone.localtime(session.starts_at).date()
        if day in days:
            days[day].append(session)
    return days


def open_groups() -> QuerySet[Group]:
    today = timezone.localdate()
    return Group.objects.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today)).select_related(
        "module"
    )


OFFERED_GROUPS = 20


def groups_to_offer(
    groups: QuerySet[Group], *, plan_modules: list[int], search: str = ""
) -> QuerySet[Group]:
    """``groups`` as the course page offers them to join: those of the treatment plan's
    modules first, then by module, weekday and time, narrowed by ``search`` (a group's or
    its module's name). The page shows the first OFFERED_GROUPS; a search finds the rest."""
    if search:
        groups = groups.filter(Q(name__icontains=search) | Q(module__name__icontains=search))
    in_plan = Case(When(module_id__in=plan_modules, then=Value(0)), default=Value(1))
    return groups.order_by(in_plan, "module__name", "weekday", "start_time", "name", "pk")


def groups_with_seats() -> QuerySet[Group]:
    """Open groups with their number of taken seats and waiting courses."""
    return (
        open_groups()
        .annotate(
            taken=Count(
                "enrolments",
                filter=Q(enrolments__ends_on__isnull=True)
                & ~Q(enrolments__course__status=Course.Status.DISCHARGED),
                distinct=True,
            ),
            waiting=Count("waiting_list", filter=Q(waiting_list__status="waiting"), distinct=True),
        )
        .order_by("weekday", "start_time", "name", "pk")
    )
