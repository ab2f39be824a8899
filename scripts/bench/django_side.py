"""The in-process half of the benchmark, run by ``run.py`` as a subprocess per database (DATABASE_URL decides
which): ``python -m scripts.bench.django_side <command> --out result.json``.

Commands:
  status    is the database seeded with benchmark data?
  vacuum    VACUUM (ANALYZE) it, so that every run starts from the same state
  prepare   pick the objects to measure (a busy link worker's case, ...), make signed-in sessions for the
            personas, and write the endpoints (``endpoints.build``)
  measure   for each endpoint, in-process with Django's test client: the SQL queries of one request, its time
            with one user, and the bare-SQL floor (the same queries replayed on a raw connection), with an
            EXPLAIN ANALYZE of the slowest
  jobs      the reminder scan, the retention job (dry run and the real anonymisation, rolled back) and the
            nightly digest, timed, with their floors
  xlsx      the year's XLSX report for the whole ICB, in this fresh process: time and peak memory (VmHWM)
  cleanup   delete the contacts and referrals the load test wrote

Everything that writes is rolled back, except the load test's own writes, which ``cleanup`` removes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

# A page's own transaction, as the benchmark runs it inside the transaction it rolls back: in production the
# same block is a BEGIN and a COMMIT, two round trips of the page's SQL all the same.
TRANSACTION_SQL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
# In-process timings per page, each followed by one replay of the page's SQL (the floor), so that both are taken
# at the same moments and the machine's drift falls on both alike. The median of the timings is reported, and the
# fastest replay is the floor (the SQL with warm caches). Timed apart, 15 requests and then 3 replays, the ratio
# of the same code moved by up to 0.7x between runs (session 13: the referral form 2.4x and 3.1x).
SERIAL_RUNS = 41
CALL_RUNS = 5  # requests whose Python function calls are counted (cProfile): a figure that does not drift
REPLAYS = 3  # floor replays at least (a job's, and a download's, which has no timings to take turns with)
FLOOR_REPLAY_BUDGET_MS = 3_000  # past this much replaying a page's floor (a cold report: 0.6 s a time), no more
LONG_JOB_MS = 10_000  # a job longer than this is replayed once: its caches are warm by then anyway
SHORT_JOB_MS = 3_000  # a job shorter than this is timed JOB_RUNS times: one run moved by a third on a shared VM
JOB_RUNS = 5
FORM_ENCODED = "application/x-www-form-urlencoded"
PERSONAS = ("link_worker", "supervisor", "manager", "referrer", "commissioner")


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkwork.settings")
    import django

    django.setup()


# --- Recording and replaying SQL ------------------------------------------------------------------------
@dataclass
class Query:
    sql: str
    params: Any
    many: bool
    ms: float

    @property
    def is_transaction(self) -> bool:
        """A savepoint statement: the page's own transaction (``TRANSACTION_SQL``), not a query of data."""
        return self.sql.lstrip().upper().startswith(TRANSACTION_SQL)


