"""ICD-10 diagnosis codes: one normal form for every way clinicians write them.

Accepted: "F32.1", "F321", "f32.1" and the Danish SKS form "DF321" (a leading "D" and the
code without its dot). Normal form: capital letter, two digits, and a dot before the
optional one or two further digits ("F32", "F32.1", "F60.30").
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NOT_A_CODE = _("“%(value)s” is not an ICD-10 code (for example F32.1, F321 or DF321).")
NOT_TEXT = _("Enter the ICD-10 code as text (for example F32.1, F321 or DF321).")

# ASCII only: "\d" and str.upper() would let other scripts' digits and letters through
# ("ſ32" upper-cases to "S32").
ICD10_PATTERN = re.compile(r"([A-Za-z])([0-9]{2})(?:\.?([0-9]{1,2}))?")
SKS_PATTERN = re.compile(r"[Dd]([A-Za-z])([0-9]{2})([0-9]{1,2})?")
NORMAL_FORM = re.compile(r"[A-Z][0-9]{2}(?:\.[0-9]{1,2})?")


def normalize_code(value: str) -> str:
    """Return ``value`` in normal form ("DF321" -> "F32.1"); ValidationError if no ICD-10 code."""
    if not isinstance(value, str):
        raise ValidationError(NOT_TEXT, code="invalid_code")
    text = value.strip()
    # An SKS code starts with "D" and then a letter, an ICD-10 code with a letter and then a
    # digit, so the two forms never overlap (ICD-10's own chapter D, "D50", is not SKS).
    match = SKS_PATTERN.fullmatch(text) or ICD10_PATTERN.fullmatch(text)
    if match is None:
        raise ValidationError(NOT_A_CODE, code="invalid_code", params={"value": text})
    letter, category, subcategory = match.groups()
    code = f"{letter.upper()}{category}"
    return f"{code}.{subcategory}" if subcategory else code


def is_normal_form(code: str) -> bool:
    """Whether ``code`` is already an ICD-10 code in normal form."""
    return isinstance(code, str) and NORMAL_FORM.fullmatch(code) is not None


def is_code_prefix(code: str, prefix: str) -> bool:
    """Whether normal-form ``code`` falls under normal-form ``prefix`` ("F32.1" under "F32")."""
    # Only normal forms compare: a raw "F100" would otherwise fall under "F10" by its
    # characters, and "F1" is no ICD-10 code at all.
    if not (is_normal_form(code) and is_normal_form(prefix)):
        return False
    # Between normal forms a character prefix is exactly the ICD-10 hierarchy: the
    # category is always the first three characters and each further digit narrows it.
    return code.startswith(prefix)
