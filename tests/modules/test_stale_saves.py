"""Stale saves refused (issue 8): a treatment form opened before someone else saved the same
row is refused, nothing is changed, the page says why, and saving again after checking goes
through. A form without the fingerprint of the row it edits is refused as out of date."""

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django import forms
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from apu.models import User
from apu.versioning import ABSENT, FORM_OUT_OF_DATE, STALE_RECORD, StaleRecord, fingerprint
from modules import services, views
from modules.models import Appointment, Attendance, Enrolment, Group, Session
from referrals.models import Course
from tests.factories import UserFactory
from tests.modules.conftest import LAST_MONDAY
from tests.modules.factories import COPENHAGEN, at, enrolled, new_course, new_group, new_session

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

HTMX = {"HX-Request": "true"}


def says(response, message) -> bool:
    """The response shows the message, in Danish: on a page (escaped) or as a bare text."""
    with translation.override("da"):
        text = str(message)
    content = response.content.decode()
    return escape(text) in content or text in content


def status_of(response) -> int:
    """The status the view answered with, before any redirect was followed."""
    chain = getattr(response, "redirect_chain", None)
    return chain[0][1] if chain else response.status_code


def seen_in(content: str, action: str) -> str:
    """The fingerprint carried by the form posting to ``action`` (or the page's only one)."""
    start = content.find(f'action="{action}"')
    form = content[start : content.index("</form>", start)] if start >= 0 else content
    [value] = re.findall(r'name="seen" value="([^"]*)"', form)
    return value


@dataclass
class Clinic:
    """A Ballerup course in treatment, in a group with last Monday's session, with a first
    conversation this morning, and a second clinician who saves the same rows."""

    course: Course
    group: Group
    session: Session
    enrolment: Enrolment
    appointment: Appointment
    other_group: Group
    colleague: User

    def reload(self) -> "Clinic":
        for name in ("session", "enrolment", "appointment"):
            getattr(self, name).refresh_from_db()
        return self


@pytest.fixture
def clinic(clinician, ballerup_course, group, today) -> Clinic:
    enrolment = enrolled(
        ballerup_course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=1)
    )
    appointment = services.book_appointment(
        ballerup_course,
        by=clinician,
        clinician=clinician,
        starts_at=at(today, 8),
        duration_minutes=60,
        kind=Appointment.Kind.FIRST_CONVERSATION,
    )
    return Clinic(
        course=ballerup_course,
        group=group,
        session=new_session(group, starts_at=at(LAST_MONDAY)),
        enrolment=enrolment,
        appointment=appointment,
        other_group=new_group(module="Værdier", weekday=Group.Weekday.FRIDAY),
        colleague=UserFactory(username="colleague", role=User.Role.CLINICIAN),
    )


def stored(clinic: Clinic) -> list:
    """Every row these forms edit, as stored, each with the number of its history rows."""
    rows = [
        Session.objects.get(pk=clinic.session.pk),
        *Enrolment.objects.filter(course=clinic.course).order_by("pk"),
        Appointment.objects.get(pk=clinic.appointment.pk),
        *Attendance.objects.filter(session=clinic.session).order_by("pk"),
    ]
    return [(type(row).__name__, fingerprint(row), row.history.count()) for row in rows]


# --- Another user's save of the same row, after the form was opened ---------------------------


def session_moved(clinic: Clinic) -> None:
    services.move_session(
        clinic.session, by=clinic.colleague, starts_at=at(LAST_MONDAY, 14), room="Salen"
    )


def start_corrected(clinic: Clinic) -> None:
    # An admin corrects the day the seat started (the admin form saves it with history).
    clinic.enrolment.starts_on = LAST_MONDAY - timedelta(weeks=2)
    clinic.enrolment.save(update_fields=["starts_on"])


def no_show_recorded(clinic: Clinic) -> None:
    services.record_appointment_attendance(
        clinic.appointment, by=clinic.colleague, status="no_show"
    )


def colleague_tapped_no_show(clinic: Clinic) -> None:
    services.record_attendance(clinic.session, clinic.course, by=clinic.colleague, status="no_show")


@dataclass(frozen=True)
class EditForm:
    """A form that edits an existing row, how it is opened, and what saving it means."""

    url: Callable[[Clinic], str]  # where the form posts
    page: Callable[[Clinic], str] | None  # the page showing it (None: no page shows it)
    row: Callable[[Clinic], object]  # the row it edits, as stored now
    typed: Callable[[Clinic], dict]  # what the clinician enters
    meanwhile: Callable[[Clinic], None]  # another user's save of the same row
    done: Callable[[Clinic], bool]  # the clinician's change is saved
    refused_with: int  # the status of a refusal
    stale_message: object
    htmx: bool = False
    shows_itself_again: bool = False  # the refusal shows the form again, with what was typed
    still_shown: bool = True  # the page shows the form after the other user's save


