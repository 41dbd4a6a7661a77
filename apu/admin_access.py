"""The Django admin logs each look at a patient, as the site's pages do (apu/access.py).

An admin of patient-bearing rows names the way from a row to its patient (``patient_path``,
as in a query: ``"course__patient"``; empty for the patient itself). Its list logs the
patients of the rows on the shown page, one insert for the page, read from the page's own
rows, whose query joins the patient; its change, history and delete pages log the row's
patient.
"""

from functools import reduce

from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.utils import translation

from apu.access import log_patient_access, log_patient_accesses


class LogsPatientLooks:
    """For a ModelAdmin of rows that belong to a patient; name the joins ``list_display``
    needs in ``list_select_related`` (a list): the patient's is added to them."""

    patient_path = ""

    def patient_of(self, row):
        """The patient ``row`` belongs to (joined already when the row came from the list)."""
        return reduce(getattr, self.patient_path.split("__"), row) if self.patient_path else row

    def looked_at(self, page: str = "") -> str:
        """The access log's ``what``: "admin: " and the model's name (in English, as every
        ``what`` is), then the page."""
        with translation.override("en"):
            name = str(self.opts.verbose_name)
        return f"admin: {name} {page}".rstrip()

    def get_list_select_related(self, request):
        related = super().get_list_select_related(request)
        if related is True or not self.patient_path:
            return related
        related = list(related or [])
        path = self.patient_path
        if not any(name == path or name.startswith(f"{path}__") for name in related):
            related.append(path)
        return related

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            # Evaluates the page's query now; the template then reads the same cached rows.
            patients = {}
            for row in changelist.result_list:
                patient = self.patient_of(row)
                patients.setdefault(patient.pk, patient)
            log_patient_accesses(request, patients.values(), what=self.looked_at("list"))
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        self._log_row(request, object_id, "")
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self._log_row(request, object_id, "history")
        return response

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        response = super().history_form_view(request, object_id, version_id, extra_context)
        self._log_row(request, object_id, "history")
        return response

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        self._log_row(request, object_id, "delete")
        return response

    def _log_row(self, request, object_id, page: str) -> None:
        # After the page is made: a row outside the user's reach, or absent (or deleted by
        # the page), is no look. One query for the row with its patient, one insert.
        queryset = self.get_queryset(request)
        if self.patient_path:
            queryset = queryset.select_related(self.patient_path)
        try:
            row = queryset.get(pk=self.opts.pk.to_python(unquote(object_id)))
        except (self.model.DoesNotExist, ValidationError, ValueError):
            return
        log_patient_access(request, self.patient_of(row), what=self.looked_at(page))
