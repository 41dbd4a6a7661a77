from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from referrals.templatetags.referrals_tags import day_time, deadline

register = template.Library()


@register.simple_tag
def meeting_row(meeting):
    """One row of a meeting worklist: patient, municipality, meeting, deadline, time, status.

    Built in Python rather than in the template: the worklists show up to 50 meetings, and
    the template's lookups and escaping per cell were most of the page's time.
    """
    patient = meeting.course.patient
    if meeting.scheduled_at is None:
        when = format_html('<span class="badge badge-warn">{}</span>', _("Not scheduled"))
    else:
        when = day_time(meeting.scheduled_at)
    return format_html(
        '<tr><td>{} <small class="nowrap">{}</small></td><td>{}</td>'
        '<td><a href="{}">{}</a></td><td>{}</td><td class="nowrap">{}</td><td>{}</td></tr>',
        patient.name,
        patient.cpr_masked,
        patient.municipality.name,
        reverse("coordination:meeting_detail", args=[meeting.pk]),
        meeting.get_kind_display(),
        deadline(meeting.due_date),
        when,
        meeting.get_status_display(),
    )
