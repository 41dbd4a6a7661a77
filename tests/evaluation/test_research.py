"""Research: consent recorded by the clinic, and a pseudonymised export of consenting
patients only, with no CPR number, name, address or free text, dates as day offsets."""

import csv
import hashlib
import io
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apu.models import AccessLog
from coordination.models import Discharge, Meeting
from coordination.services import discharge_course
from evaluation import research, research_views
from evaluation.models import Measurement, ResearchConsent
from modules.queries import course_hours, hours_by_course
from referrals.models import Patient, Referral
from tests.evaluation.research_factories import (
    PHQ9_BASELINE,
    WHO5_MIDPOINT,
    consent,
    course_of,
    identity,
    measure,
    treatment,
)
from tests.modules.factories import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

FIRST_CONTACT = date(2026, 2, 23)
START = date(2026, 3, 2)  # the courses open (and the baseline is answered) on this Monday
TODAY = date(2026, 5, 4)  # day 63 of the courses: the export is made today
PLANNED_END_DAY = 26 * 7
REDCAP_HEADER = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]


# --- The clinic ---------------------------------------------------------------------------


@pytest.fixture
def clinic(clinician, time_machine) -> SimpleNamespace:
    """Five patients with courses, all with CPR, name, address, phone, e-mail and a written
    referral reason: Anna and Dorte consent, Bo never did, Cecilie withdraws today, Erik
    withdrew a month ago. Anna is treated, measured twice and discharged."""
    time_machine.move_to(at(START, 9), tick=False)
    people = {
        key: identity(name)
        for key, name in [
            ("anna", "Anna Andersen"),
            ("bo", "Bo Bertelsen"),
            ("cecilie", "Cecilie Clausen"),
            ("dorte", "Dorte Dahl"),
            ("erik", "Erik Eriksen"),
        ]
    }
    courses = {
        key: course_of(
            clinician,
            who,
            first_contact=FIRST_CONTACT,
            municipality_code="159" if key == "dorte" else "151",
        )
        for key, who in people.items()
    }
    for key, course in courses.items():
        measure(
            course,
            by=clinician,
            instrument="PHQ-9",
            point=Measurement.Point.BASELINE,
            answered_on=START,
            answers=PHQ9_BASELINE,
        )
        if key != "bo":
            consent(course.patient, by=clinician, given_on=START)
    time_machine.move_to(at(TODAY, 9), tick=False)
    anna = courses["anna"]
    treatment(
        anna,
        by=clinician,
        sessions=[
            (at(date(2026, 3, 9), 10), "attended"),  # 0.5 norm hours, 2 hours received
            (at(date(2026, 3, 16), 10), "no_show"),  # 0.5 norm hours: the seat was held
            (at(date(2026, 3, 23), 10), "absent_notice"),  # costs nothing
            (at(date(2026, 3, 30), 10), "cancelled_session"),  # cancelled by the clinic
        ],
        appointment_at=at(date(2026, 3, 10), 13),  # 1 hour, attended
    )
    measure(
        anna,
        by=clinician,
        instrument="WHO-5",
        point=Measurement.Point.MIDPOINT,
        answered_on=START + timedelta(days=30),
        answers=WHO5_MIDPOINT,
    )
    discharge_course(
        anna,
        by=clinician,
        date=TODAY,
        kind=Discharge.Kind.DROPPED_OUT,
        reason="Borgeren ønskede at stoppe efter et tilbagefald",
        meeting_not_held_reason="Borgeren udeblev fra afslutningsmødet",
    )
    for key, withdrawn_on in [("cecilie", TODAY), ("erik", TODAY - timedelta(days=33))]:
        active = ResearchConsent.objects.get(patient=courses[key].patient)
        research.withdraw_consent(active, by=clinician, withdrawn_on=withdrawn_on)
    return SimpleNamespace(people=people, courses=courses, patients=_patients(courses))


def _patients(courses) -> dict[str, Patient]:
    return {key: course.patient for key, course in courses.items()}


def download(client, name: str = "research:export_csv") -> str:
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    return b"".join(response.streaming_content).decode()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def values_of(rows, pseudonym: str) -> dict[tuple[str, str], str]:
    """(variable, point) -> value for one patient's first course."""
    return {
        (row["variable"], row["point"]): row["value"]
        for row in rows
        if row["pseudonym"] == pseudonym and row["course"] == "1"
    }


