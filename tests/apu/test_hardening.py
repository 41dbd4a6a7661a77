"""Hardening (issue 8): a new session key at each login step, a CSRF token on every POST, and
the security headers and Content Security Policy on every response.

The pages come from walking the URL conf (tests/apu/test_anonymous_redirect.py), so a page
added later is covered without touching this file; where the demo objects below exist, the
walk asks for the real object instead of a placeholder id, so real pages are rendered.
Lock-out lives in test_login.py, the deploy check in test_settings.py, inline code in
test_security_headers.py.
"""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, resolve, reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from coordination.models import CalendarFeed, Meeting
from coordination.services import ActionInput, decide_and_plan, record_outcome
from evaluation.dashboard import TABLES
from modules import services as module_services
from modules.models import Appointment
from referrals.models import Decision
from tests.apu.test_anonymous_redirect import PAGES, Page
from tests.apu.test_two_factor import code_for
from tests.coordination.factories import schedule
from tests.modules.factories import at, enrolled, new_course, new_group, new_session, register

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_factor_required")]

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SESSION_COOKIE = django_settings.SESSION_COOKIE_NAME
CSRF_COOKIE = django_settings.CSRF_COOKIE_NAME
ONE_YEAR = 60 * 60 * 24 * 365

# Views that take a POST without a CSRF token, each with the reason. None so far: the
# calendar feed, the one page a program fetches without a session, answers GET only.
CSRF_EXEMPT: dict[str, str] = {}


@pytest.fixture
def two_factor_required(settings):
    """As in production: everyone who sees patient data logs in with a code too."""
    settings.REQUIRE_2FA = True


@pytest.fixture
def frozen(time_machine):
    """The clock stands still, so a code computed here is the one the server expects."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


def session_key(client) -> str | None:
    cookie = client.cookies.get(SESSION_COOKIE)
    return cookie.value if cookie else None


def browser_with(key: str) -> Client:
    """Another browser that presents ``key`` as its session cookie (an attacker holding it)."""
    other = Client()
    other.cookies[SESSION_COOKIE] = key
    return other


def user_of(client, **extra):
    """Who the server takes ``client``'s session for (AnonymousUser when nobody)."""
    return client.get("/", **extra).wsgi_request.user


def is_logged_in(client, **extra) -> bool:
    return user_of(client, **extra).is_authenticated


def is_verified(client, **extra) -> bool:
    """Logged in and past the second factor: home opens."""
    user = user_of(client, **extra)
    return user.is_authenticated and user.is_verified()


def planted_session(client) -> str:
    """A session key set in the browser before login, as a fixation attack plants one."""
    store = SessionStore()
    store["planted"] = True
    store.create()
    client.cookies[SESSION_COOKIE] = store.session_key
    return store.session_key


def verified_login(client, user) -> TOTPDevice:
    """Log ``client`` in as ``user`` with the second factor already given."""
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


# --- Session fixation: a new key at the password and at the code ---------------------------------


@pytest.mark.usefixtures("frozen")
def test_the_password_login_replaces_a_planted_session_key(client, log_in, clinician):
    planted = planted_session(client)
    assert client.get("/login/").status_code == 200
    assert session_key(client) == planted

    response = log_in("clinician")

    assert (response.status_code, response.url) == (302, "/")
    after_password = session_key(client)
    assert after_password not in (None, planted)
    assert not Session.objects.filter(session_key=planted).exists()
    assert is_logged_in(client)
    assert not is_logged_in(browser_with(planted))


@pytest.mark.usefixtures("frozen")
def test_logging_out_ends_the_session_key_for_good(client, log_in, researcher):
    log_in("researcher")  # no patient data, so no second factor
    key = session_key(client)
    assert is_logged_in(client)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert not is_logged_in(client)
    assert not is_logged_in(browser_with(key))


# The key changes again at the TOTP step (apu.services._verified_login): a key seen or set
# between the password and the code never becomes a verified session.
def test_the_code_from_the_authenticator_replaces_the_session_key_again(
    client, log_in, clinician, frozen
):
    device = TOTPDevice.objects.create(user=clinician, name="default", confirmed=True)
    planted = planted_session(client)
    log_in("clinician")
    after_password = session_key(client)
    assert after_password != planted
    assert client.get("/").url == "/account/2fa/verify/?next=%2F"

    frozen.shift(timedelta(seconds=30))
    response = client.post("/account/2fa/verify/", {"token": code_for(device), "next": "/"})

    assert (response.status_code, response.url) == (302, "/")
    assert is_verified(client)
    after_code = session_key(client)
    assert after_code not in (planted, after_password)
    assert not is_logged_in(browser_with(after_password))
    assert not is_logged_in(browser_with(planted))


