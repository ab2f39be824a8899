"""Small-number suppression for commissioner-facing figures (NHS Digital practice for sub-national
statistics): counts of 1–7 are shown as ``*``, other counts are rounded to the nearest 5, percentages are
computed from the rounded counts, and averages over 1–7 people are shown as ``*``."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SUPPRESSED = "*"
THRESHOLD = 7


def suppress_count(count: int) -> int | str:
    if count < 0:
        raise ValueError("counts cannot be negative")
    if count == 0:
        return 0
    if count <= THRESHOLD:
        return SUPPRESSED
    return int((Decimal(count) / 5).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 5)


def suppress_percentage(part: int, whole: int) -> str:
    """A percentage from the *rounded* counts, or ``*`` when either is suppressed."""
    shown_part, shown_whole = suppress_count(part), suppress_count(whole)
    if not isinstance(shown_part, int) or not isinstance(shown_whole, int):
        return SUPPRESSED
    if not shown_whole:
        return "–"
    pct = (Decimal(shown_part) * 100 / Decimal(shown_whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{pct}%"


def suppress_average(total: float, people: int, *, places: int = 1) -> str:
    if people == 0:
        return "–"
    if people <= THRESHOLD:
        return SUPPRESSED
    return f"{Decimal(total / people).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)}"
