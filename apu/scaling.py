"""Scaled demo data: ``seed_demo --scale N`` makes N times the demo clinic with set-based SQL.

The ordinary demo (seeded through the services, with history) is copy 0. Each further copy
k = 1 .. N-1 is another clinic team working the same 18 months for the same municipalities:
its own clinician (``klinik-002`` for copy 1, ``klinik-003`` for copy 2, ...), its own
patients (new made-up names and CPR numbers, same age on the referral date, same sex) and
its own groups ("Yoga · hold 2" in "Salen · team 2"). Everything else in a copy (referrals,
screenings, decisions, courses, meetings, sessions, attendance, appointments, plans,
measurements and answers) is the demo's row as it is, dates included.

Every domain table of referrals, coordination, modules and evaluation is copied, found from
``apps.get_models()`` by app label (so this low app imports none of them), in an order that
respects the foreign keys, with one ``INSERT ... SELECT ... CROSS JOIN generate_series``
per table, all in one transaction. Copy k of a row with id ``i`` gets id ``i + k * stride``,
where ``stride`` is the table's largest id in the demo plus one, and every foreign key to a
copied table moves the same way; foreign keys to shared tables stay, except that the demo
clinician becomes the copy's clinician.

Not copied:
- History. Generated copies have **no history rows** (simple-history's tables, the
  many-to-many ones too, are skipped): the copies exist to give the pages and queries
  volume, and writing history would double the rows for nothing a reader of the demo
  needs. Only the copy clinicians' user rows get history.
- Reference data and caches, which stay shared: every table with no foreign key leading
  to a patient or a group (diagnosis codes, screening code lists, the module menu, no-show
  reasons, item labels, the improvement log, dashboard snapshots), and apu's own tables
  (municipalities, users, access log).
- Per-user rows: calendar feeds and reminders sent.
"""

import random
from collections.abc import Callable
from datetime import date, timedelta
from graphlib import TopologicalSorter
from importlib import import_module
from typing import TextIO

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Min
from django.utils import timezone
from simple_history.models import HistoricalChanges
from simple_history.utils import bulk_create_with_history

from apu.models import User

APPS = ("referrals", "coordination", "modules", "evaluation")
# What a clinic team owns: its patients and its groups, and every row that points at them.
# A table with no foreign key leading to these is reference data or a cache and stays shared.
ROOTS = {"referrals.Patient", "modules.Group"}
# Rows about one user (their calendar feed, the reminders they were sent) are not copied.
PER_USER = {"coordination.CalendarFeed", "coordination.ReminderSent"}
DEMO_CLINICIAN = "klinik"
COPY_CLINICIAN_PATTERN = r"^klinik-[0-9]{3,}$"
SEED = 7373

# Per-column SQL for copy ``k`` where copying the value as it is would be wrong: names and
# rooms carry the team's number, so the week calendar does not put a hundred groups in one
# room at one time, and the stored screening inputs hold the copy's own birth date.
# Placeholders: {t} the source row, {k} the copy number, {stride[label]} and {table[label]}
# a copied table's stride and quoted name.
OVERRIDES: dict[str, dict[str, str]] = {
    "modules.Group": {
        "name": "{t}.name || ' · hold ' || ({k} + 1)",
        "room": "{t}.room || ' · team ' || ({k} + 1)",
    },
    "modules.Session": {"room": "{t}.room || ' · team ' || ({k} + 1)"},
    "coordination.Meeting": {
        "place": "CASE WHEN starts_with({t}.place, 'APU') "
        "THEN {t}.place || ' · team ' || ({k} + 1) ELSE {t}.place END",
    },
    "referrals.Screening": {
        "inputs": "CASE WHEN {t}.inputs ? 'birth_date' "
        "THEN jsonb_set({t}.inputs, '{{birth_date}}', to_jsonb(("
        "SELECT p.birth_date::text FROM {table[referrals.Patient]} p "
        "JOIN {table[referrals.Referral]} r ON r.patient_id = p.id "
        "WHERE r.id = {t}.referral_id + {k} * {stride[referrals.Referral]}))) "
        "ELSE {t}.inputs END",
    },
}


def is_history(model: type[models.Model]) -> bool:
    """Whether ``model`` is a simple-history table (the many-to-many ones included)."""
    return issubclass(model, HistoricalChanges)


