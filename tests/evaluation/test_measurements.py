"""Recording questionnaires: answers item by item with the score as computed, the PHQ-9 item-9
safety flag, what is refused (and that nothing is saved then), the entry page, the outcome
charts on the course page (clinic only), and the worklist of measurements due."""

import re
from datetime import date, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from coordination.deadlines import midpoint_meeting_due
from coordination.services import discharge_course
from evaluation import services
from evaluation.models import Answer, Measurement
from evaluation.queries import flagged, measurements_due, points_due
from evaluation.views import ITEM9_WARNING
from referrals.models import Course
from referrals.pagination import PAGE_SIZE
from tests.evaluation.kpi_factories import answers_with_total
from tests.modules.factories import COPENHAGEN, GLADSAXE, new_course

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

NOW = datetime(2026, 3, 18, 9, 30, tzinfo=COPENHAGEN)
TODAY = NOW.date()
LOGIN = reverse("apu:login")
PHQ9_ITEM9_ONE = [1, 2, 3, 0, 1, 2, 3, 0, 1]  # total 13, moderate, item 9 above 0


@pytest.fixture
def now(time_machine) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def course(clinician, now) -> Course:
    """A Ballerup citizen's course, intake meeting held, started today."""
    return new_course(clinician, name="Bente Ballerup")


def saved() -> tuple:
    """Every row recording a questionnaire writes."""
    return (
        list(Measurement.objects.order_by("pk").values_list("pk", "instrument", "point", "total")),
        list(Answer.objects.order_by("pk").values_list("measurement_id", "number", "value")),
    )


def record(course, by, *, instrument="PHQ-9", point="baseline", answered_on=TODAY, answers=None):
    return services.record_measurement(
        course,
        by=by,
        instrument=instrument,
        point=point,
        answered_on=answered_on,
        answers=answers if answers is not None else answers_with_total(instrument, 12),
    )


def danish(message, **params) -> str:
    with translation.override("da"):
        text = str(message)
        return escape(text % params if params else text)


# --- record_measurement -----------------------------------------------------------------------


# The patient's CPR number ends in an even digit: female, so DUDIT's problem-use cut-off is 2.
@pytest.mark.parametrize(
    "instrument,answers,total,band,percentage",
    [
        pytest.param("PHQ-9", [1, 2, 3, 0, 1, 2, 3, 0, 0], 12, "moderate", None, id="phq9"),
        pytest.param("GAD-7", [3, 3, 3, 3, 3, 0, 0], 15, "severe", None, id="gad7"),
        pytest.param("WHO-5", [3, 3, 3, 2, 2], 13, "adequate", 52, id="who5-with-percentage"),
        pytest.param("AUDIT", [1, 1, 1, 1, 1, 1, 0, 0, 2, 0], 8, "zone_2", None, id="audit"),
        pytest.param("DUDIT", [1, 1] + [0] * 9, 2, "problem_use", None, id="dudit-female"),
    ],
)
def test_record_measurement_stores_each_answer_and_the_score(
    clinician, course, instrument, answers, total, band, percentage
):
    assert saved() == ([], [])

    measurement = record(course, clinician, instrument=instrument, answers=answers)

    measurement.refresh_from_db()
    assert (measurement.course, measurement.instrument, measurement.point) == (
        course,
        instrument,
        "baseline",
    )
    assert (measurement.total, measurement.band, measurement.percentage) == (
        total,
        band,
        percentage,
    )
    assert measurement.flags == []
    assert (measurement.answered_on, measurement.entered_by, measurement.entered_at) == (
        TODAY,
        clinician,
        NOW,
    )
    assert list(measurement.answers.values_list("number", "value")) == list(
        enumerate(answers, start=1)
    )
    # The answers keep their history, as every clinical row does.
    assert Answer.history.filter(measurement_id=measurement.pk).count() == len(answers)


@pytest.mark.parametrize(
    "item9,flagged_",
    [
        pytest.param(0, False, id="item9-0-not-flagged"),
        pytest.param(1, True, id="item9-1-flagged"),
        pytest.param(3, True, id="item9-3-flagged"),
    ],
)
def test_a_phq9_item9_answer_above_zero_is_flagged_and_on_the_safety_list(
    clinician, course, item9, flagged_
):
    assert list(flagged(clinician)) == []

    measurement = record(course, clinician, answers=[1, 1, 1, 1, 1, 1, 1, 1, item9])

    measurement.refresh_from_db()
    assert (measurement.flags == ["item9_positive"]) is flagged_
    assert measurement.item9_positive is flagged_
    assert (list(flagged(clinician)) == [measurement]) is flagged_


