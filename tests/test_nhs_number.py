from __future__ import annotations

import random

import nhs_number
import pytest
from django.core.exceptions import ValidationError

from linkwork.nhs import format_nhs_number, normalise_nhs_number, synthetic_nhs_number


@pytest.mark.parametrize("typed", ["943 476 5919", "9434765919", "943-476-5919", " 943 476 5919 "])
def test_it_accepts_a_valid_number_however_it_is_spaced(typed: str) -> None:
    assert normalise_nhs_number(typed) == "9434765919"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("943 476 5918", "not a valid NHS number"),
        ("943 476 591", "must be 10 digits"),
        ("94347659199", "must be 10 digits"),
        ("943 476 591X", "only numbers"),
        ("<script>", "only numbers"),
    ],
)
def test_it_rejects_bad_numbers_with_a_plain_message(typed: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        normalise_nhs_number(typed)


def test_it_shows_numbers_3_3_4() -> None:
    assert format_nhs_number("9434765919") == "943 476 5919"


def test_synthetic_numbers_are_valid_and_never_issued() -> None:
    rng = random.Random(1)
    for _ in range(500):
        number = synthetic_nhs_number(rng)
        assert number.startswith("999") and nhs_number.is_valid(number)
