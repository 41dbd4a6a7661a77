"""The attendance page: one tap per participant, saved without a reload, a fixed number of
queries whatever the group's size, and the follow-up flags a tap can raise."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from apu.access import accesses_to
from apu.models import AccessLog
from apu.versioning import ABSENT, fingerprint
from modules import services
from modules.models import Attendance, AttendanceStatus, Group
from referrals.models import Patient
from tests.modules.conftest import LAST_MONDAY
from tests.modules.factories import at, enrolled, new_course, new_session, weekly_sessions

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

HTMX = {"HX-Request": "true"}


def shown(message) -> str:
    with translation.override("da"):
        return escape(str(message))


def page_url(session) -> str:
    return reverse("modules:session_attendance", args=[session.pk])


def tap_url(session) -> str:
    return reverse("modules:session_tap", args=[session.pk])


def tap(session, course, status: str) -> dict:
    """A tap as the row sends it, with the fingerprint of the record the row shows."""
    record = Attendance.objects.filter(session=session, course=course).first()
    return {"course": course.pk, "status": status, "seen": fingerprint(record)}


@pytest.fixture
def session(group):
    """Last Monday's session of the group."""
    return new_session(group, starts_at=at(LAST_MONDAY))


@pytest.fixture
def participant(clinician, ballerup_course, group):
    enrolled(ballerup_course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=1))
    return ballerup_course


def test_the_page_lists_the_patients_enrolled_on_the_day(
    client_for, clinician, group, session, participant, gladsaxe_course
):
    left = new_course(clinician, name="Lone Left")
    seat = enrolled(left, group, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=3))
    services.end_enrolment(seat, by=clinician, ends_on=LAST_MONDAY - timedelta(days=1))
    later = new_course(clinician, name="Leo Later")
    enrolled(later, group, by=clinician, starts_on=LAST_MONDAY + timedelta(days=1))

    response = client_for(clinician).get(page_url(session))

    assert response.status_code == 200
    names = [row["course"].patient.name for row in response.context["participants"]]
    assert names == ["Bente Ballerup"]
    content = response.content.decode()
    assert f'id="participant-{participant.pk}"' in content
    assert "Lone Left" not in content
    assert "Leo Later" not in content
    assert "Gunnar Gladsaxe" not in content
    assert [row.what for row in accesses_to(participant.patient)] == ["session attendance"]


def test_a_tap_saves_and_answers_with_the_participant_row_only(
    client_for, clinician, session, participant
):
    assert not Attendance.objects.exists()

    response = client_for(clinician).post(
        tap_url(session), tap(session, participant, "attended"), headers=HTMX
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert content.strip().startswith(
        f'<li class="attendance-row" id="participant-{participant.pk}"'
    )
    assert content.count("attendance-row") == 1
    assert 'class="tap tap-attended selected" aria-pressed="true"' in content
    record = Attendance.objects.get()
    assert (record.session, record.course, record.status) == (session, participant, "attended")
    assert record.recorded_by == clinician


def test_tapping_again_changes_the_record_and_history_keeps_the_old(
    client_for, clinician, session, participant
):
    client = client_for(clinician)
    client.post(tap_url(session), tap(session, participant, "attended"), headers=HTMX)
    first = Attendance.objects.get()

    response = client.post(tap_url(session), tap(session, participant, "no_show"), headers=HTMX)

    assert response.status_code == 200
    assert 'class="tap tap-no_show selected" aria-pressed="true"' in response.content.decode()
    assert 'class="tap tap-attended" aria-pressed="false"' in response.content.decode()
    record = Attendance.objects.get()
    assert record.pk == first.pk
    assert record.status == AttendanceStatus.NO_SHOW
    assert [h.status for h in record.history.order_by("history_date")] == ["attended", "no_show"]


def test_the_same_tap_twice_writes_no_new_history(client_for, clinician, session, participant):
    client = client_for(clinician)
    for _ in range(2):
        client.post(tap_url(session), tap(session, participant, "attended"), headers=HTMX)

    assert Attendance.objects.get().history.count() == 1


def test_without_htmx_a_tap_returns_to_the_page(client_for, clinician, session, participant):
    response = client_for(clinician).post(
        tap_url(session), tap(session, participant, "absent_notice")
    )

    assert response.status_code == 302
    assert response.url == page_url(session)
    assert Attendance.objects.get().status == AttendanceStatus.ABSENT_NOTICE


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"status": "attended"}, id="no-course"),
        pytest.param({"course": "x", "status": "attended"}, id="course-not-a-number"),
        pytest.param({"course": "PARTICIPANT", "status": "late"}, id="unknown-status"),
        pytest.param({"course": "PARTICIPANT"}, id="no-status"),
    ],
)
def test_a_bad_tap_is_refused(client_for, clinician, session, participant, data):
    data = {key: participant.pk if value == "PARTICIPANT" else value for key, value in data.items()}
    data["seen"] = ABSENT

    response = client_for(clinician).post(tap_url(session), data, headers=HTMX)

    assert response.status_code == 400
    assert not Attendance.objects.exists()


