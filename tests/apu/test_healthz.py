"""The health check answers monitors without a login, and tells when the database is gone."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_answers_ok_without_login(anonymous):
    response = anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok"}
    assert "no-cache" in response["Cache-Control"]


# Transactional: the test closes and reopens the real connection, which the wrapping
# transaction of an ordinary database test would not survive.
@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_when_the_database_cannot_be_reached(anonymous, tmp_path):
    assert anonymous.get("/healthz").status_code == 200

    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}
    try:
        # A socket directory with no server in it: connecting fails at once, for real.
        connection.settings_dict.update(HOST=str(tmp_path), PORT="1")
        connection.close()

        response = anonymous.get("/healthz")
    finally:
        connection.settings_dict.update(saved)
        connection.close()

    assert response.status_code == 503
    assert response.json() == {"database": "unavailable"}
    assert anonymous.get("/healthz").json() == {"database": "ok"}