# --- Who is exported ----------------------------------------------------------------------


def test_only_patients_consenting_today_are_exported(client_for, researcher, clinic):
    text = download(client_for(researcher))

    exported = {row["pseudonym"] for row in rows_of(text)}
    expected = {research.pseudonym(clinic.patients[key].pk) for key in ("anna", "dorte")}
    assert exported == expected
    left_out = {research.pseudonym(clinic.patients[key].pk) for key in ("bo", "cecilie", "erik")}
    assert not exported & left_out
    assert not any(code in text for code in left_out)


def test_a_consent_withdrawn_today_no_longer_counts(clinician, clinic):
    cecilie = clinic.patients["cecilie"]
    consent_row = ResearchConsent.objects.get(patient=cecilie)

    assert consent_row.withdrawn_on == TODAY
    assert cecilie not in research.consenting_patients(today=TODAY)
    assert cecilie in research.consenting_patients(today=TODAY - timedelta(days=1))


# --- Pseudonyms ---------------------------------------------------------------------------


def test_the_pseudonym_is_the_same_in_two_exports_and_differs_per_patient(
    client_for, researcher, clinic
):
    client = client_for(researcher)

    first = {row["pseudonym"] for row in rows_of(download(client))}
    second = {row["pseudonym"] for row in rows_of(download(client))}

    assert first == second
    assert len(first) == 2  # Anna and Dorte: one pseudonym each
    assert all(re.fullmatch(r"P-[0-9a-f]{16}", code) for code in first)


def test_the_pseudonym_is_keyed(settings, clinic):
    anna = clinic.patients["anna"]
    with_one_key = research.pseudonym(anna.pk)

    settings.RESEARCH_PSEUDONYM_KEY = "another-key"

    assert research.pseudonym(anna.pk) != with_one_key
    unkeyed = {
        hashlib.sha256(value.encode()).hexdigest()[:16]
        for value in (str(anna.pk), f"patient:{anna.pk}", anna.cpr)
    }
    assert with_one_key.removeprefix("P-") not in unkeyed


def test_production_refuses_to_start_without_the_pseudonym_key():
    environment = {
        key: value for key, value in os.environ.items() if key != "RESEARCH_PSEUDONYM_KEY"
    } | {
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "apu.example.org",
        "DATABASE_URL": "postgres://x@127.0.0.1:1/x",  # never reached
        "RESEARCH_PSEUDONYM_KEY": "",  # empty, so a developer's .env cannot fill it in
        "DJANGO_SETTINGS_MODULE": "apu.settings",
    }

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode != 0
    assert "RESEARCH_PSEUDONYM_KEY must be set in the environment when DEBUG is off" in (
        result.stderr
    )


# --- Nothing identifying ------------------------------------------------------------------


def _identifying_texts() -> list[str]:
    """Every patient's CPR (digits and DDMMYY-SSSS), name, address, phone and e-mail, and
    every free text the clinic wrote: referral reasons, referrers, summaries, discharges."""
    texts = []
    for patient in Patient.objects.all():
        texts += [patient.cpr, patient.cpr_formatted, patient.name, patient.address]
        texts += [patient.phone, patient.phone.replace(" ", ""), patient.email]
    for referral in Referral.objects.all():
        texts += [referral.reason, referral.referrer_name]
    texts += list(Meeting.objects.exclude(summary="").values_list("summary", flat=True))
    for discharge in Discharge.objects.all():
        texts += [discharge.reason, discharge.meeting_not_held_reason]
    return [text for text in texts if text]


def test_the_export_holds_no_cpr_name_address_phone_email_or_free_text(
    client_for, researcher, clinic
):
    text = download(client_for(researcher))
    identifying = _identifying_texts()

    # The scan is not empty: five patients' details and the written texts.
    assert len(identifying) >= 5 * 7 + 5
    assert clinic.people["anna"].reason in identifying
    assert [found for found in identifying if found in text] == []
    # No CPR-shaped run of digits in any cell but the pseudonym, whose hex digits may hold
    # ten decimal digits in a row by chance.
    rows = rows_of(text)
    cells = [value for row in rows for key, value in row.items() if key != "pseudonym"]
    assert len(cells) > 100
    assert [cell for cell in cells if re.search(r"\d{6}-?\d{4}", cell)] == []


