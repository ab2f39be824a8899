"""Cached aggregates that are never served stale.

A commissioner's report for an ICB takes about a second of SQL; eight people opening it at once took 7 s each
(``make bench``). The figures change only when the data under them does, so they are cached in Redis under a
key that holds, besides what was asked for, the *data version* of every service they cover and of the shared
tables (``outcomes.models.DataVersion``, bumped by PostgreSQL triggers at the commit of any write: see migration
0004). A write to a service makes a new key for every aggregate over that service, so the next request computes
afresh; aggregates over other services keep their cached figures. The versions are read before the data, so a
cached value is never older than the versions in its key.

Only aggregates are cached (counts, medians, labels): nothing that names or identifies a person goes to Redis.
The key also holds a digest of the source of the modules that compute the value, so a release that changes
how a figure is worked out never serves figures worked out the old way, and the date, for figures that count
days up to today. While one process computes a value, others asking for the same key wait for it (up to
``WAIT_SECONDS``) rather than run the same heavy queries alongside it.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Iterable
from functools import cache as memoise
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from linkwork import db_router

T = TypeVar("T")

SHARED = uuid.UUID(int=0)  # the scope of the shared tables (directory, organisations, postcodes)
TIMEOUT_SECONDS = 24 * 3600  # unused keys go; a changed version already makes a new key
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05
_MISSING = object()


def versions(service_ids: Iterable[Any], *, using: str | None = None) -> tuple[tuple[str, int], ...]:
    """The data version of each service and of the shared tables, as ``(scope, version)`` pairs in a fixed
    order (0 for a scope never written since the triggers were installed)."""
    from outcomes.models import DataVersion

    scopes = sorted({uuid.UUID(str(pk)) for pk in service_ids} | {SHARED})
    found = dict(
        DataVersion.objects.using(using or db_router.read_alias())
        .filter(scope__in=scopes)
        .values("scope")
        .annotate(total=Sum("version"))
        .order_by()
        .values_list("scope", "total")
    )
    return tuple((str(scope), found.get(scope, 0)) for scope in scopes)


@memoise
def code_digest(*sources: ModuleType | Path) -> str:
    """A digest of the modules' (or templates') source files: part of every key, so new code never reads old
    figures."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(Path(source if isinstance(source, Path) else source.__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


def key_for(
    name: str,
    *,
    service_ids: Iterable[Any],
    parts: Any,
    code: tuple[ModuleType | Path, ...],
    known_versions: tuple[tuple[str, int], ...] | None = None,
) -> str:
    service_ids = list(service_ids)
    now = known_versions if known_versions is not None else versions(service_ids)
    raw = repr((name, code_digest(*code), timezone.localdate().isoformat(), now, parts))
    return f"linkwork:fresh:{name}:{hashlib.sha256(raw.encode()).hexdigest()}"


def cached(
    name: str,
    compute: Callable[[], T],
    *,
    service_ids: Iterable[Any],
    parts: Any,
    code: tuple[ModuleType | Path, ...],
    known_versions: tuple[tuple[str, int], ...] | None = None,
) -> T:
    """``compute()``'s value for these services and ``parts`` (anything with a stable ``repr``: dates, ids,
    filter values), from the cache while no data under it has changed. ``known_versions``: the services'
    ``versions()`` as read for another value of the same page, so that both are keyed on one reading (and the
    page reads them once)."""
    key = key_for(name, service_ids=service_ids, parts=parts, code=code, known_versions=known_versions)
    value = cache.get(key, _MISSING)
    if value is not _MISSING:
        return value
    lock = f"{key}:computing"
    if not cache.add(lock, 1, timeout=int(WAIT_SECONDS)):
        # Someone else is working this out: wait for their answer, or work it out here if they take too long.
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            value = cache.get(key, _MISSING)
            if value is not _MISSING:
                return value
            if cache.get(lock) is None:
                break
    try:
        value = compute()
        cache.set(key, value, TIMEOUT_SECONDS)
    finally:
        cache.delete(lock)
    return value
