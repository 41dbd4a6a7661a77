"""The coordination pages as each persona meets them: who may open or post what, what each
page changes and shows, the access log, and a fixed number of queries per page."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from apu.models import AccessLog, User
from coordination.models import Action, CalendarFeed, Discharge, Meeting
from coordination.services import (
    CLOSED_COURSE,
    DISCHARGE_MEETING_FIRST,
    ActionInput,
    add_extra_meeting,
    renew_calendar_feed,
)
from referrals.models import Course, Decision, Patient, Referral
from referrals.pagination import PAGE_SIZE
from tests.coordination.conftest import TODAY
from tests.coordination.factories import (
    GLADSAXE,
    accepted_course,
    at,
    hold,
    meeting_of,
    register,
    schedule,
)
from tests.referrals.page_factories import seen_now

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

LOGIN = reverse("apu:login")
INTAKE_AT = at(TODAY + timedelta(days=5), 13)


def shown(message) -> str:
    """``message`` (a msgid or a lazy constant) as a page shows it: in Danish, HTML-escaped."""
    with translation.override("da"):
        return escape(translation.gettext(str(message)))


def text(response) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@dataclass
class World:
    """A Ballerup citizen's course with its intake meeting scheduled, a held extra meeting
    with one open action, an open referral of another Ballerup citizen, and calendar feeds."""

    course: Course
    intake: Meeting
    action: Action
    referral: Referral
    feed_token: str


@pytest.fixture
def world(clinician, coordinator_ballerup, coordinator_gladsaxe, now) -> World:
    course = accepted_course(clinician, name="Bodil Ballerup")
    intake = schedule(meeting_of(course), by=clinician, when=INTAKE_AT, place="APU, lokale 2")
    extra = add_extra_meeting(course, by=clinician, due_date=TODAY - timedelta(days=1))
    hold(
        extra,
        by=coordinator_ballerup,
        actions=(ActionInput("Opdatere handleplanen", "municipality", "Kim"),),
    )
    referral = register(clinician, name="Rikke Ribe")
    for user in (clinician, coordinator_ballerup, coordinator_gladsaxe):
        renew_calendar_feed(user)
    return World(
        course=course,
        intake=intake,
        action=Action.objects.get(),
        referral=referral,
        feed_token=CalendarFeed.objects.get(user=coordinator_ballerup).token,
    )


def snapshot() -> dict:
    """Everything a coordination page could write, to prove a refused request wrote nothing."""
    return {
        "meetings": list(Meeting.objects.order_by("pk").values()),
        "actions": list(Action.objects.order_by("pk").values()),
        "staff": list(Meeting.clinic_staff.through.objects.order_by("pk").values()),
        "courses": list(Course.objects.order_by("pk").values()),
        "discharges": list(Discharge.objects.values()),
        "decisions": list(Decision.objects.values()),
        "referrals": list(Referral.objects.order_by("pk").values("pk", "status")),
        "feeds": list(CalendarFeed.objects.order_by("pk").values("user", "token")),
    }


def outcome_post(version: int, summary: str, actions: tuple[tuple[str, str], ...] = ()) -> dict:
    """The outcome form as the browser posts it; ``actions`` fill the first rows."""
    data = {
        "version": version,
        "status": "held",
        "patient_present": "yes",
        "patient_accepted_plan": "",
        "other_participants": "Borgerens mentor",
        "summary": summary,
        "action_plan_status": "exists",
        "action_plan_date": (TODAY - timedelta(days=40)).isoformat(),
        "action_plan_summary": "Stabilt boligforhold og samtaler i rusmiddelcentret.",
        "plan_fit": "Planerne supplerer hinanden.",
        "next_meeting_date": (TODAY + timedelta(weeks=12)).isoformat(),
        "actions-TOTAL_FORMS": "3",
        "actions-INITIAL_FORMS": "0",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "20",
    }
    for index in range(3):
        what, responsible = actions[index] if index < len(actions) else ("", "")
        data |= {
            f"actions-{index}-what": what,
            f"actions-{index}-responsible": responsible,
            f"actions-{index}-person": "",
            f"actions-{index}-due_date": "",
        }
    return data


# --- Who may open or post what ----------------------------------------------------------------

# Each URL with the object it is about (from ``world``) and the data a valid POST sends.
TARGETS = {
    "decide_referral": lambda w: [w.referral.pk],
    "worklist": lambda w: [],
    "meeting_detail": lambda w: [w.intake.pk],
    "meeting_schedule": lambda w: [w.intake.pk],
    "meeting_outcome": lambda w: [w.intake.pk],
    "meeting_minutes": lambda w: [w.intake.pk],
    "meeting_ics": lambda w: [w.intake.pk],
    "action_done": lambda w: [w.action.pk],
    "extra_meeting": lambda w: [w.course.pk],
    "discharge": lambda w: [w.course.pk],
    "calendar_settings": lambda w: [],
    "calendar_renew": lambda w: [],
    "calendar_revoke": lambda w: [],
    "calendar_feed": lambda w: [w.feed_token],
    "course_detail": lambda w: [w.course.pk],
}
POST_DATA = {
    "decide_referral": lambda w: {"kind": "accept", "reason": "", "seen": seen_now(w.referral)},
    "meeting_schedule": lambda w: {
        "version": w.intake.version,
        "scheduled_at": "2025-12-10T09:00",
        "duration_minutes": "60",
        "place": "Rusmiddelcentret",
    },
    "meeting_outcome": lambda w: outcome_post(w.intake.version, "Aftalt.", (("Ringe", "region"),)),
    "action_done": lambda w: {"done": "1", "seen": seen_now(w.action)},
    "extra_meeting": lambda w: {"due_date": (TODAY + timedelta(days=20)).isoformat()},
    "discharge": lambda w: {
        "seen": seen_now(w.course),
        "date": TODAY.isoformat(),
        "kind": "other",
        "reason": "",
        "meeting_not_held_reason": "Borgeren er flyttet.",
    },
}


def url_for(name: str, world: World) -> str:
    view = name if name == "course_detail" else f"coordination:{name}"
    return reverse(view, args=TARGETS[name](world))


PERSONAS = ["clinician", "coordinator_ballerup", "coordinator_gladsaxe", "researcher", "anonymous"]
LOGIN_REDIRECT = "login"

# Expected status per persona, in the order of PERSONAS. The clinic sees every patient; the
# Ballerup coordinator the Ballerup patient; Gladsaxe's coordinator meets a Ballerup patient
# as if it did not exist (404); a researcher has no coordination pages (403); an anonymous
# visitor is sent to log in. A method a URL does not take answers 405 to anyone logged in.
# The feed is reached by its secret token alone, never by a session.
ACCESS = [
    ("post", "decide_referral", (302, 403, 404, 403, LOGIN_REDIRECT)),
    ("get", "decide_referral", (405, 405, 405, 405, LOGIN_REDIRECT)),
    ("get", "worklist", (200, 200, 200, 403, LOGIN_REDIRECT)),
    ("get", "meeting_detail", (200, 200, 404, 403, LOGIN_REDIRECT)),
    ("post", "meeting_schedule", (302, 302, 404, 403, LOGIN_REDIRECT)),
    ("get", "meeting_schedule", (405, 405, 405, 405, LOGIN_REDIRECT)),
    ("get", "meeting_outcome", (200, 200, 404, 403, LOGIN_REDIRECT)),
    ("post", "meeting_outcome", (302, 302, 404, 403, LOGIN_REDIRECT)),
    ("get", "meeting_minutes", (200, 200, 404, 403, LOGIN_REDIRECT)),
    ("get", "meeting_ics", (200, 200, 404, 403, LOGIN_REDIRECT)),
    ("post", "meeting_ics", (405, 405, 405, 405, LOGIN_REDIRECT)),
    ("post", "action_done", (302, 302, 404, 403, LOGIN_REDIRECT)),
    ("get", "action_done", (405, 405, 405, 405, LOGIN_REDIRECT)),
    ("get", "extra_meeting", (200, 403, 404, 403, LOGIN_REDIRECT)),
    ("post", "extra_meeting", (302, 403, 404, 403, LOGIN_REDIRECT)),
    ("get", "discharge", (200, 403, 404, 403, LOGIN_REDIRECT)),
    ("post", "discharge", (302, 403, 404, 403, LOGIN_REDIRECT)),
    ("get", "calendar_settings", (200, 200, 200, 403, LOGIN_REDIRECT)),
    ("post", "calendar_renew", (302, 302, 302, 403, LOGIN_REDIRECT)),
    ("get", "calendar_renew", (405, 405, 405, 405, LOGIN_REDIRECT)),
    ("post", "calendar_revoke", (302, 302, 302, 403, LOGIN_REDIRECT)),
    ("get", "calendar_revoke", (405, 405, 405, 405, LOGIN_REDIRECT)),
    ("get", "calendar_feed", (200, 200, 200, 200, 200)),
    ("post", "calendar_feed", (405, 405, 405, 405, 405)),
    ("get", "course_detail", (200, 200, 404, 403, LOGIN_REDIRECT)),
]
ACCESS_CASES = [
    pytest.param(method, name, persona, expected[index], id=f"{method}-{name}-{persona}")
    for method, name, expected in ACCESS
    for index, persona in enumerate(PERSONAS)
]


def test_the_access_table_covers_every_coordination_url():
    from coordination.urls import urlpatterns

    assert {pattern.name for pattern in urlpatterns} | {"course_detail"} == set(TARGETS)
    assert {name for _method, name, _expected in ACCESS} == set(TARGETS)


@pytest.mark.parametrize("method,name,persona,expected", ACCESS_CASES)
def test_who_may_open_or_post_each_coordination_url(
    request, client, world, method, name, persona, expected
):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    url = url_for(name, world)
    data = POST_DATA.get(name, lambda w: {})(world) if method == "post" else None
    before = snapshot()

    response = client.post(url, data) if method == "post" else client.get(url)

    if expected == LOGIN_REDIRECT:
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN}?next={url}"
    else:
        assert response.status_code == expected
    writes = method == "post" and expected == 302
    assert (snapshot() != before) is writes


# --- Happy paths --------------------------------------------------------------------------


def test_clinician_schedules_the_intake_meeting(client_for, clinician, ballerup_course):
    intake = meeting_of(ballerup_course)
    assert (intake.scheduled_at, intake.place, intake.version) == (None, "", 1)
    client = client_for(clinician)

    response = client.post(
        reverse("coordination:meeting_schedule", args=[intake.pk]),
        {
            "version": "1",
            "scheduled_at": "2025-12-12T10:30",
            "duration_minutes": "90",
            "place": "Rusmiddelcentret Ballerup",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("coordination:meeting_detail", args=[intake.pk])
    intake.refresh_from_db()
    assert intake.scheduled_at == at(TODAY + timedelta(days=9), 10, 30)
    assert (intake.place, intake.duration_minutes, intake.version) == (
        "Rusmiddelcentret Ballerup",
        90,
        2,
    )
    page = text(client.get(response["Location"]))
    assert "12.12.2025 10:30, 90 min" in page
    assert "Rusmiddelcentret Ballerup" in page


def test_an_invalid_time_is_refused_with_the_form_filled(client_for, clinician, ballerup_course):
    intake = meeting_of(ballerup_course)
    before = snapshot()

    response = client_for(clinician).post(
        reverse("coordination:meeting_schedule", args=[intake.pk]),
        {"version": "1", "scheduled_at": "not a time", "duration_minutes": "60", "place": "APU"},
    )

    assert response.status_code == 400
    assert 'value="APU"' in response.content.decode()
    assert snapshot() == before


def test_coordinator_records_the_outcome_with_two_actions_and_treatment_may_start(
    client_for, coordinator_ballerup, ballerup_course
):
    intake = meeting_of(ballerup_course)
    assert ballerup_course.status == Course.Status.AWAITING_INTAKE
    assert not intake.actions.exists()
    client = client_for(coordinator_ballerup)
    url = reverse("coordination:meeting_outcome", args=[intake.pk])
    form = client.get(url)
    assert form.status_code == 200
    # A coordinator records who came from the clinic in words, and picks no clinic users.
    assert 'name="clinic_staff"' not in form.content.decode()

    response = client.post(
        url,
        outcome_post(
            1,
            "Borgeren starter i gruppe; rusmiddelcentret fortsætter samtalerne.",
            (
                ("Opfølgende samtale i rusmiddelcentret", "municipality"),
                ("Føre alkoholdagbog", "patient"),
            ),
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("coordination:meeting_detail", args=[intake.pk])
    intake.refresh_from_db()
    assert (intake.status, intake.version) == (Meeting.Status.HELD, 2)
    assert (intake.coordinator, intake.outcome_recorded_by) == (
        coordinator_ballerup,
        coordinator_ballerup,
    )
    assert (intake.action_plan_status, intake.other_participants) == ("exists", "Borgerens mentor")
    assert sorted(intake.actions.values_list("what", "responsible")) == [
        ("Føre alkoholdagbog", "patient"),
        ("Opfølgende samtale i rusmiddelcentret", "municipality"),
    ]
    assert Course.objects.get(pk=ballerup_course.pk).status == Course.Status.IN_TREATMENT
    course_page = client.get(reverse("course_detail", args=[ballerup_course.pk]))
    assert re.search(r'id="course-status">I behandling<', course_page.content.decode())


def test_coordinator_of_gladsaxe_gets_404_for_a_ballerup_meeting_and_nothing_changes(
    client_for, coordinator_gladsaxe, ballerup_course
):
    intake = meeting_of(ballerup_course)
    client = client_for(coordinator_gladsaxe)
    url = reverse("coordination:meeting_outcome", args=[intake.pk])
    before = snapshot()

    assert client.get(url).status_code == 404
    response = client.post(url, outcome_post(1, "Forsøg udefra.", (("Ringe", "municipality"),)))

    assert response.status_code == 404
    assert snapshot() == before
    assert Course.objects.get(pk=ballerup_course.pk).status == Course.Status.AWAITING_INTAKE


def test_a_held_intake_outcome_without_summary_is_refused_on_the_page(
    client_for, clinician, ballerup_course
):
    intake = meeting_of(ballerup_course)
    before = snapshot()

    response = client_for(clinician).post(
        reverse("coordination:meeting_outcome", args=[intake.pk]),
        outcome_post(1, "", (("Ringe til borgeren", "region"),)),
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert shown("Write a summary of what was agreed at the meeting.") in page
    assert 'value="Ringe til borgeren"' in page
    assert snapshot() == before


def test_a_discharged_course_refuses_an_outcome_on_the_page(client_for, clinician, ballerup_course):
    client = client_for(clinician)
    client.post(
        reverse("coordination:discharge", args=[ballerup_course.pk]),
        {
            "seen": seen_now(ballerup_course),
            "date": TODAY.isoformat(),
            "kind": "other",
            "meeting_not_held_reason": "Flyttet.",
        },
    )
    intake = meeting_of(ballerup_course)
    assert intake.status == Meeting.Status.CANCELLED
    before = snapshot()

    response = client.post(
        reverse("coordination:meeting_outcome", args=[intake.pk]),
        outcome_post(intake.version, "For sent.", (("Ringe", "region"),)),
    )

    assert response.status_code == 400
    assert shown(CLOSED_COURSE) in response.content.decode()
    assert snapshot() == before


@pytest.fixture
def action_row(world) -> Action:
    assert world.action.done is False
    return world.action


def test_ticking_an_action_done_goes_back_to_the_meeting(client_for, clinician, action_row):
    response = client_for(clinician).post(
        reverse("coordination:action_done", args=[action_row.pk]),
        {"done": "1", "seen": seen_now(action_row)},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "coordination:meeting_detail", args=[action_row.meeting_id]
    )
    assert Action.objects.get(pk=action_row.pk).done is True


def test_ticking_an_action_with_htmx_returns_just_the_row(
    client_for, coordinator_ballerup, action_row
):
    client = client_for(coordinator_ballerup)
    url = reverse("coordination:action_done", args=[action_row.pk])

    response = client.post(
        url, {"done": "1", "seen": seen_now(action_row)}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    row = response.content.decode().strip()
    assert row.startswith(f'<tr id="action-{action_row.pk}">')
    assert row.endswith("</tr>")
    assert "<html" not in row
    assert "Opdatere handleplanen" in row
    assert 'aria-pressed="true"' in row
    assert '<input type="hidden" name="done" value="0">' in row
    assert Action.objects.get(pk=action_row.pk).done is True

    # Ticked back on from the row just swapped in (its fingerprint), it offers "mark done" again.
    seen = re.search(r'name="seen" value="(\w+)"', row).group(1)
    assert seen == seen_now(action_row)
    row = client.post(
        url, {"done": "0", "seen": seen}, headers={"HX-Request": "true"}
    ).content.decode()
    assert 'aria-pressed="false"' in row
    assert shown("Mark done") in row
    assert Action.objects.get(pk=action_row.pk).done is False


def test_the_minutes_print_the_outcome(client_for, clinician, coordinator_ballerup, world):
    hold(
        world.intake,
        by=clinician,
        summary="Borgeren starter i gruppen for adfærdsaktivering.",
        clinic_staff=[clinician],
        other_participants="Borgerens mentor",
        plan_fit="Planerne supplerer hinanden.",
        actions=(ActionInput("Opfølgende samtale", "municipality", "Kim"),),
    )
    clinician.first_name, clinician.last_name = "Karin", "Klinik"
    clinician.save()

    response = client_for(coordinator_ballerup).get(
        reverse("coordination:meeting_minutes", args=[world.intake.pk])
    )

    assert response.status_code == 200
    page = text(response)
    assert "Referat: Indsatsmøde (opstart)" in page
    for shown_text in (
        "Bodil Ballerup",
        "Borgeren starter i gruppen for adfærdsaktivering.",
        "Planerne supplerer hinanden.",
        "Opfølgende samtale",
        "Kim",
        "Karin Klinik",
        "Borgerens mentor",
        "08.12.2025 13:00",
    ):
        assert shown_text in page, shown_text
    assert "data-print" in response.content.decode()


def test_accepting_on_the_referral_page_opens_the_course_with_three_meetings(
    client_for, clinician, now
):
    referral = register(clinician, name="Rikke Ribe")
    assert not Course.objects.exists()

    response = client_for(clinician).post(
        reverse("coordination:decide_referral", args=[referral.pk]),
        {"kind": "accept", "reason": "", "seen": seen_now(referral)},
    )

    course = Course.objects.get(referral=referral)
    assert response.status_code == 302
    assert response["Location"] == f"/courses/{course.pk}/"
    assert course.meetings.count() == 3
    assert set(course.meetings.values_list("kind", flat=True)) == {
        "intake",
        "midpoint",
        "discharge",
    }
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.ACCEPTED


def test_rejecting_on_the_referral_page_leads_to_the_letter(client_for, clinician, now):
    referral = register(clinician, name="Rikke Ribe")

    response = client_for(clinician).post(
        reverse("coordination:decide_referral", args=[referral.pk]),
        {
            "kind": "reject",
            "reason": "Ingen aktuel rusmiddelproblematik.",
            "seen": seen_now(referral),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("referrals:referral_letter", args=[referral.pk])
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.REJECTED
    assert not Course.objects.exists()
    assert not Meeting.objects.exists()


def test_a_refused_decision_shows_the_referral_again_and_saves_nothing(client_for, clinician, now):
    referral = register(clinician, name="Rikke Ribe")
    before = snapshot()

    response = client_for(clinician).post(
        reverse("coordination:decide_referral", args=[referral.pk]),
        {"kind": "reject", "seen": seen_now(referral)},
    )

    assert response.status_code == 400
    assert "Rikke Ribe" in text(response)
    assert snapshot() == before


def test_discharge_page_ends_the_course(client_for, clinician, ballerup_course):
    client = client_for(clinician)
    url = reverse("coordination:discharge", args=[ballerup_course.pk])
    assert client.get(url).status_code == 200

    seen = seen_now(ballerup_course)
    refused = client.post(
        url, {"seen": seen, "date": TODAY.isoformat(), "kind": "dropped_out", "reason": ""}
    )
    assert shown(DISCHARGE_MEETING_FIRST) in refused.content.decode()
    assert not Discharge.objects.exists()

    response = client.post(
        url,
        {
            "seen": seen,
            "date": TODAY.isoformat(),
            "kind": "dropped_out",
            "reason": "Ønskede at stoppe.",
            "meeting_not_held_reason": "Borgeren kom ikke.",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("course_detail", args=[ballerup_course.pk])
    assert Course.objects.get(pk=ballerup_course.pk).status == Course.Status.DISCHARGED
    assert set(ballerup_course.meetings.values_list("status", flat=True)) == {"cancelled"}
    course_page = client.get(response["Location"]).content.decode()
    assert re.search(r'id="course-status">Afsluttet<', course_page)
    assert "Borgeren kom ikke." in course_page


def test_clinician_plans_an_extra_meeting(client_for, clinician, ballerup_course):
    client = client_for(clinician)
    url = reverse("coordination:extra_meeting", args=[ballerup_course.pk])
    assert client.get(url).status_code == 200
    assert ballerup_course.meetings.count() == 3

    response = client.post(url, {"due_date": "2025-12-15"})

    extra = ballerup_course.meetings.get(kind=Meeting.Kind.EXTRA)
    assert response.status_code == 302
    assert response["Location"] == reverse("coordination:meeting_detail", args=[extra.pk])
    assert (extra.due_date, extra.status) == (TODAY + timedelta(days=12), "planned")
    assert ballerup_course.meetings.count() == 4


def test_the_coordinator_worklist_shows_only_their_municipality(
    client_for, clinician, coordinator_ballerup, ballerup_course, gladsaxe_course
):
    page = text(client_for(coordinator_ballerup).get(reverse("coordination:worklist")))

    assert "Bodil Ballerup" in page
    assert "Gorm Gladsaxe" not in page


def test_the_clinic_worklist_filters_by_municipality(
    client_for, clinician, ballerup_course, gladsaxe_course
):
    client = client_for(clinician)
    url = reverse("coordination:worklist")

    everyone = text(client.get(url))
    gladsaxe = text(client.get(url, {"municipality": gladsaxe_course.patient.municipality_id}))

    assert "Bodil Ballerup" in everyone and "Gorm Gladsaxe" in everyone
    assert "Gorm Gladsaxe" in gladsaxe and "Bodil Ballerup" not in gladsaxe


# --- The access log ---------------------------------------------------------------------------

PATIENT_PAGES = [
    pytest.param("meeting_detail", "clinician", id="meeting-clinician"),
    pytest.param("meeting_detail", "coordinator_ballerup", id="meeting-coordinator"),
    pytest.param("meeting_outcome", "clinician", id="outcome-clinician"),
    pytest.param("meeting_outcome", "coordinator_ballerup", id="outcome-coordinator"),
    pytest.param("meeting_minutes", "clinician", id="minutes-clinician"),
    pytest.param("meeting_minutes", "coordinator_ballerup", id="minutes-coordinator"),
    pytest.param("extra_meeting", "clinician", id="extra-clinician"),
    pytest.param("discharge", "clinician", id="discharge-clinician"),
    pytest.param("course_detail", "clinician", id="course-clinician"),
    pytest.param("course_detail", "coordinator_ballerup", id="course-coordinator"),
]


def looks_at(patient: Patient) -> list[tuple]:
    return list(
        AccessLog.objects.filter(
            content_type=ContentType.objects.get_for_model(Patient), object_id=patient.pk
        ).values_list("user__username", "path")
    )


@pytest.mark.parametrize("name,persona", PATIENT_PAGES)
def test_every_page_showing_a_patient_logs_the_look(request, client, world, name, persona):
    user: User = request.getfixturevalue(persona)
    client.force_login(user)
    url = url_for(name, world)
    assert looks_at(world.course.patient) == []

    response = client.get(url)

    assert response.status_code == 200
    assert "Bodil Ballerup" in response.content.decode()
    assert looks_at(world.course.patient) == [(user.username, url)]


def test_a_refused_schedule_form_shows_the_patient_and_logs_the_look(client_for, clinician, world):
    url = reverse("coordination:meeting_schedule", args=[world.intake.pk])

    response = client_for(clinician).post(url, {"version": world.intake.version})

    assert response.status_code == 400
    assert looks_at(world.course.patient) == [("clinician", url)]


def test_a_page_out_of_reach_logs_no_look(client_for, coordinator_gladsaxe, world):
    client = client_for(coordinator_gladsaxe)
    for name in ("meeting_detail", "meeting_outcome", "meeting_minutes", "course_detail"):
        assert client.get(url_for(name, world)).status_code == 404
    assert looks_at(world.course.patient) == []


# --- A fixed number of queries ----------------------------------------------------------------


def warm_caches() -> None:
    # Content types are cached per process; a count should not depend on test order.
    ContentType.objects.get_for_model(Patient)


def clinic_rows(clinician, count: int) -> None:
    """``count`` courses, each with an overdue intake meeting and an extra meeting due soon."""
    for number in range(count):
        course = accepted_course(
            clinician,
            name=f"Patient {number}",
            municipality_code=GLADSAXE if number % 2 else "151",
            first_contact=TODAY - timedelta(days=25),
        )
        add_extra_meeting(course, by=clinician, due_date=TODAY + timedelta(days=3))


# The clinic worklist runs, whatever the number of rows (each list shows one page):
#   1. the session
#   2. the user
#   3. the user's confirmed TOTP devices
#   4-5. overdue meetings: their count, then the page's meetings with course, patient and
#      municipality joined
#   6-7. meetings due within 7 days: count, page, joined the same way
#   8-9. open courses with no meeting scheduled: count, page with patient and municipality
#   10. the access-log rows for the patients on the pages (one insert)
#   11. the participating municipalities for the filter
#   12-14. saving the session: savepoint, update, release
# (Paging added a COUNT per list: 11 before, when every row was listed.)
CLINIC_WORKLIST_QUERIES = 14


@pytest.mark.parametrize("rows", [pytest.param(1, id="1-row"), pytest.param(30, id="30-rows")])
def test_clinic_worklist_runs_a_fixed_number_of_queries(
    client_for, clinician, now, django_assert_num_queries, rows
):
    clinic_rows(clinician, rows)
    warm_caches()
    client = client_for(clinician)

    with django_assert_num_queries(CLINIC_WORKLIST_QUERIES):
        response = client.get(reverse("coordination:worklist"))

    assert response.status_code == 200
    # Each course three times: overdue intake, extra meeting due soon, nothing scheduled;
    # one page of each list.
    assert len(re.findall(r"Patient \d+", text(response))) == 3 * min(rows, PAGE_SIZE)
    assert [response.context[key].paginator.count for key in CLINIC_LISTS] == [rows] * 3


def coordinator_rows(clinician, coordinator, count: int) -> None:
    """``count`` Ballerup courses, each with a meeting waiting for its outcome, upcoming
    meetings, and an open action for the municipality."""
    for number in range(count):
        course = accepted_course(clinician, name=f"Patient {number}")
        schedule(meeting_of(course), by=clinician, when=at(TODAY - timedelta(days=2), 10))
        extra = add_extra_meeting(course, by=clinician, due_date=TODAY - timedelta(days=3))
        hold(
            extra,
            by=coordinator,
            actions=(ActionInput(f"Handling {number}", "municipality", "Kim"),),
        )


# The coordinator worklist runs, whatever the number of rows (each list shows one page):
#   1. the session
#   2. the user
#   3. the user's confirmed TOTP devices
#   4-5. meetings waiting for their outcome: count, then the page's meetings with course,
#      patient and municipality joined
#   6-7. upcoming meetings: count, page, joined the same way
#   8-9. the municipality's open actions: count, page with meeting, course and patient
#   10. the access-log rows for the patients on the pages (one insert)
#   11. the coordinator's municipality, for the heading
#   12-14. saving the session: savepoint, update, release
# (Paging added a COUNT per list: 11 before, when every row was listed.)
COORDINATOR_WORKLIST_QUERIES = 14


@pytest.mark.parametrize("rows", [pytest.param(1, id="1-row"), pytest.param(30, id="30-rows")])
def test_coordinator_worklist_runs_a_fixed_number_of_queries(
    client_for, clinician, coordinator_ballerup, now, django_assert_num_queries, rows
):
    coordinator_rows(clinician, coordinator_ballerup, rows)
    warm_caches()
    client = client_for(coordinator_ballerup)

    with django_assert_num_queries(COORDINATOR_WORKLIST_QUERIES):
        response = client.get(reverse("coordination:worklist"))

    assert response.status_code == 200
    page = text(response)
    assert page.count("Handling ") == min(rows, PAGE_SIZE)
    # Each course four times: intake awaiting outcome, midpoint and discharge upcoming,
    # action; one page of each list.
    shown = min(rows, PAGE_SIZE) + min(2 * rows, PAGE_SIZE) + min(rows, PAGE_SIZE)
    assert len(re.findall(r"Patient \d+", page)) == shown
    counts = [response.context[key].paginator.count for key in COORDINATOR_LISTS]
    assert counts == [rows, 2 * rows, rows]


# --- The worklists page each list on its own ---------------------------------------------------

CLINIC_LISTS = ["overdue", "due_soon", "unscheduled_courses"]
COORDINATOR_LISTS = ["awaiting_outcome", "upcoming", "open_actions"]


def names_in(response, key: str) -> list[str]:
    """The patients named in one list of the clinic worklist, in order."""
    rows = response.context[key].object_list
    if key == "unscheduled_courses":
        return [course.patient.name for course in rows]
    return [meeting.course.patient.name for meeting in rows]


@pytest.fixture
def thirty_courses(clinician, now) -> list[Course]:
    """30 Ballerup courses, each with an overdue intake meeting and an extra meeting due soon."""
    courses = []
    for number in range(30):
        course = accepted_course(
            clinician, name=f"Patient {number:02d}", first_contact=TODAY - timedelta(days=25)
        )
        add_extra_meeting(course, by=clinician, due_date=TODAY + timedelta(days=3))
        courses.append(course)
    return courses


def test_the_clinic_worklist_shows_25_of_each_list_and_counts_them_all(
    client_for, clinician, thirty_courses
):
    response = client_for(clinician).get(reverse("coordination:worklist"))

    content = response.content.decode()
    first_page = [f"Patient {n:02d}" for n in range(PAGE_SIZE)]
    assert all(names_in(response, key) == first_page for key in CLINIC_LISTS)
    assert text(response).count("(30)") == 3
    assert content.count('aria-current="page">Side 1 af 2<') == 3
    assert 'href="?overdue_page=2#overdue-heading" rel="next"' in content
    assert 'href="?soon_page=2#soon-heading" rel="next"' in content
    assert 'href="?unscheduled_page=2#unscheduled-heading" rel="next"' in content


def test_a_clinic_worklist_list_pages_on_its_own_and_keeps_the_others_and_the_filter(
    client_for, clinician, thirty_courses
):
    ballerup = thirty_courses[0].patient.municipality_id
    query = {"municipality": ballerup, "soon_page": "2", "overdue_page": "2"}

    response = client_for(clinician).get(reverse("coordination:worklist"), query)

    later = [f"Patient {n:02d}" for n in range(PAGE_SIZE, 30)]
    assert names_in(response, "overdue") == later
    assert names_in(response, "due_soon") == later
    assert names_in(response, "unscheduled_courses")[0] == "Patient 00"
    content = response.content.decode()
    # Each list's links change only its own page; the filter and the other pages stay.
    assert (
        f'href="?municipality={ballerup}&amp;soon_page=2&amp;overdue_page=1#overdue-heading"'
        in content
    )
    assert (
        f'href="?municipality={ballerup}&amp;soon_page=2&amp;overdue_page=2'
        '&amp;unscheduled_page=2#unscheduled-heading" rel="next"' in content
    )


def test_a_page_past_the_end_shows_the_last_page(client_for, clinician, thirty_courses):
    response = client_for(clinician).get(reverse("coordination:worklist"), {"overdue_page": "9"})

    assert response.context["overdue"].number == 2
    assert names_in(response, "due_soon")[0] == "Patient 00"


def test_the_clinic_worklist_logs_only_the_patients_on_its_pages(
    client_for, clinician, thirty_courses
):
    client_for(clinician).get(reverse("coordination:worklist"), {"overdue_page": "2"})

    logged = set(AccessLog.objects.values_list("object_id", flat=True))
    # Page 2 of the overdue list and page 1 of the others: all 30 patients are shown.
    assert logged == {course.patient_id for course in thirty_courses}

    AccessLog.objects.all().delete()
    client_for(clinician).get(reverse("coordination:worklist"))

    logged = set(AccessLog.objects.values_list("object_id", flat=True))
    assert logged == {course.patient_id for course in thirty_courses[:PAGE_SIZE]}


def test_the_coordinator_worklist_pages_each_list_on_its_own(
    client_for, clinician, coordinator_ballerup, now
):
    coordinator_rows(clinician, coordinator_ballerup, PAGE_SIZE + 1)
    client = client_for(coordinator_ballerup)

    first = client.get(reverse("coordination:worklist"))
    logged = AccessLog.objects.filter(user=coordinator_ballerup).values_list("object_id")
    assert len(set(logged)) == PAGE_SIZE  # the newest patient shows only on later pages
    later = client.get(reverse("coordination:worklist"), {"actions_page": "2"})

    assert [len(first.context[key].object_list) for key in COORDINATOR_LISTS] == [25, 25, 25]
    assert [first.context[key].paginator.count for key in COORDINATOR_LISTS] == [26, 52, 26]
    assert [len(later.context[key].object_list) for key in COORDINATOR_LISTS] == [25, 25, 1]
    assert later.context["open_actions"].object_list[0].what == f"Handling {PAGE_SIZE}"
    content = later.content.decode()
    assert 'href="?actions_page=1#actions-heading" rel="prev"' in content
    assert 'href="?actions_page=2&amp;upcoming_page=2#upcoming-heading" rel="next"' in content
    assert 'href="?actions_page=2&amp;outcome_page=2#outcome-heading" rel="next"' in content


# The meeting page runs:
#   1. the session
#   2. the user
#   3. the user's confirmed TOTP devices
#   4. the meeting with course, patient, municipality, coordinator and recorder joined
#   5. its clinic staff (prefetched)
#   6. its actions (prefetched)
#   7. inserting the access-log row
#   8-10. saving the session: savepoint, update, release
MEETING_DETAIL_QUERIES = 10


@pytest.mark.parametrize("rows", [1, 20])
def test_meeting_detail_runs_a_fixed_number_of_queries(
    client_for, clinician, coordinator_ballerup, ballerup_course, django_assert_num_queries, rows
):
    staff = [clinician] + [
        User.objects.create(username=f"staff{n}", role=User.Role.CLINICIAN) for n in range(rows - 1)
    ]
    intake = hold(
        meeting_of(ballerup_course),
        by=coordinator_ballerup,
        clinic_staff=staff,
        actions=tuple(ActionInput(f"Handling {n}", "region") for n in range(rows)),
    )
    warm_caches()
    client = client_for(clinician)

    with django_assert_num_queries(MEETING_DETAIL_QUERIES):
        response = client.get(reverse("coordination:meeting_detail", args=[intake.pk]))

    assert response.status_code == 200
    assert text(response).count("Handling ") == rows


# The course page (composed by evaluation, with coordination's timeline and meetings) runs:
#   1. the session
#   2. the user
#   3. the user's confirmed TOTP devices
#   4. the course with patient, municipality, referral, treatment plan and case formulation
#      joined (the formulation for the clinic only)
#   5. inserting the access-log row
#   6. the course's meetings (the page shows no actions, so none are fetched)
#   7-8. the norm hours and the attendance summary: group attendance, individual
#      appointments
#   9. the outcome measurements for the charts (clinic only)
#   10. the group enrolments
#   11. the groups open for enrolment (the course is in treatment)
#   12. the individual appointments
#   13-15. saving the session: savepoint, update, release
# (No plan was written here, so the plan's modules add no query.)
COURSE_DETAIL_QUERIES = 15
# A coordinator's course page leaves out the outcome charts and the enrolment form's
# groups (9 and 11 above), and adds the coordinator's municipality (named in the header).
COORDINATOR_COURSE_DETAIL_QUERIES = 14


@pytest.mark.parametrize("rows", [pytest.param(1, id="1-row"), pytest.param(20, id="20-rows")])
@pytest.mark.parametrize(
    "persona,queries",
    [
        pytest.param("clinician", COURSE_DETAIL_QUERIES, id="clinician"),
        pytest.param("coordinator_ballerup", COORDINATOR_COURSE_DETAIL_QUERIES, id="coordinator"),
    ],
)
def test_course_detail_runs_a_fixed_number_of_queries(
    request,
    client_for,
    clinician,
    coordinator_ballerup,
    ballerup_course,
    django_assert_num_queries,
    persona,
    queries,
    rows,
):
    hold(meeting_of(ballerup_course), by=clinician)
    for number in range(rows):
        extra = add_extra_meeting(ballerup_course, by=clinician, due_date=TODAY)
        hold(extra, by=coordinator_ballerup, actions=(ActionInput(f"H {number}", "patient"),))
    warm_caches()
    client = client_for(request.getfixturevalue(persona))

    with django_assert_num_queries(queries):
        response = client.get(reverse("course_detail", args=[ballerup_course.pk]))

    assert response.status_code == 200
    assert ballerup_course.meetings.count() == 3 + rows
    assert len(response.context["meetings"]) == 3 + rows