def test_dates_are_day_offsets_from_the_course_start(client_for, researcher, clinic):
    text = download(client_for(researcher))

    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # no ISO date
    assert not re.search(r"\d{1,2}[./]\d{1,2}[./]\d{2,4}", text)  # nor a Danish one
    anna = values_of(rows_of(text), research.pseudonym(clinic.patients["anna"].pk))
    assert anna[("referral_day", "")] == "-7"
    assert anna[("course_start_day", "")] == "0"
    assert anna[("planned_end_day", "")] == str(PLANNED_END_DAY)
    assert anna[("discharge_day", "")] == "63"
    days = {
        (row["variable"], row["day"])
        for row in rows_of(text)
        if row["variable"] in ("phq9_total", "who5_total")
        and row["pseudonym"] == research.pseudonym(clinic.patients["anna"].pk)
    }
    assert days == {("phq9_total", "0"), ("who5_total", "30")}


def test_the_export_holds_course_data_scores_and_hours(client_for, researcher, clinic):
    rows = rows_of(download(client_for(researcher)))

    assert list(rows[0]) == ["pseudonym", "course", "variable", "value", "point", "day"]
    anna = values_of(rows, research.pseudonym(clinic.patients["anna"].pk))
    born = clinic.patients["anna"].birth_date
    assert anna[("sex", "")] == clinic.patients["anna"].sex
    assert anna[("age_at_first_contact", "")] == str(clinic.patients["anna"].age_on(FIRST_CONTACT))
    assert int(anna[("age_at_first_contact", "")]) >= FIRST_CONTACT.year - born.year - 1
    assert anna[("municipality_code", "")] == "151"
    assert (anna[("mental_severity", "")], anna[("substance_severity", "")]) == ("higher", "lower")
    assert anna[("consent_scope", "")] == "outcomes"
    assert anna[("course_status", "")] == "discharged"
    assert anna[("discharge_kind", "")] == "dropped_out"
    assert anna[("norm_hour_budget", "")] == "25.00"
    assert anna[("norm_hours_used", "")] == "2.00"  # 0.5 + 0.5 (no-show) + 1
    assert anna[("treatment_hours_received", "")] == "3.00"  # 2 + 1
    assert [anna[(f"phq9_item{n}", "baseline")] for n in range(1, 10)] == [
        str(value) for value in PHQ9_BASELINE
    ]
    assert anna[("phq9_total", "baseline")] == "15"
    assert anna[("phq9_band", "baseline")] == "moderately_severe"
    assert anna[("who5_total", "midpoint")] == "13"
    assert anna[("who5_band", "midpoint")] == "adequate"
    assert anna[("who5_percentage", "midpoint")] == "52"
    dorte = values_of(rows, research.pseudonym(clinic.patients["dorte"].pk))
    assert dorte[("municipality_code", "")] == "159"
    assert ("discharge_day", "") not in dorte  # a missing value has no row


def test_the_hours_are_those_of_the_course_page(clinic):
    # The export and the course page share modules.queries.hours_by_course; Anna's figures
    # are worked out by hand in the clinic fixture.
    anna = clinic.courses["anna"]

    exported = hours_by_course([course.pk for course in clinic.courses.values()])

    assert exported[anna.pk] == (Decimal("2"), Decimal("3"))
    hours = course_hours(anna, today=TODAY)
    assert (hours.used, hours.received) == (Decimal("2"), Decimal("3"))


def test_a_second_course_gets_the_next_course_number(clinician, client_for, researcher, clinic):
    anna = clinic.people["anna"]
    course_of(clinician, anna, first_contact=TODAY)

    rows = rows_of(download(client_for(researcher)))

    code = research.pseudonym(clinic.patients["anna"].pk)
    assert {row["course"] for row in rows if row["pseudonym"] == code} == {"1", "2"}
    second = {
        row["variable"]: row["value"]
        for row in rows
        if (row["pseudonym"], row["course"]) == (code, "2")
    }
    assert second["course_status"] == "in_treatment"
    assert second["referral_day"] == "0"


# --- The data dictionary ------------------------------------------------------------------


