"""Every URL that hands out a file or a page made for printing, and who gets it.

Found by the responses the code builds (``Content-Disposition``, ``text/csv``,
``text/calendar``, the XLSX type) and the printable templates: the research export and its
data dictionary, the dashboard's table exports, a meeting's invitation, the personal
calendar feed, the rejection letter, the meeting minutes, the access report's print and the
two-factor QR code. Nothing is uploaded: no model has a file field, so no media is served.
"""

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apu.models import AccessLog
from coordination.models import CalendarFeed, Meeting
from coordination.services import renew_calendar_feed
from evaluation import research
from evaluation.models import ResearchConsent
from referrals.models import Patient, Referral
from tests.coordination.factories import accepted_course, meeting_of, schedule
from tests.referrals.page_factories import register, reject

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

LOGIN = reverse("apu:login")
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ICS = "text/calendar; charset=utf-8"
HTML = "text/html; charset=utf-8"
SVG = "image/svg+xml"
PERSONAS = [
    "anonymous",
    "clinician",
    "admin_user",
    "coordinator_ballerup",  # the patient's own municipality
    "coordinator_gladsaxe",  # another municipality
    "researcher",
]


def files(patient: Patient, meeting: Meeting, rejected: Referral) -> dict[str, str]:
    """Each file's URL, for a Ballerup patient's meeting and rejected referral."""
    return {
        "research-export-csv": reverse("research:export_csv"),
        "research-dictionary-csv": reverse("research:dictionary_csv"),
        "dashboard-table-csv": reverse("evaluation:dashboard_export", args=["kpis", "csv"]),
        "dashboard-table-xlsx": reverse("evaluation:dashboard_export", args=["groups", "xlsx"]),
        "meeting-invitation-ics": reverse("coordination:meeting_ics", args=[meeting.pk]),
        "rejection-letter": reverse("referrals:referral_letter", args=[rejected.pk]),
        "meeting-minutes": reverse("coordination:meeting_minutes", args=[meeting.pk]),
        "access-report-print": reverse("referrals:patient_access_report", args=[patient.pk])
        + "?print=1",
        "two-factor-qr-svg": reverse("apu:two_factor_qr"),
    }


# (file, content type, attachment?) and the status each persona gets, in PERSONAS' order;
# "login" is the redirect to the login page.
EXPECTED = [
    ("research-export-csv", CSV, True, ["login", 403, 200, 403, 403, 200]),
    ("research-dictionary-csv", CSV, True, ["login", 403, 200, 403, 403, 200]),
    # A coordinator's tables hold their own municipality's figures only (the dashboard tests).
    ("dashboard-table-csv", CSV, True, ["login", 200, 200, 200, 200, 403]),
    ("dashboard-table-xlsx", XLSX, True, ["login", 200, 200, 200, 200, 403]),
    ("meeting-invitation-ics", ICS, True, ["login", 200, 200, 200, 404, 403]),
    ("rejection-letter", HTML, False, ["login", 200, 200, 403, 404, 403]),
    ("meeting-minutes", HTML, False, ["login", 200, 200, 200, 404, 403]),
    ("access-report-print", HTML, False, ["login", 200, 200, 403, 404, 403]),
    # The user's own authenticator secret; no patient data.
    ("two-factor-qr-svg", SVG, False, ["login", 200, 200, 200, 200, 200]),
]
CASES = [
    pytest.param(name, content_type, attachment, persona, status, id=f"{name}-{persona}")
    for name, content_type, attachment, statuses in EXPECTED
    for persona, status in zip(PERSONAS, statuses, strict=True)
]


@pytest.fixture
def ballerup(clinician):
    """A Ballerup patient with a scheduled meeting and research consent, and another Ballerup
    citizen's rejected referral."""
    course = accepted_course(clinician, name="Henrietta Quistgaard")
    meeting = schedule(
        meeting_of(course), by=clinician, when=timezone.now() + timedelta(days=3), place="APU"
    )
    research.give_consent(
        course.patient,
        by=clinician,
        given_on=timezone.localdate(),
        scope=ResearchConsent.Scope.OUTCOMES,
    )
    rejected = reject(register(clinician, name="Ottokar Vindeballe"), clinician)
    return course.patient, meeting, rejected


def client_of(request, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


@pytest.mark.parametrize("name,content_type,attachment,persona,expected", CASES)
def test_each_file_goes_only_to_the_roles_that_may_have_it(
    request, ballerup, name, content_type, attachment, persona, expected
):
    patient, meeting, rejected = ballerup
    client = client_of(request, persona)

    response = client.get(files(patient, meeting, rejected)[name])

    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")
        return
    assert response.status_code == expected
    content = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode(errors="replace")
    if expected != 200:
        assert patient.name not in content
        assert "Ottokar Vindeballe" not in content
        assert patient.cpr not in content
        return
    assert response["Content-Type"] == content_type
    disposition = response.get("Content-Disposition", "")
    assert disposition.startswith("attachment; filename=") is attachment


def test_the_research_export_names_no_patient_and_logs_each_exported_one(
    client_for, researcher, ballerup
):
    patient = ballerup[0]

    response = client_for(researcher).get(reverse("research:export_csv"))

    content = b"".join(response.streaming_content).decode()
    assert patient.name not in content
    assert patient.cpr not in content
    assert patient.cpr_formatted not in content
    looks = AccessLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Patient), object_id=patient.pk
    )
    assert [(look.user, look.what) for look in looks] == [(researcher, "research export")]


# --- The calendar feed: a secret URL instead of a login ----------------------------------------


@pytest.mark.parametrize(
    "owner,sees_the_meeting",
    [
        pytest.param("clinician", True, id="clinician"),
        pytest.param("coordinator_ballerup", True, id="coordinator-own-municipality"),
        pytest.param("coordinator_gladsaxe", False, id="coordinator-other-municipality"),
    ],
)
def test_a_calendar_feed_holds_only_the_meetings_its_owner_may_see(
    request, ballerup, owner, sees_the_meeting
):
    patient, meeting, _ = ballerup
    feed = renew_calendar_feed(request.getfixturevalue(owner))
    meeting_page = reverse("coordination:meeting_detail", args=[meeting.pk])

    response = Client().get(reverse("coordination:calendar_feed", args=[feed.token]))

    assert response.status_code == 200
    assert response["Content-Type"] == ICS
    content = response.content.decode()
    assert (meeting_page in content) is sees_the_meeting
    assert patient.name not in content
    assert patient.cpr not in content


def test_a_made_up_feed_token_answers_404(ballerup, coordinator_ballerup):
    renew_calendar_feed(coordinator_ballerup)

    response = Client().get(reverse("coordination:calendar_feed", args=["made-up-token"]))

    assert response.status_code == 404


def test_a_researcher_cannot_get_a_calendar_feed(client_for, researcher):
    client = client_for(researcher)

    assert client.get(reverse("coordination:calendar_settings")).status_code == 403
    assert client.post(reverse("coordination:calendar_renew")).status_code == 403
    assert not CalendarFeed.objects.filter(user=researcher).exists()


# --- Uploads ----------------------------------------------------------------------------------


def test_nothing_is_uploaded_so_no_media_is_served(settings):
    """A file field would need a view that checks who may fetch the file; there is none."""
    file_fields = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]

    assert file_fields == []
    assert settings.MEDIA_ROOT == ""
