"""Demo referrals for seed_demo: about 300 over 18 months with realistic diagnosis mixes.

Everything goes through the services, so screening, decisions, courses and history are
what real use would produce; only the dates are moved back afterwards. CPR numbers and
names are made up.
"""

import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from apu.models import Municipality, User
from referrals.cpr import modulus11_ok
from referrals.models import Course, Decision, Referral, Screening
from referrals.services import (
    PatientDetails,
    decide_referral,
    register_referral,
    screen_referral,
)

FIRST_NAMES = [
    "Anders", "Anne", "Bo", "Camilla", "Christian", "Ditte", "Emil", "Freja", "Gitte", "Hans",
    "Ida", "Jakob", "Jonas", "Julie", "Karina", "Lars", "Line", "Mads", "Maria", "Martin",
    "Mette", "Morten", "Nanna", "Niels", "Pernille", "Peter", "Rasmus", "Sara", "Signe",
    "Simon", "Sofie", "Søren", "Thomas", "Tine", "Trine", "Ulla", "Victor", "Vibeke",
]  # fmt: skip
LAST_NAMES = [
    "Andersen", "Bach", "Christensen", "Dahl", "Eriksen", "Frandsen", "Hansen", "Holm",
    "Jensen", "Jørgensen", "Kjær", "Larsen", "Lund", "Madsen", "Mortensen", "Nielsen",
    "Olsen", "Pedersen", "Poulsen", "Rasmussen", "Skov", "Sørensen", "Thomsen", "Vestergaard",
]  # fmt: skip
STREETS = ["Skolevej", "Kirkevej", "Bygaden", "Parkvej", "Engvej", "Stationsvej", "Møllevej"]
MENTAL = ["F32.1", "F32.2", "F33.1", "F33.2", "F41.1", "F40.1", "F43.1", "F60.31", "F60.6", "F42.2"]
SUBSTANCE = [
    "F10.2",
    "F10.2",
    "F10.1",
    "F12.2",
    "F12.1",
    "F14.2",
    "F15.1",
    "F19.2",
    "F11.2",
    "F13.2",
]
# (weight, how the referral deviates from a plain eligible one)
PROFILES = [
    (70, "eligible"),
    (4, "schizophrenia"),
    (5, "no_municipal_treatment"),
    (3, "minor"),
    (4, "other_municipality"),
    (2, "tobacco_only"),
    (4, "bipolar"),
    (3, "adhd"),
    (2, "substance_psychosis"),
    (3, "unstable_substitution"),
]
REFERRERS = [
    ("gp", "Lægehuset", 35),
    ("municipal", "Rusmiddelcenter", 40),
    ("psychiatry", "Psykiatrisk Center", 20),
    ("other", "Jobcenter", 5),
]
SEED = 2026
DAYS = 548  # 18 months


