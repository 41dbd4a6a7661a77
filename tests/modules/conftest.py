"""Fixtures of the treatment tests: a frozen clinic day, courses in treatment, a group."""

from datetime import date, datetime

import pytest

from modules.models import Group
from referrals.models import Course
from tests.modules.factories import COPENHAGEN, GLADSAXE, new_course, new_group

# A Wednesday in the clinic's calendar; the group below meets on Mondays.
NOW = datetime(2026, 3, 18, 9, 30, tzinfo=COPENHAGEN)
LAST_MONDAY = date(2026, 3, 16)


@pytest.fixture
def now(time_machine) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def today(now) -> date:
    return now.date()


@pytest.fixture
def ballerup_course(clinician, now) -> Course:
    """A Ballerup citizen's course, intake meeting held: in treatment."""
    return new_course(clinician, name="Bente Ballerup")


@pytest.fixture
def gladsaxe_course(clinician, now) -> Course:
    return new_course(clinician, name="Gunnar Gladsaxe", municipality_code=GLADSAXE)


@pytest.fixture
def group(clinician, now) -> Group:
    """Behavioural activation on Mondays 10-12: 2 therapists, normed size 8, 8 seats."""
    return new_group(therapists=(clinician,))
