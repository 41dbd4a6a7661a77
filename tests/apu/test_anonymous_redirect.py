"""Every page asks an anonymous visitor to log in, except the few that must be public.

The URL conf is walked, so a page added later is covered without touching this file.
"""

import itertools
import re
import uuid
from dataclasses import dataclass

import pytest
from django.http import QueryDict
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern, URLPattern, URLResolver

# What an anonymous visitor may open, by URL name (an unnamed pattern by its route).
PUBLIC = {
    "apu:login",
    "apu:password_reset",
    "apu:password_reset_done",
    "apu:password_reset_confirm",
    "apu:password_reset_complete",
    "apu:healthz",
    "set_language",
    # The admin's login redirects to the site's login, so lock-out and 2FA apply there too;
    # the admin's own login view sits behind the same path.
    "admin/login/",
    "admin:login",
    # A calendar program fetches the feed without a session; the secret token in the URL is
    # the credential, and an unknown token answers 404 (tested in tests/coordination).
    "coordination:calendar_feed",
}

CONVERTER_VALUES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x",
    "uuid": str(uuid.UUID("12345678-1234-5678-1234-567812345678")),
}
REGEX_CANDIDATES = ["1", "apu", "x"]
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


@dataclass(frozen=True)
class Page:
    label: str  # the namespaced URL name, or the route of an unnamed pattern
    path: str | None
    skip_reason: str = ""


def _route_path(patterns) -> str:
    return "".join(
        CONVERTER.sub(lambda m: CONVERTER_VALUES.get(m["converter"] or "str", "x"), str(pattern))
        for pattern in patterns
    )


def _reverse_with_candidates(name: str, regexes: list[re.Pattern]) -> str | None:
    named = [group for regex in regexes for group in regex.groupindex]
    unnamed = sum(regex.groups for regex in regexes) - len(named)
    for values in itertools.product(REGEX_CANDIDATES, repeat=len(named) + unnamed):
        try:
            if named:
                return reverse(name, kwargs=dict(zip(named, values, strict=False)))
            return reverse(name, args=values)
        except NoReverseMatch:
            continue
    return None


def _fill_regex(regex: str, value: str) -> str:
    """The regex with each top-level group replaced by ``value`` and its anchors dropped."""
    out, depth, escaped = [], 0, False
    for char in regex.strip("^$"):
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\":
            escaped = True
            if depth == 0:
                out.append(char)
        elif char == "(":
            if depth == 0:
                out.append(value)
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out).replace("\\", "")


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _page(patterns: list, namespaces: list[str], name: str | None) -> Page:
    label = ":".join([*namespaces, name]) if name else "".join(str(p) for p in patterns)
    regexes = [re.compile(str(p)) for p in patterns if isinstance(p, RegexPattern)]
    if not regexes:
        path = "/" + _route_path(patterns)
        if _resolves(path):
            return Page(label, path)
        return Page(label, None, f"add a value for the converter in {label!r} to CONVERTER_VALUES")
    if name:
        path = _reverse_with_candidates(label, regexes)
        if path:
            return Page(label, path)
    for value in REGEX_CANDIDATES:
        path = "/" + "".join(
            _fill_regex(str(p), value) if isinstance(p, RegexPattern) else _route_path([p])
            for p in patterns
        )
        if _resolves(path):
            return Page(label, path)
    return Page(label, None, f"no concrete path found for {label!r}")


def all_pages(resolver=None, patterns=(), namespaces=()) -> list[Page]:
    """Every URL pattern of the site, each with one concrete path to request."""
    resolver = resolver or get_resolver()
    pages = []
    for entry in resolver.url_patterns:
        chain = [*patterns, entry.pattern]
        if isinstance(entry, URLResolver):
            spaces = [*namespaces, entry.namespace] if entry.namespace else list(namespaces)
            pages += all_pages(entry, chain, spaces)
        elif isinstance(entry, URLPattern):
            assert isinstance(entry.pattern, RoutePattern | RegexPattern)
            pages.append(_page(chain, list(namespaces), entry.name))
    return pages


PAGES = all_pages()


def login_redirect_for(path: str) -> str:
    query = QueryDict(mutable=True)
    query["next"] = path
    return f"{resolve_url('apu:login')}?{query.urlencode(safe='/')}"


def test_the_walk_finds_the_site_and_the_admin():
    labels = {page.label for page in PAGES}
    assert {"apu:home", "apu:account", "admin:index", "admin:apu_accesslog_changelist"} <= labels
    # The admin's regex patterns are reached too.
    assert {"admin:app_list", "admin:apu_user_simple_history"} <= labels


def test_every_public_name_still_exists():
    assert PUBLIC - {page.label for page in PAGES} == set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page", [page for page in PAGES if page.label not in PUBLIC], ids=lambda page: page.label
)
def test_anonymous_visitor_is_sent_to_login(anonymous, page):
    if page.path is None:
        pytest.skip(page.skip_reason)

    response = anonymous.get(page.path, follow=True)

    # The admin's pages pass through /admin/login/, which hands over to the site's login.
    assert response.redirect_chain, f"{page.path} answered {response.status_code}"
    assert {status for _url, status in response.redirect_chain} == {302}
    assert response.redirect_chain[-1][0] == login_redirect_for(page.path)
    assert response.status_code == 200
    assert response.resolver_match.view_name == "apu:login"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page", [page for page in PAGES if page.label in PUBLIC], ids=lambda page: page.label
)
def test_public_page_opens_for_an_anonymous_visitor(anonymous, page):
    if page.path is None:
        pytest.skip(page.skip_reason)

    response = anonymous.get(page.path)

    # The walk fills parameters with placeholders, so a token page answers 404 for them;
    # what matters is that a public page never sends the visitor to log in, nor fails.
    assert response.status_code in {200, 204, 302, 404}
    if response.status_code == 302:
        assert response.url != login_redirect_for(page.path)
