"""NHS numbers: validated with the modulus-11 check (the ``nhs-number`` package), stored as 10 digits,
shown 3 3 4. Demo and test data use the never-issued 999 range."""

from __future__ import annotations

import random
import re

import nhs_number
from django.core.exceptions import ValidationError

_SEPARATORS = re.compile(r"[\s-]")


def normalise_nhs_number(value: str) -> str:
    """Return the 10-digit string, or raise ValidationError with a message a receptionist understands."""
    digits = _SEPARATORS.sub("", value or "")
    if not digits.isdigit():
        raise ValidationError("NHS number must contain only numbers", code="nhs_number_format")
    if len(digits) != 10:
        raise ValidationError("NHS number must be 10 digits", code="nhs_number_length")
    if not nhs_number.is_valid(digits):
        raise ValidationError(
            "This is not a valid NHS number: check each digit against the letter or record",
            code="nhs_number_check",
        )
    return digits


def format_nhs_number(value: str) -> str:
    """'9434765919' -> '943 476 5919'; anything else is returned as it is."""
    if value and len(value) == 10 and value.isdigit():
        return f"{value[:3]} {value[3:6]} {value[6:]}"
    return value or ""


def synthetic_nhs_number(rng: random.Random | None = None) -> str:
    """A valid NHS number in the never-issued 999 000 0000 – 999 999 9999 range."""
    rng = rng or random.Random()  # noqa: S311  # nosec B311  # test data, not security
    while True:
        stem = "999" + f"{rng.randrange(0, 1_000_000):06d}"
        check = nhs_number.calculate_checksum(stem)
        if check is not None and check != 10:
            return stem + str(check)