@pytest.mark.parametrize(
    "when,message",
    [
        pytest.param(timedelta(days=1), services.SESSION_IN_FUTURE, id="tomorrow"),
        pytest.param(timedelta(weeks=1), services.SESSION_IN_FUTURE, id="next-week"),
    ],
)
def test_a_tap_on_a_future_session_is_refused(
    client_for, clinician, group, participant, now, when, message
):
    future = new_session(group, starts_at=now + when)

    response = client_for(clinician).post(
        tap_url(future), tap(future, participant, "attended"), headers=HTMX
    )

    assert response.status_code == 400
    assert shown(message) in response.content.decode()
    assert "<html" not in response.content.decode()
    assert not Attendance.objects.exists()


def test_a_tap_later_the_same_day_is_accepted(client_for, clinician, group, participant, now):
    this_evening = new_session(group, starts_at=now.replace(hour=18))

    response = client_for(clinician).post(
        tap_url(this_evening), tap(this_evening, participant, "attended"), headers=HTMX
    )

    assert response.status_code == 200
    assert Attendance.objects.filter(session=this_evening).exists()


def test_a_tap_for_a_course_not_in_the_group_is_refused(
    client_for, clinician, session, participant
):
    outsider = new_course(clinician, name="Otto Udenfor")

    response = client_for(clinician).post(
        tap_url(session), tap(session, outsider, "attended"), headers=HTMX
    )

    assert response.status_code == 400
    assert shown(services.NOT_ENROLLED) in response.content.decode()
    assert not Attendance.objects.exists()


def test_a_tap_on_a_cancelled_session_is_refused(client_for, clinician, session, participant):
    services.cancel_session(session, by=clinician)

    response = client_for(clinician).post(
        tap_url(session), tap(session, participant, "attended"), headers=HTMX
    )

    assert response.status_code == 400
    assert shown(services.SESSION_CANCELLED) in response.content.decode()
    assert not Attendance.objects.exists()


@pytest.mark.parametrize(
    "persona,status",
    [
        pytest.param("coordinator_ballerup", 403, id="coordinator"),
        pytest.param("researcher", 403, id="researcher"),
    ],
)
def test_only_the_clinic_taps(request, client_for, session, participant, persona, status):
    user = request.getfixturevalue(persona)

    response = client_for(user).post(
        tap_url(session), tap(session, participant, "attended"), headers=HTMX
    )

    assert response.status_code == status
    assert not Attendance.objects.exists()


# --- A fixed number of queries ---------------------------------------------------------------

# The attendance page runs, whatever the number of participants:
#   1. the session (SessionMiddleware)
#   2. the user (AuthenticationMiddleware)
#   3. the user's confirmed TOTP devices (TwoFactorMiddleware)
#   4. the group session with group and module joined
#   5. the enrolments active on the day, with course and patient joined
#   6. the session's attendance records
#   7. one insert of the access-log rows, one per participant
#   8-10. saving the session (SESSION_SAVE_EVERY_REQUEST): savepoint, update, release
ATTENDANCE_PAGE_QUERIES = 10


@pytest.mark.parametrize(
    "size",
    [pytest.param(1, id="1-participant"), pytest.param(8, id="8"), pytest.param(20, id="20")],
)
def test_the_attendance_page_runs_the_same_queries_for_1_8_or_20_participants(
    client_for, clinician, group, session, django_assert_num_queries, size
):
    # A group is normed at about 8 participants; a bigger capacity shows nothing grows.
    Group.objects.filter(pk=group.pk).update(capacity=max(group.capacity, size))
    for n in range(size):
        course = new_course(clinician, name=f"Deltager {n}")
        enrolled(course, group, by=clinician, starts_on=LAST_MONDAY)
        if n % 2:
            services.record_attendance(session, course, by=clinician, status="attended")
    ContentType.objects.get_for_model(Patient)  # cached, as in a running server
    client = client_for(clinician)

    with django_assert_num_queries(ATTENDANCE_PAGE_QUERIES):
        response = client.get(page_url(session))

    assert response.status_code == 200
    assert len(response.context["participants"]) == size
    assert response.content.decode().count('class="attendance-row"') == size
    # Still one look logged per patient, as log_patient_access writes it.
    logged = AccessLog.objects.filter(user=clinician, what="session attendance")
    assert logged.count() == size
    assert {row.path for row in logged} == {page_url(session)}
    assert {row.content_type for row in logged} == {ContentType.objects.get_for_model(Patient)}