def test_confirming_a_new_authenticator_replaces_the_session_key(client, log_in, clinician, frozen):
    log_in("clinician")
    after_password = session_key(client)
    client.get("/account/2fa/setup/")
    device = TOTPDevice.objects.get(user=clinician, confirmed=False)

    response = client.post("/account/2fa/setup/", {"token": code_for(device), "next": "/"})

    assert (response.status_code, response.url) == (302, "/")
    assert is_verified(client)
    assert session_key(client) != after_password
    assert not is_logged_in(browser_with(after_password))


# --- The walk, with real objects where the demo clinic has them ----------------------------------


@pytest.fixture
def clinic(clinician, frozen) -> dict[str, str]:
    """One of each object the pages show, through the services; first path segment -> id."""
    course = new_course(clinician)
    other = new_course(clinician, name="Birgit Ballerup")
    rejected = register(clinician, name="Rasmus Rudersdal", municipality_code="230")
    decide_and_plan(
        rejected, by=clinician, kind=Decision.Kind.REJECT, reason="Ikke i kommunal behandling."
    )
    midpoint = schedule(
        course.meetings.get(kind=Meeting.Kind.MIDPOINT), by=clinician, when=at(date(2026, 3, 4))
    )
    record_outcome(
        midpoint,
        by=clinician,
        version=midpoint.version,
        status=Meeting.Status.HELD,
        summary="Planen er holdt op mod handleplanen.",
        new_actions=[
            ActionInput(
                what="Send handleplan", responsible="municipality", due_date=date(2026, 3, 9)
            )
        ],
    )
    group = new_group(capacity=1, therapists=(clinician,))
    session = new_session(group, starts_at=at(date(2026, 3, 2)))
    enrolment = enrolled(course, group, by=clinician, starts_on=date(2026, 3, 2))
    waiting = module_services.enrol(other, group, by=clinician, starts_on=date(2026, 3, 2))
    appointment = module_services.book_appointment(
        course,
        by=clinician,
        clinician=clinician,
        starts_at=at(date(2026, 3, 3)),
        duration_minutes=60,
        kind=Appointment.Kind.INDIVIDUAL_THERAPY,
    )
    feed = CalendarFeed.objects.create(user=clinician)
    return {
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
    }


def real_value(page: Page, name: str, clinic: dict):
    """The clinic's object id (or value) for URL parameter ``name`` of ``page``, if it has one."""
    segment = page.path.strip("/").split("/")[0]
    for key in (f"{name}@{page.label}", f"{name}:{segment}", name):
        if key in clinic:
            return clinic[key]
    return None


def real_path(page: Page, clinic: dict) -> str:
    """``page.path`` with each parameter the clinic has a real value for filled with it."""
    match = resolve(page.path)
    if not match.url_name or not match.kwargs:
        return page.path
    values = {
        name: real_value(page, name, clinic) or placeholder
        for name, placeholder in match.kwargs.items()
    }
    try:
        return reverse(match.view_name, kwargs=values)
    except NoReverseMatch:
        return page.path


def test_every_page_with_an_id_finds_a_real_object_in_the_clinic(clinic):
    # A page under a new first segment gets a placeholder id until the clinic has one.
    placeholders = [
        page.label
        for page in PAGES
        if not page.label.startswith("admin")
        and "pk" in resolve(page.path).kwargs
        and real_value(page, "pk", clinic) is None
    ]

    assert placeholders == []
    assert real_path(PAGES_BY_LABEL["referrals:referral_detail"], clinic) == (
        f"/referrals/{clinic['pk:referrals']}/"
    )


PAGES_BY_LABEL = {page.label: page for page in PAGES}


def persona_client(persona: str, request, **extra) -> Client:
    client = Client(enforce_csrf_checks=True)
    if persona == "clinician":
        verified_login(client, request.getfixturevalue("clinician"))
        assert is_verified(client, **extra)
    return client


# --- CSRF on every POST ------------------------------------------------------------------------


def writes_besides_the_session(queries) -> list[str]:
    """INSERT, UPDATE and DELETE statements, except the session row each request refreshes."""
    statements = (query["sql"] for query in queries)
    writes = [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]
    return [sql for sql in writes if '"django_session"' not in sql]


WRITES = ("INSERT", "UPDATE", "DELETE")


def test_no_view_is_exempt_from_csrf_unless_listed_with_a_reason():
    exempt = {
        page.label for page in PAGES if getattr(resolve(page.path).func, "csrf_exempt", False)
    }

    assert exempt == set(CSRF_EXEMPT)


