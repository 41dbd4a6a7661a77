"""The treatment menu, groups and their sessions, enrolment, attendance, individual
appointments, and each course's case formulation and treatment plan."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apu.choices import ChoiceLabels
from apu.models import User
from referrals.models import Course, within_reach


class Module(ChoiceLabels, models.Model):
    """One item on the treatment menu."""

    class Category(models.TextChoices):
        RECOVERY = "recovery", _("Recovery")
        CBT = "cbt", _("CBT therapy group")
        SKILLS = "skills", _("Skills")
        BODY = "body", _("Body-oriented")
        INDIVIDUAL = "individual", _("Individual")
        RECOVERY_SCHOOL = "recovery_school", _("Recovery School course")

    name = models.CharField(_("name"), max_length=120, unique=True)
    category = models.CharField(_("category"), max_length=16, choices=Category)
    description = models.TextField(_("description"), blank=True)
    is_group = models.BooleanField(_("group module"), default=True)
    default_duration_minutes = models.PositiveSmallIntegerField(
        _("default duration (minutes)"), default=120
    )
    default_therapists = models.PositiveSmallIntegerField(
        _("default number of therapists"), default=2
    )
    normed_group_size = models.PositiveSmallIntegerField(_("normed group size"), default=8)
    active = models.BooleanField(_("on the menu"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "name"]
        verbose_name = _("module")
        verbose_name_plural = _("modules")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    category__in=[
                        "recovery",
                        "cbt",
                        "skills",
                        "body",
                        "individual",
                        "recovery_school",
                    ]
                ),
                name="module_category_known",
            ),
            models.CheckConstraint(
                condition=Q(
                    default_therapists__gte=1,
                    normed_group_size__gte=1,
                    default_duration_minutes__gte=1,
                ),
                name="module_norm_parameters_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Group(ChoiceLabels, models.Model):
    """A running instance of a group module (hold), meeting weekly."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")

    module = models.ForeignKey(
        Module, verbose_name=_("module"), on_delete=models.PROTECT, related_name="groups"
    )
    name = models.CharField(_("name"), max_length=120)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday)
    start_time = models.TimeField(_("time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=120)
    room = models.CharField(_("room"), max_length=80)
    therapists = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("therapists"), related_name="+"
    )
    therapist_count = models.PositiveSmallIntegerField(
        _("therapists per session"),
        default=2,
        help_text=_("Used for the norm hours of each session."),
    )
    normed_group_size = models.PositiveSmallIntegerField(_("normed group size"), default=8)
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=8)
    open_for_intake = models.BooleanField(_("open for rolling intake"), default=True)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[therapists])

    class Meta:
        ordering = ["weekday", "start_time", "name"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="group_capacity_positive"),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="group_weekday_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    therapist_count__gte=1, normed_group_size__gte=1, duration_minutes__gte=1
                ),
                name="group_norm_parameters_positive",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="group_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class Session(ChoiceLabels, models.Model):
    """One meeting of a group; may be cancelled or moved."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        CANCELLED = "cancelled", _("Cancelled")

    group = models.ForeignKey(
        Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="sessions"
    )
    starts_at = models.DateTimeField(_("time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"))
    room = models.CharField(_("room"), max_length=80)
    # The norm parameters at the time of the session, so later edits of the group do not
    # change hours already charged.
    therapist_count = models.PositiveSmallIntegerField(_("therapists"))
    normed_group_size = models.PositiveSmallIntegerField(_("normed group size"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PLANNED)
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.UniqueConstraint(fields=["group", "starts_at"], name="session_once_per_time"),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "cancelled"]), name="session_status_known"
            ),
            models.CheckConstraint(
                condition=Q(
                    therapist_count__gte=1, normed_group_size__gte=1, duration_minutes__gte=1
                ),
                name="session_norm_parameters_positive",
            ),
        ]
        indexes = [models.Index(fields=["starts_at"], name="session_by_time")]

    def __str__(self) -> str:
        return f"{self.group} {timezone.localtime(self.starts_at):%d.%m.%Y %H:%M}"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class EnrolmentQuerySet(models.QuerySet):
    def active_on(self, day) -> "EnrolmentQuerySet":
        """Enrolments running on ``day``; a discharge ends a course's seats on its date."""
        return (
            self.filter(starts_on__lte=day)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
            .exclude(course__discharge__date__lt=day)
        )

    def holding_seat(self) -> "EnrolmentQuerySet":
        """Open enrolments that take a seat now: a discharged course's seat is free again."""
        return self.filter(ends_on__isnull=True).exclude(course__status=Course.Status.DISCHARGED)

    def for_user(self, user: User) -> "EnrolmentQuerySet":
        return within_reach(self, user, "course__patient__")