def test_the_data_dictionary_has_redcaps_header_and_a_row_per_exported_variable(
    client_for, researcher, clinic
):
    client = client_for(researcher)
    export = rows_of(download(client))
    dictionary = list(csv.reader(io.StringIO(download(client, "research:dictionary_csv"))))

    assert dictionary[0] == REDCAP_HEADER
    assert all(len(row) == len(REDCAP_HEADER) for row in dictionary)
    names = [row[0] for row in dictionary[1:]]
    assert len(names) == len(set(names))
    used = {row["variable"] for row in export} | {"pseudonym", "course", "point", "day"}
    assert used - set(names) == set()
    assert {"phq9_item9", "who5_percentage", "dudit_band", "audit_item10"} <= set(names)
    # REDCap's rules for a variable name: lower case, digits, underscores, a letter first.
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{0,25}", name) for name in names)
    band = next(row for row in dictionary if row[0] == "phq9_band")
    assert band[3] == "dropdown"
    assert band[5].startswith("minimal, ")
    assert "severe, " in band[5]


def test_the_data_dictionary_follows_the_language(client_for, researcher):
    client = client_for(researcher)

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = list(csv.reader(io.StringIO(download(client, "research:dictionary_csv"))))
    client.post(reverse("set_language"), {"language": "da", "next": "/"})
    danish = list(csv.reader(io.StringIO(download(client, "research:dictionary_csv"))))

    assert [row[0] for row in english] == [row[0] for row in danish]
    labels = {row[0]: (row[4], row[5]) for row in english}
    assert labels["phq9_item1"] == (
        "PHQ-9 1: Loss of interest",
        "0, Not at all | 1, Several days | 2, Over half the days | 3, Nearly every day",
    )
    assert {row[0]: row[4] for row in danish}[
        "phq9_item1"
    ] == "PHQ-9 1: Manglende lyst og interesse"


# --- Who may export -----------------------------------------------------------------------


EXPORT_PAGES = ["research:export", "research:export_csv", "research:dictionary_csv"]


@pytest.mark.parametrize("name", EXPORT_PAGES)
@pytest.mark.parametrize(
    "persona,status",
    [
        ("researcher", 200),
        ("admin_user", 200),
        ("clinician", 403),
        ("coordinator_ballerup", 403),
    ],
)
def test_only_researchers_and_admins_reach_the_export(request, client_for, persona, status, name):
    client = client_for(request.getfixturevalue(persona))

    response = client.get(reverse(name))

    assert response.status_code == status
    assert not AccessLog.objects.exists()  # nobody consents here, so nobody is logged


@pytest.mark.parametrize("name", EXPORT_PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(anonymous, name):
    response = anonymous.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("apu:login"))


def test_the_export_page_counts_the_consenting_patients_and_offers_both_files(
    client_for, researcher, clinic
):
    response = client_for(researcher).get(reverse("research:export"))

    assert response.context["patients"] == 2
    assert reverse("research:export_csv").encode() in response.content
    assert reverse("research:dictionary_csv").encode() in response.content
    assert not AccessLog.objects.filter(user=researcher).exists()


def test_the_researcher_sees_the_export_in_the_navigation(client_for, researcher):
    response = client_for(researcher).get(reverse("apu:home"))

    assert reverse("research:export").encode() in response.content


# --- The access log -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "batch_size,inserts",
    [
        pytest.param(500, 1, id="one-batch"),
        pytest.param(1, 2, id="a-batch-each"),
    ],
)
def test_each_export_logs_every_exported_patient_in_one_insert_per_batch(
    monkeypatch, client_for, researcher, clinic, batch_size, inserts
):
    monkeypatch.setattr(research, "EXPORT_BATCH_SIZE", batch_size)
    client = client_for(researcher)
    assert not AccessLog.objects.filter(user=researcher).exists()

    with CaptureQueriesContext(connection) as queries:
        download(client)

    logged = AccessLog.objects.filter(user=researcher)
    exported = {clinic.patients["anna"].pk, clinic.patients["dorte"].pk}
    assert {entry.object_id for entry in logged} == exported
    assert logged.count() == 2
    # The row count is not known when a batch is logged, before its rows leave.
    assert {entry.what for entry in logged} == {"research export"}
    assert {entry.content_type for entry in logged} == {ContentType.objects.get_for_model(Patient)}
    assert {entry.path for entry in logged} == {reverse("research:export_csv")}
    inserts_made = [
        q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "apu_accesslog"')
    ]
    assert len(inserts_made) == inserts


def test_downloading_the_data_dictionary_logs_nobody(client_for, researcher, clinic):
    download(client_for(researcher), "research:dictionary_csv")

    assert not AccessLog.objects.filter(user=researcher).exists()


# --- Query count --------------------------------------------------------------------------


