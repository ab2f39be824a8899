"""The benchmark harness's own pieces (``make bench`` itself is not run here: no wrk, no gunicorn): reading wrk's
output, judging budgets, the Markdown and README it writes, the SQL recorder and floor, and the signed-in sessions
it gives the load generator."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from importlib import import_module

import pytest
from django.conf import settings
from django.core.signals import request_started
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from psycopg.pq import TransactionStatus

from clients.models import Contact
from linkwork.accounts.models import User
from referrals.models import Referral
from scripts.bench import django_side, endpoints, report, sessions, wrk
from scripts.bench.endpoints import Endpoint
from tests import factories
from tests.conftest import World

WRK_OUTPUT = """Running 20s test @ http://127.0.0.1:8123/caseload/
  2 threads and 8 connections
BENCH_JSON {"requests": 1200, "duration_s": 20.010, "requests_per_s": 59.97, "p50_ms": 101.50, "p95_ms": 140.20, \
"p99_ms": 180.00, "mean_ms": 110.00, "max_ms": 250.00, "errors": {"connect": 0, "read": 0, "write": 0, \
"timeout": 0, "status": 0}}
"""


def page_row(**overrides) -> dict:
    row = {
        "key": "case",
        "title": "Case timeline",
        "budget_ms": 150.0,
        "download": False,
        "p50_ms": 60.0,
        "p95_ms": 120.0,
        "p99_ms": 140.0,
        "requests_per_s": 80.0,
        "p95_1conn_ms": 30.0,
        "queries_small": 8,
        "queries_large": 8,
        "queries_warm_small": 8,
        "queries_warm_large": 8,
        "floor_ms": 10.0,
        "ratio": 6.0,
        "serial_ms": 25.0,
        "cold_ms": 31.0,
        "ratio_1user": 2.5,
        "python_calls": 12345,
        "failed": False,
        "problem": "",
    }
    row.update(overrides)
    return row


# --- wrk ---------------------------------------------------------------------------------------------------------
def test_it_reads_the_percentiles_and_errors_wrk_prints() -> None:
    result = wrk.parse(WRK_OUTPUT)
    assert (result.p50_ms, result.p95_ms, result.p99_ms, result.requests_per_s) == (101.5, 140.2, 180.0, 59.97)
    assert result.error_count == 0
    assert not result.failed


def test_a_run_with_any_error_or_non_2xx_3xx_answer_has_failed() -> None:
    result = wrk.parse(WRK_OUTPUT.replace('"status": 0', '"status": 3'))
    assert result.error_count == 3
    assert result.failed
    assert result.to_json()["failed"] is True


def test_no_result_line_is_an_error_not_a_zero() -> None:
    with pytest.raises(wrk.WrkFailed):
        wrk.parse("unable to connect to 127.0.0.1:8123 Connection refused\n")


def test_posts_carry_the_session_the_csrf_token_and_the_form_type() -> None:
    lines = wrk.headers(cookies={"__Host-sessionid": "abc", "__Host-csrftoken": "tok"}, csrf_token="tok", post=True)
    assert lines == [
        "Cookie: __Host-sessionid=abc; __Host-csrftoken=tok",
        "X-CSRFToken: tok",
        "Content-Type: application/x-www-form-urlencoded",
    ]


# --- Budgets and what is written ----------------------------------------------------------------------------
def test_a_page_within_every_budget_is_met() -> None:
    assert report.page_misses(page_row()) == []


@pytest.mark.parametrize(
    ("overrides", "miss"),
    [
        ({"p95_ms": 151.0}, "p95 151 ms ≥ 150 ms"),
        ({"queries_warm_large": 12, "queries_warm_small": 12}, "12 queries ≥ 10"),
        ({"queries_warm_small": 6}, "queries grow (6 → 8)"),
        ({"queries_small": 6}, "cold queries grow (6 → 8)"),
        ({"ratio_1user": 3.5}, "1 user 3.5× the SQL floor > 3×"),
        ({"failed": True, "problem": "answered 302, expected 200"}, "run failed: answered 302, expected 200"),
    ],
)
def test_each_missed_budget_is_named(overrides: dict, miss: str) -> None:
    assert miss in report.page_misses(page_row(**overrides))


def test_queries_are_judged_warm_as_the_times_are_and_the_cold_count_is_shown_beside_them() -> None:
    """A cached page makes its aggregates only when its cache is empty: 9 statements warm and 15 cold meets the
    query budget, and both counts are in the table; a result without a warm count is judged on the cold one."""
    cached = page_row(title="Supervisor dashboard", queries_warm_small=9, queries_warm_large=9, queries_small=15)
    cached["queries_large"] = 15
    assert report.page_misses(cached) == []
    assert "| 9 / 9 | 15 / 15 |" in report.pages_table([cached])
    older = {k: v for k, v in cached.items() if not k.startswith("queries_warm")}
    assert report.page_misses(older) == ["15 queries ≥ 10"]
    assert "| – / – | 15 / 15 |" in report.pages_table([older])


def test_the_reference_page_is_shown_but_never_judged_unless_its_run_fails() -> None:
    """The signed-in page with no data of its own is a yardstick for the others: over every budget, it is still
    not a miss; a failed run of it is."""
    slow = page_row(key="signed_in_empty", reference=True, p95_ms=400.0, queries_warm_large=12, ratio_1user=3.4)
    assert report.page_misses(slow) == []
    assert "| reference, not judged |" in report.pages_table([slow])
    failed = {**slow, "failed": True, "problem": "answered 302, expected 200"}
    assert report.page_misses(failed) == ["run failed: answered 302, expected 200"]
    assert "**no**: run failed" in report.pages_table([failed])


def test_the_benchmark_measures_the_reference_page_signed_in_and_judges_the_issues_pages() -> None:
    picked = endpoints.Picked("c", "k", ("o",), "r:s", "B1 1PJ", "group", ("peer_support",))
    built = endpoints.build(
        picked, reverse=lambda name, args=(): "/" + "/".join([name, *map(str, args)]) + "/", today=dt.date(2026, 12, 7)
    )
    references = [e for e in built if e.reference]
    assert [(e.key, e.persona, e.paths) for e in references] == [("signed_in_empty", "link_worker", ("/privacy/",))]
    assert all(not e.reference for e in built if e.key != "signed_in_empty")


def test_the_directory_search_has_its_own_budget() -> None:
    assert report.page_misses(page_row(p95_ms=60.0, budget_ms=50.0)) == ["p95 60 ms ≥ 50 ms"]


def test_the_reminder_scan_must_take_under_five_seconds() -> None:
    job = {"key": "reminder_scan", "title": "Reminder scan", "ms": 5200.0, "floor_ms": 4000.0, "ratio": 1.3}
    assert report.job_misses(job) == ["5.2 s ≥ 5 s"]


def test_the_table_has_a_row_per_page_saying_whether_it_met_its_budget() -> None:
    table = report.pages_table([page_row(), page_row(title="Triage queue", p95_ms=300.0)])
    lines = table.splitlines()
    assert lines[0].startswith(
        "| Page | p50 ms | p95 ms | p99 ms | req/s | 1 user p95 ms (HTTP) | queries small / large "
        "| cold queries small / large | floor ms |"
    )
    assert lines[2] == (
        "| Case timeline | 60.0 | 120 | 140 | 80.0 | 30.0 | 8 / 8 | 8 / 8 | 10.0 | 6.0× | 25.0 | 31.0 | 2.5× "
        "| 12,345 | yes |"
    )
    assert lines[3].startswith("| Triage queue |")
    assert lines[3].endswith("| **no**: p95 300 ms ≥ 150 ms |")


README = "# Linkwork\n\n## Deploying\n\nText.\n\n## Backups\n\nNightly.\n"


def test_the_readme_gets_a_performance_section_before_backups_then_only_that_section_changes() -> None:
    first = report.update_readme(README, "table one")
    assert first.index("## Performance") < first.index("## Backups")
    assert "<!-- bench:start -->\ntable one\n<!-- bench:end -->" in first
    second = report.update_readme(first, "table two")
    assert "table one" not in second
    assert second.count("## Performance") == 1
    assert second.replace("table two", "table one") == first


# --- The in-process half ------------------------------------------------------------------------------------
def test_an_answer_must_be_the_expected_one_not_any_redirect() -> None:
    post = Endpoint(
        "contact_post",
        "Log a contact",
        "link_worker",
        ("/x/",),
        method="POST",
        expect=302,
        expect_location="/caseload/",
    )
    assert django_side.answer_problem(post, 302, "/caseload/cases/1/") == ""
    assert "expected /caseload/" in django_side.answer_problem(post, 302, "/accounts/login/?next=/x/")
    assert "answered 400" in django_side.answer_problem(post, 400, "")
    assert Endpoint.from_json(post.to_json()) == post


# serialized_rollback like every other transactional test: a flush without it recreates the content types with new
# ids, and the next serialized test on the same worker then fails restoring the originals (duplicate key).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_floor_replays_a_pages_own_transaction_but_the_query_count_leaves_it_out() -> None:
    """The benchmark's own transaction begins before the recorder is set, so it is never recorded; a page's
    ``transaction.atomic`` inside it is a savepoint, standing for the BEGIN and COMMIT it makes in production.
    Those round trips are the page's SQL too: replayed in the floor, not counted as queries of data."""
    recorder = django_side.Recorder()
    with transaction.atomic(), connection.execute_wrapper(recorder):
        User.objects.filter(email="nobody@example.com").count()
        with transaction.atomic():
            list(User.objects.filter(is_active=True)[:5])
    statements = [q.sql.split()[0].upper() for q in recorder.queries]
    assert statements == ["SELECT", "SAVEPOINT", "SELECT", "RELEASE"]
    assert [q.sql.split()[0] for q in recorder.data_queries] == ["SELECT", "SELECT"]
    played = django_side.replay(recorder.queries)
    assert played.errors == 0
    assert played.floor_ms > 0
    assert len(played.per_query_ms) == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_statement_in_the_floor_is_timed_with_the_opening_of_its_transaction(monkeypatch) -> None:
    """A page is timed inside a transaction already open, so its floor must be too: psycopg, left to begin one
    before a pass's first statement, sent the BEGIN inside that statement's time (a round trip more floor)."""
    recorder = django_side.Recorder()
    with transaction.atomic(), connection.execute_wrapper(recorder):
        User.objects.filter(email="nobody@example.com").count()
        list(User.objects.filter(is_active=True)[:5])
    queries = [*recorder.queries, django_side.Query("SELECT 1 / 0", None, False, 0.0), recorder.queries[0]]
    with django_side.Replayer(queries) as replayer:
        at_the_clock = []
        clock = time.perf_counter
        monkeypatch.setattr(
            time, "perf_counter", lambda: (at_the_clock.append(replayer.conn.info.transaction_status), clock())[1]
        )
        replayer.run()
        replayer.run()
        monkeypatch.undo()
        assert len(at_the_clock) == 2 * 2 * len(queries)  # each statement's start and end, in both passes
        assert TransactionStatus.IDLE not in at_the_clock
        # The failed statement costs its pass a transaction, not the statements after it; each pass rolls back.
        assert (replayer.errors, replayer.passes) == (1, 2)
        assert all(ms < float("inf") for ms in replayer.best)
        assert replayer.conn.info.transaction_status == TransactionStatus.IDLE


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cleanup_deletes_what_the_load_test_wrote_and_nothing_else(world: World) -> None:
    began = timezone.now()
    case = factories.ActiveCaseFactory(service=world.service, link_worker=world.link_worker)
    written = factories.ContactFactory(case=case, notes=endpoints.CONTACT_NOTE)
    kept = factories.ContactFactory(case=case, notes="A real contact")
    factories.NewReferralFactory(service=world.service, referred_by=world.referrer)
    earlier = factories.NewReferralFactory(
        service=world.service, referred_by=world.referrer, received_at=began - dt.timedelta(days=1)
    )
    prepared = {"user_ids": {"link_worker": str(world.link_worker.pk), "referrer": str(world.referrer.pk)}}
    cleaned = django_side.cleanup(prepared, began - dt.timedelta(seconds=1))
    assert (cleaned["contacts"], cleaned["referrals_and_notices"]) == (1, 1)
    assert not Contact.objects.filter(pk=written.pk).exists() and Contact.objects.filter(pk=kept.pk).exists()
    assert list(Referral.objects.values_list("pk", flat=True)) == [earlier.pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_run_starts_with_the_database_vacuumed() -> None:
    """Left to autovacuum, earlier runs' dead row versions stayed in the indexes: the triage queue's SQL took
    19.4 ms instead of 3.2 (session 15)."""
    began = timezone.now()
    assert django_side.vacuum()["vacuum_s"] >= 0
    tables = ["clients_contact", "referrals_referral", "referrals_referralevent", "clients_case"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) AND last_vacuum >= %s "
            "AND last_analyze >= %s",
            [tables, began, began],
        )
        assert sorted(row[0] for row in cursor.fetchall()) == sorted(tables)