def test_the_safety_list_keeps_to_each_users_reach(
    clinician, coordinator_ballerup, coordinator_gladsaxe, course
):
    measurement = record(course, clinician, answers=PHQ9_ITEM9_ONE)

    assert list(flagged(clinician)) == [measurement]
    assert list(flagged(coordinator_ballerup)) == [measurement]
    assert list(flagged(coordinator_gladsaxe)) == []


def test_the_safety_list_shows_the_last_60_days(clinician, course, time_machine):
    measurement = record(course, clinician, answers=PHQ9_ITEM9_ONE)

    assert list(flagged(clinician, today=TODAY + timedelta(days=60))) == [measurement]
    assert list(flagged(clinician, today=TODAY + timedelta(days=61))) == []


def test_a_second_questionnaire_at_the_same_point_is_refused_and_nothing_is_saved(
    clinician, course
):
    first = record(course, clinician, answers=answers_with_total("PHQ-9", 12))
    before = saved()

    with pytest.raises(ValidationError) as refused:
        record(course, clinician, answers=answers_with_total("PHQ-9", 20))

    assert refused.value.code == "duplicate"
    assert "PHQ-9" in refused.value.messages[0]
    assert saved() == before
    first.refresh_from_db()
    assert first.total == 12
    # The same instrument at another point, or another instrument at this one, is fine.
    record(course, clinician, point="midpoint")
    record(course, clinician, instrument="GAD-7")
    assert Measurement.objects.count() == 3


@pytest.mark.parametrize(
    "answered_on,error",
    [
        pytest.param(TODAY + timedelta(days=1), services.FUTURE, id="tomorrow-refused"),
        pytest.param(date(2025, 1, 1), services.BEFORE_COURSE, id="before-first-contact"),
    ],
)
def test_a_date_in_the_future_or_before_the_referral_is_refused(
    clinician, course, answered_on, error
):
    with pytest.raises(ValidationError) as refused:
        record(course, clinician, answered_on=answered_on)

    assert refused.value.message_dict["answered_on"] == [str(error)]
    assert saved() == ([], [])


def test_today_is_allowed(clinician, course):
    assert record(course, clinician, answered_on=TODAY).answered_on == TODAY


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param([1] * 8, id="eight-answers"),
        pytest.param([1] * 10, id="ten-answers"),
        pytest.param([1] * 8 + [4], id="item9-out-of-range"),
    ],
)
def test_answers_that_do_not_fit_are_refused(clinician, course, answers):
    with pytest.raises(ValidationError):
        record(course, clinician, answers=answers)

    assert saved() == ([], [])


@pytest.mark.parametrize("persona", ["coordinator_ballerup", "researcher"])
def test_only_the_clinic_records_measurements(request, course, persona):
    with pytest.raises(PermissionDenied):
        record(course, request.getfixturevalue(persona))

    assert saved() == ([], [])


# --- The entry page ---------------------------------------------------------------------------


def entry_url(course, instrument="PHQ-9") -> str:
    return reverse("evaluation:measurement_new", args=[course.pk, instrument])


def course_url(course) -> str:
    return reverse("course_detail", args=[course.pk])


def posted(answers: list, *, point="baseline", answered_on=TODAY) -> dict:
    data = {"point": point, "answered_on": answered_on.isoformat()}
    data |= {f"item_{n}": str(v) for n, v in enumerate(answers, start=1)}
    return data


def test_the_entry_page_shows_a_row_of_radio_buttons_per_item(client_for, clinician, course):
    response = client_for(clinician).get(entry_url(course) + "?point=midpoint")

    assert response.status_code == 200
    content = response.content.decode()
    form = response.context["form"]
    assert [field.name for field in form.item_fields] == [f"item_{n}" for n in range(1, 10)]
    for n in range(1, 10):
        assert content.count(f'name="item_{n}"') == 4  # 0, 1, 2 and 3
    # Item 9 tells the page's script which warning to show, and the warning waits hidden.
    assert content.count('data-warn-above-zero="item9-warning"') == 4
    assert re.search(r'<div id="item9-warning"[^>]*role="alert" hidden>', content)
    assert form["point"].value() == "midpoint"
    assert form["answered_on"].value() == TODAY


