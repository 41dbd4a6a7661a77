"""Outcome measurements, item by item, at fixed points of each course."""

import json
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from apu.choices import ChoiceLabels
from apu.models import User
from evaluation.instruments import BAND_LABELS, INSTRUMENTS
from referrals.models import Course, within_reach

INSTRUMENT_CHOICES = [(code, code) for code in INSTRUMENTS]


class ItemLabel(ChoiceLabels, models.Model):
    """A short label for one item of an instrument; the official wording may be loaded by an
    admin as data (it is not part of the code)."""

    instrument = models.CharField(_("instrument"), max_length=8, choices=INSTRUMENT_CHOICES)
    number = models.PositiveSmallIntegerField(_("item"))
    label_da = models.CharField(_("Danish label"), max_length=200)
    label_en = models.CharField(_("English label"), max_length=200)
    official_da = models.TextField(_("official Danish wording"), blank=True)
    official_en = models.TextField(_("official English wording"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["instrument", "number"]
        verbose_name = _("item label")
        verbose_name_plural = _("item labels")
        constraints = [
            models.UniqueConstraint(fields=["instrument", "number"], name="item_label_once"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.number}"

    @property
    def text(self) -> str:
        english = (get_language() or "da").startswith("en")
        official = self.official_en if english else self.official_da
        return official or (self.label_en if english else self.label_da)


class MeasurementQuerySet(models.QuerySet):
    def for_user(self, user: User) -> "MeasurementQuerySet":
        return within_reach(self, user, "course__patient__")


class Measurement(ChoiceLabels, models.Model):
    """One completed questionnaire at one point of a course, with its score as computed."""

    class Point(models.TextChoices):
        BASELINE = "baseline", _("Baseline (intake)")
        MIDPOINT = "midpoint", _("Midpoint")
        DISCHARGE = "discharge", _("Discharge")
        FOLLOW_UP = "follow_up", _("Follow-up (3 months after discharge)")

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="measurements"
    )
    instrument = models.CharField(_("instrument"), max_length=8, choices=INSTRUMENT_CHOICES)
    point = models.CharField(_("measurement point"), max_length=10, choices=Point)
    answered_on = models.DateField(_("answered"))
    total = models.PositiveSmallIntegerField(_("total"))
    band = models.CharField(_("band"), max_length=24)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    percentage = models.PositiveSmallIntegerField(_("percentage"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)
    history = HistoricalRecords()

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["answered_on", "pk"]
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        constraints = [
            models.UniqueConstraint(
                fields=["course", "instrument", "point"], name="measurement_once_per_point"
            ),
            models.CheckConstraint(
                condition=Q(point__in=["baseline", "midpoint", "discharge", "follow_up"]),
                name="measurement_point_known",
            ),
            models.CheckConstraint(
                condition=Q(instrument__in=list(INSTRUMENTS)), name="measurement_instrument_known"
            ),
        ]
        indexes = [
            # The clinic's safety list: measurements with a flag, newest first.
            models.Index(
                fields=["-entered_at"], name="measurement_flagged", condition=~Q(flags=[])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.get_point_display()}"

    @property
    def item9_positive(self) -> bool:
        return "item9_positive" in self.flags

    @property
    def band_label(self) -> str:
        """The band in the reader's language (the band's key when it has no label)."""
        return str(BAND_LABELS.get(self.band, self.band))


class Answer(models.Model):
    """One item's answer, so every item is kept, not just the total."""

    measurement = models.ForeignKey(
        Measurement, verbose_name=_("measurement"), on_delete=models.CASCADE, related_name="answers"
    )
    number = models.PositiveSmallIntegerField(_("item"))
    value = models.PositiveSmallIntegerField(_("answer"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["measurement", "number"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["measurement", "number"], name="answer_once_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.value}"


class ConsentQuerySet(models.QuerySet):
    def for_user(self, user: User) -> "ConsentQuerySet":
        return within_reach(self, user, "patient__")

    def active_on(self, day) -> "ConsentQuerySet":
        return self.filter(given_on__lte=day).filter(
            Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=day)
        )


class ResearchConsent(ChoiceLabels, models.Model):
    """A patient's consent to research use of their pseudonymised data."""

    class Scope(models.TextChoices):
        OUTCOMES = "outcomes", _("Outcome measurements and course data")
        OUTCOMES_AND_FOLLOW_UP = (
            "follow_up",
            _("Outcomes, course data and contact for follow-up studies"),
        )

    patient = models.ForeignKey(
        "referrals.Patient",
        verbose_name=_("patient"),
        on_delete=models.PROTECT,
        related_name="research_consents",
    )
    given_on = models.DateField(_("given"))
    scope = models.CharField(_("scope"), max_length=12, choices=Scope, default=Scope.OUTCOMES)
    withdrawn_on = models.DateField(_("withdrawn"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-given_on", "pk"]
        verbose_name = _("research consent")
        verbose_name_plural = _("research consents")
        constraints = [
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=models.F("given_on")),
                name="consent_withdrawn_after_given",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(withdrawn_on__isnull=True),
                name="consent_one_active_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.given_on:%d.%m.%Y}"


class ImprovementNote(models.Model):
    """A dated change in practice (PDSA), shown on the run charts to see if it helped."""

    date = models.DateField(_("date"))
    title = models.CharField(_("change"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("improvement note")
        verbose_name_plural = _("improvement log")

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.title}"


class SnapshotEncoder(DjangoJSONEncoder):
    """JSON with dates and decimals tagged, so a snapshot reads back as it was computed."""

    def default(self, o):
        if isinstance(o, date):
            return {"__date__": o.isoformat()}
        if isinstance(o, Decimal):
            return {"__decimal__": str(o)}
        return super().default(o)


class SnapshotDecoder(json.JSONDecoder):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, object_hook=self._tagged, **kwargs)

    @staticmethod
    def _tagged(value: dict):
        if "__date__" in value:
            return date.fromisoformat(value["__date__"])
        if "__decimal__" in value:
            return Decimal(value["__decimal__"])
        return value


class DashboardSnapshot(models.Model):
    """The Lean dashboard's KPI figures for one period and municipality, as last computed.

    The KPIs aggregate every course of the period; at regional scale that takes seconds, so
    the page reads these figures instead. ``refresh_dashboard`` (cron) recomputes the default
    views; any other view is computed on first use; either is recomputed once it is older
    than DASHBOARD_MAX_AGE_MINUTES. Aggregates only: no patient is named here.
    """

    key = models.CharField(_("key"), max_length=100, unique=True)
    data = models.JSONField(_("figures"), encoder=SnapshotEncoder, decoder=SnapshotDecoder)
    computed_at = models.DateTimeField(_("computed at"))
    # How long computing took, so the admin can see why a snapshot is worth keeping.
    seconds = models.FloatField(_("seconds to compute"), default=0)

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")

    def __str__(self) -> str:
        return self.key