@dataclass
class InTurn:
    client: HttpClient
    endpoint: Endpoint
    queries: list[django_side.Query]  # the page's SQL, recorded
    done: list[str]  # in order: "page" for a timed request, "floor" for a replay of its SQL


@pytest.fixture
def caseload_in_turn(world: World, settings, monkeypatch) -> InTurn:
    client = django_side._client(prepared_for(settings, link_worker=world.link_worker), "link_worker")
    endpoint = Endpoint("caseload", "Caseload", "link_worker", (reverse("clients:caseload"),))
    recorder = django_side.Recorder()
    with django_side.rolled_back(), connection.execute_wrapper(recorder):
        django_side._request(client, endpoint, endpoint.paths[0])
    done: list[str] = []
    request, run = django_side._request, django_side.Replayer.run
    monkeypatch.setattr(django_side, "_request", lambda *args: (done.append("page"), request(*args))[1])
    monkeypatch.setattr(django_side.Replayer, "run", lambda self: (done.append("floor"), run(self))[1])
    return InTurn(client, endpoint, recorder.queries, done)


# Transactional, as the floor test above: the replays are made on a connection of their own.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_page_and_its_floor_are_timed_in_turn_so_the_machines_drift_falls_on_both(
    caseload_in_turn: InTurn,
) -> None:
    """Timed apart (15 requests, then 3 replays), the ratio of the same code moved by up to 0.7x between runs."""
    t = caseload_in_turn
    timings, played = django_side.timed_with_floor(t.client, t.endpoint, t.endpoint.paths[0], t.queries, runs=6)
    assert t.done == ["page", "floor"] * 6
    assert len(timings) == 6 and all(ms > 0 for ms in timings)
    assert (played.passes, played.errors, len(played.per_query_ms)) == (6, 0, len(t.queries))
    # The floor is the fastest pass, which takes at least each statement's own fastest time.
    assert played.floor_ms >= sum(played.per_query_ms) - 0.01 > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_floor_that_takes_long_is_replayed_three_times_then_the_page_alone(
    caseload_in_turn: InTurn, monkeypatch
) -> None:
    t = caseload_in_turn
    monkeypatch.setattr(django_side, "FLOOR_REPLAY_BUDGET_MS", 0)
    timings, played = django_side.timed_with_floor(t.client, t.endpoint, t.endpoint.paths[0], t.queries, runs=5)
    assert t.done == ["page", "floor"] * 3 + ["page"] * 2
    assert (len(timings), played.passes) == (5, 3)
    # Without a floor to take (the small scale's queries are only counted), the requests alone.
    t.done.clear()
    timings, played = django_side.timed_with_floor(t.client, t.endpoint, t.endpoint.paths[0], None, runs=2)
    assert (t.done, len(timings), played) == (["page", "page"], 2, None)
    # A download is not timed here (make bench times it to its last byte over HTTP): its floor is still taken.
    t.done.clear()
    download = Endpoint("caseload", "Caseload", "link_worker", t.endpoint.paths, download=True)
    timings, played = django_side.timed_with_floor(t.client, download, t.endpoint.paths[0], t.queries, runs=5)
    assert (t.done, timings, played.passes) == (["floor"] * 3, [], 3)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_short_job_is_timed_as_the_median_of_five_runs_each_rolled_back() -> None:
    """One run of a sub-second job moved by a third between runs on a shared VM; pages already take a median."""
    made = []

    def job() -> int:
        made.append(User.objects.create(email=f"job{len(made)}@example.com"))
        return 1

    timed = django_side.time_job("job", "A job", job)
    assert len(timed["runs_ms"]) == django_side.JOB_RUNS == 5
    assert timed["ms"] == sorted(timed["runs_ms"])[2]
    assert timed["query_count"] == 1  # queries are counted on the first run only
    assert len(made) == 5 and not User.objects.filter(email__startswith="job").exists()  # every run rolled back


