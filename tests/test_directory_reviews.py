"""The directory page names the entries due a quality review: never checked, or past their review date."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community.models import ServiceStatus
from linkwork.accounts.access import forget_kept_access
from tests import factories
from tests.conftest import World, login


def test_the_directory_lists_entries_due_a_review_and_counts_them(client, world: World) -> None:
    today = timezone.localdate()
    provider = factories.ProviderFactory(service=world.service)
    factories.CommunityServiceFactory(provider=provider, name="Checked last month")
    factories.CommunityServiceFactory(
        provider=provider, name="Checked 400 days ago", last_checked_on=today - dt.timedelta(days=400)
    )
    factories.CommunityServiceFactory(
        provider=provider,
        name="Monthly review, checked 40 days ago",
        review_every_days=30,
        last_checked_on=today - dt.timedelta(days=40),
    )
    factories.UncheckedServiceFactory(provider=provider, name="Never checked")
    factories.UncheckedServiceFactory(provider=provider, name="Closed down", status=ServiceStatus.DEFUNCT)
    factories.UncheckedServiceFactory(provider=factories.ProviderFactory(service=world.other_service), name="Theirs")

    login(client, world.link_worker)
    page = client.get(reverse("community:directory")).text
    callout = page.split('<div class="nhsuk-warning-callout">', 1)[1].split("</div>", 1)[0]
    assert "3 services due a quality review" in callout
    for name in ("Checked 400 days ago", "Monthly review, checked 40 days ago", "Never checked"):
        assert name in callout
    for name in ("Checked last month", "Closed down", "Theirs"):
        assert name not in callout


def test_the_review_list_costs_the_same_queries_however_big_the_directory(client, world: World) -> None:
    provider = factories.ProviderFactory(service=world.service)
    login(client, world.link_worker)

    def count() -> int:

        forget_kept_access()  # counted as a user's first request in a process
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("community:directory")).status_code == 200
        return len(ctx.captured_queries)

    factories.UncheckedServiceFactory(provider=provider)
    small = count()
    for _ in range(15):
        factories.UncheckedServiceFactory(provider=provider)
    assert count() == small
