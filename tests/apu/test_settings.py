"""Settings fail fast in production and turn the security settings on by themselves."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# A server nobody listens on: settings must never start the embedded database here.
DUMMY_DATABASE_URL = "postgres://x@127.0.0.1:1/x"
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(60)[:60],
    "ALLOWED_HOSTS": "apu.example.org",
    "DATABASE_URL": DUMMY_DATABASE_URL,
    "RESEARCH_PSEUDONYM_KEY": secrets.token_urlsafe(40),
}
# Variables of this test process that a production server does not have.
OVERRIDES = [
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "REQUIRE_2FA",
    # Set in this process by the browser tests' conftest; a production server never has it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
]


def run_python(*args: str, **environment: str) -> subprocess.CompletedProcess:
    """Run the project's Python in the repository root with ``environment`` on top of ours."""
    env = {key: value for key, value in os.environ.items() if key not in OVERRIDES}
    env.update(environment, DJANGO_SETTINGS_MODULE="apu.settings")
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_without(name: str) -> dict[str, str]:
    # An empty value rather than a missing one, so a developer's .env cannot fill it in
    # (django-environ never overwrites a variable that is already set).
    return {**PRODUCTION, name: ""}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_required_setting(missing):
    result = run_python("-c", "import django; django.setup()", **production_without(missing))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set in the environment when DEBUG is off" in result.stderr


def test_production_starts_when_every_required_setting_is_given():
    result = run_python("-c", "import django; django.setup()", **PRODUCTION)

    assert result.returncode == 0, result.stderr


def test_deploy_check_passes_with_production_values():
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


SHOW_SECURITY_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({
    name: getattr(settings, name)
    for name in [
        "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "REQUIRE_2FA",
    ]
}))
"""


def test_production_defaults_to_secure_cookies_hsts_ssl_redirect_and_two_factor():
    result = run_python("-c", SHOW_SECURITY_SETTINGS, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 60 * 60 * 24 * 365,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "REQUIRE_2FA": True,
    }


def test_development_runs_without_tls_so_runserver_works_over_http():
    result = run_python("-c", SHOW_SECURITY_SETTINGS, DEBUG="true", DATABASE_URL=DUMMY_DATABASE_URL)

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["SESSION_COOKIE_SECURE"] is False
    assert shown["SECURE_SSL_REDIRECT"] is False
    assert shown["SECURE_HSTS_SECONDS"] == 0
