"""Patients, referrals, their screening and decision, the code lists, and the course."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apu.choices import ChoiceLabels
from apu.models import Municipality, User


def patient_reach(user: User, path: str = "") -> Q | None:
    """Which patients ``user`` may see, as a condition on the patient at ``path``; None: none.

    The clinic sees every patient, a coordinator their own municipality's, anyone else none.
    This is the one place access to patient data is decided; every ``for_user`` applies it.
    It is a condition on a join rather than ``IN (subquery)`` so that, at regional scale, the
    database plans each list from its own indexes (and the clinic's lists join nothing).
    """
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_clinic_staff:
        return Q()
    if user.role == User.Role.COORDINATOR:
        return Q(**{f"{path}municipality_id": user.municipality_id})
    return None


def within_reach(queryset: models.QuerySet, user: User, path: str) -> models.QuerySet:
    """``queryset`` cut to the rows whose patient (at ``path``) ``user`` may see."""
    condition = patient_reach(user, path)
    return queryset.none() if condition is None else queryset.filter(condition)


class PatientQuerySet(models.QuerySet):
    def for_user(self, user: User) -> "PatientQuerySet":
        """Patients ``user`` may see: the clinic sees all, a coordinator their municipality."""
        return within_reach(self, user, "")


class Patient(ChoiceLabels, models.Model):
    """A person referred to the clinic, identified by CPR number."""

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")

    cpr = models.CharField(_("CPR number"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT, related_name="+"
    )
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=6, choices=Sex)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        constraints = [
            models.CheckConstraint(
                condition=Q(cpr__regex=r"^[0-9]{10}$"), name="patient_cpr_digits"
            ),
            models.CheckConstraint(
                condition=Q(sex__in=["female", "male"]), name="patient_sex_known"
            ),
        ]
        indexes = [
            # Search by name in the worklist and patient search.
            models.Index(fields=["name"], name="patient_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cpr_masked})"

    @property
    def cpr_formatted(self) -> str:
        return f"{self.cpr[:6]}-{self.cpr[6:]}"

    @property
    def cpr_masked(self) -> str:
        """CPR as shown in lists: birth date only."""
        return f"{self.cpr[:6]}-xxxx"

    def age_on(self, day) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class DiagnosisCode(models.Model):
    """One ICD-10 code of the F chapter, in normal form (F32, F32.1, F60.30)."""

    code = models.CharField(_("code"), max_length=7, unique=True)
    title_da = models.CharField(_("Danish title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("diagnosis code")
        verbose_name_plural = _("diagnosis codes")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$"),
                name="diagnosis_code_normal_form",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def title(self) -> str:
        from django.utils.translation import get_language

        return self.title_en if (get_language() or "da").startswith("en") else self.title_da


class CodeRule(ChoiceLabels, models.Model):
    """One entry of the screening code lists: a code and everything under it gets a category.

    The most specific rule (longest code) decides for a diagnosis; codes no rule covers
    go to review. Admins edit these lists; the next screening reads them.
    """

    class Category(models.TextChoices):
        MENTAL = "mental", _("Qualifying mental disorder")
        SUBSTANCE = "substance", _("Qualifying substance use disorder")
        EXCLUSION = "exclusion", _("Excluding diagnosis")
        REVIEW = "review", _("Needs review by a clinician")
        NEVER = "never", _("Never qualifies (ignored)")

    category = models.CharField(_("list"), max_length=10, choices=Category)
    code = models.CharField(
        _("code"),
        max_length=7,
        help_text=_("Normal form, e.g. F32 or F40.1; covers every code below it."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "code"]
        verbose_name = _("screening code rule")
        verbose_name_plural = _("screening code lists")
        constraints = [
            models.UniqueConstraint(fields=["code"], name="code_rule_one_list_per_code"),
            models.CheckConstraint(
                condition=Q(category__in=["mental", "substance", "exclusion", "review", "never"]),
                name="code_rule_category_known",
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z][0-9]{2}(\.[0-9]{1,2})?$"),
                name="code_rule_code_normal_form",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.get_category_display()}"


class ReferralQuerySet(models.QuerySet):
    def for_user(self, user: User) -> "ReferralQuerySet":
        """Referrals of the patients ``user`` may see."""
        return within_reach(self, user, "patient__")

    def open(self) -> "ReferralQuerySet":
        return self.filter(status__in=Referral.OPEN_STATUSES)


class Referral(ChoiceLabels, models.Model):
    """A request to treat a patient, from the first contact to the clinic's decision."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, awaiting screening")
        SCREENED = "screened", _("Screened, awaiting decision")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class ReferrerKind(models.TextChoices):
        GP = "gp", _("General practitioner")
        MUNICIPAL = "municipal", _("Municipal rusmiddelcenter")
        PSYCHIATRY = "psychiatry", _("Psychiatric unit")
        SELF = "self", _("Self-referral")
        OTHER = "other", _("Other")

    class Substitution(models.TextChoices):
        NONE = "none", _("None")
        STABLE = "stable", _("Stable")
        UNSTABLE = "unstable", _("Unstable")

    OPEN_STATUSES = (Status.RECEIVED, Status.SCREENED)

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="referrals"
    )
    first_contact = models.DateField(
        _("first contact"), help_text=_("The intake meeting clock starts on this day.")
    )
    received = models.DateField(_("received"))
    referrer_kind = models.CharField(_("referred by"), max_length=12, choices=ReferrerKind)
    referrer_name = models.CharField(_("referrer's name"), max_length=200, blank=True)
    referrer_organisation = models.CharField(
        _("referrer's organisation"), max_length=200, blank=True
    )
    in_municipal_substance_treatment = models.BooleanField(
        _("in treatment at the municipal rusmiddelcenter"), default=False
    )
    substitution_treatment = models.CharField(
        _("opioid substitution treatment"), max_length=8, choices=Substitution, default="none"
    )
    reason = models.TextField(_("reason for referral"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.RECEIVED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["first_contact", "pk"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["received", "screened", "accepted", "rejected", "withdrawn"]
                ),
                name="referral_status_known",
            ),
            models.CheckConstraint(
                condition=Q(substitution_treatment__in=["none", "stable", "unstable"]),
                name="referral_substitution_known",
            ),
            models.CheckConstraint(
                condition=Q(received__gte=models.F("first_contact")),
                name="referral_received_after_first_contact",
            ),
        ]
        indexes = [
            # The worklist: open referrals, oldest first contact first.
            models.Index(
                fields=["first_contact", "id"],
                name="referral_open_by_contact",
                condition=Q(status__in=["received", "screened"]),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Referral of %(date)s") % {"date": self.first_contact.strftime("%d-%m-%Y")}

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def intake_due(self):
        """The intake meeting deadline; the clock started at the first contact."""
        from referrals.deadlines import intake_meeting_due

        return intake_meeting_due(self.first_contact)


class ReferralDiagnosis(ChoiceLabels, models.Model):
    """A diagnosis on the referral, with its role: mental disorder or substance use."""

    class Role(models.TextChoices):
        MENTAL = "mental", _("Mental disorder")
        SUBSTANCE = "substance", _("Substance use")

    referral = models.ForeignKey(
        Referral, verbose_name=_("referral"), on_delete=models.CASCADE, related_name="diagnoses"
    )
    code = models.ForeignKey(
        DiagnosisCode,
        verbose_name=_("code"),
        on_delete=models.PROTECT,
        to_field="code",
        db_column="code",
        related_name="+",
    )
    role = models.CharField(_("role"), max_length=10, choices=Role)
    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "code"]
        verbose_name = _("diagnosis")
        verbose_name_plural = _("diagnoses")
        constraints = [
            models.UniqueConstraint(fields=["referral", "code"], name="referral_diagnosis_once"),
            models.CheckConstraint(
                condition=Q(role__in=["mental", "substance"]), name="referral_diagnosis_role_known"
            ),
        ]

    def __str__(self) -> str:
        return self.code_id


class Severity(models.TextChoices):
    LOWER = "lower", _("Lower")
    HIGHER = "higher", _("Higher")


class Screening(ChoiceLabels, models.Model):
    """One run of the inclusion and exclusion criteria, kept as it was decided.

    A referral may be screened again (new information); the newest screening counts.
    """

    class Outcome(models.TextChoices):
        ELIGIBLE = "eligible", _("Eligible")
        INELIGIBLE = "ineligible", _("Not eligible")
        REVIEW = "review", _("Needs review")

    referral = models.ForeignKey(
        Referral, verbose_name=_("referral"), on_delete=models.CASCADE, related_name="screenings"
    )
    screened_at = models.DateTimeField(_("screened"), default=timezone.now)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("screened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome)
    mental_severity = models.CharField(
        _("severity of the mental disorder"), max_length=6, choices=Severity, blank=True
    )
    substance_severity = models.CharField(
        _("severity of the substance use"), max_length=6, choices=Severity, blank=True
    )
    # What the screening was given, so the decision can be explained later as it was made.
    inputs = models.JSONField(_("inputs"), default=dict)

    class Meta:
        ordering = ["-screened_at", "-pk"]
        get_latest_by = ["screened_at", "pk"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["eligible", "ineligible", "review"]),
                name="screening_outcome_known",
            ),
            models.CheckConstraint(
                condition=Q(mental_severity__in=["", "lower", "higher"])
                & Q(substance_severity__in=["", "lower", "higher"]),
                name="screening_severity_known",
            ),
        ]

    def __str__(self) -> str:
        return self.get_outcome_display()

    @property
    def quadrant_axes(self) -> tuple[str, str] | None:
        if self.mental_severity and self.substance_severity:
            return self.mental_severity, self.substance_severity
        return None


