"""Crawl as a user: each demo user logs in with a real browser and follows every link it can
reach (bounded), on the full demo clinic. No page answers 5xx, no coordinator's page shows a
patient of another municipality, no researcher's page shows a patient at all, and every page
passes axe-core's accessibility checks without a serious or critical violation.

axe-core is vendored for the tests only (tests/e2e/vendor/, see scripts/vendor.sh) and is
evaluated through DevTools: the site's CSP refuses inline scripts, so ``add_script_tag``
would be blocked, and the check runs under the real policy instead of bypassing it.
"""

import os
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve
from playwright.sync_api import Error as PlaywrightError

from apu.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from apu.models import User
from referrals.models import Patient, Referral

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
# None: a visitor who has not logged in (the login and password-reset pages).
USERNAMES = [
    None,
    "admin",
    "klinik",
    "forsker",
    "koordinator-ballerup",
    "koordinator-gladsaxe",
    "koordinator-herlev",
    "koordinator-lyngby-taarbaek",
    "koordinator-rudersdal",
]
MAX_PAGES = 90  # rendered pages per user outside the Django admin
# The admin user sees the clinic's pages as klinik does (crawled in full): its budget goes to
# the Django admin instead.
MAX_SITE_PAGES_FOR_ADMIN = 15
MAX_ADMIN_PAGES = 80  # the admin user's pages inside the Django admin
MAX_PER_VIEW = 3  # pages per URL name, so 200 referral pages do not eat the budget
MAX_DOWNLOADS = 12  # files fetched (not rendered) per user
MAX_LIST_PAGE = 2  # follow ?page= (and the admin's ?p=) up to this page
SERIOUS = {"serious", "critical"}
# Never followed: they end the session, or only confirm a change that is never made here.
SKIPPED_VIEWS = {"apu:logout", "admin:logout", "set_language"}
SKIPPED_ADMIN_SUFFIXES = ("_add", "_delete", "_history")
# Where every crawl starts: home, and two error pages no link leads to (the admin answers 403
# to a logged-in user who is not staff, a missing page 404), checked like any other page.
START = ["/", "/admin/", "/no-such-page/"]
RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, targets: v.nodes.map(node => String(node.target[0])),
  }));
}"""
# Django's own admin markup (django.contrib.admin 5.2), which no template here renders; open
# upstream (e.g. Django ticket #36509, unlabelled inputs in table rows). Tolerated on /admin/
# pages for these elements only: any other violation in the admin still fails the crawl.
DJANGO_ADMIN_KNOWN = [
    ("link-in-text-block", r"^\.breadcrumbs > a"),  # breadcrumb links told apart by colour
    ("label", r"^#id_\w+-\d+-"),  # list_editable and tabular-inline inputs in table rows
    ("label-title-only", r"^#id_\w+-\d+-"),
    ("select-name", r"^#id_\w+-\d+-"),
    ("label", r"^#id_\w+_[01]$"),  # the date and time halves of a split date-time field
    ("label-title-only", r"^#searchbar$"),  # the changelist's search box
    ("aria-prohibited-attr", r"\.help-tooltip"),  # the help icon of a filtered select
]


@dataclass
class Crawl:
    """What one user's crawl saw."""

    username: str
    pages: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    client_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    views: Counter = field(default_factory=Counter)
    minor: Counter = field(default_factory=Counter)  # moderate and minor axe rules, not failing


@pytest.fixture
def demo_clinic(settings, reference_data):
    """The full demo (users and 18 months of data), seeded once for the whole crawl."""
    settings.DEBUG = True
    settings.DEMO_PASSWORD = ""
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.DEBUG = False
    settings.REQUIRE_2FA = False


