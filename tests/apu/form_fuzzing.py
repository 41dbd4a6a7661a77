"""The form fuzzer's tools: read a page's forms, build bad values for each field, and say for
each value whether a form must refuse it.

Used by tests/apu/test_form_fuzzer.py; nothing here touches the database or the test client.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

from django import forms

# --- Reading the forms of a page --------------------------------------------------------------

TEXT_TYPES = {"text", "search", "tel", "url", "email", "password", "textarea"}
CHOICE_KINDS = {"select", "radio", "checkbox", "button"}
# Sent as the page has them: the CSRF token is Django's (test_hardening.py refuses a post
# without it), a formset's MIN/MAX_NUM_FORMS are for scripts and the formset ignores them.
NOT_FUZZED = {"csrfmiddlewaretoken"}
NOT_FUZZED_ENDINGS = ("-MIN_NUM_FORMS", "-MAX_NUM_FORMS")
FORMSET_ROW = re.compile(r"^(?P<prefix>.+)-(?P<row>\d+)-(?P<name>[^-]+)$")
SIBLING = re.compile(r"_\d+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
INTEGER = re.compile(r"^-?\d+$")


@dataclass
class Field:
    """One name a form submits, with what the page says about it."""

    name: str
    kind: str  # an input type ("text", "date", "hidden", ...), "textarea", "select" or "button"
    current: list[str] = field(default_factory=list)  # what a browser submits unchanged
    options: list[str] = field(default_factory=list)  # for choice kinds
    multiple: bool = False
    required: bool = False
    maxlength: int | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def value_kind(self) -> str:
        """What the field holds: a hidden field is judged by the value it carries."""
        if self.kind != "hidden":
            return "text" if self.kind in TEXT_TYPES else self.kind
        value = self.current[0] if self.current else ""
        if DATE.match(value):
            return "date"
        if DATETIME.match(value):
            return "datetime-local"
        if INTEGER.match(value):
            return "number"
        return "hidden"


@dataclass
class HtmlForm:
    method: str
    action: str
    hx_post: str | None
    fields: list[Field] = field(default_factory=list)

    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


class FormParser(HTMLParser):
    """The forms of a page (stdlib html.parser): inputs, selects, textareas, named buttons."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._select: Field | None = None
        self._option: dict | None = None
        self._textarea: tuple[Field, list[str]] | None = None

    def _field(self, name: str, kind: str, **attrs) -> Field:
        """The form's field called ``name``, added on first sight (radios share one)."""
        found = self._form.by_name().get(name)
        if found is None:
            found = Field(name, kind, **attrs)
            self._form.fields.append(found)
        return found

    def handle_starttag(self, tag, attrs):
        a = {key: (value if value is not None else "") for key, value in attrs}
        if tag == "form":
            self._form = HtmlForm((a.get("method") or "get").lower(), a.get("action", ""), None)
            self._form.hx_post = a.get("hx-post")
            return
        if self._form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            self._input(name, (a.get("type") or "text").lower(), a)
        elif tag == "button" and name and (a.get("type") or "submit").lower() == "submit":
            button = self._field(name, "button")
            button.options.append(a.get("value", ""))
            button.current = button.current or [a.get("value", "")]
        elif tag == "select" and name:
            self._select = self._field(
                name, "select", multiple="multiple" in a, required="required" in a
            )
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": []}
        elif tag == "textarea" and name:
            textarea = self._field(name, "textarea", required="required" in a)
            textarea.maxlength = int(a["maxlength"]) if a.get("maxlength") else None
            self._textarea = (textarea, [])

    def _input(self, name: str, kind: str, a: dict) -> None:
        if kind in {"submit", "image", "reset", "file"}:
            return
        value = a.get("value", "")
        if kind in {"radio", "checkbox"}:
            value = a.get("value", "on")  # what a browser sends for one without a value
            choice = self._field(name, kind, multiple=kind == "checkbox")
            choice.options.append(value)
            choice.required = choice.required or "required" in a
            if "checked" in a:
                choice.current.append(value)
            return
        number = {"minimum": a.get("min"), "maximum": a.get("max")}
        self._field(
            name,
            kind,
            current=[value],
            required="required" in a or kind == "hidden",
            maxlength=int(a["maxlength"]) if a.get("maxlength") else None,
            **{key: float(v) for key, v in number.items() if v and INTEGER.match(v)},
        )

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"].append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            self._end_option()
        elif tag == "select" and self._select is not None:
            if self._option is not None:
                self._end_option()
            if not self._select.multiple and not self._select.current and self._select.options:
                self._select.current = [self._select.options[0]]  # what a browser sends
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            textarea, text = self._textarea
            # The first newline after <textarea> is not part of the value (HTML spec).
            textarea.current = [re.sub(r"^\r?\n", "", "".join(text))]
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None

    def _end_option(self):
        option = self._option
        value = option["value"] if option["value"] is not None else "".join(option["text"]).strip()
        self._select.options.append(value)
        if option["selected"]:
            self._select.current.append(value)
        self._option = None