class Recorder:
    """A ``connection.execute_wrapper`` keeping every statement with its parameters and time (unlike
    CaptureQueriesContext, never capped at 9,000 queries, which a job can exceed).

    The benchmark's own transaction, begun before the recorder is set, is never seen here, so every savepoint
    recorded is the page's or job's own ``transaction.atomic``: it stands for the BEGIN and COMMIT that block
    makes in production. Such statements are replayed with the rest (the floor is all the SQL a page needs,
    its transaction included) but not counted as queries (``data_queries``)."""

    def __init__(self) -> None:
        self.queries: list[Query] = []

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(Query(sql, params, many, (time.perf_counter() - start) * 1000))

    @property
    def data_queries(self) -> list[Query]:
        """The statements that read or write data: what the query budget counts."""
        return [q for q in self.queries if not q.is_transaction]


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in a transaction that is always rolled back."""
    from django.db import transaction

    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def raw_connection() -> Any:
    """A psycopg connection made the way Django makes its own (client-side binding, the same adapters), but used
    directly: no ORM, no cursor wrapper, no Python between the statements."""
    from django.db import connection

    return connection.get_new_connection(connection.get_connection_params())


@dataclass
class Replay:
    floor_ms: float
    per_query_ms: list[float]
    errors: int
    passes: int = 0


class Replayer:
    """``queries`` run again on one raw connection, a pass at a time, fetching every row, each pass in a
    transaction rolled back at its end. The floor is the fastest pass; each query's time is its fastest.

    Each pass's transaction is begun before its timer starts, as the page's is (``rolled_back`` opens it before
    the request is timed). Left to psycopg, which begins a transaction by itself before a pass's first statement,
    the BEGIN was a round trip inside that statement's time: 0.12-0.16 ms more floor for every page (measured in
    session 15), which flattered each page's ratio."""

    def __init__(self, queries: list[Query]) -> None:
        self.queries = queries
        self.passes = 0
        self.spent_ms = 0.0
        self.best_total = float("inf")
        self.best: list[float] = [float("inf")] * len(queries)
        self.errors = 0
        self.conn = raw_connection()
        self.conn.autocommit = True  # the transactions are begun and ended here, outside the timings

    def run(self) -> None:
        total, self.errors = 0.0, 0
        self.conn.execute("BEGIN")
        for i, query in enumerate(self.queries):
            start, failed = time.perf_counter(), False
            try:
                with self.conn.cursor() as cursor:
                    if query.many:
                        cursor.executemany(query.sql, query.params)
                    else:
                        cursor.execute(query.sql, query.params)
                    if cursor.description is not None:
                        cursor.fetchall()
            except Exception:  # noqa: BLE001 - a failed statement still costs its time; go on in a new transaction
                failed = True
            took = (time.perf_counter() - start) * 1000
            if failed:
                self.errors += 1
                self.conn.execute("ROLLBACK")
                self.conn.execute("BEGIN")
            total += took
            self.best[i] = min(self.best[i], took)
        self.conn.execute("ROLLBACK")
        self.passes += 1
        self.spent_ms += total
        self.best_total = min(self.best_total, total)

    def result(self) -> Replay:
        return Replay(round(self.best_total, 2), [round(t, 3) for t in self.best], self.errors, self.passes)

    def __enter__(self) -> Replayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def replay(queries: list[Query], times: int = REPLAYS) -> Replay:
    """Run ``queries`` again ``times`` times on a raw connection (``Replayer``): the fastest pass is the floor."""
    with Replayer(queries) as replayer:
        for _ in range(times):
            replayer.run()
        return replayer.result()


def readable(query: Query) -> str:
    """The statement with its parameters filled in (psycopg's own quoting, through Django's connection: no
    connection of its own, which was left open), for people to read."""
    from django.db import connection

    if query.many:
        return query.sql
    try:
        return connection.ops.compose_sql(query.sql, query.params)
    except Exception:  # noqa: BLE001 - only for display
        return query.sql


def explain(query: Query) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, in a transaction rolled back (it may be a write)."""
    conn = raw_connection()
    try:
        with conn.cursor() as cursor:
            # The statement is one the app itself ran, with its parameters still bound by psycopg.
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query.sql, query.params)
            return "\n".join(row[0] for row in cursor.fetchall())
    except Exception as error:  # noqa: BLE001 - reported instead of the plan
        return f"EXPLAIN failed: {error}"
    finally:
        conn.rollback()
        conn.close()


def sql_summary(queries: list[Query], played: Replay, *, keep: int | None = None) -> dict[str, Any]:
    """The statements in order with their replay times (or the ``keep`` slowest), and the slowest explained."""
    order = range(len(queries))
    if keep is not None:
        order = sorted(order, key=lambda i: -played.per_query_ms[i])[:keep]
    listed = [{"ms": played.per_query_ms[i], "sql": readable(queries[i])[:4000]} for i in order]
    slowest = max(range(len(queries)), key=lambda i: played.per_query_ms[i]) if queries else None
    return {
        "queries": listed,
        "slowest_sql": readable(queries[slowest]) if slowest is not None else "",
        "slowest_ms": played.per_query_ms[slowest] if slowest is not None else 0.0,
        "explain": explain(queries[slowest]) if slowest is not None else "",
    }


def proc_status_kb(field: str, pid: int | str = "self") -> int:
    """A memory figure (VmRSS, VmHWM ...) of a process, in kB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


# --- status and prepare ------------------------------------------------------------------------------------
def status() -> dict[str, Any]:
    from django.db import connection
    from django.db.utils import ProgrammingError

    from linkwork.accounts.models import User
    from outcomes.demo_scale import BENCH_DOMAIN

    try:
        seeded = User.objects.filter(email__endswith="@" + BENCH_DOMAIN).exists()
    except ProgrammingError:  # not migrated yet
        seeded = False
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return {"seeded": seeded, "postgresql": version}


