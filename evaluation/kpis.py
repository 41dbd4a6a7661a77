"""The Lean KPIs, aggregated in the database (one query per KPI, whatever the data size).

Each series is monthly; the filters are a period and, optionally, a municipality. A user
sees only what their ``for_user`` reach allows (a coordinator: their municipality).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear, TruncDate, TruncMonth

from apu.models import User
from coordination.models import Discharge, Meeting
from evaluation.models import Measurement
from evaluation.outcomes import CHANGE_RULES
from modules.models import CHARGED, Appointment, Attendance, AttendanceStatus, Session
from referrals.models import Course, Decision, Referral, Screening

ON_TIME_DAYS = 21
# The clinic's norm of courses started per year: 200 at the start, rising to 280.
NORM_FIRST_YEAR, NORM_STEP, NORM_FULL = 200, 40, 280


class Median(Aggregate):
    """PostgreSQL's exact median: percentile_cont(0.5) WITHIN GROUP (ORDER BY ...)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class DaysBetween(Func):
    """Whole days from one date to another (PostgreSQL date - date gives an integer)."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive, a month start
    municipality_id: int | None = None


def _courses(user: User, filters: Filters):
    courses = Course.objects.for_user(user)
    if filters.municipality_id:
        courses = courses.filter(patient__municipality_id=filters.municipality_id)
    return courses


def _months(field: str, filters: Filters) -> dict:
    return {f"{field}__gte": filters.start, f"{field}__lt": _next_month(filters.end)}


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _series(rows, key: str = "value") -> list[tuple[date, float]]:
    series = []
    for row in rows:
        month = row["month"]
        if hasattr(month, "date"):  # TruncMonth of a datetime gives a datetime
            month = month.date()
        if row[key] is not None:
            series.append((month, float(row[key])))
    return series


def courses_started(user: User, filters: Filters):
    rows = (
        _courses(user, filters)
        .filter(**_months("start", filters))
        .annotate(month=TruncMonth("start"))
        .values("month")
        .annotate(value=Count("pk"))
        .order_by("month")
    )
    return _series(rows)


def norm_for_year(year: int, first_year: int) -> int:
    """The yearly norm of started courses: 200 the first year, rising by 40 a year to 280."""
    return min(NORM_FULL, NORM_FIRST_YEAR + NORM_STEP * max(0, year - first_year))


def courses_per_year(user: User, filters: Filters):
    """Courses started per calendar year (whole years, ignoring the period) against the norm."""
    rows = list(
        _courses(user, filters)
        .annotate(year=ExtractYear("start"))
        .values("year")
        .annotate(n=Count("pk"))
        .order_by("year")
    )
    if not rows:
        return []
    # The norm counts from the clinic's first year, whoever is looking.
    first = Course.objects.aggregate(first=Min("start"))["first"].year
    return [
        {"year": row["year"], "started": row["n"], "norm": norm_for_year(row["year"], first)}
        for row in rows
    ]


def intake_timeliness(user: User, filters: Filters):
    """Median days from first contact to the held intake meeting, and the share on time."""
    held = Meeting.objects.filter(
        course__in=_courses(user, filters),
        kind=Meeting.Kind.INTAKE,
        status=Meeting.Status.HELD,
        scheduled_at__isnull=False,
    ).annotate(
        held_on=TruncDate("scheduled_at"),
        days=DaysBetween(TruncDate("scheduled_at"), F("course__referral__first_contact")),
    )
    rows = list(
        held.filter(**_months("held_on", filters))
        .annotate(month=TruncMonth("held_on"))
        .values("month")
        .annotate(
            median=Median("days"),
            on_time=Avg(Case(When(days__lte=ON_TIME_DAYS, then=Value(100.0)), default=Value(0.0))),
            n=Count("pk"),
        )
        .order_by("month")
    )
    return _series(rows, "median"), _series(rows, "on_time")


def first_conversation_no_show(user: User, filters: Filters):
    """Share of first conversations not attended (no-show), by month; and the reasons."""
    first = Appointment.objects.filter(
        course__in=_courses(user, filters), kind=Appointment.Kind.FIRST_CONVERSATION
    ).exclude(attendance="")
    first = first.filter(**_months("starts_at__date", filters))
    rows = (
        first.annotate(month=TruncMonth("starts_at"))
        .values("month")
        .annotate(
            value=Avg(
                Case(
                    When(attendance=AttendanceStatus.NO_SHOW, then=Value(100.0)), default=Value(0.0)
                )
            )
        )
        .order_by("month")
    )
    reasons = list(
        first.exclude(attendance=AttendanceStatus.ATTENDED)
        .values("no_show_reason__name")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    return _series(rows), reasons


def _group_attendance(user: User, filters: Filters):
    """Per group over the period: booked and attended seats and the sessions held."""
    return (
        Attendance.objects.filter(
            course__in=_courses(user, filters),
            session__status=Session.Status.PLANNED,
            **_months("session__starts_at__date", filters),
        )
        .exclude(status=AttendanceStatus.CANCELLED_BY_CLINIC)
        .values("session__group__module__name", "session__group__name", "session__group__capacity")
        .annotate(
            booked=Count("pk"),
            attended=Count("pk", filter=Q(status=AttendanceStatus.ATTENDED)),
            sessions=Count("session", distinct=True),
        )
        .order_by("session__group__module__name", "session__group__name")
    )


def _rates(attended: int, booked: int, seats: int) -> dict:
    return {
        "attendance_rate": round(100 * attended / booked, 1) if booked else None,
        "fill_rate": round(100 * booked / seats, 1) if seats else None,
    }


def attendance_by_group(user: User, filters: Filters):
    """Attendance rate and fill rate per module and group over the period."""
    return group_table(list(_group_attendance(user, filters)))


def attendance_by_module(user: User, filters: Filters):
    """Attendance rate and fill rate per module over the period, all its groups together
    (a region runs many groups of each module; the page shows these, the export each group)."""
    return module_table(list(_group_attendance(user, filters)))


def attendance_tables(user: User, filters: Filters) -> tuple[list, list]:
    """Both tables, per group and per module, from one query."""
    rows = list(_group_attendance(user, filters))
    return group_table(rows), module_table(rows)


def group_table(rows) -> list:
    table = []
    for row in rows:
        seats = row["session__group__capacity"] * row["sessions"]
        table.append(
            {
                "module": row["session__group__module__name"],
                "group": row["session__group__name"],
                "sessions": row["sessions"],
                **_rates(row["attended"], row["booked"], seats),
            }
        )
    return table


def module_table(rows) -> list:
    modules: dict[str, dict] = {}
    for row in rows:
        total = modules.setdefault(
            row["session__group__module__name"],
            {"groups": 0, "sessions": 0, "booked": 0, "attended": 0, "seats": 0},
        )
        total["groups"] += 1
        total["sessions"] += row["sessions"]
        total["booked"] += row["booked"]
        total["attended"] += row["attended"]
        total["seats"] += row["session__group__capacity"] * row["sessions"]
    return [
        {
            "module": name,
            "groups": total["groups"],
            "sessions": total["sessions"],
            **_rates(total["attended"], total["booked"], total["seats"]),
        }
        for name, total in modules.items()
    ]


def attendance_rate(user: User, filters: Filters):
    rows = (
        Attendance.objects.filter(
            course__in=_courses(user, filters),
            session__status=Session.Status.PLANNED,
            **_months("session__starts_at__date", filters),
        )
        .exclude(status=AttendanceStatus.CANCELLED_BY_CLINIC)
        .annotate(month=TruncMonth("session__starts_at"))
        .values("month")
        .annotate(
            value=Avg(
                Case(When(status=AttendanceStatus.ATTENDED, then=Value(100.0)), default=Value(0.0))
            )
        )
        .order_by("month")
    )
    return _series(rows)


HOURS = DecimalField(max_digits=12, decimal_places=6)


def _hours(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=HOURS)


def _summed_per_course(records, hours) -> Coalesce:
    """The sum of ``hours`` over a course's ``records`` as a subquery; 0 when there are none."""
    total = records.filter(course=OuterRef("pk")).values("course").annotate(total=Sum(hours))
    return Coalesce(
        Subquery(total.values("total"), output_field=HOURS), Value(Decimal(0)), output_field=HOURS
    )