def forbidden_for(user: User | None) -> tuple[re.Pattern | None, set[str]]:
    """Patient names (as a pattern) and birth-date parts of CPR the user must never see.

    A coordinator must not see another municipality's patients; a researcher or a visitor
    sees no patient. Names shared with a patient in reach, a user or a referrer (the demo
    draws them all from one list) are left out: they prove nothing.
    """
    if user and user.role not in (User.Role.COORDINATOR, User.Role.RESEARCHER):
        return None, set()
    municipality_id = user.municipality_id if user else None
    patients = Patient.objects.values_list("name", "cpr", "municipality_id")
    in_reach = {(name, cpr[:6]) for name, cpr, in_m in patients if in_m == municipality_id}
    names_in_reach = {name for name, _birth in in_reach}
    names_in_reach |= {other.get_full_name() for other in User.objects.all()}
    names_in_reach |= set(Referral.objects.values_list("referrer_name", flat=True))
    names = {name for name, _cpr, _m in patients} - names_in_reach
    births = {cpr[:6] for _name, cpr, _m in patients} - {birth for _name, birth in in_reach}
    assert names and births, "the demo has no patient out of reach to look for"
    pattern = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)"), births


def leaks(text: str, html: str, names: re.Pattern | None, births: set[str]) -> list[str]:
    """The forbidden names and CPR birth dates (DDMMYY) in a page's visible text or its HTML."""
    if names is None:
        return []
    found = set(names.findall(html))
    found |= set(re.findall(r"(?<![\d-])\d{6}(?!\d)", text)) & births
    # In the HTML only as a CPR (masked or whole): a CSRF token may hold any run of digits.
    found |= set(re.findall(r"(?<![\w-])(\d{6})-?(?:xxxx|\d{4})(?!\w)", html)) & births
    return sorted(found)


