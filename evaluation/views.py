from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apu.access import log_patient_accesses
from apu.models import User
from apu.permissions import role_required
from evaluation import queries, services
from evaluation.forms import MeasurementForm
from evaluation.instruments import BAND_LABELS, INSTRUMENTS
from modules.views import course_context, get_course

ITEM9_WARNING = gettext_lazy(
    "PHQ-9 item 9 is above 0: the patient reports thoughts of death or self-harm. "
    "Assess the suicide risk today. The answer is on the clinic's safety list."
)
CLINIC = (User.Role.CLINICIAN, User.Role.ADMIN)
CLINIC_AND_COORDINATORS = (*CLINIC, User.Role.COORDINATOR)


def _is_clinic(user: User) -> bool:
    return user.is_superuser or user.role in CLINIC


@role_required(*CLINIC_AND_COORDINATORS)
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The course page: pathway, treatment and hours, and the outcome charts (clinic only)."""
    course = get_course(request, pk)
    context = course_context(request, course)
    context["charts"] = queries.course_charts(course) if _is_clinic(request.user) else []
    context["instruments"] = list(INSTRUMENTS)
    context["band_labels"] = BAND_LABELS
    return render(request, "evaluation/course_detail.html", context)


@role_required(*CLINIC_AND_COORDINATORS)
def measurement_new(request: HttpRequest, pk: int, instrument: str) -> HttpResponse:
    """Enter one questionnaire; an item-9 answer above 0 on PHQ-9 warns at once."""
    if instrument not in INSTRUMENTS:
        raise Http404
    course = get_course(request, pk)
    if not _is_clinic(request.user):
        raise PermissionDenied
    form = MeasurementForm(
        request.POST or None, instrument=instrument, initial={"point": request.GET.get("point")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            measurement = services.record_measurement(
                course,
                by=request.user,
                instrument=instrument,
                point=form.cleaned_data["point"],
                answered_on=form.cleaned_data["answered_on"],
                answers=form.answers(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if measurement.item9_positive:
                messages.error(request, ITEM9_WARNING)
            messages.success(
                request,
                _("%(instrument)s saved: %(total)s points.")
                % {"instrument": instrument, "total": measurement.total},
            )
            return redirect("course_detail", pk=course.pk)
    context = {"course": course, "form": form, "instrument": instrument}
    return render(
        request, "evaluation/measurement_form.html", context, status=400 if form.errors else 200
    )


@role_required(*CLINIC)
def worklist(request: HttpRequest) -> HttpResponse:
    """Measurements due or missing, and answers flagged for the clinician's attention."""
    context = {
        "due": queries.measurements_due(request.user),
        "flagged": queries.flagged(request.user),
    }
    log_patient_accesses(
        request, [item.course.patient for item in context["flagged"]], what="flagged measurement"
    )
    return render(request, "evaluation/worklist.html", context)
