from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apu.access import log_patient_access, log_patient_accesses
from apu.models import User
from apu.permissions import get_for_user_or_404, role_required
from evaluation import dashboard as dashboard_data
from evaluation import queries, services
from evaluation.dashboard import DashboardFilterForm
from evaluation.forms import ImprovementNoteForm, MeasurementForm
from evaluation.instruments import INSTRUMENTS
from evaluation.models import ImprovementNote
from modules.views import course_context, get_course
from referrals.pagination import paginate
from referrals.queries import course_for_detail

ITEM9_WARNING = gettext_lazy(
    "PHQ-9 item 9 is above 0: the patient reports thoughts of death or self-harm. "
    "Assess the suicide risk today. The answer is on the clinic's safety list."
)
CLINIC = (User.Role.CLINICIAN, User.Role.ADMIN)
CLINIC_AND_COORDINATORS = (*CLINIC, User.Role.COORDINATOR)


@role_required(*CLINIC_AND_COORDINATORS)
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The course page: pathway, treatment and hours, and the outcome charts (clinic only)."""
    course = get_course(request, pk)
    context = course_context(request, course)
    context["charts"] = queries.course_charts(course) if request.user.is_clinic_staff else []
    context["instruments"] = list(INSTRUMENTS)
    return render(request, "evaluation/course_detail.html", context)


@role_required(*CLINIC_AND_COORDINATORS)
def measurement_new(request: HttpRequest, pk: int, instrument: str) -> HttpResponse:
    """Enter one questionnaire; an item-9 answer above 0 on PHQ-9 warns at once."""
    if instrument not in INSTRUMENTS:
        raise Http404
    course = get_for_user_or_404(course_for_detail(request.user), request.user, pk=pk)
    # After the lookup, so a course out of reach stays a 404; before the access log, so a
    # coordinator refused here is not logged as having looked at the course.
    if not request.user.is_clinic_staff:
        raise PermissionDenied
    log_patient_access(request, course.patient, what="course")
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
    """Measurements due or missing, and answers flagged for the clinician's attention; each
    list one page at a time, the longest due and the newest flagged first."""
    flagged = paginate(request, queries.flagged(request.user), param="flagged_page")
    due = paginate(request, queries.points_due(request.user), param="due_page")
    due.object_list = queries.with_missing(due.object_list)
    # Both lists name patients: one insert logs every patient shown.
    shown = [item.course.patient for item in flagged.object_list + due.object_list]
    log_patient_accesses(request, shown, what="measurement worklist")
    return render(request, "evaluation/worklist.html", {"due": due, "flagged": flagged})


# --- The Lean dashboard ------------------------------------------------------------------


@role_required(*CLINIC_AND_COORDINATORS)
def dashboard(request: HttpRequest) -> HttpResponse:
    """KPIs as monthly run charts with medians and signals; tables; exports."""
    form = DashboardFilterForm(request.GET or None, user=request.user)
    filters = form.filters(request.user)
    context = dashboard_data.build(request.user, filters)
    context.update(
        {
            "form": form,
            "filters": filters,
            "tables": dashboard_data.TABLES,
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "evaluation/dashboard.html", context)


@role_required(*CLINIC_AND_COORDINATORS)
def dashboard_table_export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    """One dashboard table as CSV or XLSX, with the same filters as the page."""
    if table not in dashboard_data.TABLES or fmt not in ("csv", "xlsx"):
        raise Http404
    form = DashboardFilterForm(request.GET or None, user=request.user)
    data = dashboard_data.build(request.user, form.filters(request.user), groups=table == "groups")
    header, rows = dashboard_data.table_rows(table, data)
    filename = f"apu-{table}-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(
            dashboard_data.as_csv(header, rows), content_type="text/csv; charset=utf-8"
        )
    else:
        body = dashboard_data.as_xlsx(header, rows, title=table)
        response = HttpResponse(
            body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(*CLINIC_AND_COORDINATORS)
def improvement_log(request: HttpRequest) -> HttpResponse:
    """The PDSA log: dated changes in practice, shown on the run charts."""
    form = ImprovementNoteForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_clinic_staff:
            raise PermissionDenied
        if form.is_valid():
            ImprovementNote.objects.create(created_by=request.user, **form.cleaned_data)
            messages.success(request, _("The change is in the improvement log."))
            return redirect("evaluation:improvement_log")
    notes = ImprovementNote.objects.select_related("created_by").order_by("-date", "-pk")
    return render(request, "evaluation/improvement_log.html", {"form": form, "notes": notes})
