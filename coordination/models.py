"""Coordination meetings (koordinerende indsatsmøder), their outcome and agreed actions."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apu.choices import ChoiceLabels
from apu.models import Municipality, User
from referrals.models import Course, within_reach


def reach_municipality():
    """The patient's municipality, copied onto the row by the database.

    Triggers (migration 0003) set it on every insert and update of a meeting or action and
    follow a patient who moves or a course given to another patient, so it always equals
    ``course.patient.municipality``. A coordinator's worklists and counts then read one
    column through a partial index instead of joining course and patient for thousands of
    rows. Never set from Python; null only in an instance not yet read back.
    """
    return models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        editable=False,
        db_index=False,
    )


class MeetingQuerySet(models.QuerySet):
    def for_user(self, user: User) -> "MeetingQuerySet":
        """Meetings of the courses ``user`` may see (coordinators: their municipality).

        On the meeting's own copy of the patient's municipality, which the database keeps
        (``reach_municipality``), so a coordinator's lists need no join to filter.
        """
        return within_reach(self, user, "")

    def open(self) -> "MeetingQuerySet":
        return self.filter(status__in=Meeting.OPEN_STATUSES)


class Meeting(ChoiceLabels, models.Model):
    """One coordination meeting between the clinic, the municipality and the patient."""

    class Kind(models.TextChoices):
        INTAKE = "intake", _("Intake meeting")
        MIDPOINT = "midpoint", _("Midpoint meeting")
        DISCHARGE = "discharge", _("Discharge meeting")
        EXTRA = "extra", _("Extra meeting")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        RESCHEDULED = "rescheduled", _("Rescheduled")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")
        PATIENT_ABSENT = "patient_absent", _("Patient did not attend")

    class ActionPlan(models.TextChoices):
        EXISTS = "exists", _("Exists")
        IN_PROGRESS = "in_progress", _("Being made")
        NONE = "none", _("None")

    OPEN_STATUSES = (Status.PLANNED, Status.RESCHEDULED)

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="meetings"
    )
    municipality = reach_municipality()
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    due_date = models.DateField(_("due"))
    scheduled_at = models.DateTimeField(_("time"), null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    place = models.CharField(_("place"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PLANNED)

    # Participants.
    clinic_staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("clinic staff"), blank=True, related_name="+"
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("municipal coordinator"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    patient_present = models.BooleanField(_("patient present"), null=True, blank=True)
    other_participants = models.CharField(_("other participants"), max_length=300, blank=True)

    # Outcome.
    summary = models.TextField(_("summary"), blank=True)
    action_plan_status = models.CharField(
        _("municipal action plan"), max_length=12, choices=ActionPlan, blank=True
    )
    action_plan_date = models.DateField(_("action plan dated"), null=True, blank=True)
    action_plan_summary = models.TextField(_("action plan in brief"), blank=True)
    plan_fit = models.TextField(
        _("treatment plan and action plan"),
        blank=True,
        help_text=_("How the clinic's treatment plan and the municipal action plan fit together."),
    )
    next_meeting_date = models.DateField(_("next meeting"), null=True, blank=True)
    patient_accepted_plan = models.BooleanField(
        _("patient accepted the plan (when absent)"), null=True, blank=True
    )
    outcome_recorded_at = models.DateTimeField(_("outcome recorded"), null=True, blank=True)
    outcome_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("outcome recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Optimistic locking: every save of the outcome or schedule bumps it; a form that
    # started from an older version is refused instead of overwriting someone's work.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(m2m_fields=[clinic_staff], excluded_fields=["municipality"])
    # Kept by the database, not by the forms: a version check compares the rest.
    DERIVED_FIELDS = ("municipality",)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("coordination meeting")
        verbose_name_plural = _("coordination meetings")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["intake", "midpoint", "discharge", "extra"]),
                name="meeting_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["planned", "rescheduled", "held", "cancelled", "patient_absent"]
                ),
                name="meeting_status_known",
            ),
            models.CheckConstraint(
                condition=Q(action_plan_status__in=["", "exists", "in_progress", "none"]),
                name="meeting_action_plan_known",
            ),
            # Intake, midpoint and discharge happen once per course; extra meetings may repeat.
            models.UniqueConstraint(
                fields=["course", "kind"],
                condition=~Q(kind="extra"),
                name="meeting_one_planned_kind_per_course",
            ),
        ]
        indexes = [
            # Worklists look only at open meetings, by due date.
            models.Index(
                fields=["due_date", "id"],
                name="meeting_open_by_due",
                condition=Q(status__in=["planned", "rescheduled"]),
            ),
            # "Has this course a meeting scheduled?" (the database's triggers keeping
            # Course.meeting_scheduled): only open, scheduled meetings, a small part of all.
            models.Index(
                fields=["course"],
                name="meeting_scheduled_by_course",
                condition=Q(status__in=["planned", "rescheduled"], scheduled_at__isnull=False),
            ),
            # A coordinator's upcoming meetings and their count: one municipality's open
            # meetings by due date, without joining course and patient.
            models.Index(
                fields=["municipality", "due_date", "id"],
                name="meeting_open_by_municipality",
                condition=Q(status__in=["planned", "rescheduled"]),
            ),
            # A coordinator's meetings waiting for their outcome: open, scheduled, by time.
            models.Index(
                fields=["municipality", "scheduled_at", "id"],
                name="meeting_scheduled_by_munic",
                condition=Q(status__in=["planned", "rescheduled"], scheduled_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_date:%d.%m.%Y}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def awaits_outcome(self) -> bool:
        """Planned for a time that has passed, and nobody has written what happened."""
        return self.is_open and self.scheduled_at is not None and self.scheduled_at < timezone.now()


class Action(ChoiceLabels, models.Model):
    """An action agreed at a meeting, with one responsible party."""

    class Responsible(models.TextChoices):
        REGION = "region", _("Region (the clinic)")
        MUNICIPALITY = "municipality", _("Municipality")
        PATIENT = "patient", _("Patient")
        OTHER = "other", _("Other")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="actions"
    )
    municipality = reach_municipality()
    what = models.CharField(_("what"), max_length=300)
    responsible = models.CharField(_("responsible"), max_length=12, choices=Responsible)
    person = models.CharField(_("named person"), max_length=200, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    history = HistoricalRecords(excluded_fields=["municipality"])
    DERIVED_FIELDS = ("municipality",)

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("agreed action")
        verbose_name_plural = _("agreed actions")
        constraints = [
            models.CheckConstraint(
                condition=Q(responsible__in=["region", "municipality", "patient", "other"]),
                name="action_responsible_known",
            ),
        ]
        indexes = [
            models.Index(
                fields=["responsible", "due_date"],
                name="action_open_by_responsible",
                condition=Q(done=False),
            ),
            # A coordinator's open actions for the municipality and their count.
            models.Index(
                fields=["municipality", "due_date", "id"],
                name="action_open_by_municipality",
                condition=Q(done=False, responsible="municipality"),
            ),
        ]

    def __str__(self) -> str:
        return self.what


class Discharge(ChoiceLabels, models.Model):
    """How and why a course ended; after the discharge meeting, or why it was not held."""

    class Kind(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        DROPPED_OUT = "dropped_out", _("Dropped out")
        TRANSFERRED = "transferred", _("Transferred")
        OTHER = "other", _("Other")

    course = models.OneToOneField(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="discharge"
    )
    date = models.DateField(_("discharge date"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    reason = models.TextField(_("reason"), blank=True)
    meeting_not_held_reason = models.TextField(
        _("why the discharge meeting was not held"), blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("discharge")
        verbose_name_plural = _("discharges")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["completed", "dropped_out", "transferred", "other"]),
                name="discharge_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date:%d.%m.%Y}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A personal calendar feed URL; the secret token can be revoked (replaced)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["token"])

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)


class ReminderSent(models.Model):
    """One reminder e-mail sent: each reminder goes once to each person, however often run."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sent_on = models.DateField(default=timezone.localdate)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "kind", "recipient"], name="reminder_once_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sent_on}"
