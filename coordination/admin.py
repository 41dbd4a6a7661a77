from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from apu.admin_access import LogsPatientLooks
from apu.admin_versioning import BumpsVersion, RefusesStaleInlineSaves, RefusesStaleSaves
from coordination.models import Action, CalendarFeed, Discharge, Meeting
from referrals.models import Course


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        overdue = {"status__in": Meeting.OPEN_STATUSES, "due_date__lt": timezone.localdate()}
        if self.value() == "yes":
            return queryset.filter(**overdue)
        if self.value() == "no":
            return queryset.exclude(**overdue)
        return queryset


class ActionInline(RefusesStaleInlineSaves, admin.TabularInline):
    model = Action
    extra = 0


@admin.register(Meeting)
class MeetingAdmin(LogsPatientLooks, BumpsVersion, RefusesStaleSaves, SimpleHistoryAdmin):
    patient_path = "course__patient"
    list_display = ["course", "kind", "due_date", "scheduled_at", "status", "patient_municipality"]
    list_filter = ["kind", "status", OverdueFilter, "course__patient__municipality"]
    list_select_related = ["course__patient__municipality"]
    search_fields = ["course__patient__name", "=course__patient__cpr", "place"]
    date_hierarchy = "due_date"
    raw_id_fields = ["course", "coordinator", "outcome_recorded_by"]
    filter_horizontal = ["clinic_staff"]
    inlines = [ActionInline]
    readonly_fields = ["version", "outcome_recorded_at"]
    show_full_result_count = False

    @admin.display(description=_("municipality"), ordering="course__patient__municipality__name")
    def patient_municipality(self, obj):
        # Not named "municipality": a model field of that name (the database's copy) would be
        # shown instead, one query a row.
        return obj.course.patient.municipality

    def get_queryset(self, request):
        return super().get_queryset(request).for_user(request.user)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Action)
class ActionAdmin(LogsPatientLooks, RefusesStaleSaves, SimpleHistoryAdmin):
    patient_path = "meeting__course__patient"
    list_display = ["what", "responsible", "person", "due_date", "done", "meeting"]
    list_filter = ["responsible", "done", "meeting__course__patient__municipality"]
    list_select_related = ["meeting__course__patient"]
    search_fields = ["what", "person"]
    raw_id_fields = ["meeting"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(meeting__in=Meeting.objects.for_user(request.user))
        )


@admin.register(Discharge)
class DischargeAdmin(LogsPatientLooks, RefusesStaleSaves, SimpleHistoryAdmin):
    patient_path = "course__patient"
    list_display = ["course", "date", "kind"]
    list_filter = ["kind"]
    list_select_related = ["course__patient"]
    raw_id_fields = ["course", "recorded_by"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(course__in=Course.objects.for_user(request.user))
        )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    fields = ["user", "created_at"]
    readonly_fields = ["user", "created_at"]

    def has_add_permission(self, request):
        return False
