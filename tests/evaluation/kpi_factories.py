"""Clinic data for the KPI and dashboard tests, built the way the clinic builds it: referrals
registered and decided, intake meetings scheduled and held, group attendance tapped, first
conversations booked and recorded, questionnaires scored, courses discharged. The clock is
moved to each day before the step that happens on it, so every service checks its dates
exactly as in real use."""

from dataclasses import dataclass
from datetime import date, datetime

from apu.models import User
from coordination.models import Discharge, Meeting
from coordination.services import decide_and_plan, discharge_course
from evaluation.instruments import INSTRUMENTS
from evaluation.models import Measurement
from evaluation.services import record_measurement
from modules import services as treatment
from modules.models import Appointment, Group, NoShowReason, Session
from referrals.models import Course, Decision, Referral
from referrals.services import screen_referral
from tests.coordination.factories import hold, schedule
from tests.modules.factories import COPENHAGEN, at, enrolled, fresh_cpr, new_group, new_session
from tests.referrals.factories import register

BALLERUP, GLADSAXE = "151", "159"
BASELINE, MIDPOINT, DISCHARGE = (
    Measurement.Point.BASELINE,
    Measurement.Point.MIDPOINT,
    Measurement.Point.DISCHARGE,
)


def travel(time_machine, day: date, hour: int = 12) -> datetime:
    """Stand the clinic's clock still at ``hour`` o'clock on ``day`` (Copenhagen)."""
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=COPENHAGEN)
    time_machine.move_to(moment, tick=False)
    return moment


def answers_with_total(instrument: str, total: int) -> list[int]:
    """Answers summing to ``total``: each item from the first takes the most still allowed.

    For PHQ-9 item 9 stays 0 up to a total of 24, so no safety flag appears by accident.
    """
    answers, left = [], total
    for allowed in INSTRUMENTS[instrument].items:
        value = max(v for v in allowed if v <= left)
        answers.append(value)
        left -= value
    assert left == 0, f"{instrument} cannot reach {total}"
    return answers


def refer(
    by: User,
    *,
    name: str,
    municipality_code: str,
    first_contact: date,
    axes: tuple[str, str] = ("higher", "lower"),
) -> Referral:
    """A referral registered today, with its first contact on ``first_contact``; ``axes``
    (mental, substance) screen it, ``("", "")`` leaves it unscreened."""
    return register(
        by=by,
        patient={"cpr": fresh_cpr(), "name": name, "municipality": municipality_code},
        first_contact=first_contact,
        received=first_contact,
        mental_severity=axes[0],
        substance_severity=axes[1],
    )


def accept(referral: Referral, *, by: User) -> Course:
    """Accept today: the course starts today with its three meetings planned."""
    decide_and_plan(referral, by=by, kind=Decision.Kind.ACCEPT)
    return Course.objects.select_related("patient", "referral").get(referral=referral)


def hold_intake(course: Course, *, by: User, time_machine, day: date) -> Course:
    """Schedule the intake meeting on ``day`` and record it as held on that day."""
    travel(time_machine, day, hour=15)
    meeting = course.meetings.get(kind=Meeting.Kind.INTAKE)
    schedule(meeting, by=by, when=at(day, 10))
    hold(meeting, by=by)
    course.refresh_from_db()
    return course


def measure(
    course: Course, *, by: User, instrument: str, point: str, day: date, total: int
) -> Measurement:
    """A questionnaire answered on ``day`` (the clock must have reached it) with ``total``."""
    return record_measurement(
        course,
        by=by,
        instrument=instrument,
        point=point,
        answered_on=day,
        answers=answers_with_total(instrument, total),
    )


def discharge(course: Course, *, by: User, time_machine, day: date, kind: str) -> Discharge:
    """Discharge on ``day``; a completed course holds its discharge meeting first."""
    travel(time_machine, day, hour=15)
    if kind == Discharge.Kind.COMPLETED:
        meeting = course.meetings.get(kind=Meeting.Kind.DISCHARGE)
        schedule(meeting, by=by, when=at(day, 10))
        hold(meeting, by=by)
        return discharge_course(course, by=by, date=day, kind=kind)
    return discharge_course(
        course, by=by, date=day, kind=kind, meeting_not_held_reason="Borgeren kom ikke."
    )


