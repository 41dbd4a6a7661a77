"""The Django admin refuses a stale save, as the site's forms do (apu/versioning.py).

A change form of a clinical or coordination record carries the fingerprint of the row as it
was opened (``seen``; templates/admin/change_form.html renders it). Its ``clean()`` runs before
the instance is updated from what was typed, inside the transaction of the admin's change
view: it locks the row and refuses the save if the row was saved since, with an error above
the form, keeping what was typed and carrying the fingerprint of the row as saved now, so that
saving again after checking goes through. Inline rows the admin edits or deletes are checked
the same way, one by one.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet, model_to_dict
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _
from simple_history.models import to_historic

from apu.versioning import (
    STALE_RECORD,
    SeenField,
    ShowsSeenErrors,
    StaleRecord,
    carry_current,
    fingerprint,
    lock_unchanged,
)

DIFFERS_NOW = _("The form differs from what is saved now in: %(fields)s.")


class AdminSeenField(SeenField):
    """The fingerprint is no change of the admin's: kept out of the history's change message,
    and an inline row is not saved (or checked) because of it."""

    def has_changed(self, initial, data) -> bool:
        return False


class StaleCheckedForm(ShowsSeenErrors, forms.ModelForm):
    """The base form of an admin change form (and of its inline rows) that refuses a stale save."""

    seen = AdminSeenField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The row as locked by a save that passed the check (None until then, or when adding).
        self.current = None
        self.stale = False
        if self.edits_a_saved_row:
            self.fields["seen"].required = True
            self.initial.setdefault("seen", fingerprint(self._row_as_stored()))

    @property
    def edits_a_saved_row(self) -> bool:
        return self.instance.pk is not None and not self.instance._state.adding

    def _row_as_stored(self):
        if to_historic(self.instance) is None:
            return self.instance
        # The history's revert page shows an old version; saving it overwrites the row as it
        # is now, so that is the row the page was opened on.
        return type(self.instance)._default_manager.filter(pk=self.instance.pk).first()

    def checks_staleness(self) -> bool:
        """Whether this save would write the row (every main form; an inline row only when
        the admin changed it or ticked it for deletion: the others are not saved)."""
        return True

    def clean(self):
        cleaned = super().clean()
        if self.edits_a_saved_row and "seen" not in self.errors and self.checks_staleness():
            manager = type(self.instance)._default_manager
            try:
                self.current = lock_unchanged(manager, self.instance.pk, cleaned.get("seen"))
            except StaleRecord as error:
                self.stale = True
                self.add_error(None, error)
                differs = self._differs_from(error.current)
                if differs:
                    self.add_error(None, DIFFERS_NOW % {"fields": get_text_list(differs, _("and"))})
                carry_current(self, error, field=self.add_prefix("seen"))
        return cleaned

    def _differs_from(self, current) -> list[str]:
        """The labels of the fields whose value in the form is not the one saved now."""
        if current is None:
            return []
        names = [name for name in self.fields if name != "seen"]
        saved = model_to_dict(current, fields=names)
        return [
            str(self[name].label)
            for name in names
            if name in saved and self.fields[name].has_changed(saved[name], self[name].data)
        ]


class StaleCheckedInlineForm(StaleCheckedForm):
    def checks_staleness(self) -> bool:
        return self.has_changed()


class StaleCheckedInlineFormSet(BaseInlineFormSet):
    """A formset drops the errors of a row ticked for deletion: a stale one refuses the save."""

    def clean(self):
        super().clean()
        deleted_stale = [
            form
            for form in self.initial_forms
            if getattr(form, "stale", False) and form.cleaned_data.get(DELETION_FIELD_NAME)
        ]
        if deleted_stale:
            raise ValidationError(STALE_RECORD, code="stale")


class RefusesStaleSaves:
    """For a ModelAdmin: its change form (and the history's revert form) refuses a stale save."""

    form = StaleCheckedForm

    def get_fields(self, request, obj=None):
        # The fingerprint is rendered by templates/admin/change_form.html, whatever the
        # fieldsets; as a field of the fieldsets it would be a second, empty form row.
        return [name for name in super().get_fields(request, obj) if name != "seen"]

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # Reverting to an old version saves the row too; the check's row lock needs the
        # transaction the change view has and simple-history's view does not.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().history_form_view(request, object_id, version_id, extra_context)


class RefusesStaleInlineSaves:
    """For an inline: each row the admin changes or deletes is refused if saved since."""

    form = StaleCheckedInlineForm
    formset = StaleCheckedInlineFormSet


class BumpsVersion:
    """For the admin of a row with a version number the site's forms check (a meeting, a case
    formulation, a treatment plan): an admin edit is an edit too, so a form opened elsewhere
    on the old version is refused instead of overwriting it."""

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if "version" in readonly else [*readonly, "version"]

    def save_model(self, request, obj, form, change):
        if change:
            # From the row as locked, not the form's instance: a revert carries an old version.
            current = getattr(form, "current", None) or obj
            obj.version = current.version + 1
        super().save_model(request, obj, form, change)