def forms_of(html: str) -> list[HtmlForm]:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def fields_of_form_class(form_class: type[forms.BaseForm]) -> list[Field]:
    """The fields a Django form class declares, for a POST-only view that renders no form."""
    fields = []
    for name, declared in form_class.base_fields.items():
        kind, options = _kind_of(declared)
        minimum = getattr(declared, "min_value", None)
        maximum = getattr(declared, "max_value", None)
        fields.append(
            Field(
                name,
                kind,
                current=[options[0]] if options and declared.required else [],
                options=options,
                multiple=isinstance(declared, forms.MultipleChoiceField),
                required=declared.required,
                maxlength=getattr(declared, "max_length", None),
                minimum=minimum,
                maximum=maximum,
            )
        )
    return fields


def _kind_of(declared: forms.Field) -> tuple[str, list[str]]:
    if isinstance(declared, forms.ModelChoiceField):
        return "select", [str(pk) for pk in declared.queryset.values_list("pk", flat=True)[:20]]
    if isinstance(declared, forms.ChoiceField):
        return "select", [str(value) for value, _label in declared.choices if value != ""]
    if isinstance(declared, forms.DateTimeField):
        return "datetime-local", []
    if isinstance(declared, forms.DateField):
        return "date", []
    if isinstance(declared, forms.IntegerField):
        return "number", []
    if isinstance(declared, forms.EmailField):
        return "email", []
    if isinstance(declared.widget, forms.Textarea):
        return "textarea", []
    return "text", []


# --- The values a form must refuse, or may take -------------------------------------------------

REFUSE = "refuse"  # not a value the field can hold: a clear message, nothing saved
MAY = "may"  # a value some field of this kind may hold: if refused, refused cleanly
BAD_REQUEST = "bad request"  # a body Django refuses before any view reads it: 400

MISSING = object()  # the field is left out of the submission
LONG = "x" * 10_000
NUL = "a\x00b"
EMOJI = "Søren 😀🏥 👨‍👩‍👧"
RTL = "مرحبا עברית \u202e"
COMBINING = "e\u0301\u0308\u20dd Z\u0335\u0321"
ZERO_WIDTH = "\u200b\ufeff\u2060"
# Bytes that are not UTF-8: a lone surrogate (as CESU would write it), a stray byte, an
# overlong slash. The test client encodes a str as UTF-8, so these go in a raw body.
LONE_SURROGATE = b"\xed\xa0\x80"
INVALID_UTF8 = b"\xff\xfeab"
OVERLONG = b"\xc0\xaf"
NUMBERS_OUT_OF_RANGE = ["-1", str(10**30), "NaN", "inf", "1e309", "1.5", "12abc"]
IMPOSSIBLE_DATES = ["2025-02-30", "0000-01-01", "2026-13-01", "31.12.2025x"]
EXTREME_DATES = ["9999-12-31", "0001-01-01", "1900-01-01"]
IMPOSSIBLE_DATETIMES = [
    "2025-02-30T10:00",
    "2026-03-03T25:00",
    "2026-03-29T02:30",  # does not exist in Copenhagen: summer time starts at 02:00
    "2026-10-25T02:30",  # happens twice in Copenhagen: which one is meant?
]
EXTREME_DATETIMES = ["9999-12-31T23:59", "0001-01-01T00:00", "1900-01-01T10:00", "2026-03-03"]
NOT_AN_OPTION = ["999999999", "-1", "abc", str(10**30)]


@dataclass(frozen=True)
class Case:
    """One submission: the form's current values with ``changes`` applied."""

    label: str
    changes: dict  # field name -> str | bytes | list of them | MISSING
    expect: str  # REFUSE or MAY

    def describe(self) -> str:
        shown = {
            name: ("<missing>" if value is MISSING else _short(value))
            for name, value in self.changes.items()
        }
        return f"{self.label} {shown}"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}...({len(value)} long)"


def fuzzed_fields(fields: list[Field]) -> list[Field]:
    """The fields to vary: not the CSRF token; a formset's first row stands for the others
    (every row is the same form), and the first of numbered fields alike in all else (a
    questionnaire's items, the referral's diagnoses 2 to 5) for its siblings."""
    names = {f.name for f in fields}
    chosen, seen = [], set()
    for f in fields:
        if f.name in NOT_FUZZED or f.name.endswith(NOT_FUZZED_ENDINGS):
            continue
        row = FORMSET_ROW.match(f.name)
        if row and row["row"] != "0" and f"{row['prefix']}-0-{row['name']}" in names:
            continue
        alike = (SIBLING.sub("", f.name), f.kind, tuple(f.options), f.maxlength, f.required)
        if SIBLING.search(f.name) and alike in seen:
            continue
        seen.add(alike)
        chosen.append(f)
    return chosen


def has_nul(value) -> bool:
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return value is not MISSING and (
        "\x00" in value if isinstance(value, str) else b"\x00" in value
    )