@pytest.mark.parametrize("persona", ["anonymous", "clinician"])
def test_a_post_without_the_csrf_token_is_refused_on_every_url(
    request, settings, caplog, clinic, persona
):
    settings.SECURE_SSL_REDIRECT = False  # plain HTTP, so the token is what is checked
    client = persona_client(persona, request)
    problems = []

    for page in PAGES:
        if page.label in CSRF_EXEMPT:
            continue
        path = real_path(page, clinic)
        caplog.clear()
        with (
            caplog.at_level(logging.WARNING, logger="django.security.csrf"),
            CaptureQueriesContext(connection) as queries,
        ):
            response = client.post(path, {"next": "/", "token": "123456", "name": "x"})
        refused_for_csrf = any(
            record.name == "django.security.csrf" and "CSRF" in record.getMessage()
            for record in caplog.records
        )
        if response.status_code != 403 or not refused_for_csrf:
            problems.append(f"{path}: {response.status_code}, CSRF refusal {refused_for_csrf}")
        if writes := writes_besides_the_session(queries.captured_queries):
            problems.append(f"{path}: wrote {writes}")
        problems += header_problems(path, response)

    assert problems == []
    # Still logged in and verified: nothing was done, logging out included.
    assert is_verified(client) is (persona == "clinician")


@pytest.mark.parametrize(
    "path,expected",
    [
        pytest.param("/calendar/renew/", 302, id="calendar-renew"),
        pytest.param("/referrals/new/", 200, id="referral-form-with-errors"),
        pytest.param("/logout/", 302, id="logout"),
    ],
)
def test_the_same_post_with_the_token_gets_through(request, settings, caplog, path, expected):
    settings.SECURE_SSL_REDIRECT = False
    client = persona_client("clinician", request)
    assert client.get("/referrals/new/").status_code == 200  # a form: sets the CSRF cookie
    token = client.cookies[CSRF_COOKIE].value

    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = client.post(path, {"csrfmiddlewaretoken": token})

    assert response.status_code == expected
    assert not [record for record in caplog.records if record.name == "django.security.csrf"]


# --- Security headers and CSP on every response -------------------------------------------------


def header_problems(path: str, response) -> list[str]:
    """What the response lacks of the security headers every response must carry."""
    problems = []
    expected = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    for header, value in expected.items():
        if response.get(header) != value:
            problems.append(f"{path}: {header} is {response.get(header)!r}, not {value!r}")
    policy = response.get("Content-Security-Policy")
    if policy is None:
        return [*problems, f"{path}: no Content-Security-Policy"]
    directives = {
        name: sources
        for name, *sources in (part.split() for part in policy.split(";") if part.strip())
    }
    if directives.get("default-src") != ["'self'"]:
        problems.append(f"{path}: default-src is {directives.get('default-src')}")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"{path}: frame-ancestors is {directives.get('frame-ancestors')}")
    if "'unsafe-inline'" in policy or "'unsafe-eval'" in policy:
        problems.append(f"{path}: the policy allows inline or eval'd code: {policy}")
    return problems


def cookie_problems(path: str, response) -> list[str]:
    problems = []
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        cookie = response.cookies.get(name)
        if cookie is None:
            continue
        if not cookie["secure"] or not cookie["httponly"]:
            flags = f"secure={cookie['secure']!r}, httponly={cookie['httponly']!r}"
            problems.append(f"{path}: {name} cookie {flags}")
        if cookie["samesite"] != "Lax":
            problems.append(f"{path}: {name} cookie SameSite={cookie['samesite']!r}")
    return problems


@pytest.fixture
def production(settings):
    """The security settings a production server has by default (apu/settings.py, DEBUG off)."""
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = ONE_YEAR
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize("persona", ["anonymous", "clinician"])
def test_every_url_carries_the_security_headers_hsts_and_secure_cookies(request, clinic, persona):
    client = persona_client(persona, request, secure=True)
    problems, statuses, cookies_seen = [], set(), set()

    for page in PAGES:
        path = real_path(page, clinic)
        response = client.get(path, secure=True)
        statuses.add(response.status_code)
        cookies_seen |= {name for name in (SESSION_COOKIE, CSRF_COOKIE) if name in response.cookies}
        problems += header_problems(path, response)
        problems += cookie_problems(path, response)
        hsts = response.get("Strict-Transport-Security")
        if hsts != f"max-age={ONE_YEAR}; includeSubDomains; preload":
            problems.append(f"{path}: Strict-Transport-Security is {hsts!r}")

    assert problems == []
    # The walk met real pages, redirects and refusals, and the cookies it checked.
    assert {200, 302} <= statuses
    assert CSRF_COOKIE in cookies_seen
    if persona == "clinician":
        assert SESSION_COOKIE in cookies_seen
        assert is_verified(client, secure=True)  # logged in all the way


@pytest.mark.usefixtures("production")
def test_every_url_over_plain_http_redirects_to_https(clinic):
    problems = []
    client = Client()

    for page in PAGES:
        path = real_path(page, clinic)
        response = client.get(path)
        if response.status_code != 301 or response.url != f"https://testserver{path}":
            problems.append(f"{path}: {response.status_code} {response.get('Location')}")

    assert problems == []
