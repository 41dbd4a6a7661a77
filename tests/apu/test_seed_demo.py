"""Demo data: the documented logins, safe to run again, never run by accident in production."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from apu.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from apu.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

DEMO_USERS = {
    "admin": (User.Role.ADMIN, None),
    "klinik": (User.Role.CLINICIAN, None),
    "forsker": (User.Role.RESEARCHER, None),
    "koordinator-ballerup": (User.Role.COORDINATOR, "Ballerup"),
    "koordinator-gladsaxe": (User.Role.COORDINATOR, "Gladsaxe"),
    "koordinator-herlev": (User.Role.COORDINATOR, "Herlev"),
    "koordinator-lyngby-taarbaek": (User.Role.COORDINATOR, "Lyngby-Taarbæk"),
    "koordinator-rudersdal": (User.Role.COORDINATOR, "Rudersdal"),
}


@pytest.fixture
def development(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = ""


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.DEMO_PASSWORD = ""
    return settings


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """The user rows with their password hashes, and the row count of every table (history too)."""
    users = list(User.objects.order_by("pk").values_list("pk", "username", "role", "password"))
    counts = {model._meta.label: model._default_manager.count() for model in apps.get_models()}
    return {"users": users, "row counts": counts}


@pytest.mark.usefixtures("development")
def test_seed_creates_the_documented_logins_with_their_roles_and_municipalities(log_in):
    assert not User.objects.exists()

    output = seed("--users-only")

    users = {
        user.username: (user.role, user.municipality.name if user.municipality else None)
        for user in User.objects.select_related("municipality")
    }
    assert users == DEMO_USERS
    admin = User.objects.get(username="admin")
    assert (admin.is_superuser, admin.is_staff) == (True, True)
    assert not User.objects.exclude(username="admin").filter(is_staff=True).exists()
    assert f"password: {DEFAULT_DEMO_PASSWORD}" in output
    assert all(username in output for username in DEMO_USERS)
    landed = {
        username: log_in(username, DEFAULT_DEMO_PASSWORD, via=Client()).url
        for username in DEMO_USERS
    }
    assert landed == dict.fromkeys(DEMO_USERS, "/")


@pytest.mark.usefixtures("development")
def test_seeding_again_changes_nothing():
    from referrals.models import Referral

    seed()
    before = snapshot()
    assert before["row counts"]["apu.HistoricalUser"] == len(DEMO_USERS)

    output = seed()

    assert snapshot() == before
    assert "Demo users: 0 created" in output
    # The demo clinic: referrals from the last 18 months in every stage (one full seed only,
    # as seeding the clinic takes a while).
    assert 250 <= Referral.objects.count() <= 300
    assert {"received", "screened", "accepted", "rejected"} <= set(
        Referral.objects.values_list("status", flat=True)
    )


@pytest.mark.usefixtures("production")
def test_seed_refuses_to_run_with_debug_off():
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        seed()

    assert not User.objects.exists()


@pytest.mark.usefixtures("production")
def test_forcing_with_debug_off_still_needs_a_demo_password():
    with pytest.raises(CommandError, match="Set DEMO_PASSWORD"):
        seed("--force")

    assert not User.objects.exists()


def test_forcing_with_debug_off_uses_the_given_demo_password(production, log_in):
    production.DEMO_PASSWORD = "a-demo-server-password"

    seed("--force", "--users-only")

    assert set(User.objects.values_list("username", flat=True)) == set(DEMO_USERS)
    assert log_in("klinik", DEFAULT_DEMO_PASSWORD).status_code == 200  # refused
    assert log_in("klinik", "a-demo-server-password").url == "/"
