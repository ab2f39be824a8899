"""What a process keeps of a user's access (linkwork.accounts.access) and PostgreSQL's access_version behind it
(migration accounts 0005): kept between requests, and never kept past a change to a membership, an organisation
or a link between organisations."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from linkwork.accounts import access
from linkwork.accounts.access import access_for
from linkwork.accounts.models import Membership, Role, User
from tests.conftest import World, login

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a new request loads them (with the access_version committed now)."""
    return User.objects.get(pk=user.pk)


def membership_reads(queries: list[dict]) -> int:
    """The statements reading a user's memberships (access_for's, with their organisations)."""
    return sum(q["sql"].startswith('SELECT "accounts_membership"."id"') for q in queries)


def test_the_second_request_reads_no_memberships(client, world: World) -> None:
    login(client, world.link_worker)
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("clients:caseload"))
    assert membership_reads(first.captured_queries) == 1
    with CaptureQueriesContext(connection) as second:
        assert client.get(reverse("clients:caseload")).status_code == 200
    assert membership_reads(second.captured_queries) == 0


def test_a_membership_added_is_seen_by_the_next_request(client, world: World) -> None:
    login(client, world.referrer)
    assert client.get(reverse("clients:caseload")).status_code == 403
    Membership.objects.create(user=world.referrer, organisation=world.service, role=Role.LINK_WORKER)
    assert client.get(reverse("clients:caseload")).status_code == 200


def test_a_membership_removed_is_seen_by_the_next_request(client, world: World) -> None:
    login(client, world.link_worker)
    assert client.get(reverse("clients:caseload")).status_code == 200
    Membership.objects.filter(user=world.link_worker).delete()
    assert client.get(reverse("clients:caseload")).status_code == 403


def test_a_role_changed_is_seen_by_the_next_request(client, world: World) -> None:
    login(client, world.link_worker)
    assert client.get(reverse("clients:caseload")).status_code == 200
    Membership.objects.filter(user=world.link_worker).update(role=Role.REFERRER)
    assert client.get(reverse("clients:caseload")).status_code == 403


def test_an_organisation_deactivated_takes_its_members_access_away(client, world: World) -> None:
    login(client, world.link_worker)
    assert client.get(reverse("clients:caseload")).status_code == 200
    world.service.is_active = False
    world.service.save()
    assert client.get(reverse("clients:caseload")).status_code == 403


def test_an_organisation_changed_is_seen_by_its_members_and_by_those_linked_to_it(world: World) -> None:
    before = {u.pk: access_for(fresh(u)) for u in (world.link_worker, world.referrer, world.other_link_worker)}
    world.service.name = "Riverside Connect"
    world.service.save()
    link_worker, referrer, outsider = (fresh(u) for u in (world.link_worker, world.referrer, world.other_link_worker))
    assert [s.name for s in access_for(link_worker).services(Role.LINK_WORKER)] == ["Riverside Connect"]
    assert [s.name for s in access_for(referrer).services(Role.REFERRER)] == ["Riverside Connect"]
    assert access_for(outsider) is before[world.other_link_worker.pk]  # another service: still kept


def test_a_practice_unlinked_from_a_service_no_longer_reaches_it(world: World) -> None:
    assert access_for(fresh(world.referrer)).service_ids(Role.REFERRER) == {world.service.pk}
    world.practice.services.remove(world.service)
    assert access_for(fresh(world.referrer)).service_ids(Role.REFERRER) == set()
    world.practice.services.add(world.other_service)
    assert access_for(fresh(world.referrer)).service_ids(Role.REFERRER) == {world.other_service.pk}


def test_a_user_saved_from_before_a_change_does_not_put_the_old_version_back(world: World) -> None:
    stale = fresh(world.referrer)
    Membership.objects.create(user=world.referrer, organisation=world.service, role=Role.LINK_WORKER)
    changed = fresh(world.referrer).access_version
    assert changed > stale.access_version
    stale.full_name = "Renamed"
    stale.save()
    assert fresh(world.referrer).access_version == changed
    assert access_for(fresh(world.referrer)).has(Role.LINK_WORKER)


def test_nothing_seen_in_a_rolled_back_transaction_is_kept(world: World) -> None:
    before = fresh(world.referrer).access_version

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        Membership.objects.create(user=world.referrer, organisation=world.service, role=Role.LINK_WORKER)
        assert access_for(fresh(world.referrer)).has(Role.LINK_WORKER)  # kept under the version it took
        raise Undo
    after = fresh(world.referrer)
    assert after.access_version == before
    assert not access_for(after).has(Role.LINK_WORKER)
    # A later change takes a new version, never the rolled-back one: what was kept under that is never found.
    Membership.objects.create(user=world.referrer, organisation=world.agency, role=Role.REFERRER)
    assert not access_for(fresh(world.referrer)).has(Role.LINK_WORKER)


def test_a_superuser_flag_changed_is_seen_at_once(world: World) -> None:
    access_for(fresh(world.nobody))
    User.objects.filter(pk=world.nobody.pk).update(is_superuser=True)
    assert access_for(fresh(world.nobody)).has(Role.SITE_ADMIN)


def test_the_process_keeps_a_bounded_number(world: World, monkeypatch) -> None:
    monkeypatch.setattr(access, "ACCESS_KEPT", 2)
    access._kept.clear()
    for user in (world.link_worker, world.colleague, world.supervisor):
        access_for(fresh(user))
    assert len(access._kept) <= 2
