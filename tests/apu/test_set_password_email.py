"""An admin creates a user without a password; the user chooses one from an e-mailed link."""

import re

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from apu.models import User
from tests.factories import municipality

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

ADD_USER = "/admin/apu/user/add/"
LINK = re.compile(r"http://testserver(/password-reset/[\w-]+/[\w-]+/)")
NEW_PASSWORD = "a-long-new-password-for-apu"


def new_user_form(**changes) -> dict:
    form = {
        "username": "new-nurse",
        "first_name": "Nina",
        "last_name": "Nielsen",
        "email": "nina@example.org",
        "role": User.Role.CLINICIAN,
        "municipality": "",
        "_save": "Save",
    }
    return {**form, **changes}


def test_a_new_user_gets_an_unusable_password_and_one_set_password_email(
    client_for, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(admin_user)
    assert not User.objects.filter(username="new-nurse").exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(ADD_USER, new_user_form())
        # The e-mail waits for the commit, so a rolled-back user is never e-mailed.
        assert mailoutbox == []

    assert response.status_code == 302
    assert len(callbacks) == 1
    user = User.objects.get(username="new-nurse")
    assert (user.role, user.email, user.is_staff) == (
        User.Role.CLINICIAN,
        "nina@example.org",
        False,
    )
    assert not user.has_usable_password()
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["nina@example.org"]
    assert "new-nurse" in email.body
    # One link, shown once in the Danish and once in the English half of the e-mail.
    assert len(set(LINK.findall(email.body))) == 1


def test_the_link_lets_the_new_user_choose_a_password_and_log_in(
    client_for, admin_user, mailoutbox, django_capture_on_commit_callbacks, log_in
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(admin_user).post(ADD_USER, new_user_form())
    link = LINK.search(mailoutbox[0].body)[1]
    newcomer = Client()
    assert log_in("new-nurse", NEW_PASSWORD, via=newcomer).status_code == 200  # refused

    form_page = newcomer.get(link, follow=True)
    assert form_page.context["validlink"] is True
    saved = newcomer.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert (saved.status_code, saved.url) == (302, "/password-reset/done/")
    assert User.objects.get(username="new-nurse").has_usable_password()
    assert log_in("new-nurse", NEW_PASSWORD, via=newcomer).url == "/"
    # The link works once.
    assert Client().get(link, follow=True).context["validlink"] is False


def test_an_admin_created_coordinator_belongs_to_the_chosen_municipality(
    client_for, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    herlev = municipality("163")

    with django_capture_on_commit_callbacks(execute=True):
        client_for(admin_user).post(
            ADD_USER,
            new_user_form(
                username="coord-herlev", role=User.Role.COORDINATOR, municipality=herlev.pk
            ),
        )

    coordinator = User.objects.get(username="coord-herlev")
    assert (coordinator.role, coordinator.municipality) == (User.Role.COORDINATOR, herlev)
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"role": User.Role.COORDINATOR, "municipality": ""}, "municipality"),
        ({"email": ""}, "email"),
    ],
    ids=["coordinator-without-municipality", "no-email-address"],
)
def test_an_incomplete_new_user_is_refused_and_nothing_is_saved_or_sent(
    client_for, admin_user, mailoutbox, django_capture_on_commit_callbacks, changes, field
):
    users_before = User.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(admin_user).post(ADD_USER, new_user_form(**changes))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert User.objects.count() == users_before
    assert callbacks == []
    assert mailoutbox == []


def test_the_database_refuses_a_coordinator_without_municipality():
    with pytest.raises(IntegrityError, match="coordinator_has_municipality"), transaction.atomic():
        User.objects.create(username="lost", role=User.Role.COORDINATOR, municipality=None)

    assert not User.objects.filter(username="lost").exists()