def pick() -> tuple[Any, dict[str, Any]]:
    """The objects to measure: the link worker with the most open cases; their fullest open case (with a plan and
    what matters, so the page has the same parts at every scale; then the most contacts) and its client; 40 more
    of their active cases to log contacts on; their service's supervisor, manager, a practice referrer and the
    ICB commissioner; a postcode with coordinates in their directory. Deterministic for a given database."""
    from django.db.models import Count, Exists, OuterRef

    from clients.models import Case, CaseStatus, Plan, WhatMatters
    from community.models import CommunityService, PostcodeArea
    from linkwork.accounts.models import Membership, OrganisationKind, Role, User
    from outcomes.demo_scale import BENCH_DOMAIN
    from scripts.bench.endpoints import Picked

    bench = "@" + BENCH_DOMAIN
    busiest = (
        Case.objects.filter(status__in=[CaseStatus.ACTIVE, CaseStatus.PAUSED], link_worker__email__endswith=bench)
        .values("link_worker")
        .annotate(n=Count("pk"))
        .order_by("-n", "link_worker")
        .first()
    )
    if busiest is None:
        raise SystemExit("No open cases of a benchmark link worker: is the database seeded (seed_demo --scale)?")
    worker = User.objects.get(pk=busiest["link_worker"])
    cases = list(
        Case.objects.filter(link_worker=worker, status=CaseStatus.ACTIVE)
        .annotate(
            has_plan=Exists(Plan.objects.filter(case=OuterRef("pk"))),
            has_what_matters=Exists(WhatMatters.objects.filter(case=OuterRef("pk"))),
            n=Count("contacts"),
        )
        .order_by("-has_plan", "-has_what_matters", "-n", "pk")
        .values_list("pk", "client_id", "service_id")[:41]
    )
    case_id, client_id, service_id = cases[0]

    def member(role: str, **where: Any) -> Membership:
        found = (
            Membership.objects.filter(role=role, user__email__endswith=bench, user__is_active=True, **where)
            .select_related("user")
            .order_by("user__email")
            .first()
        )
        if found is None:
            raise SystemExit(f"No benchmark {role} for the service of the busiest link worker")
        return found

    referrer = member(Role.REFERRER, organisation__kind=OrganisationKind.PRACTICE, organisation__services=service_id)
    people = {
        "link_worker": worker,
        "supervisor": member(Role.SUPERVISOR, organisation=service_id).user,
        "manager": member(Role.SERVICE_MANAGER, organisation=service_id).user,
        "referrer": referrer.user,
        "commissioner": member(Role.COMMISSIONER, organisation__services=service_id).user,
    }
    located = (
        CommunityService.objects.filter(provider__service=service_id).order_by("pk").values_list("postcode", flat=True)
    )
    known = set(
        PostcodeArea.objects.filter(
            postcode__in=[PostcodeArea.key(p) for p in located[:500]], latitude__isnull=False
        ).values_list("postcode", flat=True)
    )
    postcode = next((p for p in located[:500] if PostcodeArea.key(p) in known), "")
    picked = Picked(
        case=str(case_id),
        client=str(client_id),
        other_cases=tuple(str(c[0]) for c in cases[1:]) or (str(case_id),),
        route=f"{referrer.organisation_id}:{service_id}",
        postcode=postcode,
        search_text="group",
        categories=("peer_support", "befriending", "physical_activity"),
    )
    return picked, people


def prepare() -> dict[str, Any]:
    from django.conf import settings
    from django.urls import reverse
    from django.utils import timezone

    from scripts.bench import endpoints, sessions

    picked, people = pick()
    return {
        "picked": vars(picked),
        "people": {role: user.email for role, user in people.items()},
        "user_ids": {role: str(user.pk) for role, user in people.items()},
        "sessions": {role: sessions.signed_in_session(user) for role, user in people.items()},
        "csrf": sessions.csrf_secret(),
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "endpoints": [e.to_json() for e in endpoints.build(picked, reverse=reverse, today=timezone.localdate())],
    }


# --- measure ----------------------------------------------------------------------------------------------
def _client(prepared: dict[str, Any], persona: str | None) -> Any:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[prepared["csrf_cookie"]] = prepared["csrf"]
    if persona:
        client.cookies[prepared["session_cookie"]] = prepared["sessions"][persona]
    return client


def _form(endpoint: Any) -> dict[str, Any]:
    from scripts.bench.endpoints import UNIQUE

    return {k: (str(uuid.uuid4()) if v == UNIQUE else v) for k, v in endpoint.form.items()}


