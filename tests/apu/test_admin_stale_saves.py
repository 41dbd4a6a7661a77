"""The Django admin refuses a stale save (issue 8, lost updates), form by form: a change form
opened, the row saved by someone else meanwhile, then the admin's save is refused with an error
above the form, the row stays as the other person saved it, what the admin typed is kept, and
saving again from the page now shown goes through. Inline rows, the history's revert page and
the version of rows the site's own forms check are covered below.

The rows are the access matrix's clinic (tests/access_data.py): one real row of every model the
admin offers, all of Ballerup citizens; the admin has a device and a verified session.
"""

from datetime import date
from http.cookies import SimpleCookie

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import override as language

from apu.admin_versioning import DIFFERS_NOW, RefusesStaleSaves
from apu.versioning import FORM_OUT_OF_DATE, STALE_RECORD, fingerprint
from coordination.models import Action
from evaluation.models import ImprovementNote
from tests.access_data import NOW, AccessData, built_for_module
from tests.apu.form_fuzzing import forms_of

pytestmark = pytest.mark.django_db

SESSION_COOKIE = django_settings.SESSION_COOKIE_NAME


@pytest.fixture(scope="module")
def clinic(django_db_setup, django_db_blocker) -> AccessData:
    """The clinic in a transaction rolled back after the module; each test in a savepoint."""
    with built_for_module(django_db_blocker) as data:
        yield data


@pytest.fixture(autouse=True)
def as_in_production(settings, time_machine):
    """Two-factor required, as in production; the clinic's clock."""
    settings.REQUIRE_2FA = True
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def browser(clinic) -> Client:
    """The admin's browser, logged in and past the second factor."""
    client = Client()
    client.cookies = SimpleCookie({SESSION_COOKIE: clinic.sessions["admin"]})
    return client


# One row per admin change form that refuses a stale save: a field the admin types in, what
# they type, what someone else saved in the same field meanwhile, and the value the admin's
# save leaves once it goes through. The same field, so a lost update would be plain to see.
STALE_FORMS = [
    ("apu.municipality", "name", "Ballerup (skrevet)", "Ballerup (andre)", None),
    ("referrals.patient", "address", "Skrevet Vej 1", "Andres Vej 2", None),
    ("referrals.referral", "referrer_name", "Skrevet Henviser", "Anden Henviser", None),
    ("referrals.diagnosiscode", "title_en", "Typed title", "Someone's title", None),
    ("referrals.coderule", "note", "Skrevet note", "Andres note", None),
    ("referrals.course", "planned_end", "2026-09-30", date(2026, 9, 1), date(2026, 9, 30)),
    ("coordination.meeting", "place", "Skrevet lokale", "Andres lokale", None),
    ("coordination.action", "person", "Skrevet Person", "Anden Person", None),
    ("coordination.discharge", "reason", "Skrevet grund", "Andres grund", None),
    ("modules.module", "description", "Skrevet beskrivelse", "Andres beskrivelse", None),
    ("modules.group", "room", "Skrevet rum", "Andres rum", None),
    ("modules.session", "room", "Skrevet sal", "Andres sal", None),
    ("modules.enrolment", "ends_on", "2026-06-30", date(2026, 6, 1), date(2026, 6, 30)),
    (
        "modules.waitinglistentry",
        "wanted_from",
        "2026-04-20",
        date(2026, 4, 6),
        date(2026, 4, 20),
    ),
    ("modules.attendance", "status", "absent_notice", "no_show", None),
    ("modules.noshowreason", "name", "Skrevet grund", "Andres grund", None),
    ("modules.appointment", "duration_minutes", "45", 30, 45),
    ("modules.caseformulation", "actions", "Skrevne handlinger", "Andres handlinger", None),
    ("modules.treatmentplan", "goals", "Skrevne mål", "Andres mål", None),
    ("evaluation.itemlabel", "label_en", "Typed label", "Someone's label", None),
    (
        "evaluation.measurement",
        "answered_on",
        "2026-03-16",
        date(2026, 3, 15),
        date(2026, 3, 16),
    ),
    (
        "evaluation.researchconsent",
        "withdrawn_on",
        "2026-03-19",
        date(2026, 3, 18),
        date(2026, 3, 19),
    ),
    ("evaluation.improvementnote", "title", "Skrevet titel", "Andres titel", None),
]
CASES = [pytest.param(*row, id=row[0]) for row in STALE_FORMS]

# Admins that edit something but are not in the table, each with the reason.
NOT_CHECKED = {
    # Its own forms (add, change, password); an account, not a clinical record.
    "apu.user": "account",
    # Written by the login (django-axes), a user's own calendar link, the permissions.
    "axes.accessattempt": "record of logins",
    "axes.accesslog": "record of logins",
    "axes.accessfailurelog": "record of logins",
    "coordination.calendarfeed": "every field read-only",
    "auth.group": "permissions",
    "otp_totp.totpdevice": "a user's device",
}
# Admins that change nothing: written by the services or the access log only.
READ_ONLY = ("apu.accesslog", "referrals.screening", "referrals.decision")


