"""Personas and shared fixtures."""

import importlib
import os

import pytest
from django.urls import reverse

from apu.models import User
from tests.factories import TEST_PASSWORD, CoordinatorFactory, UserFactory, municipality


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Give each test run its own test database, so parallel runs never collide.

    pytest-xdist already suffixes the name per worker (gw0, gw1, ...); a run id on top
    keeps two simultaneous runs against the same server apart.
    """
    from django.conf import settings

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:8] or str(os.getpid())
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    base = test_settings.get("NAME") or f"test_{settings.DATABASES['default']['NAME']}"
    test_settings["NAME"] = f"{base}_{run_id}"
    # The live server's request threads would otherwise keep their connections open, and
    # the test database could not be dropped at the end of the run.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """A fast hasher in tests: Argon2 is slow on purpose, and no test is about the hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_reference_data() -> None:
    """Load what the data migrations load; a transactional test starts from empty tables."""
    from django.apps import apps

    from apu.models import Municipality
    from apu.municipalities import ensure_region_municipalities
    from referrals.models import DiagnosisCode

    ensure_region_municipalities(Municipality)
    from evaluation.models import ItemLabel
    from modules.models import Module, NoShowReason

    data_migrations = [
        (DiagnosisCode, "referrals.migrations.0002_icd10_f_chapter_and_code_lists"),
        (Module, "modules.migrations.0002_treatment_menu"),
        (NoShowReason, "modules.migrations.0003_no_show_reasons"),
        (ItemLabel, "evaluation.migrations.0002_item_labels"),
    ]
    for model, migration in data_migrations:
        if not model.objects.exists():
            importlib.import_module(migration).load(apps, None)


@pytest.fixture
def reference_data(transactional_db) -> None:
    load_reference_data()


@pytest.fixture
def clinician(db) -> User:
    return UserFactory(username="clinician", role=User.Role.CLINICIAN)


@pytest.fixture
def coordinator_ballerup(db) -> User:
    return CoordinatorFactory(username="coord-ballerup", municipality=municipality("151"))


@pytest.fixture
def coordinator_gladsaxe(db) -> User:
    return CoordinatorFactory(username="coord-gladsaxe", municipality=municipality("159"))


@pytest.fixture
def researcher(db) -> User:
    return UserFactory(username="researcher", role=User.Role.RESEARCHER)


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(username="the-admin", role=User.Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def anonymous(client):
    """A visitor who has not logged in."""
    return client


@pytest.fixture
def client_for(client):
    """Log ``client`` in as a user; returns the client."""

    def login(user: User):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def log_in(client):
    """Log in through the real login form, as a person does; returns the form's response.

    Going through the form (not ``force_login``) lets django-axes and the 2FA step see it.
    """

    def post(username: str, password: str = TEST_PASSWORD, *, via=None):
        data = {"username": username, "password": password}
        return (via or client).post(reverse("apu:login"), data)

    return post


@pytest.fixture
def without_two_factor(settings):
    """REQUIRE_2FA off, whatever the environment says, for tests about something else."""
    settings.REQUIRE_2FA = False
