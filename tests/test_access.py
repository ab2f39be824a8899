"""The access helpers: other services' records answer 404, read-only roles answer 403 on writes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from clients import selectors
from linkwork.accounts.access import access_for
from linkwork.accounts.models import Membership, Role
from tests import factories
from tests.conftest import World


def test_a_link_worker_reaches_a_client_and_case_of_their_own_service(world: World) -> None:
    case = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.colleague)
    assert selectors.client_for_user(world.link_worker, case.client_id, write=True) == case.client
    assert selectors.case_for_user(world.link_worker, case.pk, write=True) == case


@pytest.mark.parametrize("persona", ["other_link_worker", "referrer", "commissioner", "admin", "nobody"])
def test_outsiders_get_404_not_403_so_existence_is_not_leaked(world: World, persona: str) -> None:
    case = factories.ActiveCaseFactory(client__service=world.service)
    user = getattr(world, persona)
    with pytest.raises(Http404):
        selectors.client_for_user(user, case.client_id)
    with pytest.raises(Http404):
        selectors.case_for_user(user, case.pk)


def test_a_supervisor_may_read_but_not_write(world: World) -> None:
    case = factories.ActiveCaseFactory(client__service=world.service)
    assert selectors.case_for_user(world.supervisor, case.pk) == case
    with pytest.raises(PermissionDenied):
        selectors.case_for_user(world.supervisor, case.pk, write=True)
    with pytest.raises(PermissionDenied):
        selectors.client_for_user(world.supervisor, case.client_id, write=True)


def test_referrers_and_commissioners_reach_services_through_their_organisation(world: World) -> None:
    assert access_for(world.referrer).service_ids(Role.REFERRER) == {world.service.pk}
    assert access_for(world.commissioner).service_ids(Role.COMMISSIONER) == {world.service.pk}
    assert access_for(world.other_link_worker).service_ids(Role.LINK_WORKER) == {world.other_service.pk}


def test_a_deactivated_organisation_grants_nothing(world: World) -> None:
    world.service.is_active = False
    world.service.save()
    assert access_for(world.link_worker).roles == set()


def test_a_role_must_suit_the_kind_of_organisation(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="cannot belong"):
        Membership(user=world.nobody, organisation=world.practice, role=Role.LINK_WORKER).full_clean()


def test_access_is_loaded_once_per_request(world: World, django_assert_num_queries) -> None:
    # memberships with their organisations, then the organisations' linked services
    with django_assert_num_queries(2):
        access_for(world.referrer).service_ids(Role.REFERRER)
        access_for(world.referrer).roles


def test_service_staff_access_takes_one_query_and_linked_services_still_come_for_other_organisations(
    world: World, django_assert_num_queries
) -> None:
    """A link worker's organisation is the service: no second query for linked services (every page pays it).
    Someone who also belongs to a practice still gets that practice's linked services."""
    with django_assert_num_queries(1):
        assert access_for(world.link_worker).service_ids(Role.LINK_WORKER) == {world.service.pk}
    Membership.objects.create(user=world.supervisor, organisation=world.practice, role=Role.REFERRER)
    linked = {s.pk for s in world.practice.services.all()}
    assert linked
    with django_assert_num_queries(2):
        access = access_for(world.supervisor)
        assert access.service_ids(Role.SUPERVISOR) == {world.service.pk}
        assert access.service_ids(Role.REFERRER) == linked
