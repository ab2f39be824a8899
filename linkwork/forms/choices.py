"""A model choice field for short lists (services, practices, a team): its choices read with one plain query."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator


class ListedChoiceIterator(ModelChoiceIterator):
    """Django's iterator reads the choices through ``QuerySet.iterator()``: on PostgreSQL a server-side cursor
    (DECLARE, FETCH, CLOSE), three round trips meant for lists too long to hold, and again for every pass
    (validation, then the page). A list of a hundred practices is read once, in one query, and kept with the
    form's own copy of the queryset."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.queryset) + (1 if self.field.empty_label is not None else 0)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedChoiceIterator
