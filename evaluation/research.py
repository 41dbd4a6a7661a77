"""Research: consent per patient, and the pseudonymised export of consenting patients.

Researchers never see a patient record (DESIGN.md, "Access and privacy"). What leaves the
clinic is a long-format CSV of coded values and whole numbers only: a keyed pseudonym
instead of the patient, dates as day offsets from the course start, no CPR, name,
address, phone, e-mail or free text. Every variable is described in a data dictionary in
REDCap's layout, and the export writes only variables the dictionary names.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apu.models import User
from coordination.models import Discharge
from evaluation.instruments import BAND_LABELS, INSTRUMENTS
from evaluation.item_labels import ITEM_LABELS, answer_scale
from evaluation.models import Answer, Measurement, ResearchConsent
from modules.queries import hours_by_course
from referrals.models import Course, Patient, Screening, Severity

CLINIC_ONLY = _("Only clinic staff can record research consent.")
FUTURE_DATE = _("The date cannot be in the future.")
UNKNOWN_SCOPE = _("Choose the scope of the consent.")
ALREADY_ACTIVE = _(
    "The patient already has an active research consent; withdraw it before recording a new one."
)
BEFORE_LAST_WITHDRAWAL = _(
    "The consent cannot be given before the previous consent was withdrawn (%(date)s)."
)
ALREADY_WITHDRAWN = _("This consent was already withdrawn on %(date)s; nothing was changed.")
WITHDRAWN_BEFORE_GIVEN = _("A consent cannot be withdrawn before it was given (%(date)s).")

PSEUDONYM_PREFIX = "P-"
PSEUDONYM_LENGTH = 16  # hex characters: 64 bits, no collision in a clinic's lifetime
EXPORT_COLUMNS = ["pseudonym", "course", "variable", "value", "point", "day"]
# REDCap's data-dictionary layout, column for column, so the file can be uploaded as is.
REDCAP_COLUMNS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]
HUNDREDTHS = Decimal("0.01")


# --- Consent ------------------------------------------------------------------------------


def _shown(day: date) -> str:
    return day.strftime("%d.%m.%Y")


@transaction.atomic
def give_consent(patient: Patient, *, by: User, given_on: date, scope: str) -> ResearchConsent:
    """Record the patient's consent to research use, given on ``given_on``."""
    if not by.is_clinic_staff:
        raise PermissionDenied(CLINIC_ONLY)
    if scope not in ResearchConsent.Scope.values:
        raise ValidationError({"scope": ValidationError(UNKNOWN_SCOPE, code="scope")})
    if given_on > timezone.localdate():
        raise ValidationError({"given_on": ValidationError(FUTURE_DATE, code="future")})
    # Lock the patient, so two clinicians recording consent at once cannot both find none
    # active; the partial unique constraint stays the last guard.
    patient = Patient.objects.select_for_update().only("pk").get(pk=patient.pk)
    earlier = ResearchConsent.objects.filter(patient=patient)
    if earlier.filter(withdrawn_on__isnull=True).exists():
        raise ValidationError(ALREADY_ACTIVE, code="active")
    last_withdrawn = earlier.aggregate(last=Max("withdrawn_on"))["last"]
    if last_withdrawn is not None and given_on < last_withdrawn:
        # Overlapping consents would make "consenting on a day" ambiguous.
        raise ValidationError(
            {
                "given_on": ValidationError(
                    BEFORE_LAST_WITHDRAWAL, code="overlap", params={"date": _shown(last_withdrawn)}
                )
            }
        )
    consent = ResearchConsent(patient=patient, given_on=given_on, scope=scope, recorded_by=by)
    consent._history_user = by  # the history names the clinician even outside a request
    consent.save()
    return consent


