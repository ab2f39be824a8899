"""Querysets whose SQL is compiled once a process for the same inputs: ``values()`` rows, or model instances.

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

A query about one record (a client, a case) is asked with a different id each time, so keyed on the id it would
seldom be asked twice; a search is asked with different words. Such values are passed as ``inputs`` instead: the
statement is kept under a key that holds everything else (the shape: which filters, how many services), and is
compiled the first time from stand-ins, values no real input can be: a UUID no row has, a string holding a NUL
character (which PostgreSQL text cannot), a float no measure reaches. (A list is not an input: Django writes an
array as ``ARRAY[%s, %s]``, one parameter an element, so its length is part of the shape.) Each
stand-in must come out as a parameter of its own, found by equality; each call then puts its own values where
the stand-ins stood. A value the query changes before it becomes a parameter (a string put inside ``%...%``, a
float put through a cosine) is not found, and is refused: the caller passes the value the SQL uses.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import connections, router
from django.db.models import Count, IntegerField, QuerySet, Value
from django.db.models.query import ModelIterable, ValuesIterable, get_related_populators

MAX_KEPT = 1024  # statements kept a process (a few kB each): the least recently used go first


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    names: tuple[str, ...]
    compiler: Any  # the compiler that wrote the SQL: its select list and converters read the rows
    model: Any
    using: str | None  # the alias the queryset named with using(), else None: the router decides at each call
    positions: tuple[tuple[int, ...], ...] = ()  # where each input stands in params
    kinds: tuple[type, ...] = ()  # what each input is


_kept: OrderedDict[Hashable, _Compiled] = OrderedDict()
_lock = threading.Lock()


def _compile(queryset: QuerySet[Any], *, instances: bool = False, stand_ins: tuple[Any, ...] = ()) -> _Compiled:
    query = queryset.query
    expected = ModelIterable if instances else ValuesIterable
    if queryset._iterable_class is not expected:
        raise TypeError(f"linkwork.compiled needs a queryset iterated by {expected.__name__}")
    if queryset._prefetch_related_lookups or queryset._known_related_objects:
        raise TypeError("linkwork.compiled does not prefetch or attach known related objects")
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    names = (
        tuple(query.selected)
        if query.selected
        else (*query.extra_select, *query.values_select, *query.annotation_select)
    )
    positions = tuple(
        tuple(i for i, param in enumerate(params) if type(param) is type(stand_in) and param == stand_in)
        for stand_in in stand_ins
    )
    if not all(positions):
        raise ValueError("linkwork.compiled: an input is not among the query's parameters as it was given")
    return _Compiled(
        sql=sql,
        params=tuple(params),
        names=names,
        compiler=compiler,
        model=queryset.model,
        using=queryset._db,
        positions=positions,
        kinds=tuple(_kind(value) for value in stand_ins),
    )


_STAND_IN_UUID = 0x4C494E4B_574F524B << 64  # "LINKWORK": no row's id, which are random (version 4) UUIDs


def _kind(value: Any) -> type:
    if isinstance(value, bool) or not isinstance(value, UUID | str | float):
        raise TypeError(f"linkwork.compiled: inputs are UUIDs, strings or floats, not {value!r}")
    return type(value)


def _stand_in(number: int, value: Any) -> Any:
    kind = _kind(value)
    if kind is UUID:
        return UUID(int=_STAND_IN_UUID + number)
    if kind is str:
        return f"\x00linkwork input {number}\x00"
    return -1.0e300 * (1 + number / 1024)


def _kept_or_compiled(
    key: Hashable, build: Callable[..., QuerySet[Any]], *, instances: bool, inputs: tuple[Any, ...]
) -> _Compiled:
    with _lock:
        compiled = _kept.get(key)
        if compiled is not None:
            _kept.move_to_end(key)
            return compiled
    stand_ins = tuple(_stand_in(number, value) for number, value in enumerate(inputs))
    compiled = _compile(build(*stand_ins), instances=instances, stand_ins=stand_ins)
    with _lock:
        _kept[key] = compiled
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)
    return compiled


def _rows(compiled: _Compiled, inputs: tuple[Any, ...], alias: str) -> list[Any]:
    params = compiled.params
    if inputs or compiled.kinds:
        if tuple(_kind(value) for value in inputs) != compiled.kinds:
            raise ValueError("linkwork.compiled: a key was used with other kinds or another number of inputs")
        substituted = list(params)
        for value, positions in zip(inputs, compiled.positions, strict=True):
            for position in positions:
                substituted[position] = value
        params = tuple(substituted)
    with connections[alias].cursor() as cursor:
        cursor.execute(compiled.sql, params)
        return cursor.fetchall()


def _alias(compiled: _Compiled) -> str:
    # Asked at each call, as a queryset asks: inside linkwork.db_router.replica_reads() reads go to the replica.
    return compiled.using or router.db_for_read(compiled.model)


def values(key: Hashable, build: Callable[..., QuerySet[Any]], *, inputs: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """``list(build(*inputs))`` for a ``values()`` queryset: the same dicts, with ``build`` called (and its SQL
    compiled) only the first time ``key`` is seen in this process, from stand-ins for the inputs. ``key`` and the
    inputs must determine the queryset completely."""
    compiled = _kept_or_compiled(key, build, instances=False, inputs=inputs)
    rows = _rows(compiled, inputs, _alias(compiled))
    names = compiled.names
    return [dict(zip(names, row, strict=False)) for row in compiled.compiler.results_iter(results=[rows])]


def instances(key: Hashable, build: Callable[..., QuerySet[Any]], *, inputs: tuple[Any, ...] = ()) -> list[Any]:
    """``list(build(*inputs))`` for a queryset of model instances (with ``select_related``, ``only`` and
    annotations; not ``prefetch_related``), made from the rows as Django's ``ModelIterable`` makes them, with
    ``build`` called only the first time ``key`` is seen in this process."""
    compiled = _kept_or_compiled(key, build, instances=True, inputs=inputs)
    db = _alias(compiled)
    rows = _rows(compiled, inputs, db)
    compiler = compiled.compiler
    select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
    model = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    related_populators = get_related_populators(klass_info, select, db)
    made = []
    for row in compiler.results_iter(results=[rows]):
        obj = model.from_db(db, init_list, row[start:end])
        for populator in related_populators:
            populator.populate(row, obj)
        for name, position in (annotation_col_map or {}).items():
            setattr(obj, name, row[position])
        made.append(obj)
    return made


def count(key: Hashable, build: Callable[..., QuerySet[Any]], *, inputs: tuple[Any, ...] = ()) -> int:
    """``build(*inputs).count()``, its statement kept as ``values`` keeps one: ``SELECT COUNT(pk) ... WHERE``,
    the same statement ``count()`` sends for a plain filtered queryset. Not for a queryset that is sliced or
    distinct, or that groups (its count is of groups): those are refused."""

    def counted(*args: Any) -> QuerySet[Any]:
        queryset = build(*args)
        query = queryset.query
        if query.is_sliced or query.distinct or query.group_by is not None or query.combinator:
            raise ValueError("linkwork.compiled.count: only a plain filtered queryset can be counted this way")
        # Grouped by a constant, which Django leaves out of GROUP BY: one row holding the count of all.
        return (
            queryset.order_by()
            .annotate(_counted_as_one=Value(1, output_field=IntegerField()))
            .values("_counted_as_one")
            .annotate(n=Count("pk"))
            .values("n")
        )

    rows = values(key, counted, inputs=inputs)
    return int(rows[0]["n"]) if rows else 0


def forget() -> None:
    """Drop every kept statement (tests that change what a key means, e.g. by migrating)."""
    with _lock:
        _kept.clear()