class Enrolment(models.Model):
    """A course's seat in a group from a date (to a date, once it ends)."""

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="enrolments"
    )
    group = models.ForeignKey(
        Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="enrolments"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on", "pk"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["course", "group"],
                condition=Q(ends_on__isnull=True),
                name="enrolment_one_open_per_group",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="enrolment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["group"], name="enrolment_open_by_group", condition=Q(ends_on__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.starts_on:%d.%m.%Y}"


class WaitingListEntry(ChoiceLabels, models.Model):
    """A course waiting for a seat in a full group, first come first served."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ENROLLED = "enrolled", _("Enrolled")
        REMOVED = "removed", _("Removed")

    group = models.ForeignKey(
        Group, verbose_name=_("group"), on_delete=models.PROTECT, related_name="waiting_list"
    )
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)
    wanted_from = models.DateField(_("wanted from"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.WAITING)
    history = HistoricalRecords()

    class Meta:
        ordering = ["added_at", "pk"]
        verbose_name = _("waiting-list entry")
        verbose_name_plural = _("waiting list")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "course"],
                condition=Q(status="waiting"),
                name="waiting_once_per_group",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "enrolled", "removed"]),
                name="waiting_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.added_at:%d.%m.%Y}"


class AttendanceStatus(models.TextChoices):
    ATTENDED = "attended", _("Attended")
    ABSENT_NOTICE = "absent_notice", _("Absent with notice")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED_BY_CLINIC = "cancelled_by_clinic", _("Cancelled by the clinic")


# Statuses that charge the course (the seat or the clinician's time was held).
CHARGED = (AttendanceStatus.ATTENDED, AttendanceStatus.NO_SHOW)
ATTENDANCE_VALUES = ["attended", "absent_notice", "no_show", "cancelled_by_clinic"]


class Attendance(ChoiceLabels, models.Model):
    """Whether a course's patient came to a group session."""

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.PROTECT, related_name="attendance"
    )
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="attendance"
    )
    status = models.CharField(_("attendance"), max_length=20, choices=AttendanceStatus)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "course"], name="attendance_once_per_session"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ATTENDANCE_VALUES), name="attendance_status_known"
            ),
        ]
        indexes = [models.Index(fields=["course", "session"], name="attendance_by_course")]

    def __str__(self) -> str:
        return self.get_status_display()


class NoShowReason(models.Model):
    """A reason given for not coming to the first conversation (admin-editable list)."""

    name = models.CharField(_("reason"), max_length=120, unique=True)
    active = models.BooleanField(_("in use"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("no-show reason")
        verbose_name_plural = _("no-show reasons")

    def __str__(self) -> str:
        return self.name


class AppointmentQuerySet(models.QuerySet):
    def for_user(self, user: User) -> "AppointmentQuerySet":
        return within_reach(self, user, "course__patient__")


class Appointment(ChoiceLabels, models.Model):
    """An individual session: one clinician, one patient."""

    class Kind(models.TextChoices):
        FIRST_CONVERSATION = "first_conversation", _("First conversation")
        INDIVIDUAL_THERAPY = "individual_therapy", _("Individual therapy")
        PSYCHIATRIC_ASSESSMENT = "psychiatric_assessment", _("Psychiatric assessment")
        OTHER = "other", _("Other")

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="appointments"
    )
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("clinician"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    starts_at = models.DateTimeField(_("time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind)
    attendance = models.CharField(
        _("attendance"), max_length=20, choices=AttendanceStatus, blank=True
    )
    no_show_reason = models.ForeignKey(
        NoShowReason,
        verbose_name=_("reason for not coming"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("individual appointment")
        verbose_name_plural = _("individual appointments")
        constraints = [
            models.CheckConstraint(
                condition=Q(attendance__in=["", *ATTENDANCE_VALUES]),
                name="appointment_attendance_known",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "first_conversation",
                        "individual_therapy",
                        "psychiatric_assessment",
                        "other",
                    ]
                ),
                name="appointment_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1), name="appointment_duration_positive"
            ),
        ]
        indexes = [models.Index(fields=["clinician", "starts_at"], name="appointment_by_clinician")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {timezone.localtime(self.starts_at):%d.%m.%Y %H:%M}"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class CaseFormulation(models.Model):
    """The psychological formulation the plan starts from; clinic only, never coordinators."""

    course = models.OneToOneField(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="case_formulation"
    )
    situations = models.TextField(_("difficult situations"), blank=True)
    actions = models.TextField(_("what the patient does"), blank=True)
    consequences = models.TextField(_("consequences"), blank=True)
    alternatives = models.TextField(_("alternative actions and new coping strategies"), blank=True)
    goals_and_values = models.TextField(_("the patient's own goals and values"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("case formulation")
        verbose_name_plural = _("case formulations")

    def __str__(self) -> str:
        return str(self.course)


class TreatmentPlan(ChoiceLabels, models.Model):
    """The modules and goals chosen with the patient; intensity can go up and down."""

    class Intensity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    course = models.OneToOneField(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="plan"
    )
    modules = models.ManyToManyField(
        Module, verbose_name=_("modules"), blank=True, related_name="+"
    )
    goals = models.TextField(_("goals"), blank=True)
    intensity = models.CharField(
        _("intensity"), max_length=6, choices=Intensity, default=Intensity.MEDIUM
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(m2m_fields=[modules])

    class Meta:
        verbose_name = _("treatment plan")
        verbose_name_plural = _("treatment plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(intensity__in=["low", "medium", "high"]), name="plan_intensity_known"
            ),
        ]

    def __str__(self) -> str:
        return str(self.course)