def test_a_benchmark_session_is_signed_in_and_two_factor_verified(world: World) -> None:
    key = sessions.signed_in_session(world.link_worker)
    client = HttpClient()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    response = client.get(reverse("clients:caseload"))
    assert response.status_code == 200
    assert response.wsgi_request.user == world.link_worker
    assert response.wsgi_request.user.is_verified()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_request_measured_in_process_keeps_its_database_connection(world: World) -> None:
    """As under gunicorn, where connections persist (CONN_MAX_AGE): closing the response a second time fired
    request_finished inside the measuring transaction, which dropped the connection, so every timed request
    also timed a reconnection."""
    client = HttpClient()
    client.cookies[settings.SESSION_COOKIE_NAME] = sessions.signed_in_session(world.link_worker)
    endpoint = Endpoint("caseload", "Caseload", "link_worker", (reverse("clients:caseload"),))
    with django_side.rolled_back():  # as the benchmark measures each request
        connection.ensure_connection()
        before = connection.connection
        status, _, size = django_side._request(client, endpoint, endpoint.paths[0])
        closed = before.closed
    assert (status, size > 1000) == (200, True)
    assert not closed


def test_a_post_measured_in_process_is_form_encoded_as_browsers_and_wrk_send_it(world: World) -> None:
    """The test client posts multipart unless told otherwise; wrk and browsers post these forms form-encoded,
    and a list (the referral's reasons) must arrive whole."""
    from referrals.models import Referral
    from scripts.bench import endpoints

    client = HttpClient()
    client.cookies[settings.SESSION_COOKIE_NAME] = sessions.signed_in_session(world.referrer)
    route = f"{world.practice.pk}:{world.service.pk}"
    post = Endpoint(
        "referral_post", "Referral (POST)", "referrer", (reverse("referrals:new"),), method="POST", expect=302,
        form=endpoints.referral_form(route),
    )  # fmt: skip
    content_types = []

    def sent(environ: dict, **kwargs: object) -> None:
        content_types.append(environ.get("CONTENT_TYPE"))

    request_started.connect(sent)
    try:
        status, location, _ = django_side._request(client, post, post.paths[0])
    finally:
        request_started.disconnect(sent)
    referral = Referral.objects.get()
    assert (status, location) == (302, reverse("referrals:sent", args=[referral.pk]))
    assert sorted(referral.reasons) == ["bereavement", "loneliness"]
    assert content_types == ["application/x-www-form-urlencoded"]
    # The "Referral sent" message is consumed on the page the POST redirects to, not piled up for the next POST.
    assert "messages" not in client.cookies


