"""linkwork.compiled: a values() queryset's SQL kept a process under a key; its rows read afresh every time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, connections
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Case
from linkwork import compiled
from tests import factories
from tests.conftest import World


@pytest.fixture(autouse=True)
def _fresh():
    compiled.forget()
    yield
    compiled.forget()


def _counts(service_id):
    return (
        Case.objects.filter(service=service_id)
        .annotate(counted=Count("contacts", filter=Q(contacts__attempted_only=False)))
        .order_by("client__family_name", "pk")
        .values("pk", "status", "window_end", "counted", "client__family_name")
    )


def test_the_rows_are_the_orms_own_and_are_read_afresh(world: World) -> None:
    first = factories.ActiveCaseFactory(
        client__service=world.service, client__family_name="Adams", link_worker=world.link_worker
    )
    factories.ActiveCaseFactory(client__service=world.service, client__family_name="Brown")
    built = []

    def build():
        built.append(1)
        return _counts(world.service.pk)

    key = ("test", world.service.pk)
    assert compiled.values(key, build) == list(_counts(world.service.pk))
    assert isinstance(compiled.values(key, build)[0]["window_end"], dt.date)  # the ORM's types, not text
    factories.ContactFactory(case=first)
    factories.ActiveCaseFactory(client__service=world.service, client__family_name="Clark")
    rows = compiled.values(key, build)
    assert [(r["client__family_name"], r["counted"]) for r in rows] == [("Adams", 1), ("Brown", 0), ("Clark", 0)]
    assert built == [1]  # built and compiled once


def test_each_key_has_its_own_statement_and_one_query_each_time(world: World) -> None:
    factories.ActiveCaseFactory(client__service=world.service)
    factories.ActiveCaseFactory(client__service=world.other_service)
    for service in (world.service, world.other_service):
        compiled.values(("test", service.pk), lambda service=service: _counts(service.pk))
    with CaptureQueriesContext(connection) as queries:
        mine = compiled.values(("test", world.service.pk), lambda: _counts(world.service.pk))
        theirs = compiled.values(("test", world.other_service.pk), lambda: _counts(world.other_service.pk))
    assert len(queries) == 2  # one statement each, seen by query counting (and the benchmark) as any other
    assert {r["pk"] for r in mine}.isdisjoint({r["pk"] for r in theirs})


def test_a_queryset_of_model_instances_is_refused(world: World) -> None:
    with pytest.raises(TypeError):
        compiled.values(("test", "models"), lambda: Case.objects.all())


def test_the_least_recently_used_statements_go_first(world: World, monkeypatch) -> None:
    monkeypatch.setattr(compiled, "MAX_KEPT", 2)
    built = []

    def build(n):
        built.append(n)
        return Case.objects.filter(start_date__lte=timezone.localdate() + dt.timedelta(days=n)).values("pk")

    for n in (1, 2, 1, 3, 1, 2):
        compiled.values(("test", n), lambda n=n: build(n))
    assert built == [1, 2, 3, 2]  # 2 was the least recently used when 3 came


def test_model_instances_as_the_orm_makes_them_with_related_rows_and_annotations(world: World) -> None:
    from django.db.models import Exists, OuterRef

    from clients.models import Contact

    for name in ("Adams", "Brown"):
        case = factories.ActiveCaseFactory(
            client__service=world.service, client__family_name=name, link_worker=world.link_worker
        )
    factories.ContactFactory(case=case)

    def build():
        return (
            Case.objects.filter(service=world.service)
            .select_related("client", "link_worker")
            .only("status", "window_end", "client__family_name", "link_worker__full_name")
            .annotate(seen=Exists(Contact.objects.filter(case=OuterRef("pk"))))
            .order_by("client__family_name")
        )

    compiled.instances(("test", "cases"), build)
    with CaptureQueriesContext(connection) as queries:
        made = compiled.instances(("test", "cases"), build)
        shown = [(c.client.family_name, c.link_worker.full_name, c.status, c.seen) for c in made]
    assert len(queries) == 1  # the related rows came with it
    assert shown == [(c.client.family_name, c.link_worker.full_name, c.status, c.seen) for c in build()]
    assert shown == [
        ("Adams", world.link_worker.full_name, "active", False),
        ("Brown", world.link_worker.full_name, "active", True),
    ]
    assert made[1].pk == case.pk and isinstance(made[1], Case) and made[1]._state.adding is False


def test_each_kind_refuses_the_other_and_prefetching(world: World) -> None:
    with pytest.raises(TypeError):
        compiled.instances(("test", "values"), lambda: Case.objects.values("pk"))
    with pytest.raises(TypeError):
        compiled.instances(("test", "prefetch"), lambda: Case.objects.prefetch_related("contacts"))


def _client_in():
    from clients.models import Client

    return lambda pk, *services: Client.objects.filter(pk=pk, service__in=services).order_by()[:1]


def test_one_statement_serves_every_record_with_its_own_ids(world: World) -> None:
    from clients.models import Client

    mine = factories.ClientFactory(service=world.service)
    also_mine = factories.ClientFactory(service=world.service)
    theirs = factories.ClientFactory(service=world.other_service)
    built = []

    def build(pk, *services):
        built.append(pk)
        return Client.objects.filter(pk=pk, service__in=services).order_by()[:1]

    def ask(client, service):
        return [c.pk for c in compiled.instances(("test", "client", 1), build, inputs=(client.pk, service.pk))]

    assert ask(mine, world.service) == [mine.pk]
    assert ask(also_mine, world.service) == [also_mine.pk]
    assert ask(theirs, world.service) == []  # the service's check is a parameter like the id
    assert ask(theirs, world.other_service) == [theirs.pk]
    assert len(built) == 1  # built once, from stand-ins, not from the first call's ids


def test_inputs_must_be_parameters_as_given_and_in_the_same_kinds(world: World) -> None:
    from clients.models import Client

    client = factories.ClientFactory(service=world.service)
    with pytest.raises(ValueError, match="not among"):  # an input the query does not use
        compiled.instances(
            ("test", "unused"), lambda pk, other: Client.objects.filter(pk=pk), inputs=(client.pk, world.service.pk)
        )
    with pytest.raises(ValueError, match="as it was given"):  # the query makes "%name%" of it
        compiled.instances(
            ("test", "changed"), lambda name: Client.objects.filter(family_name__icontains=name), inputs=("Smith",)
        )
    with pytest.raises(TypeError):  # integers could equal any other number in the query
        compiled.values(("test", "int"), lambda n: Client.objects.filter(pk=n).values("pk"), inputs=(3,))
    compiled.instances(("test", "counted"), _client_in(), inputs=(client.pk, world.service.pk))
    with pytest.raises(ValueError, match="another number"):
        compiled.instances(("test", "counted"), _client_in(), inputs=(client.pk,))
    with pytest.raises(ValueError, match="other kinds"):
        compiled.instances(("test", "counted"), _client_in(), inputs=(client.pk, "a word"))


def test_a_word_that_is_also_a_constant_of_the_query_stays_apart_from_it(world: World) -> None:
    """Compiled from stand-ins, so a search for "active" cannot take the place of the status 'active'."""
    for status, name in (("active", "active"), ("paused", "active"), ("active", "paused")):
        factory = factories.ActiveCaseFactory if status == "active" else factories.PausedCaseFactory
        factory(client__service=world.service, client__family_name=name, link_worker=world.link_worker)

    def build(name):
        return Case.objects.filter(status="active", client__family_name=name).values("status", "client__family_name")

    for name in ("active", "paused", "active"):
        rows = compiled.values(("test", "word"), build, inputs=(name,))
        assert rows == list(build(name)) and len(rows) == 1
        assert rows == [{"status": "active", "client__family_name": name}]


def test_strings_and_floats_are_inputs_too(world: World) -> None:
    from community.models import CommunityService

    service = world.service
    factories.CommunityServiceFactory(provider__service=service, name="Walk", categories=["arts"], latitude=53.8)
    factories.CommunityServiceFactory(provider__service=service, name="Sing", categories=["music"], latitude=51.5)

    def build(name, category, most):
        return (
            CommunityService.objects.filter(name=name, categories__overlap=[category])
            .filter(latitude__lte=most)
            .values("name")
        )

    for name, category, most in (("Walk", "arts", 54.0), ("Walk", "arts", 52.0), ("Sing", "music", 52.0)):
        rows = compiled.values(("test", "mixed"), build, inputs=(name, category, most))
        assert rows == list(build(name, category, most))
    assert compiled.values(("test", "mixed"), build, inputs=("Walk", "arts", 54.0)) == [{"name": "Walk"}]
    assert compiled.values(("test", "mixed"), build, inputs=("Walk", "music", 54.0)) == []
    with pytest.raises(TypeError):  # an array is one parameter an element: its length is the shape's
        compiled.values(("test", "list"), lambda names: CommunityService.objects.values("pk"), inputs=(["Walk"],))


@pytest.mark.django_db(databases=["default", "replica"])
def test_the_database_is_chosen_at_each_call_as_a_queryset_chooses_it(world: World, settings) -> None:
    from linkwork import db_router

    settings.LINKWORK_READ_REPLICA = True
    factories.ActiveCaseFactory(client__service=world.service)
    key = ("test", "router", world.service.pk)
    compiled.values(key, lambda: _counts(world.service.pk))  # compiled outside replica_reads()
    with (
        CaptureQueriesContext(connection) as on_primary,
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        with db_router.replica_reads():
            compiled.values(key, lambda: _counts(world.service.pk))
        compiled.values(key, lambda: _counts(world.service.pk))
    assert (len(on_replica), len(on_primary)) == (1, 1)


def test_a_count_is_the_querysets_own_count_for_each_input_with_one_statement(world: World) -> None:
    other = factories.ServiceFactory()
    factories.ActiveCaseFactory.create_batch(3, client__service=world.service)
    factories.ActiveCaseFactory(client__service=other)

    def of(service_id):
        return Case.objects.filter(service_id=service_id, status="active")

    for service_id, expected in ((world.service.pk, 3), (other.pk, 1), (factories.ServiceFactory().pk, 0)):
        with CaptureQueriesContext(connection) as queries:
            assert compiled.count(("test.count",), of, inputs=(service_id,)) == of(service_id).count() == expected
        assert len(queries) == 2  # the kept count, then the ORM's own
        assert "COUNT(" in queries[0]["sql"] and "GROUP BY" not in queries[0]["sql"]
    factories.ActiveCaseFactory(client__service=other)
    assert compiled.count(("test.count",), of, inputs=(other.pk,)) == 2  # read afresh


def test_a_count_refuses_what_it_would_count_wrongly(world: World) -> None:
    for key, build in (
        ("sliced", lambda: Case.objects.all()[:5]),
        ("distinct", lambda: Case.objects.distinct()),
        ("grouped", lambda: Case.objects.values("status").annotate(n=Count("pk"))),
    ):
        with pytest.raises(ValueError, match="only a plain filtered queryset"):
            compiled.count(("test.refused", key), build)
