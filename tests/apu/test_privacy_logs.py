"""No CPR number or name in any log output, and none on an error page.

A clinician, coordinators, a researcher and an administrator use every page of the site that
takes a patient (searches by CPR number and by name, the new-referral form valid and invalid,
the exports, the access report), meet 403s and 404s, and cause real server errors inside a
patient page; everything the configured logging writes meanwhile is captured, with the levels
settings.LOGGING gives and the root logger at DEBUG (the most LOG_LEVEL can turn on).

This module is also the URL conf of its tests: the site's URLs plus three test-only patient
pages that fail as a real page can, with a database error whose text holds the patient's
data (PostgreSQL quotes the duplicate key, or the whole failing row, in its DETAIL line).
"""

import copy
import io
import logging
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import connection, transaction
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.log import configure_logging

from apu.access import log_patient_access
from apu.logging import RedactPatientData, exception_text, redact
from apu.models import User
from apu.permissions import get_for_user_or_404
from coordination.models import Meeting
from evaluation import research
from evaluation.models import ResearchConsent
from referrals.models import Patient, Referral
from tests.coordination.factories import accepted_course, meeting_of, schedule
from tests.factories import municipality
from tests.referrals.page_factories import days_ago, register, reject, valid_cpr

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]


# --- The test-only pages, and this module as the URL conf -------------------------------------


def _patient(request, pk: int) -> Patient:
    patient = get_for_user_or_404(Patient.objects.all(), request.user, pk=pk)
    log_patient_access(request, patient, what="test page")
    return patient


def duplicate_patient(request, pk: int):
    """Registers the patient a second time: a unique violation on the CPR number."""
    patient = _patient(request, pk)
    with transaction.atomic():
        Patient.objects.create(
            cpr=patient.cpr,
            name=patient.name,
            municipality=patient.municipality,
            birth_date=patient.birth_date,
            sex=patient.sex,
        )


def impossible_patient(request, cpr: str):
    """Found by the CPR number in its URL, then saved breaking a check constraint, so the error
    shows the whole row: name, address, phone, CPR number."""
    patient = get_for_user_or_404(Patient.objects.all(), request.user, cpr=cpr)
    log_patient_access(request, patient, what="test page")
    with transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(sex="other")


def refusing_patient(request, pk: int):
    """A refusal whose message names the patient (a 403 page must not show it)."""
    patient = _patient(request, pk)
    raise PermissionDenied(f"{patient.name} {patient.cpr_formatted}")


def missing_patient(request, pk: int):
    """A 404 whose message names the patient (the 404 page must not show it)."""
    patient = _patient(request, pk)
    raise Http404(f"{patient.name} {patient.cpr_formatted}")


urlpatterns = [
    path("test-only/patients/<int:pk>/duplicate/", duplicate_patient),
    path("test-only/cpr/<str:cpr>/impossible/", impossible_patient),
    path("test-only/patients/<int:pk>/refuse/", refusing_patient),
    path("test-only/patients/<int:pk>/missing/", missing_patient),
    path("", include("apu.urls")),
]
handler500 = "apu.views.server_error"


# --- Capturing every log line -----------------------------------------------------------------


def _all_loggers() -> list[logging.Logger]:
    loggers = logging.Logger.manager.loggerDict.values()
    return [logging.getLogger(), *(each for each in loggers if isinstance(each, logging.Logger))]


