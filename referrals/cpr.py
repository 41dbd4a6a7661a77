"""Danish CPR numbers (personnummer): parsing, birth date, sex and masking.

Rules from DESIGN.md "CPR numbers": the 7th digit together with the two-digit year gives
the century (the CPR office's table); the last digit gives the sex; the modulus-11 check
is only reported, never required, because numbers issued since 2007 may fail it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BAD_FORMAT = _("Enter the CPR number as 10 digits, DDMMYY-SSSS or DDMMYYSSSS.")
IMPOSSIBLE_DATE = _("The CPR number does not contain a real date of birth.")
FUTURE_DATE = _("The date of birth in the CPR number lies in the future.")

# ASCII digits only: "\d" would also accept other scripts' digits (e.g. Arabic-Indic).
CPR_PATTERN = re.compile(r"([0-9]{6})-?([0-9]{4})")
MODULUS11_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)

Sex = Literal["female", "male"]


@dataclass(frozen=True, repr=False)
class Cpr:
    """A well-formed CPR number with a real, past birth date; build it with ``parse_cpr``."""

    digits: str
    # Derived from ``digits``, so it takes no part in equality.
    birth_date: date = field(compare=False)

    def __str__(self) -> str:
        return f"{self.digits[:6]}-{self.digits[6:]}"

    def __repr__(self) -> str:
        # Masked, so a CPR number never reaches a log line or a traceback through repr().
        return f"Cpr({self.masked!r})"

    @property
    def masked(self) -> str:
        """The number as lists show it: DDMMYY-xxxx."""
        return f"{self.digits[:6]}-xxxx"

    @property
    def sex(self) -> Sex:
        """Sex as registered: odd last digit male, even female."""
        return "male" if int(self.digits[-1]) % 2 else "female"

    @property
    def modulus11_ok(self) -> bool:
        """Whether the number passes the old modulus-11 check (a warning at most)."""
        return modulus11_ok(self.digits)


def modulus11_ok(digits: str) -> bool:
    """Whether the weighted digit sum of a 10-digit CPR number is divisible by 11."""
    return sum(int(d) * w for d, w in zip(digits, MODULUS11_WEIGHTS, strict=True)) % 11 == 0


def birth_year(two_digit_year: int, seventh_digit: int) -> int:
    """Four-digit birth year from the CPR office's century table."""
    if seventh_digit <= 3:
        return 1900 + two_digit_year
    if seventh_digit in (4, 9):
        return (2000 if two_digit_year <= 36 else 1900) + two_digit_year
    # 7th digit 5-8: 1858-1899 and 2000-2057 share these serial numbers.
    return (1800 if two_digit_year >= 58 else 2000) + two_digit_year


def parse_cpr(value: str) -> Cpr:
    """Parse "DDMMYY-SSSS" or "DDMMYYSSSS"; ValidationError on bad format or date."""
    if not isinstance(value, str):
        raise ValidationError(BAD_FORMAT, code="bad_format")
    match = CPR_PATTERN.fullmatch(value.strip())
    if match is None:
        raise ValidationError(BAD_FORMAT, code="bad_format")
    digits = match[1] + match[2]
    day, month, year = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    try:
        born = date(birth_year(year, int(digits[6])), month, day)
    except ValueError:
        raise ValidationError(IMPOSSIBLE_DATE, code="impossible_date") from None
    # The clinic's calendar day, not UTC's: just after midnight in Copenhagen it is
    # already tomorrow there.
    if born > timezone.localdate():
        raise ValidationError(FUTURE_DATE, code="future_date")
    return Cpr(digits=digits, birth_date=born)
