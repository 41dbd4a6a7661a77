"""Users, municipalities and the access log shared by every app."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apu.choices import ChoiceLabels


class Municipality(models.Model):
    """A Danish municipality; only participating ones may refer patients to the clinic."""

    code = models.CharField(_("municipality code"), max_length=3, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("short name"), max_length=100, unique=True)
    participating = models.BooleanField(
        _("participating"),
        default=False,
        help_text=_("Citizens of participating municipalities may be referred to the clinic."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{3}$"), name="municipality_code_three_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AppUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(ChoiceLabels, AbstractUser):
    """A person who logs in: clinic staff, a municipal coordinator, a researcher or an admin."""

    class Role(models.TextChoices):
        CLINICIAN = "clinician", _("Clinician")
        COORDINATOR = "coordinator", _("Municipal coordinator")
        RESEARCHER = "researcher", _("Researcher")
        ADMIN = "admin", _("Administrator")

    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.CLINICIAN)
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coordinators",
        help_text=_("Required for municipal coordinators: they see only this municipality."),
    )
    history = HistoricalRecords(excluded_fields=["last_login", "password"])

    objects = AppUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["clinician", "coordinator", "researcher", "admin"]),
                name="user_role_known",
            ),
            models.CheckConstraint(
                condition=~Q(role="coordinator") | Q(municipality__isnull=False),
                name="coordinator_has_municipality",
            ),
        ]

    @property
    def is_clinician(self) -> bool:
        return self.role == self.Role.CLINICIAN

    @property
    def is_coordinator(self) -> bool:
        return self.role == self.Role.COORDINATOR

    @property
    def is_researcher(self) -> bool:
        return self.role == self.Role.RESEARCHER

    @property
    def is_admin_role(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser

    @property
    def is_clinic_staff(self) -> bool:
        """Clinicians and administrators: the clinic itself, with full access to its patients."""
        return self.is_superuser or self.role in (self.Role.CLINICIAN, self.Role.ADMIN)

    @property
    def sees_patient_data(self) -> bool:
        """Whether the user can open identifiable patient records (researchers cannot)."""
        return self.is_active and not self.is_researcher

    def needs_two_factor(self) -> bool:
        """Whether REQUIRE_2FA applies to this user."""
        return settings.REQUIRE_2FA and self.sees_patient_data


class AccessLog(models.Model):
    """One look at a patient's record: who, when, which patient, what. Never edited."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A generic reference keeps this app below the apps that own patients.
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("record type"), on_delete=models.PROTECT
    )
    object_id = models.PositiveBigIntegerField(_("record id"))
    patient = GenericForeignKey("content_type", "object_id")
    what = models.CharField(_("what was seen"), max_length=200)
    path = models.CharField(_("page"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("patient access log entry")
        verbose_name_plural = _("patient access log")
        indexes = [
            # "Who looked at this patient" lists one patient's rows newest first.
            models.Index(fields=["content_type", "object_id", "-at"], name="accesslog_patient_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user}: {self.what}"

    @property
    def what_shown(self) -> str:
        """``what`` in the reader's language: the log keeps one English key per page."""
        if self.what in SEEN_PAGES:
            return str(SEEN_PAGES[self.what])
        if self.what.startswith(ADMIN_SEEN):
            return _admin_page_shown(self.what.removeprefix(ADMIN_SEEN))
        return self.what


# The pages that log a look (``log_patient_access(..., what=...)``), as the access report
# names them; a key not here is shown as it was logged.
SEEN_PAGES = {
    "access report": _("the access report"),
    "case formulation": _("case formulation"),
    "coordination meeting": _("coordination meeting"),
    "coordination meeting minutes": _("minutes of a coordination meeting"),
    "coordination meeting outcome": _("outcome of a coordination meeting"),
    "course": _("course"),
    "group": _("group"),
    "measurement worklist": _("list of measurements due"),
    "meeting worklist": _("list of coordination meetings"),
    "patient": _("patient"),
    "referral form preview": _("referral form, before it was saved"),
    "referral worklist": _("list of referrals"),
    "referral": _("referral"),
    "rejection letter": _("rejection letter"),
    "research consent": _("research consent"),
    "research export": _("research export (pseudonymised)"),
    "session attendance": _("attendance at a group session"),
    "today": _("today's sessions and follow-up"),
    "treatment plan": _("treatment plan"),
}
# The admin logs "admin: <the model's English name> [list|history|delete]".
ADMIN_SEEN = "admin: "
ADMIN_VIEWS = {
    "list": _("administration, list of %(records)s"),
    "history": _("administration, history of a %(record)s"),
    "delete": _("administration, deleting a %(record)s"),
    "": _("administration, %(record)s"),
}


def _admin_page_shown(rest: str) -> str:
    from django.apps import apps
    from django.utils import translation

    name, _space, view = rest.rpartition(" ")
    if view not in ADMIN_VIEWS or not name:
        name, view = rest, ""
    with translation.override("en"):
        models_by_name = {str(m._meta.verbose_name): m._meta for m in apps.get_models()}
    opts = models_by_name.get(name)
    if opts is None:
        return rest
    return str(ADMIN_VIEWS[view]) % {
        "record": opts.verbose_name,
        "records": opts.verbose_name_plural,
    }