class ScreeningCriterion(ChoiceLabels, models.Model):
    """One criterion of a stored screening: its outcome and why."""

    class Outcome(models.TextChoices):
        PASS = "pass", _("Met")
        FAIL = "fail", _("Not met")
        REVIEW = "review", _("Review")

    screening = models.ForeignKey(
        Screening, verbose_name=_("screening"), on_delete=models.CASCADE, related_name="criteria"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    key = models.CharField(_("criterion"), max_length=40)
    outcome = models.CharField(_("outcome"), max_length=6, choices=Outcome)
    # The reason as an untranslated message and its parameters, shown in the reader's language.
    message = models.CharField(_("reason"), max_length=300)
    params = models.JSONField(_("details"), default=dict)

    class Meta:
        ordering = ["screening", "position"]
        verbose_name = _("screening criterion")
        verbose_name_plural = _("screening criteria")
        constraints = [
            models.UniqueConstraint(fields=["screening", "key"], name="screening_criterion_once"),
            models.CheckConstraint(
                condition=Q(outcome__in=["pass", "fail", "review"]),
                name="screening_criterion_outcome_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.outcome}"

    @property
    def reason(self) -> str:
        return gettext(self.message) % self.params

    @property
    def label(self) -> str:
        from referrals.screening import criterion_label

        return criterion_label(self.key)


class Decision(ChoiceLabels, models.Model):
    """The clinic's decision on a referral; one per referral, never changed."""

    class Kind(models.TextChoices):
        ACCEPT = "accept", _("Accept")
        REJECT = "reject", _("Reject")
        WITHDRAW = "withdraw", _("Withdrawn")

    referral = models.OneToOneField(
        Referral, verbose_name=_("referral"), on_delete=models.PROTECT, related_name="decision"
    )
    kind = models.CharField(_("decision"), max_length=8, choices=Kind)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)
    overrides_screening = models.BooleanField(_("overrides the screening"), default=False)
    screening = models.ForeignKey(
        Screening,
        verbose_name=_("screening decided on"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["accept", "reject", "withdraw"]), name="decision_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(overrides_screening=False) | ~Q(reason=""),
                name="decision_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class CourseQuerySet(models.QuerySet):
    def for_user(self, user: User) -> "CourseQuerySet":
        return within_reach(self, user, "patient__")

    def open(self) -> "CourseQuerySet":
        return self.exclude(status=Course.Status.DISCHARGED)


class Course(ChoiceLabels, models.Model):
    """A behandlingsforløb: one patient's treatment, opened by accepting a referral."""

    class Status(models.TextChoices):
        AWAITING_INTAKE = "awaiting_intake", _("Awaiting intake meeting")
        IN_TREATMENT = "in_treatment", _("In treatment")
        DISCHARGED = "discharged", _("Discharged")

    NORM_HOUR_BUDGET = Decimal("25")
    PLANNED_WEEKS = 26

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="courses"
    )
    referral = models.OneToOneField(
        Referral, verbose_name=_("referral"), on_delete=models.PROTECT, related_name="course"
    )
    start = models.DateField(_("start"))
    planned_end = models.DateField(_("planned end"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.AWAITING_INTAKE
    )
    norm_hour_budget = models.DecimalField(
        _("norm-hour budget"), max_digits=5, decimal_places=2, default=NORM_HOUR_BUDGET
    )
    intake_meeting_due = models.DateField(_("intake meeting due"))
    # Whether an open meeting of the course has a time. The database keeps it, whatever
    # writes the meetings or the course (triggers in coordination/migrations/0004), so the
    # meeting worklist counts its unscheduled courses from one partial index; derived, so
    # not in the history.
    meeting_scheduled = models.BooleanField(
        _("meeting scheduled"), default=False, db_default=False, editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["meeting_scheduled"])

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-pk"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=~Q(status="discharged"),
                name="one_open_course_per_patient",
                violation_error_message=_("The patient already has an open course."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["awaiting_intake", "in_treatment", "discharged"]),
                name="course_status_known",
            ),
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("start")), name="course_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(norm_hour_budget__gte=0), name="course_budget_not_negative"
            ),
        ]
        indexes = [
            # The meeting worklist's open courses with no meeting scheduled, soonest intake
            # deadline first: a page is read in index order and its count from the index
            # alone, past no discharged or scheduled course.
            models.Index(
                fields=["intake_meeting_due", "id"],
                name="course_unscheduled_by_due",
                condition=~Q(status="discharged") & Q(meeting_scheduled=False),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Course from %(date)s") % {"date": self.start.strftime("%d-%m-%Y")}

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.DISCHARGED
