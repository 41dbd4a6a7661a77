"""Registering a referral and deciding it, as the clinic's workflow rules say."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from referrals.models import (
    Course,
    Decision,
    Patient,
    Referral,
    ReferralDiagnosis,
    Screening,
    ScreeningCriterion,
)
from referrals.services import decide_referral
from tests.referrals.factories import (
    CPR_FEMALE_1985,
    FIRST_CONTACT,
    RECEIVED,
    patient_details,
    register,
)

pytestmark = pytest.mark.django_db

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 3, 10)


@pytest.fixture
def today(time_machine) -> date:
    """The clinic's calendar stands still on 10 March 2026, a week after first contact."""
    time_machine.move_to(datetime(2026, 3, 10, 9, 30, tzinfo=COPENHAGEN), tick=False)
    return TODAY


@pytest.fixture(autouse=True)
def intake_deadline_21_days(settings):
    settings.INTAKE_MEETING_DEADLINE_DAYS = 21


def counts() -> dict[str, int]:
    """What registration and decision write, counted."""
    return {
        model.__name__: model.objects.count()
        for model in (
            Patient,
            Referral,
            ReferralDiagnosis,
            Screening,
            ScreeningCriterion,
            Decision,
            Course,
        )
    }


def error_codes(error: ValidationError) -> dict[str | None, list[str]]:
    """{field: [codes]}; errors tied to no field are under None."""
    if hasattr(error, "error_dict"):
        return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}
    return {None: [e.code for e in error.error_list]}


# --- register_referral ----------------------------------------------------------------


def test_registering_creates_patient_referral_diagnoses_and_one_screening(clinician, today):
    assert set(counts().values()) == {0}

    referral = register(
        by=clinician,
        patient=patient_details(cpr="170590-1233", name="Jens Hansen", phone="12345678"),
        diagnosis_codes=["DF321", "f10.2"],
        mental_severity="",
        substance_severity="",
    )

    patient = referral.patient
    assert patient.cpr == "1705901233"
    assert patient.birth_date == date(1990, 5, 17)
    assert patient.sex == Patient.Sex.MALE
    assert patient.name == "Jens Hansen"
    assert patient.municipality.code == "151"
    assert patient.phone == "12345678"
    assert referral.first_contact == FIRST_CONTACT
    assert referral.received == RECEIVED
    assert referral.submitted_by == clinician
    assert referral.in_municipal_substance_treatment is True
    assert dict(referral.diagnoses.values_list("code", "role")) == {
        "F32.1": ReferralDiagnosis.Role.MENTAL,
        "F10.2": ReferralDiagnosis.Role.SUBSTANCE,
    }
    screening = Screening.objects.get(referral=referral)
    assert screening.outcome == Screening.Outcome.ELIGIBLE
    assert screening.screened_by == clinician
    assert screening.inputs["municipality_code"] == "151"
    assert screening.inputs["diagnosis_codes"] == ["F10.2", "F32.1"]
    assert list(screening.criteria.values_list("key", "outcome")) == [
        ("municipality", "pass"),
        ("adult", "pass"),
        ("mental_disorder", "pass"),
        ("substance_use", "pass"),
        ("no_exclusion", "pass"),
        ("other_codes", "pass"),
        ("municipal_treatment", "pass"),
        ("substitution", "pass"),
    ]
    assert counts() == {
        "Patient": 1,
        "Referral": 1,
        "ReferralDiagnosis": 2,
        "Screening": 1,
        "ScreeningCriterion": 8,
        "Decision": 0,
        "Course": 0,
    }


def test_sex_and_birth_date_come_from_the_cpr_number(clinician, today):
    referral = register(by=clinician, patient=patient_details(cpr=CPR_FEMALE_1985))

    assert referral.patient.birth_date == date(1985, 2, 1)
    assert referral.patient.sex == Patient.Sex.FEMALE


