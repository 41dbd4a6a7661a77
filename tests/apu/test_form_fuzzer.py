"""The form fuzzer (issue 8, "Bad input"): over-long, empty, unicode, NUL-byte, wrong-type and
out-of-range values posted to every form as a logged-in clinician and coordinator (Ballerup).
Never a 5xx, always a clear message, nothing saved.

The forms are found, not listed: the URL conf is walked (tests/apu/test_anonymous_redirect.py)
with the real objects of the clinic (tests/apu/test_hardening.py), each page is opened, and
its forms are read with html.parser. A POST-only URL that no page shows a form for takes its
fields from the Django form class its view uses, or from DECLARED below; a POST URL with
neither fails the test, so a new form is covered, or the test says what to add.

Each form is submitted once per bad value, one field at a time from its values as a person
fills it in (its current values, VALID where the page cannot say what valid is, and that
submission must be accepted), then with garbage in every field at once, bodies Django refuses
itself, and Hypothesis's values (derandomized, so CI tries the same cases every run). A value
a field cannot hold must be refused: 403/404 for a form the persona may not use, otherwise a
visible error (an errorlist, role="alert", an error message), and nothing saved. A value it
may hold may be accepted, and free text accepted is stored exactly as typed. GET forms
(filters, searches) and pages without a form get the same bad values, and only "never a
5xx, nothing saved" applies. Each submission runs in a savepoint that is rolled back, so the
clinic is the same for the next one; a write is seen by watching the SQL, then confirmed by a
fingerprint (row count and highest id) of every table of the domain apps and their history.
Each test prints how many cases it tried (pytest -rP shows it).
"""

import copy
import inspect
import re
from dataclasses import dataclass, field, replace
from datetime import date

import pytest
from django import forms
from django.apps import apps
from django.contrib.messages import ERROR, get_messages
from django.db import connection, models, transaction
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext_lazy
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from apu.services import TWO_FACTOR_REQUIRED
from apu.versioning import FORM_OUT_OF_DATE
from coordination.forms import ACTION_DONE_OR_NOT
from coordination.models import Meeting
from evaluation.research_views import NO_CONSENT_ACTION
from tests.apu.form_fuzzing import (
    BAD_REQUEST,
    EMOJI,
    INVALID_UTF8,
    LONG,
    MAY,
    MISSING,
    NOT_FUZZED,
    REFUSE,
    TEXT_TYPES,
    Case,
    Field,
    as_text,
    cases_for,
    encode,
    fields_of_form_class,
    forms_of,
    fuzzed_fields,
    garbage_cases,
    has_nul,
)
from tests.apu.test_anonymous_redirect import PAGES
from tests.apu.test_hardening import (  # noqa: F401 (fixtures)
    PAGES_BY_LABEL,
    clinic,
    frozen,
    real_path,
    two_factor_required,
    verified_login,
)
from tests.factories import TEST_PASSWORD
from tests.modules.factories import register

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_factor_required")]

PERSONAS = {"clinician": "clinician", "coordinator": "coordinator_ballerup"}
DOMAIN_APPS = ["apu", "referrals", "coordination", "modules", "evaluation"]
# Rows a request writes whatever its input, so they are no sign that bad input was saved.
NOT_FINGERPRINTED = {
    "apu.AccessLog": "every look at a patient is logged, refused submissions included",
    "evaluation.DashboardSnapshot": "the dashboard keeps its figures for a filter once shown",
}
# Tables a request writes whatever its input (and the models above).
UNWATCHED_TABLES = ("django_session", "otp_", "axes_", "apu_accesslog")
TODAY = "2026-03-02"  # the clinic's frozen day (tests/apu/test_hardening.py, NOW)

# POST-only views that render no form of their own and use no Django form: what they take.
# An empty list is a button: nothing but the CSRF token is posted.
DECLARED: dict[str, list[Field]] = {
    "apu:logout": [],
    "coordination:calendar_renew": [],
    "coordination:calendar_revoke": [],
    "modules:group_generate": [],
    "modules:waiting_enrol": [],
}