def _request(client: Any, endpoint: Any, path: str) -> tuple[int, str, int]:
    """One request: its status, its Location, and how many bytes came back (streamed bodies read to the end)."""
    from django.contrib.messages.storage.cookie import CookieStorage

    if endpoint.method == "POST":
        # Form-encoded, as browsers send these forms and as wrk does (wrk.py), not the test client's multipart.
        response = client.post(path, urlencode(_form(endpoint), doseq=True), content_type=FORM_ENCODED)
    else:
        response = client.get(path)
    # The test client closes the response itself (a streamed one once read to the end) with request_finished
    # held back. Closing it again fired request_finished, whose close_old_connections dropped the connection
    # inside the measuring transaction: every timed request then timed a reconnection too, which gunicorn's
    # persistent connections never pay.
    size = sum(len(chunk) for chunk in response.streaming_content) if response.streaming else len(response.content)
    # The message a POST leaves ("Contact logged") is shown, and so consumed, on the page it redirects to, which
    # is not requested here (nor by wrk, which keeps no cookies). Kept, it piled up in the cookie, a hundred
    # after a hundred POSTs, each request decoding and encoding all of them again.
    client.cookies.pop(CookieStorage.cookie_name, None)
    return response.status_code, response.get("Location", ""), size


def answer_problem(endpoint: Any, status_code: int, location: str) -> str:
    """Why an answer is not the one the endpoint must give ("" if it is)."""
    if status_code != endpoint.expect:
        return f"answered {status_code}, expected {endpoint.expect}" + (f" (to {location})" if location else "")
    if endpoint.expect_location and not location.startswith(endpoint.expect_location):
        return f"redirected to {location}, expected {endpoint.expect_location}..."
    return ""


def measure_endpoint(prepared: dict[str, Any], endpoint: Any, *, floor: bool) -> dict[str, Any]:
    from importlib import import_module

    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection

    from scripts.bench.sessions import renewed_now

    client = _client(prepared, endpoint.persona)
    path = endpoint.paths[0]
    if endpoint.persona:
        # Someone active: their session was renewed within the minute, so these requests do not write it.
        renewed_now(prepared["sessions"][endpoint.persona])
    with rolled_back():
        status_code, location, _ = _request(client, endpoint, path)  # warm-up: templates, caches
    problem = answer_problem(endpoint, status_code, location)
    # The recorded request is cold: with the cache emptied, a cached page (outcomes.freshness) does all its
    # work, so its queries and floor are the real ones; the runs after it are timed warm, as users mostly get it.
    cache.clear()
    if endpoint.persona:
        # Emptying the cache also dropped the session, which stays in Redis for someone signed in: read it back
        # (cached_db puts it in the cache again), so the cold request counts the page's own work, not a session
        # read from PostgreSQL that an active user never makes.
        import_module(settings.SESSION_ENGINE).SessionStore(prepared["sessions"][endpoint.persona]).load()
    recorder = Recorder()
    with rolled_back(), connection.execute_wrapper(recorder):
        start = time.perf_counter()
        status_code, location, size = _request(client, endpoint, path)
        cold_ms = (time.perf_counter() - start) * 1000
    problem = problem or answer_problem(endpoint, status_code, location)
    # And counted again warm, as the timed requests below and wrk's find it: a cached page from its cache.
    warm = Recorder()
    with rolled_back(), connection.execute_wrapper(warm):
        _request(client, endpoint, path)
    timings, played = timed_with_floor(client, endpoint, path, recorder.queries if floor else None)
    calls = None if endpoint.download else python_calls(client, endpoint, path)
    result: dict[str, Any] = {
        "key": endpoint.key,
        "python_calls": calls,
        "status": status_code,
        "problem": problem,
        "bytes": size,
        "query_count": len(recorder.data_queries),
        "query_count_warm": len(warm.data_queries),
        "serial_ms": round(statistics.median(timings or [cold_ms]), 2),
        "cold_ms": round(cold_ms, 2),
        "queries_ms": round(sum(q.ms for q in recorder.queries), 2),
    }
    if played is not None:
        result |= {"floor_ms": played.floor_ms, "replay_errors": played.errors, "floor_replays": played.passes}
        result |= sql_summary(recorder.queries, played)
    else:
        result["queries"] = [{"sql": readable(q)[:4000]} for q in recorder.queries]
    return result


