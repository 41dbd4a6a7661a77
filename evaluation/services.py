"""Recording measurements: the answers item by item, the score as computed then."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from apu.models import User
from evaluation.instruments import score
from evaluation.models import Answer, Measurement
from referrals.models import Course

ALREADY_RECORDED = _("%(instrument)s at %(point)s is already recorded for this course.")
FUTURE = _("The date cannot be in the future.")
BEFORE_COURSE = _("The date cannot be before the referral's first contact.")
CLINIC_ONLY = _("Only clinic staff can enter measurements.")


@transaction.atomic
def record_measurement(
    course: Course,
    *,
    by: User,
    instrument: str,
    point: str,
    answered_on: date,
    answers: list[int],
) -> Measurement:
    """Score and store one questionnaire; a PHQ-9 item-9 answer above 0 is flagged."""
    if not by.is_clinic_staff:
        raise PermissionDenied(CLINIC_ONLY)
    if answered_on > timezone.localdate():
        raise ValidationError({"answered_on": ValidationError(FUTURE, code="future")})
    if answered_on < course.referral.first_contact:
        raise ValidationError({"answered_on": ValidationError(BEFORE_COURSE, code="before")})
    if point not in Measurement.Point.values:
        raise ValidationError(_("Unknown measurement point."), code="point")
    result = score(instrument, answers, sex=course.patient.sex)
    try:
        # A savepoint, so a duplicate is reported instead of breaking the transaction.
        with transaction.atomic():
            measurement = Measurement.objects.create(
                course=course,
                instrument=instrument,
                point=point,
                answered_on=answered_on,
                total=result.total,
                band=result.band,
                flags=sorted(result.flags),
                percentage=result.percentage,
                entered_by=by,
            )
    except IntegrityError as error:
        label = Measurement.Point(point).label
        raise ValidationError(
            ALREADY_RECORDED, code="duplicate", params={"instrument": instrument, "point": label}
        ) from error
    bulk_create_with_history(
        [
            Answer(measurement=measurement, number=n, value=v)
            for n, v in enumerate(answers, start=1)
        ],
        Answer,
    )
    return measurement
