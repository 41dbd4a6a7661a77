"""The access matrix (issue 8): every URL of the site and the admin, requested as each persona
with GET and with POST, against one clinic with a real object behind every id.

The expected answer per persona is declared once, in the tables below: ``SITE_GET`` and
``SITE_POST`` for the site's pages, ``ADMIN_SITE`` for the admin's own pages, and, for every
model the admin offers, its family in ``ADMIN_MODELS`` (the admin's pages of a model are
generated from ``admin.site._registry``). The URL conf is walked
(tests/apu/test_anonymous_redirect.py), so a URL added without a row fails here, by name, and
so does a row left behind for a URL that is gone.

Every object asked about belongs to Ballerup citizens (tests/access_data.py): the coordinator
of Ballerup is the patient's own municipality, the coordinator of Gladsaxe is not. Out of reach
answers 404, as absent; inside reach but not allowed answers 403; a researcher, who sees only
the pseudonymised export, gets 403 on every other page whether the object exists or not, so the
answer tells nothing either way. A POST carries a valid CSRF token and an empty body, and a
refused request must leave the database as it was. No answer to any persona may show a patient
outside their reach, and no coordinator may see the case formulation.
"""

from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve, reverse
from simple_history.admin import SimpleHistoryAdmin

from tests.access_data import FORMULATION_WORDS, NOW, PERSONAS, AccessData, built_for_module
from tests.apu.test_anonymous_redirect import PAGES, login_redirect_for
from tests.apu.test_hardening import real_path, real_value, writes_besides_the_session

pytestmark = pytest.mark.django_db

SESSION_COOKIE = django_settings.SESSION_COOKIE_NAME
CSRF_COOKIE = django_settings.CSRF_COOKIE_NAME
CSRF_SECRET = "AccessMatrixCsrfSecret0123456789"  # 32 characters, as Django's secrets are
MISSING_PK = 2_000_000_000  # no row has it


@dataclass(frozen=True)
class To:
    """A redirect to the page named ``target`` (a URL name, or a path for an unnamed one)."""

    target: str

    def __repr__(self) -> str:
        return f"To({self.target!r})"


LOGIN = "login"  # to the site's login, with ?next= the page asked for
ADMIN_LOGIN = To("/admin/login/")  # the admin's login, which hands over to the site's
TO_HOME = To("apu:home")
TO_LOGIN_PAGE = To("apu:login")
TO_SET_PASSWORD = To("apu:password_reset_confirm")  # the token moves into the session
TO_COURSE = To("course_detail")
TO_MEETING = To("coordination:meeting_detail")
TO_CALENDAR = To("coordination:calendar_settings")
TO_GROUP = To("modules:group_detail")
TO_ADMIN_INDEX = To("admin:index")
# Answers that refuse: the database must be as it was (besides the session's expiry).
REFUSALS = {LOGIN, ADMIN_LOGIN, TO_ADMIN_INDEX, 403, 404, 405}

Row = tuple[object, object, object, object, object, object]

