"""``send_reminders``: each participant is e-mailed once about a meeting due within 7 days
and once about an outcome not recorded a day after the meeting; the e-mails name no patient."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from coordination.models import Meeting, ReminderSent
from coordination.services import record_outcome
from tests.coordination.conftest import NOW, TODAY
from tests.coordination.factories import GLADSAXE, accepted_course, at, hold, meeting_of, schedule
from tests.factories import CoordinatorFactory, municipality

pytestmark = pytest.mark.django_db

SITE = "https://apu.example.org"


@pytest.fixture(autouse=True)
def email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = SITE


def send_reminders() -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue().strip()


def sent(outbox) -> list[tuple[str, str]]:
    """(recipient, subject) of each e-mail, sorted."""
    return sorted((message.to[0], message.subject) for message in outbox)


def meeting_link(meeting: Meeting) -> str:
    return SITE + reverse("coordination:meeting_detail", args=[meeting.pk])


def course_with_intake_due_in(clinician, days: int, **kwargs):
    """A course whose (unscheduled) intake meeting is due ``days`` from today."""
    first_contact = TODAY + timedelta(days=days) - timedelta(days=21)
    return accepted_course(clinician, first_contact=first_contact, **kwargs)


@pytest.fixture
def second_ballerup_coordinator(db):
    return CoordinatorFactory(username="coord-ballerup-2", municipality=municipality("151"))


def test_a_meeting_due_within_7_days_reminds_each_participant_once(
    clinician,
    coordinator_ballerup,
    second_ballerup_coordinator,
    coordinator_gladsaxe,
    now,
    mailoutbox,
):
    course = course_with_intake_due_in(clinician, 7, name="Bodil Ballerup")
    intake = meeting_of(course)
    # The admin names the clinic staff taking part (the meeting page records them at the
    # outcome); until a coordinator is named, every coordinator of the municipality is told.
    intake.clinic_staff.add(clinician)
    assert mailoutbox == []

    assert send_reminders() == "Reminders sent: 3"

    assert sent(mailoutbox) == sorted(
        (user.email, "APU: Indsatsmøde (opstart) nærmer sig")
        for user in (clinician, coordinator_ballerup, second_ballerup_coordinator)
    )
    assert coordinator_gladsaxe.email not in {m.to[0] for m in mailoutbox}
    assert ReminderSent.objects.filter(meeting=intake, kind="due_soon").count() == 3


def test_running_twice_the_same_day_sends_nothing_new(
    clinician, coordinator_ballerup, now, time_machine, mailoutbox
):
    course = course_with_intake_due_in(clinician, 3)
    schedule(
        meeting_of(course, Meeting.Kind.INTAKE), by=clinician, when=at(TODAY - timedelta(days=2))
    )
    course_with_intake_due_in(clinician, 5)
    send_reminders()
    first_run = sent(mailoutbox)
    assert len(first_run) == 2  # one overdue outcome, one meeting due soon

    assert send_reminders() == "Reminders sent: 0"
    time_machine.move_to(NOW + timedelta(hours=8), tick=False)
    assert send_reminders() == "Reminders sent: 0"

    assert sent(mailoutbox) == first_run
    assert ReminderSent.objects.count() == 2


def test_an_outcome_missing_a_day_after_the_meeting_is_chased_once(
    clinician, coordinator_ballerup, now, time_machine, mailoutbox
):
    course = course_with_intake_due_in(clinician, 14)
    intake = schedule(meeting_of(course), by=clinician, when=at(TODAY + timedelta(days=1), 10))
    time_machine.move_to(at(TODAY + timedelta(days=2), 9, 59), tick=False)
    assert send_reminders() == "Reminders sent: 0"  # 23 hours 59 minutes after the meeting

    time_machine.move_to(at(TODAY + timedelta(days=2), 10, 1), tick=False)
    assert send_reminders() == "Reminders sent: 1"

    [message] = mailoutbox
    assert message.to == [coordinator_ballerup.email]
    assert message.subject == "APU: skriv venligst referat af Indsatsmøde (opstart)"
    assert meeting_link(intake) in message.body
    assert ReminderSent.objects.get().kind == "outcome_overdue"

    time_machine.move_to(at(TODAY + timedelta(days=5), 10), tick=False)
    assert send_reminders() == "Reminders sent: 0"
    assert len(mailoutbox) == 1


def test_the_emails_link_the_meeting_and_name_no_patient(
    clinician, coordinator_ballerup, now, mailoutbox
):
    course = course_with_intake_due_in(clinician, 2, name="Bodil Ballerup")
    intake = schedule(
        meeting_of(course), by=clinician, when=at(TODAY + timedelta(days=2), 13), place="APU"
    )

    send_reminders()

    [message] = mailoutbox
    patient = course.patient
    assert meeting_link(intake) in message.body
    assert "05.12.2025 13:00" in message.body
    for secret in ("Bodil", "Ballerup", patient.cpr, patient.cpr_formatted, patient.cpr_masked):
        assert secret not in message.subject, secret
        assert secret not in message.body, secret


@pytest.mark.parametrize(
    "days",
    [pytest.param(8, id="due-in-8-days"), pytest.param(-1, id="overdue-unscheduled")],
)
def test_no_reminder_for_an_unscheduled_meeting_outside_the_coming_week(
    clinician, coordinator_ballerup, now, mailoutbox, days
):
    course_with_intake_due_in(clinician, days)

    assert send_reminders() == "Reminders sent: 0"

    assert mailoutbox == []


def test_the_scheduled_time_counts_not_the_due_date(
    clinician, coordinator_ballerup, now, mailoutbox
):
    # Due in 3 days, but agreed for the day after the coming week: not yet.
    course = course_with_intake_due_in(clinician, 3)
    schedule(meeting_of(course), by=clinician, when=at(TODAY + timedelta(days=8), 9))

    assert send_reminders() == "Reminders sent: 0"

    assert mailoutbox == []


def test_a_meeting_with_its_outcome_recorded_gets_no_reminder(
    clinician, coordinator_ballerup, now, mailoutbox
):
    held = course_with_intake_due_in(clinician, 2)
    hold(meeting_of(held), by=clinician)
    cancelled = course_with_intake_due_in(clinician, 4)
    intake = meeting_of(cancelled)
    record_outcome(intake, by=clinician, version=intake.version, status=Meeting.Status.CANCELLED)

    assert send_reminders() == "Reminders sent: 0"

    assert mailoutbox == []


def test_the_named_coordinator_alone_is_reminded_once_named(
    clinician, coordinator_ballerup, second_ballerup_coordinator, now, mailoutbox
):
    # Patient absent at the intake meeting: recorded by the first coordinator, then moved.
    course = course_with_intake_due_in(clinician, 3)
    intake = meeting_of(course)
    record_outcome(
        intake,
        by=coordinator_ballerup,
        version=intake.version,
        status=Meeting.Status.PATIENT_ABSENT,
        patient_present=False,
    )
    schedule(intake, by=clinician, when=at(TODAY + timedelta(days=3), 10))

    send_reminders()

    assert sent(mailoutbox) == [(coordinator_ballerup.email, mailoutbox[0].subject)]


def test_people_without_email_or_access_get_nothing(clinician, now, mailoutbox):
    CoordinatorFactory(username="no-mail", email="", municipality=municipality("151"))
    CoordinatorFactory(username="left", is_active=False, municipality=municipality("151"))
    CoordinatorFactory(username="other", municipality=municipality(GLADSAXE))
    course_with_intake_due_in(clinician, 1)

    assert send_reminders() == "Reminders sent: 0"

    assert mailoutbox == []