def _consenting_courses(clinician, count: int) -> None:
    for number in range(count):
        course = course_of(clinician, identity(f"Patient {number}"), first_contact=FIRST_CONTACT)
        measure(
            course,
            by=clinician,
            instrument="PHQ-9",
            point=Measurement.Point.BASELINE,
            answered_on=START,
            answers=PHQ9_BASELINE,
        )
        treatment(
            course,
            by=clinician,
            sessions=[(at(START, 10), "attended"), (at(START + timedelta(days=7), 10), "no_show")],
            appointment_at=at(START, 13),
        )
        consent(course.patient, by=clinician, given_on=START)


# The export's queries: 1 the session, 2 the user, 3 the two-factor middleware's device
# check, 4-6 the session saved in a savepoint (it slides on every request) as the response
# leaves the view; then, as the file streams, per batch of patients: courses with patient,
# municipality, referral, discharge, newest screening and consent scope joined in;
# measurements; their answers; group attendance and appointments (the batch's hours); the
# access-log rows in one insert. A full batch is followed by one more courses query.
REQUEST_QUERIES = 6
BATCH_QUERIES = 6


@pytest.mark.parametrize(
    "patients,queries",
    [
        pytest.param(1, REQUEST_QUERIES + BATCH_QUERIES, id="one-patient-one-batch"),
        pytest.param(2, REQUEST_QUERIES + BATCH_QUERIES + 1, id="one-full-batch"),
        pytest.param(5, REQUEST_QUERIES + 3 * BATCH_QUERIES, id="five-patients-three-batches"),
    ],
)
def test_the_export_runs_the_same_queries_per_batch_whatever_the_patients_in_it(
    monkeypatch,
    django_assert_num_queries,
    client_for,
    clinician,
    researcher,
    time_machine,
    patients,
    queries,
):
    monkeypatch.setattr(research, "EXPORT_BATCH_SIZE", 2)
    time_machine.move_to(at(START, 9), tick=False)
    _consenting_courses(clinician, patients)
    time_machine.move_to(at(TODAY, 9), tick=False)
    client = client_for(researcher)
    ContentType.objects.get_for_model(Patient)  # cached from here on, as in a running server

    with django_assert_num_queries(queries):
        text = download(client)

    assert len({row["pseudonym"] for row in rows_of(text)}) == patients


# The export page runs, whatever the number of consenting patients: 1 the session, 2 the
# user, 3 the two-factor device check, 4 the consenting patients with a course, counted,
# 5-7 the session saved (savepoint, update, release). It names no patient, so logs none.
EXPORT_PAGE_QUERIES = 7


@pytest.mark.parametrize("patients", [1, 20], ids=["one-patient", "twenty-patients"])
def test_the_export_page_runs_the_same_queries_for_one_patient_or_twenty(
    django_assert_num_queries, client_for, clinician, researcher, time_machine, patients
):
    time_machine.move_to(at(START, 9), tick=False)
    _consenting_courses(clinician, patients)
    time_machine.move_to(at(TODAY, 9), tick=False)
    client = client_for(researcher)

    with django_assert_num_queries(EXPORT_PAGE_QUERIES):
        response = client.get(reverse("research:export"))

    assert response.context["patients"] == patients


# --- Streaming ----------------------------------------------------------------------------


def test_the_export_streams_and_reads_the_database_a_batch_at_a_time(
    monkeypatch, client_for, clinician, researcher, time_machine
):
    monkeypatch.setattr(research, "EXPORT_BATCH_SIZE", 1)
    time_machine.move_to(at(START, 9), tick=False)
    _consenting_courses(clinician, 3)
    time_machine.move_to(at(TODAY, 9), tick=False)
    first_patient = research.pseudonym(Patient.objects.order_by("pk").first().pk)
    client = client_for(researcher)
    ContentType.objects.get_for_model(Patient)

    response = client.get(reverse("research:export_csv"))

    assert isinstance(response, StreamingHttpResponse)
    chunks = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as header_queries:
        header = next(chunks)
    assert header == b"pseudonym,course,variable,value,point,day\r\n"
    assert len(header_queries) == 0  # the header leaves before the database is read
    with CaptureQueriesContext(connection) as first_queries:
        first = rows_of(header.decode() + next(chunks).decode())
    assert len(first_queries) == BATCH_QUERIES  # the first batch only
    assert {row["pseudonym"] for row in first} == {first_patient}
    assert AccessLog.objects.filter(user=researcher).count() == 1
    with CaptureQueriesContext(connection) as rest_queries:
        rest = rows_of(header.decode() + b"".join(chunks).decode())
    # Two more batches, and the courses query that finds no fourth patient.
    assert len(rest_queries) == 2 * BATCH_QUERIES + 1
    assert len({row["pseudonym"] for row in rest} - {first_patient}) == 2
    assert AccessLog.objects.filter(user=researcher).count() == 3