def _hours_per_course(group_statuses, individual_statuses, *, group_norm: bool):
    """Hours per course in SQL, by the rule of ``modules.hours``: group sessions that took
    place, each costing duration × therapists ÷ normed group size as norm hours (or the full
    duration as treatment hours), plus individual appointments at their duration."""
    minutes = Cast("session__duration_minutes", HOURS)
    group_hours = (
        minutes * F("session__therapist_count") / (F("session__normed_group_size") * 60)
        if group_norm
        else minutes / 60
    )
    seats = Attendance.objects.filter(
        status__in=group_statuses, session__status=Session.Status.PLANNED
    )
    appointments = Appointment.objects.filter(attendance__in=individual_statuses)
    return _summed_per_course(seats, _hours(group_hours)) + _summed_per_course(
        appointments, _hours(Cast("duration_minutes", HOURS) / 60)
    )


def _norm_hours_per_course():
    """Norm hours used: attended or no-show (the seat or the clinician's time was held)."""
    return _hours_per_course(CHARGED, CHARGED, group_norm=True)


def _received_hours_per_course():
    """Treatment hours received: attended sessions, in full."""
    attended = [AttendanceStatus.ATTENDED]
    return _hours_per_course(attended, attended, group_norm=False)


def hours_per_discharged_course(user: User, filters: Filters):
    """Median norm hours used and treatment hours received by courses discharged each month."""
    rows = list(
        _courses(user, filters)
        .filter(discharge__isnull=False, **_months("discharge__date", filters))
        .annotate(used=_norm_hours_per_course(), received=_received_hours_per_course())
        .annotate(month=TruncMonth("discharge__date"))
        .values("month")
        .annotate(used_median=Median("used"), received_median=Median("received"))
        .order_by("month")
    )
    return _series(rows, "used_median"), _series(rows, "received_median")