def timed_with_floor(
    client: Any, endpoint: Any, path: str, queries: list[Query] | None, runs: int = SERIAL_RUNS
) -> tuple[list[float], Replay | None]:
    """``runs`` timed requests (none for a download), each followed by a replay of ``queries``, the page's SQL,
    while replaying has taken under ``FLOOR_REPLAY_BUDGET_MS``; then more replays if fewer than ``REPLAYS``
    were made. The page's time and its floor are so taken in turn, at the same moments. Without ``queries``,
    the timings alone."""
    timings: list[float] = []
    with Replayer(queries) if queries is not None else nullcontext() as replayer:
        for _ in range(0 if endpoint.download else runs):
            with rolled_back():
                start = time.perf_counter()
                _request(client, endpoint, path)
                timings.append((time.perf_counter() - start) * 1000)
            if replayer is not None and (replayer.passes < REPLAYS or replayer.spent_ms < FLOOR_REPLAY_BUDGET_MS):
                replayer.run()
        if replayer is None:
            return timings, None
        while replayer.passes < REPLAYS:
            replayer.run()
        return timings, replayer.result()


def python_calls(client: Any, endpoint: Any, path: str, runs: int = CALL_RUNS) -> int:
    """Python function calls per request (cProfile's count over ``runs`` requests after a warm-up, each rolled
    back). Times on a shared VM drift with the machine (session 10's moved by a third within minutes); the work
    a request does in Python does not, so this compares runs and machines where the milliseconds cannot."""
    import cProfile
    import pstats

    with rolled_back():  # one uncounted first: what a first request loads once is not the page's work
        _request(client, endpoint, path)
    profile = cProfile.Profile()
    for _ in range(runs):
        with rolled_back():
            profile.enable()
            try:
                _request(client, endpoint, path)
            finally:
                profile.disable()
    return round(pstats.Stats(profile).total_calls / runs)


def measure(prepared: dict[str, Any], *, floor: bool) -> dict[str, Any]:
    from scripts.bench.endpoints import Endpoint

    pages = {}
    for data in prepared["endpoints"]:
        endpoint = Endpoint.from_json(data)
        print(f"  in-process: {endpoint.title}", file=sys.stderr, flush=True)
        # As a warmed-up gunicorn worker does (gunicorn.conf.py): what the pages before loaded (templates, URLs,
        # caches) is left out of the garbage collector's scans.
        gc.collect()
        gc.freeze()
        pages[endpoint.key] = measure_endpoint(prepared, endpoint, floor=floor)
    return {"pages": pages}


# --- jobs -------------------------------------------------------------------------------------------------
def time_job(key: str, title: str, job: Callable[[], Any], *, warm: bool = False) -> dict[str, Any]:
    """Run ``job`` once, rolled back, recording its SQL; then its floor (the SQL replayed, also rolled back). A
    short job is run again, rolled back each time, and its time is the median of the runs, as a page's is.
    With ``warm``, run it once before, untimed: a worker process has its imports and caches loaded, and the
    first run in a fresh process spends most of its time importing (the URL configuration, the holidays)."""
    from django.db import connection

    print(f"  job: {title}", file=sys.stderr, flush=True)
    if warm:
        with rolled_back():
            job()
    recorder = Recorder()
    outcome: Any = None
    with connection.execute_wrapper(recorder), rolled_back():
        start = time.perf_counter()
        outcome = job()
        ms = (time.perf_counter() - start) * 1000
    runs = [ms]
    for _ in range(JOB_RUNS - 1 if ms < SHORT_JOB_MS else 0):
        with rolled_back():
            start = time.perf_counter()
            job()
            runs.append((time.perf_counter() - start) * 1000)
    played = replay(recorder.queries, times=1 if ms > LONG_JOB_MS else REPLAYS)
    return {
        "key": key,
        "title": title,
        "ms": round(statistics.median(runs), 1),
        "runs_ms": [round(r, 1) for r in runs],
        "query_count": len(recorder.data_queries),
        "floor_ms": played.floor_ms,
        "replay_errors": played.errors,
        "outcome": _jsonable(outcome),
        **sql_summary(recorder.queries, played, keep=10),
    }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(v) for k, v in vars(value).items()}
    return str(value)


def digest_time() -> dt.datetime:
    """A moment today when the digest goes out (its time, or now if that is later)."""
    from django.conf import settings
    from django.utils import timezone

    now = timezone.localtime()
    send_at = timezone.make_aware(dt.datetime.combine(now.date(), settings.LINKWORK_DIGEST_TIME))
    return max(now, send_at + dt.timedelta(minutes=1))


