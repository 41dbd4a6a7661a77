"""Reads for outcome pages: charts per course, measurements due, flagged answers."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import (
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from apu.models import User
from coordination.deadlines import midpoint_meeting_due
from coordination.models import Discharge
from evaluation.charts import Point, svg_chart
from evaluation.instruments import INSTRUMENTS
from evaluation.models import Measurement
from referrals.models import Course

# The instruments measured at every point (DESIGN.md: WHO-5, PHQ-9, GAD-7, AUDIT, DUDIT).
STANDARD_SET = list(INSTRUMENTS)
FOLLOW_UP_AFTER = timedelta(days=91)
FLAG_WINDOW = timedelta(days=60)


def course_charts(course: Course) -> list[dict]:
    """Per instrument measured: the SVG chart and the rows of its table (one query)."""
    measurements = list(course.measurements.order_by("answered_on", "pk"))
    charts = []
    for code in STANDARD_SET:
        rows = [m for m in measurements if m.instrument == code]
        if not rows:
            continue
        points = [
            Point(day=m.answered_on, total=m.total, label=m.get_point_display()[:3]) for m in rows
        ]
        charts.append(
            {"instrument": code, "svg": svg_chart(code, points, title=code), "rows": rows}
        )
    return charts


@dataclass(frozen=True)
class Due:
    course: Course
    point: str
    due: date
    missing: list[str]

    @property
    def point_label(self) -> str:
        return Measurement.Point(self.point).label


def point_dates(course: Course, discharge_date: date | None) -> dict[str, date]:
    """When each measurement point falls for a course."""
    dates = {
        Measurement.Point.BASELINE: course.start,
        Measurement.Point.MIDPOINT: midpoint_meeting_due(
            start=course.start, planned_end=course.planned_end
        ),
        Measurement.Point.DISCHARGE: discharge_date or course.planned_end,
    }
    if discharge_date:
        dates[Measurement.Point.FOLLOW_UP] = discharge_date + FOLLOW_UP_AFTER
    return dates


def _point_rows(courses: QuerySet[Course], point: str, due, rank: int) -> QuerySet:
    """The courses whose ``point`` falls on ``due`` (an expression), with the number of the
    standard instruments already measured there."""
    taken = (
        Measurement.objects.filter(course=OuterRef("pk"), point=point)
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return courses.annotate(
        point=Value(point),
        rank=Value(rank),
        due=due,
        taken=Coalesce(Subquery(taken, output_field=IntegerField()), 0),
    )


def points_due(user: User, *, today: date | None = None, ahead_days: int = 7) -> QuerySet[dict]:
    """Measurement points reached (or within a week) with instruments still missing, as
    rows ``{"id", "point", "due"}``, the longest due first; unevaluated, so a page is a
    COUNT and a LIMIT in the database whatever the number of courses.

    The courses: in treatment, or discharged within the follow-up window. A point's day is
    the one ``point_dates`` gives, computed in SQL; the discharge point is listed only once
    it is reached or the course is discharged, the follow-up point only after a discharge.
    """
    today = today or timezone.localdate()
    horizon = today + timedelta(days=ahead_days)
    # Courses discharged long ago are left out by a NOT IN over their discharges, decided
    # before the instruments are counted per course (a join to the discharge would be
    # filtered after the counting, for every course the clinic ever had).
    long_ago = Discharge.objects.filter(date__lt=today - FOLLOW_UP_AFTER - timedelta(days=60))
    courses = (
        Course.objects.for_user(user)
        .exclude(status=Course.Status.AWAITING_INTAKE)
        .exclude(pk__in=long_ago.values("course_id"))
        .order_by()
    )
    Point = Measurement.Point
    # midpoint_meeting_due in SQL: half the whole days to the planned end, rounded down
    # (the half day of an odd count is cut off when the timestamp is cast to a date).
    midpoint = Cast(F("start") + (F("planned_end") - F("start")) / 2, DateField())
    follow_up = Cast(F("discharge__date") + FOLLOW_UP_AFTER, DateField())
    parts = [
        _point_rows(courses, Point.BASELINE, F("start"), 0),
        _point_rows(courses, Point.MIDPOINT, midpoint, 1),
        _point_rows(courses, Point.DISCHARGE, Coalesce("discharge__date", "planned_end"), 2).filter(
            Q(discharge__isnull=False) | Q(due__lte=today)
        ),
        _point_rows(courses.filter(discharge__isnull=False), Point.FOLLOW_UP, follow_up, 3),
    ]
    rows = [
        part.filter(due__lte=horizon, taken__lt=len(STANDARD_SET)).values(
            "id", "point", "due", "start", "rank"
        )
        for part in parts
    ]
    return rows[0].union(*rows[1:], all=True).order_by("due", "start", "id", "rank")


def with_missing(rows: list[dict]) -> list[Due]:
    """The rows of ``points_due`` with their courses and the instruments still missing
    (two queries, whatever the rows)."""
    ids = {row["id"] for row in rows}
    courses = Course.objects.select_related("patient__municipality").in_bulk(ids)
    taken = set(
        Measurement.objects.filter(course_id__in=ids).values_list(
            "course_id", "point", "instrument"
        )
    )
    return [
        Due(
            course=courses[row["id"]],
            point=row["point"],
            due=row["due"],
            missing=[code for code in STANDARD_SET if (row["id"], row["point"], code) not in taken],
        )
        for row in rows
    ]


def measurements_due(user: User, *, today: date | None = None, ahead_days: int = 7) -> list[Due]:
    """Every measurement point due (``points_due``), with courses and missing instruments."""
    return with_missing(list(points_due(user, today=today, ahead_days=ahead_days)))


def flagged(user: User, *, today: date | None = None) -> QuerySet[Measurement]:
    """Recent measurements with a safety flag (PHQ-9 item 9 above 0)."""
    today = today or timezone.localdate()
    return (
        Measurement.objects.for_user(user)
        .filter(flags__contains=["item9_positive"], answered_on__gte=today - FLAG_WINDOW)
        .select_related("course__patient")
        .order_by("-answered_on", "-pk")
    )