def drop_out(user: User, filters: Filters):
    rows = (
        Discharge.objects.filter(course__in=_courses(user, filters), **_months("date", filters))
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(
            value=Avg(
                Case(When(kind=Discharge.Kind.DROPPED_OUT, then=Value(100.0)), default=Value(0.0))
            )
        )
        .order_by("month")
    )
    return _series(rows)


def quadrant_mix(user: User, filters: Filters):
    """Counts per quadrant (mental × substance severity) of referred and of accepted patients."""
    newest = (
        Screening.objects.filter(referral=OuterRef("referral"))
        .order_by("-screened_at", "-pk")
        .values("pk")[:1]
    )
    screenings = (
        Screening.objects.filter(
            pk=Subquery(newest),
            referral__in=Referral.objects.for_user(user).filter(
                **_months("first_contact", filters)
            ),
        )
        .exclude(mental_severity="")
        .exclude(substance_severity="")
    )
    if filters.municipality_id:
        screenings = screenings.filter(referral__patient__municipality_id=filters.municipality_id)
    rows = screenings.values("mental_severity", "substance_severity").annotate(
        referred=Count("pk"),
        accepted=Count("pk", filter=Q(referral__decision__kind=Decision.Kind.ACCEPT)),
    )
    return {(row["mental_severity"], row["substance_severity"]): row for row in rows}


def outcome_change(user: User, filters: Filters):
    """Per instrument: courses discharged in the period with baseline and discharge measured,
    the mean change, the shares with reliable improvement / deterioration, and the share of
    those clinical at baseline who ended below the cut-off (thresholds in outcomes.py)."""
    discharge_total = Measurement.objects.filter(
        course=OuterRef("course"),
        instrument=OuterRef("instrument"),
        point=Measurement.Point.DISCHARGE,
    ).values("total")[:1]
    pairs = (
        Measurement.objects.filter(
            course__in=_courses(user, filters),
            point=Measurement.Point.BASELINE,
            course__discharge__date__gte=filters.start,
            course__discharge__date__lt=_next_month(filters.end),
        )
        .annotate(later=Subquery(discharge_total, output_field=IntegerField()))
        .filter(later__isnull=False)
        .annotate(change=F("later") - F("total"))
    )
    aggregates = {}
    for code, rule in CHANGE_RULES.items():
        key = code.replace("-", "").lower()
        scale = 4 if rule.uses_percentage else 1
        better = f"better_{key}"
        pairs = pairs.annotate(
            **{
                better: (F("total") - F("later"))
                if rule.higher_is_worse
                else (F("later") - F("total"))
            }
        )
        cutoff = rule.cutoff / scale
        if rule.higher_is_worse:
            before, after = Q(total__gte=cutoff), Q(later__gte=cutoff)
        else:
            before, after = Q(total__lt=cutoff), Q(later__lt=cutoff)
        this = Q(instrument=code)
        aggregates[f"{key}_n"] = Count("pk", filter=this)
        aggregates[f"{key}_mean"] = Avg("change", filter=this)
        aggregates[f"{key}_clinical"] = Count("pk", filter=this & before)
        aggregates[f"{key}_recovered"] = Count("pk", filter=this & before & ~after)
        if rule.reliable is not None:
            threshold = rule.reliable / scale
            aggregates[f"{key}_improved"] = Count(
                "pk", filter=this & Q(**{f"{better}__gte": threshold})
            )
            aggregates[f"{key}_worse"] = Count(
                "pk", filter=this & Q(**{f"{better}__lte": -threshold})
            )
    result = pairs.aggregate(**aggregates)  # one query for all instruments
    table = []
    for code in CHANGE_RULES:
        key = code.replace("-", "").lower()
        n, mean = result[f"{key}_n"], result[f"{key}_mean"]
        table.append(
            {
                "instrument": code,
                "n": n,
                "mean_change": round(mean, 1) if mean is not None else None,
                "improved": _share(result.get(f"{key}_improved"), n),
                "deteriorated": _share(result.get(f"{key}_worse"), n),
                "recovered": _share(result[f"{key}_recovered"], result[f"{key}_clinical"]),
            }
        )
    return table


def _share(part, whole) -> float | None:
    if not whole or part is None:
        return None
    return round(100 * part / whole, 1)
