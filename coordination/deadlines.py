"""When the midpoint and discharge coordination meetings are due (DESIGN.md, Coordination).

The intake meeting's deadline lives with the referral (``referrals.deadlines``), since
its clock starts at the first contact, before any course exists.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

BAD_PERIOD = _("The planned end must be a date after the start.")


def _check(start: date, planned_end: date) -> None:
    for value in (start, planned_end):
        # datetime is a date subclass; a datetime here would give a datetime back.
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise ValidationError(BAD_PERIOD, code="bad_period")
    if planned_end <= start:
        raise ValidationError(BAD_PERIOD, code="bad_period")


def midpoint_meeting_due(*, start: date, planned_end: date) -> date:
    """Halfway: the start plus half the whole days to the planned end, rounded down."""
    _check(start, planned_end)
    return start + timedelta(days=(planned_end - start).days // 2)


def discharge_meeting_due(*, start: date, planned_end: date) -> date:
    """On the planned end date."""
    _check(start, planned_end)
    return planned_end