# fmt: off
# The site's pages, one column per persona:
#   anonymous, clinician, coordinator of Ballerup (own), of Gladsaxe (other), researcher, admin.
# 200 is also a form shown again (with errors), 400 a form refused with its errors.
SITE_GET: dict[str, Row] = {
    "apu:home":                        (LOGIN, 200, 200, 200, 200, 200),
    "apu:login":                       (200, TO_HOME, TO_HOME, TO_HOME, TO_HOME, TO_HOME),
    "apu:logout":                      (LOGIN, 405, 405, 405, 405, 405),
    "apu:account":                     (LOGIN, 200, 200, 200, 200, 200),
    "apu:password_change":             (LOGIN, 200, 200, 200, 200, 200),
    "apu:two_factor_setup":            (LOGIN, 200, 200, 200, 200, 200),
    "apu:two_factor_qr":               (LOGIN, 200, 200, 200, 200, 200),
    "apu:two_factor_verify":           (LOGIN, 200, 200, 200, 200, 200),
    "apu:two_factor_remove":           (LOGIN, 405, 405, 405, 405, 405),
    "apu:password_reset":              (200, 200, 200, 200, 200, 200),
    "apu:password_reset_done":         (200, 200, 200, 200, 200, 200),
    "apu:password_reset_confirm":      (TO_SET_PASSWORD,) * 6,
    "apu:password_reset_complete":     (200, 200, 200, 200, 200, 200),
    "apu:healthz":                     (200, 200, 200, 200, 200, 200),
    "referrals:referral_list":         (LOGIN, 200, 200, 200, 403, 200),
    "referrals:referral_create":       (LOGIN, 200, 200, 200, 403, 200),
    "referrals:referral_preview":      (LOGIN, 405, 405, 405, 405, 405),
    "referrals:referral_detail":       (LOGIN, 200, 200, 404, 403, 200),
    "referrals:referral_screen":       (LOGIN, 405, 405, 405, 405, 405),
    "referrals:referral_letter":       (LOGIN, 200, 403, 404, 403, 200),
    "referrals:patient_detail":        (LOGIN, 200, 200, 404, 403, 200),
    "referrals:patient_access_report": (LOGIN, 200, 403, 404, 403, 200),
    "coordination:decide_referral":    (LOGIN, 405, 405, 405, 405, 405),
    "coordination:worklist":           (LOGIN, 200, 200, 200, 403, 200),
    "coordination:meeting_detail":     (LOGIN, 200, 200, 404, 403, 200),
    "coordination:meeting_schedule":   (LOGIN, 405, 405, 405, 405, 405),
    "coordination:meeting_outcome":    (LOGIN, 200, 200, 404, 403, 200),
    "coordination:meeting_minutes":    (LOGIN, 200, 200, 404, 403, 200),
    "coordination:meeting_ics":        (LOGIN, 200, 200, 404, 403, 200),
    "coordination:action_done":        (LOGIN, 405, 405, 405, 405, 405),
    "coordination:extra_meeting":      (LOGIN, 200, 403, 404, 403, 200),
    "coordination:discharge":          (LOGIN, 200, 403, 404, 403, 200),
    "coordination:calendar_settings":  (LOGIN, 200, 200, 200, 403, 200),
    "coordination:calendar_renew":     (LOGIN, 405, 405, 405, 405, 405),
    "coordination:calendar_revoke":    (LOGIN, 405, 405, 405, 405, 405),
    # The secret token in the URL is the credential (a calendar program has no session).
    "coordination:calendar_feed":      (200, 200, 200, 200, 200, 200),
    "modules:today":                   (LOGIN, 200, 403, 403, 403, 200),
    "modules:group_list":              (LOGIN, 200, 403, 403, 403, 200),
    "modules:group_detail":            (LOGIN, 200, 403, 403, 403, 200),
    "modules:group_generate":          (LOGIN, 405, 405, 405, 405, 405),
    "modules:session_attendance":      (LOGIN, 200, 403, 403, 403, 200),
    "modules:session_tap":             (LOGIN, 405, 405, 405, 405, 405),
    "modules:session_cancel":          (LOGIN, 405, 405, 405, 405, 405),
    "modules:session_move":            (LOGIN, 200, 403, 403, 403, 200),
    "modules:course_enrol":            (LOGIN, 405, 405, 405, 405, 405),
    "modules:appointment_new":         (LOGIN, 200, 403, 404, 403, 200),
    "modules:formulation_edit":        (LOGIN, 200, 403, 404, 403, 200),
    "modules:plan_edit":               (LOGIN, 200, 403, 404, 403, 200),
    "modules:enrolment_end":           (LOGIN, 405, 405, 405, 405, 405),
    "modules:enrolment_switch":        (LOGIN, 405, 405, 405, 405, 405),
    "modules:waiting_enrol":           (LOGIN, 405, 405, 405, 405, 405),
    "modules:appointment_attendance":  (LOGIN, 405, 405, 405, 405, 405),
    "evaluation:worklist":             (LOGIN, 200, 403, 403, 403, 200),
    "evaluation:measurement_new":      (LOGIN, 200, 403, 404, 403, 200),
    "evaluation:dashboard":            (LOGIN, 200, 200, 200, 403, 200),
    "evaluation:dashboard_export":     (LOGIN, 200, 200, 200, 403, 200),
    "evaluation:improvement_log":      (LOGIN, 200, 200, 200, 403, 200),
    "research:consent":                (LOGIN, 200, 403, 404, 403, 200),
    "research:export":                 (LOGIN, 403, 403, 403, 200, 200),
    "research:export_csv":             (LOGIN, 403, 403, 403, 200, 200),
    "research:dictionary_csv":         (LOGIN, 403, 403, 403, 200, 200),
    "course_detail":                   (LOGIN, 200, 200, 404, 403, 200),
    "set_language":                    (TO_HOME,) * 6,
}

