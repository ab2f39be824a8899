"""The read replica: commissioner reports read from it when one is configured (DATABASE_REPLICA_URL) and from the
primary when not; nothing else reads from it, and nothing ever writes to it or migrates it.

In tests the ``replica`` alias is a test mirror of the primary (``TEST: {"MIRROR": "default"}``): a second
connection to the same database, so ``CaptureQueriesContext`` on each connection shows which one a query used.
A mirror sees only committed data, hence the transactional test where the figures themselves are compared."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connections, router
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Connection
from linkwork import db_router
from linkwork.accounts.models import Organisation
from linkwork.audit.models import Action, AuditEvent
from outcomes import reports
from referrals.models import Referral
from tests import factories
from tests.conftest import World, login

BOTH = ["default", "replica"]
TODAY = timezone.localdate()


@pytest.fixture
def replica(settings: Any) -> None:
    """As when DATABASE_REPLICA_URL is set."""
    settings.LINKWORK_READ_REPLICA = True


@pytest.fixture
def no_replica(settings: Any) -> None:
    settings.LINKWORK_READ_REPLICA = False


def _some_referrals(world: World) -> None:
    """Enough for every report query, the raw SQL ones included, to return rows."""
    received = timezone.now() - dt.timedelta(days=10)
    accepted = [
        factories.AcceptedReferralFactory(service=world.service, received_at=received, reasons=["loneliness", "money"])
        for _ in range(3)
    ]
    factories.DeclinedReferralFactory(service=world.service, received_at=received, reasons=["loneliness"])
    group = factories.CommunityServiceFactory(provider__service=world.service, categories=["arts"])
    Connection.objects.create(case=accepted[0].case, service=group, status="attending", created_by=world.link_worker)


def _build(world: World) -> list[tuple[str, list[list[Any]]]]:
    scope = reports.Scope(services=(world.service,), start=TODAY - dt.timedelta(days=60), end=TODAY)
    return [(t.key, t.rows) for _, _, tables in reports.build(scope) for t in tables]


def _sql(context: CaptureQueriesContext) -> str:
    return "\n".join(q["sql"] for q in context.captured_queries)


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=BOTH)
def test_with_a_replica_every_report_query_runs_there_and_the_figures_are_the_same(world: World, settings: Any) -> None:
    _some_referrals(world)
    settings.LINKWORK_READ_REPLICA = False
    with CaptureQueriesContext(connections["default"]) as alone:
        expected = _build(world)
    settings.LINKWORK_READ_REPLICA = True
    cache.clear()
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        figures = _build(world)
    assert figures == expected
    assert ("referrals_by_reason", [["Loneliness or isolation", 4], ["Money and debt", 3]]) in figures
    assert len(on_replica) == len(alone) > 10
    assert len(primary) == 0
    assert "unnest(reasons)" in _sql(on_replica)  # the raw SQL too, not just the ORM's queries


@pytest.mark.django_db(databases=BOTH)
def test_without_a_replica_reports_read_from_the_primary(world: World, no_replica: None) -> None:
    _some_referrals(world)
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        figures = _build(world)
    assert ("referrals_by_reason", [["Loneliness or isolation", 4], ["Money and debt", 3]]) in figures
    assert len(primary) > 10
    assert "unnest(reasons)" in _sql(primary)
    assert len(on_replica) == 0


@pytest.mark.django_db(databases=BOTH)
def test_the_report_page_and_its_download_read_from_the_replica(client, world: World, replica: None) -> None:
    """The commissioner's page: the figures from the replica; signing in, the session and the audit event on
    the primary."""
    login(client, world.commissioner)
    for query in ({"period": "last_12_months"}, {"period": "last_12_months", "format": "xlsx"}):
        cache.clear()  # the second would otherwise come from the cache of the first (outcomes.freshness)
        with (
            CaptureQueriesContext(connections["default"]) as primary,
            CaptureQueriesContext(connections["replica"]) as on_replica,
        ):
            response = client.get(reverse("outcomes:reports"), query)
            assert response.status_code == 200
            if query.get("format"):
                b"".join(response.streaming_content)
        assert "unnest(reasons)" in _sql(on_replica)
        assert "unnest(reasons)" not in _sql(primary)
        # The data versions that key the cache are read where the figures are, so they match them.
        assert "outcomes_dataversion" in _sql(on_replica)
        assert "outcomes_dataversion" not in _sql(primary)
        assert not any(q["sql"].startswith(("INSERT", "UPDATE", "DELETE")) for q in on_replica.captured_queries)
    assert AuditEvent.objects.filter(action=Action.EXPORT, actor=world.commissioner).count() == 1


@pytest.mark.django_db(databases=BOTH)
def test_only_code_that_asks_reads_from_the_replica_and_writes_never_go_there(world: World, replica: None) -> None:
    assert router.db_for_read(Referral) == "default"
    with db_router.replica_reads() as alias:
        assert alias == "replica"
        assert router.db_for_read(Referral) == "replica"
        assert router.db_for_write(Referral) == "default"
        with (
            CaptureQueriesContext(connections["default"]) as primary,
            CaptureQueriesContext(connections["replica"]) as on_replica,
        ):
            factories.ServiceFactory(name="Written inside replica_reads")
        assert any(q["sql"].startswith("INSERT") for q in primary.captured_queries)
        assert len(on_replica) == 0
    assert router.db_for_read(Referral) == "default"
    assert db_router.read_alias() == "default"
    assert Organisation.objects.filter(name="Written inside replica_reads").exists()


def test_without_a_replica_asking_for_it_reads_from_the_primary(no_replica: None) -> None:
    with db_router.replica_reads() as alias:
        assert alias == "default"
        assert router.db_for_read(Referral) == "default"
        assert db_router.read_connection() is connections["default"]


def test_migrations_run_on_the_primary_only() -> None:
    assert router.allow_migrate("default", "clients")
    assert not router.allow_migrate("replica", "clients")
    assert not router.allow_migrate("replica", "auth", model_name="user")


@pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=BOTH)
def test_no_connection_is_left_open_to_stop_the_test_database_being_dropped() -> None:
    """The replica mirror's connection, and a connection wrapper no longer in ``connections``, are closed before
    the test run drops its database (tests/conftest.py): left open, DROP DATABASE failed and the database stayed."""
    import time

    from tests.conftest import close_connections_to_the_test_databases

    replica = connections["replica"]
    replica.ensure_connection()
    stale = connections["default"].copy()
    stale.ensure_connection()
    pids = [replica.connection.info.backend_pid, stale.connection.info.backend_pid]

    close_connections_to_the_test_databases()

    deadline, still_open = time.monotonic() + 10, pids
    while still_open and time.monotonic() < deadline:
        with connections["default"]._nodb_cursor() as cursor:  # the server's "postgres" database, as the drop does
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
            still_open = [row[0] for row in cursor.fetchall()]
        time.sleep(0.05)
    assert still_open == []