def view_name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def list_page(query: str) -> int:
    values = parse_qs(query).get("page") or parse_qs(query).get("p") or ["1"]
    return int(values[0]) if values[0].isdigit() else 1


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(DEFAULT_DEMO_PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/")


def crawl(browser, base_url: str, username: str | None) -> Crawl:
    """Log in as ``username`` and visit the links reachable from the home page, breadth first."""
    result = Crawl(username or "visitor")
    user = User.objects.get(username=username) if username else None
    staff = bool(user and user.is_staff)
    names, births = forbidden_for(user)
    context = browser.new_context(base_url=base_url, locale="da-DK")
    page = context.new_page()
    page.set_default_timeout(15_000)
    failed_responses: list[str] = []

    def on_response(response) -> None:  # every request of the page: htmx, static files too
        if response.status >= 500:
            failed_responses.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    if username:
        log_in(page, username)

    # Breadth first, but a link to a view not queued yet goes ahead of more of the same, so
    # the budget is spent on as many different pages as it reaches.
    fresh, again = deque(START), deque()
    seen, queued_views = set(START), {view_name(urlsplit(path).path) for path in START}
    site_pages = admin_pages = 0
    denied_admin = False
    while fresh or again:
        path = (fresh or again).popleft()
        url = urlsplit(path)
        name = view_name(url.path)
        in_admin = url.path.startswith("/admin/")
        is_file = "." in url.path.rsplit("/", 1)[-1]
        if in_admin and not staff:
            if denied_admin:
                continue  # one refusal is enough to know the admin is closed to this role
            denied_admin = True
        if name in SKIPPED_VIEWS or (in_admin and str(name).endswith(SKIPPED_ADMIN_SUFFIXES)):
            continue
        if list_page(url.query) > MAX_LIST_PAGE:
            continue
        if result.views[name] >= (1 if in_admin and staff else MAX_PER_VIEW):
            continue
        if is_file:
            if len(result.downloads) < MAX_DOWNLOADS:
                result.views[name] += 1
                fetch(page, path, result, names, births)
            continue
        if in_admin and staff:
            if admin_pages >= MAX_ADMIN_PAGES:
                continue
            admin_pages += 1
        else:
            if site_pages >= (MAX_SITE_PAGES_FOR_ADMIN if staff else MAX_PAGES):
                continue
            site_pages += 1
        result.views[name] += 1

        try:
            response = page.goto(path)
        except PlaywrightError as error:  # a download the path did not announce
            if "Download is starting" not in str(error):
                raise
            fetch(page, path, result, names, births)
            continue
        result.pages.append(path)
        if response.status >= 500:
            continue  # recorded by on_response
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        check_page(page, path, result, names, births)
        if response.status >= 400:  # the error page is checked, its links are not followed
            result.client_errors.append(f"{response.status} {path}")
            continue
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            link, _fragment = urldefrag(href)
            if not link.startswith(base_url + "/"):
                continue  # another origin, mailto: or tel:
            link = link.removeprefix(base_url)
            if link in seen:
                continue
            seen.add(link)
            link_view = view_name(urlsplit(link).path)
            (again if link_view in queued_views else fresh).append(link)
            queued_views.add(link_view)
    result.problems += [f"{status} (while on the site)" for status in failed_responses]
    context.close()
    return result


def fetch(page, path: str, result: Crawl, names, births) -> None:
    """Fetch a file (CSV, Excel, calendar) with the session's cookies instead of rendering it."""
    response = page.request.get(path)
    result.downloads.append(path)
    if response.status >= 500:
        result.problems.append(f"{response.status} {path}")
    elif response.status >= 400:
        result.client_errors.append(f"{response.status} {path}")
    elif "text" in (response.headers.get("content-type") or ""):
        body = response.text()
        for leak in leaks(body, body, names, births):
            result.problems.append(f"patient out of reach {leak!r} in {path}")


def check_page(page, path: str, result: Crawl, names, births) -> None:
    """Accessibility (axe-core: serious and critical only) and privacy of one rendered page."""
    for leak in leaks(page.inner_text("body"), page.content(), names, births):
        result.problems.append(f"patient out of reach {leak!r} on {path}")
    page.evaluate(AXE_SOURCE)
    for violation in page.evaluate(RUN_AXE):
        targets = violation["targets"]
        if path.startswith("/admin/"):
            targets = [target for target in targets if not known_in_admin(violation["id"], target)]
        if violation["impact"] not in SERIOUS:
            result.minor[f"{violation['impact']} {violation['id']}"] += 1
        elif targets:
            result.problems.append(
                f"axe {violation['impact']} {violation['id']} on {path}: "
                f"{targets[0]} ({len(targets)} element(s))"
            )


def known_in_admin(rule: str, target: str) -> bool:
    return any(rule == known and re.search(where, target) for known, where in DJANGO_ADMIN_KNOWN)


def test_every_demo_user_crawls_the_site_without_errors_leaks_or_serious_violations(
    browser, live_server, demo_clinic
):
    problems = []
    for username in USERNAMES:
        started = time.monotonic()
        result = crawl(browser, live_server.url, username)
        print(
            f"{result.username}: {len(result.pages)} pages, {len(result.downloads)} files, "
            f"{len(result.views)} URL names, {time.monotonic() - started:.0f} s; "
            f"answered 4xx: {result.client_errors or 'none'}; "
            f"moderate/minor axe rules: {dict(result.minor) or 'none'}"
        )
        assert len(result.pages) >= 3, f"{result.username} reached almost nothing: {result.pages}"
        problems += [f"{result.username}: {problem}" for problem in result.problems]
    assert not problems, "\n".join(problems)


def test_the_page_check_reports_a_serious_violation_and_a_patient_out_of_reach(page):
    """The check itself can fail: axe runs under the site's CSP, and a leak is found."""
    page.goto("/login/")
    page.evaluate("""() => {
      const image = document.createElement("img");  // no alt text: axe's critical image-alt
      image.src = "/static/favicon.svg";
      const text = document.createElement("p");
      text.textContent = "Bo Hansen, 010190-xxxx";
      document.querySelector("main").append(image, text);
    }""")
    result = Crawl("visitor")

    check_page(page, "/login/", result, re.compile("Bo Hansen"), {"010190", "020290"})

    assert result.problems == [
        "patient out of reach '010190' on /login/",
        "patient out of reach 'Bo Hansen' on /login/",
        "axe critical image-alt on /login/: img (1 element(s))",
    ]