@pytest.fixture
def capture_logs(settings, monkeypatch):
    """A context manager: inside it, whatever the site's logging would write goes to a text
    buffer instead, formatted and filtered by the configured handlers themselves.

    Logging is configured afresh from settings.LOGGING (as Django does at start-up) with the
    root logger at DEBUG; every handler it sets up writes into the buffer, and so does
    Python's last-resort handler, which prints records that no handler takes.
    """
    config = copy.deepcopy(settings.LOGGING)
    config["root"]["level"] = "DEBUG"

    @contextmanager
    def capturing():
        output = io.StringIO()
        configure_logging(settings.LOGGING_CONFIG, config)
        handlers = {handler for logger in _all_loggers() for handler in logger.handlers}
        unseen = [h for h in handlers if not isinstance(h, logging.StreamHandler)]
        assert unseen == [], f"handlers that write where the test cannot see: {unseen}"
        streams = {handler: handler.setStream(output) for handler in handlers}
        last_resort = logging.StreamHandler(output)
        last_resort.setLevel(logging.WARNING)
        monkeypatch.setattr(logging, "lastResort", last_resort)
        try:
            yield output
        finally:
            for handler, stream in streams.items():
                handler.setStream(stream)
            configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)

    return capturing


# --- The clinic -------------------------------------------------------------------------------


@dataclass
class Clinic:
    ballerup: Patient  # a course with a scheduled meeting, research consent
    gladsaxe: Patient  # a rejected referral
    ballerup_referral: Referral
    rejected: Referral
    meeting: Meeting
    new_cpr: str  # posted in a valid new referral
    new_name: str
    bad_cpr: str  # posted in an invalid one
    bad_name: str

    def secrets(self) -> list[str]:
        """Every form in which a line could give away who a test patient is."""
        found = []
        for patient in (self.ballerup, self.gladsaxe):
            found += [patient.cpr, patient.cpr_formatted, patient.cpr_masked, patient.name]
            found += patient.name.split()
        for cpr, name in ((self.new_cpr, self.new_name), (self.bad_cpr, self.bad_name)):
            found += [cpr, f"{cpr[:6]}-{cpr[6:]}", name, *name.split()]
        return found


@pytest.fixture
def clinic(clinician) -> Clinic:
    course = accepted_course(
        clinician,
        name="Henrietta Quistgaard",
        cpr=valid_cpr(date(1971, 8, 23)),
        first_contact=days_ago(5),
    )
    Patient.objects.filter(pk=course.patient_id).update(
        address="Skovvej 12, 2750 Ballerup", phone="40112233", email="hq@example.org"
    )
    meeting = schedule(
        meeting_of(course),
        by=clinician,
        when=timezone.now() + timedelta(days=3),
        place="APU, mødelokale 1",
    )
    research.give_consent(
        course.patient,
        by=clinician,
        given_on=timezone.localdate(),
        scope=ResearchConsent.Scope.OUTCOMES,
    )
    rejected = reject(
        register(
            clinician,
            name="Ottokar Vindeballe",
            municipality_code="159",
            cpr=valid_cpr(date(1966, 11, 4)),
        ),
        clinician,
    )
    return Clinic(
        ballerup=Patient.objects.get(pk=course.patient_id),
        gladsaxe=rejected.patient,
        ballerup_referral=course.referral,
        rejected=rejected,
        meeting=meeting,
        new_cpr=valid_cpr(date(1983, 4, 19)),
        new_name="Valdemar Ravnkilde",
        # 31 April does not exist: the form refuses it and shows it again.
        bad_cpr="3104831234",
        bad_name="Sigrid Ulfkjaer",
    )


def referral_form(cpr: str, name: str, **overrides) -> dict:
    data = {
        "cpr": f"{cpr[:6]}-{cpr[6:]}",
        "name": name,
        "municipality": municipality("151").pk,
        "first_contact": days_ago(3).isoformat(),
        "received": days_ago(2).isoformat(),
        "referrer_kind": Referral.ReferrerKind.GP,
        "referrer_name": "Dr. Hansen",
        "diagnosis_1": "DF321",
        "diagnosis_2": "DF102",
        "in_municipal_substance_treatment": "yes",
        "substitution_treatment": "none",
        "reason": f"{name} has been low for a year.",
        "mental_severity": "higher",
        "substance_severity": "higher",
    }
    return data | overrides


