"""One clinic with an object of every kind a URL takes, for the access matrix.

Everything a page is asked about belongs to Ballerup citizens (the coordinator of Ballerup
may see them, the coordinator of Gladsaxe may not); one Gladsaxe course gives the other
coordinator a list of their own. Built through the services, as the clinic builds it.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.conf import settings
from django.contrib.auth.models import Group as PermissionGroup
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from apu.models import AccessLog, User
from coordination.models import CalendarFeed, Meeting
from coordination.services import ActionInput, decide_and_plan, discharge_course, record_outcome
from evaluation import research
from evaluation.dashboard import TABLES
from evaluation.models import ImprovementNote, ItemLabel, Measurement
from evaluation.services import record_measurement
from modules import services as module_services
from modules.models import Appointment, Module, NoShowReason
from referrals.models import CodeRule, Decision, DiagnosisCode
from tests.coordination.factories import schedule
from tests.factories import CoordinatorFactory, UserFactory, municipality
from tests.modules.factories import (
    COPENHAGEN,
    GLADSAXE,
    at,
    attended,
    enrolled,
    new_course,
    new_group,
    new_session,
    register,
)

# A Wednesday; the group below meets on Mondays, its last session two days ago.
NOW = datetime(2026, 3, 18, 9, 30, tzinfo=COPENHAGEN)
LAST_MONDAY = date(2026, 3, 16)

PERSONAS = (
    "anonymous",
    "clinician",
    "coordinator_own",
    "coordinator_other",
    "researcher",
    "admin",
)

# Words that only the case formulation holds: a coordinator never sees clinical notes.
FORMULATION_WORDS = "Formuleringsord-situation-7Q"


@dataclass
class AccessData:
    users: dict[str, User]
    # URL parameter values, keyed as tests/apu/test_hardening.py's ``real_value`` reads them.
    values: dict[str, object]
    # One row of each model the admin offers: app_label.model_name -> object.
    rows: dict[str, models.Model]
    # Session cookie per logged-in persona, verified past the second factor where it applies.
    sessions: dict[str, str] = field(default_factory=dict)
    # Text a persona must never be shown: patients out of their reach, clinical notes.
    forbidden: dict[str, list[str]] = field(default_factory=dict)


def _patient_marks(patient) -> list[str]:
    """How a page could show a patient: the name, and the CPR number in either form."""
    return [patient.name, patient.cpr, f"{patient.cpr[:6]}-{patient.cpr[6:]}"]


def _verified_session(user: User, *, with_device: bool) -> str:
    """A session for ``user``, past the TOTP step when the user has a device."""
    client = Client()
    client.force_login(user)
    if with_device:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def build() -> AccessData:
    """The clinic at NOW (the caller freezes the clock); one object of each kind."""
    clinician = UserFactory(username="matrix-clinician", role=User.Role.CLINICIAN)
    users = {
        "clinician": clinician,
        "coordinator_own": CoordinatorFactory(
            username="matrix-coord-ballerup", municipality=municipality("151")
        ),
        "coordinator_other": CoordinatorFactory(
            username="matrix-coord-gladsaxe", municipality=municipality(GLADSAXE)
        ),
        "researcher": UserFactory(username="matrix-researcher", role=User.Role.RESEARCHER),
        "admin": UserFactory(
            username="matrix-admin", role=User.Role.ADMIN, is_staff=True, is_superuser=True
        ),
    }

    course = new_course(clinician, name="Bente Ballerup")
    waiting_course = new_course(clinician, name="Birgit Ballerup")
    rejected = register(clinician, name="Rikke Ballerup")
    decide_and_plan(
        rejected, by=clinician, kind=Decision.Kind.REJECT, reason="Ikke i kommunal behandling."
    )
    discharged = new_course(clinician, name="Dorte Ballerup")
    discharge = discharge_course(
        discharged,
        by=clinician,
        date=NOW.date(),
        kind="completed",
        meeting_not_held_reason="Borgeren udeblev.",
    )
    gladsaxe = new_course(clinician, name="Gunnar Gladsaxe", municipality_code=GLADSAXE)

    midpoint = schedule(
        course.meetings.get(kind=Meeting.Kind.MIDPOINT), by=clinician, when=at(LAST_MONDAY, 13)
    )
    midpoint = record_outcome(
        midpoint,
        by=clinician,
        version=midpoint.version,
        status=Meeting.Status.HELD,
        summary="Planen er holdt op mod handleplanen.",
        new_actions=[
            ActionInput(what="Send handleplan", responsible="municipality", due_date=NOW.date())
        ],
    )

    group = new_group(capacity=1, therapists=(clinician,))
    session = new_session(group, starts_at=at(LAST_MONDAY))
    enrolment = enrolled(course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(days=7))
    waiting = module_services.enrol(
        waiting_course, group, by=clinician, starts_on=LAST_MONDAY - timedelta(days=7)
    )
    (attendance,) = attended(course, [session], by=clinician)
    appointment = module_services.book_appointment(
        course,
        by=clinician,
        clinician=clinician,
        starts_at=at(LAST_MONDAY, 14),
        duration_minutes=60,
        kind=Appointment.Kind.INDIVIDUAL_THERAPY,
    )
    formulation = module_services.save_case_formulation(
        course,
        by=clinician,
        version=0,
        text=module_services.Formulation(situations=FORMULATION_WORDS),
    )
    plan = module_services.save_plan(
        course,
        by=clinician,
        version=0,
        modules=[group.module],
        goals="Færre dage med alkohol.",
        intensity="medium",
    )
    measurement = record_measurement(
        course,
        by=clinician,
        instrument="PHQ-9",
        point=Measurement.Point.BASELINE,
        answered_on=NOW.date() - timedelta(days=1),
        answers=[1, 1, 1, 1, 1, 1, 1, 1, 0],
    )
    consent = research.give_consent(
        course.patient, by=clinician, given_on=NOW.date(), scope="outcomes"
    )
    feed = CalendarFeed.objects.create(user=clinician)
    note = ImprovementNote.objects.create(
        date=NOW.date(), title="Ny indkaldelse", created_by=clinician
    )
    access = AccessLog.objects.create(
        user=clinician,
        content_type=ContentType.objects.get_for_model(course.patient),
        object_id=course.patient_id,
        what="patient",
    )

    sessions = {
        persona: _verified_session(user, with_device=user.sees_patient_data)
        for persona, user in users.items()
    }
    permission_group = PermissionGroup.objects.create(name="Sekretærer")
    device = TOTPDevice.objects.filter(user=clinician).get()
    attempt = AccessAttempt.objects.create(
        username="someone", ip_address="127.0.0.1", user_agent="test", failures_since_start=1
    )
    axes_log = AxesAccessLog.objects.create(
        username="someone", ip_address="127.0.0.1", user_agent="test"
    )
    failure = AccessFailureLog.objects.create(
        username="someone", ip_address="127.0.0.1", user_agent="test", locked_out=False
    )

    rows = {
        "apu.municipality": municipality("151"),
        "apu.user": clinician,
        "apu.accesslog": access,
        "auth.group": permission_group,
        "otp_totp.totpdevice": device,
        "axes.accessattempt": attempt,
        "axes.accesslog": axes_log,
        "axes.accessfailurelog": failure,
        "referrals.patient": course.patient,
        "referrals.referral": course.referral,
        "referrals.diagnosiscode": DiagnosisCode.objects.order_by("pk").first(),
        "referrals.coderule": CodeRule.objects.order_by("pk").first(),
        "referrals.screening": course.referral.screenings.order_by("pk").first(),
        "referrals.decision": course.referral.decision,
        "referrals.course": course,
        "coordination.meeting": midpoint,
        "coordination.action": midpoint.actions.get(),
        "coordination.discharge": discharge,
        "coordination.calendarfeed": feed,
        "modules.module": Module.objects.get(pk=group.module_id),
        "modules.group": group,
        "modules.session": session,
        "modules.enrolment": enrolment,
        "modules.waitinglistentry": waiting,
        "modules.attendance": attendance,
        "modules.noshowreason": NoShowReason.objects.order_by("pk").first(),
        "modules.appointment": appointment,
        "modules.caseformulation": formulation,
        "modules.treatmentplan": plan,
        "evaluation.itemlabel": ItemLabel.objects.order_by("pk").first(),
        "evaluation.measurement": measurement,
        "evaluation.researchconsent": consent,
        "evaluation.improvementnote": note,
    }
    assert all(row is not None for row in rows.values()), rows
    for row in rows.values():
        # Rows a data migration loaded have no history yet; one save gives them a version.
        if hasattr(row, "history") and not row.history.exists():
            row.save()

    values = {
        "pk:referrals": course.referral_id,
        "pk@referrals:referral_letter": rejected.pk,  # a letter explains a rejection
        "pk:patients": course.patient_id,
        "pk:courses": course.pk,
        "pk:meetings": midpoint.pk,
        "pk:actions": midpoint.actions.get().pk,
        "pk:groups": group.pk,
        "pk:sessions": session.pk,
        "pk:enrolments": enrolment.pk,
        "pk:waiting": waiting.pk,
        "pk:appointments": appointment.pk,
        "instrument": "PHQ-9",
        "table": next(iter(TABLES)),
        "fmt": "csv",
        "token:calendar": feed.token,
        "uidb64:password-reset": urlsafe_base64_encode(force_bytes(clinician.pk)),
        "token:password-reset": default_token_generator.make_token(clinician),
    }

    ballerup = [
        mark
        for patient in (
            course.patient,
            waiting_course.patient,
            rejected.patient,
            discharged.patient,
        )
        for mark in _patient_marks(patient)
    ]
    others = _patient_marks(gladsaxe.patient)
    everyone = [*ballerup, *others, FORMULATION_WORDS]
    forbidden = {
        "anonymous": everyone,
        "clinician": [],
        "coordinator_own": [*others, FORMULATION_WORDS],
        "coordinator_other": [*ballerup, FORMULATION_WORDS],
        "researcher": everyone,
        "admin": [],
    }
    assert course.patient.municipality.code == "151"  # Ballerup, the own coordinator's
    return AccessData(users=users, values=values, rows=rows, sessions=sessions, forbidden=forbidden)


@contextmanager
def built_for_module(django_db_blocker):
    """The clinic, built once for a test module inside a transaction that is rolled back
    after it; each test runs in a savepoint inside it, so no request sees another's change."""
    import time_machine
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with (
                time_machine.travel(NOW, tick=False),
                override_settings(
                    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
                ),
            ):
                data = build()
            yield data
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