def first_conversation(
    course: Course, *, by: User, day: date, status: str, reason: str | None = None
) -> Appointment:
    """A one-hour first conversation on ``day`` at 9, with its attendance (and reason)."""
    appointment = treatment.book_appointment(
        course,
        by=by,
        clinician=by,
        starts_at=at(day, 9),
        duration_minutes=60,
        kind=Appointment.Kind.FIRST_CONVERSATION,
    )
    return treatment.record_appointment_attendance(
        appointment,
        by=by,
        status=status,
        no_show_reason=NoShowReason.objects.get(name=reason) if reason else None,
    )


def tap(session: Session, taps: dict[Course, str], *, by: User) -> None:
    for course, status in taps.items():
        treatment.record_attendance(session, course, by=by, status=status)


# --- The small clinic of test_kpis.py -------------------------------------------------------

PERIOD_START, PERIOD_END = date(2025, 1, 1), date(2025, 6, 1)  # January to June 2025
FINAL_DAY = date(2025, 6, 16)


@dataclass
class SmallClinic:
    """Four courses followed from referral to discharge, and a few others for the edges.

    Ballerup: Anna, Bo, Carl (and Zenia, who started in 2024); Gladsaxe: Dorte, Erik.
    """

    zenia: Course
    anna: Course
    bo: Course
    carl: Course
    dorte: Course
    erik: Course
    adfaerd: Group
    mindfulness: Group
    cancelled_session: Session


