from collections.abc import Callable
from datetime import date, datetime
from html import escape

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

register = template.Library()

SOON_DAYS = 7


@register.simple_tag
def deadline(due: date | None, today: date | None = None):
    """A deadline with a coloured countdown and its ISO week."""
    if due is None:
        return "–"
    return mark_safe(deadline_html(due, today or timezone.localdate()))  # noqa: S308 (escaped)


def deadline_html(due: date, today: date) -> str:
    """The deadline tag's HTML as a plain string, every text in it escaped.

    Built with f-strings and ``html.escape`` rather than an included template or
    ``format_html``: worklists show it on every row, and there the lazy-text checks of
    ``format_html`` cost more than the rest of the cell.
    """
    days = (due - today).days
    if days < 0:
        level = "overdue"
        text = ngettext("%(days)d day overdue", "%(days)d days overdue", -days) % {"days": -days}
    elif days == 0:
        level = "soon"
        text = _("due today")
    else:
        level = "soon" if days <= SOON_DAYS else "ok"
        text = ngettext("in %(days)d day", "in %(days)d days", days) % {"days": days}
    week = escape(_("week %(week)s") % {"week": due.isocalendar()[1]})
    return (
        f'<span class="deadline deadline-{level}"><strong>{escape(text)}</strong><br><small>'
        f'<time datetime="{due.isoformat()}">{due:%d.%m.%Y}</time> · {week}</small></span>'
    )


def url_with_pk(name: str) -> Callable[[int], str]:
    """``pk -> reverse(name, args=[pk])``, reversing once: a worklist links every row, and
    ``reverse`` per row was a tenth of a row's cost."""
    head, tail = reverse(name, args=[_SAMPLE_PK]).split(str(_SAMPLE_PK))
    return lambda pk: f"{head}{int(pk)}{tail}"


_SAMPLE_PK = 987654321


# The newest screening's outcome as a badge (worklist rows and the screening panel).
OUTCOME_BADGES = {
    "eligible": ("ok", gettext_lazy("Eligible")),
    "ineligible": ("danger", gettext_lazy("Not eligible")),
    "review": ("warn", gettext_lazy("Needs review")),
}


@register.simple_tag
def outcome_badge(outcome: str | None):
    if outcome not in OUTCOME_BADGES:
        return "–"
    level, label = OUTCOME_BADGES[outcome]
    return format_html('<span class="badge badge-{}">{}</span>', level, label)


@register.filter
def days_since(day: date) -> int:
    return (timezone.localdate() - day).days


@register.filter
def day_time(moment: datetime | None) -> str:
    """A time as DD.MM.YYYY HH:MM in the clinic's time zone ("" for none): what
    ``|date:"d.m.Y H:i"`` shows, at a tenth of its cost on worklist rows."""
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%d.%m.%Y %H:%M")


@register.simple_tag
def referral_row(referral, user):
    """One row of the referral worklist, for ``user``: a coordinator's rows leave out the
    newest screening's outcome.

    Built in Python rather than in the template, like the meeting worklists' rows: the
    template's lookups and escaping per cell were most of a full page's time.
    """
    patient = referral.patient
    due = deadline(referral.intake_due) if referral.is_open else "–"
    outcome = ""
    if not user.is_coordinator:
        outcome = format_html("<td>{}</td>", outcome_badge(referral.latest_outcome))
    return format_html(
        '<tr><td><a href="{}">{}</a></td><td class="nowrap">{}</td><td>{}</td>'
        '<td class="nowrap">{}</td><td>{}</td><td>{}</td>{}<td>{}</td></tr>',
        reverse("referrals:referral_detail", args=[referral.pk]),
        patient.name,
        patient.cpr_masked,
        patient.municipality.name,
        referral.first_contact.strftime("%d.%m.%Y"),
        days_since(referral.first_contact),
        due,
        outcome,
        referral.get_status_display(),
    )