def test_the_file_is_the_same_whatever_the_batch_size(
    monkeypatch, clinician, client_for, researcher, clinic
):
    course_of(clinician, clinic.people["anna"], first_contact=TODAY)  # Anna's second course
    client = client_for(researcher)
    whole = download(client)

    monkeypatch.setattr(research, "EXPORT_BATCH_SIZE", 1)
    monkeypatch.setattr(research_views, "CHUNK_ROWS", 7)
    batched = download(client)

    assert batched == whole
    anna = research.pseudonym(clinic.patients["anna"].pk)
    assert {row["course"] for row in rows_of(batched) if row["pseudonym"] == anna} == {"1", "2"}


# --- Consent: the service -----------------------------------------------------------------


@pytest.fixture
def patient(clinician, time_machine) -> Patient:
    time_machine.move_to(at(START, 9), tick=False)
    return course_of(clinician, identity("Frida Frandsen"), first_contact=FIRST_CONTACT).patient


def test_a_clinician_records_consent_and_withdraws_it(clinician, patient, time_machine):
    assert patient not in research.consenting_patients()

    given = research.give_consent(patient, by=clinician, given_on=START, scope="follow_up")

    assert (given.given_on, given.scope, given.withdrawn_on) == (START, "follow_up", None)
    assert given.recorded_by == clinician
    assert given.history.get().history_user == clinician
    assert patient in research.consenting_patients()
    time_machine.move_to(at(TODAY, 9), tick=False)

    research.withdraw_consent(given, by=clinician, withdrawn_on=TODAY)

    given.refresh_from_db()
    assert given.withdrawn_on == TODAY
    assert given.history.latest().history_user == clinician
    assert patient not in research.consenting_patients()
    # Consent may be given again after the withdrawal.
    again = research.give_consent(patient, by=clinician, given_on=TODAY, scope="outcomes")
    assert patient in research.consenting_patients(today=TODAY)
    assert again.pk != given.pk


@pytest.mark.parametrize(
    "earlier,given_on,scope,field,code",
    [
        pytest.param(
            None, START + timedelta(days=1), "outcomes", "given_on", "future", id="future"
        ),
        pytest.param(None, START, "everything", "scope", "scope", id="unknown-scope"),
        pytest.param((START, None), START, "outcomes", "__all__", "active", id="second-active"),
        pytest.param(
            (START - timedelta(days=20), START - timedelta(days=5)),
            START - timedelta(days=6),
            "outcomes",
            "given_on",
            "overlap",
            id="before-previous-withdrawal",
        ),
    ],
)
def test_consent_is_refused_and_nothing_saved(
    clinician, patient, earlier, given_on, scope, field, code
):
    if earlier:
        consent(patient, by=clinician, given_on=earlier[0], withdrawn_on=earlier[1])
    before = list(ResearchConsent.objects.values_list("pk", "given_on", "withdrawn_on"))

    with pytest.raises(ValidationError) as refused:
        research.give_consent(patient, by=clinician, given_on=given_on, scope=scope)

    errors = refused.value.update_error_dict({})  # field -> errors, "__all__" for the form
    assert [error.code for error in errors[field]] == [code]
    assert str(errors[field][0].message)  # a sentence, not a code
    assert list(ResearchConsent.objects.values_list("pk", "given_on", "withdrawn_on")) == before


@pytest.mark.parametrize(
    "withdrawn_on,code",
    [
        pytest.param(START - timedelta(days=1), "order", id="before-given"),
        pytest.param(START + timedelta(days=1), "future", id="future"),
    ],
)
def test_withdrawal_is_refused_and_nothing_saved(clinician, patient, withdrawn_on, code):
    given = consent(patient, by=clinician, given_on=START)

    with pytest.raises(ValidationError) as refused:
        research.withdraw_consent(given, by=clinician, withdrawn_on=withdrawn_on)

    assert [error.code for error in refused.value.error_dict["withdrawn_on"]] == [code]
    given.refresh_from_db()
    assert given.withdrawn_on is None