SITE_POST: dict[str, Row] = {
    "apu:home":                        (LOGIN, 200, 200, 200, 200, 200),
    "apu:login":                       (200, TO_HOME, TO_HOME, TO_HOME, TO_HOME, TO_HOME),
    "apu:logout":                      (LOGIN, *(TO_LOGIN_PAGE,) * 5),
    "apu:account":                     (LOGIN, 200, 200, 200, 200, 200),
    "apu:password_change":             (LOGIN, 200, 200, 200, 200, 200),
    "apu:two_factor_setup":            (LOGIN, 200, 200, 200, 200, 200),
    "apu:two_factor_qr":               (LOGIN, 405, 405, 405, 405, 405),
    "apu:two_factor_verify":           (LOGIN, 200, 200, 200, 200, 200),
    "apu:two_factor_remove":           (LOGIN, 400, 400, 400, 400, 400),
    "apu:password_reset":              (200, 200, 200, 200, 200, 200),
    "apu:password_reset_done":         (405, 405, 405, 405, 405, 405),
    "apu:password_reset_confirm":      (TO_SET_PASSWORD,) * 6,
    "apu:password_reset_complete":     (405, 405, 405, 405, 405, 405),
    "apu:healthz":                     (405, 405, 405, 405, 405, 405),
    "referrals:referral_list":         (LOGIN, 200, 200, 200, 403, 200),
    "referrals:referral_create":       (LOGIN, 200, 200, 200, 403, 200),
    "referrals:referral_preview":      (LOGIN, 200, 200, 200, 403, 200),
    "referrals:referral_detail":       (LOGIN, 200, 200, 404, 403, 200),
    "referrals:referral_screen":       (LOGIN, 400, 403, 404, 403, 400),
    "referrals:referral_letter":       (LOGIN, 200, 403, 404, 403, 200),
    "referrals:patient_detail":        (LOGIN, 200, 200, 404, 403, 200),
    "referrals:patient_access_report": (LOGIN, 200, 403, 404, 403, 200),
    "coordination:decide_referral":    (LOGIN, 400, 403, 404, 403, 400),
    "coordination:worklist":           (LOGIN, 200, 200, 200, 403, 200),
    "coordination:meeting_detail":     (LOGIN, 200, 200, 404, 403, 200),
    # A coordinator logs meetings and their actions for their own municipality's citizens.
    "coordination:meeting_schedule":   (LOGIN, 400, 400, 404, 403, 400),
    "coordination:meeting_outcome":    (LOGIN, 400, 400, 404, 403, 400),
    "coordination:meeting_minutes":    (LOGIN, 200, 200, 404, 403, 200),
    "coordination:meeting_ics":        (LOGIN, 405, 405, 405, 405, 405),
    "coordination:action_done":        (LOGIN, TO_MEETING, TO_MEETING, 404, 403, TO_MEETING),
    "coordination:extra_meeting":      (LOGIN, 200, 403, 404, 403, 200),
    "coordination:discharge":          (LOGIN, 200, 403, 404, 403, 200),
    "coordination:calendar_settings":  (LOGIN, 200, 200, 200, 403, 200),
    "coordination:calendar_renew":     (LOGIN, TO_CALENDAR, TO_CALENDAR, TO_CALENDAR, 403,
                                        TO_CALENDAR),
    "coordination:calendar_revoke":    (LOGIN, TO_CALENDAR, TO_CALENDAR, TO_CALENDAR, 403,
                                        TO_CALENDAR),
    "coordination:calendar_feed":      (405, 405, 405, 405, 405, 405),
    "modules:today":                   (LOGIN, 200, 403, 403, 403, 200),
    "modules:group_list":              (LOGIN, 200, 403, 403, 403, 200),
    "modules:group_detail":            (LOGIN, 200, 403, 403, 403, 200),
    "modules:group_generate":          (LOGIN, TO_GROUP, 403, 403, 403, TO_GROUP),
    "modules:session_attendance":      (LOGIN, 200, 403, 403, 403, 200),
    "modules:session_tap":             (LOGIN, 400, 403, 403, 403, 400),
    "modules:session_cancel":          (LOGIN, TO_GROUP, 403, 403, 403, TO_GROUP),
    "modules:session_move":            (LOGIN, 400, 403, 403, 403, 400),  # an empty form
    "modules:course_enrol":            (LOGIN, TO_COURSE, 403, 404, 403, TO_COURSE),
    "modules:appointment_new":         (LOGIN, 200, 403, 404, 403, 200),
    "modules:formulation_edit":        (LOGIN, 200, 403, 404, 403, 200),
    "modules:plan_edit":               (LOGIN, 200, 403, 404, 403, 200),
    "modules:enrolment_end":           (LOGIN, TO_COURSE, 403, 403, 403, TO_COURSE),
    "modules:enrolment_switch":        (LOGIN, TO_COURSE, 403, 403, 403, TO_COURSE),
    "modules:waiting_enrol":           (LOGIN, TO_GROUP, 403, 403, 403, TO_GROUP),
    "modules:appointment_attendance":  (LOGIN, TO_COURSE, 403, 403, 403, TO_COURSE),
    "evaluation:worklist":             (LOGIN, 200, 403, 403, 403, 200),
    "evaluation:measurement_new":      (LOGIN, 200, 403, 404, 403, 200),
    "evaluation:dashboard":            (LOGIN, 200, 200, 200, 403, 200),
    "evaluation:dashboard_export":     (LOGIN, 200, 200, 200, 403, 200),
    "evaluation:improvement_log":      (LOGIN, 200, 403, 403, 403, 200),
    "research:consent":                (LOGIN, 200, 403, 404, 403, 200),
    "research:export":                 (LOGIN, 403, 403, 403, 200, 200),
    "research:export_csv":             (LOGIN, 403, 403, 403, 200, 200),
    "research:dictionary_csv":         (LOGIN, 403, 403, 403, 200, 200),
    "course_detail":                   (LOGIN, 200, 200, 404, 403, 200),
    "set_language":                    (TO_HOME,) * 6,
}

