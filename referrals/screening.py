"""Screening (visitation): the clinic's inclusion and exclusion criteria, each explained.

The code lists and the participating municipalities are data (admin-editable); this module
reads them and applies the rules of DESIGN.md "Who may be referred":
- every criterion passes -> eligible; any fails -> ineligible; otherwise -> review.
- a diagnosis gets the list of the most specific rule covering it; a code no list covers
  needs a clinician's review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from referrals.icd10 import is_code_prefix, normalize_code

ADULT_AGE = 18
SUBSTITUTION_VALUES = ("none", "stable", "unstable")

CRITERION_LABELS = {
    "municipality": _("Lives in a participating municipality"),
    "adult": _("Adult (18 or older on the referral date)"),
    "mental_disorder": _("Qualifying mental disorder"),
    "substance_use": _("Qualifying substance use disorder"),
    "no_exclusion": _("No excluding diagnosis"),
    "other_codes": _("Other diagnoses"),
    "municipal_treatment": _("In treatment at the municipal rusmiddelcenter"),
    "substitution": _("Opioid substitution treatment stable"),
}

BAD_DATE = _("The birth date and the referral date must be dates.")
BAD_SUBSTITUTION = _("Substitution treatment must be none, stable or unstable.")
BAD_CODES = _("The diagnoses must be a list of ICD-10 codes.")
BAD_FLAG = _("Concurrent municipal treatment must be yes or no.")
BAD_MUNICIPALITY = _("The municipality code contains characters that are not allowed.")

# PostgreSQL text holds neither NUL nor a lone surrogate (no UTF-8 for it): such a code could
# only fail in the database lookup, and no municipality has one.
UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class Criterion:
    """One criterion's outcome ("pass" | "fail" | "review") and its reason."""

    key: str
    outcome: str
    message: str
    params: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return gettext(self.message) % self.params

    @property
    def label(self) -> str:
        return criterion_label(self.key)


@dataclass(frozen=True)
class ScreeningResult:
    outcome: str
    criteria: list[Criterion]
    codes: dict[str, str]  # normal-form code -> list it fell in ("unlisted" when none)

    def criterion(self, key: str) -> Criterion:
        return next(item for item in self.criteria if item.key == key)


def criterion_label(key: str) -> str:
    return str(CRITERION_LABELS.get(key, key))


def classify_codes(codes: Iterable[str]) -> dict[str, str]:
    """Map each normal-form code to the category of the most specific active rule covering it."""
    from referrals.models import CodeRule

    rules = list(CodeRule.objects.filter(active=True).values_list("code", "category"))
    result = {}
    for code in codes:
        covering = [(len(rule), category) for rule, category in rules if is_code_prefix(code, rule)]
        result[code] = max(covering)[1] if covering else "unlisted"
    return result


def _join(codes: Iterable[str]) -> str:
    return ", ".join(sorted(codes))


def _is_substance_code(code: str) -> bool:
    # F10-F19: mental and behavioural disorders due to psychoactive substance use.
    return code.startswith("F1") and len(code) >= 3


