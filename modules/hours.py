"""Norm hours: the staff time a course is charged (DESIGN.md, "Course and modules").

The rule, as the clinic counts it:
- A group session costs each participant ``duration × therapists ÷ normed group size``
  norm hours: two therapists for two hours with eight places cost 0.5 per place, so the
  course's 25 norm hours buy up to 100 hours of group treatment.
- An individual session costs its duration (one clinician, one patient): therapists 1,
  normed group size 1.
- A course is charged for every session it was booked into that took place, whether the
  patient attended or did not show (the seat was held); a session the clinic cancelled,
  or an absence with notice, costs nothing.
- Treatment hours received count only the sessions the patient attended, in full.
All sums are exact Decimals, never rounded until shown.
"""

from datetime import timedelta
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MICROSECONDS_PER_HOUR = 3600 * 1_000_000
BAD_DURATION = _("The duration must be a positive length of time.")
BAD_THERAPISTS = _("The number of therapists must be a whole number of at least 1.")
BAD_GROUP_SIZE = _("The normed group size must be a whole number of at least 1.")


def _positive_int(value, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(message, code="invalid")
    return value


def norm_hours(*, duration: timedelta, therapists: int, normed_group_size: int) -> Decimal:
    """Norm hours one participant's seat costs: duration × therapists ÷ normed group size."""
    if not isinstance(duration, timedelta) or duration <= timedelta(0):
        raise ValidationError(BAD_DURATION, code="invalid")
    therapists = _positive_int(therapists, BAD_THERAPISTS)
    normed_group_size = _positive_int(normed_group_size, BAD_GROUP_SIZE)
    microseconds = duration // timedelta(microseconds=1)
    # One division of whole numbers, so the result is the rule rounded once, and exact
    # whenever a Decimal can hold it: rounding the hours first made 20 minutes × 3
    # therapists 0.999...9. The widest exponent range keeps any count a Python int can hold
    # from overflowing (decimal.Overflow) or underflowing to 0.
    with localcontext(Emax=MAX_EMAX, Emin=MIN_EMIN):
        return Decimal(microseconds * therapists) / Decimal(
            MICROSECONDS_PER_HOUR * normed_group_size
        )


def hours_of(duration: timedelta) -> Decimal:
    """A duration in hours, exactly."""
    return norm_hours(duration=duration, therapists=1, normed_group_size=1)
