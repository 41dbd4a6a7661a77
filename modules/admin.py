from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apu.admin_access import LogsPatientLooks
from apu.admin_versioning import BumpsVersion, RefusesStaleSaves
from modules.models import (
    Appointment,
    Attendance,
    CaseFormulation,
    Enrolment,
    Group,
    Module,
    NoShowReason,
    Session,
    TreatmentPlan,
    WaitingListEntry,
)
from referrals.models import Course


class CourseReachMixin:
    """Rows that belong to a course follow the course's ``for_user`` reach."""

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(course__in=Course.objects.for_user(request.user))
        )


@admin.register(Module)
class ModuleAdmin(RefusesStaleSaves, SimpleHistoryAdmin):
    list_display = [
        "name",
        "category",
        "is_group",
        "default_duration_minutes",
        "default_therapists",
        "normed_group_size",
        "active",
    ]
    list_filter = ["category", "is_group", "active"]
    search_fields = ["name"]


@admin.register(Group)
class GroupAdmin(RefusesStaleSaves, SimpleHistoryAdmin):
    list_display = [
        "name",
        "module",
        "weekday",
        "start_time",
        "room",
        "capacity",
        "open_for_intake",
        "starts_on",
        "ends_on",
    ]
    list_filter = ["module__category", "weekday", "open_for_intake", "room"]
    search_fields = ["name", "room"]
    filter_horizontal = ["therapists"]


@admin.register(Session)
class SessionAdmin(RefusesStaleSaves, SimpleHistoryAdmin):
    list_display = ["group", "starts_at", "room", "status"]
    list_filter = ["status", "group"]
    date_hierarchy = "starts_at"
    list_select_related = ["group"]


@admin.register(Enrolment)
class EnrolmentAdmin(LogsPatientLooks, RefusesStaleSaves, CourseReachMixin, SimpleHistoryAdmin):
    patient_path = "course__patient"
    list_display = ["course", "group", "starts_on", "ends_on"]
    list_filter = ["group"]
    raw_id_fields = ["course", "created_by"]
    list_select_related = ["course__patient", "group"]


@admin.register(WaitingListEntry)
class WaitingListAdmin(LogsPatientLooks, RefusesStaleSaves, CourseReachMixin, SimpleHistoryAdmin):
    patient_path = "course__patient"
    list_display = ["group", "course", "added_at", "status"]
    list_filter = ["status", "group"]
    list_select_related = ["group", "course__patient"]
    raw_id_fields = ["course"]


@admin.register(Attendance)
class AttendanceAdmin(LogsPatientLooks, RefusesStaleSaves, CourseReachMixin, SimpleHistoryAdmin):
    patient_path = "course__patient"
    list_display = ["session", "course", "status", "recorded_at"]
    list_filter = ["status"]
    raw_id_fields = ["session", "course", "recorded_by"]
    list_select_related = ["session__group", "course__patient"]
    show_full_result_count = False


@admin.register(NoShowReason)
class NoShowReasonAdmin(RefusesStaleSaves, SimpleHistoryAdmin):
    list_display = ["name", "active"]
    list_editable = ["active"]


@admin.register(Appointment)
class AppointmentAdmin(LogsPatientLooks, RefusesStaleSaves, CourseReachMixin, SimpleHistoryAdmin):
    patient_path = "course__patient"
    list_display = ["course", "clinician", "starts_at", "kind", "attendance", "no_show_reason"]
    list_filter = ["kind", "attendance", "no_show_reason"]
    raw_id_fields = ["course", "clinician", "created_by"]
    date_hierarchy = "starts_at"
    list_select_related = ["course__patient", "clinician", "no_show_reason"]


@admin.register(CaseFormulation)
class CaseFormulationAdmin(
    LogsPatientLooks, BumpsVersion, RefusesStaleSaves, CourseReachMixin, SimpleHistoryAdmin
):
    patient_path = "course__patient"
    list_display = ["course", "version", "updated_at"]
    list_select_related = ["course__patient"]
    raw_id_fields = ["course", "updated_by"]

    def get_queryset(self, request):
        # Clinical text: never for a coordinator, even through the admin.
        queryset = super().get_queryset(request)
        return queryset.none() if request.user.is_coordinator else queryset


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(
    LogsPatientLooks, BumpsVersion, RefusesStaleSaves, CourseReachMixin, SimpleHistoryAdmin
):
    patient_path = "course__patient"
    list_display = ["course", "intensity", "version", "updated_at"]
    list_filter = ["intensity"]
    list_select_related = ["course__patient"]
    raw_id_fields = ["course", "updated_by"]
