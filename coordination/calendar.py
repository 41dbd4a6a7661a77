"""iCalendar invitations and feeds. They carry no names or CPR numbers: only the meeting's
kind, time, place and a link, since calendars are synced to phones and shared."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from coordination.models import Meeting

PRODUCT_ID = "-//APU pathway//Coordination meetings//DA"


def _event(meeting: Meeting, link: str) -> Event:
    event = Event()
    event.add("uid", f"meeting-{meeting.pk}@apu-pathway")
    event.add("summary", _("APU: %(kind)s") % {"kind": meeting.get_kind_display()})
    event.add("dtstart", meeting.scheduled_at)
    event.add("dtend", meeting.scheduled_at + timedelta(minutes=meeting.duration_minutes))
    event.add("dtstamp", timezone.now())
    event.add("sequence", meeting.version)
    if meeting.place:
        event.add("location", meeting.place)
    event.add("url", link)
    event.add("description", link)
    status = "CANCELLED" if meeting.status == Meeting.Status.CANCELLED else "CONFIRMED"
    event.add("status", status)
    return event


def calendar_for(meetings, *, link_for) -> bytes:
    """An iCalendar document with one event per scheduled meeting."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for meeting in meetings:
        if meeting.scheduled_at is not None:
            calendar.add_component(_event(meeting, link_for(meeting)))
    return calendar.to_ical()
