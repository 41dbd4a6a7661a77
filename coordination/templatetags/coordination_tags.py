from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from coordination.models import Meeting
from referrals.models import Course
from referrals.templatetags.referrals_tags import RowCells, choice_labels, day_time

register = template.Library()


@register.simple_tag
def meeting_rows(meetings):
    """The rows of a meeting worklist: patient, municipality, meeting, deadline, time, status.

    Built in Python, all rows in one call, rather than in the template: the worklists show
    up to 50 meetings, and the template's loop, lookups and escaping per cell were most of
    the page's time.
    """
    cells = RowCells("coordination:meeting_detail")
    kinds, statuses = choice_labels(Meeting.Kind), choice_labels(Meeting.Status)
    not_scheduled = f'<span class="badge badge-warn">{escape(_("Not scheduled"))}</span>'
    rows = []
    for meeting in meetings:
        patient = meeting.course.patient
        when = not_scheduled if meeting.scheduled_at is None else day_time(meeting.scheduled_at)
        rows.append(
            f'<tr><td>{escape(patient.name)} <small class="nowrap">'
            f"{escape(patient.cpr_masked)}</small></td>"
            f"<td>{escape(patient.municipality.name)}</td>"
            f'<td><a href="{cells.link(meeting.pk)}">{kinds[meeting.kind]}</a></td>'
            f'<td>{cells.deadline(meeting.due_date)}</td><td class="nowrap">{when}</td>'
            f"<td>{statuses[meeting.status]}</td></tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 - every text in the rows is escaped


@register.simple_tag
def unscheduled_course_rows(courses):
    """The rows of the clinic's open courses with no meeting scheduled: patient (linking to
    the course), municipality, course status, and the intake meeting's deadline while the
    course awaits it. Built in Python, as the meeting rows are."""
    cells = RowCells("course_detail")
    statuses = choice_labels(Course.Status)
    rows = []
    for course in courses:
        patient = course.patient
        due = "–"
        if course.status == Course.Status.AWAITING_INTAKE:
            due = cells.deadline(course.intake_meeting_due)
        rows.append(
            f'<tr><td><a href="{cells.link(course.pk)}">{escape(patient.name)}</a> '
            f"<small>{escape(patient.cpr_masked)}</small></td>"
            f"<td>{escape(patient.municipality.name)}</td>"
            f"<td>{statuses[course.status]}</td><td>{due}</td></tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 - every text in the rows is escaped