def screen(
    *,
    municipality_code: str,
    diagnosis_codes: Iterable[str],
    birth_date: date,
    referral_date: date,
    in_municipal_substance_treatment: bool,
    substitution_treatment: str = "none",
) -> ScreeningResult:
    """Apply the inclusion and exclusion criteria; every criterion comes with its reason."""
    from apu.models import Municipality

    if not isinstance(birth_date, date) or not isinstance(referral_date, date):
        raise ValidationError(BAD_DATE, code="bad_date")
    if substitution_treatment not in SUBSTITUTION_VALUES:
        raise ValidationError(BAD_SUBSTITUTION, code="bad_substitution")
    if not isinstance(in_municipal_substance_treatment, bool):
        raise ValidationError(BAD_FLAG, code="bad_flag")
    if isinstance(diagnosis_codes, str | bytes) or not isinstance(diagnosis_codes, Iterable):
        raise ValidationError(BAD_CODES, code="bad_codes")
    if UNSTORABLE_CHARACTERS.search(str(municipality_code)):
        raise ValidationError(BAD_MUNICIPALITY, code="bad_municipality")
    codes = sorted({normalize_code(code) for code in diagnosis_codes})
    categories = classify_codes(codes)

    def having(*wanted: str, substance: bool | None = None) -> list[str]:
        return [
            code
            for code, category in categories.items()
            if category in wanted and (substance is None or _is_substance_code(code) == substance)
        ]

    criteria: list[Criterion] = []

    municipality = Municipality.objects.filter(code=str(municipality_code)).first()
    if municipality is None:
        criteria.append(
            Criterion(
                "municipality",
                "fail",
                gettext_noop("Municipality code %(code)s is not known."),
                {"code": str(municipality_code)[:10]},
            )
        )
    elif municipality.participating:
        criteria.append(
            Criterion(
                "municipality",
                "pass",
                gettext_noop("%(name)s participates."),
                {"name": municipality.name},
            )
        )
    else:
        criteria.append(
            Criterion(
                "municipality",
                "fail",
                gettext_noop("%(name)s does not participate (yet)."),
                {"name": municipality.name},
            )
        )

    age = referral_date.year - birth_date.year
    if (referral_date.month, referral_date.day) < (birth_date.month, birth_date.day):
        age -= 1
    if age >= ADULT_AGE:
        criteria.append(
            Criterion(
                "adult", "pass", gettext_noop("Aged %(age)s on the referral date."), {"age": age}
            )
        )
    else:
        criteria.append(
            Criterion(
                "adult",
                "fail",
                gettext_noop("Aged %(age)s on the referral date; the clinic treats adults (18+)."),
                {"age": age},
            )
        )

    review_mental = having("review", "unlisted", substance=False)
    review_substance = having("review", "unlisted", substance=True)
    leftover_review: list[str] = []

    mental = having("mental")
    if mental:
        criteria.append(
            Criterion(
                "mental_disorder",
                "pass",
                gettext_noop("%(codes)s qualifies."),
                {"codes": _join(mental)},
            )
        )
        leftover_review += review_mental
    elif review_mental:
        criteria.append(
            Criterion(
                "mental_disorder",
                "review",
                gettext_noop(
                    "%(codes)s is on no inclusion list; a clinician assesses whether it qualifies."
                ),
                {"codes": _join(review_mental)},
            )
        )
    else:
        criteria.append(
            Criterion(
                "mental_disorder",
                "fail",
                gettext_noop(
                    "No qualifying mental disorder (depression, anxiety or social phobia, OCD, "
                    "PTSD, emotionally unstable or avoidant personality disorder)."
                ),
            )
        )

    substance = having("substance")
    if substance:
        criteria.append(
            Criterion(
                "substance_use",
                "pass",
                gettext_noop("%(codes)s qualifies."),
                {"codes": _join(substance)},
            )
        )
        leftover_review += review_substance
    elif review_substance:
        criteria.append(
            Criterion(
                "substance_use",
                "review",
                gettext_noop(
                    "%(codes)s is on no inclusion list; a clinician assesses whether it qualifies."
                ),
                {"codes": _join(review_substance)},
            )
        )
    else:
        never = having("never")
        if never:
            message = gettext_noop(
                "No qualifying substance use disorder (harmful use or dependence); "
                "%(codes)s never qualifies."
            )
        else:
            message = gettext_noop(
                "No qualifying substance use disorder (harmful use or dependence)."
            )
        criteria.append(Criterion("substance_use", "fail", message, {"codes": _join(never)}))

    excluding = having("exclusion")
    if excluding:
        criteria.append(
            Criterion(
                "no_exclusion",
                "fail",
                gettext_noop("%(codes)s excludes treatment at APU."),
                {"codes": _join(excluding)},
            )
        )
    else:
        criteria.append(Criterion("no_exclusion", "pass", gettext_noop("No excluding diagnosis.")))

    if leftover_review:
        criteria.append(
            Criterion(
                "other_codes",
                "review",
                gettext_noop("%(codes)s must be assessed by a clinician."),
                {"codes": _join(leftover_review)},
            )
        )
    else:
        criteria.append(
            Criterion("other_codes", "pass", gettext_noop("No other diagnoses need review."))
        )

    if in_municipal_substance_treatment:
        criteria.append(
            Criterion(
                "municipal_treatment",
                "pass",
                gettext_noop("In treatment at the municipal rusmiddelcenter."),
            )
        )
    else:
        criteria.append(
            Criterion(
                "municipal_treatment",
                "fail",
                gettext_noop(
                    "Not in treatment at the municipal rusmiddelcenter; APU has no outreach "
                    "and hands out no medicine, so concurrent treatment there is required."
                ),
            )
        )

    substitution_reasons = {
        "none": ("pass", gettext_noop("Not in opioid substitution treatment.")),
        "stable": ("pass", gettext_noop("Stable in opioid substitution treatment.")),
        "unstable": (
            "review",
            gettext_noop("Unstable opioid substitution treatment must be assessed by a clinician."),
        ),
    }
    outcome, message = substitution_reasons[substitution_treatment]
    criteria.append(Criterion("substitution", outcome, message))

    outcomes = {item.outcome for item in criteria}
    if "fail" in outcomes:
        overall = "ineligible"
    elif "review" in outcomes:
        overall = "review"
    else:
        overall = "eligible"
    return ScreeningResult(outcome=overall, criteria=criteria, codes=categories)
