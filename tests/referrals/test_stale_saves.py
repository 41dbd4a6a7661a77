"""Two clinicians screening the same referral: the later save, from a page opened before the
first was saved, is refused with the axes it typed kept, and goes through once looked at
(issue 8, lost updates; apu.versioning)."""

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from apu.models import User
from apu.versioning import FORM_OUT_OF_DATE, STALE_RECORD, StaleRecord
from referrals import services
from referrals.models import Decision, Referral, Screening
from tests.factories import UserFactory
from tests.referrals.page_factories import accept, register, reject, seen_now

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]


def shown(message, **params) -> str:
    """``message`` as a page shows it: in Danish (the default language), HTML-escaped."""
    with translation.override("da"):
        text = str(message)
        if params:
            text %= {key: str(value) for key, value in params.items()}
    return escape(text)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def detail_url(referral: Referral) -> str:
    return reverse("referrals:referral_detail", args=[referral.pk])


def screen_url(referral: Referral) -> str:
    return reverse("referrals:referral_screen", args=[referral.pk])


def seen_in(response, action: str) -> str:
    """The fingerprint the page's form posting to ``action`` carries."""
    form = re.search(
        rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>',
        response.content.decode(),
        flags=re.DOTALL,
    )
    return re.search(r'name="seen" value="([^"]*)"', form.group(1)).group(1)


def checked(response, field: str) -> str | None:
    """The radio button of ``field`` the page shows chosen."""
    chosen = re.search(
        rf'<input type="radio" name="{field}" value="(\w+)"[^>]*\bchecked\b',
        response.content.decode(),
    )
    return chosen and chosen.group(1)


def state(referral: Referral) -> tuple:
    """The referral row, its history and its screenings: what a refused save must not touch."""
    return (
        Referral.objects.filter(pk=referral.pk).values().get(),
        referral.history.count(),
        list(Screening.objects.filter(referral=referral).values_list("pk", flat=True)),
        Decision.objects.count(),
    )


@pytest.fixture
def second_clinician(db) -> User:
    return UserFactory(username="clinician-2", role=User.Role.CLINICIAN)


def test_the_later_of_two_screenings_is_refused_keeps_its_axes_and_saves_once_looked_at(
    clinician, second_clinician
):
    referral = register(clinician, axes=None)
    first, second = logged_in(clinician), logged_in(second_clinician)
    # Both open the referral before either screens it.
    seen_first = seen_in(first.get(detail_url(referral)), screen_url(referral))
    seen_second = seen_in(second.get(detail_url(referral)), screen_url(referral))
    assert seen_first == seen_second == seen_now(referral)

    saved = first.post(
        screen_url(referral),
        {"mental_severity": "higher", "substance_severity": "higher", "seen": seen_first},
    )
    assert saved.status_code == 302
    after_first = state(referral)
    assert after_first[0]["status"] == Referral.Status.SCREENED

    refused = second.post(
        screen_url(referral),
        {"mental_severity": "lower", "substance_severity": "lower", "seen": seen_second},
    )

    assert refused.status_code == 400
    assert shown(STALE_RECORD) in refused.content.decode()
    # What the second clinician chose is still chosen; the first one's screening is shown.
    assert (checked(refused, "mental_severity"), checked(refused, "substance_severity")) == (
        "lower",
        "lower",
    )
    assert refused.context["screening"].screened_by == clinician
    assert state(referral) == after_first

    # The refused form carries the referral as saved now: saving again after looking goes through.
    carried = seen_in(refused, screen_url(referral))
    assert carried == seen_now(referral) != seen_second
    again = second.post(
        screen_url(referral),
        {"mental_severity": "lower", "substance_severity": "lower", "seen": carried},
    )

    assert again.status_code == 302
    newest = Referral.objects.get(pk=referral.pk).screenings.first()
    assert (newest.screened_by, newest.quadrant_axes) == (second_clinician, ("lower", "lower"))
    assert Screening.objects.filter(referral=referral).count() == 3


@pytest.mark.parametrize(
    "seen,message",
    [
        pytest.param(None, FORM_OUT_OF_DATE, id="without-seen"),
        pytest.param("", FORM_OUT_OF_DATE, id="empty-seen"),
        pytest.param("a" * 65, FORM_OUT_OF_DATE, id="seen-too-long"),
        pytest.param("0" * 24, STALE_RECORD, id="seen-altered"),
    ],
)
def test_a_screening_without_the_referral_as_shown_is_refused_and_changes_nothing(
    clinician, seen, message
):
    referral = register(clinician, axes=None)
    before = state(referral)
    data = {"mental_severity": "lower", "substance_severity": "higher"}
    if seen is not None:
        data["seen"] = seen

    response = logged_in(clinician).post(screen_url(referral), data)

    assert response.status_code == 400
    assert shown(message) in response.content.decode()
    assert (checked(response, "mental_severity"), checked(response, "substance_severity")) == (
        "lower",
        "higher",
    )
    assert state(referral) == before


DECIDED = [
    pytest.param(accept, Referral.Status.ACCEPTED, id="accepted"),
    pytest.param(reject, Referral.Status.REJECTED, id="rejected"),
]
POSTED = [
    pytest.param({"mental_severity": "lower", "substance_severity": "lower"}, id="both-axes"),
    pytest.param({"mental_severity": "lower"}, id="one-axis"),
    pytest.param({}, id="nothing"),
]


@pytest.mark.parametrize("decide,status", DECIDED)
@pytest.mark.parametrize("posted", POSTED)
def test_screening_a_decided_referral_says_so_whatever_was_posted(
    clinician, decide, status, posted
):
    # The page of a decided referral has no screening form, so a field's error is shown
    # nowhere: the refusal must say itself that the referral is decided.
    referral = register(clinician)
    opened = seen_now(referral)
    referral = decide(referral, clinician)
    before = state(referral)

    response = logged_in(clinician).post(screen_url(referral), posted | {"seen": opened})

    assert response.status_code == 400
    page = response.content.decode()
    assert shown(services.NOT_OPEN, status=status.label) in page
    assert 'role="alert"' in page
    assert f'action="{screen_url(referral)}"' not in page  # no screening form to fill in
    assert state(referral) == before


def test_the_screening_service_refuses_an_older_fingerprint_and_takes_none(clinician):
    referral = register(clinician, axes=None)
    opened = seen_now(referral)
    services.screen_referral(
        referral, by=clinician, mental_severity="higher", substance_severity="lower", seen=opened
    )
    before = state(referral)

    with pytest.raises(StaleRecord) as refused, transaction.atomic():
        services.screen_referral(
            referral, by=clinician, mental_severity="lower", substance_severity="lower", seen=opened
        )

    assert refused.value.code == "stale"
    assert refused.value.seen == seen_now(referral)
    assert state(referral) == before
    # Demo data and commands pass no fingerprint: no check.
    services.screen_referral(
        referral, by=clinician, mental_severity="lower", substance_severity="lower"
    )
    assert Screening.objects.filter(referral=referral).count() == 3
