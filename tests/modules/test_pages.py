"""The treatment pages as each persona meets them: who reaches what, what a coordinator
sees of the plan (never the case formulation), edits with a version check, the hours bar,
sessions from the schedule, and a fixed number of queries per page."""

import html
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

import modules.urls
from apu.access import accesses_to
from apu.models import AccessLog
from apu.versioning import ABSENT, fingerprint
from modules import services
from modules.models import (
    Appointment,
    Attendance,
    CaseFormulation,
    Enrolment,
    Group,
    NoShowReason,
    Session,
    TreatmentPlan,
    WaitingListEntry,
)
from modules.queries import OFFERED_GROUPS
from referrals.models import Course, Patient
from referrals.pagination import PAGE_SIZE
from tests.factories import UserFactory
from tests.modules.conftest import LAST_MONDAY
from tests.modules.factories import (
    COPENHAGEN,
    at,
    attended,
    enrolled,
    menu_module,
    new_course,
    new_group,
    new_session,
    weekly_sessions,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

LOGIN = reverse("apu:login")
FORMULATION_TEXT = "Drikker alene om aftenen når skammen over arbejdsløsheden tager over."
PLAN_GOALS = "Gå til fodbold om tirsdagen og holde tre dage om ugen uden alkohol."


def shown(message) -> str:
    """A service's message constant as the page shows it: in Danish, HTML-escaped."""
    with translation.override("da"):
        return escape(str(message))


def danish(text: str, **params) -> str:
    """A msgid of the views, as the page shows it: translated to Danish, HTML-escaped."""
    with translation.override("da"):
        translated = translation.gettext(text)
    return escape(translated % params if params else translated)


def template_text(text: str) -> str:
    """A ``{% translate %}`` string as the page shows it (templates escape % as %% in msgids)."""
    with translation.override("da"):
        return escape(translation.gettext(text.replace("%", "%%")).replace("%%", "%"))


def body(response) -> str:
    return response.content.decode()


def section(content: str, heading_id: str) -> str:
    """The HTML of the page section labelled by ``heading_id``."""
    start = content.index(f'id="{heading_id}"')
    return content[start : content.index("</section>", start)]


def in_textarea(content: str, name: str) -> str:
    """The text a form's textarea holds, unescaped."""
    found = re.search(rf'<textarea name="{name}"[^>]*>\n?(.*?)</textarea>', content, re.S)
    assert found, name
    return html.unescape(found[1])


def course_url(course: Course) -> str:
    return reverse("course_detail", args=[course.pk])


def seen_of(row) -> str:
    """The fingerprint a page shows of ``row``: of the row as loaded, as the page loads it."""
    return fingerprint(type(row).objects.get(pk=row.pk))


@dataclass
class World:
    """A Ballerup course in treatment: in a group with a held session, waiting for a full
    group, with a first conversation booked this morning."""

    course: Course
    group: Group
    session: Session
    enrolment: Enrolment
    waiting: WaitingListEntry
    appointment: Appointment

    def pk_of(self, target: str | None) -> list[int]:
        return [] if target is None else [getattr(self, target).pk]


@pytest.fixture
def world(clinician, ballerup_course, group, today) -> World:
    enrolment = enrolled(
        ballerup_course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=1)
    )
    session = new_session(group, starts_at=at(LAST_MONDAY))
    full = new_group(module="Tænkestil", weekday=Group.Weekday.WEDNESDAY, capacity=1)
    enrolled(new_course(clinician, name="Fie Fuld"), full, by=clinician, starts_on=LAST_MONDAY)
    waiting = services.enrol(ballerup_course, full, by=clinician, starts_on=today)
    appointment = services.book_appointment(
        ballerup_course,
        by=clinician,
        clinician=clinician,
        starts_at=at(today, 8),
        duration_minutes=60,
        kind=Appointment.Kind.FIRST_CONVERSATION,
    )
    return World(ballerup_course, group, session, enrolment, waiting, appointment)


def snapshot() -> tuple:
    """Every row a treatment page could write."""
    return (
        list(Enrolment.objects.order_by("pk").values_list("pk", "group_id", "ends_on")),
        list(WaitingListEntry.objects.order_by("pk").values_list("pk", "status")),
        list(Attendance.objects.order_by("pk").values_list("pk", "status")),
        list(Appointment.objects.order_by("pk").values_list("pk", "attendance")),
        list(Session.objects.order_by("pk").values_list("pk", "starts_at", "room", "status")),
        list(CaseFormulation.objects.values_list("pk", "version")),
        list(TreatmentPlan.objects.values_list("pk", "version")),
    )


# --- Who reaches what ---------------------------------------------------------------------------

