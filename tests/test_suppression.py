from __future__ import annotations

import pytest

from outcomes.suppression import suppress_average, suppress_count, suppress_percentage


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, 0), (1, "*"), (7, "*"), (8, 10), (12, 10), (13, 15), (22, 20), (23, 25), (100, 100)],
)
def test_counts_of_1_to_7_are_hidden_and_others_rounded_to_5(count: int, shown: int | str) -> None:
    assert suppress_count(count) == shown


def test_percentages_come_from_the_rounded_counts() -> None:
    assert suppress_percentage(12, 23) == "40%"  # 10 of 25, not 52%
    assert suppress_percentage(3, 40) == "*"
    assert suppress_percentage(0, 0) == "–"


def test_averages_over_few_people_are_hidden() -> None:
    assert suppress_average(30, 7) == "*"
    assert suppress_average(30, 8) == "3.8"


def test_negative_counts_are_a_bug() -> None:
    with pytest.raises(ValueError):
        suppress_count(-1)