# The admin's own pages; only the admin (staff) gets in, everyone else is sent to its login,
# which refuses a logged-in user who is not staff and sends the admin on to the admin's index.
NOT_STAFF = (ADMIN_LOGIN,) * 4
ADMIN_SITE: dict[str, tuple[Row, Row]] = {
    #                             GET                                POST
    # The site's login, then back to the admin's index.
    "admin/login/":              ((TO_LOGIN_PAGE, 403, 403, 403, 403, TO_ADMIN_INDEX),
                                  (TO_LOGIN_PAGE, 403, 403, 403, 403, TO_ADMIN_INDEX)),
    "admin:login":               ((TO_LOGIN_PAGE, 403, 403, 403, 403, TO_ADMIN_INDEX),
                                  (TO_LOGIN_PAGE, 403, 403, 403, 403, TO_ADMIN_INDEX)),
    "admin:index":               ((ADMIN_LOGIN, *NOT_STAFF, 200),
                                  (ADMIN_LOGIN, *NOT_STAFF, 200)),
    "admin:logout":              ((ADMIN_LOGIN, *(TO_ADMIN_INDEX,) * 4, 405),
                                  (ADMIN_LOGIN, *(TO_ADMIN_INDEX,) * 4, TO_LOGIN_PAGE)),
    "admin:password_change":     ((ADMIN_LOGIN, *NOT_STAFF, 200),
                                  (ADMIN_LOGIN, *NOT_STAFF, 200)),
    "admin:password_change_done": ((ADMIN_LOGIN, *NOT_STAFF, 200),
                                   (ADMIN_LOGIN, *NOT_STAFF, 405)),
    # Without a field to complete the autocomplete refuses; it takes GET only.
    "admin:autocomplete":        ((ADMIN_LOGIN, *NOT_STAFF, 403),
                                  (ADMIN_LOGIN, *NOT_STAFF, 405)),
    "admin:jsi18n":              ((ADMIN_LOGIN, *NOT_STAFF, 200),
                                  (ADMIN_LOGIN, *NOT_STAFF, 405)),
    # No model has a page on the site (get_absolute_url), so "view on site" finds none.
    "admin:view_on_site":        ((ADMIN_LOGIN, *NOT_STAFF, 404),
                                  (ADMIN_LOGIN, *NOT_STAFF, 404)),
    "admin:app_list":            ((ADMIN_LOGIN, *NOT_STAFF, 200),
                                  (ADMIN_LOGIN, *NOT_STAFF, 200)),
    "admin/(?P<url>.*)$":        ((ADMIN_LOGIN, *NOT_STAFF, 404),
                                  (ADMIN_LOGIN, *NOT_STAFF, 404)),
    # Pages a model's admin adds to the usual ones.
    "admin:auth_user_password_change":  ((LOGIN, *NOT_STAFF, 200), (LOGIN, *NOT_STAFF, 200)),
    "admin:otp_totp_totpdevice_config": ((LOGIN, *NOT_STAFF, 200), (LOGIN, *NOT_STAFF, 200)),
    "admin:otp_totp_totpdevice_qrcode": ((LOGIN, *NOT_STAFF, 200), (LOGIN, *NOT_STAFF, 200)),
}
# fmt: on


