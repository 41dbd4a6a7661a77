"""Seats in open groups: enrolment, the waiting list in order, switching, and capacity
held even when clinicians take the last seat at the same moment."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from modules import services
from modules.models import Enrolment, Group, WaitingListEntry
from tests.factories import UserFactory
from tests.modules.conftest import LAST_MONDAY
from tests.modules.factories import enrolled, new_course, new_group

WAIT = 20  # seconds; reached only when something is broken


def seats(group: Group) -> list[str]:
    """Names of the patients holding an open seat, by name."""
    return sorted(
        group.enrolments.filter(ends_on__isnull=True).values_list(
            "course__patient__name", flat=True
        )
    )


def waiting(group: Group) -> list[str]:
    """Names on the waiting list, in the order they are served."""
    return list(
        group.waiting_list.filter(status=WaitingListEntry.Status.WAITING)
        .order_by("added_at", "pk")
        .values_list("course__patient__name", flat=True)
    )


@pytest.fixture
def small_group(clinician, now) -> Group:
    """A group with one seat, so the second patient meets a full group."""
    return new_group(name="Adfærdsaktivering, 1 plads", capacity=1, therapists=(clinician,))


@pytest.fixture
def patients(clinician, now):
    """Three courses in treatment: Anna, Bo and Carl."""
    return [new_course(clinician, name=name) for name in ("Anna", "Bo", "Carl")]


# --- Enrolment and the waiting list ---------------------------------------------------------


def test_enrol_gives_the_course_a_seat_from_the_date(clinician, ballerup_course, group, today):
    assert seats(group) == []

    enrolment = services.enrol(ballerup_course, group, by=clinician, starts_on=today)

    assert isinstance(enrolment, Enrolment)
    assert (enrolment.course, enrolment.group) == (ballerup_course, group)
    assert (enrolment.starts_on, enrolment.ends_on) == (today, None)
    assert enrolment.created_by == clinician
    assert seats(group) == ["Bente Ballerup"]
    assert enrolment.history.count() == 1


def test_a_full_group_puts_patients_on_its_waiting_list_in_order(
    clinician, small_group, patients, today, time_machine, now
):
    anna, bo, carl = patients
    enrolled(anna, small_group, by=clinician, starts_on=today)

    first = services.enrol(bo, small_group, by=clinician, starts_on=today)
    time_machine.move_to(now + timedelta(minutes=5), tick=False)
    second = services.enrol(carl, small_group, by=clinician, starts_on=today)

    assert isinstance(first, WaitingListEntry)
    assert isinstance(second, WaitingListEntry)
    assert first.wanted_from == today
    assert seats(small_group) == ["Anna"]
    assert waiting(small_group) == ["Bo", "Carl"]


def test_a_freed_seat_is_offered_to_the_first_waiting_and_given_to_them(
    clinician, small_group, patients, today
):
    anna, bo, carl = patients
    seat = enrolled(anna, small_group, by=clinician, starts_on=today)
    services.enrol(bo, small_group, by=clinician, starts_on=today)
    services.enrol(carl, small_group, by=clinician, starts_on=today)

    offered = services.end_enrolment(seat, by=clinician, ends_on=today)

    assert offered.course == bo
    seat.refresh_from_db()
    assert seat.ends_on == today
    assert seats(small_group) == []

    given = services.enrol_from_waiting_list(offered, by=clinician, starts_on=today)

    assert given.course == bo
    offered.refresh_from_db()
    assert offered.status == WaitingListEntry.Status.ENROLLED
    assert seats(small_group) == ["Bo"]
    assert waiting(small_group) == ["Carl"]
    assert services.first_waiting(small_group).course == carl


def test_ending_a_seat_with_nobody_waiting_offers_nobody(clinician, group, ballerup_course, today):
    seat = enrolled(ballerup_course, group, by=clinician, starts_on=today)

    assert services.end_enrolment(seat, by=clinician, ends_on=today) is None


def test_the_waiting_list_cannot_take_a_seat_that_is_not_free(
    clinician, small_group, patients, today
):
    anna, bo, _ = patients
    enrolled(anna, small_group, by=clinician, starts_on=today)
    entry = services.enrol(bo, small_group, by=clinician, starts_on=today)

    with pytest.raises(ValidationError) as refused:
        services.enrol_from_waiting_list(entry, by=clinician, starts_on=today)

    assert refused.value.code == "full"
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.WAITING
    assert seats(small_group) == ["Anna"]
    assert waiting(small_group) == ["Bo"]


def test_a_waiting_place_already_served_cannot_be_served_again(
    clinician, small_group, patients, today
):
    anna, bo, _ = patients
    seat = enrolled(anna, small_group, by=clinician, starts_on=today)
    entry = services.enrol(bo, small_group, by=clinician, starts_on=today)
    services.end_enrolment(seat, by=clinician, ends_on=today)
    services.enrol_from_waiting_list(entry, by=clinician, starts_on=today)

    with pytest.raises(ValidationError) as refused:
        services.enrol_from_waiting_list(entry, by=clinician, starts_on=today)

    assert refused.value.code == "not_waiting"
    assert Enrolment.objects.filter(course=bo).count() == 1


def group_state(group: Group) -> tuple:
    return (
        list(group.enrolments.order_by("pk").values_list("course_id", "starts_on", "ends_on")),
        list(group.waiting_list.order_by("pk").values_list("course_id", "status")),
    )


@pytest.mark.parametrize(
    "situation,code",
    [
        pytest.param("already_enrolled", "already_enrolled", id="already-in-the-group"),
        pytest.param("already_waiting", "already_waiting", id="already-on-the-waiting-list"),
        pytest.param("closed", "closed", id="group-closed-for-intake"),
        pytest.param("ended", "ended", id="group-ended-before-the-start-date"),
    ],
)
def test_enrolment_is_refused_and_changes_nothing(
    clinician, small_group, patients, today, situation, code
):
    anna, bo, _ = patients
    enrolled(anna, small_group, by=clinician, starts_on=today)
    course = anna
    if situation == "already_waiting":
        services.enrol(bo, small_group, by=clinician, starts_on=today)
        course = bo
    elif situation == "closed":
        small_group.capacity = 8
        small_group.open_for_intake = False
        small_group.save()
        course = bo
    elif situation == "ended":
        small_group.ends_on = today
        small_group.save()
        course = bo
    before = group_state(small_group)

    with pytest.raises(ValidationError) as refused:
        services.enrol(course, small_group, by=clinician, starts_on=today + timedelta(days=1))

    assert refused.value.code == code
    assert group_state(small_group) == before


def test_a_coordinator_cannot_enrol(coordinator_ballerup, ballerup_course, group, today):
    with pytest.raises(PermissionDenied):
        services.enrol(ballerup_course, group, by=coordinator_ballerup, starts_on=today)

    assert seats(group) == []


@pytest.mark.parametrize(
    "ends_after_start,code",
    [
        pytest.param(-1, "before_start", id="ends-before-it-started"),
        pytest.param(None, "ended", id="already-ended"),
    ],
)
def test_ending_a_seat_is_refused(clinician, ballerup_course, group, today, ends_after_start, code):
    seat = enrolled(ballerup_course, group, by=clinician, starts_on=today)
    if ends_after_start is None:
        services.end_enrolment(seat, by=clinician, ends_on=today)
        ends_on = today + timedelta(days=7)
    else:
        ends_on = today + timedelta(days=ends_after_start)
    before = group_state(group)

    with pytest.raises(ValidationError) as refused:
        services.end_enrolment(seat, by=clinician, ends_on=ends_on)

    assert refused.value.code == code
    assert group_state(group) == before


# --- Switching group -------------------------------------------------------------------------


def test_switching_ends_one_seat_and_starts_the_other_in_one_step(
    clinician, ballerup_course, group, today
):
    other = new_group(module="Tænkestil", weekday=Group.Weekday.WEDNESDAY)
    old = enrolled(ballerup_course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=4))
    on = today + timedelta(days=1)

    new = services.switch_group(old, other, by=clinician, on=on)

    old.refresh_from_db()
    assert old.ends_on == on - timedelta(days=1)
    assert (new.group, new.starts_on, new.ends_on) == (other, on, None)
    assert seats(group) == []
    assert seats(other) == ["Bente Ballerup"]


def test_switching_into_a_full_group_is_refused_and_changes_nothing(
    clinician, ballerup_course, group, small_group, patients, today
):
    enrolled(patients[0], small_group, by=clinician, starts_on=today)
    old = enrolled(ballerup_course, group, by=clinician, starts_on=LAST_MONDAY)
    before = (group_state(group), group_state(small_group))

    with pytest.raises(ValidationError) as refused:
        services.switch_group(old, small_group, by=clinician, on=today)

    assert refused.value.code == "full"
    assert (group_state(group), group_state(small_group)) == before
    old.refresh_from_db()
    assert old.ends_on is None
    assert not WaitingListEntry.objects.filter(course=ballerup_course).exists()


def test_an_ended_seat_cannot_be_switched(clinician, ballerup_course, group, today):
    other = new_group(module="Tænkestil", weekday=Group.Weekday.WEDNESDAY)
    old = enrolled(ballerup_course, group, by=clinician, starts_on=LAST_MONDAY)
    services.end_enrolment(old, by=clinician, ends_on=today)

    with pytest.raises(ValidationError) as refused:
        services.switch_group(old, other, by=clinician, on=today)

    assert refused.value.code == "ended"
    assert seats(other) == []


# --- Two clinicians, one last seat (real connections, real row locks) --------------------------


def run_in_threads(targets: dict, *, workers: int) -> dict:
    """Run each target on its own thread and database connection; results by key."""

    def body(target):
        try:
            return target()
        except Exception as error:  # the test inspects whatever happened
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {key: pool.submit(body, target) for key, target in targets.items()}
        return {key: future.result(timeout=WAIT) for key, future in futures.items()}


@pytest.fixture
def clinic_db(reference_data):
    """Two clinicians in a database that really commits."""
    return UserFactory(username="clinician-a"), UserFactory(username="clinician-b")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_enrolments_into_the_last_seat_give_one_seat_and_one_waiting_place(clinic_db, attempt):
    clinician_a, clinician_b = clinic_db
    group = new_group(capacity=3)
    for name in ("Seat 1", "Seat 2"):
        enrolled(new_course(clinician_a, name=name), group, by=clinician_a, starts_on=LAST_MONDAY)
    first, second = (new_course(clinician_a, name=name) for name in ("Ida", "Jon"))
    barrier = threading.Barrier(2, timeout=WAIT)

    def take_the_last_seat(course, by):
        def target():
            connection.ensure_connection()  # connect before the barrier, not after
            barrier.wait()
            return services.enrol(course, group, by=by, starts_on=LAST_MONDAY)

        return target

    results = run_in_threads(
        {
            "a": take_the_last_seat(first, clinician_a),
            "b": take_the_last_seat(second, clinician_b),
        },
        workers=2,
    )

    kinds = sorted(type(result).__name__ for result in results.values())
    assert kinds == ["Enrolment", "WaitingListEntry"], results
    assert group.enrolments.filter(ends_on__isnull=True).count() == 3
    assert WaitingListEntry.objects.filter(group=group).count() == 1
    winner = next(r for r in results.values() if isinstance(r, Enrolment))
    loser = next(r for r in results.values() if isinstance(r, WaitingListEntry))
    assert {winner.course_id, loser.course_id} == {first.pk, second.pk}


@pytest.mark.django_db(transaction=True)
def test_capacity_holds_under_20_parallel_enrolments(clinic_db):
    clinician_a, clinician_b = clinic_db
    capacity = 5
    group = new_group(capacity=capacity)
    courses = [new_course(clinician_a, name=f"Patient {n:02d}") for n in range(20)]
    go = threading.Event()

    def attempt(course, by):
        def target():
            connection.ensure_connection()
            assert go.wait(WAIT)
            return services.enrol(course, group, by=by, starts_on=LAST_MONDAY)

        return target

    targets = {
        course.pk: attempt(course, clinician_a if n % 2 else clinician_b)
        for n, course in enumerate(courses)
    }
    timer = threading.Timer(0.05, go.set)  # release every waiting worker at once
    timer.start()
    results = run_in_threads(targets, workers=8)
    timer.join()

    errors = [r for r in results.values() if isinstance(r, Exception)]
    assert errors == []
    enrolments = [r for r in results.values() if isinstance(r, Enrolment)]
    entries = [r for r in results.values() if isinstance(r, WaitingListEntry)]
    assert len(enrolments) == capacity
    assert len(entries) == 20 - capacity
    assert group.enrolments.filter(ends_on__isnull=True).count() == capacity
    assert WaitingListEntry.objects.filter(group=group, status="waiting").count() == 15
    placed = {r.course_id for r in enrolments} | {r.course_id for r in entries}
    assert placed == {course.pk for course in courses}


def test_a_freed_seat_goes_to_the_waiting_list_before_anyone_new(
    clinician, small_group, patients, today
):
    anna, bo, carl = patients
    seat = services.enrol(anna, small_group, by=clinician, starts_on=today)
    services.enrol(bo, small_group, by=clinician, starts_on=today)  # waits
    services.end_enrolment(seat, by=clinician, ends_on=today)
    assert waiting(small_group) == ["Bo"]

    # Carl comes new while Bo waits: Carl joins the queue behind Bo, the seat stays Bo's.
    result = services.enrol(carl, small_group, by=clinician, starts_on=today)

    assert isinstance(result, WaitingListEntry)
    assert waiting(small_group) == ["Bo", "Carl"]
    assert seats(small_group) == []
    carl_entry = small_group.waiting_list.get(course=carl)
    with pytest.raises(ValidationError) as refused:
        services.enrol_from_waiting_list(carl_entry, by=clinician, starts_on=today)
    assert refused.value.code == "full"
    bo_entry = small_group.waiting_list.get(course=bo)
    services.enrol_from_waiting_list(bo_entry, by=clinician, starts_on=today)
    assert seats(small_group) == ["Bo"]


def test_a_discharged_course_frees_its_seat(clinician, small_group, patients, today):
    from coordination.services import discharge_course

    anna, bo, _carl = patients
    services.enrol(anna, small_group, by=clinician, starts_on=today)
    assert isinstance(
        services.enrol(bo, small_group, by=clinician, starts_on=today), WaitingListEntry
    )

    discharge_course(
        anna, by=clinician, date=today, kind="dropped_out", meeting_not_held_reason="Ophørt"
    )

    bo_entry = small_group.waiting_list.get(course=bo)
    enrolment = services.enrol_from_waiting_list(bo_entry, by=clinician, starts_on=today)
    assert enrolment.course == bo
