"""The one helper every patient-facing view calls to log the look, and reading the log back."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apu.models import AccessLog

# The printed report lists every look of the period on paper; five years keeps it a document.
MAX_PERIOD_YEARS = 5
DEFAULT_PERIOD_YEARS = 1
PERIOD_BAD_DATE = _("Enter the dates as DD.MM.YYYY or YYYY-MM-DD, for example 02.03.2026.")
PERIOD_REVERSED = _("The start of the period must be on or before its end.")
PERIOD_TOO_LONG = _("The period can be at most five years; choose a later start or an earlier end.")


def log_patient_access(request: HttpRequest, patient: models.Model, *, what: str) -> AccessLog:
    """Record that the logged-in user looked at ``patient``; ``what`` names the page or data."""
    return AccessLog.objects.create(
        user=request.user,
        content_type=ContentType.objects.get_for_model(patient),
        object_id=patient.pk,
        what=what[:200],
        path=request.path[:500],
    )


def accesses_to(patient: models.Model) -> models.QuerySet[AccessLog]:
    """Every logged look at ``patient``, newest first."""
    return (
        AccessLog.objects.filter(
            content_type=ContentType.objects.get_for_model(patient), object_id=patient.pk
        )
        .select_related("user")
        # Looks in the same instant (a list page logs many at once) keep the order they were made.
        .order_by("-at", "-pk")
    )


@dataclass(frozen=True)
class Period:
    """Whole days from ``start`` to ``end``, both included, on the clinic's calendar."""

    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        """The first instant of ``start`` and the first after ``end``, in the clinic's time zone."""
        first = timezone.make_aware(datetime.combine(self.start, time.min))
        after = timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))
        return first, after


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _parse_day(value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    # What a date field sends, and what a Danish reader types where there is no date picker.
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        # A year the log cannot hold (and the calendar arithmetic cannot reach) is a typo.
        if 1900 <= day.year <= 9000:
            return day
    raise ValidationError(PERIOD_BAD_DATE, code="bad_date")


def access_period(start: str | None, end: str | None, *, today: date) -> Period:
    """The period a report asks for, from its ``from`` and ``to`` texts: either may be left
    out (the end is then today, the start a year before the end); at most five years.
    Raises ``ValidationError`` with a message for the user."""
    end_day = _parse_day(end) or today
    start_day = _parse_day(start) or _years_before(end_day, DEFAULT_PERIOD_YEARS)
    if start_day > end_day:
        raise ValidationError(PERIOD_REVERSED, code="reversed")
    if start_day < _years_before(end_day, MAX_PERIOD_YEARS):
        raise ValidationError(PERIOD_TOO_LONG, code="too_long")
    return Period(start_day, end_day)


def accesses_in(patient: models.Model, period: Period | None) -> models.QuerySet[AccessLog]:
    """The looks at ``patient`` in ``period`` (every look when None), newest first, with who
    looked and, for a coordinator, their municipality."""
    looks = accesses_to(patient).select_related("user__municipality")
    if period is None:
        return looks
    first, after = period.bounds()
    return looks.filter(at__gte=first, at__lt=after)


def log_patient_accesses(request: HttpRequest, patients, *, what: str) -> int:
    """Log a look at several patients at once (a list page): one row each, one statement.

    The rows go in as one ``INSERT ... SELECT unnest(ids)`` rather than through
    ``bulk_create``: a worklist logs up to 75 patients on every request, and building a model
    instance per row cost five times the insert itself. Returns the number of rows logged.
    """
    patients = list(patients)
    if not patients:
        return 0
    ids = [patient.pk for patient in patients]
    content_type = ContentType.objects.get_for_model(patients[0])
    log = AccessLog._meta
    columns = ", ".join(
        connection.ops.quote_name(log.get_field(name).column)
        for name in ("at", "user", "content_type", "object_id", "what", "path")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(log.db_table)} ({columns}) "
            "SELECT %s, %s, %s, unnest(%s::bigint[]), %s, %s",
            [timezone.now(), request.user.pk, content_type.pk, ids, what[:200], request.path[:500]],
        )
    return len(ids)
