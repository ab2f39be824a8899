"""Cached report figures (outcomes.freshness): served from the cache only while no data under them has changed.

The data-version triggers fire at commit in real use and at each statement inside a test's transaction
(tests/conftest.py); the transactional tests here check the commit behaviour itself."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Case, Contact
from outcomes import freshness, reports
from outcomes.models import DataVersion
from tests import factories
from tests.conftest import World, login

TODAY = timezone.localdate()


def _scope(service) -> reports.Scope:
    return reports.Scope(services=(service,), start=TODAY - dt.timedelta(days=90), end=TODAY)


def _figure(sections, key: str) -> list[list]:
    return next(t.rows for _, _, tables in sections for t in tables if t.key == key)


def _queries(fn) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as ctx:
        value = fn()
    return value, len(ctx.captured_queries)


def _referral(service, **kwargs):
    at = timezone.make_aware(dt.datetime.combine(TODAY - dt.timedelta(days=5), dt.time(10)))
    return factories.AcceptedReferralFactory(service=service, received_at=at, **kwargs)


def _version(service) -> int:
    return sum(DataVersion.objects.filter(scope=service.pk).values_list("version", flat=True))


def test_a_second_look_at_the_same_report_costs_one_query_and_shows_the_same_figures(world: World) -> None:
    _referral(world.service)
    first, heavy = _queries(lambda: reports.build(_scope(world.service)))
    again, light = _queries(lambda: reports.build(_scope(world.service)))
    assert heavy > 10  # built again (every section's statements), not read from the cache
    assert light == 1  # the data versions
    assert again == first


def test_a_new_referral_shows_at_once_and_other_services_keep_their_cached_figures(world: World) -> None:
    _referral(world.service)
    _referral(world.other_service)
    ours = reports.build(_scope(world.service))
    theirs = reports.build(_scope(world.other_service))
    referrals_before = _figure(ours, "referrals_by_source")

    _referral(world.service)

    ours_now, heavy = _queries(lambda: reports.build(_scope(world.service)))
    theirs_now, light = _queries(lambda: reports.build(_scope(world.other_service)))
    assert _figure(ours_now, "referrals_by_source") != referrals_before
    assert heavy > 10  # built again (every section's statements), not read from the cache
    assert (theirs_now, light) == (theirs, 1)


def test_a_contact_logged_on_a_case_changes_its_services_version(world: World) -> None:
    case = factories.ActiveCaseFactory(service=world.service)
    before, theirs = _version(world.service), _version(world.other_service)
    factories.ContactFactory(case=case, recorded_by=world.link_worker)
    assert _version(world.service) == before + 1
    assert _version(world.other_service) == theirs


def test_bulk_updates_that_bypass_django_signals_still_count(world: World) -> None:
    case = factories.ActiveCaseFactory(service=world.service)
    factories.ContactFactory(case=case, recorded_by=world.link_worker)
    before = _version(world.service)
    Contact.objects.filter(case=case).update(notes="Changed in bulk")
    assert _version(world.service) == before + 1
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clients_case SET status = 'paused' WHERE id = %s", [case.pk])
    assert _version(world.service) == before + 2


def test_a_change_to_the_shared_directory_refreshes_every_services_figures(world: World) -> None:
    reports.build(_scope(world.service))
    factories.CommunityServiceFactory()
    _, queries = _queries(lambda: reports.build(_scope(world.service)))
    assert queries > 10  # built again (every section's statements), not read from the cache


def test_a_new_day_or_new_code_makes_a_new_key(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    key = freshness.key_for("report", service_ids=[world.service.pk], parts=(1,), code=(reports,))
    assert freshness.key_for("report", service_ids=[world.service.pk], parts=(1,), code=(reports,)) == key
    assert freshness.key_for("report", service_ids=[world.service.pk], parts=(2,), code=(reports,)) != key
    assert freshness.key_for("report", service_ids=[world.service.pk], parts=(1,), code=(freshness,)) != key
    monkeypatch.setattr(timezone, "localdate", lambda: TODAY + dt.timedelta(days=1))
    assert freshness.key_for("report", service_ids=[world.service.pk], parts=(1,), code=(reports,)) != key


def test_the_report_page_shows_a_change_made_between_two_looks(client, world: World) -> None:
    login(client, world.manager)
    url = reverse("outcomes:reports")
    query = {"period": "last_12_months"}
    first = client.get(url, query)
    assert first.status_code == 200, first.content[:500]
    _referral(world.service, reasons=["housing"])
    second = client.get(url, query)
    assert second.status_code == 200
    assert first.content != second.content


def test_a_report_page_whose_html_is_cached_does_not_read_the_figures_again(
    client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's tables are cached as HTML: a second look serves them without loading the figures, which only
    downloads (and a first look) need. A change still shows (the test above)."""
    login(client, world.manager)
    url = reverse("outcomes:reports")
    _referral(world.service, reasons=["housing"])
    first = client.get(url, {"period": "last_12_months"})
    built = []
    real_build = reports.build
    monkeypatch.setattr(reports, "build", lambda *a, **k: built.append(1) or real_build(*a, **k))
    again = client.get(url, {"period": "last_12_months"})
    assert again.status_code == 200
    per_response = re.compile(rb'(nonce|name="csrfmiddlewaretoken" value)="[^"]*"')  # fresh in every response
    assert per_response.sub(b"", again.content) == per_response.sub(b"", first.content)
    assert b"Housing" in again.content
    assert built == []
    csv = client.get(url, {"period": "last_12_months", "format": "csv"})
    assert csv.status_code == 200 and built == [1]  # a download reads the (cached) figures


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_at_commit_a_transaction_bumps_its_service_once_and_a_rolled_back_one_not_at_all(world: World) -> None:
    case = factories.ActiveCaseFactory(service=world.service)
    before = _version(world.service)
    with transaction.atomic():
        for _ in range(3):
            factories.ContactFactory(case=case, recorded_by=world.link_worker)
        Case.objects.filter(pk=case.pk).update(status="paused")
        # Not yet: the version moves when the data becomes visible to others, at commit.
        assert _version(world.service) == before
    assert _version(world.service) == before + 1

    with pytest.raises(RuntimeError), transaction.atomic():
        factories.ContactFactory(case=case, recorded_by=world.link_worker)
        raise RuntimeError("rolled back")
    assert _version(world.service) == before + 1