# (URL name, method, object in the URL, status for: clinician, coordinator of Ballerup (the
# patient's municipality), coordinator of Gladsaxe (another municipality)). A researcher gets
# 403 everywhere, an anonymous visitor the login page.
ROUTES = [
    ("course_detail", "get", "course", 200, 200, 404),
    ("modules:today", "get", None, 200, 403, 403),
    ("modules:group_list", "get", None, 200, 403, 403),
    ("modules:group_detail", "get", "group", 200, 403, 403),
    ("modules:group_generate", "post", "group", 302, 403, 403),
    ("modules:session_attendance", "get", "session", 200, 403, 403),
    ("modules:session_tap", "post", "session", 302, 403, 403),
    ("modules:session_cancel", "post", "session", 302, 403, 403),
    ("modules:session_move", "get", "session", 200, 403, 403),
    ("modules:course_enrol", "post", "course", 302, 403, 404),
    ("modules:appointment_new", "get", "course", 200, 403, 404),
    ("modules:formulation_edit", "get", "course", 200, 403, 404),
    ("modules:plan_edit", "get", "course", 200, 403, 404),
    ("modules:enrolment_end", "post", "enrolment", 302, 403, 403),
    ("modules:enrolment_switch", "post", "enrolment", 302, 403, 403),
    ("modules:waiting_enrol", "post", "waiting", 302, 403, 403),
    ("modules:appointment_attendance", "post", "appointment", 302, 403, 403),
]
PERSONAS = {
    "clinician": 3,
    "coordinator_ballerup": 4,
    "coordinator_gladsaxe": 5,
    "researcher": None,
    "anonymous": None,
}


def route_params():
    for route in ROUTES:
        name, method = route[0], route[1]
        for persona, column in PERSONAS.items():
            expected = {"researcher": 403, "anonymous": "login"}.get(persona) or route[column]
            yield pytest.param(name, method, route[2], persona, expected, id=f"{name}-{persona}")


def test_the_role_table_covers_every_treatment_url():
    names = {f"modules:{pattern.name}" for pattern in modules.urls.urlpatterns}

    assert {route[0] for route in ROUTES} == names | {"course_detail"}


@pytest.mark.parametrize("name,method,target,persona,expected", list(route_params()))
def test_each_persona_reaches_only_what_their_role_and_municipality_allow(
    request, client, world, name, method, target, persona, expected
):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    url = reverse(name, args=world.pk_of(target))
    tap = {"course": world.course.pk, "status": "attended", "seen": ABSENT}
    data = tap if name.endswith("tap") else {}
    before = snapshot()

    response = getattr(client, method)(url, data)

    if expected == "login":
        assert response.status_code == 302
        assert response.url.startswith(f"{LOGIN}?next=")
    else:
        assert response.status_code == expected
    if persona != "clinician":
        assert snapshot() == before


def test_a_coordinator_of_gladsaxe_reaches_their_own_citizens_course(
    client_for, coordinator_gladsaxe, gladsaxe_course
):
    response = client_for(coordinator_gladsaxe).get(course_url(gladsaxe_course))

    assert response.status_code == 200
    assert "Gunnar Gladsaxe" in body(response)


def test_the_course_page_logs_one_look(client_for, coordinator_ballerup, ballerup_course):
    assert list(accesses_to(ballerup_course.patient)) == []

    client_for(coordinator_ballerup).get(course_url(ballerup_course))

    [look] = accesses_to(ballerup_course.patient)
    assert (look.user, look.what, look.path) == (
        coordinator_ballerup,
        "course",
        course_url(ballerup_course),
    )


# --- Acceptance 5: plan modules and goals for coordinators, never the case formulation ----------


def write_formulation_and_plan(course: Course, clinician) -> None:
    services.save_case_formulation(
        course,
        by=clinician,
        version=0,
        text=services.Formulation(
            situations=FORMULATION_TEXT,
            actions="Isolerer sig.",
            consequences="Mere skam.",
            alternatives="Ringe til sin bror.",
            goals_and_values="At være en god far.",
        ),
    )
    services.save_plan(
        course,
        by=clinician,
        version=0,
        modules=[menu_module("Adfærdsaktivering"), menu_module("Mindfulness")],
        goals=PLAN_GOALS,
        intensity=TreatmentPlan.Intensity.HIGH,
    )


@pytest.mark.parametrize(
    "persona,sees_formulation",
    [
        pytest.param("clinician", True, id="clinician-sees-both"),
        pytest.param("coordinator_ballerup", False, id="coordinator-sees-the-plan-only"),
    ],
)
def test_the_course_page_shows_the_plan_and_hides_the_formulation_from_coordinators(
    request, client_for, clinician, ballerup_course, persona, sees_formulation
):
    write_formulation_and_plan(ballerup_course, clinician)

    response = client_for(request.getfixturevalue(persona)).get(course_url(ballerup_course))

    assert response.status_code == 200
    content = body(response)
    plan = section(content, "plan-heading")
    assert "Adfærdsaktivering" in plan
    assert "Mindfulness" in plan
    assert escape(PLAN_GOALS) in plan
    assert (escape(FORMULATION_TEXT) in content) is sees_formulation
    assert ("Ringe til sin bror." in content) is sees_formulation
    assert (template_text("Case formulation") in content) is sees_formulation
    assert (response.context["formulation"] is not None) is sees_formulation