@pytest.mark.django_db
def test_the_sql_shown_has_its_parameters_quoted_as_postgresql_reads_them() -> None:
    """The EXPLAIN file's statements, for people to read, quoted on Django's own connection (the raw connection
    kept for it was left open, so the test database could not be dropped)."""
    query = django_side.Query("SELECT %s, %s, %s", ["O'Brien", 3, None], many=False, ms=0.1)
    assert django_side.readable(query) == "SELECT 'O''Brien', 3, NULL"
    assert django_side.readable(django_side.Query("INSERT %s", [[1], [2]], many=True, ms=0.1)) == "INSERT %s"


def prepared_for(settings, **personas) -> dict:
    """What ``django_side prepare`` hands the in-process measurements: a signed-in session per persona."""
    # As make bench serves (it always has Redis); a bare `make test`, with no REDIS_URL, keeps sessions in the
    # database alone, where every request reads them.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    return {
        "sessions": {persona: sessions.signed_in_session(user) for persona, user in personas.items()},
        "csrf": sessions.csrf_secret(),
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }


def test_the_cold_request_counts_the_pages_queries_not_a_session_read(world: World, settings) -> None:
    """The cold request empties the cache, so that cached pages do their real work; the session of someone
    signed in stays in the cache in life (cached_db), so it must not be counted as read from PostgreSQL."""
    prepared = prepared_for(settings, link_worker=world.link_worker)
    endpoint = Endpoint("caseload", "Caseload", "link_worker", (reverse("clients:caseload"),))
    measured = django_side.measure_endpoint(prepared, endpoint, floor=False)
    assert measured["status"] == 200 and not measured["problem"]
    sql = [q["sql"] for q in measured["queries"]]
    assert sql and not any("django_session" in q for q in sql)
    assert any('FROM "clients_case"' in q for q in sql)
    # The Python calls per request, which do not drift with the machine: a page's work, the same each time.
    assert measured["python_calls"] > 1000
    signed_in = django_side._client(prepared, "link_worker")
    first, second = (django_side.python_calls(signed_in, endpoint, endpoint.paths[0]) for _ in range(2))
    assert abs(first - second) <= first * 0.02


