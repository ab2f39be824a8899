"""Scoring wellbeing measures from the instrument's own data: its items, their options and bands, its scoring
method and conversion table. No instrument has code of its own here, so a new measure is a data change.

Pure functions: they take instruments and items (model instances or anything with the same attributes) and
answers, and touch no database.

- ``separate`` (ONS4): each item is reported on its own, with its band; the items are never added up.
- ``sum`` (UCLA-3): the sum of the items is the score.
- ``sum_converted`` (SWEMWBS): the sum of the items, looked up in the conversion table, is the score.

A summed measure has no score unless every item is answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.core.exceptions import ValidationError


class ItemLike(Protocol):
    code: str
    text: str
    options: list[list[Any]]
    bands: list[list[Any]]
    higher_is_better: bool


class InstrumentLike(Protocol):
    code: str
    short_name: str
    scoring: str
    conversion: dict[str, Any]
    higher_is_better: bool
    meaningful_change: Decimal


SEPARATE, SUM, SUM_CONVERTED = "separate", "sum", "sum_converted"

# What a summed measure's score is a measure of, for sentences like "wellbeing up 3.2 points". It belongs on
# Instrument as a field; until then a measure not listed here is named by its short name ("PHQ-9 score").
MEASURES = {"swemwbs": "wellbeing", "ucla3": "loneliness"}


@dataclass(frozen=True)
class Scored:
    answers: dict[str, int]
    raw_total: int | None
    score: Decimal | None
    missing: tuple[str, ...]  # item codes not answered

    @property
    def complete(self) -> bool:
        return not self.missing


def option_values(item: ItemLike) -> list[int]:
    return [int(value) for value, _ in item.options]


def band_for(item: ItemLike, value: int | None) -> str:
    """The item's band for ``value`` ("Low", "Very high"), or "" if it has no bands or no answer."""
    if value is None:
        return ""
    for low, high, label in item.bands:
        if int(low) <= value <= int(high):
            return str(label)
    return ""


def clean_answers(items: Sequence[ItemLike], answers: Mapping[str, Any]) -> dict[str, int]:
    """The answers as {item code: int}, unanswered items left out. Raises ValidationError, keyed by item code,
    for a question the instrument does not have or an answer that is not one of the question's options."""
    by_code = {item.code: item for item in items}
    cleaned: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for code, value in answers.items():
        item = by_code.get(code)
        if item is None:
            errors.setdefault(code, []).append(f"“{code}” is not a question in this measure")
            continue
        if value is None or value == "":
            continue
        number = _as_int(value)
        allowed = option_values(item)
        if number is None or number not in allowed:
            choices = ", ".join(str(v) for v in allowed)
            errors.setdefault(code, []).append(f"{value} is not an answer to “{item.text}”: choose one of {choices}")
            continue
        cleaned[code] = number
    if errors:
        raise ValidationError(errors)
    return cleaned


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal() and value.strip().isascii():
        return int(value.strip())
    return None


def score_answers(instrument: InstrumentLike, items: Sequence[ItemLike], answers: Mapping[str, Any]) -> Scored:
    """Validate ``answers`` (see ``clean_answers``) and score them by the instrument's method. ``raw_total``
    and ``score`` are None for a ``separate`` measure, and for a summed one with any item unanswered."""
    cleaned = clean_answers(items, answers)
    missing = tuple(item.code for item in items if item.code not in cleaned)
    if instrument.scoring == SEPARATE or missing:
        return Scored(answers=cleaned, raw_total=None, score=None, missing=missing)
    raw_total = sum(cleaned[item.code] for item in items)
    return Scored(answers=cleaned, raw_total=raw_total, score=score_for_total(instrument, raw_total), missing=())


def score_for_total(instrument: InstrumentLike, raw_total: int) -> Decimal | None:
    """The reported score for a raw total: itself for ``sum``, the table's value for ``sum_converted``."""
    if instrument.scoring == SUM:
        return Decimal(raw_total)
    if instrument.scoring == SUM_CONVERTED:
        try:
            value = instrument.conversion[str(raw_total)]
        except KeyError:
            raise ValueError(f"{instrument.short_name} has no converted score for a raw total of {raw_total}") from None
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return None


def score_range(instrument: InstrumentLike, items: Sequence[ItemLike]) -> tuple[Decimal, Decimal] | None:
    """The lowest and highest possible score (SWEMWBS 7.00 to 35.00, UCLA-3 3 to 9); None if not summed."""
    if instrument.scoring == SEPARATE or not items:
        return None
    low = sum(min(option_values(item)) for item in items)
    high = sum(max(option_values(item)) for item in items)
    low_score, high_score = score_for_total(instrument, low), score_for_total(instrument, high)
    if low_score is None or high_score is None:
        return None
    return low_score, high_score


