"""Scoring of the outcome instruments, each rule set in one place with its source.

Every instrument is a small table: item count, allowed values per item, the bands of the
total and any flags. ``score`` validates answers against it and never guesses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ZERO_TO_THREE = frozenset(range(4))
ZERO_TO_FOUR = frozenset(range(5))
ZERO_TO_FIVE = frozenset(range(6))
ZERO_TWO_FOUR = frozenset({0, 2, 4})

UNKNOWN_INSTRUMENT = _("Unknown instrument: %(instrument)s.")
WRONG_COUNT = _("%(instrument)s has %(expected)d items; %(given)d answers were given.")
BAD_VALUE = _("Item %(item)d of %(instrument)s takes %(allowed)s; %(value)s is not allowed.")
SEX_NEEDED = _("DUDIT is scored by sex: give female or male.")
NOT_A_LIST = _("The answers must be a list of whole numbers.")


@dataclass(frozen=True)
class Score:
    total: int
    band: str
    flags: frozenset[str] = field(default_factory=frozenset)
    percentage: int | None = None


@dataclass(frozen=True)
class Instrument:
    code: str
    items: tuple[frozenset[int], ...]  # allowed values of each item, in order
    bands: Callable[[int, str | None], str]
    source: str
    flags: Callable[[Sequence[int]], frozenset[str]] = lambda answers: frozenset()
    percentage: Callable[[int], int | None] = lambda total: None
    needs_sex: bool = False

    @property
    def max_total(self) -> int:
        return sum(max(values) for values in self.items)


def _cut(total: int, edges: Sequence[tuple[int, str]]) -> str:
    """The band of the highest lower edge ``total`` reaches; edges ascend from 0."""
    band = edges[0][1]
    for lower, name in edges:
        if total >= lower:
            band = name
    return band


def _dudit_band(total: int, sex: str | None) -> str:
    if total >= 25:
        return "probable_dependence"
    return "problem_use" if total >= (2 if sex == "female" else 6) else "no_problem"


INSTRUMENTS: dict[str, Instrument] = {
    # WHO-5 Well-Being Index: 5 items 0-5, raw 0-25, ×4 gives 0-100 %; raw <= 7 (<= 28 %)
    # suggests depression, 8-12 poor well-being. Source: Topp et al., Psychother Psychosom
    # 2015;84:167-176, and the WHO-5 guide (Psychiatric Research Unit, Hillerød).
    "WHO-5": Instrument(
        code="WHO-5",
        items=(ZERO_TO_FIVE,) * 5,
        bands=lambda total, sex: _cut(
            total, [(0, "likely_depression"), (8, "poor"), (13, "adequate")]
        ),
        percentage=lambda total: total * 4,
        source="Topp CW et al. Psychother Psychosom 2015;84:167-176",
    ),
    # PHQ-9: 9 items 0-3, total 0-27; 5/10/15/20 mild/moderate/moderately severe/severe;
    # any answer above 0 on item 9 (thoughts of self-harm) is flagged at once.
    # Source: Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med 2001;16:606-613.
    "PHQ-9": Instrument(
        code="PHQ-9",
        items=(ZERO_TO_THREE,) * 9,
        bands=lambda total, sex: _cut(
            total,
            [
                (0, "minimal"),
                (5, "mild"),
                (10, "moderate"),
                (15, "moderately_severe"),
                (20, "severe"),
            ],
        ),
        flags=lambda answers: frozenset({"item9_positive"}) if answers[8] > 0 else frozenset(),
        source="Kroenke K et al. J Gen Intern Med 2001;16:606-613",
    ),
    # GAD-7: 7 items 0-3, total 0-21; 5/10/15 mild/moderate/severe.
    # Source: Spitzer RL et al. Arch Intern Med 2006;166:1092-1097.
    "GAD-7": Instrument(
        code="GAD-7",
        items=(ZERO_TO_THREE,) * 7,
        bands=lambda total, sex: _cut(
            total, [(0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")]
        ),
        source="Spitzer RL et al. Arch Intern Med 2006;166:1092-1097",
    ),
    # AUDIT: items 1-8 score 0-4, items 9-10 only 0, 2 or 4; total 0-40; risk zones
    # I 0-7, II 8-15, III 16-19, IV 20-40. Source: Babor TF et al. AUDIT guidelines for use
    # in primary care, 2nd ed. WHO 2001 (WHO/MSD/MSB/01.6a).
    "AUDIT": Instrument(
        code="AUDIT",
        items=(ZERO_TO_FOUR,) * 8 + (ZERO_TWO_FOUR,) * 2,
        bands=lambda total, sex: _cut(
            total, [(0, "zone_1"), (8, "zone_2"), (16, "zone_3"), (20, "zone_4")]
        ),
        source="Babor TF et al. AUDIT, 2nd ed. WHO 2001",
    ),
    # DUDIT: items 1-9 score 0-4, items 10-11 only 0, 2 or 4; total 0-44; drug-related
    # problems from 6 (men) or 2 (women); probable dependence from 25.
    # Source: Berman AH et al. Eur Addict Res 2005;11:22-31.
    "DUDIT": Instrument(
        code="DUDIT",
        items=(ZERO_TO_FOUR,) * 9 + (ZERO_TWO_FOUR,) * 2,
        bands=_dudit_band,
        needs_sex=True,
        source="Berman AH et al. Eur Addict Res 2005;11:22-31",
    ),
}

BAND_LABELS = {
    "adequate": _("Adequate well-being"),
    "poor": _("Poor well-being"),
    "likely_depression": _("Likely depression"),
    "minimal": _("Minimal"),
    "mild": _("Mild"),
    "moderate": _("Moderate"),
    "moderately_severe": _("Moderately severe"),
    "severe": _("Severe"),
    "zone_1": _("Zone I: low risk"),
    "zone_2": _("Zone II: hazardous use"),
    "zone_3": _("Zone III: harmful use"),
    "zone_4": _("Zone IV: possible dependence"),
    "no_problem": _("No drug-related problems"),
    "problem_use": _("Drug-related problems"),
    "probable_dependence": _("Probable dependence"),
}


def _allowed_text(values: frozenset[int]) -> str:
    ordered = sorted(values)
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(str(value) for value in ordered)


def _shown(value: object, length: int) -> str:
    """The start of ``value`` as text, for a message quoting what was given."""
    try:
        return str(value)[:length]
    except ValueError:
        # An int beyond Python's int_max_str_digits (4300) cannot be turned into text.
        return "…"


def score(instrument: str, answers: Sequence[int], *, sex: str | None = None) -> Score:
    """Score one completed questionnaire; ValidationError on anything that does not fit."""
    rules = INSTRUMENTS.get(instrument) if isinstance(instrument, str) else None
    if rules is None:
        raise ValidationError(
            UNKNOWN_INSTRUMENT, code="unknown", params={"instrument": _shown(instrument, 20)}
        )
    if isinstance(answers, str | bytes | bytearray) or not isinstance(answers, Sequence):
        raise ValidationError(NOT_A_LIST, code="not_a_list")
    if len(answers) != len(rules.items):
        raise ValidationError(
            WRONG_COUNT,
            code="count",
            params={"instrument": rules.code, "expected": len(rules.items), "given": len(answers)},
        )
    for number, (value, allowed) in enumerate(zip(answers, rules.items, strict=True), start=1):
        # bool is an int subclass; True is not an answer.
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise ValidationError(
                BAD_VALUE,
                code="value",
                params={
                    "item": number,
                    "instrument": rules.code,
                    "allowed": _allowed_text(allowed),
                    "value": _shown(value, 10),
                },
            )
    if rules.needs_sex and sex not in ("female", "male"):
        raise ValidationError(SEX_NEEDED, code="sex")
    total = sum(answers)
    return Score(
        total=total,
        band=rules.bands(total, sex),
        flags=rules.flags(answers),
        percentage=rules.percentage(total),
    )
