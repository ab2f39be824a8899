"""Reads that may come from a read replica, and only those.

A streaming replica of PostgreSQL (``DATABASE_REPLICA_URL``) takes the heaviest read-only work, the commissioner
reports, off the primary. Nothing goes there unless it asks: code reads from the replica only inside
``replica_reads()``, where the router sends every ORM read to it and raw SQL takes its connection from
``read_connection()``. Everything else (every page that shows what a person has just saved, every write, even a
write made inside ``replica_reads()``) uses the primary, so replication lag never shows as lost work; a report
may miss what was saved in the last second or so. Without a replica, ``replica_reads()`` reads from the primary.
Migrations run on the primary only (the replica follows it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"

_replica_reads: ContextVar[bool] = ContextVar("linkwork_replica_reads", default=False)


def replica_alias() -> str:
    """The alias report queries use: the replica when one is configured, else the primary."""
    return REPLICA if settings.LINKWORK_READ_REPLICA else DEFAULT_DB_ALIAS


def read_alias() -> str:
    """The alias reads use here: ``replica_alias()`` inside ``replica_reads()``, else the primary."""
    return replica_alias() if _replica_reads.get() else DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    """The connection for raw read-only SQL (``with read_connection().cursor() as cursor``)."""
    return connections[read_alias()]


@contextlib.contextmanager
def replica_reads() -> Iterator[str]:
    """Within this block (in this thread or task), reads go to the replica if there is one; yields the alias."""
    token = _replica_reads.set(True)
    try:
        yield replica_alias()
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    """``DATABASE_ROUTERS``: reads inside ``replica_reads()`` go to the replica; writes and migrations never do."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # Both aliases hold the same data; anything else is Django's to decide.
        return True if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA} else None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
