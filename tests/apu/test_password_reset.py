"""Password reset by e-mail, without telling a stranger which addresses have an account."""

import re

import pytest
from django.test import Client

from apu.models import User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

RESET = "/password-reset/"
SENT = "/password-reset/sent/"
LINK = re.compile(r"http://testserver(/password-reset/[\w-]+/[\w-]+/)")
NEW_PASSWORD = "a-long-new-password-for-apu"


@pytest.fixture
def people(db):
    UserFactory(username="known", email="known@example.org")
    UserFactory(username="gone", email="gone@example.org", is_active=False)
    not_yet_set = UserFactory(username="new", email="new@example.org")
    not_yet_set.set_unusable_password()
    not_yet_set.save()


@pytest.mark.parametrize(
    "email,sent_to",
    [
        ("known@example.org", ["known@example.org"]),
        ("KNOWN@example.org", ["known@example.org"]),
        ("nobody@example.org", []),
        ("gone@example.org", []),
        # A new user sets the first password from the admin's set-password e-mail instead.
        ("new@example.org", []),
    ],
    ids=["known", "known-other-case", "unknown", "deactivated", "password-never-set"],
)
def test_every_address_gets_the_same_answer_and_only_a_known_one_gets_mail(
    anonymous, people, mailoutbox, email, sent_to
):
    assert mailoutbox == []

    response = anonymous.post(RESET, {"email": email}, follow=True)

    assert response.redirect_chain == [(SENT, 302)]
    assert "registration/password_reset_done.html" in [t.name for t in response.templates]
    assert "Tjek din e-mail" in response.content.decode()
    assert [message.to for message in mailoutbox] == ([sent_to] if sent_to else [])


def test_the_reset_link_replaces_the_password(anonymous, people, mailoutbox, log_in):
    anonymous.post(RESET, {"email": "known@example.org"})
    link = LINK.search(mailoutbox[0].body)[1]

    form_page = anonymous.get(link, follow=True)
    anonymous.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    user = User.objects.get(username="known")
    assert not user.check_password(TEST_PASSWORD)
    assert user.check_password(NEW_PASSWORD)
    assert log_in("known", TEST_PASSWORD, via=Client()).status_code == 200  # refused
    assert log_in("known", NEW_PASSWORD, via=Client()).url == "/"


def test_the_reset_link_works_only_once(anonymous, people, mailoutbox):
    anonymous.post(RESET, {"email": "known@example.org"})
    link = LINK.search(mailoutbox[0].body)[1]
    form_page = anonymous.get(link, follow=True)
    assert form_page.context["validlink"] is True
    anonymous.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    again = Client().get(link, follow=True)

    assert again.context["validlink"] is False
