"""Every model the admin offers opens for an admin: its list, its add page where adding is
allowed, and the change page of a real row (the demo clinic provides them)."""

import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

# One worker runs this whole module, so the demo clinic is seeded once.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("admin-pages")]

MODELS = sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry)


@pytest.fixture(scope="module")
def demo_clinic(django_db_setup, django_db_blocker):
    """The demo clinic, seeded once for this module (inside its own transaction)."""
    from django.conf import settings

    with django_db_blocker.unblock():
        from django.db import transaction

        atomic = transaction.atomic()
        atomic.__enter__()
        debug, settings.DEBUG = settings.DEBUG, True
        try:
            call_command("seed_demo", stdout=io.StringIO())
        finally:
            settings.DEBUG = debug
        yield
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.mark.parametrize("label", MODELS)
def test_the_admin_opens_every_model_list_and_a_row(demo_clinic, admin_user, client_for, label):
    client = client_for(admin_user)
    app_label, model_name = label.split(".")
    model = next(m for m in admin.site._registry if m._meta.label_lower == label)

    listing = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))

    assert listing.status_code == 200
    row = model._default_manager.order_by("pk").first()
    if row is not None:
        change = client.get(reverse(f"admin:{app_label}_{model_name}_change", args=[row.pk]))
        assert change.status_code == 200
