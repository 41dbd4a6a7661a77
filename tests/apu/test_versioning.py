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


def test_a_time_has_the_same_fingerprint_in_any_zone():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from apu.models import AccessLog

    utc = AccessLog(at=datetime(2026, 3, 16, 13, 0, tzinfo=UTC), what="x", object_id=1)
    local = AccessLog(
        at=datetime(2026, 3, 16, 14, 0, tzinfo=ZoneInfo("Europe/Copenhagen")), what="x", object_id=1
    )
    later = AccessLog(at=datetime(2026, 3, 16, 13, 1, tzinfo=UTC), what="x", object_id=1)

    assert fingerprint(utc) == fingerprint(local) != fingerprint(later)
