"""Calendar invitations and personal feeds: they parse, carry the meeting's kind, time, place
and link but never a name or CPR number, and a feed's secret URL can be renewed or revoked."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from coordination.models import CalendarFeed, Meeting
from coordination.services import discharge_course, record_outcome
from referrals.models import Course, Patient
from tests.coordination.conftest import TODAY
from tests.coordination.factories import at, meeting_of, schedule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

BALLERUP_AT = at(TODAY + timedelta(days=4), 13, 30)
GLADSAXE_AT = at(TODAY + timedelta(days=6), 9)


def identifying(patient: Patient) -> list[str]:
    """Every form in which a page could carry who the patient is."""
    return [
        patient.name,
        *patient.name.split(),
        patient.cpr,
        patient.cpr_formatted,
        patient.cpr_masked,
    ]


def events(body: bytes) -> list:
    return Calendar.from_ical(body).walk("VEVENT")


def link(meeting: Meeting) -> str:
    return "http://testserver" + reverse("coordination:meeting_detail", args=[meeting.pk])


@pytest.fixture
def ballerup_meeting(ballerup_course, clinician) -> Meeting:
    return schedule(
        meeting_of(ballerup_course), by=clinician, when=BALLERUP_AT, place="Rusmiddelcentret"
    )


@pytest.fixture
def gladsaxe_meeting(gladsaxe_course, clinician) -> Meeting:
    return schedule(meeting_of(gladsaxe_course), by=clinician, when=GLADSAXE_AT, place="APU")


# --- One meeting's invitation -----------------------------------------------------------------


def test_the_invitation_parses_and_names_no_patient(
    client_for, coordinator_ballerup, ballerup_meeting
):
    response = client_for(coordinator_ballerup).get(
        reverse("coordination:meeting_ics", args=[ballerup_meeting.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="apu-meeting-{ballerup_meeting.pk}.ics"'
    )
    [event] = events(response.content)
    assert event.decoded("dtstart") == BALLERUP_AT
    assert event.decoded("dtend") == BALLERUP_AT + timedelta(minutes=60)
    assert str(event["location"]) == "Rusmiddelcentret"
    assert str(event["url"]) == link(ballerup_meeting)
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["summary"]) == "APU: Indsatsmøde (opstart)"
    body = response.content.decode()
    for secret in identifying(ballerup_meeting.course.patient):
        assert secret not in body, secret


def test_a_cancelled_meeting_invitation_says_cancelled(client_for, clinician, ballerup_meeting):
    record_outcome(
        ballerup_meeting,
        by=clinician,
        version=ballerup_meeting.version,
        status=Meeting.Status.CANCELLED,
    )

    response = client_for(clinician).get(
        reverse("coordination:meeting_ics", args=[ballerup_meeting.pk])
    )

    [event] = events(response.content)
    assert str(event["status"]) == "CANCELLED"
    assert event.decoded("dtstart") == BALLERUP_AT


def test_an_unscheduled_meeting_has_no_invitation(client_for, clinician, ballerup_course):
    midpoint = meeting_of(ballerup_course, Meeting.Kind.MIDPOINT)
    assert midpoint.scheduled_at is None

    response = client_for(clinician).get(reverse("coordination:meeting_ics", args=[midpoint.pk]))

    assert response.status_code == 404


# --- The personal feed ------------------------------------------------------------------------


def create_feed(user) -> str:
    """Create the feed through the settings page, as the user does; return its URL."""
    client = Client()
    client.force_login(user)
    assert not CalendarFeed.objects.filter(user=user).exists()
    response = client.post(reverse("coordination:calendar_renew"))
    assert response.status_code == 302
    assert response["Location"] == reverse("coordination:calendar_settings")
    feed = CalendarFeed.objects.get(user=user)
    url = reverse("coordination:calendar_feed", args=[feed.token])
    assert f"http://testserver{url}" in client.get(response["Location"]).content.decode()
    return url


def test_the_feed_is_read_without_login_and_holds_only_meetings_the_user_may_see(
    coordinator_ballerup, ballerup_meeting, gladsaxe_meeting
):
    url = create_feed(coordinator_ballerup)

    response = Client().get(url)  # a calendar program: no session, only the secret URL

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert [str(event["url"]) for event in events(response.content)] == [link(ballerup_meeting)]
    [event] = events(response.content)
    assert event.decoded("dtstart") == BALLERUP_AT
    assert str(event["location"]) == "Rusmiddelcentret"
    body = response.content.decode()
    for meeting in (ballerup_meeting, gladsaxe_meeting):
        for secret in identifying(meeting.course.patient):
            assert secret not in body, secret


def test_the_clinicians_feed_holds_every_municipality(
    clinician, ballerup_meeting, gladsaxe_meeting
):
    response = Client().get(create_feed(clinician))

    assert [str(event["url"]) for event in events(response.content)] == [
        link(ballerup_meeting),
        link(gladsaxe_meeting),
    ]


def test_the_feed_shows_meetings_from_30_days_back_and_only_scheduled_ones(
    clinician, ballerup_course, gladsaxe_course
):
    # Meetings long past drop out; unscheduled ones have no time to show.
    old = schedule(meeting_of(ballerup_course), by=clinician, when=at(TODAY - timedelta(days=31)))
    recent = schedule(
        meeting_of(gladsaxe_course), by=clinician, when=at(TODAY - timedelta(days=29))
    )
    assert Meeting.objects.filter(scheduled_at__isnull=True).count() == 4

    response = Client().get(create_feed(clinician))

    urls = [str(event["url"]) for event in events(response.content)]
    assert urls == [link(recent)]
    assert link(old) not in urls


def test_renewing_the_feed_gives_a_new_address_and_the_old_one_stops(
    client_for, coordinator_ballerup, ballerup_meeting
):
    old_url = create_feed(coordinator_ballerup)
    old_token = CalendarFeed.objects.get(user=coordinator_ballerup).token
    assert Client().get(old_url).status_code == 200

    client_for(coordinator_ballerup).post(reverse("coordination:calendar_renew"))

    new_token = CalendarFeed.objects.get(user=coordinator_ballerup).token
    assert new_token != old_token
    assert Client().get(old_url).status_code == 404
    new_url = reverse("coordination:calendar_feed", args=[new_token])
    assert len(events(Client().get(new_url).content)) == 1


def test_a_revoked_feed_answers_404(client_for, coordinator_ballerup, ballerup_meeting):
    url = create_feed(coordinator_ballerup)

    response = client_for(coordinator_ballerup).post(reverse("coordination:calendar_revoke"))

    assert response.status_code == 302
    assert not CalendarFeed.objects.filter(user=coordinator_ballerup).exists()
    assert Client().get(url).status_code == 404


def test_an_inactive_users_feed_answers_404(coordinator_ballerup, ballerup_meeting):
    url = create_feed(coordinator_ballerup)
    assert Client().get(url).status_code == 200

    coordinator_ballerup.is_active = False
    coordinator_ballerup.save(update_fields=["is_active"])

    assert Client().get(url).status_code == 404


def test_a_made_up_token_answers_404(coordinator_ballerup, ballerup_meeting):
    create_feed(coordinator_ballerup)

    response = Client().get(reverse("coordination:calendar_feed", args=["not-the-token"]))

    assert response.status_code == 404


def test_a_discharged_patients_cancelled_meetings_stay_in_the_feed_as_cancelled(
    clinician, ballerup_course, ballerup_meeting
):
    discharge_course(
        ballerup_course,
        by=clinician,
        date=TODAY,
        kind="other",
        meeting_not_held_reason="Borgeren flyttede.",
    )
    assert Course.objects.get(pk=ballerup_course.pk).status == Course.Status.DISCHARGED

    [event] = events(Client().get(create_feed(clinician)).content)

    assert str(event["status"]) == "CANCELLED"
    assert str(event["url"]) == link(ballerup_meeting)