@dataclass(frozen=True)
class AdminFamily:
    """What the admin may do with a model's rows in the Django admin (viewing always)."""

    add: bool = True
    change: bool = True
    delete: bool = True
    # Every field is read-only, so an empty change form is valid and saves (nothing new).
    empty_form_saves: bool = False

    def admin_answer(self, kind: str, method: str):
        """The admin's answer on the model's page ``kind``; the redirect page answers GET."""
        if kind == "redirect":
            return To("change")
        if kind == "add":
            return 200 if self.add else 403
        if kind == "delete":
            return 200 if self.delete else 403  # an empty POST asks to confirm again
        if kind == "change" and method == "POST":
            if not self.change:
                return 403
            return To("changelist") if self.empty_form_saves else 200
        return 200  # changelist, change (GET), history, simple_history


FULL = AdminFamily()
# History, the access log and the research export refer to these rows: never deleted.
KEPT = AdminFamily(delete=False)
# Loaded by a data migration and edited there, neither added nor deleted by hand.
LOADED = AdminFamily(add=False, delete=False)
# Written only by the services (or the access log): the admin looks, never edits.
READ_ONLY = AdminFamily(add=False, change=False, delete=False)
# Written by the login (django-axes) or by the user (a calendar feed): looked at, deleted.
RECORDS = AdminFamily(add=False, empty_form_saves=True)