def change_url(row) -> str:
    opts = row._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])


def form_data(html: str) -> dict[str, list[str]]:
    """What a browser submits from the page's change form, unchanged."""
    (form,) = [f for f in forms_of(html) if "seen" in f.by_name()]
    return {f.name: f.current for f in form.fields if f.current}


def seen_in(html: str) -> str:
    return form_data(html)["seen"][0]


def stale_message() -> str:
    with language("da"):
        return escape(str(STALE_RECORD))


def reload(row):
    return type(row)._default_manager.get(pk=row.pk)


def test_every_admin_refuses_stale_saves_or_says_why_not():
    registry = {
        model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()
    }
    checked = {
        label
        for label, model_admin in registry.items()
        if isinstance(model_admin, RefusesStaleSaves)
    }

    assert checked == {row[0] for row in STALE_FORMS}
    assert set(registry) - checked == set(NOT_CHECKED) | set(READ_ONLY)
    assert [label for label in READ_ONLY if registry[label].has_change_permission(None)] == []


@pytest.mark.parametrize("label,field,typed,behind,saved", CASES)
def test_a_stale_save_is_refused_keeping_what_was_typed(
    clinic, browser, label, field, typed, behind, saved
):
    row = clinic.rows[label]
    url = change_url(row)
    page = browser.get(url)
    assert page.status_code == 200
    opened = seen_in(page.content.decode())
    assert opened == fingerprint(reload(row))
    data = form_data(page.content.decode())
    type(row)._default_manager.filter(pk=row.pk).update(**{field: behind})

    refused = browser.post(url, {**data, field: typed})

    assert refused.status_code == 200
    html = refused.content.decode()
    assert stale_message() in html
    assert getattr(reload(row), field) == behind
    form = refused.context["adminform"].form
    assert form[field].value() == typed
    if isinstance(behind, str):
        assert escape(typed) in html
    # The page now carries the row as saved, so saving again after checking goes through.
    now_seen = seen_in(html)
    assert now_seen != opened
    assert now_seen == fingerprint(reload(row))

    again = browser.post(url, form_data(html))

    assert again.status_code == 302
    assert getattr(reload(row), field) == (typed if saved is None else saved)


@pytest.mark.parametrize("label,field,typed,behind,saved", CASES)
def test_a_save_from_the_row_as_it_is_goes_through(
    clinic, browser, label, field, typed, behind, saved
):
    row = clinic.rows[label]
    url = change_url(row)
    page = browser.get(url)
    before = getattr(reload(row), field)

    response = browser.post(url, {**form_data(page.content.decode()), field: typed})

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert before != getattr(reload(row), field) == (typed if saved is None else saved)


def test_the_change_page_keeps_its_history_button_and_one_fingerprint(clinic, browser):
    html = browser.get(change_url(clinic.rows["referrals.patient"])).content.decode()

    assert 'class="historylink"' in html
    assert html.count('name="seen"') == 1


def test_a_save_without_the_fingerprint_is_refused_as_out_of_date(clinic, browser):
    row = clinic.rows["referrals.patient"]
    url = change_url(row)
    data = form_data(browser.get(url).content.decode())
    del data["seen"]

    response = browser.post(url, {**data, "address": "Uden Fingeraftryk 3"})

    assert response.status_code == 200
    with language("da"):
        assert escape(str(FORM_OUT_OF_DATE)) in response.content.decode()
    assert reload(row).address != "Uden Fingeraftryk 3"


def test_the_refusal_names_the_fields_that_differ_from_what_is_saved(clinic, browser):
    row = clinic.rows["coordination.meeting"]
    url = change_url(row)
    data = form_data(browser.get(url).content.decode())
    type(row).objects.filter(pk=row.pk).update(summary="Andres referat")

    response = browser.post(url, data)

    form = response.context["adminform"].form
    with language("da"):
        label = str(form["summary"].label)
        expected = str(DIFFERS_NOW % {"fields": label})
    assert expected in [str(message) for message in form.non_field_errors()]


def test_an_add_form_needs_no_fingerprint(clinic, browser):
    url = reverse("admin:evaluation_improvementnote_add")
    data = {"date": "2026-03-18", "title": "Ny note", "created_by": clinic.users["admin"].pk}

    response = browser.post(url, data)

    assert response.status_code == 302
    assert ImprovementNote.objects.filter(title="Ny note").exists()


# --- Rows with a version number the site's forms check ------------------------------------------


