"""Demo measurements for seed_demo: baseline, midpoint, discharge and follow-up for most
demo courses, with believable improvement and a few PHQ-9 item-9 flags."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from apu.models import User
from evaluation.instruments import INSTRUMENTS
from evaluation.models import ImprovementNote, Measurement, ResearchConsent
from evaluation.queries import point_dates
from evaluation.services import record_measurement
from referrals.models import Course

SEED = 6262
# (baseline mean, change per step) for each instrument; WHO-5 rises as people improve.
TRAJECTORY = {
    "WHO-5": (8, 3),
    "PHQ-9": (16, -3),
    "GAD-7": (13, -2),
    "AUDIT": (22, -4),
    "DUDIT": (14, -3),
}


def answers_for(rng: random.Random, instrument: str, target: int) -> list[int]:
    """Item answers whose total is close to ``target``, within each item's allowed values."""
    items = INSTRUMENTS[instrument].items
    answers = [min(values) for values in items]
    order = list(range(len(items)))
    while sum(answers) < target:
        rng.shuffle(order)
        grew = False
        for index in order:
            bigger = sorted(v for v in items[index] if v > answers[index])
            if bigger and sum(answers) + (bigger[0] - answers[index]) <= target + 1:
                answers[index] = bigger[0]
                grew = True
                break
        if not grew:
            break
    return answers


NOTES = [
    (400, "SMS-påmindelse før første samtale", "Automatisk SMS dagen før første samtale."),
    (250, "Fast tid til indsatsmøder", "Faste ugentlige tider reserveret til koordinerende møder."),
    (
        120,
        "Ny velkomst i recoverygruppen",
        "Recovery-mentoren tager imod nye deltagere før første gang.",
    ),
]


def seed_notes_and_consent(rng: random.Random, clinician: User, today) -> None:
    """Three improvement notes, and research consent for most patients (a few withdrawn)."""
    if not ImprovementNote.objects.exists():
        for days_ago, title, description in NOTES:
            ImprovementNote.objects.create(
                date=today - timedelta(days=days_ago),
                title=title,
                description=description,
                created_by=clinician,
            )
    if ResearchConsent.objects.exists():
        return
    consents = []
    seen = set()
    for patient_id, first_contact in Course.objects.order_by("start", "pk").values_list(
        "patient_id", "referral__first_contact"
    ):
        if patient_id in seen:
            continue  # one active consent per patient, even with two courses
        seen.add(patient_id)
        if rng.random() < 0.8:
            withdrawn = today - timedelta(days=rng.randint(1, 30)) if rng.random() < 0.05 else None
            given = first_contact + timedelta(days=rng.randint(5, 25))
            if given > today or (withdrawn and withdrawn < given):
                continue
            consents.append(
                ResearchConsent(
                    patient_id=patient_id,
                    given_on=given,
                    withdrawn_on=withdrawn,
                    recorded_by=clinician,
                )
            )
    bulk_create_with_history(consents, ResearchConsent)


def seed(*, stdout=None) -> int:
    if Measurement.objects.exists():
        return 0
    clinician = User.objects.filter(role=User.Role.CLINICIAN, is_active=True).first()
    if clinician is None:
        return 0
    rng = random.Random(SEED)  # noqa: S311 (repeatable demo data, not security)
    today = timezone.localdate()
    count = 0
    courses = Course.objects.exclude(status=Course.Status.AWAITING_INTAKE).select_related(
        "patient", "referral", "discharge"
    )
    with transaction.atomic():
        seed_notes_and_consent(rng, clinician, today)
        for course in courses.order_by("pk"):
            if rng.random() < 0.12:
                continue  # some patients never fill in the questionnaires
            discharge = getattr(course, "discharge", None)
            responder = rng.random() < 0.7
            for step, (point, day) in enumerate(
                point_dates(course, discharge.date if discharge else None).items()
            ):
                day = day + timedelta(days=rng.randint(0, 6))
                if day > today or (point != "baseline" and rng.random() < 0.15):
                    continue
                for instrument, (mean, change) in TRAJECTORY.items():
                    target = (
                        mean
                        + rng.randint(-4, 4)
                        + (change * step if responder else rng.randint(-2, 2))
                    )
                    maximum = INSTRUMENTS[instrument].max_total
                    answers = answers_for(rng, instrument, max(0, min(maximum, target)))
                    if instrument == "PHQ-9":
                        answers[8] = 1 if rng.random() < 0.04 else 0
                    record_measurement(
                        course,
                        by=clinician,
                        instrument=instrument,
                        point=point,
                        answered_on=max(day, course.referral.first_contact),
                        answers=answers,
                    )
                    count += 1
    return count
