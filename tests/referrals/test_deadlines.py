"""The intake meeting is due a set number of days after first contact."""

import os
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError

from referrals.deadlines import NOT_A_DATE, intake_meeting_due


def test_the_default_deadline_is_21_days(settings):
    # settings.py has already read .env into os.environ, so this sees both.
    if "INTAKE_MEETING_DEADLINE_DAYS" in os.environ:
        pytest.skip("INTAKE_MEETING_DEADLINE_DAYS is set in the environment")
    assert settings.INTAKE_MEETING_DEADLINE_DAYS == 21
    assert intake_meeting_due(date(2026, 3, 2)) == date(2026, 3, 23)


# Copenhagen changes to summer time on 29 March 2026 and back on 25 October 2026; a
# deadline counts calendar days, so neither moves it.
CALENDAR_CASES = [
    pytest.param(date(2026, 1, 20), 21, date(2026, 2, 10), id="21-days-across-month-end"),
    pytest.param(date(2026, 12, 20), 21, date(2027, 1, 10), id="21-days-across-year-end"),
    pytest.param(date(2024, 2, 15), 21, date(2024, 3, 7), id="21-days-across-leap-february"),
    pytest.param(date(2025, 2, 15), 21, date(2025, 3, 8), id="21-days-across-plain-february"),
    pytest.param(date(2026, 3, 20), 21, date(2026, 4, 10), id="21-days-across-summer-time"),
    pytest.param(date(2026, 10, 15), 21, date(2026, 11, 5), id="21-days-across-winter-time"),
    pytest.param(date(2026, 1, 20), 14, date(2026, 2, 3), id="14-days-across-month-end"),
    pytest.param(date(2024, 2, 15), 14, date(2024, 2, 29), id="14-days-to-leap-day"),
    pytest.param(date(2026, 3, 20), 14, date(2026, 4, 3), id="14-days-across-summer-time"),
    pytest.param(date(2026, 10, 15), 28, date(2026, 11, 12), id="28-days-across-winter-time"),
    pytest.param(date(2026, 1, 20), 0, date(2026, 1, 20), id="0-days-same-day"),
]


@pytest.mark.parametrize("first_contact,days,due", CALENDAR_CASES)
def test_the_deadline_follows_the_setting_in_calendar_days(settings, first_contact, days, due):
    settings.INTAKE_MEETING_DEADLINE_DAYS = days
    assert intake_meeting_due(first_contact) == due


@pytest.mark.parametrize(
    "value",
    [datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "2026-03-02", None],
    ids=["datetime", "text", "none"],
)
def test_first_contact_must_be_a_date(value):
    with pytest.raises(ValidationError) as excinfo:
        intake_meeting_due(value)
    assert excinfo.value.code == "bad_date"
    assert excinfo.value.message == NOT_A_DATE
