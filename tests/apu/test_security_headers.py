"""Security headers on every page, and pages that keep to the strict Content Security Policy."""

from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("without_two_factor")]

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


class InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP blocks: inline scripts, style attributes and event handlers."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_script_without_src = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _value in attrs}
        if tag == "script" and "src" not in names:
            self._in_script_without_src = True
            self.problems.append("<script> without src")
        if tag == "style":
            self.problems.append("<style> element")
        if "style" in names:
            self.problems.append(f"style attribute on <{tag}>")
        handlers = sorted(name for name in names if name.startswith(("on", "hx-on")))
        if handlers:
            self.problems.append(f"inline event handler {handlers} on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script_without_src = False

    def handle_data(self, data):
        if self._in_script_without_src and data.strip():
            self.problems.append("inline script code")


def inline_code_in(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def test_the_inline_code_finder_catches_what_the_policy_blocks():
    html = (
        '<p style="color: red" onclick="go()">x</p><script>alert(1)</script>'
        '<script src="/static/js/app.js"></script><style>p {}</style>'
    )

    assert inline_code_in(html) == [
        "style attribute on <p>",
        "inline event handler ['onclick'] on <p>",
        "<script> without src",
        "inline script code",
        "<style> element",
    ]
    assert inline_code_in('<script src="/static/js/app.js" defer></script>') == []


@pytest.mark.parametrize("path", ["/login/", "/healthz"])
def test_every_response_carries_the_security_headers(anonymous, path):
    response = anonymous.get(path)

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert csp_directives(response)["default-src"] == ["'self'"]


def test_the_content_security_policy_allows_no_inline_code_and_no_framing(anonymous):
    directives = csp_directives(anonymous.get("/login/"))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    header = " ".join(source for sources in directives.values() for source in sources)
    assert "'unsafe-inline'" not in header
    assert "'unsafe-eval'" not in header


@pytest.mark.parametrize(
    "persona,path",
    [
        ("anonymous", "/login/"),
        ("anonymous", "/password-reset/"),
        ("anonymous", "/password-reset/sent/"),
        ("clinician", "/"),
        ("clinician", "/account/"),
        ("clinician", "/account/password/"),
        ("clinician", "/account/2fa/setup/"),
        ("coordinator_ballerup", "/"),
        ("admin_user", "/"),
    ],
)
def test_pages_have_no_inline_script_or_style(request, client_for, anonymous, persona, path):
    client = anonymous if persona == "anonymous" else client_for(request.getfixturevalue(persona))

    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<script" in html  # the page does load its scripts, from files
    assert inline_code_in(html) == []


@pytest.mark.parametrize(
    "template",
    sorted(TEMPLATES.rglob("*.html")),
    ids=lambda template: str(template.relative_to(TEMPLATES)),
)
def test_templates_have_no_inline_script_or_style(template):
    assert inline_code_in(template.read_text()) == []
