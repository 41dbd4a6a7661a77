"""Each demo user logs in with a real browser and sees the navigation of their role."""

import os

import pytest
from django.core.management import call_command

from apu.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_users(settings, reference_data):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = ""
    call_command("seed_demo", "--users-only", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.DEBUG = False


def log_in(page, username: str) -> None:
    page.goto("/")
    assert page.url.endswith("/login/?next=/")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(DEFAULT_DEMO_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/")


@pytest.mark.parametrize(
    "username,sees_admin_link,role_text",
    [
        ("admin", True, "Administrator"),
        ("klinik", False, "Kliniker"),
        ("forsker", False, "Forsker"),
        ("koordinator-ballerup", False, "Ballerup"),
        ("koordinator-lyngby-taarbaek", False, "Lyngby-Taarbæk"),
    ],
)
def test_demo_user_logs_in_and_sees_role_navigation(
    page, demo_users, username, sees_admin_link, role_text
):
    log_in(page, username)
    nav = page.get_by_role("navigation", name="Hoved")
    assert role_text in nav.inner_text()
    assert (nav.get_by_role("link", name="Administration").count() == 1) is sees_admin_link
    screenshot(page, f"home-{username}")

    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url("**/login/")
    assert page.get_by_role("heading", name="Log ind").is_visible()


def test_wrong_password_shows_a_clear_message_and_stays_on_login(page, demo_users):
    page.goto("/login/")
    page.get_by_label("Brugernavn").fill("klinik")
    page.get_by_label("Adgangskode").fill("not-the-password")
    page.get_by_role("button", name="Log ind").click()
    assert page.get_by_role("alert").is_visible()
    assert "/login/" in page.url
    screenshot(page, "login-error")


def test_language_switch_to_english_and_back(page, demo_users):
    page.goto("/login/")
    assert page.get_by_role("heading", name="Log ind").is_visible()
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="Log in").is_visible()
    screenshot(page, "login-english")
    page.get_by_role("button", name="Dansk").click()
    assert page.get_by_role("heading", name="Log ind").is_visible()


def test_skip_link_moves_focus_to_main_content(page, demo_users):
    page.goto("/password-reset/sent/")  # a page without an autofocused field
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Spring til indhold")
    assert skip.evaluate("el => el === document.activeElement")
    skip.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
