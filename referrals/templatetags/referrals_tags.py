from datetime import date

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

SOON_DAYS = 7


@register.inclusion_tag("referrals/_deadline.html")
def deadline(due: date | None, today: date | None = None):
    """A deadline with a coloured countdown and its ISO week."""
    if due is None:
        return {"due": None}
    today = today or timezone.localdate()
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
    year, week, _weekday = due.isocalendar()
    return {"due": due, "level": level, "text": text, "week": week, "year": year}


@register.filter
def days_since(day: date) -> int:
    return (timezone.localdate() - day).days