def test_a_cached_page_is_counted_cold_and_again_warm(world: World, settings) -> None:
    """The supervisor's dashboard works out its figures on the cold request and reads them from the cache on the
    warm one: the warm count leaves out exactly the aggregates the cache holds."""
    prepared = prepared_for(settings, supervisor=world.supervisor)
    endpoint = Endpoint("dashboard", "Supervisor dashboard", "supervisor", (reverse("outcomes:dashboard"),))
    measured = django_side.measure_endpoint(prepared, endpoint, floor=False)
    assert measured["status"] == 200 and not measured["problem"]
    cold_sql = [q["sql"] for q in measured["queries"]]
    assert any("GROUPING SETS" in q for q in cold_sql)  # the referral figures, worked out
    aggregates = 6  # cases by worker, visits, open and new cases, contacts, practices, referral figures
    assert measured["query_count_warm"] == measured["query_count"] - aggregates


def test_the_session_points_at_a_confirmed_device_of_that_user(world: World) -> None:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    key = sessions.signed_in_session(world.supervisor)
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    device = Device.from_persistent_id(session[DEVICE_ID_SESSION_KEY])
    assert device.user == world.supervisor
    assert device.confirmed
    # A second session reuses the device rather than piling up authenticators.
    sessions.signed_in_session(world.supervisor)
    assert world.supervisor.totpdevice_set.count() == 1


def test_the_benchmark_serves_with_the_deployed_gunicorn_settings() -> None:
    """make bench measures what is deployed (gunicorn.conf.py): sync workers, WEB_CONCURRENCY of them if set.
    Options only for comparisons: --workers, and --threads above 1 for gthread."""
    import os

    from scripts.bench import run

    env = {k: v for k, v in os.environ.items() if k != "WEB_CONCURRENCY"}
    cpus = len(os.sched_getaffinity(0))
    assert run.gunicorn_settings(env, None, None) == {"worker_class": "sync", "workers": 2 * cpus, "threads": 1}
    assert run.gunicorn_settings({**env, "WEB_CONCURRENCY": "3"}, None, None)["workers"] == 3
    assert run.gunicorn_settings(env, 4, 2) == {"worker_class": "gthread", "workers": 4, "threads": 2}
    before = dict(os.environ)
    run.gunicorn_settings({"WEB_CONCURRENCY": "9"}, None, None)
    assert dict(os.environ) == before  # this process's environment is left as it was