def fake_cpr(rng: random.Random, birth: date) -> str:
    """A made-up CPR number for ``birth``; most pass modulus 11, some (like real ones) do not."""
    century_digit = {19: rng.choice("0123"), 20: "4"}[birth.year // 100]
    for _attempt in range(50):
        serial = f"{century_digit}{rng.randint(0, 999):03d}"
        digits = f"{birth:%d%m%y}{serial}"
        if modulus11_ok(digits) or rng.random() < 0.1:
            return digits
    return digits


def _when(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed(*, stdout=None) -> int:
    """Create the demo referrals unless there are referrals already; return how many."""
    if Referral.objects.exists():
        return 0
    rng = random.Random(SEED)  # noqa: S311 (repeatable demo data, not security)
    today = timezone.localdate()
    clinician = User.objects.filter(username="klinik").first()
    if clinician is None:
        return 0
    participating = list(Municipality.objects.filter(participating=True).order_by("code"))
    others = list(Municipality.objects.filter(participating=False).order_by("code"))
    coordinators = {u.municipality_id: u for u in User.objects.filter(role=User.Role.COORDINATOR)}
    used_cprs: set[str] = set()
    created = 0
    with transaction.atomic():
        for index in range(300):
            first_contact = today - timedelta(
                days=int(DAYS * (1 - index / 300)) - rng.randint(0, 1)
            )
            created += _one_referral(
                rng, first_contact, today, clinician, participating, others, coordinators, used_cprs
            )
    return created


def _one_referral(rng, first_contact, today, clinician, participating, others, coordinators, used):
    profile = rng.choices([p for _w, p in PROFILES], weights=[w for w, _p in PROFILES])[0]
    age_years = 17 if profile == "minor" else rng.randint(19, 64)
    birth = first_contact - timedelta(days=age_years * 365 + rng.randint(5, 300))
    cpr = fake_cpr(rng, birth)
    if cpr in used:
        return 0
    used.add(cpr)
    municipality = rng.choice(others if profile == "other_municipality" else participating)
    codes = [rng.choice(MENTAL), rng.choice(SUBSTANCE)]
    extra = {
        "schizophrenia": "F20",
        "bipolar": "F31.3",
        "adhd": "F90.0",
        "substance_psychosis": "F10.5",
    }.get(profile)
    if profile == "bipolar":
        codes[0] = "F31.3"
    elif extra:
        codes.append(extra)
    if profile == "tobacco_only":
        codes[1] = "F17.2"
    if rng.random() < 0.25:
        codes.append(rng.choice(MENTAL))
    kind, organisation, _weight = rng.choices(REFERRERS, weights=[w for *_x, w in REFERRERS])[0]
    axes_known = (today - first_contact).days > 5
    by = coordinators.get(municipality.pk) if kind == "municipal" else None
    by = by or clinician
    referral = register_referral(
        patient=PatientDetails(
            cpr=cpr,
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            municipality=municipality,
            address=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
            phone=f"{rng.randint(20, 99)}{rng.randint(0, 999999):06d}",
        ),
        first_contact=first_contact,
        received=min(today, first_contact + timedelta(days=rng.randint(0, 4))),
        referrer_kind=kind,
        referrer_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        referrer_organisation=f"{organisation} {municipality.name}",
        diagnosis_codes=codes,
        in_municipal_substance_treatment=profile != "no_municipal_treatment",
        substitution_treatment="unstable" if profile == "unstable_substitution" else "none",
        reason="Henvist med depression og alkoholforbrug; ønsker gruppebehandling.",
        mental_severity=rng.choice(["lower", "higher"]) if axes_known and by == clinician else "",
        substance_severity=rng.choice(["lower", "higher"])
        if axes_known and by == clinician
        else "",
        by=by,
    )
    screening = referral.screenings.get()
    Screening.objects.filter(pk=screening.pk).update(screened_at=_when(first_contact, 10))
    if not axes_known:
        return 1
    if referral.status == Referral.Status.RECEIVED:
        screen_referral(
            referral,
            by=clinician,
            mental_severity=rng.choice(["lower", "higher"]),
            substance_severity=rng.choice(["lower", "higher"]),
        )
    _decide(rng, referral, clinician, first_contact, today)
    return 1


def _decide(rng, referral, clinician, first_contact, today):
    outcome = referral.screenings.order_by("-screened_at", "-pk").first().outcome
    decided_on = min(today, first_contact + timedelta(days=rng.randint(3, 12)))
    if (today - first_contact).days < 14 and rng.random() < 0.6:
        return  # still waiting for a decision
    if outcome == "eligible":
        kind, reason = (
            ("withdraw", "Borgeren ønsker ikke behandling.")
            if rng.random() < 0.08
            else ("accept", "")
        )
    elif outcome == "review":
        if rng.random() < 0.6:
            kind, reason = "accept", "Vurderet egnet ved visitationskonference."
        else:
            kind, reason = "reject", "Vurderet bedre hjulpet i anden psykiatrisk behandling."
    else:
        kind, reason = "reject", "Opfylder ikke klinikkens kriterier."
    decision = decide_referral(referral, by=clinician, kind=kind, reason=reason)
    Decision.objects.filter(pk=decision.pk).update(decided_at=_when(decided_on, 14))
    if kind == Decision.Kind.ACCEPT:
        Course.objects.filter(referral=referral).update(
            start=decided_on, planned_end=decided_on + timedelta(weeks=Course.PLANNED_WEEKS)
        )
