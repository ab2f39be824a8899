"""Indexes the pages depend on, checked against PostgreSQL's own plans: a query that stops being covered by its
index (a new column read, an index renamed) fails here, not months later on a slow dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from clients import selectors as client_selectors
from clients.models import Case
from outcomes import supervision_selectors as sv
from referrals import selectors as referral_selectors
from referrals.models import Referral
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _plan(queryset: QuerySet) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tables of a few rows are read whole; make PostgreSQL show which index it would use on a real service.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def cases_with_contacts(world: World) -> QuerySet[Case]:
    for attempted in (False, True):
        factories.ContactFactory(
            case__service=world.service,
            case__link_worker=world.link_worker,
            attempted_only=attempted,
            follow_up_on=timezone.localdate() + dt.timedelta(days=7),
        )
    return Case.objects.filter(service=world.service)


def test_the_dashboards_contact_figures_are_read_from_the_covering_index_alone(cases_with_contacts) -> None:
    plan = _plan(sv.with_case_figures(cases_with_contacts).values("pk", "counted", "last_contact"))
    assert "Index Only Scan using contact_case_cover_idx on clients_contact" in plan


def test_the_caseloads_contact_counts_are_read_from_the_covering_index_alone(cases_with_contacts) -> None:
    counted = client_selectors._with_counts(cases_with_contacts)
    plan = _plan(counted.values("pk", "contact_count", "last_contact_at", "next_follow_up"))
    assert "Index Only Scan using contact_case_cover_idx on clients_contact" in plan


def test_contacts_have_one_index_by_case_not_three() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'clients_contact' AND indexdef LIKE '%(case_id%'"
        )
        assert [row[0] for row in cursor.fetchall()] == ["contact_case_cover_idx"]


def test_the_oruk_feed_pages_and_counts_the_published_directory_by_its_partial_index(db) -> None:
    from community.oruk import selectors as oruk

    published = oruk.filter_services(oruk.published_services(), filters={})
    page = _plan(published[:50])
    assert "Index Scan using service_published_name_idx on community_communityservice" in page
    assert "Sort" not in page.split("Index Scan")[0]  # in the index's order: no sort of the whole directory
    count = _plan(published.values("pk")).replace("Index Only Scan", "Index Scan")
    assert "using service_published_name_idx" in count


def test_the_oruk_feed_does_not_fetch_the_search_vector() -> None:
    from community.oruk import selectors as oruk

    sql = str(oruk.filter_services(oruk.published_services(), filters={}).query)
    assert "search_vector" not in sql
    searched = str(oruk.filter_services(oruk.published_services(), filters={"search": "walking"}).query)
    assert '"search_vector" @@' in searched  # still searched and ranked in SQL


def test_the_triage_queues_duplicate_check_looks_up_the_persons_own_waiting_referrals(world: World) -> None:
    """Each line of the queue asks whether the same person is waiting twice: by NHS number, or by name and date of
    birth. Through the queue's own index it read the service's whole waiting list again for every line, and every
    row version that decisions had left for vacuum (25 ms for a queue of 15, scale 10)."""
    waiting = factories.NewReferralFactory.build_batch(300, service=world.service)
    Referral.objects.bulk_create(waiting)
    queue = referral_selectors.waiting_to([world.service])
    sql, params = queue.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE referrals_referral")  # a busy service's queue, as PostgreSQL's statistics see it
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    duplicate_check = plan.split("SubPlan 1")[1].split("SubPlan 2")[0]
    assert "Bitmap Index Scan on referral_new_nhs_idx" in duplicate_check
    assert "Bitmap Index Scan on referral_new_person_idx" in duplicate_check
    assert "referral_queue_idx" not in duplicate_check


def _autovacuum_after(table: str, kind: str, rows: int) -> float:
    """How many inserted (``kind="insert"``) or dead (``kind=""``) rows make autovacuum visit ``table`` once it
    holds ``rows`` rows: its threshold plus its scale factor times the rows, each the table's own setting where it
    has one, else the server's (PostgreSQL's formula, "The Autovacuum Daemon")."""
    prefix = f"autovacuum_vacuum_{kind}_" if kind else "autovacuum_vacuum_"
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [table])
        options = dict(option.split("=", 1) for option in cursor.fetchone()[0] or [])
        values = []
        for name in (prefix + "threshold", prefix + "scale_factor"):
            if name not in options:
                cursor.execute("SELECT current_setting(%s)", [name])
                options[name] = cursor.fetchone()[0]
            values.append(float(options[name]))
    threshold, scale_factor = values
    return threshold + scale_factor * rows


def test_autovacuum_keeps_new_contacts_readable_from_the_covering_index_alone() -> None:
    # The index-only scans above skip the table only for pages vacuum has marked all-visible. With PostgreSQL's
    # default, an ICB's 2.5 million contacts would wait for half a million new ones (about two years) first.
    for rows in (25_000, 2_500_000, 25_000_000):
        assert _autovacuum_after("clients_contact", "insert", rows) <= 2_000


def test_autovacuum_clears_triage_decisions_from_the_waiting_lists_indexes() -> None:
    # Each decision leaves a dead version that the triage queue reads until vacuum; the default waits for a fifth
    # of the table (54,000 decisions at ICB scale).
    for rows in (27_000, 270_000, 2_700_000):
        assert _autovacuum_after("referrals_referral", "", rows) <= 1_000
