"""The one helper every patient-facing view calls to log the look."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.http import HttpRequest

from apu.models import AccessLog


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
    return AccessLog.objects.filter(
        content_type=ContentType.objects.get_for_model(patient), object_id=patient.pk
    ).select_related("user")
