from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from apu.admin_access import LogsPatientLooks
from apu.admin_versioning import RefusesStaleInlineSaves, RefusesStaleSaves
from referrals.models import (
    CodeRule,
    Course,
    Decision,
    DiagnosisCode,
    Patient,
    Referral,
    ReferralDiagnosis,
    Screening,
    ScreeningCriterion,
)


class ForUserAdminMixin:
    """The admin reaches patient data through the same ``for_user`` rules as the pages."""

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(LogsPatientLooks, RefusesStaleSaves, ForUserAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "cpr_masked", "municipality", "birth_date", "sex"]
    list_filter = ["municipality", "sex"]
    list_select_related = ["municipality"]
    search_fields = ["name", "=cpr"]
    search_help_text = _("Search by name or the full CPR number (10 digits, no hyphen).")
    readonly_fields = ["birth_date", "sex", "created_at", "updated_at", "access_log"]
    show_full_result_count = False

    @admin.display(description=_("Who looked at this patient"))
    def access_log(self, obj):
        if obj.pk is None:
            return "–"
        content_type = ContentType.objects.get_for_model(obj)
        url = reverse("admin:apu_accesslog_changelist")
        query = urlencode({"content_type__id__exact": content_type.pk, "object_id": obj.pk})
        return format_html('<a href="{}?{}">{}</a>', url, query, _("Open the access log"))

    def has_delete_permission(self, request, obj=None):
        return False


class ReferralDiagnosisInline(RefusesStaleInlineSaves, admin.TabularInline):
    model = ReferralDiagnosis
    extra = 0
    autocomplete_fields = ["code"]


@admin.register(Referral)
class ReferralAdmin(LogsPatientLooks, RefusesStaleSaves, ForUserAdminMixin, SimpleHistoryAdmin):
    patient_path = "patient"
    list_display = ["patient", "first_contact", "received", "referrer_kind", "status"]
    list_filter = ["status", "referrer_kind", "patient__municipality", "substitution_treatment"]
    list_select_related = ["patient"]
    search_fields = ["patient__name", "=patient__cpr", "referrer_name", "referrer_organisation"]
    date_hierarchy = "first_contact"
    raw_id_fields = ["patient", "submitted_by"]
    inlines = [ReferralDiagnosisInline]
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DiagnosisCode)
class DiagnosisCodeAdmin(RefusesStaleSaves, SimpleHistoryAdmin):
    list_display = ["code", "title_da", "title_en"]
    search_fields = ["code", "title_da", "title_en"]


@admin.register(CodeRule)
class CodeRuleAdmin(RefusesStaleSaves, SimpleHistoryAdmin):
    list_display = ["code", "category", "note", "active"]
    list_filter = ["category", "active"]
    list_editable = ["active"]
    search_fields = ["code", "note"]


class ScreeningCriterionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ScreeningCriterion
    fields = ["position", "key", "outcome", "reason"]
    readonly_fields = ["reason"]
    extra = 0


@admin.register(Screening)
class ScreeningAdmin(LogsPatientLooks, ReadOnlyAdminMixin, admin.ModelAdmin):
    patient_path = "referral__patient"
    list_display = ["referral", "screened_at", "screened_by", "outcome"]
    list_filter = ["outcome", "mental_severity", "substance_severity"]
    list_select_related = ["referral", "screened_by"]
    inlines = [ScreeningCriterionInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(referral__in=Referral.objects.for_user(request.user))
        )


@admin.register(Decision)
class DecisionAdmin(LogsPatientLooks, ReadOnlyAdminMixin, SimpleHistoryAdmin):
    patient_path = "referral__patient"
    list_display = ["referral", "kind", "decided_by", "decided_at", "overrides_screening"]
    list_filter = ["kind", "overrides_screening"]
    list_select_related = ["referral", "decided_by"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(referral__in=Referral.objects.for_user(request.user))
        )


@admin.register(Course)
class CourseAdmin(LogsPatientLooks, RefusesStaleSaves, ForUserAdminMixin, SimpleHistoryAdmin):
    patient_path = "patient"
    list_display = ["patient", "start", "planned_end", "status", "intake_meeting_due"]
    list_filter = ["status", "patient__municipality"]
    list_select_related = ["patient"]
    search_fields = ["patient__name", "=patient__cpr"]
    date_hierarchy = "start"
    raw_id_fields = ["patient", "referral"]

    def has_delete_permission(self, request, obj=None):
        return False