ADMIN_MODELS: dict[str, AdminFamily] = {
    "auth.group": FULL,
    "otp_totp.totpdevice": FULL,
    "axes.accessattempt": RECORDS,
    "axes.accesslog": RECORDS,
    "axes.accessfailurelog": RECORDS,
    "apu.municipality": LOADED,
    "apu.user": KEPT,
    "apu.accesslog": READ_ONLY,
    "referrals.patient": KEPT,
    "referrals.referral": KEPT,
    "referrals.diagnosiscode": FULL,
    "referrals.coderule": FULL,
    "referrals.screening": READ_ONLY,
    "referrals.decision": READ_ONLY,
    "referrals.course": KEPT,
    "coordination.meeting": KEPT,
    "coordination.action": FULL,
    "coordination.discharge": KEPT,
    "coordination.calendarfeed": RECORDS,
    "modules.module": FULL,
    "modules.group": FULL,
    "modules.session": FULL,
    "modules.enrolment": FULL,
    "modules.waitinglistentry": FULL,
    "modules.attendance": FULL,
    "modules.noshowreason": FULL,
    "modules.appointment": FULL,
    "modules.caseformulation": FULL,
    "modules.treatmentplan": FULL,
    "evaluation.itemlabel": LOADED,
    "evaluation.measurement": KEPT,
    "evaluation.researchconsent": KEPT,
    "evaluation.improvementnote": FULL,
}


@dataclass(frozen=True)
class AdminModelPage:
    label: str  # as the walk names it
    model: str  # app_label.model_name
    kind: str  # changelist, add, change, history, delete, simple_history, redirect
    ids: int  # how many ids the URL takes: 0, the row's, or the row's and a version's


def admin_model_pages() -> dict[str, AdminModelPage]:
    """The usual pages of every model the admin offers, from the admin's registry."""
    pages = {}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        kinds = ["changelist", "add", "change", "history", "delete"]
        if isinstance(model_admin, SimpleHistoryAdmin):
            kinds.append("simple_history")
        for kind in kinds:
            label = f"admin:{opts.app_label}_{opts.model_name}_{kind}"
            ids = {"changelist": 0, "add": 0, "simple_history": 2}.get(kind, 1)
            pages[label] = AdminModelPage(label, opts.label_lower, kind, ids)
        label = f"admin/{opts.app_label}/{opts.model_name}/<path:object_id>/"
        pages[label] = AdminModelPage(label, opts.label_lower, "redirect", 1)
    return pages


ADMIN_MODEL_PAGES = admin_model_pages()
# Pages a model's admin adds (ADMIN_SITE's last rows), with the model whose row they show.
ADMIN_EXTRA_PAGES = {
    f"admin:{url.name}": model._meta.label_lower
    for model, model_admin in admin.site._registry.items()
    for url in model_admin.get_urls()
    if url.name and f"admin:{url.name}" not in ADMIN_MODEL_PAGES
}
PAGES_BY_LABEL = {page.label: page for page in PAGES}
DECLARED = {*SITE_GET, *ADMIN_SITE, *ADMIN_MODEL_PAGES}


def expected(label: str, persona: str, method: str):
    """The declared answer for ``persona`` asking ``label`` with ``method``; None if none."""
    column = PERSONAS.index(persona)
    if label in SITE_GET:
        return (SITE_GET if method == "GET" else SITE_POST)[label][column]
    if label in ADMIN_SITE:
        return ADMIN_SITE[label][method == "POST"][column]
    if label in ADMIN_MODEL_PAGES:
        page = ADMIN_MODEL_PAGES[label]
        family = ADMIN_MODELS.get(page.model)
        if family is None:
            return None
        if persona == "admin":
            answer = family.admin_answer(page.kind, method)
            app, model = page.model.split(".")
            # The model's own pages, by their short name in the family's answers.
            return To(f"admin:{app}_{model}_{answer.target}") if isinstance(answer, To) else answer
        return LOGIN if persona == "anonymous" else ADMIN_LOGIN
    return None


# --- The clinic, built once per module (and per test worker) ---------------------------------