def item_range(item: ItemLike) -> tuple[int, int]:
    values = option_values(item)
    return min(values), max(values)


def is_summed(instrument: InstrumentLike) -> bool:
    return instrument.scoring in (SUM, SUM_CONVERTED)


def what_it_measures(instrument: InstrumentLike) -> str:
    """What the score is a measure of, in words: "wellbeing", or "PHQ-9 score" for a measure not listed."""
    return MEASURES.get(instrument.code, f"{instrument.short_name} score")


def score_label(instrument: InstrumentLike) -> str:
    """The score's name in a table: "Wellbeing score", "PHQ-9 score"."""
    measure = MEASURES.get(instrument.code)
    return f"{measure.capitalize()} score" if measure else f"{instrument.short_name} score"


def item_label(item: ItemLike) -> str:
    """A short name for an item in sentences: its code in words ("life satisfaction")."""
    return item.code.replace("_", " ")


# --- change between baseline and follow-up ---------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """A change from ``before`` (baseline) to ``after`` (follow-up) in a score or in one item."""

    label: str
    before: Decimal
    after: Decimal
    higher_is_better: bool
    meaningful_change: Decimal
    unit: str = ""  # "point" for scores; items are changes on their own scale
    before_band: str = ""
    after_band: str = ""

    @property
    def difference(self) -> Decimal:
        return self.after - self.before

    @property
    def direction(self) -> str:
        """ "up", "down" or "same"."""
        if self.difference > 0:
            return "up"
        if self.difference < 0:
            return "down"
        return "same"

    @property
    def better(self) -> bool | None:
        """True if the change is an improvement, False if it is worse, None if there is no change."""
        if self.direction == "same":
            return None
        return (self.direction == "up") == self.higher_is_better

    @property
    def meaningful(self) -> bool:
        return self.direction != "same" and abs(self.difference) >= self.meaningful_change

    @property
    def words(self) -> str:
        """In plain words: "wellbeing up 3.2 points", "loneliness down 2 points (better)", "life satisfaction
        up 2 (from Low to Medium)". "Better" or "worse" is said where up is not obviously good: when a lower
        figure is the better one."""
        notes = []
        if not self.higher_is_better and self.better is not None:
            notes.append("better" if self.better else "worse")
        if self.before_band or self.after_band:
            if self.before_band == self.after_band:
                notes.append(f"still {self.after_band}")
            else:
                notes.append(f"from {self.before_band or 'no band'} to {self.after_band or 'no band'}")
        note = f" ({', '.join(notes)})" if notes else ""
        if self.direction == "same":
            return f"{self.label} unchanged{note}"
        amount = number(abs(self.difference))
        unit = ""
        if self.unit:
            unit = f" {self.unit}" if abs(self.difference) == 1 else f" {self.unit}s"
        return f"{self.label} {self.direction} {amount}{unit}{note}"


def number(value: Decimal | int | float | None) -> str:
    """A figure without trailing zeros: 3.20 → "3.2", 2.00 → "2"."""
    if value is None:
        return ""
    text = f"{Decimal(str(value)).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def score_change(instrument: InstrumentLike, before: Decimal | None, after: Decimal | None) -> Change | None:
    """The change in a summed measure's score; None if either score is missing (or it is not summed)."""
    if before is None or after is None or not is_summed(instrument):
        return None
    return Change(
        label=what_it_measures(instrument),
        before=Decimal(before),
        after=Decimal(after),
        higher_is_better=instrument.higher_is_better,
        meaningful_change=Decimal(instrument.meaningful_change),
        unit="point",
    )


def item_change(instrument: InstrumentLike, item: ItemLike, before: int | None, after: int | None) -> Change | None:
    """The change in one item, with its bands; None if it was not answered both times."""
    if before is None or after is None:
        return None
    return Change(
        label=item_label(item),
        before=Decimal(before),
        after=Decimal(after),
        higher_is_better=item.higher_is_better,
        meaningful_change=Decimal(instrument.meaningful_change),
        before_band=band_for(item, before),
        after_band=band_for(item, after),
    )


def item_changes(
    instrument: InstrumentLike,
    items: Iterable[ItemLike],
    before: Mapping[str, int],
    after: Mapping[str, int],
) -> list[Change | None]:
    """For each item in order, its change (None where it was not answered both times)."""
    return [item_change(instrument, item, before.get(item.code), after.get(item.code)) for item in items]
