from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from apu import services
from apu.admin_versioning import RefusesStaleSaves
from apu.forms import UserChangeByAdminForm, UserCreationByAdminForm
from apu.models import AccessLog, Municipality, User

admin.site.site_header = _("APU pathway administration")
admin.site.site_title = _("APU pathway")


@admin.register(Municipality)
class MunicipalityAdmin(RefusesStaleSaves, SimpleHistoryAdmin):
    list_display = ["name", "code", "participating"]
    list_filter = ["participating"]
    list_editable = ["participating"]
    search_fields = ["name", "code"]
    readonly_fields = ["code", "slug"]

    def has_add_permission(self, request):
        # The 29 municipalities of the region come from a data migration.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    add_form = UserCreationByAdminForm
    form = UserChangeByAdminForm
    list_display = ["username", "first_name", "last_name", "role", "municipality", "is_active"]
    list_filter = ["role", "municipality", "is_active", "is_staff"]
    list_select_related = ["municipality"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Person"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Role"), {"fields": ["role", "municipality"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": ["username", "first_name", "last_name", "email", "role", "municipality"],
                "description": _(
                    "The new user receives an e-mail with a link to choose their own password."
                ),
            },
        )
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            transaction.on_commit(lambda: self._send_set_password(request, obj))

    def _send_set_password(self, request, user):
        try:
            services.send_set_password_email(user, request=request)
        except ValidationError as error:
            self.message_user(request, error.messages[0], messages.WARNING)
        else:
            self.message_user(request, _("A set-password e-mail was sent to the new user."))

    def has_delete_permission(self, request, obj=None):
        # Users are deactivated, never deleted: the access log and history refer to them.
        return False


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Who looked at which patient and when; filter by record id to list one patient's log."""

    list_display = ["at", "user", "content_type", "object_id", "what"]
    list_filter = ["content_type", ("at", admin.DateFieldListFilter), "user__role"]
    search_fields = ["=object_id", "user__username"]
    list_select_related = ["user", "content_type"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