def logged_in(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def visits(clinic: Clinic) -> list[tuple[str, str, str, dict | None, int]]:
    """(persona, method, URL, data, expected status) for every page that takes a patient."""
    hq, ov = clinic.ballerup, clinic.gladsaxe
    course = clinic.ballerup_referral.course
    meeting = clinic.meeting
    pages = [
        ("referrals:referral_list", []),
        ("referrals:referral_detail", [clinic.ballerup_referral.pk]),
        ("referrals:patient_detail", [hq.pk]),
        ("course_detail", [course.pk]),
        ("coordination:worklist", []),
        ("coordination:meeting_detail", [meeting.pk]),
        ("coordination:meeting_outcome", [meeting.pk]),
        ("coordination:meeting_minutes", [meeting.pk]),
        ("coordination:meeting_ics", [meeting.pk]),
        ("referrals:referral_create", []),
        ("evaluation:dashboard", []),
        ("evaluation:dashboard_export", ["kpis", "csv"]),
    ]
    searches = [{"q": hq.cpr}, {"q": hq.cpr_formatted}, {"q": hq.name}, {"q": ov.cpr}]
    report = reverse("referrals:patient_access_report", args=[hq.pk])
    rows = []
    for persona in ("clinician", "coordinator_ballerup"):
        rows += [(persona, "get", reverse(name, args=args), None, 200) for name, args in pages]
        rows += [
            (persona, "get", reverse("referrals:referral_list"), query, 200) for query in searches
        ]
        rows += [
            (persona, "post", reverse("referrals:referral_preview"), {"cpr": hq.cpr}, 200),
            (
                persona,
                "post",
                reverse("referrals:referral_create"),
                referral_form(clinic.bad_cpr, clinic.bad_name, first_contact="yesterday"),
                200,
            ),
        ]
    cpr_in_path = f"/patients/{hq.cpr}/"
    rows += [
        # The clinic's own pages: the rejection letter, consent, the access report.
        (
            "clinician",
            "get",
            reverse("referrals:referral_letter", args=[clinic.rejected.pk]),
            None,
            200,
        ),
        ("clinician", "get", reverse("referrals:patient_detail", args=[ov.pk]), None, 200),
        ("clinician", "get", reverse("research:consent", args=[hq.pk]), None, 200),
        ("clinician", "get", report, None, 200),
        ("clinician", "get", report, {"print": "1"}, 200),
        ("clinician", "get", report, {"from": hq.cpr, "to": hq.name}, 400),
        ("clinician", "get", reverse("evaluation:worklist"), None, 200),
        ("clinician", "get", reverse("modules:today"), None, 200),
        (
            "clinician",
            "post",
            reverse("referrals:referral_create"),
            referral_form(clinic.new_cpr, clinic.new_name),
            302,
        ),
        ("admin_user", "get", "/admin/referrals/patient/", {"q": hq.cpr}, 200),
        ("admin_user", "get", "/admin/referrals/referral/", {"q": hq.name}, 200),
        ("admin_user", "get", f"/admin/referrals/patient/{hq.pk}/change/", None, 200),
        ("admin_user", "get", "/admin/apu/accesslog/", {"q": hq.cpr}, 200),
        # Refusals and pages that do not exist, some with a CPR number or name in the URL.
        ("coordinator_ballerup", "get", report, None, 403),
        (
            "coordinator_ballerup",
            "get",
            reverse("referrals:referral_letter", args=[clinic.rejected.pk]),
            None,
            404,
        ),
        (
            "coordinator_gladsaxe",
            "get",
            reverse("referrals:patient_detail", args=[hq.pk]),
            {"q": hq.cpr},
            404,
        ),
        ("coordinator_gladsaxe", "get", report, {"q": hq.name}, 404),
        ("clinician", "get", cpr_in_path, {"q": hq.cpr_formatted}, 404),
        ("clinician", "get", f"/search/{hq.cpr_formatted}/", {"name": hq.name}, 404),
        ("anonymous", "get", cpr_in_path, {"q": hq.name}, 302),
        ("anonymous", "get", f"/nothing/{hq.cpr}/", {"q": hq.name}, 404),
        ("researcher", "get", reverse("referrals:patient_detail", args=[hq.pk]), None, 403),
        ("researcher", "get", reverse("referrals:referral_list"), {"q": hq.cpr}, 403),
        # The researcher's pseudonymised export.
        ("researcher", "get", reverse("research:export"), None, 200),
        ("researcher", "get", reverse("research:export_csv"), None, 200),
        ("researcher", "get", reverse("research:dictionary_csv"), None, 200),
        # Server errors inside patient pages, one with the CPR number in its URL.
        ("clinician", "get", f"/test-only/patients/{hq.pk}/duplicate/", {"q": hq.cpr}, 500),
        ("clinician", "get", f"/test-only/cpr/{hq.cpr}/impossible/", {"q": hq.name}, 500),
        ("clinician", "get", f"/test-only/patients/{hq.pk}/refuse/", None, 403),
        ("clinician", "get", f"/test-only/patients/{hq.pk}/missing/", None, 404),
    ]
    return rows


def clients(request, personas) -> dict[str, Client]:
    """A logged-in client per persona (made before the capture: factories log at DEBUG)."""
    return {
        persona: Client(raise_request_exception=False)
        if persona == "anonymous"
        else logged_in(request.getfixturevalue(persona))
        for persona in personas
    }


def visit(client: Client, method: str, url: str, data):
    response = getattr(client, method)(url, data)
    if response.streaming:
        b"".join(response.streaming_content)  # the export logs and builds as it streams
    return response


def leaks(text: str, clinic: Clinic) -> list[str]:
    """The lines of ``text`` that give a test patient away (so a failure shows them)."""
    secrets = clinic.secrets()
    return [line for line in text.splitlines() if any(secret in line for secret in secrets)]


@pytest.mark.urls(__name__)
def test_no_cpr_number_or_name_reaches_the_logs_from_any_page(request, clinic, capture_logs):
    pages = visits(clinic)
    client = clients(request, {persona for persona, *_ in pages})

    # Queries captured, as django_assert_num_queries does: each is then logged at DEBUG by
    # django.db.backends with its parameters, unless the configured level drops it.
    with capture_logs() as output, CaptureQueriesContext(connection):
        statuses = [
            (url, visit(client[persona], method, url, data).status_code)
            for persona, method, url, data, _ in pages
        ]

    assert statuses == [(url, expected) for _, _, url, _, expected in pages]
    text = output.getvalue()
    # The errors were logged, traceback and all: the capture saw them.
    assert text.count("Internal Server Error") == 2
    assert "IntegrityError" in text
    assert "Traceback (most recent call last)" in text
    assert leaks(text, clinic) == [], "\n".join(leaks(text, clinic))


def test_the_development_servers_request_lines_hold_no_cpr_number_or_search(
    request, clinic, capture_logs, settings
):
    """runserver logs a line for every 4xx and 5xx, URL and query string included."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SECURE_SSL_REDIRECT = False
    hq = clinic.ballerup
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [
        f"{base}/nothing/{hq.cpr}/?q={hq.cpr_formatted}",
        f"{base}/search/{hq.cpr_formatted}/?name={hq.name.replace(' ', '+')}",
    ]

    with capture_logs() as output:
        thread.start()
        try:
            statuses = []
            for url in urls:
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(url, timeout=10)  # noqa: S310 (http only)
                statuses.append(refused.value.code)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)

    assert statuses == [404, 404]
    text = output.getvalue()
    assert text.count('" 404 ') == 2, text  # the lines were written
    assert leaks(text, clinic) == [], "\n".join(leaks(text, clinic))


# --- Error pages ------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "page,expected",
    [
        pytest.param("/test-only/patients/{pk}/duplicate/?q={cpr}", 500, id="500-duplicate"),
        pytest.param("/test-only/cpr/{cpr}/impossible/", 500, id="500-check-constraint"),
        pytest.param("/test-only/patients/{pk}/refuse/", 403, id="403-with-patient-message"),
        pytest.param("/test-only/patients/{pk}/missing/", 404, id="404-with-patient-message"),
        pytest.param("/patients/{cpr}/?q={cpr}", 404, id="404-cpr-in-url"),
        pytest.param("/nothing/{cpr}/?q={name}", 404, id="404-no-such-page"),
    ],
)
def test_error_pages_show_no_patient_data(request, clinician, clinic, settings, page, expected):
    assert settings.DEBUG is False
    hq = clinic.ballerup
    url = page.format(pk=hq.pk, cpr=hq.cpr, name=hq.name.replace(" ", "+"))

    response = logged_in(clinician).get(url)

    assert response.status_code == expected
    content = response.content.decode()
    assert "<h1>" in content  # the site's own error page
    assert leaks(content, clinic) == []


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "persona,page,expected",
    [
        pytest.param("coordinator_ballerup", "access_report", 403, id="coordinator-403"),
        pytest.param("coordinator_gladsaxe", "patient", 404, id="other-municipality-404"),
        pytest.param("researcher", "patient", 403, id="researcher-403"),
    ],
)
def test_refusals_of_a_patient_page_show_no_patient_data(request, clinic, persona, page, expected):
    name = {
        "access_report": "referrals:patient_access_report",
        "patient": "referrals:patient_detail",
    }
    url = reverse(name[page], args=[clinic.ballerup.pk])

    response = logged_in(request.getfixturevalue(persona)).get(url)

    assert response.status_code == expected
    assert leaks(response.content.decode(), clinic) == []


# --- The filter itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line,expected",
    [
        pytest.param(
            '"GET /referrals/?q=170590-1233&page=2 HTTP/1.1" 404 179',
            '"GET /referrals/?[query] HTTP/1.1" 404 179',
            id="query-string",
        ),
        pytest.param(
            "Internal Server Error: /patients/1705901233/",
            "Internal Server Error: /patients/[CPR]/",
            id="cpr-in-path",
        ),
        pytest.param("cpr 170590-1233, 170590%2D1233", "cpr [CPR], [CPR]", id="dashed-and-encoded"),
        pytest.param(
            "order 123456789012 of 2026", "order 123456789012 of 2026", id="other-numbers"
        ),
        pytest.param("Is it ready? Yes.", "Is it ready? Yes.", id="question-mark"),
    ],
)
def test_redact_drops_query_strings_and_masks_cpr_numbers(line, expected):
    assert redact(line) == expected


# Messages as PostgreSQL words them (kept out of the raising lines, which a traceback shows).
DUPLICATE = 'duplicate key "cpr"\nDETAIL:  Key (cpr)=(1705901233) already exists.'
FAILING_ROW = "saving failed\nDETAIL:  Failing row contains (Jens Hansen)"


def _raise_chained():
    try:
        raise ValueError(DUPLICATE)
    except ValueError as error:
        raise RuntimeError(FAILING_ROW) from error


def test_a_traceback_keeps_its_frames_and_each_messages_first_line_only():
    with pytest.raises(RuntimeError) as raised:
        _raise_chained()

    text = exception_text((raised.type, raised.value, raised.tb))

    assert 'ValueError: duplicate key "cpr"' in text
    assert "RuntimeError: saving failed" in text
    assert "The above exception was the direct cause" in text
    assert "in _raise_chained" in text
    assert "DETAIL" not in text
    assert "1705901233" not in text
    assert "Jens Hansen" not in text


def test_the_filter_rewrites_the_record_and_survives_a_bad_format_string():
    with pytest.raises(RuntimeError) as raised:
        _raise_chained()
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Error at %s for %s", ("/p/?q=x",), None
    )
    record.exc_info = (raised.type, raised.value, raised.tb)

    assert RedactPatientData().filter(record) is True

    text = logging.Formatter("%(message)s").format(record)
    assert text.startswith("Error at %s for %s")  # unformatted, not an exception
    assert record.exc_info is None
    assert "RuntimeError: saving failed" in text
    assert "Jens Hansen" not in text