# What makes a form valid that its page cannot say (a form's empty required fields are
# otherwise filled with its first option, the clinic's day, or a word).
VALID: dict[str, dict[str, str]] = {
    "referrals:referral_create": {
        "cpr": "010190-1232",
        "name": "Frida Fuzz",
        "first_contact": "2026-02-23",
        "received": "2026-02-23",
        "diagnosis_1": "F32.1",
        "in_municipal_substance_treatment": "yes",
    },
    "apu:password_change": {
        "old_password": TEST_PASSWORD,
        "new_password1": "a long new passphrase 2026",
        "new_password2": "a long new passphrase 2026",
    },
}
VALID["referrals:referral_preview"] = VALID["referrals:referral_create"]
VALID["coordination:discharge"] = {"meeting_not_held_reason": "Borgeren er flyttet."}
VALID["coordination:meeting_outcome"] = {"summary": "Planen er aftalt med kommunen."}

# Forms whose values as filled in above are refused, and why; every other form the persona
# is shown must take them, so each bad value is tried against a submission that is valid.
REFUSED_AS_FILLED_IN = {
    "apu:two_factor_setup": "it takes a code from an authenticator app",
    "apu:two_factor_verify": "it takes a code from an authenticator app",
    "modules:appointment_attendance": "attendance is recorded from the appointment's day on",
    "research:consent": "the withdrawal form: the patient has no consent to withdraw",
}

# Views that answer bad input by going on without it, by design: only "never a 5xx, nothing
# saved" applies to them.
TOLERANT = {
    "set_language": "Django's view ignores an unknown language and an unsafe next address",
    "referrals:referral_preview": "the live preview saves nothing and lists what it still "
    "needs; the form's own errors show when the referral is registered",
}

# Fields that may take what their kind would refuse, and why (by the end of their name).
LENIENT = {
    "-TOTAL_FORMS": "Django's formset reads a count below zero as no rows; the rows are checked",
    "-INITIAL_FORMS": "Django's formset reads a count below zero as no rows; the rows are checked",
}

HYPOTHESIS_EXAMPLES = 12
SPICY = [
    "\x00",
    "a\x00b",
    "NaN",
    "1e309",
    str(10**30),
    "-1",
    "0",
    "2025-02-30",
    "9999-12-31",
    "0000-01-01",
    "2026-03-29T02:30",
    "😀",
    "\u202e",
    " ",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=12),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats().map(repr),
    st.dates().map(date.isoformat),
    st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes")),
    st.sampled_from(SPICY),
)


# What a page without a form, or a button, is sent: fields it does not know.
PROBES = [
    Case("unknown fields", {"x\x00y": "\x00", "\u202e": EMOJI}, MAY),
    Case("unknown field, invalid UTF-8", {"field": INVALID_UTF8}, MAY),
    Case("unknown field, 10,000 characters", {"name": LONG}, MAY),
]
# Bodies Django itself refuses with 400 before a view reads them (DATA_UPLOAD_MAX_*).
TOO_MANY_FIELDS = {f"field{n}": "1" for n in range(1_001)}
TOO_BIG = {"field": "x" * 2_700_000}
TRANSPORT = [
    Case("1,001 fields", TOO_MANY_FIELDS, BAD_REQUEST),
    Case("a body over 2.5 MB", TOO_BIG, BAD_REQUEST),
]


# --- The site's forms ------------------------------------------------------------------------


@dataclass
class Target:
    """One form to fuzz: where it posts, its fields, and where the fields were found."""

    label: str
    method: str
    path: str
    fields: list[Field]
    source: str
    htmx: bool = False

    @property
    def key(self) -> tuple:
        return (self.method, self.label, self.htmx, frozenset(f.name for f in self.fields))

    @property
    def is_button(self) -> bool:
        return not [f for f in self.fields if f.name not in NOT_FUZZED]


@dataclass
class Visit:
    label: str
    path: str
    status: int


@dataclass
class Site:
    visits: list[Visit] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def add(self, target: Target) -> None:
        if target.key not in {known.key for known in self.targets}:
            self.targets.append(target)


def label_of(path: str) -> str | None:
    try:
        match = resolve(path.split("?")[0].split("#")[0])
    except Resolver404:
        return None
    return match.view_name


