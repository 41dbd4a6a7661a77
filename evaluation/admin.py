from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apu.admin_access import LogsPatientLooks
from apu.admin_versioning import RefusesStaleSaves
from evaluation.models import Answer, ImprovementNote, ItemLabel, Measurement, ResearchConsent
from referrals.models import Course, Patient


@admin.register(ItemLabel)
class ItemLabelAdmin(RefusesStaleSaves, SimpleHistoryAdmin):
    """Short labels, and the place to load an instrument's official wording as data."""

    list_display = ["instrument", "number", "label_da", "label_en"]
    list_filter = ["instrument"]
    search_fields = ["label_da", "label_en"]
    readonly_fields = ["instrument", "number"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    can_delete = False
    readonly_fields = ["number", "value"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Measurement)
class MeasurementAdmin(LogsPatientLooks, RefusesStaleSaves, SimpleHistoryAdmin):
    patient_path = "course__patient"
    list_display = ["course", "instrument", "point", "answered_on", "total", "band"]
    list_filter = ["instrument", "point", "band"]
    list_select_related = ["course__patient"]
    raw_id_fields = ["course", "entered_by"]
    readonly_fields = ["total", "band", "flags", "percentage", "entered_by", "entered_at"]
    inlines = [AnswerInline]
    date_hierarchy = "answered_on"
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(course__in=Course.objects.for_user(request.user))
        )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ResearchConsent)
class ResearchConsentAdmin(LogsPatientLooks, RefusesStaleSaves, SimpleHistoryAdmin):
    patient_path = "patient"
    list_display = ["patient", "given_on", "scope", "withdrawn_on"]
    list_filter = ["scope", "withdrawn_on"]
    list_select_related = ["patient"]
    raw_id_fields = ["patient", "recorded_by"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(patient__in=Patient.objects.for_user(request.user))
        )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImprovementNote)
class ImprovementNoteAdmin(RefusesStaleSaves, SimpleHistoryAdmin):
    list_display = ["date", "title", "created_by"]
    search_fields = ["title", "description"]
    raw_id_fields = ["created_by"]