def jobs() -> dict[str, Any]:
    from django.db.models import Count
    from django.test.utils import override_settings

    from clients.models import Case, CaseStatus
    from linkwork.notifications import services as notification_services
    from outcomes import privacy, reminders

    open_cases = Case.objects.exclude(status=CaseStatus.CLOSED).aggregate(n=Count("pk"))["n"]
    results = [
        time_job("reminder_scan", f"Reminder scan ({open_cases:,} open cases)", reminders.reminders_scan, warm=True),
        time_job("retention_dry_run", "Retention: who is due (dry run)", lambda: privacy.retention_apply(dry_run=True)),
        time_job("retention", "Retention: anonymise everyone due (rolled back)", privacy.retention_apply),
    ]
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        results.append(
            time_job(
                "digest",
                "Nightly digest build and send (to memory)",
                lambda: notification_services.digests_send(now=digest_time()),
                warm=True,
            )
        )
    return {"jobs": {r["key"]: r for r in results}, "open_cases": open_cases}


# --- xlsx memory ------------------------------------------------------------------------------------------
def xlsx(prepared: dict[str, Any]) -> dict[str, Any]:
    from scripts.bench.endpoints import Endpoint

    endpoint = next(Endpoint.from_json(e) for e in prepared["endpoints"] if e["key"] == "report_xlsx")
    client = _client(prepared, endpoint.persona)
    rss_before = proc_status_kb("VmRSS")
    hwm_before = proc_status_kb("VmHWM")
    with rolled_back():
        start = time.perf_counter()
        status_code, location, size = _request(client, endpoint, endpoint.paths[0])
        ms = (time.perf_counter() - start) * 1000
    return {
        "ms": round(ms, 1),
        "bytes": size,
        "problem": answer_problem(endpoint, status_code, location),
        "rss_before_kb": rss_before,
        "hwm_before_kb": hwm_before,
        "hwm_after_kb": proc_status_kb("VmHWM"),
        "ru_maxrss_kb": _ru_maxrss_kb(),
    }


def _ru_maxrss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- cleanup ----------------------------------------------------------------------------------------------
def cleanup(prepared: dict[str, Any], since: dt.datetime) -> dict[str, Any]:
    """Delete what the load test wrote: contacts with the benchmark's note by the link worker, and referrals
    the referrer sent since the run began (with their events and notices). Audit events stay: they are
    append-only, as they should be."""
    from django.db import transaction

    from clients.models import Contact
    from referrals.models import Referral, ReferralEvent
    from scripts.bench.endpoints import CONTACT_NOTE

    with transaction.atomic():
        contacts, _ = Contact.objects.filter(
            recorded_by=prepared["user_ids"]["link_worker"], notes=CONTACT_NOTE
        ).delete()
        referrals = Referral.objects.filter(referred_by=prepared["user_ids"]["referrer"], received_at__gte=since)
        ReferralEvent.objects.filter(referral__in=referrals).delete()
        deleted, _ = referrals.delete()
    return {"contacts": contacts, "referrals_and_notices": deleted}


def vacuum() -> dict[str, Any]:
    """VACUUM (ANALYZE) the whole database, so that a run starts from the state the seeding left. Left to
    autovacuum (which waits for a fifth of a table to be dead), the row versions of earlier runs stayed in the
    indexes: the load test's deleted contacts and referrals, the rolled-back requests and jobs (the retention job
    rewrites every record due), and anything measured by hand between runs. Session 15's first run found 34,852
    in referrals_referral, and every triage queue line read them (1063a89)."""
    conn = raw_connection()
    try:
        conn.autocommit = True  # VACUUM runs outside a transaction
        start = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        return {"vacuum_s": round(time.perf_counter() - start, 1)}
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["status", "vacuum", "prepare", "measure", "jobs", "xlsx", "cleanup"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--prepared", type=Path)
    parser.add_argument("--floor", action="store_true", help="measure: also replay the SQL and EXPLAIN the slowest")
    parser.add_argument("--since", help="cleanup: ISO time the load test began")
    args = parser.parse_args(argv)
    setup_django()
    prepared = json.loads(args.prepared.read_text()) if args.prepared else {}
    if args.command == "status":
        result = status()
    elif args.command == "vacuum":
        result = vacuum()
    elif args.command == "prepare":
        result = prepare()
    elif args.command == "measure":
        result = measure(prepared, floor=args.floor)
    elif args.command == "jobs":
        result = jobs()
    elif args.command == "xlsx":
        result = xlsx(prepared)
    else:
        result = cleanup(prepared, dt.datetime.fromisoformat(args.since))
    args.out.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