def test_a_consent_is_withdrawn_only_once(clinician, patient):
    given = consent(patient, by=clinician, given_on=START - timedelta(days=3), withdrawn_on=START)

    with pytest.raises(ValidationError) as refused:
        research.withdraw_consent(given, by=clinician, withdrawn_on=START - timedelta(days=1))

    assert refused.value.code == "withdrawn"
    given.refresh_from_db()
    assert given.withdrawn_on == START


@pytest.mark.parametrize("persona", ["coordinator_ballerup", "researcher"])
def test_only_the_clinic_records_or_withdraws_consent(request, clinician, patient, persona):
    outsider = request.getfixturevalue(persona)
    given = consent(patient, by=clinician, given_on=START)

    with pytest.raises(PermissionDenied):
        research.withdraw_consent(given, by=outsider, withdrawn_on=START)
    research.withdraw_consent(given, by=clinician, withdrawn_on=START)
    with pytest.raises(PermissionDenied):
        research.give_consent(patient, by=outsider, given_on=START, scope="outcomes")

    given.refresh_from_db()
    assert given.withdrawn_on == START
    assert ResearchConsent.objects.count() == 1


# --- Consent: the page --------------------------------------------------------------------


def consent_url(patient: Patient) -> str:
    return reverse("research:consent", args=[patient.pk])


def test_the_clinician_opens_the_consent_page_and_the_look_is_logged(
    client_for, clinician, patient
):
    response = client_for(clinician).get(consent_url(patient))

    assert response.status_code == 200
    assert patient.name in response.content.decode()
    entry = AccessLog.objects.get(user=clinician, object_id=patient.pk)
    assert entry.what == "research consent"


def test_the_clinician_records_and_withdraws_consent_on_the_page(client_for, clinician, patient):
    client = client_for(clinician)
    assert not ResearchConsent.objects.exists()

    response = client.post(
        consent_url(patient),
        {"action": "give", "give-given_on": START.isoformat(), "give-scope": "outcomes"},
    )

    assert response.status_code == 302
    given = ResearchConsent.objects.get(patient=patient)
    assert (given.given_on, given.scope, given.withdrawn_on) == (START, "outcomes", None)

    response = client.post(
        consent_url(patient), {"action": "withdraw", "withdraw-withdrawn_on": START.isoformat()}
    )

    assert response.status_code == 302
    given.refresh_from_db()
    assert given.withdrawn_on == START


def test_a_refused_consent_shows_the_reason_and_saves_nothing(client_for, clinician, patient):
    tomorrow = START + timedelta(days=1)

    response = client_for(clinician).post(
        consent_url(patient),
        {"action": "give", "give-given_on": tomorrow.isoformat(), "give-scope": "outcomes"},
    )

    assert response.status_code == 400
    assert str(research.FUTURE_DATE) in response.content.decode()
    assert not ResearchConsent.objects.exists()


def test_withdrawing_without_an_active_consent_is_refused(client_for, clinician, patient):
    response = client_for(clinician).post(
        consent_url(patient), {"action": "withdraw", "withdraw-withdrawn_on": START.isoformat()}
    )

    assert response.status_code == 400
    assert not ResearchConsent.objects.exists()


@pytest.mark.parametrize(
    "persona,status",
    [
        ("admin_user", 200),
        ("coordinator_ballerup", 403),  # the patient is theirs to see, not to record for
        ("coordinator_gladsaxe", 404),  # another municipality's citizen: as if absent
        ("researcher", 403),
    ],
)
def test_the_consent_page_is_for_the_clinic(request, client_for, patient, persona, status):
    user = request.getfixturevalue(persona)
    client = client_for(user)

    get = client.get(consent_url(patient))
    post = client.post(
        consent_url(patient),
        {"action": "give", "give-given_on": START.isoformat(), "give-scope": "outcomes"},
    )

    assert (get.status_code, post.status_code) == (status, 302 if status == 200 else status)
    if status != 200:
        assert not ResearchConsent.objects.exists()
        assert not AccessLog.objects.filter(user=user).exists()


def test_an_unknown_patient_answers_404(client_for, clinician):
    response = client_for(clinician).get(reverse("research:consent", args=[999_999]))

    assert response.status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in_from_the_consent_page(anonymous, patient):
    response = anonymous.get(consent_url(patient))

    assert response.status_code == 302
    assert response.url.startswith(reverse("apu:login"))