def course_page(clinic: Clinic) -> str:
    return reverse("course_detail", args=[clinic.course.pk])


FORMS = {
    "move-session": EditForm(
        url=lambda c: reverse("modules:session_move", args=[c.session.pk]),
        page=lambda c: reverse("modules:session_move", args=[c.session.pk]),
        row=lambda c: Session.objects.get(pk=c.session.pk),
        typed=lambda c: {"starts_at": "2026-03-17T13:00", "room": "Lokale 5"},
        meanwhile=session_moved,
        done=lambda c: (
            (c.session.room, c.session.starts_at.astimezone(COPENHAGEN).hour) == ("Lokale 5", 13)
        ),
        refused_with=400,
        stale_message=STALE_RECORD,
        shows_itself_again=True,
    ),
    "cancel-session": EditForm(
        url=lambda c: reverse("modules:session_cancel", args=[c.session.pk]),
        page=lambda c: reverse("modules:group_detail", args=[c.group.pk]),
        row=lambda c: Session.objects.get(pk=c.session.pk),
        typed=lambda c: {},
        meanwhile=session_moved,
        done=lambda c: c.session.status == Session.Status.CANCELLED,
        refused_with=302,
        stale_message=views.SESSION_CHANGED,
    ),
    "appointment-attendance": EditForm(
        url=lambda c: reverse("modules:appointment_attendance", args=[c.appointment.pk]),
        page=course_page,
        row=lambda c: Appointment.objects.get(pk=c.appointment.pk),
        typed=lambda c: {"status": "attended", "no_show_reason": ""},
        meanwhile=no_show_recorded,
        done=lambda c: c.appointment.attendance == "attended",
        refused_with=302,
        stale_message=views.CHANGED_NOT_SAVED,
        still_shown=False,  # an appointment's attendance once recorded is shown, not asked
    ),
    "attendance-tap": EditForm(
        url=lambda c: reverse("modules:session_tap", args=[c.session.pk]),
        page=lambda c: reverse("modules:session_attendance", args=[c.session.pk]),
        row=lambda c: Attendance.objects.filter(session=c.session, course=c.course).first(),
        typed=lambda c: {"course": c.course.pk, "status": "attended"},
        meanwhile=colleague_tapped_no_show,
        done=lambda c: c.session.attendance.filter(status="attended").exists(),
        refused_with=400,
        stale_message=views.ATTENDANCE_CHANGED,
        htmx=True,
        shows_itself_again=True,
    ),
    "leave-group": EditForm(
        url=lambda c: reverse("modules:enrolment_end", args=[c.enrolment.pk]),
        page=course_page,
        row=lambda c: Enrolment.objects.get(pk=c.enrolment.pk),
        typed=lambda c: {"ends_on": "2026-03-18"},
        meanwhile=start_corrected,
        done=lambda c: c.enrolment.ends_on is not None,
        refused_with=302,
        stale_message=views.CHANGED_NOT_SAVED,
    ),
    "switch-group": EditForm(
        url=lambda c: reverse("modules:enrolment_switch", args=[c.enrolment.pk]),
        page=None,
        row=lambda c: Enrolment.objects.get(pk=c.enrolment.pk),
        typed=lambda c: {"group": c.other_group.pk, "on": "2026-03-18"},
        meanwhile=start_corrected,
        done=lambda c: c.other_group.enrolments.filter(course=c.course).exists(),
        refused_with=302,
        stale_message=views.CHANGED_NOT_SAVED,
    ),
}


def open_form(client, clinic: Clinic, form: EditForm) -> str:
    """Open the page showing the form; the fingerprint its form carries."""
    if form.page is None:
        return fingerprint(form.row(clinic))
    response = client.get(form.page(clinic))
    assert response.status_code == 200
    return seen_in(response.content.decode(), form.url(clinic))


def post(client, clinic: Clinic, form: EditForm, data: dict):
    headers = HTMX if form.htmx else {}
    return client.post(form.url(clinic), data, headers=headers, follow=not form.htmx)