@pytest.fixture(scope="module")
def clinic(django_db_setup, django_db_blocker) -> AccessData:
    """The clinic of tests/access_data.py, in a transaction rolled back after the module;
    each test runs in a savepoint inside it, so what one request changes the next never sees."""
    with built_for_module(django_db_blocker) as data:
        yield data


@pytest.fixture(autouse=True)
def as_in_production(settings, time_machine):
    """Two-factor required, as in production; plain HTTP, so what is checked is access."""
    settings.REQUIRE_2FA = True
    settings.SECURE_SSL_REDIRECT = False
    time_machine.move_to(NOW, tick=False)


def admin_path(label: str, clinic: AccessData) -> str:
    """The admin page ``label`` for the clinic's row of its model."""
    if label == "admin:view_on_site":
        patient = clinic.rows["referrals.patient"]
        return reverse(label, args=[ContentType.objects.get_for_model(patient).pk, patient.pk])
    if label == "admin:app_list":
        return reverse(label, kwargs={"app_label": "referrals"})
    page = ADMIN_MODEL_PAGES.get(label)
    if page is None:
        if label not in ADMIN_EXTRA_PAGES:
            return PAGES_BY_LABEL[label].path  # the admin's own pages take no real id
        row = clinic.rows[ADMIN_EXTRA_PAGES[label]]
        return reverse(label, args=[row.pk])
    row = clinic.rows[page.model]
    if page.kind == "redirect":
        app, model = page.model.split(".")
        return f"{reverse(f'admin:{app}_{model}_changelist')}{row.pk}/"
    if page.ids == 2:
        return reverse(label, args=[row.pk, row.history.order_by("history_id")[0].history_id])
    return reverse(label, args=[row.pk][: page.ids])


def path_for(label: str, clinic: AccessData) -> str:
    """The page ``label`` with the clinic's real object (or value) for each parameter."""
    if label.startswith("admin"):
        return admin_path(label, clinic)
    return real_path(PAGES_BY_LABEL[label], clinic.values)


# One browser for the whole module: a new test client sets up the middleware again, and
# WhiteNoise's scan of the static files would cost more than the request itself.
BROWSER = Client(enforce_csrf_checks=True, HTTP_X_CSRFTOKEN=CSRF_SECRET)


def persona_client(persona: str, clinic: AccessData) -> Client:
    """The browser with a valid CSRF token (cookie and header), logged in as ``persona``."""
    BROWSER.cookies = SimpleCookie({CSRF_COOKIE: CSRF_SECRET})
    if persona != "anonymous":
        BROWSER.cookies[SESSION_COOKIE] = clinic.sessions[persona]
    return BROWSER