def crawl(client: Client, objects: dict) -> Site:
    """Open every page of the site (not the admin) and read the forms on it; the clinic's
    extra pages first, so their forms are the ones fuzzed."""
    site = Site()
    pages = [(label_of(path), path, False) for path in objects["extra"]]
    pages += [
        (page.label, real_path(page, objects), True)
        for page in PAGES
        if not page.label.startswith("admin") and page.path is not None
    ]
    for label, path, walked in pages:
        response = client.get(path)
        if walked:
            site.visits.append(Visit(label, path, response.status_code))
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in forms_of(response.content.decode()):
            action = (form.action or path).split("#")[0] or path
            posts = [(action, False)]
            if form.hx_post:
                posts.append((form.hx_post, True))
            for target_path, htmx in posts:
                label = label_of(target_path)
                if label and not label.startswith("admin"):
                    site.add(
                        Target(
                            label, form.method, target_path, form.fields, f"a form on {path}", htmx
                        )
                    )
    return site


def form_classes_of(path: str) -> list[type[forms.BaseForm]]:
    """The Django form classes the view behind ``path`` uses (read from its code)."""
    func = resolve(path).func
    view_class = getattr(func, "view_class", None)
    if view_class is not None:
        form_class = getattr(view_class, "form_class", None)
        return [form_class] if form_class else []
    view = inspect.unwrap(func)
    found = []
    for name in view.__code__.co_names:
        value = view.__globals__.get(name)
        if isinstance(value, type) and issubclass(value, forms.BaseForm):
            found.append(value)
    return found


def targets_for(site: Site, group: str) -> tuple[list[Target], list[str]]:
    """The forms posting to URLs of ``group``, with the URLs that need a DECLARED entry."""
    targets = [t for t in site.targets if group_of(t.label) == group]
    reached = {t.label for t in targets if t.method == "post"}
    missing = []
    for visit in site.visits:
        if group_of(visit.label) != group or visit.label in reached:
            continue
        if visit.status not in (403, 404, 405):
            # A page that renders no form posting to itself: it ignores a POST, and the
            # probe below checks that it does so without harm.
            targets.append(Target(visit.label, "probe", visit.path, [], "a page without a form"))
            continue
        classes = form_classes_of(visit.path)
        if not classes and visit.label not in DECLARED and visit.status != 405:
            # A page this persona may not open (403, 404): a POST must be refused too.
            targets.append(Target(visit.label, "probe", visit.path, [], "a page out of reach"))
        elif classes:
            targets += [
                Target(visit.label, "post", visit.path, fields_of_form_class(c), c.__name__)
                for c in classes
            ]
        elif visit.label in DECLARED:
            targets.append(
                Target(visit.label, "post", visit.path, DECLARED[visit.label], "DECLARED")
            )
        else:
            missing.append(
                f"{visit.path} ({visit.label}) answers GET with {visit.status}, renders no form "
                "and uses no Django form: add its fields to DECLARED"
            )
    return targets, missing


# The URLs fuzzed together, by app (the slowest first, so two workers finish together).
GROUPS = ["coordination", "referrals", "modules", "evaluation", "apu"]


def group_of(label: str) -> str:
    namespace = label.split(":")[0] if ":" in label else ""
    return {"research": "evaluation", "": "evaluation" if label == "course_detail" else "apu"}.get(
        namespace, namespace
    )


def baseline(target: Target) -> dict[str, list[str]]:
    """What a person submits who fills the form in sensibly: its current values, each
    required empty field filled, and VALID's values on top."""
    data = {}
    for f in target.fields:
        values = list(f.current)
        if f.required and not [v for v in values if v.strip()]:
            values = [_sensible(f)]
        data[f.name] = values
    for name, value in VALID.get(target.label, {}).items():
        if name in data:
            data[name] = [value]
    return data


def _sensible(f: Field) -> str:
    options = [option for option in f.options if option]
    if options:
        return options[0]
    if f.kind == "email":
        return "fuzz@example.org"
    return {
        "date": TODAY,
        "datetime-local": f"{TODAY}T10:00",
        "number": str(int(f.minimum or 60)),
    }.get(f.value_kind, "Fuzz")