@pytest.mark.parametrize(
    ("codes", "roles"),
    [
        pytest.param(["F32.1", "F10.2"], {"F32.1": "mental", "F10.2": "substance"}, id="basic"),
        pytest.param(
            ["F60.31", "F19.2", "F17.2", "F20"],
            {"F60.31": "mental", "F19.2": "substance", "F17.2": "substance", "F20": "mental"},
            id="tobacco-is-substance-schizophrenia-is-mental",
        ),
        pytest.param(["F18.5", "F90.0"], {"F18.5": "substance", "F90.0": "mental"}, id="review"),
    ],
)
def test_each_diagnosis_gets_its_role(clinician, today, codes, roles):
    referral = register(by=clinician, diagnosis_codes=codes)

    assert dict(referral.diagnoses.values_list("code", "role")) == roles


@pytest.mark.parametrize(
    ("mental", "substance", "status"),
    [
        pytest.param("", "", Referral.Status.RECEIVED, id="no-axes-received"),
        pytest.param("higher", "", Referral.Status.RECEIVED, id="one-axis-received"),
        pytest.param("", "lower", Referral.Status.RECEIVED, id="other-axis-received"),
        pytest.param("lower", "higher", Referral.Status.SCREENED, id="both-axes-screened"),
    ],
)
def test_the_referral_is_screened_once_both_axes_are_recorded(
    clinician, today, mental, substance, status
):
    referral = register(by=clinician, mental_severity=mental, substance_severity=substance)

    referral.refresh_from_db()
    assert referral.status == status
    screening = Screening.objects.get(referral=referral)
    assert (screening.mental_severity, screening.substance_severity) == (mental, substance)


def test_an_existing_patient_is_reused_and_updated(clinician, today):
    first = register(
        by=clinician,
        patient=patient_details(cpr="1705901233", name="Jens Hansen", phone="11111111"),
    )
    assert Patient.objects.count() == 1

    second = register(
        by=clinician,
        patient=patient_details(
            cpr="170590-1233", name="Jens Hansen Holm", municipality="159", address="Ny vej 2"
        ),
    )

    assert Patient.objects.count() == 1
    assert Referral.objects.count() == 2
    assert second.patient_id == first.patient_id
    patient = Patient.objects.get()
    assert patient.name == "Jens Hansen Holm"
    assert patient.municipality.code == "159"
    assert patient.address == "Ny vej 2"
    assert patient.phone == "11111111"  # a blank phone on the new referral keeps the old one


def test_a_coordinator_registers_for_their_own_municipality(coordinator_ballerup, today):
    referral = register(by=coordinator_ballerup)

    assert referral.patient.municipality == coordinator_ballerup.municipality
    assert referral.submitted_by == coordinator_ballerup


