"""Fixtures of the coordination tests: a frozen clinic day and accepted courses."""

from datetime import date, datetime

import pytest

from referrals.models import Course
from tests.coordination.factories import COPENHAGEN, GLADSAXE, accepted_course

# A Wednesday in ISO week 49 of 2025 (winter time in Copenhagen).
NOW = datetime(2025, 12, 3, 9, 30, tzinfo=COPENHAGEN)
TODAY = date(2025, 12, 3)


@pytest.fixture(autouse=True)
def three_week_intake_deadline(settings):
    """The clinic's default, whatever the environment sets: intake by first contact + 21."""
    settings.INTAKE_MEETING_DEADLINE_DAYS = 21


@pytest.fixture
def now(time_machine) -> datetime:
    """The clinic's clock stands still at NOW; a test moves it on explicitly."""
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def ballerup_course(clinician, now) -> Course:
    """A Ballerup citizen's accepted course: awaiting its intake meeting, three meetings."""
    return accepted_course(clinician, name="Bodil Ballerup")


@pytest.fixture
def gladsaxe_course(clinician, now) -> Course:
    return accepted_course(clinician, name="Gorm Gladsaxe", municipality_code=GLADSAXE)