# --- What a response shows and what was saved -------------------------------------------------


# An element that shows an error: Django's errorlist, the messages' message-error, or an alert;
# not one kept hidden until needed (the PHQ-9 item-9 warning).
ERROR_ELEMENT = re.compile(
    r"<[a-z]+\b(?=[^>]*(?:class=\"[^\"]*\b(?:errorlist|message-error)\b|role=\"alert\"))"
    r"(?![^>]*\shidden\b)"
)


def shows_error(response) -> bool:
    if any(message.level >= ERROR for message in get_messages(response.wsgi_request)):
        return True
    if response.streaming or "html" not in response.get("Content-Type", ""):
        return False
    body = response.content.decode(errors="replace")
    if "<" not in body:
        return bool(body.strip())  # a bare message, as an htmx partial answers a refusal
    return bool(ERROR_ELEMENT.search(body))


def fingerprinted_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in DOMAIN_APPS
        and model._meta.label not in NOT_FINGERPRINTED
        and not model._meta.proxy
    ]


def fingerprint_sql() -> str:
    quote = connection.ops.quote_name
    return " UNION ALL ".join(
        # Names from the model registry, quoted; no input reaches this statement.
        f"SELECT {i}, count(*), max({quote(model._meta.pk.column)}) "  # noqa: S608
        f"FROM {quote(model._meta.db_table)}"
        for i, model in enumerate(fingerprinted_models())
    )