def test_a_coordinators_severity_axes_are_ignored(coordinator_ballerup, today):
    referral = register(
        by=coordinator_ballerup, mental_severity="higher", substance_severity="higher"
    )

    referral.refresh_from_db()
    assert referral.status == Referral.Status.RECEIVED
    screening = Screening.objects.get(referral=referral)
    assert screening.mental_severity == ""
    assert screening.substance_severity == ""
    assert screening.quadrant_axes is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({"patient": {"cpr": "12345"}}, {None: ["bad_format"]}, id="cpr-format"),
        pytest.param(
            {"patient": {"cpr": "320190-1233"}},
            {None: ["impossible_date"]},
            id="cpr-impossible-date",
        ),
        pytest.param(
            {"patient": {"cpr": "290290-1233"}},
            {None: ["impossible_date"]},
            id="cpr-29-february-of-a-common-year",
        ),
        pytest.param(
            {"patient": {"cpr": "010130-4233"}},
            {None: ["future_date"]},
            id="cpr-born-in-the-future",
        ),
        pytest.param(
            {"diagnosis_codes": ["F32.1", "F26"]}, {None: ["unknown_code"]}, id="code-F26-absent"
        ),
        pytest.param(
            {"diagnosis_codes": ["X99", "F10.2"]}, {None: ["unknown_code"]}, id="code-X99"
        ),
        pytest.param(
            {"diagnosis_codes": ["F32.1", "F10.24"]},
            {None: ["unknown_code"]},
            id="code-F10.24-not-in-table",
        ),
        pytest.param(
            {"diagnosis_codes": ["F32.1", "F3"]}, {None: ["invalid_code"]}, id="code-malformed"
        ),
        pytest.param({"diagnosis_codes": []}, {None: ["no_diagnoses"]}, id="no-codes"),
        pytest.param(
            {"first_contact": TODAY + timedelta(days=1), "received": TODAY + timedelta(days=1)},
            {"first_contact": ["future"]},
            id="first-contact-tomorrow",
        ),
        pytest.param(
            {"first_contact": TODAY, "received": TODAY + timedelta(days=1)},
            {"received": ["future"]},
            id="received-tomorrow",
        ),
        pytest.param(
            {"first_contact": date(2026, 3, 5), "received": date(2026, 3, 4)},
            {"received": ["order"]},
            id="received-before-first-contact",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(clinician, today, overrides, expected):
    before = counts()

    with pytest.raises(ValidationError) as error:
        register(by=clinician, **overrides)

    assert error_codes(error.value) == expected
    assert counts() == before


def test_first_contact_today_is_accepted(clinician, today):
    referral = register(by=clinician, first_contact=today, received=today)

    assert referral.first_contact == today


def test_the_unknown_code_is_named(clinician, today):
    with pytest.raises(ValidationError) as error, translation.override("en"):
        register(by=clinician, diagnosis_codes=["F32.1", "F26", "F10.2"])

    with translation.override("en"):
        assert "F26" in error.value.messages[0]


def test_a_coordinator_cannot_register_a_citizen_of_another_municipality(
    coordinator_ballerup, today
):
    before = counts()

    with pytest.raises(PermissionDenied):
        register(by=coordinator_ballerup, patient=patient_details(municipality="159"))

    assert counts() == before


def test_a_coordinator_cannot_reach_a_patient_of_another_municipality_by_cpr(
    clinician, coordinator_ballerup, today
):
    register(by=clinician, patient=patient_details(name="Jens Hansen", municipality="159"))
    before = counts()

    with pytest.raises(ValidationError) as error:
        register(
            by=coordinator_ballerup,
            patient=patient_details(name="Someone Else", municipality="151"),
        )

    assert error_codes(error.value) == {"cpr": ["outside"]}
    assert counts() == before
    patient = Patient.objects.get()
    assert patient.name == "Jens Hansen"
    assert patient.municipality.code == "159"


# --- decide_referral ----------------------------------------------------------------------


def test_accepting_an_eligible_referral_opens_the_course(clinician, today):
    referral = register(by=clinician)
    screening = Screening.objects.get(referral=referral)
    assert referral.status == Referral.Status.SCREENED
    assert Course.objects.count() == 0

    decision = decide_referral(referral, by=clinician, kind=Decision.Kind.ACCEPT)

    assert decision.kind == Decision.Kind.ACCEPT
    assert decision.decided_by == clinician
    assert decision.overrides_screening is False
    assert decision.reason == ""
    assert decision.screening == screening
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED
    course = Course.objects.get()
    assert course.referral == referral
    assert course.patient == referral.patient
    assert course.start == today
    assert course.planned_end == today + timedelta(weeks=26) == date(2026, 9, 8)
    assert course.norm_hour_budget == Decimal("25")
    assert course.intake_meeting_due == FIRST_CONTACT + timedelta(days=21) == date(2026, 3, 23)
    assert course.status == Course.Status.AWAITING_INTAKE
    assert course.is_open


def test_the_course_starts_on_the_clinics_calendar_day(clinician, time_machine):
    # 23:30 UTC on 9 March is already 10 March in Copenhagen.
    time_machine.move_to(datetime(2026, 3, 9, 23, 30, tzinfo=ZoneInfo("UTC")), tick=False)
    referral = register(by=clinician)

    decide_referral(referral, by=clinician, kind=Decision.Kind.ACCEPT)

    assert Course.objects.get().start == date(2026, 3, 10)


def test_accepting_before_the_axes_are_recorded_is_refused(clinician, today):
    referral = register(by=clinician, mental_severity="", substance_severity="")
    before = counts()

    with pytest.raises(ValidationError) as error:
        decide_referral(referral, by=clinician, kind=Decision.Kind.ACCEPT, reason="Clear case")

    assert error_codes(error.value) == {None: ["not_screened"]}
    assert counts() == before
    referral.refresh_from_db()
    assert referral.status == Referral.Status.RECEIVED


NOT_ELIGIBLE = [
    pytest.param({"substitution_treatment": "unstable"}, "review", id="review"),
    pytest.param({"in_municipal_substance_treatment": False}, "ineligible", id="ineligible"),
    pytest.param({"patient": {"municipality": "101"}}, "ineligible", id="not-participating"),
]


@pytest.mark.parametrize(("overrides", "outcome"), NOT_ELIGIBLE)
@pytest.mark.parametrize("reason", ["", "   "])
def test_accepting_against_the_screening_needs_a_reason(
    clinician, today, overrides, outcome, reason
):
    referral = register(by=clinician, **overrides)
    assert Screening.objects.get(referral=referral).outcome == outcome
    before = counts()

    with pytest.raises(ValidationError) as error:
        decide_referral(referral, by=clinician, kind=Decision.Kind.ACCEPT, reason=reason)

    assert error_codes(error.value) == {"reason": ["override_reason"]}
    assert counts() == before
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENED


@pytest.mark.parametrize(("overrides", "outcome"), NOT_ELIGIBLE)
def test_accepting_against_the_screening_with_a_reason_is_kept_as_an_override(
    clinician, today, overrides, outcome
):
    referral = register(by=clinician, **overrides)

    decision = decide_referral(
        referral, by=clinician, kind=Decision.Kind.ACCEPT, reason="  Stable for months.  "
    )

    decision.refresh_from_db()
    assert decision.overrides_screening is True
    assert decision.reason == "Stable for months."
    assert decision.screening.outcome == outcome
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED
    assert Course.objects.filter(referral=referral).exists()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({}, "override_reason", id="eligible-reject-is-an-override"),
        pytest.param({"in_municipal_substance_treatment": False}, "reject_reason", id="inelig"),
        pytest.param({"substitution_treatment": "unstable"}, "reject_reason", id="review"),
        pytest.param({"mental_severity": ""}, "override_reason", id="unscreened-eligible"),
    ],
)
def test_rejecting_without_a_reason_is_refused(clinician, today, overrides, code):
    referral = register(by=clinician, **overrides)
    status = referral.status
    before = counts()

    with pytest.raises(ValidationError) as error:
        decide_referral(referral, by=clinician, kind=Decision.Kind.REJECT)

    assert error_codes(error.value) == {"reason": [code]}
    assert counts() == before
    referral.refresh_from_db()
    assert referral.status == status


