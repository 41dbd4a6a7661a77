"""Every look at a patient is logged, in the Django admin too: each list of patient-bearing rows
logs the patients of the rows on the page shown (one insert for the page), and the change and
history pages log the row's patient.

The rows are the access matrix's clinic (tests/access_data.py), all of Ballerup citizens; the
admin has a device and a verified session.
"""

from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apu.admin_access import LogsPatientLooks
from apu.models import AccessLog
from coordination.models import Meeting
from coordination.services import ActionInput, discharge_course, record_outcome
from evaluation import research
from evaluation.models import Measurement
from evaluation.services import record_measurement
from modules import services as module_services
from modules.models import Appointment
from referrals.models import Patient
from tests.access_data import LAST_MONDAY, NOW, AccessData, built_for_module
from tests.coordination.factories import schedule
from tests.modules.factories import at, attended, enrolled, new_course, new_group, new_session

pytestmark = pytest.mark.django_db

SESSION_COOKIE = django_settings.SESSION_COOKIE_NAME


@pytest.fixture(scope="module")
def clinic(django_db_setup, django_db_blocker) -> AccessData:
    """The clinic in a transaction rolled back after the module; each test in a savepoint."""
    with built_for_module(django_db_blocker) as data:
        yield data


@pytest.fixture(autouse=True)
def as_in_production(settings, time_machine):
    settings.REQUIRE_2FA = True
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def browser(clinic) -> Client:
    """The admin's browser, logged in and past the second factor."""
    client = Client()
    client.cookies = SimpleCookie({SESSION_COOKIE: clinic.sessions["admin"]})
    return client


# Each admin list of rows that belong to a patient, the way from a row to its patient, and
# the ``what`` its look is logged with.
LISTS = [
    ("referrals.patient", "", "admin: patient list"),
    ("referrals.referral", "patient", "admin: referral list"),
    ("referrals.course", "patient", "admin: course list"),
    ("referrals.screening", "referral__patient", "admin: screening list"),
    ("referrals.decision", "referral__patient", "admin: decision list"),
    ("coordination.meeting", "course__patient", "admin: coordination meeting list"),
    ("coordination.action", "meeting__course__patient", "admin: agreed action list"),
    ("coordination.discharge", "course__patient", "admin: discharge list"),
    ("modules.enrolment", "course__patient", "admin: enrolment list"),
    ("modules.waitinglistentry", "course__patient", "admin: waiting-list entry list"),
    ("modules.attendance", "course__patient", "admin: attendance list"),
    ("modules.appointment", "course__patient", "admin: individual appointment list"),
    ("modules.caseformulation", "course__patient", "admin: case formulation list"),
    ("modules.treatmentplan", "course__patient", "admin: treatment plan list"),
    ("evaluation.measurement", "course__patient", "admin: measurement list"),
    ("evaluation.researchconsent", "patient", "admin: research consent list"),
]
CASES = [pytest.param(*row, id=row[0]) for row in LISTS]


def registered(label: str):
    return next(
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.label_lower == label
    )


def changelist_url(label: str) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_changelist")


def logged(what: str) -> list[int]:
    """The patients looked at with ``what``, one entry per row of the log."""
    rows = AccessLog.objects.filter(
        what=what, content_type=ContentType.objects.get_for_model(Patient)
    )
    return sorted(int(pk) for pk in rows.values_list("object_id", flat=True))


def patients_of(label: str, path: str, rows=None) -> list[int]:
    """The patients of ``rows`` (all of the model's rows when None), found by the database."""
    model, _ = registered(label)
    queryset = (
        model._default_manager.all()
        if rows is None
        else model._default_manager.filter(pk__in=[row.pk for row in rows])
    )
    return sorted(set(queryset.values_list(path or "pk", flat=True)))


def test_every_admin_of_patient_rows_is_in_the_table():
    logging = {
        model._meta.label_lower: model_admin.patient_path
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, LogsPatientLooks)
    }

    assert logging == {label: path for label, path, _ in LISTS}


@pytest.mark.parametrize("label,path,what", CASES)
def test_a_list_logs_exactly_the_patients_it_shows(clinic, browser, label, path, what):
    assert logged(what) == []

    response = browser.get(changelist_url(label))

    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown, "the clinic has a row of every model"
    assert logged(what) == patients_of(label, path, shown) == patients_of(label, path)


def test_a_list_logs_only_the_page_shown(clinic, browser, monkeypatch):
    _, patient_admin = registered("referrals.patient")
    monkeypatch.setattr(patient_admin, "list_per_page", 2)

    response = browser.get(changelist_url("referrals.patient"))

    shown = [patient.pk for patient in response.context["cl"].result_list]
    assert len(shown) == 2 < Patient.objects.count()
    assert logged("admin: patient list") == sorted(shown)