def fingerprint(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sorted(cursor.fetchall())


def watch_writes(writes: list):
    """An execute wrapper that notes each INSERT, UPDATE or DELETE of a watched table."""

    def wrapper(execute, sql, params, many, context):
        statement = sql.lstrip()[:80].upper()
        if statement.startswith(("INSERT", "UPDATE", "DELETE")):
            table = statement.split('"')[1].lower() if '"' in statement else ""
            if not table.startswith(UNWATCHED_TABLES):
                writes.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def text_columns() -> dict[str, list[tuple[type[models.Model], str]]]:
    """Free-text columns of the domain models by name, to find where accepted text went."""
    columns: dict[str, list] = {}
    for model in apps.get_models():
        if model._meta.app_label not in DOMAIN_APPS or model.__name__.startswith("Historical"):
            continue
        for column in model._meta.concrete_fields:
            if isinstance(column, models.CharField | models.TextField) and not column.choices:
                columns.setdefault(column.name, []).append((model, column.name))
    return columns


# --- Running the cases ---------------------------------------------------------------------------


@dataclass
class Fuzzer:
    client: Client
    sql: str
    before: list[tuple]
    columns: dict
    problems: list[str] = field(default_factory=list)
    cases: int = 0
    stored_as_typed: int = 0
    refused_as_filled_in: list[str] = field(default_factory=list)

    def run(self, target: Target, data: dict, case: Case) -> None:
        """Submit ``data`` with ``case``'s changes, judge the answer, and roll it back."""
        self.cases += 1
        sent = dict(data)
        for name, value in case.changes.items():
            if value is MISSING:
                sent.pop(name, None)
            else:
                sent[name] = value
        where = f"{target.method.upper()} {target.path} [{target.source}] {case.describe()}"
        cookies = copy.deepcopy(self.client.cookies)
        try:
            with transaction.atomic():
                writes = []
                try:
                    with connection.execute_wrapper(watch_writes(writes)):
                        response = self.send(target, sent)
                except Exception as error:  # noqa: BLE001 (a crash is what is looked for)
                    self.problems.append(f"{where}: raised {type(error).__name__}: {error}")
                    transaction.set_rollback(True)
                    return
                # A write seen is checked against the fingerprint: a view may roll back its own.
                changed = bool(writes) and fingerprint(self.sql) != self.before
                verdict = self.judge(target, case, response, changed)
                transaction.set_rollback(True)
        finally:
            self.client.cookies = cookies
        if verdict:
            self.problems.append(f"{where}: {verdict}")

    def send(self, target: Target, sent: dict):
        body = encode(sent)
        extra = {"HTTP_HX_REQUEST": "true"} if target.htmx else {}
        if target.method == "get":
            return self.client.get(f"{target.path.split('?')[0]}?{body.decode()}", **extra)
        return self.client.generic(
            "POST",
            target.path,
            body,
            content_type="application/x-www-form-urlencoded",
            **extra,
        )

    def judge(self, target: Target, case: Case, response, changed: bool) -> str:
        status = response.status_code
        if status >= 500:
            return f"answered {status}"
        if target.method in ("get", "probe") or target.label in TOLERANT:
            return "saved something" if changed else ""
        if case.expect == BAD_REQUEST:
            # Refused for the body (400), or before it was read (403, 404 for this persona).
            return "" if status in (400, 403, 404) and not changed else f"answered {status}"
        if target.is_button:
            return ""
        error_shown = shows_error(response)
        # Accepted: saved, or sent on as if it had been.
        accepted = changed or (status == 302 and not error_shown)
        if case.label == "as filled in" and not accepted:
            self.note_refused_as_filled_in(target, response)
        if not accepted:
            if status in (403, 404, 405) or error_shown:
                return ""
            if status in (200, 400, 409, 422):
                return f"answered {status} without a clear message"
            return f"answered {status}"
        if case.expect == REFUSE:
            return f"accepted a bad value (answered {status}, saved: {changed})"
        if error_shown:
            return f"showed an error but saved (answered {status})"
        return self.stored_differently(target, case) if changed else ""

    def note_refused_as_filled_in(self, target: Target, response) -> None:
        shown = target.source.startswith("a form on")
        if shown and target.label not in {**REFUSED_AS_FILLED_IN, **TOLERANT}:
            errors = re.findall(r'class="errorlist[^>]*>(.{0,160})', response.content.decode())
            self.refused_as_filled_in.append(
                f"{target.path} ({target.label}) answered {response.status_code} "
                f"to {baseline(target)}: {errors}"
            )

    def stored_differently(self, target: Target, case: Case) -> str:
        """Accepted free text is kept exactly as typed (Django strips the ends)."""
        kinds = {f.name: f.kind for f in target.fields}
        for name, value in case.changes.items():
            if value is MISSING or kinds.get(name) not in TEXT_TYPES - {"password", "email"}:
                continue
            text = as_text(value[-1] if isinstance(value, list) else value).strip()
            places = self.columns.get(name.rsplit("-", 1)[-1], [])
            if not text or not places:
                continue
            if not any(model.objects.filter(**{column: text}).exists() for model, column in places):
                return f"accepted {name} but did not store it as typed"
            self.stored_as_typed += 1
        return ""

    def fuzz(self, target: Target) -> None:
        data = baseline(target)
        if target.method == "probe" or target.is_button:
            for case in PROBES:
                self.run(target, data, case)
            return
        self.run(target, data, Case("as filled in", {}, MAY))
        for f in fuzzed_fields(target.fields):
            lenient = f.name.endswith(tuple(LENIENT))
            for case in cases_for(f):
                if lenient and not has_nul(case.changes[f.name]):
                    case = replace(case, expect=MAY)
                self.run(target, data, case)
        for case in garbage_cases(target.fields):
            self.run(target, data, case)
        if target.method == "post":
            for case in TRANSPORT:
                self.run(target, data, case)
            self.hypothesis(target, data)

    def hypothesis(self, target: Target, data: dict) -> None:
        names = [f.name for f in fuzzed_fields(target.fields)]

        @settings(
            max_examples=HYPOTHESIS_EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(changes=st.dictionaries(st.sampled_from(names), VALUES, min_size=1, max_size=3))
        def submit(changes):
            expect = REFUSE if any(has_nul(value) for value in changes.values()) else MAY
            self.run(target, data, Case("hypothesis", changes, expect))

        submit()


@pytest.fixture
def plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def open_clinic(clinic, clinician) -> dict:  # noqa: F811 (the fixture imported above)
    """The clinic, with a referral still open, so its screening and decision forms show, and
    the pages of a meeting still to be held (the clinic's midpoint meeting is held)."""
    planned = Meeting.objects.get(course_id=clinic["pk:courses"], kind=Meeting.Kind.DISCHARGE)
    extra = [f"/meetings/{planned.pk}/", f"/meetings/{planned.pk}/outcome/"]
    return clinic | {"pk:referrals": register(clinician, name="Olga Open").pk, "extra": extra}


@pytest.mark.usefixtures("plain_http")
@pytest.mark.parametrize("group", GROUPS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_bad_input_never_crashes_nor_saves(request, open_clinic, persona, group):
    client = Client()
    verified_login(client, request.getfixturevalue(PERSONAS[persona]))
    site = crawl(client, open_clinic)
    targets, missing = targets_for(site, group)
    sql = fingerprint_sql()
    fuzzer = Fuzzer(client, sql, fingerprint(sql), text_columns())

    for target in targets:
        fuzzer.fuzz(target)

    forms_fuzzed = sorted({t.label for t in targets if t.method != "probe" and not t.is_button})
    print(
        f"form fuzzer, {persona}, {group}: {fuzzer.cases} cases; {len(forms_fuzzed)} URLs with a "
        f"form ({', '.join(forms_fuzzed)}), {len(targets)} targets; accepted free text found "
        f"stored as typed {fuzzer.stored_as_typed} times"
    )
    assert missing == []
    assert fuzzer.refused_as_filled_in == []
    assert fuzzer.problems == [], "\n".join(fuzzer.problems)


# Bad input the fuzzer found crashing or going unexplained, each fixed in its own commit; kept
# as rows, so a later change to the fuzzer cannot lose them.
REGRESSIONS = [
    pytest.param(
        "clinician", "get", "course_detail", {"group_search": "a\x00b"}, 200, None,
        id="course-page-group-search-with-a-nul-byte",
    ),
    pytest.param(
        "clinician", "post", "coordination:action_done", {"done": "maybe"}, 302,
        ACTION_DONE_OR_NOT, id="action-done-neither-1-nor-0",
    ),
    pytest.param(
        "coordinator", "htmx", "coordination:action_done", {}, 400, ACTION_DONE_OR_NOT,
        id="action-done-tap-without-done",
    ),
    pytest.param(
        "clinician", "post", "modules:formulation_edit", {"version": "abc", "situations": "x"},
        400, FORM_OUT_OF_DATE, id="formulation-with-an-altered-version",
    ),
    pytest.param(
        "coordinator", "post", "coordination:meeting_schedule",
        {"scheduled_at": "2026-03-10T10:00", "duration_minutes": "60", "place": "APU"}, 400,
        FORM_OUT_OF_DATE, id="meeting-time-without-its-version",
    ),
    pytest.param(
        "clinician", "post", "modules:enrolment_end", {"ends_on": "2025-02-30"}, 302,
        gettext_lazy("Give the last day in the group as a date."),
        id="leaving-a-group-on-a-day-that-does-not-exist",
    ),
    pytest.param(
        "clinician", "post", "research:consent", {"action": "shred"}, 200, NO_CONSENT_ACTION,
        id="consent-post-that-is-neither-button",
    ),
    pytest.param(
        "coordinator", "post", "apu:two_factor_remove", {"token": "123456"}, 400,
        TWO_FACTOR_REQUIRED, id="two-factor-off-for-a-role-that-must-keep-it",
    ),
]  # fmt: skip


@pytest.mark.usefixtures("plain_http")
@pytest.mark.parametrize("persona,method,label,data,status,message", REGRESSIONS)
def test_bad_input_the_fuzzer_found_is_refused_with_a_message(
    request, open_clinic, persona, method, label, data, status, message
):
    client = Client()
    verified_login(client, request.getfixturevalue(PERSONAS[persona]))
    path = real_path(PAGES_BY_LABEL[label], open_clinic)
    sql = fingerprint_sql()
    before = fingerprint(sql)

    if method == "get":
        response = client.get(path, data)
    else:
        htmx = {"HTTP_HX_REQUEST": "true"} if method == "htmx" else {}
        response = client.post(path, data, **htmx)

    assert response.status_code == status
    assert fingerprint(sql) == before
    if message is not None:
        with translation.override(response.wsgi_request.LANGUAGE_CODE):
            text = str(message)
        shown = [str(m) for m in get_messages(response.wsgi_request) if m.level >= ERROR]
        assert text in shown or escape(text) in response.content.decode()
