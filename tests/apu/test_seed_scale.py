"""Scaled demo data: ``seed_demo --scale N`` is N copies of the demo clinic, each its own team."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from apu import scaling
from apu.models import User
from coordination.models import Meeting
from evaluation.models import Answer, Measurement
from modules.models import Appointment, Attendance, Group
from referrals.cpr import parse_cpr
from referrals.models import Course, Patient, Referral, Screening, ScreeningCriterion

# One worker runs this whole module, so the demo clinic is seeded and scaled once.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.xdist_group("seed-scale"),
    pytest.mark.usefixtures("without_two_factor"),
]

MAIN_TABLES = [Referral, Course, Meeting, Attendance, Measurement, Answer]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every copied table, and of every history table of the four apps."""
    from django.apps import apps

    models = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in scaling.APPS
    ]
    return {model._meta.label: model._base_manager.count() for model in models}


@pytest.fixture(scope="module")
def scaled(django_db_setup, django_db_blocker):
    """The demo at scale 1 (its row counts) and then at scale 3, in one rolled-back transaction."""
    from django.conf import settings
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        debug, settings.DEBUG = settings.DEBUG, True
        try:
            seed("--scale", "1")
            base = row_counts()
            stride = scaling.strides(scaling.copied_models())
            output = seed("--scale", "3")
        finally:
            settings.DEBUG = debug
        yield {"base": base, "stride": stride, "output": output}
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def development(settings):
    settings.DEBUG = True


def test_scale_3_is_three_times_every_table_of_the_demo(scaled):
    base, now = scaled["base"], row_counts()

    for model in MAIN_TABLES:
        assert base[model._meta.label] > 0
    copied = {model._meta.label for model in scaling.copied_models()}
    assert {model._meta.label for model in MAIN_TABLES} <= copied
    assert {label: now[label] for label in copied} == {label: 3 * base[label] for label in copied}
    assert "Demo data at scale 3: adding 2 copies" in scaled["output"]
    assert "modules.Attendance: " in scaled["output"]


def test_copies_have_no_history_and_share_the_reference_data(scaled):
    base, now = scaled["base"], row_counts()
    copied = {model._meta.label for model in scaling.copied_models()}

    unchanged = {label: count for label, count in now.items() if label not in copied}

    assert unchanged == {label: base[label] for label in unchanged}
    assert any(label.startswith("referrals.Historical") for label in unchanged)
    shared = {"referrals.DiagnosisCode", "modules.Module", "evaluation.ImprovementNote"}
    assert shared | scaling.PER_USER <= set(unchanged)


def test_every_patient_has_a_unique_valid_cpr_agreeing_with_birth_date_and_sex(scaled):
    patients = list(Patient.objects.values_list("cpr", "birth_date", "sex"))

    parsed = [(parse_cpr(cpr), birth, sex) for cpr, birth, sex in patients]

    assert len(patients) == 3 * scaled["base"]["referrals.Patient"]
    assert len({cpr for cpr, _birth, _sex in patients}) == len(patients)
    assert all(cpr.birth_date == birth and cpr.sex == sex for cpr, birth, sex in parsed)


def test_a_copied_screening_still_describes_its_own_patient(scaled):
    copies = scaled["stride"]["referrals.Patient"]  # the first copied patient's id, or more
    screenings = Screening.objects.filter(referral__patient__pk__gte=copies).select_related(
        "referral__patient"
    )
    ages = ScreeningCriterion.objects.filter(
        key="adult", screening__referral__patient__pk__gte=copies
    ).select_related("screening__referral__patient")

    assert screenings.exists() and ages.exists()
    assert all(
        s.inputs["birth_date"] == s.referral.patient.birth_date.isoformat() for s in screenings
    )
    assert all(
        c.params["age"] == c.screening.referral.patient.age_on(c.screening.referral.first_contact)
        for c in ages
    )


def test_each_copy_is_a_team_with_its_own_clinician_groups_and_appointments(scaled):
    klinik = User.objects.get(username="klinik")
    team = {
        1: klinik,
        2: User.objects.get(username="klinik-002", role=User.Role.CLINICIAN),
        3: User.objects.get(username="klinik-003", role=User.Role.CLINICIAN),
    }

    for group in Group.objects.prefetch_related("therapists"):
        number = int(m[1]) if (m := re.search(r" · hold (\d+)$", group.name)) else 1
        assert set(group.therapists.all()) == {team[number]}, group.name
        assert group.room.endswith(f" · team {number}") == (number > 1)
    appointments = {n: Appointment.objects.filter(clinician=u).count() for n, u in team.items()}
    staffed = {n: Meeting.objects.filter(clinic_staff=u).count() for n, u in team.items()}
    assert appointments[1] > 0 and appointments == dict.fromkeys(team, appointments[1])
    assert staffed[1] > 0 and staffed == dict.fromkeys(team, staffed[1])
    assert User.objects.filter(role=User.Role.COORDINATOR).count() == 5  # shared by all teams
    assert "klinik-002 ... klinik-003" in scaled["output"]


def test_seeding_the_same_scale_again_adds_nothing(scaled, development):
    before = row_counts()

    output = seed("--scale", "3")

    assert row_counts() == before
    assert User.objects.filter(username__startswith="klinik-").count() == 2
    assert "Demo data at scale 3: already there, nothing added." in output


def test_the_plain_seed_leaves_a_scaled_database_as_it_is(scaled, development):
    before = row_counts()

    seed()

    assert row_counts() == before


def test_a_different_scale_is_refused(scaled, development):
    before = row_counts()

    with pytest.raises(CommandError, match="holds the demo at scale 3 already"):
        seed("--scale", "5")

    assert row_counts() == before


def test_rows_created_after_scaling_get_fresh_ids(scaled):
    measurement = Measurement.objects.order_by("pk").last()
    group = Group.objects.order_by("pk").last()
    through = Group.therapists.through
    last_answer = Answer.objects.order_by("pk").last().pk
    last_seat = through.objects.order_by("pk").last().pk

    answer = Answer.objects.create(measurement=measurement, number=99, value=0)
    seat = through.objects.create(group=group, user=User.objects.get(username="forsker"))

    assert answer.pk == last_answer + 1
    assert seat.pk == last_seat + 1


def test_a_copied_course_page_opens_for_the_clinician(scaled, client_for):
    course = Course.objects.select_related("patient").order_by("pk").last()
    assert course.pk >= 2 * scaled["stride"]["referrals.Course"]  # in the last copy

    response = client_for(User.objects.get(username="klinik")).get(
        reverse("course_detail", args=[course.pk])
    )

    assert response.status_code == 200
    assert course.patient.name in response.content.decode()


def test_scale_needs_the_demo_data(development):
    users = User.objects.count()

    with pytest.raises(CommandError, match="cannot go with --users-only"):
        seed("--scale", "2", "--users-only")

    assert User.objects.count() == users
