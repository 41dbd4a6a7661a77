"""ICD-10 codes: every written form to one normal form, and matching against code lists."""

import pytest
from django.core.exceptions import ValidationError

from referrals.icd10 import NOT_TEXT, is_code_prefix, normalize_code


@pytest.mark.parametrize(
    "value,normal",
    [
        ("F32.1", "F32.1"),
        ("F321", "F32.1"),
        ("f32.1", "F32.1"),
        ("f321", "F32.1"),
        ("DF321", "F32.1"),
        ("df321", "F32.1"),
        (" F32.1 ", "F32.1"),
        ("\tDF321\n", "F32.1"),
        ("F32", "F32"),
        ("DF32", "F32"),
        ("f32", "F32"),
        ("F60.30", "F60.30"),
        ("F6030", "F60.30"),
        ("DF6030", "F60.30"),
        ("F10.2", "F10.2"),
        ("F10.24", "F10.24"),
        ("D50", "D50"),
        ("D501", "D50.1"),
        ("DD501", "D50.1"),
        ("Z76.0", "Z76.0"),
        ("A00", "A00"),
    ],
    ids=[
        "dotted",
        "undotted",
        "dotted-lowercase",
        "undotted-lowercase",
        "sks",
        "sks-lowercase",
        "surrounding-spaces",
        "sks-with-tab-and-newline",
        "three-characters",
        "sks-three-characters",
        "three-characters-lowercase",
        "five-characters-dotted",
        "five-characters-undotted",
        "sks-five-characters",
        "four-characters",
        "five-characters",
        "chapter-d-is-not-sks",
        "chapter-d-undotted",
        "sks-of-chapter-d",
        "chapter-z",
        "chapter-a",
    ],
)
def test_every_written_form_gives_the_normal_form(value, normal):
    assert normalize_code(value) == normal


@pytest.mark.parametrize("normal", ["F32", "F32.1", "F60.30"], ids=["3", "4", "5-characters"])
def test_the_normal_form_is_its_own_normal_form(normal):
    assert normalize_code(normal) == normal


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "F",
        "F3",
        "F3.2",
        "F321234",
        "F32.123",
        "F32.1.",
        "F32.",
        "F.321",
        "32.1",
        "321",
        "FF32",
        "F3A",
        "F32.A",
        "F32,1",
        "F32 .1",
        "F 32.1",
        "DF32.1",
        "DF3",
        "DF321234",
        "DDF321",
        "D",
        "\u017f32",
        "\u042432",
        "F\u0663\u0662",
        "F\uff13\uff12",
    ],
    ids=[
        "empty",
        "only-spaces",
        "letter-only",
        "one-digit",
        "one-digit-dotted",
        "seven-characters",
        "three-digits-after-dot",
        "trailing-dot-after-subcode",
        "trailing-dot",
        "dot-after-letter",
        "no-letter",
        "digits-only",
        "two-letters",
        "letter-in-category",
        "letter-after-dot",
        "comma-for-dot",
        "space-before-dot",
        "space-after-letter",
        "sks-with-dot",
        "sks-too-short",
        "sks-too-long",
        "double-sks-prefix",
        "d-alone",
        "long-s-that-upper-cases-to-s",
        "cyrillic-ef",
        "arabic-indic-digits",
        "fullwidth-digits",
    ],
)
def test_text_that_is_no_icd10_code_is_rejected_and_named(value):
    with pytest.raises(ValidationError) as excinfo:
        normalize_code(value)
    assert excinfo.value.code == "invalid_code"
    # The message names what was typed, so a list of several codes shows which one is wrong.
    assert f"“{value.strip()}”" in excinfo.value.messages[0]


@pytest.mark.parametrize(
    "value", [None, 321, 32.1, b"F32.1", ["F32.1"]], ids=["none", "int", "float", "bytes", "list"]
)
def test_input_that_is_not_text_is_rejected(value):
    with pytest.raises(ValidationError) as excinfo:
        normalize_code(value)
    assert excinfo.value.code == "invalid_code"
    assert excinfo.value.message == NOT_TEXT


@pytest.mark.parametrize(
    "code,prefix,under",
    [
        ("F32.1", "F32", True),
        ("F32", "F32", True),
        ("F60.31", "F60.3", True),
        ("F60.30", "F60.3", True),
        ("F60.3", "F60.3", True),
        ("F60.31", "F60", True),
        ("F10.2", "F10.2", True),
        ("F10.24", "F10.2", True),
        ("F60.30", "F60.30", True),
        ("F33", "F32", False),
        ("F32", "F32.1", False),
        ("F60.3", "F60.31", False),
        ("F60.30", "F60.31", False),
        ("F60.4", "F60.3", False),
        ("F10.1", "F10.2", False),
        ("F10.20", "F10.2", True),
        ("G32.1", "F32", False),
        ("F100", "F10", False),
        ("F10", "F100", False),
        ("F321", "F32", False),
        ("F32.1", "F321", False),
        ("DF321", "F32", False),
        ("f32.1", "F32", False),
        ("F12", "F1", False),
        ("F32.", "F32", False),
        ("", "", False),
        (None, "F32", False),
        ("F32", None, False),
    ],
    ids=[
        "subcode-under-category",
        "category-under-itself",
        "five-under-four-characters",
        "other-five-under-four-characters",
        "four-under-itself",
        "five-under-category",
        "substance-dependence-under-itself",
        "dependence-subcode-under-dependence",
        "five-under-itself",
        "neighbour-category",
        "category-not-under-its-subcode",
        "four-not-under-five-characters",
        "sibling-five-characters",
        "sibling-four-characters",
        "harmful-use-not-under-dependence",
        "dependence-subcode-20-under-dependence",
        "other-chapter",
        "undotted-code-never",
        "undotted-prefix-never",
        "undotted-subcode-never",
        "undotted-prefix-of-subcode-never",
        "sks-form-never",
        "lowercase-never",
        "two-character-prefix-never",
        "trailing-dot-never",
        "empty-never",
        "none-code",
        "none-prefix",
    ],
)
def test_is_code_prefix(code, prefix, under):
    assert is_code_prefix(code, prefix) is under


@pytest.mark.parametrize(
    "written", ["DF321", "f32.1", "F321", " F32.1 "], ids=["sks", "lowercase", "undotted", "spaced"]
)
def test_a_code_matches_a_code_list_only_once_normalized(written):
    assert not is_code_prefix(written, "F32")
    assert is_code_prefix(normalize_code(written), "F32")
