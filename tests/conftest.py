"""Personas and shared fixtures."""

import os

import pytest

from apu.models import User
from tests.factories import CoordinatorFactory, UserFactory, municipality


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
