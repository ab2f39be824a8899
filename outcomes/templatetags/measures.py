"""The "Wellbeing measures" section of the case page, as an inclusion tag: the clients app shows it without
importing outcomes (``{% include "outcomes/measures/_case_section.html" %}`` needs only ``case`` and
``can_write``).

The chart is drawn on the server as SVG with presentation attributes (the CSP allows no inline styles)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import template

from outcomes import measure_selectors, scoring

register = template.Library()

# In viewBox units. The chart fills half the page on a desktop and the width of a phone, so its 16-unit text
# shows at about 14 to 18 pixels.
WIDTH = 400
LEFT = 90  # room for "Follow-up"
SCALE = 250  # bar track width; the value is written after the bar
BAR = 22
GAP = 6
LABEL = 30
ROW_GAP = 14
COLOURS = {"baseline": "#4c6272", "follow_up": "#005eb8"}  # NHS dark grey and NHS blue: 3:1 or more on white
TRACK = "#e8edee"


@dataclass
class Bar:
    name: str
    y: str
    width: str
    text_x: str
    text_y: str
    value: str
    fill: str


@dataclass
class ChartRow:
    label: str
    label_y: str
    bars: list[Bar] = field(default_factory=list)


@dataclass
class Chart:
    id: str
    title: str
    height: int
    rows: list[ChartRow]
    width: int = WIDTH
    left: int = LEFT
    track: int = SCALE
    track_fill: str = TRACK
    bar_height: int = BAR


def _f(value: float) -> str:
    return f"{value:.1f}"


def chart_for(summary: measure_selectors.MeasureSummary) -> Chart:
    """Baseline and follow-up bars for each row (the score, or each item), on the row's own scale."""
    rows: list[ChartRow] = []
    y = 0.0
    for row in summary.rows:
        span = row.high - row.low or Decimal(1)
        y += LABEL
        chart_row = ChartRow(
            label=f"{row.label} ({scoring.number(row.low)} to {scoring.number(row.high)})", label_y=_f(y - 10)
        )
        for name, value, text in (
            ("Baseline", row.baseline, row.baseline_text),
            ("Follow-up", row.follow_up, row.follow_up_text),
        ):
            shown = text if value is None else scoring.number(value)
            width = 0.0 if value is None else max(3.0, float((value - row.low) / span) * SCALE)
            chart_row.bars.append(
                Bar(
                    name=name,
                    y=_f(y),
                    width=_f(width),
                    text_x=_f(LEFT + width + 8),
                    text_y=_f(y + BAR - 6),
                    value=shown,
                    fill=COLOURS["baseline" if name == "Baseline" else "follow_up"],
                )
            )
            y += BAR + GAP
        y += ROW_GAP
        rows.append(chart_row)
    return Chart(id=f"measure-chart-{summary.instrument.pk}", title=_title(summary), height=int(y), rows=rows)


def _title(summary: measure_selectors.MeasureSummary) -> str:
    parts = []
    for row in summary.rows:
        better = "higher is better" if row.higher_is_better else "lower is better"
        before = row.baseline_text.lower() if row.baseline is None else scoring.number(row.baseline)
        after = row.follow_up_text.lower() if row.follow_up is None else scoring.number(row.follow_up)
        parts.append(
            f"{row.label}: baseline {before}, follow-up {after} "
            f"(scale {scoring.number(row.low)} to {scoring.number(row.high)}, {better})"
        )
    return (
        f"{summary.instrument.short_name} at baseline and follow-up. {'; '.join(parts)}. The figures are in the table."
    )


@register.inclusion_tag("outcomes/measures/_case_measures.html")
def case_measures(case: Any, can_write: bool) -> dict[str, Any]:
    measures = measure_selectors.case_measures(case)
    return {
        "case": case,
        "can_write": can_write,
        "measures": measures,
        "sections": [{"summary": s, "chart": chart_for(s)} for s in measures.summaries],
    }