def test_a_coordinator_never_sees_another_municipalitys_plan(
    client_for, clinician, coordinator_ballerup, gladsaxe_course
):
    write_formulation_and_plan(gladsaxe_course, clinician)

    response = client_for(coordinator_ballerup).get(course_url(gladsaxe_course))

    assert response.status_code == 404
    assert escape(PLAN_GOALS) not in body(response)


@pytest.mark.parametrize("page", ["modules:formulation_edit", "modules:plan_edit"])
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "course_fixture,expected",
    [
        pytest.param("gladsaxe_course", 404, id="other-municipality-404"),
        pytest.param("ballerup_course", 403, id="own-municipality-403"),
    ],
)
def test_a_coordinator_cannot_open_the_formulation_or_plan_editors(
    request, client_for, clinician, coordinator_ballerup, page, method, course_fixture, expected
):
    course = request.getfixturevalue(course_fixture)
    write_formulation_and_plan(course, clinician)
    before = snapshot()
    data = {"version": 1, "situations": "Overskrevet", "goals": "Overskrevet", "intensity": "low"}

    response = getattr(client_for(coordinator_ballerup), method)(
        reverse(page, args=[course.pk]), data
    )

    assert response.status_code == expected
    assert escape(FORMULATION_TEXT) not in body(response)
    assert snapshot() == before


# --- Editing the formulation and the plan, with a version check ----------------------------------


def test_the_clinician_writes_and_then_edits_the_case_formulation(
    client_for, clinician, ballerup_course
):
    client = client_for(clinician)
    url = reverse("modules:formulation_edit", args=[ballerup_course.pk])
    assert client.get(url).context["form"].initial["version"] == 0

    first = client.post(url, {"version": 0, "situations": "Første udkast"})
    second = client.post(url, {"version": 1, "situations": FORMULATION_TEXT})

    assert first.status_code == second.status_code == 302
    assert second.url == course_url(ballerup_course)
    formulation = CaseFormulation.objects.get(course=ballerup_course)
    assert (formulation.version, formulation.situations) == (2, FORMULATION_TEXT)
    assert formulation.updated_by == clinician
    assert [h.situations for h in formulation.history.order_by("history_date")] == [
        "Første udkast",
        FORMULATION_TEXT,
    ]
    assert [row.what for row in accesses_to(ballerup_course.patient)] == ["case formulation"]


def test_a_stale_formulation_is_refused_and_the_typed_text_stays(
    client_for, clinician, ballerup_course
):
    write_formulation_and_plan(ballerup_course, UserFactory(username="colleague"))  # version 1
    typed = "Min nye tekst, som ikke må gå tabt."

    response = client_for(clinician).post(
        reverse("modules:formulation_edit", args=[ballerup_course.pk]),
        {"version": 0, "situations": typed, "actions": "Også denne"},
    )

    assert response.status_code == 400
    content = body(response)
    assert shown(services.STALE) in content
    assert in_textarea(content, "situations") == typed
    assert in_textarea(content, "actions") == "Også denne"
    formulation = CaseFormulation.objects.get(course=ballerup_course)
    assert (formulation.version, formulation.situations) == (1, FORMULATION_TEXT)


def test_the_clinician_writes_the_plan(client_for, clinician, ballerup_course):
    modules_chosen = [menu_module("Yoga"), menu_module("Relationer")]

    response = client_for(clinician).post(
        reverse("modules:plan_edit", args=[ballerup_course.pk]),
        {
            "version": 0,
            "modules": [m.pk for m in modules_chosen],
            "goals": PLAN_GOALS,
            "intensity": "low",
        },
    )

    assert response.status_code == 302
    plan = TreatmentPlan.objects.get(course=ballerup_course)
    assert (plan.version, plan.goals, plan.intensity) == (1, PLAN_GOALS, "low")
    assert set(plan.modules.all()) == set(modules_chosen)


def test_a_stale_plan_is_refused_and_the_typed_goals_stay(client_for, clinician, ballerup_course):
    write_formulation_and_plan(ballerup_course, UserFactory(username="colleague"))  # version 1
    typed = "Mine egne nye mål for forløbet."

    response = client_for(clinician).post(
        reverse("modules:plan_edit", args=[ballerup_course.pk]),
        {"version": 0, "goals": typed, "intensity": "low"},
    )

    assert response.status_code == 400
    content = body(response)
    assert shown(services.STALE) in content
    assert in_textarea(content, "goals") == typed
    plan = TreatmentPlan.objects.get(course=ballerup_course)
    assert (plan.version, plan.goals, plan.intensity) == (1, PLAN_GOALS, "high")


# --- The clinician's actions, state before and after --------------------------------------------


def test_the_clinician_enrols_from_the_course_page(client_for, clinician, ballerup_course, group):
    assert not Enrolment.objects.exists()

    response = client_for(clinician).post(
        reverse("modules:course_enrol", args=[ballerup_course.pk]),
        {"group": group.pk, "starts_on": LAST_MONDAY.isoformat()},
        follow=True,
    )

    assert danish("The patient has joined the group.") in body(response)
    enrolment = Enrolment.objects.get()
    assert (enrolment.course, enrolment.group, enrolment.starts_on) == (
        ballerup_course,
        group,
        LAST_MONDAY,
    )


