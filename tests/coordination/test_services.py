"""The coordination services: planning at acceptance, the gate, outcomes, moves, discharge."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from coordination.models import Action, Discharge, Meeting
from coordination.services import (
    ABSENT_NEEDS_ANSWER,
    ALREADY_DISCHARGED,
    AWAITING_INTAKE,
    CLOSED_COURSE,
    COURSE_DISCHARGED,
    DISCHARGE_BEFORE_START,
    DISCHARGE_IN_FUTURE,
    DISCHARGE_MEETING_FIRST,
    HELD_NEEDS_SUMMARY,
    ActionInput,
    add_extra_meeting,
    decide_and_plan,
    discharge_course,
    ensure_course_accepts_treatment,
    record_outcome,
    schedule_meeting,
    set_action_done,
)
from referrals.models import Course, Decision, Referral
from referrals.services import OPEN_COURSE_EXISTS
from tests.coordination.conftest import TODAY
from tests.coordination.factories import (
    accepted_course,
    at,
    hold,
    meeting_of,
    register,
    schedule,
)

pytestmark = pytest.mark.django_db


def meetings_of(course: Course) -> dict[str, tuple]:
    return {
        m.kind: (m.due_date, m.status, m.scheduled_at)
        for m in Meeting.objects.filter(course=course)
    }


def saved_meeting(meeting: Meeting) -> dict:
    """Every column of the meeting as stored, its actions and clinic staff."""
    row = Meeting.objects.filter(pk=meeting.pk).values().get()
    row.pop("updated_at")
    row["actions"] = list(Action.objects.filter(meeting=meeting).values_list("what", "done"))
    row["clinic_staff"] = sorted(meeting.clinic_staff.values_list("pk", flat=True))
    return row


def status_of(course: Course) -> str:
    return Course.objects.values_list("status", flat=True).get(pk=course.pk)


# --- Planning at acceptance ------------------------------------------------------------------


def test_accepting_opens_the_course_and_plans_exactly_three_meetings(clinician, now):
    first_contact = TODAY - timedelta(days=9)
    referral = register(clinician, first_contact=first_contact)
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.SCREENED
    assert not Course.objects.exists()
    assert not Meeting.objects.exists()

    decision = decide_and_plan(referral, by=clinician, kind=Decision.Kind.ACCEPT)

    course = Course.objects.get(referral=referral)
    assert decision.kind == Decision.Kind.ACCEPT
    assert course.status == Course.Status.AWAITING_INTAKE
    assert (course.start, course.planned_end) == (TODAY, TODAY + timedelta(weeks=26))
    assert meetings_of(course) == {
        Meeting.Kind.INTAKE: (first_contact + timedelta(days=21), Meeting.Status.PLANNED, None),
        Meeting.Kind.MIDPOINT: (TODAY + timedelta(weeks=13), Meeting.Status.PLANNED, None),
        Meeting.Kind.DISCHARGE: (course.planned_end, Meeting.Status.PLANNED, None),
    }
    assert Meeting.objects.count() == 3


@pytest.mark.parametrize(
    "kind,reason,status",
    [
        pytest.param(Decision.Kind.REJECT, "Ingen rusmiddelproblematik.", "rejected", id="reject"),
        pytest.param(Decision.Kind.WITHDRAW, "", "withdrawn", id="withdraw"),
    ],
)
def test_a_decision_other_than_accept_plans_no_meeting(clinician, now, kind, reason, status):
    referral = register(clinician)

    decide_and_plan(referral, by=clinician, kind=kind, reason=reason)

    assert Referral.objects.get(pk=referral.pk).status == status
    assert not Course.objects.exists()
    assert not Meeting.objects.exists()


def test_an_acceptance_that_fails_saves_nothing(clinician, now):
    # The patient already has an open course: the course cannot be opened, so the decision,
    # the referral's new status and any meeting are rolled back together.
    course = accepted_course(clinician, name="Dorthe Dobbelt")
    second = register(clinician, name="Dorthe Dobbelt", cpr=course.patient.cpr)
    before = (Decision.objects.count(), Course.objects.count(), Meeting.objects.count())
    assert before == (1, 1, 3)

    with pytest.raises(ValidationError) as excinfo:
        decide_and_plan(second, by=clinician, kind=Decision.Kind.ACCEPT)

    assert excinfo.value.messages == [str(OPEN_COURSE_EXISTS)]
    assert (Decision.objects.count(), Course.objects.count(), Meeting.objects.count()) == before
    assert not Decision.objects.filter(referral=second).exists()
    assert Referral.objects.get(pk=second.pk).status == Referral.Status.SCREENED


def test_a_referral_without_a_completed_screening_cannot_be_accepted(clinician, now):
    referral = register(clinician)
    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.RECEIVED)

    with pytest.raises(ValidationError) as excinfo:
        decide_and_plan(referral, by=clinician, kind=Decision.Kind.ACCEPT)

    assert excinfo.value.code == "not_screened"
    assert not Decision.objects.exists()
    assert not Course.objects.exists()
    assert not Meeting.objects.exists()


# --- The gate ---------------------------------------------------------------------------------


def test_the_gate_refuses_treatment_until_the_intake_meeting_is_held(
    ballerup_course, clinician, now
):
    with pytest.raises(ValidationError) as excinfo:
        ensure_course_accepts_treatment(ballerup_course)
    assert excinfo.value.code == "awaiting_intake"
    assert excinfo.value.messages == [str(AWAITING_INTAKE)]

    hold(meeting_of(ballerup_course), by=clinician)

    ballerup_course.refresh_from_db()
    assert ballerup_course.status == Course.Status.IN_TREATMENT
    assert ensure_course_accepts_treatment(ballerup_course) is None


def test_the_gate_refuses_treatment_after_discharge(ballerup_course, clinician, now):
    hold(meeting_of(ballerup_course), by=clinician)
    hold(meeting_of(ballerup_course, Meeting.Kind.DISCHARGE), by=clinician)

    discharge_course(ballerup_course, by=clinician, date=TODAY, kind=Discharge.Kind.COMPLETED)

    ballerup_course.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        ensure_course_accepts_treatment(ballerup_course)
    assert excinfo.value.code == "discharged"
    assert excinfo.value.messages == [str(COURSE_DISCHARGED)]


@pytest.mark.parametrize(
    "kind",
    [Meeting.Kind.MIDPOINT, Meeting.Kind.DISCHARGE],
    ids=["midpoint", "discharge"],
)
def test_holding_another_meeting_first_does_not_start_treatment(
    ballerup_course, clinician, now, kind
):
    assert status_of(ballerup_course) == Course.Status.AWAITING_INTAKE

    hold(meeting_of(ballerup_course, kind), by=clinician)

    assert meeting_of(ballerup_course, kind).status == Meeting.Status.HELD
    assert status_of(ballerup_course) == Course.Status.AWAITING_INTAKE


def test_a_held_midpoint_meeting_keeps_a_course_in_treatment(ballerup_course, clinician, now):
    hold(meeting_of(ballerup_course), by=clinician)
    assert status_of(ballerup_course) == Course.Status.IN_TREATMENT

    hold(meeting_of(ballerup_course, Meeting.Kind.MIDPOINT), by=clinician)

    assert status_of(ballerup_course) == Course.Status.IN_TREATMENT


@pytest.mark.parametrize(
    "status,patient_present",
    [
        pytest.param(Meeting.Status.PATIENT_ABSENT, False, id="patient-did-not-attend"),
        pytest.param(Meeting.Status.CANCELLED, None, id="cancelled"),
    ],
)
def test_an_intake_meeting_not_held_keeps_the_course_awaiting_intake(
    ballerup_course, coordinator_ballerup, now, status, patient_present
):
    intake = meeting_of(ballerup_course)

    record_outcome(
        intake,
        by=coordinator_ballerup,
        version=intake.version,
        status=status,
        patient_present=patient_present,
    )

    assert meeting_of(ballerup_course).status == status
    assert status_of(ballerup_course) == Course.Status.AWAITING_INTAKE
    ballerup_course.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        ensure_course_accepts_treatment(ballerup_course)
    assert excinfo.value.code == "awaiting_intake"


# --- Scheduling ------------------------------------------------------------------------------


def test_scheduling_sets_time_and_place_and_bumps_the_version(ballerup_course, clinician, now):
    intake = meeting_of(ballerup_course)
    assert (intake.scheduled_at, intake.place, intake.version) == (None, "", 1)

    schedule_meeting(
        intake,
        by=clinician,
        version=1,
        scheduled_at=at(TODAY + timedelta(days=5), 13),
        place="Rusmiddelcentret",
        duration_minutes=90,
    )

    intake.refresh_from_db()
    assert intake.scheduled_at == at(TODAY + timedelta(days=5), 13)
    assert (intake.place, intake.duration_minutes) == ("Rusmiddelcentret", 90)
    assert (intake.status, intake.version) == (Meeting.Status.PLANNED, 2)


def test_moving_a_meeting_marks_it_rescheduled_and_keeps_the_old_time(
    ballerup_course, clinician, now
):
    first, second = at(TODAY + timedelta(days=5), 13), at(TODAY + timedelta(days=8), 10)
    intake = schedule(meeting_of(ballerup_course), by=clinician, when=first)
    assert intake.status == Meeting.Status.PLANNED

    schedule(intake, by=clinician, when=second)

    intake.refresh_from_db()
    assert (intake.status, intake.scheduled_at) == (Meeting.Status.RESCHEDULED, second)
    assert first in set(intake.history.values_list("scheduled_at", flat=True))


def test_scheduling_after_a_cancellation_reschedules_and_history_keeps_the_old_time(
    ballerup_course, coordinator_ballerup, now
):
    first, second = at(TODAY + timedelta(days=2), 9), at(TODAY + timedelta(days=9), 14)
    intake = schedule(meeting_of(ballerup_course), by=coordinator_ballerup, when=first)
    record_outcome(
        intake, by=coordinator_ballerup, version=intake.version, status=Meeting.Status.CANCELLED
    )
    intake.refresh_from_db()
    assert (intake.status, intake.scheduled_at) == (Meeting.Status.CANCELLED, first)

    schedule(intake, by=coordinator_ballerup, when=second, place="Borgerens hjem")

    intake.refresh_from_db()
    assert (intake.status, intake.scheduled_at) == (Meeting.Status.RESCHEDULED, second)
    assert intake.place == "Borgerens hjem"
    history = list(intake.history.order_by("history_id").values_list("status", "scheduled_at"))
    assert history == [
        (Meeting.Status.PLANNED, None),
        (Meeting.Status.PLANNED, first),
        (Meeting.Status.CANCELLED, first),
        (Meeting.Status.RESCHEDULED, second),
    ]


def test_a_held_meeting_cannot_be_moved(ballerup_course, clinician, now):
    intake = hold(meeting_of(ballerup_course), by=clinician)
    before = saved_meeting(intake)

    with pytest.raises(ValidationError):
        schedule(intake, by=clinician, when=at(TODAY + timedelta(days=3)))

    assert saved_meeting(intake) == before


# --- Recording the outcome --------------------------------------------------------------------


def test_recording_a_held_intake_meeting_saves_outcome_and_actions(
    ballerup_course, coordinator_ballerup, clinician, now
):
    intake = meeting_of(ballerup_course)
    assert (intake.status, intake.version, intake.coordinator) == (Meeting.Status.PLANNED, 1, None)

    record_outcome(
        intake,
        by=coordinator_ballerup,
        version=1,
        status=Meeting.Status.HELD,
        summary="Borgeren starter i gruppe; rusmiddelcentret fortsætter samtalerne.",
        patient_present=True,
        action_plan_status=Meeting.ActionPlan.EXISTS,
        action_plan_date=TODAY - timedelta(days=30),
        plan_fit="Handleplanen og behandlingsplanen peger samme vej.",
        next_meeting_date=TODAY + timedelta(weeks=13),
        new_actions=[
            ActionInput("Opfølgende samtale i rusmiddelcentret", "municipality", "Kim"),
            ActionInput("Føre alkoholdagbog", "patient", due_date=TODAY + timedelta(days=14)),
        ],
    )

    intake.refresh_from_db()
    assert intake.status == Meeting.Status.HELD
    assert intake.version == 2
    assert intake.coordinator == coordinator_ballerup
    assert (intake.outcome_recorded_by, intake.outcome_recorded_at) == (coordinator_ballerup, now)
    assert intake.action_plan_status == Meeting.ActionPlan.EXISTS
    assert sorted(intake.actions.values_list("what", "responsible", "person", "done")) == [
        ("Føre alkoholdagbog", "patient", "", False),
        ("Opfølgende samtale i rusmiddelcentret", "municipality", "Kim", False),
    ]
    assert status_of(ballerup_course) == Course.Status.IN_TREATMENT


REFUSED_OUTCOMES = [
    pytest.param(
        {"status": Meeting.Status.HELD, "summary": ""},
        "summary",
        HELD_NEEDS_SUMMARY,
        id="held-without-summary",
    ),
    pytest.param(
        {"status": Meeting.Status.HELD, "summary": "   \n "},
        "summary",
        HELD_NEEDS_SUMMARY,
        id="held-with-blank-summary",
    ),
    pytest.param(
        {"status": Meeting.Status.HELD, "summary": "Aftalt.", "patient_present": False},
        "patient_accepted_plan",
        ABSENT_NEEDS_ANSWER,
        id="patient-absent-without-acceptance",
    ),
    pytest.param(
        {"status": Meeting.Status.PLANNED, "summary": "Aftalt."},
        "status",
        None,
        id="planned-is-no-outcome",
    ),
]


@pytest.mark.parametrize("outcome,field,message", REFUSED_OUTCOMES)
def test_an_incomplete_outcome_is_refused_and_nothing_is_saved(
    ballerup_course, clinician, now, outcome, field, message
):
    intake = meeting_of(ballerup_course)
    before = saved_meeting(intake)

    with pytest.raises(ValidationError) as excinfo:
        record_outcome(
            intake,
            by=clinician,
            version=intake.version,
            new_actions=[ActionInput("Ringe til borgeren", "region")],
            clinic_staff=[clinician],
            **outcome,
        )

    assert list(excinfo.value.message_dict) == [field]
    if message:
        assert excinfo.value.message_dict[field] == [str(message)]
    assert saved_meeting(intake) == before
    assert status_of(ballerup_course) == Course.Status.AWAITING_INTAKE


def test_patient_absent_with_the_plan_accepted_counts_as_held(ballerup_course, clinician, now):
    intake = meeting_of(ballerup_course)

    hold(intake, by=clinician, patient_present=False, patient_accepted_plan=True)

    intake.refresh_from_db()
    assert (intake.patient_present, intake.patient_accepted_plan) == (False, True)
    assert status_of(ballerup_course) == Course.Status.IN_TREATMENT


def test_an_action_is_ticked_off_and_back(ballerup_course, clinician, now):
    hold(meeting_of(ballerup_course), by=clinician, actions=(ActionInput("Ringe", "region"),))
    action = Action.objects.get()
    assert action.done is False

    set_action_done(action, by=clinician, done=True)
    assert Action.objects.get().done is True
    set_action_done(action, by=clinician, done=False)
    assert Action.objects.get().done is False


def test_only_the_clinic_adds_an_extra_meeting(ballerup_course, clinician, coordinator_ballerup):
    with pytest.raises(PermissionDenied):
        add_extra_meeting(ballerup_course, by=coordinator_ballerup, due_date=TODAY)
    assert ballerup_course.meetings.count() == 3

    extra = add_extra_meeting(ballerup_course, by=clinician, due_date=TODAY + timedelta(days=3))

    assert (extra.kind, extra.due_date, extra.status) == (
        Meeting.Kind.EXTRA,
        TODAY + timedelta(days=3),
        Meeting.Status.PLANNED,
    )
    assert ballerup_course.meetings.count() == 4


# --- Discharge -------------------------------------------------------------------------------


def test_discharge_needs_the_discharge_meeting_or_a_reason_it_was_not_held(
    ballerup_course, clinician, now
):
    hold(meeting_of(ballerup_course), by=clinician)

    with pytest.raises(ValidationError) as excinfo:
        discharge_course(ballerup_course, by=clinician, date=TODAY, kind=Discharge.Kind.DROPPED_OUT)

    assert excinfo.value.message_dict == {"meeting_not_held_reason": [str(DISCHARGE_MEETING_FIRST)]}
    assert not Discharge.objects.exists()
    assert status_of(ballerup_course) == Course.Status.IN_TREATMENT

    discharge = discharge_course(
        ballerup_course,
        by=clinician,
        date=TODAY,
        kind=Discharge.Kind.DROPPED_OUT,
        reason="Flyttet til Jylland.",
        meeting_not_held_reason="Borgeren er flyttet og kunne ikke nås.",
    )

    assert discharge.meeting_not_held_reason == "Borgeren er flyttet og kunne ikke nås."
    assert status_of(ballerup_course) == Course.Status.DISCHARGED


def test_discharge_after_the_held_discharge_meeting_needs_no_reason(
    ballerup_course, clinician, now
):
    hold(meeting_of(ballerup_course), by=clinician)
    hold(meeting_of(ballerup_course, Meeting.Kind.DISCHARGE), by=clinician)

    discharge = discharge_course(
        ballerup_course,
        by=clinician,
        date=TODAY,
        kind=Discharge.Kind.COMPLETED,
        meeting_not_held_reason="ignored, since the meeting was held",
    )

    assert (discharge.kind, discharge.date, discharge.recorded_by) == (
        Discharge.Kind.COMPLETED,
        TODAY,
        clinician,
    )
    assert discharge.meeting_not_held_reason == ""
    assert status_of(ballerup_course) == Course.Status.DISCHARGED


@pytest.mark.parametrize(
    "days,field,message",
    [
        pytest.param(1, "date", DISCHARGE_IN_FUTURE, id="tomorrow"),
        pytest.param(-1, "date", DISCHARGE_BEFORE_START, id="day-before-start"),
    ],
)
def test_a_discharge_date_outside_the_course_is_refused(
    ballerup_course, clinician, now, days, field, message
):
    assert ballerup_course.start == TODAY

    with pytest.raises(ValidationError) as excinfo:
        discharge_course(
            ballerup_course,
            by=clinician,
            date=TODAY + timedelta(days=days),
            kind=Discharge.Kind.OTHER,
            meeting_not_held_reason="Ikke relevant.",
        )

    assert excinfo.value.message_dict == {field: [str(message)]}
    assert not Discharge.objects.exists()
    assert status_of(ballerup_course) == Course.Status.AWAITING_INTAKE


def test_only_the_clinic_discharges(ballerup_course, coordinator_ballerup, now):
    with pytest.raises(PermissionDenied):
        discharge_course(
            ballerup_course,
            by=coordinator_ballerup,
            date=TODAY,
            kind=Discharge.Kind.OTHER,
            meeting_not_held_reason="-",
        )
    assert not Discharge.objects.exists()


def test_discharge_cancels_the_meetings_still_waiting(ballerup_course, clinician, now):
    hold(meeting_of(ballerup_course), by=clinician)
    extra = add_extra_meeting(ballerup_course, by=clinician, due_date=TODAY + timedelta(days=3))
    schedule(extra, by=clinician, when=at(TODAY + timedelta(days=3)))
    before = {m.kind: m.status for m in ballerup_course.meetings.all()}
    assert before == {
        "intake": Meeting.Status.HELD,
        "midpoint": Meeting.Status.PLANNED,
        "discharge": Meeting.Status.PLANNED,
        "extra": Meeting.Status.PLANNED,
    }

    discharge_course(
        ballerup_course,
        by=clinician,
        date=TODAY,
        kind=Discharge.Kind.TRANSFERRED,
        meeting_not_held_reason="Overført til distriktspsykiatrien.",
    )

    after = {m.kind: (m.status, m.version) for m in ballerup_course.meetings.all()}
    assert after == {
        "intake": (Meeting.Status.HELD, 2),
        "midpoint": (Meeting.Status.CANCELLED, 2),
        "discharge": (Meeting.Status.CANCELLED, 2),
        "extra": (Meeting.Status.CANCELLED, 3),
    }


@pytest.fixture
def discharged_course(ballerup_course, clinician, now) -> Course:
    hold(meeting_of(ballerup_course), by=clinician, actions=(ActionInput("Ringe", "municipality"),))
    discharge_course(
        ballerup_course,
        by=clinician,
        date=TODAY,
        kind=Discharge.Kind.DROPPED_OUT,
        meeting_not_held_reason="Borgeren ønskede at stoppe.",
    )
    ballerup_course.refresh_from_db()
    return ballerup_course


CLOSED_COURSE_STEPS = [
    pytest.param(
        lambda m, by: record_outcome(
            m, by=by, version=m.version, status=Meeting.Status.HELD, summary="For sent."
        ),
        id="record-outcome",
    ),
    pytest.param(
        lambda m, by: schedule_meeting(
            m, by=by, version=m.version, scheduled_at=at(TODAY), place="APU"
        ),
        id="schedule",
    ),
    pytest.param(
        lambda m, by: set_action_done(
            m.course.meetings.get(kind="intake").actions.get(), by=by, done=True
        ),
        id="tick-action",
    ),
    pytest.param(
        lambda m, by: add_extra_meeting(m.course, by=by, due_date=TODAY),
        id="extra-meeting",
    ),
]


@pytest.mark.parametrize("step", CLOSED_COURSE_STEPS)
def test_a_discharged_course_refuses_further_changes(discharged_course, clinician, step):
    midpoint = meeting_of(discharged_course, Meeting.Kind.MIDPOINT)
    before = [saved_meeting(m) for m in discharged_course.meetings.all()]

    with pytest.raises(ValidationError) as excinfo:
        step(midpoint, clinician)

    assert excinfo.value.messages == [str(CLOSED_COURSE)]
    assert [saved_meeting(m) for m in discharged_course.meetings.all()] == before


def test_a_course_is_discharged_only_once(discharged_course, clinician):
    with pytest.raises(ValidationError) as excinfo:
        discharge_course(
            discharged_course,
            by=clinician,
            date=TODAY,
            kind=Discharge.Kind.OTHER,
            meeting_not_held_reason="-",
        )
    assert excinfo.value.messages == [str(ALREADY_DISCHARGED)]
    assert Discharge.objects.count() == 1


def test_the_patient_can_be_referred_again_after_discharge(discharged_course, clinician):
    patient = discharged_course.patient

    again = register(clinician, name=patient.name, cpr=patient.cpr, first_contact=TODAY)
    decide_and_plan(again, by=clinician, kind=Decision.Kind.ACCEPT)

    new_course = Course.objects.get(referral=again)
    assert new_course.pk != discharged_course.pk
    assert new_course.patient == patient
    assert new_course.status == Course.Status.AWAITING_INTAKE
    assert sorted(new_course.meetings.values_list("kind", "status")) == [
        ("discharge", "planned"),
        ("intake", "planned"),
        ("midpoint", "planned"),
    ]
    assert meeting_of(new_course).due_date == TODAY + timedelta(days=21)
    assert status_of(discharged_course) == Course.Status.DISCHARGED