@pytest.mark.parametrize("name", list(FORMS))
def test_a_form_opened_before_another_save_is_refused_and_saving_again_goes_through(
    client_for, clinician, clinic, name
):
    form = FORMS[name]
    client = client_for(clinician)
    seen = open_form(client, clinic, form)
    form.meanwhile(clinic)
    before = stored(clinic)

    refused = post(client, clinic, form, {**form.typed(clinic), "seen": seen})

    assert status_of(refused) == form.refused_with
    assert says(refused, form.stale_message)
    assert stored(clinic) == before
    assert not form.done(clinic.reload())
    again = fingerprint(form.row(clinic))
    assert again != seen
    if form.shows_itself_again:
        assert seen_in(refused.content.decode(), form.url(clinic)) == again
    elif form.page is not None and form.still_shown:
        assert open_form(client, clinic, form) == again  # the clinician looks again

    saved = post(client, clinic, form, {**form.typed(clinic), "seen": again})

    assert saved.status_code == 200
    assert form.done(clinic.reload())


@pytest.mark.parametrize("name", list(FORMS))
def test_a_form_without_its_fingerprint_is_refused_as_out_of_date(
    client_for, clinician, clinic, name
):
    form = FORMS[name]
    client = client_for(clinician)
    before = stored(clinic)

    refused = post(client, clinic, form, form.typed(clinic))

    assert status_of(refused) == form.refused_with
    assert says(refused, FORM_OUT_OF_DATE)
    assert stored(clinic) == before
    assert not form.done(clinic.reload())


# --- Moving a session: the form keeps what was typed and shows the session as saved now -------


def test_a_stale_move_keeps_the_typed_time_and_room_and_shows_the_session_as_saved(
    client_for, clinician, clinic
):
    client = client_for(clinician)
    url = reverse("modules:session_move", args=[clinic.session.pk])
    seen = seen_in(client.get(url).content.decode(), url)
    assert seen == fingerprint(Session.objects.get(pk=clinic.session.pk))
    session_moved(clinic)

    response = client.post(url, {"starts_at": "2026-03-17T13:00", "room": "Lokale 5", "seen": seen})

    content = response.content.decode()
    assert response.status_code == 400
    assert 'name="starts_at" value="2026-03-17T13:00"' in content
    assert 'name="room" value="Lokale 5"' in content
    # The session as saved by the colleague: Monday 14:00 in Salen.
    assert "16.03.2026 14:00" in content
    assert "Salen" in content
    assert seen_in(content, url) == fingerprint(Session.objects.get(pk=clinic.session.pk))


def test_a_move_onto_the_groups_other_session_is_refused_with_a_message(
    client_for, clinician, clinic
):
    other = new_session(clinic.group, starts_at=at(LAST_MONDAY, 15))
    client = client_for(clinician)
    url = reverse("modules:session_move", args=[clinic.session.pk])
    before = Session.objects.get(pk=clinic.session.pk)
    seen = seen_in(client.get(url).content.decode(), url)

    local = timezone.localtime(other.starts_at).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"starts_at": local, "room": "Lokale 5", "seen": seen})

    assert response.status_code == 400
    assert says(response, services.SLOT_TAKEN)
    assert fingerprint(Session.objects.get(pk=clinic.session.pk)) == fingerprint(before)


def test_an_empty_post_to_the_move_form_is_refused_with_its_errors(client_for, clinician, clinic):
    client = client_for(clinician)
    url = reverse("modules:session_move", args=[clinic.session.pk])
    before = fingerprint(Session.objects.get(pk=clinic.session.pk))

    response = client.post(url, {})

    assert response.status_code == 400
    assert says(response, forms.Field.default_error_messages["required"])
    assert fingerprint(Session.objects.get(pk=clinic.session.pk)) == before


# --- Taps: another therapist's record is not overwritten -------------------------------------


def tap_url(clinic: Clinic) -> str:
    return reverse("modules:session_tap", args=[clinic.session.pk])


def attendance(clinic: Clinic) -> Attendance:
    return Attendance.objects.get(session=clinic.session, course=clinic.course)


def test_a_stale_tap_shows_the_saved_status_and_its_next_tap_goes_through(
    client_for, clinician, clinic
):
    client = client_for(clinician)
    page = client.get(reverse("modules:session_attendance", args=[clinic.session.pk]))
    assert seen_in(page.content.decode(), tap_url(clinic)) == ABSENT
    colleague_tapped_no_show(clinic)

    refused = client.post(
        tap_url(clinic),
        {"course": clinic.course.pk, "status": "attended", "seen": ABSENT},
        headers=HTMX,
    )

    content = refused.content.decode()
    assert refused.status_code == 400
    assert content.strip().startswith(
        f'<li class="attendance-row" id="participant-{clinic.course.pk}"'
    )
    assert 'class="tap tap-no_show selected" aria-pressed="true"' in content
    assert 'class="tap tap-attended" aria-pressed="false"' in content
    assert says(refused, views.ATTENDANCE_CHANGED)
    assert (attendance(clinic).status, attendance(clinic).recorded_by) == (
        "no_show",
        clinic.colleague,
    )
    assert seen_in(content, tap_url(clinic)) == fingerprint(attendance(clinic))

    again = client.post(
        tap_url(clinic),
        {
            "course": clinic.course.pk,
            "status": "attended",
            "seen": seen_in(content, tap_url(clinic)),
        },
        headers=HTMX,
    )

    assert again.status_code == 200
    assert (attendance(clinic).status, attendance(clinic).recorded_by) == ("attended", clinician)
    # The answer carries the record as saved now, so the row's next tap goes through too.
    assert seen_in(again.content.decode(), tap_url(clinic)) == fingerprint(attendance(clinic))
    assert [h.status for h in attendance(clinic).history.order_by("history_date")] == [
        "no_show",
        "attended",
    ]


