"""Two clinicians deciding the same referral at the same moment: one wins, one is told.

Each thread works on its own database connection, so the row lock in decide_referral is
what keeps the two apart; the test database must therefore really commit (transaction=True).
"""

import threading
import time
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from referrals.models import Course, Decision, Referral
from referrals.services import decide_referral
from tests.factories import UserFactory
from tests.referrals.factories import register

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 10  # seconds; only reached when something is broken, never on the happy path


def run_in_thread(target: Callable[[], object], results: dict, name: str) -> threading.Thread:
    """Start ``target`` on its own connection; its return value or exception lands in results."""

    def body():
        try:
            results[name] = target()
        except Exception as error:  # the test inspects whatever happened
            results[name] = error
        finally:
            connection.close()

    thread = threading.Thread(target=body, name=name)
    thread.start()
    return thread


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def blocked_by(waiter_pid: int, holder_pid: int) -> bool:
    """Whether the waiter's backend is waiting for a lock the holder's backend holds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s = ANY(pg_blocking_pids(%s))", [holder_pid, waiter_pid])
        return cursor.fetchone()[0]


@pytest.fixture
def screened_referral(reference_data) -> Referral:
    clinician = UserFactory(username="registering-clinician")
    return register(by=clinician)


@pytest.fixture
def two_clinicians(reference_data):
    return UserFactory(username="clinician-a"), UserFactory(username="clinician-b")


def assert_one_decision_and_one_refusal(referral, results, outcomes):
    """Exactly one Decision, the other thread refused as not open; status matches the winner."""
    decisions = [value for value in results.values() if isinstance(value, Decision)]
    refusals = [value for value in results.values() if isinstance(value, ValidationError)]
    assert len(decisions) == 1, results
    assert len(refusals) == 1, results
    assert refusals[0].code == "not_open"
    assert Decision.objects.count() == 1
    winner = Decision.objects.get()
    assert winner.pk == decisions[0].pk
    referral.refresh_from_db()
    assert referral.status == outcomes[winner.kind]
    assert Course.objects.filter(referral=referral).exists() is (
        winner.kind == Decision.Kind.ACCEPT
    )


OUTCOMES = {
    Decision.Kind.ACCEPT: Referral.Status.ACCEPTED,
    Decision.Kind.REJECT: Referral.Status.REJECTED,
}


def test_the_second_decision_waits_for_the_first_and_is_refused(screened_referral, two_clinicians):
    """A holds the referral's lock until B is provably waiting for it, then commits."""
    clinician_a, clinician_b = two_clinicians
    referral = screened_referral
    assert referral.status == Referral.Status.SCREENED
    a_decided = threading.Event()
    pids: dict[str, int] = {}
    results: dict[str, object] = {}

    def accept_and_hold():
        pids["a"] = backend_pid()
        with transaction.atomic():
            decision = decide_referral(referral, by=clinician_a, kind=Decision.Kind.ACCEPT)
            a_decided.set()
            # Commit only once B waits on the referral's row lock, so the race is real;
            # polling the lock table, not sleeping.
            deadline = time.monotonic() + WAIT
            while "b" not in pids or not blocked_by(pids["b"], pids["a"]):
                if time.monotonic() > deadline:
                    raise AssertionError("B never waited for A's lock on the referral")
        return decision

    def reject():
        pids_b = backend_pid()
        if not a_decided.wait(WAIT):
            raise AssertionError("A never decided")
        pids["b"] = pids_b
        return decide_referral(
            referral, by=clinician_b, kind=Decision.Kind.REJECT, reason="Not for us."
        )

    threads = [
        run_in_thread(accept_and_hold, results, "a"),
        run_in_thread(reject, results, "b"),
    ]
    for thread in threads:
        thread.join(WAIT * 2)
    assert not any(thread.is_alive() for thread in threads)

    assert isinstance(results["a"], Decision), results
    assert isinstance(results["b"], ValidationError), results
    assert results["b"].code == "not_open"
    assert_one_decision_and_one_refusal(referral, results, OUTCOMES)
    assert referral.status == Referral.Status.ACCEPTED
    assert Decision.objects.get().decided_by == clinician_a


@pytest.mark.parametrize("attempt", range(3))
def test_two_simultaneous_decisions_give_one_decision_and_one_refusal(
    screened_referral, two_clinicians, attempt
):
    """Both threads released at once by a barrier; whichever wins, the other is refused."""
    clinician_a, clinician_b = two_clinicians
    referral = screened_referral
    barrier = threading.Barrier(2, timeout=WAIT)
    results: dict[str, object] = {}

    def decide(**kwargs):
        def target():
            connection.ensure_connection()  # connect before the barrier, not after
            barrier.wait()
            return decide_referral(referral, **kwargs)

        return target

    threads = [
        run_in_thread(decide(by=clinician_a, kind=Decision.Kind.ACCEPT), results, "accept"),
        run_in_thread(
            decide(by=clinician_b, kind=Decision.Kind.REJECT, reason="Not for us."),
            results,
            "reject",
        ),
    ]
    for thread in threads:
        thread.join(WAIT * 2)
    assert not any(thread.is_alive() for thread in threads)

    assert_one_decision_and_one_refusal(referral, results, OUTCOMES)
