"""Reads for outcome pages: charts per course, measurements due, flagged answers."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apu.models import User
from coordination.deadlines import midpoint_meeting_due
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


def measurements_due(user: User, *, today: date | None = None, ahead_days: int = 7) -> list[Due]:
    """Measurement points reached (or within a week) with instruments still missing.

    Two queries: the courses in treatment or discharged within the follow-up window, and
    their measurements.
    """
    today = today or timezone.localdate()
    courses = list(
        Course.objects.for_user(user)
        .exclude(status=Course.Status.AWAITING_INTAKE)
        .exclude(discharge__date__lt=today - FOLLOW_UP_AFTER - timedelta(days=60))
        .select_related("patient__municipality", "discharge")
        .order_by("start", "pk")
    )
    taken: dict[int, set[tuple[str, str]]] = {}
    for course_id, instrument, point in Measurement.objects.filter(course__in=courses).values_list(
        "course_id", "instrument", "point"
    ):
        taken.setdefault(course_id, set()).add((point, instrument))
    due = []
    for course in courses:
        discharge = getattr(course, "discharge", None)
        for point, day in point_dates(course, discharge.date if discharge else None).items():
            if day > today + timedelta(days=ahead_days):
                continue
            missing = [
                code for code in STANDARD_SET if (point, code) not in taken.get(course.pk, set())
            ]
            if missing and (point != Measurement.Point.DISCHARGE or discharge or day <= today):
                due.append(Due(course=course, point=point, due=day, missing=missing))
    return sorted(due, key=lambda item: item.due)


def flagged(user: User, *, today: date | None = None) -> QuerySet[Measurement]:
    """Recent measurements with a safety flag (PHQ-9 item 9 above 0)."""
    today = today or timezone.localdate()
    return (
        Measurement.objects.for_user(user)
        .filter(flags__contains=["item9_positive"], answered_on__gte=today - FLAG_WINDOW)
        .select_related("course__patient")
        .order_by("-answered_on")
    )