@transaction.atomic
def withdraw_consent(consent: ResearchConsent, *, by: User, withdrawn_on: date) -> ResearchConsent:
    """Withdraw a consent from ``withdrawn_on``: from that day the patient is left out."""
    if not by.is_clinic_staff:
        raise PermissionDenied(CLINIC_ONLY)
    # Lock the consent: a withdrawal decided on a stale copy must not overwrite another.
    consent = ResearchConsent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_on is not None:
        raise ValidationError(
            ALREADY_WITHDRAWN, code="withdrawn", params={"date": _shown(consent.withdrawn_on)}
        )
    if withdrawn_on > timezone.localdate():
        raise ValidationError({"withdrawn_on": ValidationError(FUTURE_DATE, code="future")})
    if withdrawn_on < consent.given_on:
        raise ValidationError(
            {
                "withdrawn_on": ValidationError(
                    WITHDRAWN_BEFORE_GIVEN, code="order", params={"date": _shown(consent.given_on)}
                )
            }
        )
    consent.withdrawn_on = withdrawn_on
    consent._history_user = by
    consent.save(update_fields=["withdrawn_on"])
    return consent


def consenting_patients(*, today: date | None = None) -> QuerySet[Patient]:
    """Patients whose consent is active on ``today``: given, and not withdrawn by then."""
    today = today or timezone.localdate()
    return Patient.objects.filter(
        pk__in=ResearchConsent.objects.active_on(today).values("patient_id")
    )


# --- Pseudonyms ---------------------------------------------------------------------------