def build_small_clinic(by: User, time_machine) -> SmallClinic:
    """The data whose KPIs test_kpis.py works out by hand (every figure is in the comments
    there), step by step in the order of the calendar. Ends with the clock at FINAL_DAY."""
    # Zenia (Ballerup) started in 2024: only the courses-per-year table sees her.
    travel(time_machine, date(2024, 10, 28))
    zenia = accept(
        refer(by, name="Zenia", municipality_code=BALLERUP, first_contact=date(2024, 10, 21)),
        by=by,
    )
    hold_intake(zenia, by=by, time_machine=time_machine, day=date(2024, 11, 4))
    # Never discharged, so her baseline has no partner in the outcome change.
    measure(zenia, by=by, instrument="PHQ-9", point=BASELINE, day=date(2024, 11, 4), total=15)

    # Referrals of January 2025, each with its quadrant axes (mental, substance).
    travel(time_machine, date(2025, 1, 6))
    dorte = accept(
        refer(by, name="Dorte", municipality_code=GLADSAXE, first_contact=date(2025, 1, 2)),
        by=by,
    )  # starts 6 January
    anna_ref = refer(by, name="Anna", municipality_code=BALLERUP, first_contact=date(2025, 1, 6))
    bo_ref = refer(
        by,
        name="Bo",
        municipality_code=BALLERUP,
        first_contact=date(2025, 1, 6),
        axes=("higher", "higher"),
    )
    travel(time_machine, date(2025, 1, 8))
    anna, bo = accept(anna_ref, by=by), accept(bo_ref, by=by)
    travel(time_machine, date(2025, 1, 10))
    carl_ref = refer(
        by,
        name="Carl",
        municipality_code=BALLERUP,
        first_contact=date(2025, 1, 10),
        axes=("lower", "higher"),
    )
    travel(time_machine, date(2025, 1, 15))
    carl = accept(carl_ref, by=by)

    # Intake meetings (days from first contact): Anna 14, Dorte 22, Bo 21, Carl 22 (February).
    # The baseline questionnaires are answered at the intake meeting.
    for course, day, baseline in [
        (anna, date(2025, 1, 20), {"PHQ-9": 18, "GAD-7": 8, "WHO-5": 8}),
        (dorte, date(2025, 1, 24), {"PHQ-9": 20, "AUDIT": 20}),
        (bo, date(2025, 1, 27), {"PHQ-9": 12, "GAD-7": 7, "WHO-5": 12}),
        (carl, date(2025, 2, 1), {"PHQ-9": 9, "WHO-5": 10}),
    ]:
        hold_intake(course, by=by, time_machine=time_machine, day=day)
        for instrument, total in baseline.items():
            measure(course, by=by, instrument=instrument, point=BASELINE, day=day, total=total)

    # Group "Adfærdsaktivering mandag" (2 h, 2 therapists, normed 8: 0.5 norm hours a seat),
    # 8 seats; Anna, Bo and Dorte from 1 February; four Monday sessions, 10-12.
    travel(time_machine, date(2025, 2, 1), hour=16)
    adfaerd = new_group(
        name="Adfærdsaktivering mandag", starts_on=date(2025, 1, 6), therapists=(by,)
    )
    for course in (anna, bo, dorte):
        enrolled(course, adfaerd, by=by, starts_on=date(2025, 2, 1))
    s1, s2, s3, s4 = (
        new_session(adfaerd, starts_at=at(date(2025, 2, day), 10)) for day in (3, 10, 17, 24)
    )
    # First conversations, one hour each, booked now.
    conversations = {
        course: treatment.book_appointment(
            course,
            by=by,
            clinician=by,
            starts_at=at(date(2025, 2, day), 9),
            duration_minutes=60,
            kind=Appointment.Kind.FIRST_CONVERSATION,
        )
        for course, day in [(anna, 4), (bo, 5), (carl, 6), (dorte, 7)]
    }

    # Erik (Gladsaxe) is accepted and never reaches his intake meeting; Frida (Ballerup) is
    # screened lower/lower, then again higher/higher (the newest screening counts).
    travel(time_machine, date(2025, 2, 10))
    erik = accept(
        refer(
            by,
            name="Erik",
            municipality_code=GLADSAXE,
            first_contact=date(2025, 2, 3),
            axes=("lower", "lower"),
        ),
        by=by,
    )
    travel(time_machine, date(2025, 2, 12))
    frida = refer(
        by,
        name="Frida",
        municipality_code=BALLERUP,
        first_contact=date(2025, 2, 12),
        axes=("lower", "lower"),
    )
    travel(time_machine, date(2025, 2, 14))
    screen_referral(frida, by=by, mental_severity="higher", substance_severity="higher")

    # End of February: the taps of the month and the first conversations.
    travel(time_machine, date(2025, 2, 28))
    tap(s1, {anna: "attended", bo: "attended", dorte: "no_show"}, by=by)
    tap(s2, {anna: "attended", bo: "absent_notice", dorte: "attended"}, by=by)
    tap(s3, {anna: "attended", bo: "no_show", dorte: "cancelled_by_clinic"}, by=by)
    tap(s4, {anna: "attended"}, by=by)
    treatment.cancel_session(s4, by=by)  # tapped, then cancelled: it counts nowhere
    for course, status, reason in [
        (anna, "attended", None),
        (bo, "no_show", "Glemt aftalen"),
        (carl, "absent_notice", "Syg"),
        (dorte, "no_show", "Glemt aftalen"),
    ]:
        treatment.record_appointment_attendance(
            conversations[course],
            by=by,
            status=status,
            no_show_reason=NoShowReason.objects.get(name=reason) if reason else None,
        )

    # Group "Mindfulness fredag" (1 h, 1 therapist, normed 8: 0.125 norm hours), 4 seats;
    # Anna and Carl from 1 March; two sessions, 14-15.
    mindfulness = new_group(
        module="Mindfulness",
        name="Mindfulness fredag",
        weekday=Group.Weekday.FRIDAY,
        capacity=4,
        starts_on=date(2025, 2, 24),
        therapists=(by,),
    )
    for course in (anna, carl):
        enrolled(course, mindfulness, by=by, starts_on=date(2025, 3, 1))
    t1, t2 = (new_session(mindfulness, starts_at=at(date(2025, 3, d), 14)) for d in (3, 10))

    # March: Gert (Gladsaxe) is rejected, Hans (Ballerup) is never screened.
    travel(time_machine, date(2025, 3, 5))
    gert = refer(
        by,
        name="Gert",
        municipality_code=GLADSAXE,
        first_contact=date(2025, 3, 3),
        axes=("lower", "lower"),
    )
    decide_and_plan(gert, by=by, kind=Decision.Kind.REJECT, reason="Ikke i kommunal behandling.")
    refer(
        by, name="Hans", municipality_code=BALLERUP, first_contact=date(2025, 3, 4), axes=("", "")
    )

    travel(time_machine, date(2025, 3, 14))
    tap(t1, {carl: "attended", anna: "attended"}, by=by)
    tap(t2, {carl: "no_show"}, by=by)
    measure(anna, by=by, instrument="PHQ-9", point=MIDPOINT, day=date(2025, 3, 14), total=12)

    # Discharges, each with its discharge questionnaires on the day.
    for course, day, kind, totals in [
        (anna, date(2025, 4, 14), "completed", {"PHQ-9": 8, "GAD-7": 4, "WHO-5": 13}),
        (bo, date(2025, 4, 22), "dropped_out", {"PHQ-9": 7, "GAD-7": 11, "WHO-5": 14}),
        (carl, date(2025, 5, 5), "transferred", {"PHQ-9": 15}),
        (dorte, date(2025, 5, 12), "dropped_out", {"PHQ-9": 13, "AUDIT": 6}),
    ]:
        travel(time_machine, day)
        for instrument, total in totals.items():
            measure(course, by=by, instrument=instrument, point=DISCHARGE, day=day, total=total)
        discharge(course, by=by, time_machine=time_machine, day=day, kind=kind)

    travel(time_machine, FINAL_DAY)
    return SmallClinic(zenia, anna, bo, carl, dorte, erik, adfaerd, mindfulness, s4)


