"""The fingerprint that refuses stale saves of rows without a version column."""

import pytest
from django.db import transaction

from apu.models import Municipality
from apu.versioning import ABSENT, StaleRecord, fingerprint, lock_unchanged

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Ny kommune"), ("participating", False), ("code", "999")],
)
def test_any_saved_column_changes_the_fingerprint(field, value):
    row = Municipality.objects.create(code="901", name="Prøve", slug="proeve-1", participating=True)
    before = fingerprint(Municipality.objects.get(pk=row.pk))

    Municipality.objects.filter(pk=row.pk).update(**{field: value})

    assert fingerprint(Municipality.objects.get(pk=row.pk)) != before


def test_the_same_row_read_twice_has_the_same_fingerprint():
    row = Municipality.objects.create(code="902", name="Prøve", slug="proeve-2", participating=True)

    assert fingerprint(Municipality.objects.get(pk=row.pk)) == fingerprint(row)
    assert fingerprint(None) == ABSENT


def test_a_save_from_an_older_fingerprint_is_refused_and_carries_the_current_one():
    row = Municipality.objects.create(code="903", name="Prøve", slug="proeve-3", participating=True)
    seen = fingerprint(row)
    Municipality.objects.filter(pk=row.pk).update(name="Ændret")

    with transaction.atomic(), pytest.raises(StaleRecord) as refused:
        lock_unchanged(Municipality.objects.all(), row.pk, seen)

    assert refused.value.current.name == "Ændret"
    with transaction.atomic():
        assert lock_unchanged(Municipality.objects.all(), row.pk, refused.value.seen).pk == row.pk
        assert lock_unchanged(Municipality.objects.all(), row.pk, None).pk == row.pk