def answer(response, path: str):
    """The response as the tables write it: a status, LOGIN, or To(the page redirected to)."""
    if response.status_code not in (301, 302):
        return response.status_code
    location = response["Location"]
    if location == login_redirect_for(path):
        return LOGIN
    target = urlsplit(location).path
    if target == ADMIN_LOGIN.target:
        return ADMIN_LOGIN
    try:
        return To(resolve(target).view_name)
    except Resolver404:
        return To(location)


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def request(client: Client, method: str, path: str):
    """``method`` on ``path`` with an empty body; the response, its body, and the writes."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path) if method == "GET" else client.post(path)
        text = body(response)  # a streamed response does its work as it is read
    return response, text, writes_besides_the_session(queries.captured_queries)


# --- The matrix --------------------------------------------------------------------------------


CASES = [
    pytest.param(label, persona, method, id=f"{label}-{persona}-{method}")
    for label in [*[page.label for page in PAGES], *sorted(DECLARED - set(PAGES_BY_LABEL))]
    for persona in PERSONAS
    for method in ("GET", "POST")
]


@pytest.mark.parametrize("label,persona,method", CASES)
def test_access_matrix(clinic, label, persona, method):
    assert label in PAGES_BY_LABEL, f"{label!r} has a row but is no longer in the URL conf"
    wanted = expected(label, persona, method)
    assert wanted is not None, (
        f"{label!r} has no declared expectation: add its row to SITE_GET and SITE_POST"
        " (or ADMIN_SITE, or its model to ADMIN_MODELS) in tests/apu/test_access_matrix.py"
    )
    path = path_for(label, clinic)

    response, text, writes = request(persona_client(persona, clinic), method, path)

    assert answer(response, path) == wanted, f"{method} {path} as {persona}"
    shown = [word for word in clinic.forbidden[persona] if word in text]
    assert shown == [], f"{method} {path} shows {persona} what is out of their reach"
    if wanted in REFUSALS:
        assert writes == [], f"a refused {method} {path} changed the database"
    elif wanted == 400:
        # A form refused with its errors: nothing saved, only the look at the page logged.
        assert [sql for sql in writes if '"apu_accesslog"' not in sql] == []


# --- The tables stay complete and true -----------------------------------------------------------


def test_every_url_has_a_declared_expectation():
    undeclared = [page.label for page in PAGES if page.label not in DECLARED]

    assert undeclared == [], "add a row to the tables in tests/apu/test_access_matrix.py"


def test_every_row_names_a_url_that_exists():
    assert sorted(DECLARED - set(PAGES_BY_LABEL)) == []
    assert set(SITE_GET) == set(SITE_POST)


def test_every_model_in_the_admin_has_a_family():
    registered = {model._meta.label_lower for model in admin.site._registry}

    assert sorted(registered - set(ADMIN_MODELS)) == []
    assert sorted(set(ADMIN_MODELS) - registered) == []


def test_every_row_has_an_answer_for_each_persona():
    rows = [*SITE_GET.values(), *SITE_POST.values()]
    rows += [row for pair in ADMIN_SITE.values() for row in pair]

    assert {len(row) for row in rows} == {len(PERSONAS)}


def test_the_clinic_has_a_real_value_for_every_parameter_of_the_site(clinic):
    """The admin's pages take the clinic's row of each model (``AccessData.rows``)."""
    placeholders = [
        f"{label} ({name})"
        for label in SITE_GET
        if label in PAGES_BY_LABEL
        for name in resolve(PAGES_BY_LABEL[label].path).kwargs
        if real_value(PAGES_BY_LABEL[label], name, clinic.values) is None
    ]

    assert placeholders == []


def test_the_leak_check_sees_what_the_clinic_sees(clinic):
    """The words a persona must not see do show where they may: the check can fail."""
    client = persona_client("clinician", clinic)
    course = path_for("course_detail", clinic)
    formulation = path_for("modules:formulation_edit", clinic)

    assert clinic.rows["referrals.patient"].name in body(client.get(course))
    assert FORMULATION_WORDS in body(client.get(formulation))
    assert clinic.rows["referrals.patient"].name in clinic.forbidden["coordinator_other"]


# --- Out of reach is the same as absent ----------------------------------------------------------

# Personas who may not see the Ballerup patient at all.
NO_REACH = ("anonymous", "coordinator_other", "researcher")
PAGES_WITH_AN_ID = [
    label
    for label in SITE_GET
    if label in PAGES_BY_LABEL and "pk" in resolve(PAGES_BY_LABEL[label].path).kwargs
]


def missing_path(path: str) -> str:
    """``path`` with an id no row has."""
    match = resolve(path)
    return reverse(match.view_name, kwargs=match.kwargs | {"pk": MISSING_PK})


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("persona", NO_REACH)
@pytest.mark.parametrize("label", PAGES_WITH_AN_ID)
def test_out_of_reach_answers_as_if_absent(clinic, label, persona, method):
    path = path_for(label, clinic)
    absent = missing_path(path)

    real = answer(request(persona_client(persona, clinic), method, path)[0], path)
    none = answer(request(persona_client(persona, clinic), method, absent)[0], absent)

    assert real == none
