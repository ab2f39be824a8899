"""A date asked for as day, month and year boxes: the NHS.UK date input pattern.

https://service-manual.nhs.uk/design-system/components/date-input

`DateInputField` validates each part and says what is wrong in the NHS.UK words ("Date of birth must include a
month", "Date of birth must be a real date"); what the user typed is kept on error because the bound value is
the three strings. Each ValidationError carries the parts it concerns in ``params["parts"]``, so the crispy
pack outlines only those boxes in red.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

PARTS = ("day", "month", "year")
LABELS = {"day": "Day", "month": "Month", "year": "Year"}

MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}

_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() accepts "²", which int() rejects


class DateInputWidget(forms.MultiWidget):
    """Three text boxes named ``<name>_day``, ``<name>_month`` and ``<name>_year``.

    ``autocomplete="bday"`` gives the boxes ``bday-day``, ``bday-month`` and ``bday-year`` (use it for the
    user's own date of birth only).
    """

    # The crispy "nhsuk" pack renders any widget that names its own template with that template.
    nhsuk_template = "nhsuk/layout/date_input.html"

    def __init__(self, attrs: dict[str, Any] | None = None, autocomplete: str | None = None) -> None:
        widgets = {}
        for part in PARTS:
            part_attrs = {
                "inputmode": "numeric",
                "class": "nhsuk-input--width-4" if part == "year" else "nhsuk-input--width-2",
            }
            if autocomplete:
                part_attrs["autocomplete"] = f"{autocomplete}-{part}"
            widgets[part] = forms.TextInput(attrs=part_attrs)
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[str | None]:
        if isinstance(value, datetime.date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        return [str(data.get(f"{name}_{part}") or "").strip() for part in PARTS]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        id_ = context["widget"]["attrs"].get("id")
        for part, subwidget in zip(PARTS, context["widget"]["subwidgets"], strict=True):
            subwidget["part"] = part
            subwidget["label"] = LABELS[part]
            if id_:
                subwidget["attrs"]["id"] = f"{id_}_{part}"
        return context

    def id_for_label(self, id_: str) -> str:
        # Labels and error summary links go to the day box.
        return f"{id_}_day" if id_ else ""


class DateInputField(forms.MultiValueField):
    """A date entered as day, month and year, cleaned to a `datetime.date`.

    - ``error_name`` names the date in error messages ("Date of birth must be a real date"); it defaults to
      the label, so give it when the label is a question.
    - ``past_only=True`` rejects today and later ("… must be in the past"), ``not_future=True`` rejects
      tomorrow and later ("… must be today or in the past"). Today is the local date (``TIME_ZONE``).
    - ``help_text`` defaults to the NHS.UK example "For example, 15 3 1984".
    """

    widget = DateInputWidget
    default_error_messages = {
        "required": "Enter %(name_lower)s",
        "incomplete": "%(name)s must include a %(missing)s",
        "invalid": "%(name)s must be a real date",
        "year_length": "Year must include 4 numbers",
        "past": "%(name)s must be in the past",
        "not_future": "%(name)s must be today or in the past",
    }

    def __init__(
        self,
        *,
        error_name: str | None = None,
        past_only: bool = False,
        not_future: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("help_text", "For example, 15 3 1984")
        fields = tuple(forms.CharField(required=False) for _ in PARTS)
        super().__init__(fields=fields, require_all_fields=False, **kwargs)
        self.error_name = error_name
        self.past_only = past_only
        self.not_future = not_future

    def clean(self, value: Any) -> datetime.date | None:
        parts = self._parts(value)
        if not any(parts):
            if self.required:
                raise self._error("required", parts=list(PARTS))
            return None

        missing = [part for part, text in zip(PARTS, parts, strict=True) if not text]
        if missing:
            raise self._error("incomplete", parts=missing, missing=" and ".join(missing))

        day, month, year = parts
        month = str(MONTH_NAMES.get(month.lower(), month))
        not_numbers = [
            part for part, text in zip(PARTS, (day, month, year), strict=True) if not _DIGITS.fullmatch(text)
        ]
        if not_numbers:
            raise self._error("invalid", parts=not_numbers)
        if len(year) != 4:
            raise self._error("year_length", parts=["year"])
        try:
            date = datetime.date(int(year), int(month), int(day))
        except ValueError:
            raise self._error("invalid", parts=list(PARTS)) from None

        today = timezone.localdate()
        if self.past_only and date >= today:
            raise self._error("past", parts=list(PARTS))
        if self.not_future and date > today:
            raise self._error("not_future", parts=list(PARTS))
        self.run_validators(date)
        return date

    def compress(self, data_list: Sequence[Any]) -> datetime.date | None:
        # Not used: clean() works on the raw parts so that it can say which part is wrong.
        return self.clean(data_list)

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        if not isinstance(initial, list | tuple):
            initial = self.widget.decompress(initial)
        return self._comparable(initial) != self._comparable(data)

    def _parts(self, value: Any) -> tuple[str, str, str]:
        if isinstance(value, datetime.date):
            value = self.widget.decompress(value)
        values = list(value or [])[:3]
        values += [""] * (3 - len(values))
        day, month, year = (str(v if v is not None else "").strip() for v in values)
        return day, month, year

    def _comparable(self, value: Any) -> tuple[int | str, ...]:
        return tuple(int(part) if _DIGITS.fullmatch(part) else part.lower() for part in self._parts(value))

    def _error(self, code: str, *, parts: list[str], **params: str) -> ValidationError:
        name = str(self.error_name or self.label or "Date")
        name_lower = name[:1].lower() + name[1:] if name[1:2].islower() else name
        return ValidationError(
            self.error_messages[code],
            code=code,
            params={"name": name[:1].upper() + name[1:], "name_lower": name_lower, "parts": parts, **params},
        )