@pytest.mark.parametrize(
    "label,field,typed",
    [
        ("coordination.meeting", "place", "Nyt lokale"),
        ("modules.caseformulation", "actions", "Nye handlinger"),
        ("modules.treatmentplan", "goals", "Nye mål"),
    ],
)
def test_an_admin_edit_gives_a_new_version(clinic, browser, label, field, typed):
    row = clinic.rows[label]
    url = change_url(row)
    version = reload(row).version
    data = form_data(browser.get(url).content.decode())
    assert "version" not in data  # shown, not edited

    response = browser.post(url, {**data, field: typed})

    assert response.status_code == 302
    assert reload(row).version == version + 1


# --- Inline rows: a meeting's actions -----------------------------------------------------------


def action_prefix(data: dict, action: Action) -> str:
    """The inline row's prefix ("action_set-0") of ``action`` in the posted form."""
    (name,) = [
        name for name, value in data.items() if name.endswith("-id") and value == [str(action.pk)]
    ]
    return name.removesuffix("-id")


def test_a_stale_inline_row_is_refused_keeping_what_was_typed(clinic, browser):
    meeting = clinic.rows["coordination.meeting"]
    action = clinic.rows["coordination.action"]
    url = change_url(meeting)
    data = form_data(browser.get(url).content.decode())
    prefix = action_prefix(data, action)
    Action.objects.filter(pk=action.pk).update(person="Anden Person")

    refused = browser.post(url, {**data, f"{prefix}-person": "Skrevet Person"})

    assert refused.status_code == 200
    html = refused.content.decode()
    assert stale_message() in html
    assert reload(action).person == "Anden Person"
    assert 'value="Skrevet Person"' in html

    again = browser.post(url, form_data(html))

    assert again.status_code == 302
    assert reload(action).person == "Skrevet Person"


def test_an_inline_row_changed_elsewhere_and_left_alone_here_is_refused_too(clinic, browser):
    # The formset compares the page's values with the row as saved now: it would write the
    # page's old values back over the other person's change.
    meeting = clinic.rows["coordination.meeting"]
    action = clinic.rows["coordination.action"]
    url = change_url(meeting)
    data = form_data(browser.get(url).content.decode())
    Action.objects.filter(pk=action.pk).update(person="Anden Person")

    response = browser.post(url, {**data, "place": "Nyt lokale"})

    assert response.status_code == 200
    assert stale_message() in response.content.decode()
    assert reload(action).person == "Anden Person"
    assert reload(meeting).place != "Nyt lokale"


def test_the_inline_rows_not_changed_anywhere_are_not_checked(clinic, browser):
    meeting = clinic.rows["coordination.meeting"]
    action = clinic.rows["coordination.action"]
    url = change_url(meeting)
    data = form_data(browser.get(url).content.decode())
    prefix = action_prefix(data, action)
    data[f"{prefix}-seen"] = ["not the fingerprint"]

    response = browser.post(url, {**data, "place": "Nyt lokale"})

    assert response.status_code == 302
    assert reload(meeting).place == "Nyt lokale"


def test_deleting_a_stale_inline_row_is_refused(clinic, browser):
    meeting = clinic.rows["coordination.meeting"]
    action = clinic.rows["coordination.action"]
    url = change_url(meeting)
    data = form_data(browser.get(url).content.decode())
    prefix = action_prefix(data, action)
    Action.objects.filter(pk=action.pk).update(done=True)

    response = browser.post(url, {**data, f"{prefix}-DELETE": "on"})

    assert response.status_code == 200
    assert stale_message() in response.content.decode()
    assert Action.objects.filter(pk=action.pk).exists()


# --- The history's revert page ------------------------------------------------------------------


def revert_url(row) -> str:
    opts = row._meta
    first = row.history.order_by("history_id").first()
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[row.pk, first.history_id]
    )


def test_a_revert_from_the_row_as_it_is_goes_through(clinic, browser):
    row = clinic.rows["coordination.meeting"]
    version = reload(row).version
    url = revert_url(row)
    data = form_data(browser.get(url).content.decode())
    assert data["seen"] == [fingerprint(reload(row))]

    response = browser.post(url, data)

    assert response.status_code == 302
    # Counted on from the version saved now, not the old version the page shows.
    assert reload(row).version == version + 1


def test_a_stale_revert_is_refused(clinic, browser):
    row = clinic.rows["coordination.meeting"]
    url = revert_url(row)
    data = form_data(browser.get(url).content.decode())
    type(row).objects.filter(pk=row.pk).update(place="Andres lokale")

    refused = browser.post(url, data)

    assert refused.status_code == 200
    assert stale_message() in refused.content.decode()
    assert reload(row).place == "Andres lokale"

    again = browser.post(url, form_data(refused.content.decode()))

    assert again.status_code == 302
    assert reload(row).place != "Andres lokale"