def test_a_tap_on_a_record_changed_since_the_page_showed_it_is_refused(
    client_for, clinician, clinic
):
    services.record_attendance(clinic.session, clinic.course, by=clinician, status="attended")
    seen = fingerprint(attendance(clinic))
    services.record_attendance(
        clinic.session, clinic.course, by=clinic.colleague, status="absent_notice"
    )
    before = stored(clinic)

    refused = client_for(clinician).post(
        tap_url(clinic),
        {"course": clinic.course.pk, "status": "no_show", "seen": seen},
        headers=HTMX,
    )

    assert refused.status_code == 400
    assert 'class="tap tap-absent_notice selected"' in refused.content.decode()
    assert stored(clinic) == before


def test_a_stale_tap_of_the_status_already_recorded_changes_nothing_and_is_not_refused(
    client_for, clinician, clinic
):
    services.record_attendance(
        clinic.session, clinic.course, by=clinic.colleague, status="attended"
    )
    before = stored(clinic)

    response = client_for(clinician).post(
        tap_url(clinic),
        {"course": clinic.course.pk, "status": "attended", "seen": ABSENT},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert 'class="tap tap-attended selected"' in response.content.decode()
    assert stored(clinic) == before


def test_a_stale_tap_without_htmx_returns_to_the_page_with_the_message(
    client_for, clinician, clinic
):
    colleague_tapped_no_show(clinic)

    response = client_for(clinician).post(
        tap_url(clinic),
        {"course": clinic.course.pk, "status": "attended", "seen": ABSENT},
        follow=True,
    )

    assert response.redirect_chain == [
        (reverse("modules:session_attendance", args=[clinic.session.pk]), 302)
    ]
    content = response.content.decode()
    assert says(response, views.ATTENDANCE_CHANGED)
    assert 'class="tap tap-no_show selected"' in content
    assert attendance(clinic).status == "no_show"


def test_the_service_without_a_fingerprint_checks_nothing(clinician, clinic):
    # Demo data and commands call the services without a form: as before this check.
    colleague_tapped_no_show(clinic)

    record = services.record_attendance(
        clinic.session, clinic.course, by=clinician, status="attended"
    )
    services.move_session(clinic.session, by=clinician, starts_at=at(LAST_MONDAY, 9), room="Salen")

    assert record.status == "attended"
    assert Session.objects.get(pk=clinic.session.pk).room == "Salen"


# --- Two first taps at once (real connections, real row locks) --------------------------------

WAIT = 30  # seconds a thread waits for the other before the test fails


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_first_taps_at_once_save_one_and_refuse_the_other(reference_data, now, attempt):
    # No record exists to lock yet: the unique (session, course) index decides, and the tap
    # that loses is refused as stale instead of overwriting the other's status.
    first, second = (UserFactory(username=f"therapist-{n}") for n in "ab")
    course = new_course(first)
    group = new_group(therapists=(first, second))
    enrolled(course, group, by=first, starts_on=LAST_MONDAY - timedelta(weeks=1))
    session = new_session(group, starts_at=at(LAST_MONDAY))
    barrier = threading.Barrier(2, timeout=WAIT)

    def tap(by, status):
        try:
            connection.ensure_connection()  # connect before the barrier, not after
            barrier.wait()
            return services.record_attendance(session, course, by=by, status=status, seen=ABSENT)
        except StaleRecord as refused:
            return refused
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(tap, first, "attended"), pool.submit(tap, second, "no_show")]
        results = [future.result(timeout=WAIT) for future in futures]

    assert sorted(type(result).__name__ for result in results) == ["Attendance", "StaleRecord"]
    [saved] = [result for result in results if isinstance(result, Attendance)]
    [refused] = [result for result in results if isinstance(result, StaleRecord)]
    record = Attendance.objects.get()
    assert (record.status, record.recorded_by_id) == (saved.status, saved.recorded_by_id)
    assert refused.current.status == saved.status
    assert record.history.count() == 1
