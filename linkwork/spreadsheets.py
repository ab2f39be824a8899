"""Cells for CSV and spreadsheet downloads, shared by every app that writes them (outcome reports, the audit trail).

Text that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or a carriage return) is
neutralised with a leading apostrophe, so a name or note typed as ``=HYPERLINK(...)`` stays text."""

from __future__ import annotations

from typing import Any

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Numbers stay numbers; text that could start a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return "" if value is None else value