def as_text(value) -> str:
    """``value`` as Django reads it from the body (invalid UTF-8 becomes U+FFFD)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def cases_for(f: Field) -> list[Case]:
    """The fixed bad values for one field, each with whether the form must refuse it."""
    empty = REFUSE if f.required else MAY

    def case(label, value, expect):
        return Case(f"{f.name}: {label}", {f.name: value}, expect)

    cases = [
        case("missing", MISSING, empty),
        case("empty", "", empty),
        case("NUL byte", NUL, REFUSE),
        case("repeated", [*(f.current or ["x"]), "zz"], MAY),
    ]
    kind = f.value_kind
    if kind in CHOICE_KINDS:
        cases += _choice_cases(f, case)
    elif kind == "number":
        cases += _number_cases(f, case)
    elif kind == "date":
        cases += [case(value, value, REFUSE) for value in [*IMPOSSIBLE_DATES, "abc", LONG]]
        cases += [case(value, value, MAY) for value in EXTREME_DATES]
    elif kind == "datetime-local":
        cases += [case(value, value, REFUSE) for value in [*IMPOSSIBLE_DATETIMES, "abc", LONG]]
        cases += [case(value, value, MAY) for value in EXTREME_DATETIMES]
    else:
        cases += _text_cases(f, case, empty)
    return cases


def _text_cases(f: Field, case, empty: str) -> list[Case]:
    too_long = REFUSE if f.maxlength and f.maxlength < len(LONG) else MAY
    cases = [
        case("whitespace only", " \t\r\n ", empty),
        case("10,000 characters", LONG, too_long),
        case("emoji", EMOJI, MAY),
        case("right-to-left and combining marks", RTL + COMBINING + ZERO_WIDTH, MAY),
        case("invalid UTF-8 and a lone surrogate", INVALID_UTF8 + LONE_SURROGATE + OVERLONG, MAY),
    ]
    if f.maxlength:
        cases.append(case("one over max length", "y" * (f.maxlength + 1), REFUSE))
        cases.append(case("max length", "é" * f.maxlength, MAY))
    return cases


def _number_cases(f: Field, case) -> list[Case]:
    cases = [case("letters", "abc", REFUSE), case("whitespace only", "  ", REFUSE)]
    cases += [case(value, value, REFUSE) for value in NUMBERS_OUT_OF_RANGE]
    cases.append(case("Arabic-Indic digit", "٣", MAY))
    cases.append(case("zero", "0", MAY if f.minimum is None or f.minimum <= 0 else REFUSE))
    if f.minimum is not None:
        cases.append(case("one under minimum", str(int(f.minimum) - 1), REFUSE))
    if f.maximum is not None:
        cases.append(case("one over maximum", str(int(f.maximum) + 1), REFUSE))
    return cases


def _choice_cases(f: Field, case) -> list[Case]:
    options = [option for option in f.options if option]
    numeric = [int(option) for option in options if INTEGER.match(option)]
    # Ids near the offered ones that are not offered: rows absent or out of reach.
    nearby = [str(n) for n in range(1, max(numeric, default=0) + 3) if n not in numeric][-2:]
    cases = [
        case("whitespace only", "  ", REFUSE if f.kind != "checkbox" or f.required else MAY),
        case("10,000 characters", LONG, REFUSE),
        case("emoji", EMOJI, REFUSE),
        case("invalid UTF-8", INVALID_UTF8, REFUSE),
    ]
    for value in [*NOT_AN_OPTION, *nearby]:
        if value not in options:
            cases.append(case(f"not offered {value}", value, REFUSE))
    if options:
        first = options[0]
        # An id is read as a number, so " 3 " is 3; a word is not read with its spaces.
        cases.append(case("option with spaces", f" {first} ", MAY if first.isdigit() else REFUSE))
        if not first.isdigit():
            cases.append(case("option upper-cased", first.upper(), REFUSE))
        cases.append(case("an option and a stranger", [first, NOT_AN_OPTION[0]], MAY))
    if f.multiple and options:
        cases.append(case("every option", options, MAY))
        cases.append(case("an option and a bad one", [options[0], "abc"], REFUSE))
    return cases


def garbage_cases(fields: list[Field]) -> list[Case]:
    """Whole-form submissions: everything missing, everything wrong at once."""
    names = [f.name for f in fields if f.name not in NOT_FUZZED]
    if not names:
        return []
    any_required = any(f.required for f in fuzzed_fields(fields))
    return [
        Case("all missing", dict.fromkeys(names, MISSING), REFUSE if any_required else MAY),
        Case("all NUL", dict.fromkeys(names, "\x00"), REFUSE),
        Case("all 10,000 characters", dict.fromkeys(names, LONG), MAY),
        Case("all invalid UTF-8", dict.fromkeys(names, INVALID_UTF8), MAY),
        Case("all out of range", dict.fromkeys(names, str(10**30)), MAY),
    ]


def encode(data: dict) -> bytes:
    """A urlencoded body; bytes values go as they are, so a body need not be UTF-8."""
    pairs = []
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item))
    return urlencode(pairs).encode("ascii")