def copied_models() -> list[type[models.Model]]:
    """The demo's domain tables to copy, each after every copied table it points at."""
    candidates = {
        model._meta.label: model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in APPS
        and model._meta.label not in PER_USER
        and not is_history(model)
        and not model._meta.proxy
        and model._meta.managed
    }
    points_at = {
        label: {
            field.related_model._meta.label
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model._meta.label in candidates
        }
        - {label}
        for label, model in candidates.items()
    }
    copied = ROOTS & set(candidates)
    while grown := {label for label, targets in points_at.items() if targets & copied} - copied:
        copied |= grown
    graph = {label: points_at[label] & copied for label in copied}
    return [candidates[label] for label in TopologicalSorter(graph).static_order()]


def copies_present() -> int:
    """How many copies the database holds: one copy clinician each."""
    return User.objects.filter(username__regex=COPY_CLINICIAN_PATTERN).count()


def copy_clinician_username(k: int) -> str:
    """The clinician of copy ``k`` (copy 0 is the demo's own ``klinik``)."""
    return f"{DEMO_CLINICIAN}-{k + 1:03d}"


def strides(models_: list[type[models.Model]]) -> dict[str, int]:
    """Per table, the id offset between two copies: the largest id in the demo plus one."""
    result = {}
    for model in models_:
        largest = model._base_manager.aggregate(largest=models.Max("pk"))["largest"]
        result[model._meta.label] = (largest or 0) + 1
    return result


def column_expressions(
    model: type[models.Model], stride: dict[str, int], *, user_fk: str
) -> list[tuple[str, str]]:
    """(column, SQL expression) for copy ``k`` of a row ``t`` of ``model``."""
    quote = connection.ops.quote_name
    label = model._meta.label
    overrides = OVERRIDES.get(label, {})
    tables = {
        other._meta.label: quote(other._meta.db_table)
        for other in apps.get_models()
        if other._meta.label in stride
    }
    result = []
    for field in model._meta.concrete_fields:
        column = f"t.{quote(field.column)}"
        if field.name in overrides:
            expression = overrides[field.name].format(t="t", k="k", stride=stride, table=tables)
        elif field.primary_key:
            expression = f"{column} + k * {stride[label]}"
        elif field.is_relation and field.related_model._meta.label in stride:
            if not field.target_field.primary_key:
                raise ValueError(f"{label}.{field.name} points at a copied table by a non-id.")
            expression = f"{column} + k * {stride[field.related_model._meta.label]}"
        elif field.is_relation and field.related_model is User:
            expression = user_fk.format(column=column)
        else:
            expression = column
        result.append((quote(field.column), expression))
    return result


