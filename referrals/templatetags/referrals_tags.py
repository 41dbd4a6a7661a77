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

from referrals.models import Referral

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


def choice_labels(choices) -> dict[str, str]:
    """Each choice's label in the reader's language, escaped: looked up once per list
    rather than once per row (the tables' check constraints allow no other value)."""
    return {value: escape(str(label)) for value, label in choices.choices}


class RowCells:
    """What every row of one worklist shares, worked out once per list: its link's form,
    today, and each due date's deadline (a list's rows often share a due date)."""

    def __init__(self, url_name: str):
        self.link = url_with_pk(url_name)
        self.today = timezone.localdate()
        self.deadlines: dict[date, str] = {}

    def deadline(self, due: date) -> str:
        if due not in self.deadlines:
            self.deadlines[due] = deadline_html(due, self.today)
        return self.deadlines[due]


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
def referral_rows(referrals, user):
    """The rows of the referral worklist, for ``user``: a coordinator's rows leave out the
    newest screening's outcome.

    Built in Python, all rows in one call, like the meeting worklists' rows: the template's
    loop, lookups and escaping per cell were most of a full page's time.
    """
    cells = RowCells("referrals:referral_detail")
    statuses = choice_labels(Referral.Status)
    badges = None if user.is_coordinator else {key: outcome_badge(key) for key in OUTCOME_BADGES}
    rows = []
    for referral in referrals:
        patient = referral.patient
        due = cells.deadline(referral.intake_due) if referral.is_open else "–"
        outcome = "" if badges is None else f"<td>{badges.get(referral.latest_outcome, '–')}</td>"
        rows.append(
            f'<tr><td><a href="{cells.link(referral.pk)}">{escape(patient.name)}</a></td>'
            f'<td class="nowrap">{escape(patient.cpr_masked)}</td>'
            f"<td>{escape(patient.municipality.name)}</td>"
            f'<td class="nowrap">{referral.first_contact:%d.%m.%Y}</td>'
            f"<td>{(cells.today - referral.first_contact).days}</td><td>{due}</td>{outcome}"
            f"<td>{statuses[referral.status]}</td></tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 - every text in the rows is escaped