def pseudonym(patient_id: int) -> str:
    """The patient's research pseudonym: a keyed hash (HMAC-SHA256) of the patient's id.

    The id, not the CPR number: the CPR number's few hundred million values could be tried
    one by one by anyone holding the key, whereas the id means nothing without the database
    too. A patient has one row for life (patients are found by CPR), so the pseudonym is
    the same in every export; without the key it cannot be traced back.
    """
    digest = hmac.new(
        settings.RESEARCH_PSEUDONYM_KEY.encode(),
        f"patient:{int(patient_id)}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_LENGTH]


# --- The data dictionary ------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """One field of the export as REDCap describes it."""

    name: str
    form: str
    field_type: str  # REDCap: text, radio, dropdown
    label: Promise | str
    choices: list[tuple[str, Promise | str]] | None = None
    note: Promise | str = ""
    validation: str = ""  # REDCap: integer, number_2dp
    minimum: int | None = None
    maximum: int | None = None

    def as_redcap_row(self) -> list[str]:
        choices = " | ".join(f"{code}, {label}" for code, label in self.choices or [])
        row = {
            "Variable / Field Name": self.name,
            "Form Name": self.form,
            "Field Type": self.field_type,
            "Field Label": str(self.label),
            "Choices, Calculations, OR Slider Labels": choices,
            "Field Note": str(self.note),
            "Text Validation Type OR Show Slider Number": self.validation,
            "Text Validation Min": "" if self.minimum is None else str(self.minimum),
            "Text Validation Max": "" if self.maximum is None else str(self.maximum),
        }
        return [row.get(column, "") for column in REDCAP_COLUMNS]


def _integer(name, form, label, note="", minimum=None, maximum=None) -> Variable:
    return Variable(name, form, "text", label, None, note, "integer", minimum, maximum)


def _hours(name, label, note) -> Variable:
    return Variable(name, "course", "text", label, None, note, "number_2dp", 0)


DAYS_FROM_START = _("Days from the course start (day 0); negative before it.")

RECORD_VARIABLES = [
    Variable(
        "pseudonym",
        "record",
        "text",
        _("Pseudonym of the patient"),
        note=_(
            "Keyed hash (HMAC-SHA256); the same in every export, not traceable without the key."
        ),
    ),
    _integer("course", "record", _("Course number of the patient"), _("1 = first course"), 1),
    Variable(
        "point",
        "record",
        "dropdown",
        _("Measurement point"),
        list(Measurement.Point.choices),
        _("Only on measurement rows."),
    ),
    _integer("day", "record", _("Day of the measurement"), DAYS_FROM_START),
]

COURSE_VARIABLES = [
    Variable("sex", "course", "radio", _("Sex"), list(Patient.Sex.choices)),
    Variable(
        "consent_scope",
        "course",
        "radio",
        _("Scope of the research consent"),
        list(ResearchConsent.Scope.choices),
    ),
    _integer(
        "age_at_first_contact",
        "course",
        _("Age at the referral's first contact"),
        _("Whole years."),
        0,
    ),
    Variable(
        "municipality_code",
        "course",
        "text",
        _("Municipality of residence"),
        note=_("Official Danish municipality code (e.g. 151 Ballerup), as of the export."),
    ),
    Variable(
        "mental_severity",
        "course",
        "radio",
        _("Quadrant model: severity of the mental disorder"),
        list(Severity.choices),
        _("From the newest screening of the referral."),
    ),
    Variable(
        "substance_severity",
        "course",
        "radio",
        _("Quadrant model: severity of the substance use"),
        list(Severity.choices),
        _("From the newest screening of the referral."),
    ),
    _integer("referral_day", "course", _("First contact of the referral"), DAYS_FROM_START),
    _integer(
        "course_start_day",
        "course",
        _("Course start"),
        _("Always 0: the day every other day is counted from."),
    ),
    _integer("planned_end_day", "course", _("Planned end of the course"), DAYS_FROM_START),
    Variable(
        "course_status", "course", "dropdown", _("Course status"), list(Course.Status.choices)
    ),
    _integer("discharge_day", "course", _("Discharge"), DAYS_FROM_START),
    Variable(
        "discharge_kind", "course", "dropdown", _("Kind of discharge"), list(Discharge.Kind.choices)
    ),
    _hours("norm_hour_budget", _("Norm-hour budget"), _("Hours; normally 25.")),
    _hours(
        "norm_hours_used",
        _("Norm hours used"),
        _("Staff time charged to the course, in hours, rounded to 2 decimals."),
    ),
    _hours(
        "treatment_hours_received",
        _("Treatment hours received"),
        _("Hours of sessions the patient attended, rounded to 2 decimals."),
    ),
]


def instrument_prefix(instrument: str) -> str:
    """The variable prefix of an instrument: "PHQ-9" -> "phq9"."""
    return instrument.replace("-", "").lower()


def _bands_in_order(instrument: str) -> list[str]:
    """The instrument's bands from lowest total up, read from its own scoring rules."""
    rules = INSTRUMENTS[instrument]
    bands: list[str] = []
    for total in range(rules.max_total + 1):
        for sex in ("female", "male"):
            band = rules.bands(total, sex)
            if band not in bands:
                bands.append(band)
    return bands


def _english() -> bool:
    return (get_language() or "da").startswith("en")


def _instrument_variables(instrument: str) -> list[Variable]:
    rules = INSTRUMENTS[instrument]
    prefix = instrument_prefix(instrument)
    english = _english()
    labels = {number: (da, en) for code, number, da, en in ITEM_LABELS if code == instrument}
    variables = []
    for number in range(1, len(rules.items) + 1):
        label_da, label_en = labels.get(number, ("", ""))
        scale = answer_scale(instrument, number)
        variables.append(
            Variable(
                f"{prefix}_item{number}",
                prefix,
                "radio",
                f"{instrument} {number}: {label_en if english else label_da}",
                [(str(value), en if english else da) for value, da, en in scale],
                _("Short label in the clinic's words; not the questionnaire's wording."),
            )
        )
    variables.append(
        _integer(
            f"{prefix}_total",
            prefix,
            _("%(instrument)s total") % {"instrument": instrument},
            "",
            0,
            rules.max_total,
        )
    )
    variables.append(
        Variable(
            f"{prefix}_band",
            prefix,
            "dropdown",
            _("%(instrument)s band") % {"instrument": instrument},
            [(band, BAND_LABELS[band]) for band in _bands_in_order(instrument)],
            _("As scored when entered; source: %(source)s.") % {"source": rules.source},
        )
    )
    if rules.percentage(0) is not None:
        variables.append(
            _integer(
                f"{prefix}_percentage",
                prefix,
                _("%(instrument)s percentage") % {"instrument": instrument},
                "",
                0,
                100,
            )
        )
    return variables


def data_dictionary() -> list[Variable]:
    """Every variable the export can hold, in the export's order, labelled in the current
    language."""
    variables = RECORD_VARIABLES + COURSE_VARIABLES
    for instrument in INSTRUMENTS:
        variables = variables + _instrument_variables(instrument)
    return variables


def dictionary_rows() -> list[list[str]]:
    """The data dictionary as CSV rows, REDCap's header first."""
    return [REDCAP_COLUMNS, *(variable.as_redcap_row() for variable in data_dictionary())]


# --- The export ---------------------------------------------------------------------------

# Patients per batch. The export reads the database a batch at a time (keyset pagination by
# patient id), so memory holds one batch's courses, measurements and answers however many
# patients consent, and each batch costs the same five queries. 500 patients with about 600
# courses and 50,000 answers grew a worker's peak memory by some 20 MB, the same with 500
# consenting patients as with 20,000.
EXPORT_BATCH_SIZE = 500


@dataclass(frozen=True)
class ExportBatch:
    """One batch of the export: the patients it holds, for the access log, and their rows."""

    patient_ids: list[int]
    rows: Iterator[list[str]]


def _hundredths(value: Decimal) -> str:
    return str(value.quantize(HUNDREDTHS, rounding=ROUND_HALF_UP))


def _courses(today: date, *, after: int, patients: int) -> QuerySet[Course]:
    """The courses of the next ``patients`` consenting patients with an id above ``after``,
    with only the fields the export needs, each patient's courses together.

    ``only`` keeps CPR, name, address, phone, e-mail and every free-text field in the
    database: what is never read cannot leak into the file.
    """
    batch = (
        consenting_patients(today=today)
        .filter(pk__gt=after)
        .filter(Exists(Course.objects.filter(patient_id=OuterRef("pk"))))
        .order_by("pk")
        .values("pk")[:patients]
    )
    newest_screening = Screening.objects.filter(referral_id=OuterRef("referral_id")).order_by(
        "-screened_at", "-pk"
    )
    active_consent = ResearchConsent.objects.active_on(today).filter(
        patient_id=OuterRef("patient_id")
    )
    return (
        Course.objects.filter(patient_id__in=batch)
        .select_related("patient__municipality", "referral", "discharge")
        .only(
            "start",
            "planned_end",
            "status",
            "norm_hour_budget",
            "patient__sex",
            "patient__birth_date",
            "patient__municipality__code",
            "referral__first_contact",
            "discharge__date",
            "discharge__kind",
        )
        .annotate(
            newest_mental_severity=Subquery(newest_screening.values("mental_severity")[:1]),
            newest_substance_severity=Subquery(newest_screening.values("substance_severity")[:1]),
            consent_scope=Subquery(active_consent.values("scope")[:1]),
        )
        .order_by("patient_id", "start", "pk")
    )


# A measurement as the export reads it: id, course, instrument, point, answered on, total,
# band, percentage.
MeasurementRow = tuple[int, int, str, str, date, int, str, int | None]


def _measurements(course_ids: list[int]) -> dict[int, list[MeasurementRow]]:
    """The courses' measurements, oldest first, as plain tuples: at thousands a batch, far
    cheaper than model instances."""
    found = (
        Measurement.objects.filter(course_id__in=course_ids)
        .order_by("answered_on", "instrument", "pk")
        .values_list(
            "pk", "course_id", "instrument", "point", "answered_on", "total", "band", "percentage"
        )
    )
    by_course: dict[int, list[MeasurementRow]] = defaultdict(list)
    for measurement in found:
        by_course[measurement[1]].append(measurement)
    return by_course


def _answers(course_ids: list[int]) -> dict[int, list[tuple[int, int]]]:
    """(item number, answer) of each measurement of the courses, in item order."""
    found = (
        Answer.objects.filter(measurement__course_id__in=course_ids)
        .order_by("measurement_id", "number")
        .values_list("measurement_id", "number", "value")
    )
    by_measurement: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for measurement_id, number, value in found:
        by_measurement[measurement_id].append((number, value))
    return by_measurement


def _course_values(course: Course, hours: tuple[Decimal, Decimal]) -> Iterator[tuple[str, object]]:
    patient, referral = course.patient, course.referral
    discharge = getattr(course, "discharge", None)
    yield "sex", patient.sex
    yield "consent_scope", course.consent_scope
    yield "age_at_first_contact", patient.age_on(referral.first_contact)
    yield "municipality_code", patient.municipality.code
    yield "mental_severity", course.newest_mental_severity
    yield "substance_severity", course.newest_substance_severity
    yield "referral_day", (referral.first_contact - course.start).days
    yield "course_start_day", 0
    yield "planned_end_day", (course.planned_end - course.start).days
    yield "course_status", course.status
    if discharge is not None:
        yield "discharge_day", (discharge.date - course.start).days
        yield "discharge_kind", discharge.kind
    yield "norm_hour_budget", _hundredths(course.norm_hour_budget)
    yield "norm_hours_used", _hundredths(hours[0])
    yield "treatment_hours_received", _hundredths(hours[1])


def _measurement_values(
    measurement: MeasurementRow, answers: list[tuple[int, int]]
) -> Iterator[tuple[str, object]]:
    _pk, _course_id, instrument, _point, _answered_on, total, band, percentage = measurement
    prefix = instrument_prefix(instrument)
    for number, value in answers:
        yield f"{prefix}_item{number}", value
    yield f"{prefix}_total", total
    yield f"{prefix}_band", band
    if percentage is not None:
        yield f"{prefix}_percentage", percentage


def _batch_rows(
    courses: list[Course],
    measurements: dict[int, list[MeasurementRow]],
    answers: dict[int, list[tuple[int, int]]],
    hours: dict[int, tuple[Decimal, Decimal]],
    known: frozenset[str],
) -> Iterator[list[str]]:
    """The rows of one batch, course by course; a patient's courses are numbered 1, 2, ..."""
    numbers: dict[int, int] = defaultdict(int)
    for course in courses:
        numbers[course.patient_id] += 1
        code, number = pseudonym(course.patient_id), str(numbers[course.patient_id])
        for variable, value in _course_values(course, hours[course.pk]):
            if value in (None, ""):
                continue
            if variable not in known:
                raise _not_in_dictionary(variable)
            yield [code, number, variable, str(value), "", ""]
        for measurement in measurements[course.pk]:
            point, day = measurement[3], str((measurement[4] - course.start).days)
            for variable, value in _measurement_values(measurement, answers[measurement[0]]):
                if variable not in known:
                    raise _not_in_dictionary(variable)
                yield [code, number, variable, str(value), point, day]


def _not_in_dictionary(variable: str) -> ValueError:
    # A guard for whoever adds a variable: the dictionary must describe it first.
    return ValueError(f"{variable} is not in the data dictionary")


def export_batches(*, today: date | None = None) -> Iterator[ExportBatch]:
    """The long-format export of every consenting patient's courses and measurements, read
    and handed out ``EXPORT_BATCH_SIZE`` patients at a time, in patient order.

    One row per value: pseudonym, course number, variable, value, and for measurements the
    point and the day. A missing value has no row. Five queries a batch whatever its size:
    courses (with patient, referral, discharge, newest screening and consent scope joined
    in), measurements, their answers, group attendance, appointments. A full batch is
    followed by one more courses query, which may find nobody.

    Each batch is read in its own queries, not in one long transaction or server-side
    cursor: a connection is never held in a transaction while a slow client downloads, and
    nothing depends on ``WITH HOLD`` cursors (which a transaction-pooling proxy breaks).
    A consent withdrawn during a download therefore leaves the patient out if their batch
    is read after the withdrawal.
    """
    today = today or timezone.localdate()
    known = frozenset(variable.name for variable in data_dictionary())
    after = 0
    while True:
        courses = list(_courses(today, after=after, patients=EXPORT_BATCH_SIZE))
        if not courses:
            return
        course_ids = [course.pk for course in courses]
        patient_ids = list(dict.fromkeys(course.patient_id for course in courses))
        rows = _batch_rows(
            courses,
            _measurements(course_ids),
            _answers(course_ids),
            hours_by_course(course_ids),
            known,
        )
        yield ExportBatch(patient_ids, rows)
        if len(patient_ids) < EXPORT_BATCH_SIZE:
            return
        after = patient_ids[-1]
