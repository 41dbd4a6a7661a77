"""Saves from a page opened before someone else changed the record: deciding a referral,
discharging a course, ticking an agreed action. The stale save is refused, nothing is
written, what was typed is kept, and saving again after looking goes through
(issue 8, lost updates; apu.versioning)."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.messages import ERROR, get_messages
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from apu.models import User
from apu.versioning import FORM_OUT_OF_DATE, STALE_RECORD
from coordination.models import Action, Discharge, Meeting
from coordination.services import (
    ALREADY_DISCHARGED,
    ActionInput,
    add_extra_meeting,
    decide_and_plan,
    discharge_course,
    set_action_done,
)
from referrals.models import Course, Decision, Referral
from referrals.services import NOT_OPEN, screen_referral
from tests.coordination.conftest import TODAY
from tests.coordination.factories import hold, meeting_of, register
from tests.factories import UserFactory
from tests.referrals.page_factories import seen_now

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

HTMX = {"HX-Request": "true"}
REASON = "Borgeren ønsker behandling i kommunen; aftalt med rusmiddelcentret."


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


def seen_in(html: str, within: str = "") -> str:
    """The fingerprint carried by the first form (or row) whose opening tag has ``within``."""
    start = html.index(within) if within else 0
    return re.search(r'name="seen" value="([^"]*)"', html[start:]).group(1)


def textarea(html: str, name: str) -> str:
    return re.search(rf'<textarea name="{name}"[^>]*>\n?(.*?)</textarea>', html, re.DOTALL).group(1)


def errors_shown(response) -> str:
    """The page's text and its error messages (a redirect carries them to the next page)."""
    texts = [str(m) for m in get_messages(response.wsgi_request) if m.level >= ERROR]
    return " ".join(texts) + response.content.decode()


def snapshot() -> dict:
    """Every row (and history row) the three forms could write: a refusal leaves it as it was."""
    models = (Referral, Decision, Course, Meeting, Discharge, Action)
    rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in models}
    for model in (Referral, Course, Meeting, Action):
        rows[f"{model.__name__} history"] = model.history.count()
    return rows


@pytest.fixture
def second_clinician(db) -> User:
    return UserFactory(username="clinician-2", role=User.Role.CLINICIAN)


@dataclass
class World:
    """Bodil's course (awaiting its intake meeting) with a held extra meeting and its one
    open action, and Rikke's screened, eligible referral awaiting a decision."""

    course: Course
    action: Action
    referral: Referral


@pytest.fixture
def world(clinician, coordinator_ballerup, ballerup_course) -> World:
    extra = add_extra_meeting(ballerup_course, by=clinician, due_date=TODAY - timedelta(days=1))
    hold(
        extra,
        by=coordinator_ballerup,
        actions=(ActionInput("Opdatere handleplanen", "municipality", "Kim"),),
    )
    return World(
        course=ballerup_course,
        action=Action.objects.get(),
        referral=register(clinician, name="Rikke Ribe"),
    )


# --- Deciding a referral ----------------------------------------------------------------------


def decide_url(referral: Referral) -> str:
    return reverse("coordination:decide_referral", args=[referral.pk])


def opened_decision(client: Client, referral: Referral) -> str:
    """Open the referral page; the fingerprint its decision form carries."""
    page = client.get(reverse("referrals:referral_detail", args=[referral.pk])).content.decode()
    return seen_in(page, f'action="{decide_url(referral)}"')


def test_a_decision_from_before_a_new_screening_is_refused_and_saves_once_looked_at(
    clinician, second_clinician, world, time_machine
):
    referral = world.referral
    client = logged_in(clinician)
    opened = opened_decision(client, referral)
    # A colleague screens the referral again a little later: the decision was made on the
    # screening as it stood when the page was opened.
    time_machine.shift(timedelta(minutes=2))
    screen_referral(
        referral, by=second_clinician, mental_severity="lower", substance_severity="lower"
    )
    before = snapshot()

    refused = client.post(
        decide_url(referral), {"kind": "reject", "reason": REASON, "seen": opened}
    )

    assert refused.status_code == 400
    page = refused.content.decode()
    assert shown(STALE_RECORD) in page
    assert textarea(page, "reason") == escape(REASON)
    assert re.search(r'name="kind" value="reject"[^>]*\bchecked\b', page)
    assert refused.context["screening"].screened_by == second_clinician
    assert snapshot() == before

    carried = seen_in(page, f'action="{decide_url(referral)}"')
    assert carried == seen_now(referral) != opened
    again = client.post(decide_url(referral), {"kind": "reject", "reason": REASON, "seen": carried})

    assert again.status_code == 302
    assert again["Location"] == reverse("referrals:referral_letter", args=[referral.pk])
    decision = Decision.objects.get(referral=referral)
    assert (decision.kind, decision.reason, decision.decided_by) == ("reject", REASON, clinician)


