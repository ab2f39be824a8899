"""Rows of a ``values()`` queryset whose SQL is compiled once a process for the same inputs.

A page that asks the same question every time (a link worker's caseload: their id, their services, today)
had Django build the queryset and compile it to SQL on every request, and for the busiest pages that took as long
as PostgreSQL took to answer (make bench, scale 10: the caseload's query 1.6 ms to build and compile against
2.6 ms to run; the triage queue's 2.7 ms against 1.5 ms). Here the queryset is built and compiled by the ORM the
first time a key is seen, and its SQL and parameters are kept with the compiler, which turns the rows into
values exactly as the ORM does (its converters). The rows themselves are read afresh every time.

The key must hold every input the queryset is built from (the user, their services, the day, the filter, the
page), so that one key can only ever mean one SQL statement: a key that left out an input would answer with
another input's rows. Inputs that change on every call (the current time) make a new key each time, which is
correct but gains nothing; compute such a query the ordinary way.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet

MAX_KEPT = 1024  # statements kept a process (a few kB each): the least recently used go first


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    names: tuple[str, ...]
    compiler: Any  # the compiler that wrote the SQL: its select list and converters read the rows
    using: str


_kept: OrderedDict[Hashable, _Compiled] = OrderedDict()
_lock = threading.Lock()


def _compile(queryset: QuerySet[Any]) -> _Compiled:
    query = queryset.query
    if not query.values_select and not query.annotation_select and not query.selected:
        raise TypeError("linkwork.compiled needs a values() queryset")
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    names = (
        tuple(query.selected)
        if query.selected
        else (*query.extra_select, *query.values_select, *query.annotation_select)
    )
    return _Compiled(sql=sql, params=tuple(params), names=names, compiler=compiler, using=queryset.db)


def values(key: Hashable, build: Callable[[], QuerySet[Any]]) -> list[dict[str, Any]]:
    """``list(build())`` for a ``values()`` queryset: the same dicts, with ``build`` called (and its SQL compiled)
    only the first time ``key`` is seen in this process. ``key`` must determine the queryset completely."""
    with _lock:
        compiled = _kept.get(key)
        if compiled is not None:
            _kept.move_to_end(key)
    if compiled is None:
        compiled = _compile(build())
        with _lock:
            _kept[key] = compiled
            while len(_kept) > MAX_KEPT:
                _kept.popitem(last=False)
    with connections[compiled.using].cursor() as cursor:
        cursor.execute(compiled.sql, compiled.params)
        rows = cursor.fetchall()
    names = compiled.names
    return [dict(zip(names, row, strict=False)) for row in compiled.compiler.results_iter(results=[rows])]


def forget() -> None:
    """Drop every kept statement (tests that change what a key means, e.g. by migrating)."""
    with _lock:
        _kept.clear()