def copy_statement(model: type[models.Model], stride: dict[str, int], *, user_fk: str) -> str:
    """One INSERT that adds every copy of the demo's rows of ``model``."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    pairs = column_expressions(model, stride, user_fk=user_fk)
    columns = ", ".join(column for column, _expression in pairs)
    expressions = ", ".join(expression for _column, expression in pairs)
    # Identifiers from the models' metadata and integers only; nothing from outside.
    return (
        f"INSERT INTO {table} ({columns}) SELECT {expressions} FROM {table} AS t "  # noqa: S608
        f"CROSS JOIN generate_series(1, %(copies)s) AS k "
        f"WHERE t.{pk} < {stride[model._meta.label]}"
    )


def create_copy_clinicians(copies: int, *, password: str, rng: random.Random) -> list[int]:
    """One clinician per copy (``klinik-002`` ...); their ids in copy order."""
    names = import_module("referrals.demo")
    # One hash for all: the demo password is public, and hashing it a hundred times with
    # Argon2 would take longer than copying the clinic.
    hashed = make_password(password or None)
    users = [
        User(
            username=copy_clinician_username(k),
            email=f"{copy_clinician_username(k)}@apu.example",
            role=User.Role.CLINICIAN,
            first_name=rng.choice(names.FIRST_NAMES),
            last_name=rng.choice(names.LAST_NAMES),
            password=hashed,
        )
        for k in range(1, copies + 1)
    ]
    bulk_create_with_history(users, User)
    by_name = dict(
        User.objects.filter(username__in=[u.username for u in users]).values_list("username", "pk")
    )
    return [by_name[copy_clinician_username(k)] for k in range(1, copies + 1)]


def copy_patients(copies: int, stride: dict[str, int], *, rng: random.Random) -> int:
    """Copy the demo's patients with new names and CPR numbers; return how many.

    In Python rather than SQL, as a CPR number must be unique and valid: the copy keeps the
    patient's sex and age on the first referral's date (the stored screening said "aged 51"
    and stays true; a minor stays a minor), with a birthday moved within that year of age.
    """
    patient_model = apps.get_model("referrals", "Patient")
    referral_model = apps.get_model("referrals", "Referral")
    demo = import_module("referrals.demo")
    label = patient_model._meta.label
    base = list(patient_model.objects.filter(pk__lt=stride[label]).order_by("pk"))
    anchors = dict(
        referral_model.objects.values("patient_id")
        .annotate(first=Min("first_contact"))
        .values_list("patient_id", "first")
    )
    used = set(patient_model.objects.values_list("cpr", flat=True))
    today = timezone.localdate()
    rows = []
    for k in range(1, copies + 1):
        for patient in base:
            birth = _same_age_birthday(rng, patient, anchors.get(patient.pk, today))
            cpr = _new_cpr(rng, demo, birth, sex=patient.sex, used=used)
            rows.append(
                patient_model(
                    pk=patient.pk + k * stride[label],
                    cpr=cpr,
                    name=_name(rng, demo),
                    address=f"{rng.choice(demo.STREETS)} {rng.randint(1, 120)}",
                    phone=f"{rng.randint(20, 99)}{rng.randint(0, 999999):06d}"
                    if patient.phone
                    else "",
                    email=patient.email,
                    municipality_id=patient.municipality_id,
                    birth_date=birth,
                    sex=patient.sex,
                )
            )
    patient_model.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _same_age_birthday(rng: random.Random, patient, anchor: date) -> date:
    age = patient.age_on(anchor)
    for _attempt in range(100):
        candidate = patient.birth_date + timedelta(days=rng.randint(-364, 364))
        if type(patient)(birth_date=candidate).age_on(anchor) == age:
            return candidate
    return patient.birth_date


def _new_cpr(rng: random.Random, demo, birth, *, sex: str, used: set[str]) -> str:
    for _attempt in range(1000):
        digits = demo.fake_cpr(rng, birth)
        if (int(digits[-1]) % 2 == 1) == (sex == "male") and digits not in used:
            used.add(digits)
            return digits
    raise RuntimeError(f"No free CPR number left for {birth:%d.%m.%Y}.")


def _name(rng: random.Random, demo) -> str:
    # A middle surname now and then, so a region's worth of patients is not a few hundred
    # names repeated.
    middle = f" {rng.choice(demo.LAST_NAMES)}" if rng.random() < 0.4 else ""
    return f"{rng.choice(demo.FIRST_NAMES)}{middle} {rng.choice(demo.LAST_NAMES)}"


PYTHON_COPIES: dict[str, Callable[..., int]] = {"referrals.Patient": copy_patients}


def scale_demo(copies: int, *, stdout: TextIO, password: str = "") -> dict[str, int]:
    """Add ``copies`` copies of the demo clinic; return the rows added per table.

    Refuses (ValueError) when the database holds copies already or no demo to copy.
    """
    if copies < 1:
        raise ValueError("Give at least one copy.")
    if copies_present():
        raise ValueError("The database holds copies of the demo already.")
    clinician = User.objects.filter(username=DEMO_CLINICIAN).first()
    if clinician is None or not apps.get_model("referrals", "Referral").objects.exists():
        raise ValueError("There is no demo clinic to copy: run seed_demo first.")
    tables = copied_models()
    rng = random.Random(SEED)  # noqa: S311 (repeatable demo data, not security)
    added: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # Check each table's foreign keys when its statement ends, not all at commit: the
        # queue of deferred checks for millions of rows would only cost memory.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        stride = strides(tables)
        team = create_copy_clinicians(copies, password=password, rng=rng)
        # In copy k the demo clinician's rows belong to the copy's clinician; coordinators
        # and the admin are the same people for every team.
        user_fk = (
            f"CASE WHEN {{column}} = {clinician.pk} "
            f"THEN (ARRAY{team}::bigint[])[k] ELSE {{column}} END"
        )
        for model in tables:
            label = model._meta.label
            if label in PYTHON_COPIES:
                added[label] = PYTHON_COPIES[label](copies, stride, rng=rng)
            else:
                cursor.execute(copy_statement(model, stride, user_fk=user_fk), {"copies": copies})
                added[label] = cursor.rowcount
            stdout.write(f"  {label}: {added[label]} rows added")
        for statement in connection.ops.sequence_reset_sql(no_style(), tables):
            cursor.execute(statement)
    analyze(tables)
    return added


def analyze(tables: list[type[models.Model]]) -> None:
    """Fresh planner statistics for the grown tables, so the first page view plans well."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in [User, *tables]:
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