# --- A clinic of any size, for the dashboard's query counts ---------------------------------


def build_clinic_of_size(by: User, time_machine, *, copies: int) -> list[Course]:
    """``copies`` times the same pathway in Ballerup and in Gladsaxe: referral, intake on day
    14, two group sessions (attended, no-show), a missed first conversation, PHQ-9 at baseline
    and discharge, a completed discharge. Every KPI of the dashboard has rows; the clock ends
    on FINAL_DAY."""
    travel(time_machine, date(2025, 1, 6))
    courses = [
        accept(refer(by, name=name, municipality_code=code, first_contact=date(2025, 1, 2)), by=by)
        for number in range(copies)
        for code, name in [(BALLERUP, f"Bente {number}"), (GLADSAXE, f"Gorm {number}")]
    ]
    for course in courses:
        hold_intake(course, by=by, time_machine=time_machine, day=date(2025, 1, 16))
        measure(course, by=by, instrument="PHQ-9", point=BASELINE, day=date(2025, 1, 16), total=18)
    group = new_group(
        name="Adfærdsaktivering tirsdag",
        weekday=Group.Weekday.TUESDAY,
        capacity=len(courses),
        starts_on=date(2025, 1, 6),
        therapists=(by,),
    )
    sessions = [new_session(group, starts_at=at(date(2025, 2, d), 10)) for d in (4, 11)]
    for course in courses:
        enrolled(course, group, by=by, starts_on=date(2025, 2, 1))
    travel(time_machine, date(2025, 2, 12))
    for course in courses:
        tap(sessions[0], {course: "attended"}, by=by)
        tap(sessions[1], {course: "no_show"}, by=by)
        first_conversation(course, by=by, day=date(2025, 2, 3), status="no_show", reason="Syg")
    for course in courses:
        travel(time_machine, date(2025, 4, 7))
        measure(course, by=by, instrument="PHQ-9", point=DISCHARGE, day=date(2025, 4, 7), total=8)
        discharge(course, by=by, time_machine=time_machine, day=date(2025, 4, 7), kind="completed")
    travel(time_machine, FINAL_DAY)
    return courses