def test_a_decision_on_a_referral_decided_meanwhile_is_refused_and_shows_the_typed_reason(
    clinician, second_clinician, world, time_machine
):
    referral = world.referral
    client = logged_in(clinician)
    opened = opened_decision(client, referral)
    time_machine.shift(timedelta(minutes=2))
    decide_and_plan(referral, by=second_clinician, kind=Decision.Kind.ACCEPT)
    before = snapshot()

    refused = client.post(
        decide_url(referral), {"kind": "reject", "reason": REASON, "seen": opened}
    )

    assert refused.status_code == 400
    page = refused.content.decode()
    assert shown(NOT_OPEN, status=Referral.Status.ACCEPTED.label) in page
    # The decision form is gone (the referral is decided), but the typed reason is not lost.
    assert f'action="{decide_url(referral)}"' not in page
    assert escape(REASON) in page
    assert snapshot() == before
    assert Decision.objects.get(referral=referral).decided_by == second_clinician


# --- Discharging a course ---------------------------------------------------------------------


def discharge_url(course: Course) -> str:
    return reverse("coordination:discharge", args=[course.pk])


DISCHARGE_TYPED = {
    "date": TODAY.isoformat(),
    "kind": "dropped_out",
    "reason": "Borgeren ønskede at stoppe efter fire uger.",
    "meeting_not_held_reason": "Borgeren kom ikke til afslutningsmødet.",
}


def move_planned_end(course: Course, by: User) -> None:
    """The planned end moved on, as the admin saves it."""
    course = Course.objects.get(pk=course.pk)
    course.planned_end += timedelta(weeks=4)
    course.save()


def hold_intake(course: Course, by: User) -> None:
    """The intake meeting held: the course is in treatment now."""
    hold(meeting_of(course), by=by)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(move_planned_end, id="planned-end-moved"),
        pytest.param(hold_intake, id="intake-held"),
    ],
)
def test_a_discharge_from_before_the_course_changed_is_refused_and_saves_once_looked_at(
    clinician, coordinator_ballerup, world, time_machine, change
):
    course = world.course
    client = logged_in(clinician)
    opened = seen_in(client.get(discharge_url(course)).content.decode())
    time_machine.shift(timedelta(minutes=2))
    change(course, coordinator_ballerup)
    now_saved = Course.objects.get(pk=course.pk)
    before = snapshot()

    refused = client.post(discharge_url(course), DISCHARGE_TYPED | {"seen": opened})

    page = refused.content.decode()
    assert shown(STALE_RECORD) in page
    assert textarea(page, "reason") == escape(DISCHARGE_TYPED["reason"])
    assert textarea(page, "meeting_not_held_reason") == escape(
        DISCHARGE_TYPED["meeting_not_held_reason"]
    )
    assert re.search(r'name="kind" value="dropped_out"[^>]*\bchecked\b', page)
    # The course is shown as saved now, so the refusal can be checked against it.
    assert f"{now_saved.planned_end:%d.%m.%Y}" in page
    assert shown(now_saved.get_status_display()) in page
    assert snapshot() == before

    carried = seen_in(page, "<form")
    assert carried == seen_now(course) != opened
    again = client.post(discharge_url(course), DISCHARGE_TYPED | {"seen": carried})

    assert again.status_code == 302
    assert again["Location"] == reverse("course_detail", args=[course.pk])
    assert Course.objects.get(pk=course.pk).status == Course.Status.DISCHARGED
    assert Discharge.objects.get(course=course).reason == DISCHARGE_TYPED["reason"]