@pytest.mark.parametrize(
    ("overrides", "overrides_screening"),
    [
        pytest.param({}, True, id="eligible"),
        pytest.param({"in_municipal_substance_treatment": False}, False, id="ineligible"),
        pytest.param({"mental_severity": ""}, True, id="unscreened"),
    ],
)
def test_rejecting_with_a_reason_closes_the_referral_without_a_course(
    clinician, today, overrides, overrides_screening
):
    referral = register(by=clinician, **overrides)

    decision = decide_referral(
        referral, by=clinician, kind=Decision.Kind.REJECT, reason="Psychosis suspected."
    )

    assert decision.overrides_screening is overrides_screening
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REJECTED
    assert Course.objects.count() == 0


@pytest.mark.parametrize(
    ("first", "first_reason", "status"),
    [
        pytest.param(Decision.Kind.ACCEPT, "", Referral.Status.ACCEPTED, id="after-accept"),
        pytest.param(Decision.Kind.REJECT, "No.", Referral.Status.REJECTED, id="after-reject"),
        pytest.param(Decision.Kind.WITHDRAW, "", Referral.Status.WITHDRAWN, id="after-withdraw"),
    ],
)
@pytest.mark.parametrize("second", [Decision.Kind.ACCEPT, Decision.Kind.REJECT])
def test_a_decided_referral_cannot_be_decided_again(
    clinician, today, first, first_reason, status, second
):
    referral = register(by=clinician)
    decision = decide_referral(referral, by=clinician, kind=first, reason=first_reason)
    before = counts()

    with pytest.raises(ValidationError) as error:
        decide_referral(referral, by=clinician, kind=second, reason="Changed my mind.")

    assert error_codes(error.value) == {None: ["not_open"]}
    with translation.override("en"):
        assert "already been decided" in error.value.messages[0]
    assert counts() == before
    referral.refresh_from_db()
    assert referral.status == status
    assert Decision.objects.get() == decision
    assert Decision.objects.get().kind == first


