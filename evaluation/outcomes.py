"""Change from baseline: reliable change and recovery, per instrument.

Thresholds (a change at least this large is "reliable"; the cut-off separates clinical
from non-clinical scores):
- PHQ-9: reliable change 6 points, caseness 10 (McMillan D, Gilbody S, Richards D. J Affect
  Disord 2010;127:122-129; the English NHS Talking Therapies manual uses the same).
- GAD-7: reliable change 4 points, caseness 8 (NHS Talking Therapies manual, 2023).
- WHO-5: reliable change 10 percentage points (Topp CW et al. Psychother Psychosom
  2015;84:167-176), clinical cut-off 50 % (raw 12.5: "poor well-being" below).
- AUDIT and DUDIT have no established reliable-change index; their change is reported as the
  mean difference only, with the screening cut-offs (AUDIT 8; DUDIT 6 men, 2 women) for
  "below the cut-off".
"""

from dataclasses import dataclass

IMPROVED = "reliable_improvement"
DETERIORATED = "reliable_deterioration"
NO_CHANGE = "no_reliable_change"


@dataclass(frozen=True)
class ChangeRule:
    reliable: int | None  # on the total (WHO-5: on the percentage)
    cutoff: float  # clinical when total >= cutoff (WHO-5: when percentage < cutoff)
    higher_is_worse: bool = True
    uses_percentage: bool = False


CHANGE_RULES = {
    "PHQ-9": ChangeRule(reliable=6, cutoff=10),
    "GAD-7": ChangeRule(reliable=4, cutoff=8),
    "WHO-5": ChangeRule(reliable=10, cutoff=50, higher_is_worse=False, uses_percentage=True),
    "AUDIT": ChangeRule(reliable=None, cutoff=8),
    "DUDIT": ChangeRule(reliable=None, cutoff=6),
}


def _value(rule: ChangeRule, total: int) -> int:
    return total * 4 if rule.uses_percentage else total


def is_clinical(instrument: str, total: int) -> bool:
    rule = CHANGE_RULES[instrument]
    value = _value(rule, total)
    return value >= rule.cutoff if rule.higher_is_worse else value < rule.cutoff


def classify_change(instrument: str, baseline: int, later: int) -> str | None:
    """Reliable improvement, reliable deterioration or no reliable change (None: no RCI)."""
    rule = CHANGE_RULES[instrument]
    if rule.reliable is None:
        return None
    change = _value(rule, later) - _value(rule, baseline)
    better = -change if rule.higher_is_worse else change
    if better >= rule.reliable:
        return IMPROVED
    if better <= -rule.reliable:
        return DETERIORATED
    return NO_CHANGE


def recovered(instrument: str, baseline: int, later: int) -> bool:
    """From above the clinical cut-off at baseline to below it later."""
    return is_clinical(instrument, baseline) and not is_clinical(instrument, later)
