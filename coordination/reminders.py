"""Reminder e-mails about coordination meetings; each goes once to each person.

The e-mails name no patient: only the kind of meeting, the date and a link, since e-mail
leaves the clinic's systems.
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from apu.models import User
from coordination.models import Meeting, ReminderSent

DUE_SOON = "due_soon"
OUTCOME_OVERDUE = "outcome_overdue"
SOON_DAYS = 7


def recipients(meeting: Meeting) -> list[User]:
    """The meeting's clinic staff and coordinator; else the municipality's coordinators."""
    people = {user.pk: user for user in meeting.clinic_staff.all() if user.is_active and user.email}
    if meeting.coordinator and meeting.coordinator.is_active and meeting.coordinator.email:
        people[meeting.coordinator.pk] = meeting.coordinator
    if not meeting.coordinator_id:
        for user in User.objects.filter(
            role=User.Role.COORDINATOR,
            municipality_id=meeting.course.patient.municipality_id,
            is_active=True,
        ).exclude(email=""):
            people[user.pk] = user
    return list(people.values())


def due_meetings(now):
    today = timezone.localdate(now)
    soon = today + timedelta(days=SOON_DAYS)
    open_meetings = Meeting.objects.open().select_related("course__patient", "coordinator")
    return {
        DUE_SOON: open_meetings.filter(
            Q(scheduled_at__isnull=True, due_date__gte=today, due_date__lte=soon)
            | Q(scheduled_at__gte=now, scheduled_at__date__lte=soon)
        ),
        OUTCOME_OVERDUE: open_meetings.filter(scheduled_at__lt=now - timedelta(hours=24)),
    }


def send_reminders(*, now=None) -> int:
    """Send every reminder not sent before; return how many e-mails went out."""
    now = now or timezone.now()
    sent = 0
    for kind, meetings in due_meetings(now).items():
        for meeting in meetings.prefetch_related("clinic_staff"):
            for user in recipients(meeting):
                if ReminderSent.objects.filter(meeting=meeting, kind=kind, recipient=user).exists():
                    continue
                try:
                    # The record first, in a transaction with the sending: a second run at the
                    # same moment fails on the unique constraint instead of sending twice.
                    with transaction.atomic():
                        ReminderSent.objects.create(meeting=meeting, kind=kind, recipient=user)
                        _send(meeting, kind, user)
                except IntegrityError:
                    continue
                sent += 1
    return sent


def _send(meeting: Meeting, kind: str, user: User) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse("coordination:meeting_detail", args=[meeting.pk])
    context = {"meeting": meeting, "kind": kind, "link": link, "user": user}
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("emails/meeting_reminder_subject.txt", context).strip()
        body = render_to_string("emails/meeting_reminder.txt", context)
    send_mail(subject, body, None, [user.email])
