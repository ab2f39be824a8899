"""A row by its primary key, with the ORM's own SQL compiled once a process instead of on every call.

Every signed-in request reads two rows by primary key before its view runs: the user (``ModelBackend.get_user``,
through ``UserManager.get``) and the two-factor device named in the session (``OTPMiddleware``). The SQL is the
same each time but for the key, and Django compiles it afresh each time: in make bench's profiles compiling was
over half the Python time of each (about 0.4 ms of 0.7 ms per read on the 2-core machine, against 0.3 ms for
the statement itself). Here the query is compiled by Django once per model and database (so its SQL, columns and
converters are exactly the ORM's), then run with the new key; the row becomes a model instance through
``Model.from_db``, as the ORM makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    attnames: list[str]
    compiler: Any  # for its converters (none for most fields on PostgreSQL)
    converters: dict[int, Any]


_compiled: dict[tuple[type[models.Model], str], _Compiled] = {}


def _compile(model: type[models.Model], pk: Any, using: str) -> _Compiled:
    query = model._base_manager.db_manager(using).filter(pk=pk).query
    compiler = query.get_compiler(using)
    sql, params = compiler.as_sql()
    if len(params) != 1:  # pragma: no cover - a primary key lookup has one parameter
        raise ValueError(f"{model.__name__}: expected one parameter, got {params!r}")
    expressions = [expression for expression, _, _ in compiler.select]
    attnames = [expression.target.attname for expression in expressions]
    if attnames != [f.attname for f in model._meta.concrete_fields]:  # pragma: no cover - from_db needs this order
        raise ValueError(f"{model.__name__}: the query's columns are not the model's fields in order")
    return _Compiled(
        sql=sql,
        attnames=attnames,
        compiler=compiler,
        converters=compiler.get_converters(expressions),
    )


def fetch_by_pk(model: type[M], pk: Any, *, using: str) -> M:
    """``model._base_manager.using(using).get(pk=pk)``, with the SQL compiled once: raises ``model.DoesNotExist``
    if there is no such row, and whatever ``get`` raises for a key of the wrong form (``ValidationError``,
    ``ValueError``)."""
    field = model._meta.pk
    connection = connections[using]
    value = field.get_db_prep_value(field.to_python(pk), connection, prepared=False)
    compiled = _compiled.get((model, using))
    if compiled is None:
        compiled = _compiled[(model, using)] = _compile(model, value, using)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, [value])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
    if compiled.converters:
        row = next(iter(compiled.compiler.apply_converters([row], compiled.converters)))
    return model.from_db(using, compiled.attnames, row)
