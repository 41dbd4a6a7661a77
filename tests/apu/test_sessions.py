"""A session ends after 30 idle minutes; every request pushes the end forward."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def session_ends_at(client) -> datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_session_ends_after_30_idle_minutes_and_each_request_extends_it(
    client, log_in, clinician, time_machine
):
    time_machine.move_to(START, tick=False)
    assert log_in("clinician").status_code == 302
    assert session_ends_at(client) == START + timedelta(minutes=30)

    time_machine.shift(timedelta(minutes=29))
    assert client.get("/").status_code == 200
    assert session_ends_at(client) == START + timedelta(minutes=29 + 30)

    # 58 minutes after login: still in, only because the request at 29 minutes extended it.
    time_machine.shift(timedelta(minutes=29))
    assert client.get("/").status_code == 200

    time_machine.shift(timedelta(minutes=31))
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/login/?next=/"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "idle,still_logged_in",
    [(timedelta(minutes=29, seconds=59), True), (timedelta(minutes=30, seconds=1), False)],
    ids=["just-under-30-minutes", "just-over-30-minutes"],
)
def test_idle_time_decides_whether_the_session_lives(
    client, log_in, clinician, time_machine, idle, still_logged_in
):
    time_machine.move_to(START, tick=False)
    log_in("clinician")

    time_machine.shift(idle)
    response = client.get("/account/")

    assert (response.status_code == 200) is still_logged_in
    if not still_logged_in:
        assert response.url == "/login/?next=/account/"
