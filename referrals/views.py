from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apu.access import access_period, accesses_in, log_patient_access, log_patient_accesses
from apu.models import User
from apu.permissions import get_for_user_or_404, require_clinic_staff, role_required
from apu.versioning import StaleRecord, carry_current
from referrals import queries, services
from referrals.forms import DecisionForm, ReferralFilter, ReferralForm, ScreeningForm
from referrals.models import DiagnosisCode, Patient, Referral
from referrals.pagination import paginate
from referrals.screening import screen

CLINIC = (User.Role.CLINICIAN, User.Role.ADMIN)
CLINIC_AND_COORDINATORS = (*CLINIC, User.Role.COORDINATOR)
PAGE_SIZE = 25


@role_required(*CLINIC_AND_COORDINATORS)
def referral_list(request: HttpRequest) -> HttpResponse:
    """The worklist: open referrals oldest first, with the intake deadline and screening."""
    filters = ReferralFilter(
        request.GET, queryset=queries.referral_rows(request.user), user=request.user
    )
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    log_patient_accesses(request, [r.patient for r in page.object_list], what="referral worklist")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/referral_list.html",
        {"filters": filters, "page": page, "query": query.urlencode()},
    )


def _code_choices():
    return DiagnosisCode.objects.order_by("code").values_list("code", "title_da", "title_en")