def test_enrolling_into_a_full_group_from_the_page_puts_the_patient_on_the_waiting_list(
    client_for, clinician, ballerup_course, today
):
    full = new_group(capacity=1)
    enrolled(new_course(clinician, name="Fie Fuld"), full, by=clinician, starts_on=today)

    response = client_for(clinician).post(
        reverse("modules:course_enrol", args=[ballerup_course.pk]),
        {"group": full.pk, "starts_on": today.isoformat()},
        follow=True,
    )

    assert danish("The group is full; the patient is on its waiting list.") in body(response)
    assert not Enrolment.objects.filter(course=ballerup_course).exists()
    assert WaitingListEntry.objects.get().course == ballerup_course


def test_leaving_a_group_offers_the_seat_to_the_first_waiting(
    client_for, clinician, ballerup_course, today
):
    small = new_group(capacity=1)
    seat = enrolled(ballerup_course, small, by=clinician, starts_on=LAST_MONDAY)
    services.enrol(new_course(clinician, name="Wanda Venter"), small, by=clinician, starts_on=today)

    response = client_for(clinician).post(
        reverse("modules:enrolment_end", args=[seat.pk]),
        {"ends_on": today, "seen": seen_of(seat)},
        follow=True,
    )

    seat.refresh_from_db()
    assert seat.ends_on == today
    assert danish("A seat is free: offer it to the first on the waiting list.") in body(response)


def test_the_freed_seat_is_given_from_the_group_page(client_for, clinician, ballerup_course, today):
    small = new_group(capacity=1)
    seat = enrolled(new_course(clinician, name="Ole"), small, by=clinician, starts_on=LAST_MONDAY)
    entry = services.enrol(ballerup_course, small, by=clinician, starts_on=today)
    services.end_enrolment(seat, by=clinician, ends_on=today)
    client = client_for(clinician)
    group_page = body(client.get(reverse("modules:group_detail", args=[small.pk])))
    assert reverse("modules:waiting_enrol", args=[entry.pk]) in group_page

    response = client.post(reverse("modules:waiting_enrol", args=[entry.pk]), follow=True)

    assert danish("The waiting patient has the seat.") in body(response)
    entry.refresh_from_db()
    assert entry.status == WaitingListEntry.Status.ENROLLED
    assert small.enrolments.get(ends_on__isnull=True).course == ballerup_course


def test_the_clinician_switches_group(client_for, clinician, world, today):
    other = new_group(module="Værdier", weekday=Group.Weekday.FRIDAY)

    response = client_for(clinician).post(
        reverse("modules:enrolment_switch", args=[world.enrolment.pk]),
        {"group": other.pk, "on": today.isoformat(), "seen": seen_of(world.enrolment)},
        follow=True,
    )

    assert danish("The patient has switched group.") in body(response)
    world.enrolment.refresh_from_db()
    assert world.enrolment.ends_on == today - timedelta(days=1)
    assert other.enrolments.get().course == world.course


def test_the_clinician_cancels_a_session(client_for, clinician, world):
    assert world.session.status == Session.Status.PLANNED

    client_for(clinician).post(
        reverse("modules:session_cancel", args=[world.session.pk]),
        {"seen": seen_of(world.session)},
    )

    world.session.refresh_from_db()
    assert world.session.status == Session.Status.CANCELLED


def test_the_clinician_moves_a_session_and_history_keeps_the_old_time(client_for, clinician, world):
    old = world.session.starts_at

    response = client_for(clinician).post(
        reverse("modules:session_move", args=[world.session.pk]),
        {"starts_at": "2026-03-17T13:00", "room": "Salen", "seen": seen_of(world.session)},
    )

    assert response.status_code == 302
    world.session.refresh_from_db()
    assert world.session.starts_at == datetime(2026, 3, 17, 13, 0, tzinfo=COPENHAGEN)
    assert world.session.room == "Salen"
    assert old in world.session.history.values_list("starts_at", flat=True)


def test_the_clinician_books_an_appointment(client_for, clinician, ballerup_course, today):
    response = client_for(clinician).post(
        reverse("modules:appointment_new", args=[ballerup_course.pk]),
        {
            "clinician": clinician.pk,
            "starts_at": f"{today + timedelta(days=1)}T09:00",
            "duration_minutes": 45,
            "kind": Appointment.Kind.INDIVIDUAL_THERAPY,
        },
    )

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.course, appointment.duration_minutes, appointment.attendance) == (
        ballerup_course,
        45,
        "",
    )


def test_a_missed_first_conversation_records_the_reason(client_for, clinician, world):
    reason = NoShowReason.objects.get(name="Glemt aftalen")

    client_for(clinician).post(
        reverse("modules:appointment_attendance", args=[world.appointment.pk]),
        {"status": "no_show", "no_show_reason": reason.pk, "seen": seen_of(world.appointment)},
    )

    world.appointment.refresh_from_db()
    assert (world.appointment.attendance, world.appointment.no_show_reason) == ("no_show", reason)


