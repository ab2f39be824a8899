"""Validation shared by every form that takes details about a person."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")
_NAME_PUNCTUATION = set(" -'’.")


def normalise_postcode(value: str) -> str:
    """'ls14ap' -> 'LS1 4AP'; raises ValidationError for anything that is not a UK postcode."""
    cleaned = re.sub(r"\s+", " ", (value or "").strip().upper())
    match = _POSTCODE.match(cleaned)
    if not match:
        raise ValidationError("Enter a real postcode, like LS1 4AP", code="postcode")
    return f"{match.group(1)} {match.group(2)}"


def validate_person_name(value: str, label: str) -> str:
    """Letters from any alphabet, spaces, hyphens, apostrophes and full stops: O'Neill, Smith-Jones, Zoë,
    Nguyễn, محمد. Anything else (digits, <, >) is refused with the field's own name in the message."""
    value = " ".join((value or "").split())
    if not value:
        raise ValidationError(f"Enter the person's {label.lower()}", code="required")
    if not all(ch.isalpha() or ch in _NAME_PUNCTUATION for ch in value):
        raise ValidationError(
            f"{label} must only include letters, spaces, hyphens and apostrophes", code="name_characters"
        )
    return value


def normalise_phone(value: str) -> str:
    """UK or international numbers, with spaces, brackets or dashes; kept as typed but tidied."""
    value = " ".join((value or "").split())
    if not value:
        return ""
    digits = re.sub(r"[\s()\-]", "", value)
    if not re.fullmatch(r"\+?[0-9]{10,15}", digits):
        raise ValidationError("Enter a phone number, like 01632 960 001 or 07700 900 982", code="phone")
    return value
