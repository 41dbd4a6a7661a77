"""Research pages: consent recorded by the clinic, the pseudonymised export for researchers.

The two small forms live here with their only views; ``evaluation/forms.py`` is the
measurement entry's.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from itertools import islice

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apu.access import log_patient_access, log_patient_accesses
from apu.models import User
from apu.permissions import get_for_user_or_404, role_required
from evaluation import research
from evaluation.models import ResearchConsent
from referrals.forms import DateInput
from referrals.models import Patient

CLINIC = (User.Role.CLINICIAN, User.Role.ADMIN)
CLINIC_AND_COORDINATORS = (*CLINIC, User.Role.COORDINATOR)
RESEARCH = (User.Role.RESEARCHER, User.Role.ADMIN)
NO_ACTIVE_CONSENT = gettext_lazy("The patient has no active research consent to withdraw.")
NO_CONSENT_ACTION = gettext_lazy(
    "Nothing was saved: use a button to record or to withdraw the research consent."
)


class GiveConsentForm(forms.Form):
    given_on = forms.DateField(label=gettext_lazy("Consent given on"), widget=DateInput())
    scope = forms.ChoiceField(
        label=gettext_lazy("Scope"),
        choices=ResearchConsent.Scope.choices,
        widget=forms.RadioSelect,
    )


class WithdrawConsentForm(forms.Form):
    withdrawn_on = forms.DateField(label=gettext_lazy("Withdrawn on"), widget=DateInput())


@role_required(*CLINIC_AND_COORDINATORS)
def consent(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient's research consent: record it, or withdraw the active one."""
    patient = get_for_user_or_404(Patient.objects.all(), request.user, pk=pk)
    # After the lookup, so a patient out of reach stays a 404.
    if not request.user.is_clinic_staff:
        raise PermissionDenied
    log_patient_access(request, patient, what="research consent")
    consents = list(patient.research_consents.select_related("recorded_by"))
    active = next((c for c in consents if c.withdrawn_on is None), None)
    action = request.POST.get("action") if request.method == "POST" else None
    if request.method == "POST" and action not in ("give", "withdraw"):
        # Neither form was sent: the page comes back unchanged, and says why.
        messages.error(request, NO_CONSENT_ACTION)
    today = timezone.localdate()
    give = GiveConsentForm(
        request.POST if action == "give" else None,
        prefix="give",
        initial={"given_on": today, "scope": ResearchConsent.Scope.OUTCOMES},
    )
    withdraw = WithdrawConsentForm(
        request.POST if action == "withdraw" else None,
        prefix="withdraw",
        initial={"withdrawn_on": today},
    )
    if action == "give" and give.is_valid():
        try:
            research.give_consent(patient, by=request.user, **give.cleaned_data)
        except ValidationError as error:
            give.add_error(None, error)
        else:
            messages.success(request, _("The research consent has been recorded."))
            return redirect("research:consent", pk=patient.pk)
    elif action == "withdraw" and active is None:
        withdraw.add_error(None, NO_ACTIVE_CONSENT)
    elif action == "withdraw" and withdraw.is_valid():
        try:
            research.withdraw_consent(active, by=request.user, **withdraw.cleaned_data)
        except ValidationError as error:
            withdraw.add_error(None, error)
        else:
            messages.success(request, _("The research consent has been withdrawn."))
            return redirect("research:consent", pk=patient.pk)
    context = {
        "patient": patient,
        "consents": consents,
        "active": active,
        "give_form": give,
        "withdraw_form": withdraw,
    }
    failed = give.errors or withdraw.errors
    return render(
        request, "evaluation/research_consent.html", context, status=400 if failed else 200
    )


@role_required(*RESEARCH)
def export(request: HttpRequest) -> HttpResponse:
    """What the export holds, how many patients consent today, and the download buttons."""
    context = {
        "patients": research.consenting_patients().filter(courses__isnull=False).distinct().count(),
        "columns": research.EXPORT_COLUMNS,
    }
    return render(request, "evaluation/research_export.html", context)


# Rows are sent in pieces of this many (about 50 KB): one socket write per CSV line would
# cost more than the line itself.
CHUNK_ROWS = 1000


def _csv_chunks(rows: Iterable[list[str]]) -> Iterator[str]:
    """The rows as CSV text, CHUNK_ROWS rows a piece; csv.writer loops over them in C."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = iter(rows)
    while True:
        writer.writerows(islice(rows, CHUNK_ROWS))
        if not buffer.tell():
            return
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _streamed_csv(chunks: Iterable[str], filename: str) -> StreamingHttpResponse:
    return StreamingHttpResponse(
        chunks,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _export_lines(request: HttpRequest, today: date) -> Iterator[str]:
    """The export's header, then each batch's rows once its patients' looks are logged.

    The log is written before a batch leaves, one insert a batch, so a download broken off
    has logged the patients of every batch that began to go and nobody else. The row count
    is not known until the end, so the log says only what was looked at.
    """
    yield from _csv_chunks([research.EXPORT_COLUMNS])
    for batch in research.export_batches(today=today):
        exported = [Patient(pk=patient_id) for patient_id in batch.patient_ids]
        log_patient_accesses(request, exported, what="research export")
        yield from _csv_chunks(batch.rows)


@role_required(*RESEARCH)
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The export as long-format CSV, streamed a batch of patients at a time; each exported
    patient gets an access-log row."""
    today = timezone.localdate()
    return _streamed_csv(_export_lines(request, today), f"apu-research-export-{today:%Y%m%d}.csv")


@role_required(*RESEARCH)
def dictionary_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The data dictionary in REDCap's layout; it holds no patient data."""
    return _streamed_csv(
        _csv_chunks(research.dictionary_rows()), "apu-research-data-dictionary.csv"
    )