# The tap runs:
#   1-3. session, user, TOTP devices
#   4. the group session with group and module
#   5. the course (within the user's reach) with its patient
#   6. savepoint of record_attendance's transaction
#   7. the group session again, with its group
#   8. is the course enrolled on the day
#   9. the attendance record, locked (none yet: compared with the fingerprint "absent")
#   10. savepoint of the insert
#   11. inserting the record    12. its history row
#   13. releasing the insert's savepoint    14. releasing record_attendance's savepoint
#   15-17. saving the session: savepoint, update, release
TAP_QUERIES = 17


def test_a_tap_runs_a_fixed_number_of_queries(
    client_for, clinician, session, participant, django_assert_num_queries
):
    client = client_for(clinician)
    data = tap(session, participant, "attended")

    with django_assert_num_queries(TAP_QUERIES):
        client.post(tap_url(session), data, headers=HTMX)


# --- Follow-up: a possible drop-out on the clinician's worklist ---------------------------------


def follow_up_names(client) -> list[str]:
    response = client.get(reverse("modules:today"))
    assert response.status_code == 200
    return [course.patient.name for course in response.context["follow_up"]]


@pytest.mark.parametrize(
    "taps,weeks_in_group,flagged",
    [
        pytest.param(["no_show", "no_show"], 2, True, id="two-no-shows-in-a-row"),
        pytest.param(["attended", "no_show", "no_show"], 3, True, id="attended-then-two-no-shows"),
        pytest.param(["no_show", "attended", "no_show"], 3, False, id="no-shows-not-in-a-row"),
        pytest.param(["no_show", "no_show", "attended"], 3, False, id="came-back"),
        pytest.param(["no_show"], 1, False, id="one-no-show"),
        pytest.param(["absent_notice", "absent_notice"], 2, False, id="absent-with-notice-twice"),
        pytest.param([], 4, True, id="four-weeks-in-the-group-never-attended"),
        pytest.param([], 3, False, id="three-weeks-in-the-group"),
        pytest.param(["attended"] + ["absent_notice"] * 4, 6, True, id="last-attended-5-weeks-ago"),
        pytest.param(["absent_notice"] * 2 + ["attended"], 6, False, id="attended-last-week"),
    ],
)
def test_a_course_is_flagged_for_follow_up(
    client_for, clinician, group, participant, today, taps, weeks_in_group, flagged
):
    # The seat started `weeks_in_group` weeks before today; sessions are the last Mondays.
    seat = participant.enrolments.get()
    seat.starts_on = today - timedelta(weeks=weeks_in_group)
    seat.save()
    mondays = [LAST_MONDAY - timedelta(weeks=n) for n in reversed(range(len(taps)))]
    for day, status in zip(mondays, taps, strict=True):
        services.record_attendance(
            new_session(group, starts_at=at(day)), participant, by=clinician, status=status
        )
    client = client_for(clinician)

    assert follow_up_names(client) == (["Bente Ballerup"] if flagged else [])


def test_two_no_shows_tapped_on_the_page_put_the_course_on_today(
    client_for, clinician, group, participant
):
    client = client_for(clinician)
    assert follow_up_names(client) == []
    first, second = weekly_sessions(group, first=LAST_MONDAY - timedelta(weeks=1), count=2)

    for session in (first, second):
        client.post(tap_url(session), tap(session, participant, "no_show"), headers=HTMX)

    assert follow_up_names(client) == ["Bente Ballerup"]
    with translation.override("da"):
        reason = escape(translation.gettext("two no-shows in a row"))
    assert reason in client.get(reverse("modules:today")).content.decode()


def test_a_coordinator_follow_up_list_is_not_shown_to_other_municipalities(
    client_for, clinician, group, participant, gladsaxe_course
):
    enrolled(gladsaxe_course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(weeks=5))
    participant.enrolments.update(starts_on=LAST_MONDAY - timedelta(weeks=5))

    assert follow_up_names(client_for(clinician)) == ["Bente Ballerup", "Gunnar Gladsaxe"]