def test_a_list_that_finds_no_one_logs_no_one(clinic, browser):
    response = browser.get(changelist_url("referrals.patient"), {"q": "Ingen med det navn"})

    assert response.status_code == 200
    assert logged("admin: patient list") == []


def another_patient_everywhere(clinic: AccessData) -> None:
    """A second patient with a row of every kind the lists show (one of each in the clinic)."""
    clinician = clinic.users["clinician"]
    course = new_course(clinician, name="Anne Ballerup")
    meeting = schedule(
        course.meetings.get(kind=Meeting.Kind.MIDPOINT), by=clinician, when=at(LAST_MONDAY, 15)
    )
    record_outcome(
        meeting,
        by=clinician,
        version=meeting.version,
        status=Meeting.Status.HELD,
        summary="Planen følges.",
        new_actions=[
            ActionInput(what="Ring til borger", responsible="municipality", due_date=NOW.date())
        ],
    )
    group = new_group(capacity=8, therapists=(clinician,))
    session = new_session(group, starts_at=at(LAST_MONDAY))
    enrolled(course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(days=7))
    attended(course, [session], by=clinician)
    module_services.enrol(
        course, clinic.rows["modules.group"], by=clinician, starts_on=LAST_MONDAY
    )  # the clinic's group is full: the waiting list
    module_services.book_appointment(
        course,
        by=clinician,
        clinician=clinician,
        starts_at=at(LAST_MONDAY, 15),
        duration_minutes=60,
        kind=Appointment.Kind.INDIVIDUAL_THERAPY,
    )
    module_services.save_case_formulation(
        course, by=clinician, version=0, text=module_services.Formulation(situations="Anne")
    )
    module_services.save_plan(
        course, by=clinician, version=0, modules=[group.module], goals="Mål.", intensity="low"
    )
    record_measurement(
        course,
        by=clinician,
        instrument="PHQ-9",
        point=Measurement.Point.BASELINE,
        answered_on=NOW.date() - timedelta(days=1),
        answers=[0, 1, 0, 1, 0, 1, 0, 1, 0],
    )
    research.give_consent(course.patient, by=clinician, given_on=NOW.date(), scope="outcomes")
    discharge_course(
        new_course(clinician, name="Asta Ballerup"),
        by=clinician,
        date=NOW.date(),
        kind="completed",
        meeting_not_held_reason="Borgeren udeblev.",
    )


@pytest.mark.parametrize("label,path,what", CASES)
def test_a_list_costs_the_same_queries_with_more_patients(clinic, browser, label, path, what):
    # The page's rows come with their patients joined, and the look is one insert for the
    # page: a second patient with rows of every kind adds no query.
    url = changelist_url(label)
    browser.get(url)  # the session's first refresh and the content types, out of the count
    with CaptureQueriesContext(connection) as before:
        browser.get(url)
    patients_before = len(patients_of(label, path))

    another_patient_everywhere(clinic)
    with CaptureQueriesContext(connection) as after:
        response = browser.get(url)

    assert len(patients_of(label, path, response.context["cl"].result_list)) > patients_before
    assert len(after) == len(before), [query["sql"] for query in after.captured_queries]


@pytest.mark.parametrize(
    "label,what",
    [
        ("referrals.patient", "admin: patient"),
        ("referrals.referral", "admin: referral"),
        ("coordination.meeting", "admin: coordination meeting"),
        ("modules.caseformulation", "admin: case formulation"),
        ("evaluation.measurement", "admin: measurement"),
    ],
)
def test_a_change_page_logs_the_rows_patient(clinic, browser, label, what):
    row = clinic.rows[label]
    app, model = label.split(".")
    patient_ids = patients_of(label, registered(label)[1].patient_path, [row])

    response = browser.get(reverse(f"admin:{app}_{model}_change", args=[row.pk]))

    assert response.status_code == 200
    assert logged(what) == patient_ids


def test_the_history_pages_log_the_rows_patient(clinic, browser):
    course = clinic.rows["referrals.course"]
    first = course.history.order_by("history_id").first()

    browser.get(reverse("admin:referrals_course_history", args=[course.pk]))
    browser.get(
        reverse("admin:referrals_course_simple_history", args=[course.pk, first.history_id])
    )

    assert logged("admin: course history") == [course.patient_id, course.patient_id]


def test_a_row_that_does_not_exist_logs_nothing(clinic, browser):
    response = browser.get(reverse("admin:referrals_course_change", args=[2_000_000_000]))

    assert response.status_code == 302  # the admin's "does not exist" message, on its index
    assert logged("admin: course") == []