@role_required(*CLINIC_AND_COORDINATORS)
def referral_create(request: HttpRequest) -> HttpResponse:
    """Register a referral; it is screened at once."""
    form = ReferralForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.register_referral(**form.service_kwargs(), by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:
            form.add_error("municipality", str(error))
        else:
            messages.success(request, _("The referral has been registered and screened."))
            if form.cpr_warning:
                messages.warning(request, form.cpr_warning)
            return redirect("referrals:referral_detail", pk=referral.pk)
    return render(request, "referrals/referral_form.html", {"form": form, "codes": _code_choices()})


@require_POST
@role_required(*CLINIC_AND_COORDINATORS)
def referral_preview(request: HttpRequest) -> HttpResponse:
    """The live screening preview of the new-referral form (htmx); saves nothing."""
    form = ReferralForm(request.POST, user=request.user)
    form.is_valid()
    data = form.cleaned_data
    cpr = form.parsed_cpr
    context = {"form": form, "cpr": cpr, "patient": None, "result": None, "missing": []}
    if cpr is not None:
        context["patient"] = (
            Patient.objects.for_user(request.user)
            .filter(cpr=cpr.digits)
            .select_related("municipality")
            .first()
        )
        if context["patient"] is not None:
            # Naming an existing patient shows their record, so the look is logged.
            log_patient_access(request, context["patient"], what="referral form preview")
    needed = {
        "cpr": cpr,
        "municipality": data.get("municipality"),
        "first_contact": data.get("first_contact"),
        "diagnosis_1": data.get("diagnosis_codes"),
        "in_municipal_substance_treatment": "in_municipal_substance_treatment" in data,
    }
    context["missing"] = [form.fields[name].label for name, value in needed.items() if not value]
    if not context["missing"]:
        context["result"] = screen(
            municipality_code=data["municipality"].code,
            diagnosis_codes=data["diagnosis_codes"],
            birth_date=cpr.birth_date,
            referral_date=data["first_contact"],
            in_municipal_substance_treatment=data["in_municipal_substance_treatment"],
            substitution_treatment=data.get("substitution_treatment") or "none",
        )
    return render(request, "referrals/referral_form.html#preview", context)


def _referral_context(request: HttpRequest, referral: Referral, **extra) -> dict:
    is_clinic = request.user.is_clinic_staff
    context = {
        "referral": referral,
        "patient": referral.patient,
        "age": referral.patient.age_on(referral.first_contact),
        "is_clinic": is_clinic,
        "screening": queries.current_screening(referral) if is_clinic else None,
        "history": referral.history.select_related("history_user").order_by("-history_date")[:20]
        if is_clinic
        else [],
        "screening_form": ScreeningForm(),
        "decision_form": DecisionForm(),
    }
    context.update(extra)
    return context


def render_referral_detail(
    request: HttpRequest, pk: int, *, status: int = 200, **extra
) -> HttpResponse:
    """The referral page (also shown again, with errors, by the forms that post from it)."""
    referral = get_for_user_or_404(queries.referral_for_detail(request.user), request.user, pk=pk)
    log_patient_access(request, referral.patient, what="referral")
    context = _referral_context(request, referral, **extra)
    return render(request, "referrals/referral_detail.html", context, status=status)


@role_required(*CLINIC_AND_COORDINATORS)
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The referral with its screening criterion by criterion, history and decision form."""
    return render_referral_detail(request, pk)


@require_POST
@role_required(*CLINIC_AND_COORDINATORS)
def referral_screen(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the quadrant-model axes and screen again with the current code lists."""
    referral = get_for_user_or_404(queries.referral_for_detail(request.user), request.user, pk=pk)
    require_clinic_staff(request.user)
    form = ScreeningForm(request.POST)
    try:
        # A decided referral's page shows no screening form, so the form's own errors would
        # be shown nowhere: say that it is decided whatever was posted.
        services.ensure_open(referral)
        if form.is_valid():
            services.screen_referral(referral, by=request.user, **form.cleaned_data)
            messages.success(request, _("The referral has been screened."))
            return redirect("referrals:referral_detail", pk=referral.pk)
    except StaleRecord as error:
        form.add_error(None, error)
        carry_current(form, error)
    except ValidationError as error:
        form.add_error(None, error)
    return render_referral_detail(request, referral.pk, screening_form=form, status=400)


@role_required(*CLINIC_AND_COORDINATORS)
def referral_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable letter to the referrer explaining a rejection."""
    referral = get_for_user_or_404(
        queries.referral_for_detail(request.user).filter(status=Referral.Status.REJECTED),
        request.user,
        pk=pk,
    )
    require_clinic_staff(request.user)
    log_patient_access(request, referral.patient, what="rejection letter")
    screening = referral.decision.screening
    failed = (
        [item for item in screening.criteria.all() if item.outcome != "pass"] if screening else []
    )
    return render(
        request, "referrals/referral_letter.html", {"referral": referral, "failed": failed}
    )


@role_required(*CLINIC_AND_COORDINATORS)
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient: identity, courses and referrals."""
    patient = get_for_user_or_404(
        Patient.objects.select_related("municipality"), request.user, pk=pk
    )
    log_patient_access(request, patient, what="patient")
    context = {
        "patient": patient,
        "courses": patient.courses.order_by("-start"),
        "referrals": queries.referral_worklist(request.user).filter(patient=patient).reverse(),
    }
    return render(request, "referrals/patient_detail.html", context)


ACCESS_REPORT_PAGE_SIZE = 50


@role_required(*CLINIC_AND_COORDINATORS)
def patient_access_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Who looked at the patient's record, when and what: every look page by page, or
    (``?print=1``) one period's looks on one page, printed for the patient who asks."""
    patient = get_for_user_or_404(
        Patient.objects.select_related("municipality"), request.user, pk=pk
    )
    require_clinic_staff(request.user)
    # The report names the patient with their full CPR number: a look like any other.
    log_patient_access(request, patient, what="access report")
    printing = request.GET.get("print") == "1"
    start, end = request.GET.get("from"), request.GET.get("to")
    context = {"patient": patient, "printing": printing, "chosen": {"from": start, "to": end}}
    try:
        period = access_period(start, end, today=timezone.localdate())
    except ValidationError as error:
        context["error"] = error.messages[0]
        return render(request, "referrals/patient_access_report.html", context, status=400)
    # On screen every look is listed unless a period is chosen; on paper there is always one.
    shown = period if printing or start or end else None
    looks = accesses_in(patient, shown)
    page = None if printing else paginate(request, looks, per_page=ACCESS_REPORT_PAGE_SIZE)
    context |= {
        "period": shown,
        "chosen": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "page": page,
        "looks": list(looks) if page is None else page.object_list,
    }
    return render(request, "referrals/patient_access_report.html", context)
