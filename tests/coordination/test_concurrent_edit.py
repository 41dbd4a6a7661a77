"""Two people editing the same meeting at once: the first save wins, the second is refused
with what changed, and nothing the second person typed is lost or half-saved."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from coordination.models import Action, Meeting
from coordination.services import (
    STALE,
    ActionInput,
    StaleEdit,
    record_outcome,
    schedule_meeting,
)
from referrals.models import Course
from tests.coordination.conftest import TODAY
from tests.coordination.factories import at, meeting_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

FIRST_TEXT = "Aftalt: borgeren starter i gruppen for adfærdsaktivering i uge 51."
SECOND_TEXT = "Min version: rusmiddelcentret tager samtalerne, klinikken gruppen."


def label(field: str) -> str:
    with translation.override("da"):
        return str(Meeting._meta.get_field(field).verbose_name)


def stored(meeting: Meeting) -> dict:
    row = Meeting.objects.filter(pk=meeting.pk).values().get()
    row["actions"] = sorted(Action.objects.filter(meeting=meeting).values_list("what", flat=True))
    return row


def test_the_second_save_from_the_same_version_is_refused_with_the_changes(
    ballerup_course, clinician, coordinator_ballerup, time_machine, now
):
    intake = meeting_of(ballerup_course)
    opened_at = intake.version
    assert opened_at == 1

    record_outcome(
        intake,
        by=clinician,
        version=opened_at,
        status=Meeting.Status.HELD,
        summary=FIRST_TEXT,
        new_actions=[ActionInput("Ringe til borgeren", "region")],
    )
    after_first = stored(intake)
    assert after_first["version"] == 2
    assert after_first["summary"] == FIRST_TEXT

    time_machine.shift(timedelta(minutes=3))  # the second person saves a little later
    with pytest.raises(StaleEdit) as excinfo:
        record_outcome(
            intake,
            by=coordinator_ballerup,
            version=opened_at,
            status=Meeting.Status.CANCELLED,
            summary=SECOND_TEXT,
            new_actions=[ActionInput("Opdatere handleplanen", "municipality")],
        )

    assert excinfo.value.code == "stale"
    changes = dict(excinfo.value.changes)
    assert changes[label("summary")] == FIRST_TEXT
    with translation.override("da"):
        assert changes[label("status")] == "Afholdt"
    assert label("version") not in changes
    assert stored(intake) == after_first
    assert Course.objects.get(pk=ballerup_course.pk).status == Course.Status.IN_TREATMENT


def test_a_stale_move_is_refused_and_the_first_time_stays(
    ballerup_course, clinician, coordinator_ballerup, time_machine, now
):
    intake = meeting_of(ballerup_course)
    first = at(TODAY + timedelta(days=6), 13)
    schedule_meeting(intake, by=clinician, version=1, scheduled_at=first, place="APU, lokale 1")
    after_first = stored(intake)

    time_machine.shift(timedelta(minutes=1))
    with pytest.raises(StaleEdit) as excinfo:
        schedule_meeting(
            intake,
            by=coordinator_ballerup,
            version=1,
            scheduled_at=at(TODAY + timedelta(days=7), 9),
            place="Rusmiddelcentret",
        )

    assert dict(excinfo.value.changes)[label("place")] == "APU, lokale 1"
    assert stored(intake) == after_first
    assert after_first["scheduled_at"] == first


def outcome_post(version: int, summary: str, **extra) -> dict:
    """The outcome form as the browser posts it, with no new action rows filled in."""
    data = {
        "version": version,
        "status": "held",
        "patient_present": "yes",
        "patient_accepted_plan": "",
        "other_participants": "",
        "summary": summary,
        "action_plan_status": "",
        "action_plan_date": "",
        "action_plan_summary": "",
        "plan_fit": "",
        "next_meeting_date": "",
        "actions-TOTAL_FORMS": "3",
        "actions-INITIAL_FORMS": "0",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "20",
    }
    for index in range(3):
        for field in ("what", "responsible", "person", "due_date"):
            data[f"actions-{index}-{field}"] = ""
    data.update(extra)
    return data


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def version_in_form(html: str) -> int:
    return int(re.search(r'name="version" value="(\d+)"', html).group(1))


def test_two_people_saving_the_outcome_page_lose_nothing(
    ballerup_course, clinician, coordinator_ballerup, time_machine, now
):
    intake = meeting_of(ballerup_course)
    url = reverse("coordination:meeting_outcome", args=[intake.pk])
    clinic, municipality = logged_in(clinician), logged_in(coordinator_ballerup)
    # Both open the form before either saves.
    opened = version_in_form(clinic.get(url).content.decode())
    assert opened == version_in_form(municipality.get(url).content.decode()) == 1

    first = clinic.post(url, outcome_post(opened, FIRST_TEXT))
    assert first.status_code == 302
    after_first = stored(intake)
    assert (after_first["version"], after_first["summary"]) == (2, FIRST_TEXT)

    time_machine.shift(timedelta(minutes=2))
    second = municipality.post(
        url,
        outcome_post(
            opened,
            SECOND_TEXT,
            plan_fit="Handleplanen er fra oktober.",
            **{"actions-0-what": "Opdatere handleplanen", "actions-0-responsible": "municipality"},
        ),
    )

    assert second.status_code == 400
    page = second.content.decode()
    with translation.override("da"):
        assert escape(str(STALE)) in page
    changes = re.search(r'<ul class="changes">(.*?)</ul>', page, flags=re.DOTALL).group(1)
    assert f"<strong>{escape(label('summary'))}:</strong> {escape(FIRST_TEXT)}" in changes
    # What the second person typed is still in the form, ready to be checked and saved again.
    assert f">\n{escape(SECOND_TEXT)}</textarea>" in page
    assert "Handleplanen er fra oktober.</textarea>" in page
    assert 'value="Opdatere handleplanen"' in page
    assert stored(intake) == after_first


def test_saving_again_after_checking_the_changes_saves_the_second_text(
    ballerup_course, clinician, coordinator_ballerup, time_machine, now
):
    intake = meeting_of(ballerup_course)
    url = reverse("coordination:meeting_outcome", args=[intake.pk])
    clinic, municipality = logged_in(clinician), logged_in(coordinator_ballerup)
    clinic.post(url, outcome_post(1, FIRST_TEXT))
    time_machine.shift(timedelta(minutes=2))
    refused = municipality.post(url, outcome_post(1, SECOND_TEXT))
    assert refused.status_code == 400
    assert stored(intake)["summary"] == FIRST_TEXT

    # The refused form keeps the typed text but now carries the version saved by the first
    # person, so "check it and save again" works without retyping anything.
    version = version_in_form(refused.content.decode())
    assert version == 2
    again = municipality.post(url, outcome_post(version, SECOND_TEXT))

    assert again.status_code == 302
    assert (stored(intake)["summary"], stored(intake)["version"]) == (SECOND_TEXT, 3)


def test_a_refused_move_comes_back_with_the_current_version(
    ballerup_course, clinician, coordinator_ballerup, time_machine, now
):
    intake = meeting_of(ballerup_course)
    url = reverse("coordination:meeting_schedule", args=[intake.pk])
    data = {"scheduled_at": "2025-12-09T13:00", "duration_minutes": "60", "place": "APU"}
    assert logged_in(clinician).post(url, data | {"version": 1}).status_code == 302
    time_machine.shift(timedelta(minutes=2))

    refused = logged_in(coordinator_ballerup).post(
        url, data | {"version": 1, "place": "Rusmiddelcentret"}
    )

    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'value="Rusmiddelcentret"' in page
    assert version_in_form(page) == 2
    assert Meeting.objects.get(pk=intake.pk).place == "APU"


def test_the_changes_read_as_the_pages_show_them(
    ballerup_course, clinician, coordinator_ballerup, time_machine, now
):
    clinician.first_name, clinician.last_name = "Karin", "Klinik"
    clinician.save()
    intake = meeting_of(ballerup_course)
    # 13:00 in Copenhagen is 12:00 UTC in winter; the clinic reads local time.
    schedule_meeting(
        intake, by=clinician, version=1, scheduled_at=at(TODAY + timedelta(days=6), 13), place="APU"
    )
    record_outcome(
        intake,
        by=clinician,
        version=2,
        status=Meeting.Status.HELD,
        summary=FIRST_TEXT,
        patient_present=True,
        clinic_staff=[clinician],
        next_meeting_date=TODAY + timedelta(days=91),
    )

    time_machine.shift(timedelta(minutes=5))
    with pytest.raises(StaleEdit) as excinfo:
        record_outcome(
            intake, by=coordinator_ballerup, version=1, status="held", summary=SECOND_TEXT
        )

    changes = dict(excinfo.value.changes)
    assert changes[label("clinic_staff")] == "Karin Klinik"
    assert changes[label("outcome_recorded_by")] == "Karin Klinik"
    assert changes[label("next_meeting_date")] == "04.03.2026"
    assert changes[label("scheduled_at")] == "09.12.2025 13:00"
    assert changes[label("patient_present")] == "Ja"
    assert changes[label("place")] == "APU"
    assert excinfo.value.version == 3