def test_a_discharge_of_a_course_discharged_meanwhile_is_refused_and_keeps_the_reason(
    clinician, second_clinician, world, time_machine
):
    course = world.course
    client = logged_in(clinician)
    opened = seen_in(client.get(discharge_url(course)).content.decode())
    time_machine.shift(timedelta(minutes=2))
    discharge_course(
        course, by=second_clinician, date=TODAY, kind="other", meeting_not_held_reason="Flyttet."
    )
    before = snapshot()

    refused = client.post(discharge_url(course), DISCHARGE_TYPED | {"seen": opened})

    page = refused.content.decode()
    assert shown(ALREADY_DISCHARGED) in page
    assert textarea(page, "reason") == escape(DISCHARGE_TYPED["reason"])
    assert snapshot() == before
    assert Discharge.objects.get(course=course).recorded_by == second_clinician


# --- Ticking an agreed action -----------------------------------------------------------------


def action_url(action: Action) -> str:
    return reverse("coordination:action_done", args=[action.pk])


def meeting_page(client: Client, action: Action) -> str:
    url = reverse("coordination:meeting_detail", args=[action.meeting_id])
    return client.get(url).content.decode()


def row_of(html: str, action: Action) -> str:
    return re.search(rf'<tr id="action-{action.pk}">.*?</tr>', html, re.DOTALL).group(0)


def tick_first(action: Action, by: User) -> None:
    """Someone else ticks it done first."""
    set_action_done(action, by=by, done=True)


def reword(action: Action, by: User) -> None:
    """Someone else rewords it (the admin)."""
    action = Action.objects.get(pk=action.pk)
    action.what = "Opdatere handleplanen med rusmiddelcentret"
    action.save()


@pytest.mark.parametrize(
    "change",
    [pytest.param(tick_first, id="ticked-meanwhile"), pytest.param(reword, id="reworded")],
)
@pytest.mark.parametrize("htmx", [pytest.param(True, id="htmx"), pytest.param(False, id="plain")])
def test_a_tick_from_a_stale_row_is_refused_and_the_row_shows_the_action_as_saved(
    clinician, coordinator_ballerup, world, change, htmx
):
    action = world.action
    client = logged_in(clinician)
    opened = seen_in(row_of(meeting_page(client, action), action))
    change(action, coordinator_ballerup)
    saved = Action.objects.get(pk=action.pk)
    before = snapshot()

    refused = client.post(
        action_url(action), {"done": "1", "seen": opened}, headers=HTMX if htmx else {}
    )

    if htmx:
        assert refused.status_code == 400
        row = refused.content.decode().strip()
        assert row.startswith(f'<tr id="action-{action.pk}">') and "<html" not in row
    else:
        assert refused.status_code == 302
        assert refused["Location"] == reverse(
            "coordination:meeting_detail", args=[action.meeting_id]
        )
        row = row_of(meeting_page(client, action), action)
    assert shown(STALE_RECORD) in errors_shown(refused)
    # The row as saved now: its wording, its tick, and its fingerprint.
    assert escape(saved.what) in row
    assert f'aria-pressed="{str(saved.done).lower()}"' in row
    carried = seen_in(row)
    assert carried == seen_now(action) != opened
    assert snapshot() == before

    offered = re.search(r'name="done" value="([01])"', row).group(1)
    again = client.post(
        action_url(action), {"done": offered, "seen": carried}, headers=HTMX if htmx else {}
    )

    assert again.status_code == (200 if htmx else 302)
    assert Action.objects.get(pk=action.pk).done is (offered == "1")


# --- Any of the forms without the record as shown -------------------------------------------


@dataclass(frozen=True)
class Form:
    url: object  # World -> URL
    data: dict
    headers: dict
    status: int


FORMS = [
    pytest.param(Form(lambda w: decide_url(w.referral), {"kind": "accept"}, {}, 400), id="decide"),
    pytest.param(Form(lambda w: discharge_url(w.course), DISCHARGE_TYPED, {}, 200), id="discharge"),
    pytest.param(Form(lambda w: action_url(w.action), {"done": "1"}, {}, 302), id="tick"),
    pytest.param(Form(lambda w: action_url(w.action), {"done": "1"}, HTMX, 400), id="tick-htmx"),
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    "seen", [pytest.param(None, id="without-seen"), pytest.param("", id="empty-seen")]
)
def test_a_save_without_the_record_as_shown_is_refused_as_out_of_date(clinician, world, form, seen):
    before = snapshot()
    data = form.data if seen is None else form.data | {"seen": seen}

    response = logged_in(clinician).post(form.url(world), data, headers=form.headers)

    assert response.status_code == form.status
    assert shown(FORM_OUT_OF_DATE) in errors_shown(response)
    assert snapshot() == before
