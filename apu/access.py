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


def log_patient_accesses(request: HttpRequest, patients, *, what: str) -> list[AccessLog]:
    """Log a look at several patients at once (a list page): one row each, one query."""
    patients = list(patients)
    if not patients:
        return []
    content_type = ContentType.objects.get_for_model(patients[0])
    return AccessLog.objects.bulk_create(
        AccessLog(
            user=request.user,
            content_type=content_type,
            object_id=patient.pk,
            what=what[:200],
            path=request.path[:500],
        )
        for patient in patients
    )