def test_a_reason_goes_with_a_no_show_only(client_for, clinician, world):
    reason = NoShowReason.objects.get(name="Syg")

    response = client_for(clinician).post(
        reverse("modules:appointment_attendance", args=[world.appointment.pk]),
        {"status": "attended", "no_show_reason": reason.pk, "seen": seen_of(world.appointment)},
        follow=True,
    )

    assert shown(services.NO_SHOW_REASON_ONLY) in body(response)
    world.appointment.refresh_from_db()
    assert (world.appointment.attendance, world.appointment.no_show_reason) == ("", None)


# --- The hours bar ----------------------------------------------------------------------------


def hold_assessments(course, clinician, hours: int) -> None:
    """``hours`` of individual sessions, in 4-hour assessments on the course's first days."""
    for n in range(hours // 4):
        appointment = services.book_appointment(
            course,
            by=clinician,
            clinician=clinician,
            starts_at=at(course.start + timedelta(days=n + 1), 9),
            duration_minutes=240,
            kind=Appointment.Kind.PSYCHIATRIC_ASSESSMENT,
        )
        services.record_appointment_attendance(appointment, by=clinician, status="attended")


@pytest.mark.parametrize(
    "hours,value,level,message",
    [
        pytest.param(0, "0.00", "ok", None, id="nothing-used"),
        pytest.param(16, "16.00", "ok", None, id="64-percent"),
        pytest.param(20, "20.00", "warn", "80 % of the norm-hour budget is used.", id="80-percent"),
        pytest.param(28, "28.00", "over", "The norm-hour budget is used up.", id="over-budget"),
    ],
)
def test_the_hours_bar_warns_at_80_and_at_100_percent(
    client_for, clinician, ballerup_course, time_machine, now, hours, value, level, message
):
    time_machine.move_to(now + timedelta(days=8), tick=False)
    hold_assessments(ballerup_course, clinician, hours)

    content = body(client_for(clinician).get(course_url(ballerup_course)))

    # The bar's value is a plain number whatever the language, or the browser cannot read it.
    assert (
        f'<progress id="norm-hours" class="hours-{level}" value="{value}" max="25.00">' in content
    )
    for text in ("80 % of the norm-hour budget is used.", "The norm-hour budget is used up."):
        assert (template_text(text) in content) is (text == message)


def test_the_hours_bar_moves_with_a_tap(client_for, clinician, world):
    client = client_for(clinician)
    assert 'value="0.00"' in body(client.get(course_url(world.course)))

    client.post(
        reverse("modules:session_tap", args=[world.session.pk]),
        {"course": world.course.pk, "status": "attended", "seen": ABSENT},
    )

    assert 'value="0.50"' in body(client.get(course_url(world.course)))


# --- Sessions from the weekly schedule ----------------------------------------------------------


@pytest.mark.parametrize(
    "weekday,first,holiday",
    [
        pytest.param(Group.Weekday.MONDAY, date(2026, 3, 30), date(2026, 4, 6), id="easter-monday"),
        pytest.param(
            Group.Weekday.MONDAY, date(2022, 12, 19), date(2022, 12, 26), id="2nd-christmas-day"
        ),
        pytest.param(Group.Weekday.MONDAY, date(2026, 5, 18), date(2026, 5, 25), id="whit-monday"),
        pytest.param(
            Group.Weekday.THURSDAY, date(2026, 3, 26), date(2026, 4, 2), id="maundy-thursday"
        ),
        pytest.param(Group.Weekday.FRIDAY, date(2026, 3, 27), date(2026, 4, 3), id="good-friday"),
        pytest.param(
            Group.Weekday.THURSDAY, date(2026, 5, 7), date(2026, 5, 14), id="ascension-day"
        ),
    ],
)
def test_sessions_skip_danish_public_holidays(clinician, now, weekday, first, holiday):
    group = new_group(weekday=weekday, starts_on=first)

    created = services.generate_sessions(group, weeks=2, today=first)

    days = [s.starts_at.astimezone(COPENHAGEN).date() for s in created]
    assert days == [first, first + timedelta(weeks=2)]
    assert holiday == first + timedelta(weeks=1)
    assert all(s.starts_at.astimezone(COPENHAGEN).time() == time(10, 0) for s in created)
    assert {(s.duration_minutes, s.therapist_count, s.normed_group_size) for s in created} == {
        (120, 2, 8)
    }


def test_holidays_can_be_kept_when_asked(clinician, now):
    group = new_group(starts_on=date(2026, 3, 30))

    created = services.generate_sessions(
        group, weeks=2, today=date(2026, 3, 30), skip_holidays=False
    )

    assert len(created) == 3


def test_generating_again_adds_nothing_new(clinician, now):
    group = new_group(starts_on=date(2026, 3, 30))
    first = services.generate_sessions(group, weeks=4, today=date(2026, 3, 30))

    again = services.generate_sessions(group, weeks=4, today=date(2026, 3, 30))

    assert len(first) == 4  # 30.3, 13.4, 20.4, 27.4 (6.4 is Easter Monday)
    assert again == []
    assert group.sessions.count() == 4
    assert all(s.history.count() == 1 for s in group.sessions.all())


def test_generating_again_keeps_a_cancelled_or_moved_session(clinician, now):
    group = new_group(starts_on=date(2026, 3, 30))
    cancelled, moved, *_ = services.generate_sessions(group, weeks=4, today=date(2026, 3, 30))
    services.cancel_session(cancelled, by=clinician)
    services.move_session(moved, by=clinician, starts_at=at(date(2026, 4, 14), 13), room="Salen")

    again = services.generate_sessions(group, weeks=4, today=date(2026, 3, 30))

    assert again == []
    days = [timezone_day(s) for s in group.sessions.order_by("starts_at")]
    assert days == [date(2026, 3, 30), date(2026, 4, 14), date(2026, 4, 20), date(2026, 4, 27)]


def timezone_day(session: Session) -> date:
    return session.starts_at.astimezone(COPENHAGEN).date()


def test_sessions_stop_at_the_groups_end(clinician, now):
    group = new_group(starts_on=date(2026, 3, 30), ends_on=date(2026, 4, 20))

    created = services.generate_sessions(group, weeks=8, today=date(2026, 3, 30))

    assert [timezone_day(s) for s in created] == [
        date(2026, 3, 30),
        date(2026, 4, 13),
        date(2026, 4, 20),
    ]


def test_the_button_adds_the_coming_weeks_once(client_for, clinician, group, today):
    client = client_for(clinician)
    url = reverse("modules:group_generate", args=[group.pk])

    first = client.post(url, follow=True)
    second = client.post(url, follow=True)

    # Today is Wednesday 18 March: Mondays 23.3 to 11.5, without Easter Monday 6.4.
    assert group.sessions.count() == 7
    assert danish("%(count)d sessions added.", count=7) in body(first)
    assert danish("%(count)d sessions added.", count=0) in body(second)


def test_the_command_generates_sessions_for_running_groups(clinician, group, now):
    ended = new_group(module="Yoga", name="Yoga (slut)", ends_on=date(2026, 3, 1))

    call_command("generate_sessions", "--weeks", "2", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert group.sessions.count() == 2
    assert ended.sessions.count() == 0


# --- A fixed number of queries per page ---------------------------------------------------------

# The course page of a course in treatment runs, whatever its history:
#   1. the session (SessionMiddleware)
#   2. the user (AuthenticationMiddleware)
#   3. the user's confirmed TOTP devices (TwoFactorMiddleware)
#   4. the course with patient, municipality, referral, treatment plan and case formulation
#      joined (the formulation for the clinic only)
#   5. inserting the access-log row
#   6. the course's meetings (coordination's part of the page)
#   7-8. the norm hours and the attendance summary: group attendance (every status),
#      individual appointments
#   9. the outcome measurements (evaluation's part of the page)
#   10. the group enrolments
#   11. the open groups offered by the enrolment form (a cursor: the form's choices)
#   12. the individual appointments
#   13-15. saving the session (SESSION_SAVE_EVERY_REQUEST): savepoint, update, release
# (No plan was written here, so the plan's modules add no query.)
COURSE_QUERIES = 15


@pytest.mark.parametrize("sessions", [pytest.param(1, id="1-session"), pytest.param(20, id="20")])
def test_the_course_page_runs_the_same_queries_with_1_or_20_sessions_and_40_groups(
    client_for,
    clinician,
    ballerup_course,
    group,
    time_machine,
    now,
    django_assert_num_queries,
    sessions,
):
    course = ballerup_course
    # As many open groups as sessions, twice over: the enrolment form offers a bounded few.
    for n in range(2 * sessions):
        new_group(name=f"Hold {n:02d}")
    time_machine.move_to(now + timedelta(weeks=21), tick=False)
    enrolled(course, group, by=clinician, starts_on=course.start)
    first_monday = course.start + timedelta(days=(0 - course.start.weekday()) % 7)
    attended(course, weekly_sessions(group, first=first_monday, count=sessions), by=clinician)
    ContentType.objects.get_for_model(Patient)
    client = client_for(clinician)

    with django_assert_num_queries(COURSE_QUERIES):
        response = client.get(course_url(course))

    assert response.status_code == 200
    assert response.context["hours"].used == Decimal("0.5") * sessions
    assert len(response.context["offered_groups"]) == min(2 * sessions, OFFERED_GROUPS)


# --- The enrolment form offers a bounded number of groups --------------------------------------


def test_the_course_page_offers_the_plans_groups_first_and_finds_the_others_by_name(
    client_for, clinician, ballerup_course, today
):
    for n in range(OFFERED_GROUPS + 5):
        new_group(name=f"Hold {n:02d}")
    yoga = new_group(module="Yoga", name="Yoga tirsdag", weekday=Group.Weekday.TUESDAY)
    services.save_plan(
        ballerup_course,
        by=clinician,
        version=0,
        modules=[menu_module("Yoga")],
        goals="",
        intensity=TreatmentPlan.Intensity.MEDIUM,
    )
    client = client_for(clinician)

    first = client.get(course_url(ballerup_course))
    found = client.get(course_url(ballerup_course), {"group_search": "hold 24"})

    assert len(first.context["offered_groups"]) == OFFERED_GROUPS
    assert first.context["offered_groups"][0] == yoga  # the plan's module first
    assert first.context["more_groups"] is True
    assert body(first).count("<option value=") == OFFERED_GROUPS + 1  # and the empty choice
    assert [g.name for g in found.context["offered_groups"]] == ["Hold 24"]
    assert found.context["more_groups"] is False
    assert 'value="hold 24"' in body(found)


def test_a_group_found_by_name_can_be_joined(client_for, clinician, ballerup_course, today):
    for n in range(OFFERED_GROUPS + 5):
        new_group(name=f"Hold {n:02d}")
    last = Group.objects.get(name=f"Hold {OFFERED_GROUPS + 4}")
    client = client_for(clinician)
    assert last not in client.get(course_url(ballerup_course)).context["offered_groups"]

    client.post(
        reverse("modules:course_enrol", args=[ballerup_course.pk]),
        {"group": last.pk, "starts_on": today.isoformat()},
    )

    assert list(ballerup_course.enrolments.values_list("group", flat=True)) == [last.pk]


def test_a_search_that_finds_no_group_says_so(client_for, clinician, ballerup_course, group):
    response = client_for(clinician).get(course_url(ballerup_course), {"group_search": "zzz"})

    assert response.context["offered_groups"] == []
    assert template_text("No open group matches the search.") in body(response)


# The today page runs, whatever the day holds and however many courses to follow up:
#   1-3. session, user, TOTP devices
#   4-5. all sessions today: their count, then the page's with group and module
#   6. the user's appointments today, with course and patient
#   7-8. the courses to follow up (the last two attendances and the first open enrolment as
#      subqueries, no attended session for four weeks as NOT EXISTS): their count, then the
#      page's courses with patient and municipality
#   9. the access-log rows for the patients listed (one insert)
#   10. the user's own sessions today, with group and module (read as the page renders)
#   11-13. saving the session: savepoint, update, release
# (Paging the clinic's sessions and the courses to follow up added their COUNTs: 11 before.)
TODAY_QUERIES = 13


@pytest.mark.parametrize(
    "size,to_follow_up",
    [pytest.param(1, 1, id="1-of-each"), pytest.param(4, 30, id="4-today-30-to-follow-up")],
)
def test_the_today_page_runs_the_same_queries_whatever_the_day_holds(
    client_for, clinician, today, django_assert_num_queries, size, to_follow_up
):
    for n in range(size):
        group = new_group(
            module="Tænkestil",
            name=f"Tænkestil {n}",
            weekday=Group.Weekday.WEDNESDAY,
            therapists=(clinician,),
        )
        new_session(group, starts_at=at(today, 9 + n))
        course = new_course(clinician, name=f"Patient {n}")
        services.book_appointment(
            course,
            by=clinician,
            clinician=clinician,
            starts_at=at(today, 14, n),
            duration_minutes=60,
            kind=Appointment.Kind.INDIVIDUAL_THERAPY,
        )
        enrolled(course, group, by=clinician, starts_on=today - timedelta(weeks=5))
    # More courses in a group for five weeks without attending, to follow up as well.
    quiet = new_group(name="Stille hold", capacity=to_follow_up)
    for n in range(to_follow_up - size):
        course = new_course(clinician, name=f"Fraværende {n:02d}")
        enrolled(course, quiet, by=clinician, starts_on=today - timedelta(weeks=5))
    client = client_for(clinician)
    # Content types are cached per process; the count should not depend on test order.
    ContentType.objects.get_for_model(Patient)

    with django_assert_num_queries(TODAY_QUERIES):
        response = client.get(reverse("modules:today"))

    assert len(response.context["sessions"]) == size
    assert len(response.context["all_sessions"].object_list) == size
    assert len(response.context["appointments"]) == size
    assert response.context["follow_up"].paginator.count == to_follow_up
    assert len(response.context["follow_up"].object_list) == min(to_follow_up, PAGE_SIZE)


def test_the_courses_to_follow_up_page_and_only_the_page_is_logged(client_for, clinician, today):
    quiet = new_group(name="Stille hold", capacity=PAGE_SIZE + 1)
    courses = [new_course(clinician, name=f"Fraværende {n:02d}") for n in range(PAGE_SIZE + 1)]
    for course in courses:
        enrolled(course, quiet, by=clinician, starts_on=today - timedelta(weeks=5))
    client = client_for(clinician)

    first = client.get(reverse("modules:today"))
    logged = {row.object_id for row in AccessLog.objects.filter(what="today")}
    second = client.get(reverse("modules:today"), {"follow_up_page": "2"})

    assert [c.patient.name for c in first.context["follow_up"]] == [
        f"Fraværende {n:02d}" for n in range(PAGE_SIZE)
    ]
    assert logged == {course.patient_id for course in courses[:PAGE_SIZE]}
    assert [c.patient.name for c in second.context["follow_up"]] == [f"Fraværende {PAGE_SIZE}"]
    content = body(first)
    assert "<small>(26)</small>" in section(content, "follow-up-heading")
    assert 'href="?follow_up_page=2#follow-up-heading" rel="next"' in content
    assert 'href="?follow_up_page=1#follow-up-heading" rel="prev"' in body(second)


def test_the_clinics_sessions_today_page_on_their_own(client_for, clinician, today):
    for n in range(PAGE_SIZE + 1):
        group = new_group(name=f"Hold {n:02d}", weekday=Group.Weekday.WEDNESDAY)
        new_session(group, starts_at=at(today, 8, n))
    client = client_for(clinician)

    first = client.get(reverse("modules:today"))
    second = client.get(reverse("modules:today"), {"sessions_page": "2"})

    assert first.context["all_sessions"].paginator.count == PAGE_SIZE + 1
    assert [s.group.name for s in second.context["all_sessions"]] == [f"Hold {PAGE_SIZE}"]
    assert 'href="?sessions_page=2#all-sessions-heading" rel="next"' in body(first)


# The groups page runs, whatever the number of groups:
#   1-3. session, user, TOTP devices
#   4. the week's sessions with group and module (the calendar)
#   5-6. the open groups: their count, then the page's groups with module, seats taken and
#      waiting counted in SQL
#   7-9. saving the session: savepoint, update, release
# (Paging the groups added their COUNT: 8 before.)
GROUP_LIST_QUERIES = 9


@pytest.mark.parametrize("size", [pytest.param(1, id="1-group"), pytest.param(30, id="30")])
def test_the_group_list_runs_the_same_queries_with_1_or_30_groups(
    client_for, clinician, today, django_assert_num_queries, size
):
    for n in range(size):
        group = new_group(name=f"Hold {n}", weekday=n % 5, therapists=(clinician,))
        new_session(group, starts_at=at(LAST_MONDAY + timedelta(days=n % 5), 10))
        if n < 5:
            enrolled(new_course(clinician, name=f"P{n}"), group, by=clinician, starts_on=today)
    client = client_for(clinician)

    with django_assert_num_queries(GROUP_LIST_QUERIES):
        response = client.get(reverse("modules:group_list"))

    assert response.context["groups"].paginator.count == size
    assert len(response.context["groups"].object_list) == min(size, PAGE_SIZE)
    # The week's calendar is bounded by the week (rooms and hours), so it is not paged.
    assert sum(len(day) for day in response.context["week"].values()) == size


def test_the_group_list_pages_and_keeps_the_week(client_for, clinician, today):
    for n in range(PAGE_SIZE + 1):
        new_group(name=f"Hold {n:02d}", weekday=Group.Weekday.MONDAY, start_time=time(8, 0))

    response = client_for(clinician).get(
        reverse("modules:group_list"), {"week": "2026-03-23", "page": "2"}
    )

    assert [g.name for g in response.context["groups"]] == [f"Hold {PAGE_SIZE}"]
    assert response.context["monday"] == date(2026, 3, 23)
    assert 'href="?week=2026-03-23&amp;page=1#groups-heading" rel="prev"' in body(response)


# A group's page runs, whatever the number of participants, waiting and sessions:
#   1-3. session, user, TOTP devices
#   4. the group with its module
#   5. its therapists (prefetched)
#   6. the open enrolments with course and patient
#   7. the waiting list with course and patient
#   8. the sessions from two weeks back
#   9-11. saving the session: savepoint, update, release
# (+1: the access-log rows for the patients listed, one insert)
GROUP_DETAIL_QUERIES = 12


@pytest.mark.parametrize("size", [pytest.param(1, id="1-of-each"), pytest.param(6, id="6")])
def test_the_group_detail_runs_the_same_queries_with_1_or_6_participants(
    client_for, clinician, today, django_assert_num_queries, size
):
    group = new_group(capacity=size, therapists=(clinician,))
    for n in range(size):
        enrolled(new_course(clinician, name=f"P{n}"), group, by=clinician, starts_on=today)
    for n in range(size):  # the group is full now: these wait
        services.enrol(new_course(clinician, name=f"W{n}"), group, by=clinician, starts_on=today)
    weekly_sessions(group, first=LAST_MONDAY, count=size)
    client = client_for(clinician)

    with django_assert_num_queries(GROUP_DETAIL_QUERIES):
        response = client.get(reverse("modules:group_detail", args=[group.pk]))

    assert len(response.context["enrolments"]) == size
    assert len(response.context["waiting"]) == size
    assert len(response.context["sessions"]) == size


def test_the_groups_page_shows_seats_and_the_week(client_for, clinician, world):
    response = client_for(clinician).get(reverse("modules:group_list"), {"week": "2026-03-18"})

    groups = {g.name: (g.taken, g.waiting) for g in response.context["groups"]}
    assert groups == {"Adfærdsaktivering": (1, 0), "Tænkestil": (1, 1)}
    assert response.context["monday"] == LAST_MONDAY
    assert response.context["week"][LAST_MONDAY] == [world.session]