# (persona, status of GET, status of POST): the course is a Ballerup citizen's.
@pytest.mark.parametrize(
    "persona,expected",
    [
        pytest.param("clinician", {"get": 200, "post": 302}, id="clinician"),
        pytest.param("coordinator_ballerup", {"get": 403, "post": 403}, id="coordinator-own-403"),
        pytest.param("coordinator_gladsaxe", {"get": 404, "post": 404}, id="coordinator-other-404"),
        pytest.param("researcher", {"get": 403, "post": 403}, id="researcher-403"),
        pytest.param("anonymous", {"get": "login", "post": "login"}, id="anonymous-login"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_who_reaches_the_entry_page(request, client, course, persona, expected, method):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))

    response = getattr(client, method)(entry_url(course), posted(PHQ9_ITEM9_ONE))

    if expected[method] == "login":
        assert response.status_code == 302
        assert response.url.startswith(f"{LOGIN}?next=")
    else:
        assert response.status_code == expected[method]
    if persona != "clinician":
        assert saved() == ([], [])


def test_an_unknown_instrument_is_404(client_for, clinician, course):
    assert client_for(clinician).get(entry_url(course, "BDI")).status_code == 404


def test_saving_a_phq9_with_item9_above_zero_warns_on_the_course_page(
    client_for, clinician, course
):
    client = client_for(clinician)
    assert saved() == ([], [])

    response = client.post(entry_url(course), posted(PHQ9_ITEM9_ONE), follow=True)

    assert response.redirect_chain == [(course_url(course), 302)]
    measurement = Measurement.objects.get()
    assert (measurement.total, measurement.flags, measurement.entered_by) == (
        13,
        ["item9_positive"],
        clinician,
    )
    content = response.content.decode()
    assert f'role="alert">{danish(ITEM9_WARNING)}</p>' in content
    assert "badge-danger" in content  # the flagged row in the chart's table


def test_saving_without_a_flag_shows_no_warning(client_for, clinician, course):
    response = client_for(clinician).post(
        entry_url(course), posted([1, 1, 1, 1, 1, 1, 1, 1, 0]), follow=True
    )

    content = response.content.decode()
    assert Measurement.objects.get().flags == []
    assert danish(ITEM9_WARNING) not in content
    assert 'role="status">PHQ-9' in content  # "PHQ-9 gemt: 8 point."


@pytest.mark.parametrize(
    "answers,field",
    [
        pytest.param([1] * 8, "item_9", id="an-item-missing"),
        pytest.param([4] + [1] * 8, "item_1", id="item1-out-of-range"),
        pytest.param([1] * 8 + [-1], "item_9", id="item9-negative"),
        pytest.param([1] * 8 + ["x"], "item_9", id="item9-not-a-number"),
    ],
)
def test_a_wrong_answer_gives_a_form_error_and_saves_nothing(
    client_for, clinician, course, answers, field
):
    response = client_for(clinician).post(entry_url(course), posted(answers))

    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert escape(form.errors[field][0]) in response.content.decode()
    assert saved() == ([], [])


def test_a_future_date_on_the_page_gives_a_form_error_and_saves_nothing(
    client_for, clinician, course
):
    response = client_for(clinician).post(
        entry_url(course), posted(PHQ9_ITEM9_ONE, answered_on=TODAY + timedelta(days=1))
    )

    assert response.status_code == 400
    assert danish(services.FUTURE) in response.content.decode()
    assert saved() == ([], [])


def test_a_duplicate_on_the_page_is_explained_and_nothing_changes(client_for, clinician, course):
    record(course, clinician)
    before = saved()

    response = client_for(clinician).post(entry_url(course), posted(PHQ9_ITEM9_ONE))

    assert response.status_code == 400
    content = response.content.decode()
    assert 'class="message message-error" role="alert"' in content
    assert "PHQ-9" in response.context["form"].non_field_errors()[0]
    assert saved() == before


# --- The course page's outcome charts ---------------------------------------------------------

SCORE_CHART = re.compile(r'<svg class="score-chart"[^>]*aria-label="([^"]+)".*?</svg>', re.S)


def charts_on(response) -> dict[str, int]:
    """Circles (measurements) per instrument chart on the page."""
    return {
        match.group(1): match.group(0).count("<circle")
        for match in SCORE_CHART.finditer(response.content.decode())
    }


def test_the_course_chart_shows_one_point_per_measurement(
    client_for, clinician, course, time_machine
):
    client = client_for(clinician)
    record(course, clinician, instrument="PHQ-9", point="baseline")
    record(course, clinician, instrument="GAD-7", point="baseline")
    assert charts_on(client.get(course_url(course))) == {"PHQ-9": 1, "GAD-7": 1}

    time_machine.move_to(NOW + timedelta(days=91), tick=False)
    record(course, clinician, point="midpoint", answered_on=TODAY + timedelta(days=91))

    client = client_for(clinician)  # a new day, a new login
    assert charts_on(client.get(course_url(course))) == {"PHQ-9": 2, "GAD-7": 1}


def test_a_course_without_measurements_says_so(client_for, clinician, course):
    response = client_for(clinician).get(course_url(course))

    assert charts_on(response) == {}
    assert 'id="outcomes-heading"' in response.content.decode()
    assert response.context["charts"] == []


def test_a_coordinator_never_sees_the_outcomes(client_for, clinician, coordinator_ballerup, course):
    record(course, clinician, answers=PHQ9_ITEM9_ONE)

    response = client_for(coordinator_ballerup).get(course_url(course))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="outcomes-heading"' not in content
    assert "score-chart" not in content
    assert "badge-danger" not in content
    assert reverse("evaluation:measurement_new", args=[course.pk, "PHQ-9"]) not in content
    assert response.context["charts"] == []


# --- Measurements due -------------------------------------------------------------------------

ALL = ["WHO-5", "PHQ-9", "GAD-7", "AUDIT", "DUDIT"]


def due_points(user, course, today) -> list[tuple[str, date, list[str]]]:
    return [
        (item.point, item.due, item.missing)
        for item in measurements_due(user, today=today)
        if item.course == course
    ]


# The course starts TODAY and is planned for 26 weeks (182 days): midpoint on day 91, the
# discharge point on day 182. A point is listed from a week before it falls; the discharge
# point only once it is reached (or the course is discharged).
START = TODAY
MIDPOINT = TODAY + timedelta(days=91)
PLANNED_END = TODAY + timedelta(days=182)


@pytest.mark.parametrize(
    "day,points",
    [
        pytest.param(0, ["baseline"], id="day-0-baseline"),
        pytest.param(83, ["baseline"], id="day-83-midpoint-not-yet"),
        pytest.param(84, ["baseline", "midpoint"], id="day-84-midpoint-a-week-ahead"),
        pytest.param(181, ["baseline", "midpoint"], id="day-181-discharge-not-reached"),
        pytest.param(182, ["baseline", "midpoint", "discharge"], id="day-182-discharge-reached"),
    ],
)
def test_measurement_points_are_due_as_the_course_reaches_them(clinician, course, day, points):
    due = due_points(clinician, course, TODAY + timedelta(days=day))

    assert [point for point, _day, _missing in due] == points
    assert all(missing == ALL for _point, _day, missing in due)
    assert {p: d for p, d, _m in due} == {
        p: d
        for p, d in {"baseline": START, "midpoint": MIDPOINT, "discharge": PLANNED_END}.items()
        if p in points
    }


def test_measurements_due_lists_only_the_missing_instruments(clinician, course):
    assert due_points(clinician, course, TODAY) == [("baseline", START, ALL)]

    record(course, clinician, instrument="PHQ-9")
    record(course, clinician, instrument="WHO-5")

    assert due_points(clinician, course, TODAY) == [
        ("baseline", START, ["GAD-7", "AUDIT", "DUDIT"])
    ]
    for instrument in ("GAD-7", "AUDIT", "DUDIT"):
        record(course, clinician, instrument=instrument)
    assert due_points(clinician, course, TODAY) == []


def test_a_discharged_course_is_due_its_discharge_and_follow_up(clinician, course, time_machine):
    discharged_on = TODAY + timedelta(days=100)
    time_machine.move_to(NOW + timedelta(days=100), tick=False)
    discharge_course(
        course,
        by=clinician,
        date=discharged_on,
        kind="completed",
        meeting_not_held_reason="Borgeren flyttede.",
    )
    follow_up = discharged_on + timedelta(days=91)

    assert [p for p, _d, _m in due_points(clinician, course, discharged_on)] == [
        "baseline",
        "midpoint",
        "discharge",
    ]
    assert ("follow_up", follow_up, ALL) in due_points(
        clinician, course, follow_up - timedelta(days=7)
    )
    assert "follow_up" not in [
        p for p, _d, _m in due_points(clinician, course, follow_up - timedelta(days=8))
    ]


def test_courses_awaiting_intake_are_not_due(clinician, now):
    waiting = new_course(clinician, name="Vera Venter", in_treatment=False)

    assert due_points(clinician, waiting, TODAY) == []


def test_measurements_due_keep_to_each_users_reach(
    clinician, coordinator_ballerup, coordinator_gladsaxe, course, now
):
    gladsaxe = new_course(clinician, name="Gunnar Gladsaxe", municipality_code=GLADSAXE)

    assert {item.course for item in measurements_due(clinician)} == {course, gladsaxe}
    assert {item.course for item in measurements_due(coordinator_ballerup)} == {course}
    assert {item.course for item in measurements_due(coordinator_gladsaxe)} == {gladsaxe}


# --- The worklist page ------------------------------------------------------------------------


# The worklist runs, whatever the number of courses (each list shows one page):
#   1. the session    2. the user    3. the two-factor device
#   4-5. flagged measurements: their count, then the page's with course and patient
#   6-7. measurement points due (one UNION ALL per point, the missing instruments counted
#      in SQL): their count, then the page's rows
#   8. the page's courses with patient and municipality
#   9. their measurements (which instruments are missing)
#   10. the content type of Patient    11. the access-log rows (one bulk insert)
#   12-14. savepoint, session saved (idle timeout), release
# (Paging added a COUNT per list, and the courses are fetched for the page only: 11 before,
# when every course in reach and all its measurements were read.)
WORKLIST_QUERIES = 14


@pytest.mark.parametrize("courses", [1, 30], ids=["one-course", "thirty-courses"])
def test_the_worklist_runs_the_same_queries_for_one_course_or_thirty(
    client_for, clinician, now, django_assert_num_queries, courses
):
    made = [new_course(clinician, name=f"Patient {n:02d}") for n in range(courses)]
    for course in made:
        record(course, clinician, answers=PHQ9_ITEM9_ONE)
    client = client_for(clinician)
    ContentType.objects.clear_cache()  # so the count does not depend on earlier tests

    with django_assert_num_queries(WORKLIST_QUERIES):
        response = client.get(reverse("evaluation:worklist"))

    assert response.status_code == 200
    content = response.content.decode()
    shown = min(courses, PAGE_SIZE)
    assert all(course.patient.name in content for course in made[:shown])
    assert [len(response.context[key].object_list) for key in ("flagged", "due")] == [shown] * 2
    assert [response.context[key].paginator.count for key in ("flagged", "due")] == [courses] * 2


def test_the_worklist_pages_each_list_and_keeps_the_other_page(client_for, clinician, now):
    made = [new_course(clinician, name=f"Patient {n:02d}") for n in range(PAGE_SIZE + 1)]
    for course in made:
        record(course, clinician, answers=PHQ9_ITEM9_ONE)
    client = client_for(clinician)

    response = client.get(reverse("evaluation:worklist"), {"due_page": "2"})

    due = response.context["due"].object_list
    assert [(item.course, item.point) for item in due] == [(made[-1], "baseline")]
    assert due[0].missing == ["WHO-5", "GAD-7", "AUDIT", "DUDIT"]
    assert len(response.context["flagged"].object_list) == PAGE_SIZE
    content = response.content.decode()
    assert 'href="?due_page=1#due-heading" rel="prev"' in content
    assert 'href="?due_page=2&amp;flagged_page=2#flagged-heading" rel="next"' in content
    assert "<small>(26)</small>" in content


def test_the_worklist_logs_only_the_patients_on_its_pages(client_for, clinician, now):
    from apu.models import AccessLog

    made = [new_course(clinician, name=f"Patient {n:02d}") for n in range(PAGE_SIZE + 1)]

    client_for(clinician).get(reverse("evaluation:worklist"))

    logged = set(AccessLog.objects.values_list("object_id", flat=True))
    assert logged == {course.patient_id for course in made[:PAGE_SIZE]}


@pytest.mark.parametrize("days", [181, 182, 183], ids=["odd-181", "even-182", "odd-183"])
def test_the_midpoint_computed_in_sql_is_midpoint_meeting_due(clinician, course, days):
    Course.objects.filter(pk=course.pk).update(planned_end=course.start + timedelta(days=days))
    course.refresh_from_db()
    expected = midpoint_meeting_due(start=course.start, planned_end=course.planned_end)

    rows = points_due(clinician, today=expected)

    assert [(row["point"], row["due"]) for row in rows if row["id"] == course.pk] == [
        ("baseline", course.start),
        ("midpoint", expected),
    ]


def test_the_worklist_logs_every_patient_it_shows(client_for, clinician, now):
    from apu.models import AccessLog

    flagged = new_course(clinician, name="Frida Flag")
    record(flagged, clinician, answers=PHQ9_ITEM9_ONE)
    only_due = new_course(clinician, name="Dennis Due")
    assert AccessLog.objects.count() == 0

    response = client_for(clinician).get(reverse("evaluation:worklist"))

    assert response.status_code == 200
    logged = set(AccessLog.objects.values_list("object_id", flat=True))
    assert {flagged.patient_id, only_due.patient_id} <= logged
    assert set(AccessLog.objects.values_list("user_id", flat=True)) == {clinician.pk}