def test_a_second_open_course_for_the_same_patient_is_refused(clinician, today):
    first = register(by=clinician)
    decide_referral(first, by=clinician, kind=Decision.Kind.ACCEPT)
    second = register(by=clinician)
    assert second.patient_id == first.patient_id
    assert second.status == Referral.Status.SCREENED
    before = counts()

    with pytest.raises(ValidationError) as error:
        decide_referral(second, by=clinician, kind=Decision.Kind.ACCEPT)

    assert error_codes(error.value) == {None: ["open_course"]}
    assert counts() == before
    second.refresh_from_db()
    assert second.status == Referral.Status.SCREENED
    assert not Decision.objects.filter(referral=second).exists()
    assert Course.objects.get().referral == first


def test_a_discharged_course_makes_room_for_a_new_one(clinician, today):
    first = register(by=clinician)
    decide_referral(first, by=clinician, kind=Decision.Kind.ACCEPT)
    Course.objects.filter(referral=first).update(status=Course.Status.DISCHARGED)
    second = register(by=clinician)

    decide_referral(second, by=clinician, kind=Decision.Kind.ACCEPT)

    assert Course.objects.open().get().referral == second


@pytest.mark.parametrize("persona", ["researcher", "coordinator_ballerup"])
@pytest.mark.parametrize("kind", [Decision.Kind.ACCEPT, Decision.Kind.REJECT])
def test_only_clinic_staff_decide(request, clinician, today, persona, kind):
    user = request.getfixturevalue(persona)
    referral = register(by=clinician)
    before = counts()

    with pytest.raises(PermissionDenied):
        decide_referral(referral, by=user, kind=kind, reason="Reason.")

    assert counts() == before
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENED


def test_an_admin_may_decide(admin_user, clinician, today):
    referral = register(by=clinician)

    decide_referral(referral, by=admin_user, kind=Decision.Kind.ACCEPT)

    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED


# --- Database constraints hold without the service ---------------------------------------


def test_the_database_refuses_a_second_open_course(clinician, today):
    first = register(by=clinician)
    second = register(by=clinician)
    start = timezone.localdate()
    values = {
        "patient": first.patient,
        "start": start,
        "planned_end": start + timedelta(weeks=26),
        "intake_meeting_due": start + timedelta(days=21),
    }
    Course.objects.create(referral=first, **values)

    with pytest.raises(IntegrityError, match="one_open_course_per_patient"), transaction.atomic():
        Course.objects.create(referral=second, **values)

    assert Course.objects.count() == 1
    Course.objects.create(referral=second, **values | {"status": Course.Status.DISCHARGED})
    assert Course.objects.count() == 2


def test_the_database_refuses_an_override_without_a_reason(clinician, today):
    referral = register(by=clinician)

    refused = pytest.raises(IntegrityError, match="decision_override_has_reason")
    with refused, transaction.atomic():
        Decision.objects.create(
            referral=referral, kind="accept", decided_by=clinician, overrides_screening=True
        )

    assert Decision.objects.count() == 0
    Decision.objects.create(
        referral=referral,
        kind="accept",
        decided_by=clinician,
        overrides_screening=True,
        reason="Reason.",
    )
    assert Decision.objects.count() == 1
