"""Deadlines that run from the referral, before any course exists.

The intake meeting's clock starts at first contact, before screening (DESIGN.md
"Coordination"), so its rule lives here rather than in coordination.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NOT_A_DATE = _("The first contact must be a date.")


def intake_meeting_due(first_contact: date) -> date:
    """Last day for the intake meeting: first contact plus INTAKE_MEETING_DEADLINE_DAYS."""
    # A datetime is a date too, but would give a datetime back and tie the deadline to
    # a time of day (and to UTC's calendar instead of the clinic's).
    if not isinstance(first_contact, date) or isinstance(first_contact, datetime):
        raise ValidationError(NOT_A_DATE, code="bad_date")
    # Read per call, not at import, so an overridden setting takes effect at once.
    return first_contact + timedelta(days=settings.INTAKE_MEETING_DEADLINE_DAYS)
