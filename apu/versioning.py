"""Refusing a stale save of a record that has no version column of its own.

A form that edits an existing row carries a fingerprint of the row as the page showed it
(``seen``). The save locks the row and compares: if someone saved the row in between, the
save is refused with ``StaleRecord`` and the form is shown again with what was typed, now
carrying the fingerprint of the row as saved, so saving again after checking goes through.

Meetings, case formulations and treatment plans carry a version number instead, because
their pages list what changed since; everything else edited on a page or in the admin uses
this.
"""

import hashlib
import json
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

STALE_RECORD = _(
    "Someone else changed this after you opened the page. It is shown as saved now; what "
    "you entered is kept. Check it and save again."
)
FORM_OUT_OF_DATE = _(
    "The form is incomplete or out of date. Open the page again and make your changes once more."
)

# The fingerprint of a row that does not exist yet (an attendance not yet recorded).
ABSENT = "absent"


def fingerprint(instance: models.Model | None) -> str:
    """A short hash of every stored column of the row; any save that changes it changes this.

    Columns the database derives itself (a model's ``DERIVED_FIELDS``) are left out: an
    instance just created does not hold them until it is read back.
    """
    if instance is None:
        return ABSENT
    derived = getattr(instance, "DERIVED_FIELDS", ())
    values = [
        [field.attname, _stored(field, instance)]
        for field in instance._meta.concrete_fields
        if field.name not in derived
    ]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()[:24]


def _stored(field: models.Field, instance: models.Model):
    """The value as the database holds it: a time in UTC, whichever zone the object has it in."""
    value = field.value_from_object(instance)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    return field.value_to_string(instance)


class StaleRecord(ValidationError):
    """The row was saved by someone else after the form was opened."""

    def __init__(self, current: models.Model | None):
        super().__init__(STALE_RECORD, code="stale")
        self.current = current
        self.seen = fingerprint(current)


def lock_unchanged(queryset, pk, seen: str | None):
    """The row (or None), locked until the transaction ends, if it is as the form saw it.

    ``seen`` None skips the check: for callers without a form (demo data, commands).
    Call inside ``transaction.atomic``.
    """
    current = queryset.select_for_update().filter(pk=pk).first()
    if seen is not None and fingerprint(current) != seen:
        raise StaleRecord(current)
    return current


def ensure_unchanged(instance: models.Model | None, seen: str | None) -> None:
    """For a row the caller has just locked itself."""
    if seen is not None and fingerprint(instance) != seen:
        raise StaleRecord(instance)


class SeenField(forms.CharField):
    """The hidden field carrying the fingerprint the form was opened on."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)


class ShowsSeenErrors:
    """A hidden field's error is not shown on the page: say a missing or altered
    fingerprint (or version, for forms that carry one) above the form instead."""

    hidden_check_fields = ("seen", "version")

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in self.hidden_check_fields):
            self.add_error(None, FORM_OUT_OF_DATE)
        return cleaned


def carry_current(form: forms.Form, error: StaleRecord, field: str = "seen") -> None:
    """Keep what was typed but carry the fingerprint of the row as saved now."""
    form.data = form.data.copy()
    form.data[field] = error.seen
