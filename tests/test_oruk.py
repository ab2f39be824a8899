"""The Open Referral UK 3.0 API and importer.

Every response is validated with jsonschema (Draft 2020-12, with format checking) against the ORUK schemas
shipped in community/oruk/schema/, reached by their public addresses: list pages through the response schemas of
the profile's OpenAPI file (Page envelope + list item schema), single objects through the compiled schemas.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django.utils import timezone

from community.models import Category, CommunityService, PostcodeArea, Provider, Schedule, TaxonomyTerm
from community.oruk import importer, schema, serializers
from tests import factories
from tests.conftest import World

API = "/api/openreferral"
EXAMPLES = Path(__file__).resolve().parent / "oruk_schemas" / "examples"
SHARED = Path(settings.BASE_DIR).parent / "shared" / "oruk"


def openapi_schema(path: str) -> str:
    pointer = path.replace("~", "~0").replace("/", "~1")
    return f"{schema.PUBLIC_PREFIX}openapi.json#/paths/{pointer}/get/responses/200/content/application~1json/schema"


SERVICE = schema.COMPILED + "service.json"
SERVICE_LIST_ITEM = schema.COMPILED + "service_list.json"
SERVICE_AT_LOCATION = schema.COMPILED + "service_at_location.json"
TAXONOMY = schema.PUBLIC_PREFIX + "taxonomy.json"
TAXONOMY_TERM = schema.PUBLIC_PREFIX + "taxonomy_term.json"
PHONE = schema.PUBLIC_PREFIX + "phone.json"


def assert_valid(uri: str, data: Any) -> None:
    problems = schema.errors(uri, data)
    assert not problems, "\n".join(problems)


def get(client: HttpClient, path: str, status: int = 200, **params: Any) -> Any:
    response = client.get(API + path, params)
    assert response.status_code == status, response.content
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Content-Type"] == "application/json"
    return response.json()


def get_page(client: HttpClient, path: str, **params: Any) -> dict[str, Any]:
    data = get(client, path, **params)
    assert set(data) >= {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty"}
    assert_valid(openapi_schema(path), data)
    return data


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["contents"]]


@pytest.fixture(autouse=True)
def _taxonomy(db: None) -> None:
    # Migration 0003 creates the terms, but a transactional test elsewhere flushes them from a reused database.
    for code, name in Category.choices:
        TaxonomyTerm.objects.get_or_create(
            code=code, defaults={"id": uuid.uuid5(serializers.NAMESPACE, code), "name": name}
        )


@pytest.fixture
def directory(world: World) -> dict[str, CommunityService]:
    """Published services, and the ones the API must never show."""
    provider = factories.ProviderFactory(
        service=world.service,
        name="Riverside Community Trust",
        description="Activities by the river",
        website="https://riverside.example.org",
        email="hello@riverside.example.org",
        charity_number="1234567",
    )
    walking = factories.CommunityServiceFactory(
        provider=provider,
        name="Riverside walking group",
        description="A gentle walk along the river, then tea.",
        categories=["physical_activity", "befriending"],
        url="https://riverside.example.org/walks",
        email="walks@riverside.example.org",
        phone="0113 496 0000",
        contact_name="Jo Walker",
        minimum_age=18,
        address="Riverside Park, 1 Mill Lane, Leeds",
        postcode="LS1 4AP",
        latitude=53.7960,
        longitude=-1.5470,
        accessibility=["step_free", "accessible_toilet"],
        languages=["English", "Urdu"],
        schedule="Tuesdays 10am to 12 noon",
    )
    Schedule.objects.create(service=walking, byday=["TU"], opens_at=dt.time(10), closes_at=dt.time(12))
    knitting = factories.CommunityServiceFactory(
        provider=provider,
        name="Knit and natter",
        description="Bring your needles.",
        categories=["arts"],
        is_free=False,
        cost_amount=Decimal("3.50"),
        cost_description="per session",
        minimum_age=16,
        maximum_age=99,
        address="Leeds Library, Calverley Street, Leeds",
        postcode="LS1 3AB",
        latitude=53.8008,
        longitude=-1.5491,
    )
    Schedule.objects.create(service=knitting, byday=["TH"], opens_at=dt.time(14), closes_at=dt.time(16))
    far = factories.CommunityServiceFactory(
        name="York men's shed", categories=["learning"], postcode="YO1 7HH", latitude=53.9600, longitude=-1.0873
    )
    hidden = {
        "private": factories.CommunityServiceFactory(provider=provider, name="Private walking club", is_public=False),
        "inactive": factories.CommunityServiceFactory(
            provider=provider, name="Inactive walking club", status="inactive"
        ),
        "closed": factories.CommunityServiceFactory(
            provider=provider, name="Paused walking club", status="temporarily closed"
        ),
        "defunct": factories.CommunityServiceFactory(provider=provider, name="Old walking club", status="defunct"),
    }
    PostcodeArea.objects.create(postcode="LS14AP", latitude=53.7960, longitude=-1.5470)
    PostcodeArea.objects.create(postcode="LS11AA", latitude=None, longitude=None)
    return {"walking": walking, "knitting": knitting, "far": far, **hidden}


PUBLISHED = ["Knit and natter", "Riverside walking group", "York men's shed"]


# --- Openness -----------------------------------------------------------------------------------------------------


def test_it_describes_itself(client: HttpClient, db: None) -> None:
    data = get(client, "/")
    assert data == {
        "version": "HSDS-UK-3.0",
        "profile": "https://github.com/OpenReferralUK/uk-profile",
        "openapi_url": "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/openapi.json",
    }
    assert_valid(openapi_schema("/"), data)


@pytest.mark.parametrize(
    "path",
    ["/", "/services", "/services/x", "/service_at_locations", "/taxonomies", "/taxonomy_terms", "/taxonomy_terms/x"],
)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_it_refuses_anything_but_get(db: None, path: str, method: str) -> None:
    client = HttpClient(enforce_csrf_checks=True)  # a write gets 405, not the CSRF 403
    response = getattr(client, method)(API + path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json()["status"] == 405


def test_it_needs_no_login_and_allows_any_origin_on_errors_too(client: HttpClient, directory: dict) -> None:
    get(client, "/services", per_page="lots", status=400)
    get(client, "/services/not-a-uuid", status=404)
    get(client, "/taxonomies/" + str(uuid.uuid4()), status=404)


def test_unknown_ids_get_a_json_404(client: HttpClient, directory: dict) -> None:
    for path in [
        f"/services/{uuid.uuid4()}",
        "/services/not-a-uuid",
        f"/service_at_locations/{uuid.uuid4()}",
        f"/taxonomies/{uuid.uuid4()}",
        f"/taxonomy_terms/{uuid.uuid4()}",
    ]:
        data = get(client, path, status=404)
        assert data["status"] == 404
        assert data["error"] == "Not Found"
        assert data["detail"].startswith("There is no")


# --- Services -----------------------------------------------------------------------------------------------------


def test_it_lists_only_public_active_services(client: HttpClient, directory: dict) -> None:
    page = get_page(client, "/services")
    assert names(page) == PUBLISHED
    for item in page["contents"]:
        assert_valid(SERVICE_LIST_ITEM, item)
    for key in ["private", "inactive", "closed", "defunct"]:
        get(client, f"/services/{directory[key].id}", status=404)
        get(client, f"/service_at_locations/{serializers.service_at_location_id(directory[key].id)}", status=404)


def test_the_list_gives_one_to_one_fields_and_no_internal_ones(client: HttpClient, directory: dict) -> None:
    item = get_page(client, "/services", search="natter")["contents"][0]
    knitting = directory["knitting"]
    assert item["id"] == str(knitting.id)
    assert item["organization"]["name"] == "Riverside Community Trust"
    assert item["organization_id"] == str(knitting.provider_id)
    assert item["fees"] == "£3.50 per session"
    assert (item["minimum_age"], item["maximum_age"]) == (16, 99)
    assert item["last_modified"].endswith("Z")
    assert item["assured_date"] == knitting.last_checked_on.isoformat()
    assert "schedules" not in item
    text = json.dumps(item)
    for internal in ["dbs", "safeguarding", "insurance", "last_checked_by", "is_public", "capacity"]:
        assert internal not in text


def test_the_page_envelope(client: HttpClient, directory: dict) -> None:
    first = get_page(client, "/services", per_page=2)
    assert {k: v for k, v in first.items() if k != "contents"} == {
        "total_items": 3,
        "total_pages": 2,
        "page_number": 1,
        "size": 2,
        "first_page": True,
        "last_page": False,
        "empty": False,
    }
    second = get_page(client, "/services", per_page=2, page=2)
    assert (second["size"], second["first_page"], second["last_page"], names(second)) == (
        1,
        False,
        True,
        ["York men's shed"],
    )
    beyond = get_page(client, "/services", per_page=2, page=9)
    assert (beyond["contents"], beyond["empty"], beyond["total_items"]) == ([], True, 3)
    nothing = get_page(client, "/services", search="zebra")
    assert (nothing["total_items"], nothing["total_pages"], nothing["empty"], nothing["last_page"]) == (
        0,
        0,
        True,
        True,
    )


def test_per_page_is_capped_at_100(client: HttpClient, db: None) -> None:
    provider = factories.ProviderFactory()
    factories.CommunityServiceFactory.create_batch(101, provider=provider)
    page = get_page(client, "/services", per_page=500)
    assert (page["size"], page["total_items"], page["total_pages"]) == (100, 101, 2)
    assert get_page(client, "/services")["size"] == 50


def test_the_unfiltered_list_kept_statements_still_read_the_directory_afresh(client: HttpClient, db: None) -> None:
    """The unfiltered list's count and first pages are asked with statements kept a process (community.oruk.views,
    linkwork.compiled); later pages are built as usual. Both must list what the directory holds now."""
    from community.oruk.views import KEPT_PAGES

    provider = factories.ProviderFactory()
    factories.CommunityServiceFactory.create_batch(KEPT_PAGES + 2, provider=provider)
    first = get_page(client, "/services", per_page=1)
    assert (first["total_items"], first["size"]) == (KEPT_PAGES + 2, 1)
    kept_last = get_page(client, "/services", per_page=1, page=KEPT_PAGES)
    built = get_page(client, "/services", per_page=1, page=KEPT_PAGES + 1)
    every = names(get_page(client, "/services", per_page=100))
    assert names(kept_last) == [every[KEPT_PAGES - 1]] and names(built) == [every[KEPT_PAGES]]
    added = factories.CommunityServiceFactory(provider=provider, name="Aardvark walking group")
    again = get_page(client, "/services", per_page=1)
    assert (again["total_items"], names(again)) == (KEPT_PAGES + 3, [added.name])
    assert get_page(client, "/services", per_page=1, page=KEPT_PAGES + 3)["total_items"] == KEPT_PAGES + 3
    assert get_page(client, "/services", per_page=1, search="aardvark")["total_items"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "two"},
        {"per_page": "-1"},
        {"taxonomy_term_id": "arts"},
        {"day": "someday"},
        {"start_time": "10am"},
        {"modified_after": "yesterday"},
        {"minimum_age": "old"},
        {"minimum_age": "30", "maximum_age": "20"},
    ],
)
def test_invalid_parameters_get_a_json_400(client: HttpClient, db: None, params: dict[str, str]) -> None:
    data = get(client, "/services", status=400, **params)
    assert data["status"] == 400
    assert data["errors"]


def test_it_searches_the_text(client: HttpClient, directory: dict) -> None:
    assert names(get_page(client, "/services", search="walking")) == ["Riverside walking group"]
    assert names(get_page(client, "/services", search="tea river")) == ["Riverside walking group"]
    assert names(get_page(client, "/services", search="needles")) == ["Knit and natter"]
    assert sorted(names(get_page(client, "/services", search='"walking group" or needles'))) == PUBLISHED[:2]
    assert names(get_page(client, "/services", search='"group walking"')) == []
    assert names(get_page(client, "/services", search="walk -tea")) == []


def test_it_filters_by_taxonomy_term(client: HttpClient, directory: dict) -> None:
    arts = TaxonomyTerm.objects.get(code="arts")
    befriending = TaxonomyTerm.objects.get(code="befriending")
    assert names(get_page(client, "/services", taxonomy_term_id=str(arts.id))) == ["Knit and natter"]
    assert names(get_page(client, "/services", taxonomy_term_id=str(befriending.id))) == ["Riverside walking group"]
    assert names(get_page(client, "/services", taxonomy_term_id=str(uuid.uuid4()))) == []
    assert names(get_page(client, "/services", taxonomy_id=str(serializers.TAXONOMY_ID))) == PUBLISHED
    assert names(get_page(client, "/services", taxonomy_id=str(uuid.uuid4()))) == []


def test_it_filters_by_organization(client: HttpClient, directory: dict) -> None:
    provider_id = str(directory["walking"].provider_id)
    assert names(get_page(client, "/services", organization_id=provider_id)) == PUBLISHED[:2]


def test_it_filters_by_day_and_time(client: HttpClient, directory: dict) -> None:
    for day in ["TU", "tu", "Tuesday", "tuesday"]:
        assert names(get_page(client, "/services", day=day)) == ["Riverside walking group"]
    assert names(get_page(client, "/services", day="TH")) == ["Knit and natter"]
    assert names(get_page(client, "/services", day="MO")) == []
    assert names(get_page(client, "/services", start_time="13:00")) == ["Knit and natter"]
    assert names(get_page(client, "/services", end_time="12:00")) == ["Riverside walking group"]
    assert names(get_page(client, "/services", start_time="09:30", end_time="16:00")) == PUBLISHED[:2]
    # Day and time must match the same session: nothing starts after 13:00 on a Tuesday.
    assert names(get_page(client, "/services", day="TU", start_time="13:00")) == []


def test_it_filters_by_age(client: HttpClient, directory: dict) -> None:
    # ORUK: minimum_age "of at least" the value, maximum_age "equal to or below" it.
    assert names(get_page(client, "/services", minimum_age=17)) == ["Riverside walking group"]
    assert names(get_page(client, "/services", minimum_age=16)) == PUBLISHED[:2]
    assert names(get_page(client, "/services", maximum_age=100)) == ["Knit and natter"]
    assert names(get_page(client, "/services", maximum_age=98)) == []


def test_it_filters_by_modified_after(client: HttpClient, directory: dict) -> None:
    long_ago = timezone.now() - dt.timedelta(days=30)
    CommunityService.objects.exclude(pk=directory["knitting"].pk).update(updated_at=long_ago)
    since = (timezone.now() - dt.timedelta(days=1)).astimezone(dt.UTC)
    assert names(get_page(client, "/services", modified_after=since.isoformat())) == ["Knit and natter"]
    assert names(get_page(client, "/services", modified_after=since.strftime("%Y-%m-%dT%H:%M:%SZ"))) == [
        "Knit and natter"
    ]
    # An unencoded "+" arrives as a space.
    unencoded = API + "/services?modified_after=" + since.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert names(client.get(unencoded).json()) == ["Knit and natter"]
    assert names(get_page(client, "/services", modified_after=(long_ago - dt.timedelta(days=1)).date())) == PUBLISHED


def test_it_gives_a_fully_nested_service(client: HttpClient, directory: dict) -> None:
    walking = directory["walking"]
    data = get(client, f"/services/{walking.id}")
    assert_valid(SERVICE, data)
    assert (data["id"], data["name"], data["status"], data["url"]) == (
        str(walking.id),
        "Riverside walking group",
        "active",
        "https://riverside.example.org/walks",
    )
    assert data["organization"]["organization_identifiers"][0]["identifier"] == "1234567"
    assert data["organization"]["website"] == "https://riverside.example.org"
    [session] = data["schedules"]
    assert (session["freq"], session["byday"], session["opens_at"], session["closes_at"]) == (
        "WEEKLY",
        "TU",
        "10:00",
        "12:00",
    )
    [place] = data["service_at_locations"]
    assert place["id"] == str(serializers.service_at_location_id(walking.id))
    assert uuid.UUID(place["id"]).version == walking.id.version == 4
    location = place["location"]
    assert (location["latitude"], location["longitude"]) == (53.796, -1.547)
    [address] = location["addresses"]
    assert (address["address_1"], address["address_2"], address["city"], address["postal_code"]) == (
        "Riverside Park",
        "1 Mill Lane",
        "Leeds",
        "LS1 4AP",
    )
    assert [a["description"] for a in location["accessibility"]] == ["Step-free access", "Accessible toilet"]
    assert [lang["name"] for lang in data["languages"]] == ["English", "Urdu"]
    assert data["contacts"][0]["name"] == "Jo Walker"
    assert data["phones"][0]["number"] == "0113 496 0000"
    for phone in data["phones"]:
        assert_valid(PHONE, phone)
    assert data["cost_options"][0]["option"] == "Free"
    assert data["fees"] == "Free"
    terms = {a["taxonomy_term"]["term"]: a for a in data["attributes"]}
    assert set(terms) == {"physical_activity", "befriending"}
    assert terms["befriending"]["taxonomy_term_id"] == str(TaxonomyTerm.objects.get(code="befriending").id)
    assert terms["befriending"]["link_id"] == str(walking.id)
    # Stable ids: the same request gives the same child ids.
    assert get(client, f"/services/{walking.id}") == data


def test_a_paid_service_without_a_location_or_sessions(client: HttpClient, directory: dict) -> None:
    service = factories.CommunityServiceFactory(
        name="Online choir", is_free=False, cost_amount=Decimal("5"), cost_description="a month", schedule="Weekly"
    )
    data = get(client, f"/services/{service.id}")
    assert_valid(SERVICE, data)
    assert data["service_at_locations"] == []
    assert data["cost_options"][0]["amount"] == 5.0
    assert data["schedules"][0]["description"] == "Weekly"
    get(client, f"/service_at_locations/{serializers.service_at_location_id(service.id)}", status=404)


# --- Taxonomies ---------------------------------------------------------------------------------------------------


def test_it_publishes_its_taxonomy(client: HttpClient, db: None) -> None:
    page = get_page(client, "/taxonomies")
    [taxonomy] = page["contents"]
    assert (taxonomy["id"], taxonomy["name"]) == (str(serializers.TAXONOMY_ID), "Linkwork activity categories")
    detail = get(client, f"/taxonomies/{taxonomy['id']}")
    assert_valid(TAXONOMY, detail)
    assert len(detail["taxonomy_terms"]) == TaxonomyTerm.objects.count() == 12
    terms = get_page(client, "/taxonomy_terms", per_page=5)
    assert (terms["total_items"], terms["total_pages"], terms["size"]) == (12, 3, 5)
    arts = TaxonomyTerm.objects.get(code="arts")
    term = get(client, f"/taxonomy_terms/{arts.id}")
    assert_valid(TAXONOMY_TERM, term)
    assert (term["name"], term["term"], term["taxonomy_id"]) == ("Arts and creativity", "arts", taxonomy["id"])
    assert get_page(client, "/taxonomies", page=2)["contents"] == []


# --- Services at locations ----------------------------------------------------------------------------------------


def test_it_lists_services_at_locations(client: HttpClient, directory: dict) -> None:
    factories.CommunityServiceFactory(name="Phone befriending")  # no location: not listed
    page = get_page(client, "/service_at_locations")
    assert [item["service"]["name"] for item in page["contents"]] == PUBLISHED
    walking = directory["walking"]
    detail = get(client, f"/service_at_locations/{serializers.service_at_location_id(walking.id)}")
    # The OpenAPI file points this path at compiled/service.json by mistake; the profile's own schema is this one.
    assert_valid(SERVICE_AT_LOCATION, detail)
    assert detail["service"]["id"] == str(walking.id)
    assert detail["location"]["addresses"][0]["postal_code"] == "LS1 4AP"
    assert detail["service"]["schedules"][0]["byday"] == "TU"


def test_it_finds_services_near_a_postcode(client: HttpClient, directory: dict) -> None:
    def near(**params: Any) -> list[str]:
        return [item["service"]["name"] for item in get_page(client, "/service_at_locations", **params)["contents"]]

    # Knit and natter is about 550 m from LS1 4AP, York about 37 km.
    assert near(postcode="ls1 4ap", proximity=100) == ["Riverside walking group"]
    assert near(postcode="LS1 4AP", proximity=1000) == ["Riverside walking group", "Knit and natter"]
    assert near(postcode="LS14AP", proximity=50_000) == [
        "Riverside walking group",
        "Knit and natter",
        "York men's shed",
    ]
    assert near(postcode="LS1 4AP") == ["Riverside walking group", "Knit and natter", "York men's shed"]
    assert near(postcode="LS1 4AP", proximity=1000, day="TH") == ["Knit and natter"]
    assert get(client, "/service_at_locations", status=400, postcode="ZZ9 9ZZ")["errors"]["postcode"]
    assert get(client, "/service_at_locations", status=400, postcode="LS1 1AA")["errors"]["postcode"]
    assert get(client, "/service_at_locations", status=400, proximity=100)["errors"]["proximity"]


# --- Query counts -------------------------------------------------------------------------------------------------


def _add_services(count: int) -> None:
    provider = factories.ProviderFactory()
    for service in factories.CommunityServiceFactory.create_batch(count, provider=provider, postcode="LS1 4AP"):
        Schedule.objects.create(service=service, byday=["MO", "TU"], opens_at=dt.time(9), closes_at=dt.time(10))


@pytest.mark.parametrize("size", [2, 30])
def test_query_counts_do_not_grow_with_the_directory(
    client: HttpClient, db: None, size: int, django_assert_num_queries: Callable[..., Any]
) -> None:
    _add_services(size)
    PostcodeArea.objects.create(postcode="LS14AP", latitude=53.796, longitude=-1.547)
    any_service = CommunityService.objects.first()
    assert any_service is not None
    term = TaxonomyTerm.objects.get(code="befriending")
    # 1 count, 2 the page with organisations (filters are subqueries)
    with django_assert_num_queries(2):
        page = get_page(client, "/services", search="friendly", day="TU", taxonomy_term_id=str(term.id))
    assert page["total_items"] == size
    # 1 postcode, 2 count, 3 the page with organisations
    with django_assert_num_queries(3):
        assert get_page(client, "/service_at_locations", postcode="LS14AP")["total_items"] == size
    # 1 service with organisation, 2 schedules, 3 taxonomy terms
    with django_assert_num_queries(3):
        get(client, f"/services/{any_service.id}")
    with django_assert_num_queries(3):
        get(client, f"/service_at_locations/{serializers.service_at_location_id(any_service.id)}")
    # 1 count, 2 the terms
    with django_assert_num_queries(2):
        get_page(client, "/taxonomy_terms")


# --- Importing a feed ---------------------------------------------------------------------------------------------


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def _import(world: World, pages: Any, **kwargs: Any) -> importer.ImportReport:
    return importer.import_feed(service=world.service, source="https://feed.example.org/api", pages=pages, **kwargs)


def test_importing_the_example_list_twice_creates_no_duplicates(world: World) -> None:
    first = _import(world, importer.pages_from_document(example("service_list.json")))
    assert (first.created, first.skipped, first.committed) == (["ac148810-d857-441c-9679-408f346de14b"], [], True)
    assert first.organizations_created == 1
    again = _import(world, importer.pages_from_document(example("service_list.json")))
    assert (again.created, again.updated, again.unchanged) == ([], [], ["ac148810-d857-441c-9679-408f346de14b"])
    assert again.organizations_created == again.organizations_updated == 0
    assert CommunityService.objects.count() == Provider.objects.count() == 1
    service = CommunityService.objects.select_related("provider").get()
    assert (service.name, service.status, service.minimum_age, service.maximum_age) == (
        "Community Counselling",
        "active",
        12,
        100,
    )
    assert (service.is_free, service.cost_description) == (False, "fees_description")
    assert (service.source, service.external_id) == ("https://feed.example.org/api", str(first.created[0]))
    assert service.provider.name == "Example Organization Inc."
    assert service.provider.service == world.service
    assert service.provider.external_id == "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"


def test_importing_the_full_example_refreshes_the_same_service(world: World) -> None:
    _import(world, importer.pages_from_document(example("service_list.json")))
    before = CommunityService.objects.get()
    report = _import(world, importer.pages_from_document(example("service_full.json")))
    assert report.updated == ["ac148810-d857-441c-9679-408f346de14b"]
    again = _import(world, importer.pages_from_document(example("service_full.json")))
    assert again.unchanged == ["ac148810-d857-441c-9679-408f346de14b"]
    service = CommunityService.objects.get()
    assert service.pk == before.pk
    assert (service.is_free, service.cost_amount, service.cost_description) == (
        False,
        Decimal("35.00"),
        "per 1 hour session",
    )
    assert service.contact_name == "Ann Persona"
    assert (service.address, service.postcode) == ("1-30 Main Street, MyCity", "ABC 1234")
    assert service.latitude is None  # the example's latitude 100 is not on Earth
    [session] = Schedule.objects.filter(service=service)
    assert (session.freq, session.byday, session.opens_at, session.closes_at) == (
        "WEEKLY",
        ["TH", "FR"],
        dt.time(10),
        dt.time(18),
    )


def _feed(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"total_items": len(items), "contents": list(items)}]


def _item(name: str, **extra: Any) -> dict[str, Any]:
    org = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, name + " org")), "name": f"{name} org", "description": ""}
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "name": name,
        "status": "active",
        "organization": org,
    } | extra


def test_a_bad_item_is_reported_and_nothing_is_imported(world: World) -> None:
    good = _item("Good group")
    bad_status = _item("Bogus group", status="open")
    bad_ages = _item("Ageless group", minimum_age=60, maximum_age=18)
    bad_url = _item("Linkless group", url="not a url")
    report = _import(world, _feed(good, bad_status, bad_ages, bad_url))
    assert report.committed is False
    assert report.created == []
    reasons = {s.item: s.reason for s in report.skipped}
    assert reasons == {
        bad_status["id"]: "status: 'open' is not one of ['active', 'inactive', 'defunct', 'temporarily closed']",
        bad_ages["id"]: "minimum_age 60 is more than maximum_age 18",
        bad_url["id"]: "url: 'not a url' is not a 'uri'",
    }
    assert "Nothing was imported." in report.lines()
    assert not CommunityService.objects.exists()
    assert not Provider.objects.exists()


def test_skipping_invalid_items_imports_the_rest_and_nothing_of_the_bad_ones(world: World) -> None:
    good = _item("Good group")
    bad = _item("Ageless group", minimum_age=60.5)
    report = _import(world, _feed(good, bad), skip_invalid=True)
    assert (report.committed, report.created) == (True, [good["id"]])
    assert [(s.item, s.reason) for s in report.skipped] == [
        (bad["id"], "minimum_age must be a whole number of years from 0 to 150, not 60.5")
    ]
    assert list(Provider.objects.values_list("name", flat=True)) == ["Good group org"]


def test_an_item_needs_an_organisation_and_a_valid_time(world: World) -> None:
    orphan = {"id": str(uuid.uuid4()), "name": "Orphan", "status": "active", "organization_id": str(uuid.uuid4())}
    late = _item("Late group", schedules=[{"id": str(uuid.uuid4()), "freq": "WEEKLY", "opens_at": "25:00"}])
    long_name = _item("Long group") | {"name": "x" * 201}
    report = _import(world, _feed(orphan, late, long_name))
    reasons = [s.reason for s in report.skipped]
    assert reasons == [
        "it names no organisation that is in the feed or already imported",
        "opens_at '25:00' is not a time of day (HH:MM)",
        "name: Ensure this value has at most 200 characters (it has 201).",
    ]


def test_an_imported_postcode_gives_coordinates_for_proximity_search(world: World) -> None:
    PostcodeArea.objects.create(postcode="LS14AP", latitude=53.796, longitude=-1.547)
    address = {"id": str(uuid.uuid4()), "address_1": "1 Mill Lane", "city": "Leeds", "state_province": ""}
    address |= {"postal_code": "ls1 4ap", "country": "GB", "address_type": "physical"}
    place = {"id": str(uuid.uuid4()), "location": {"id": str(uuid.uuid4()), "location_type": "physical"}}
    place["location"]["addresses"] = [address]
    _import(world, _feed(_item("Mill group", service_at_locations=[place])))
    service = CommunityService.objects.get()
    assert (service.address, service.postcode, service.latitude, service.longitude) == (
        "1 Mill Lane, Leeds",
        "LS1 4AP",
        53.796,
        -1.547,
    )
    assert _import(world, _feed(_item("Mill group", service_at_locations=[place]))).unchanged == [
        str(service.external_id)
    ]


def test_a_failure_part_way_leaves_nothing_behind(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> None:
        Provider.objects.create(service=world.service, name="Half", source="x", external_id="y")
        raise RuntimeError("database went away")

    monkeypatch.setattr(importer, "_write", broken)
    with pytest.raises(RuntimeError):
        _import(world, _feed(_item("Good group")))
    assert not Provider.objects.exists()


def test_it_reads_a_feed_from_an_api_page_by_page(world: World) -> None:
    base = "https://feed.example.org/api"
    one, two = _item("One"), _item("Two")
    full_one = one | {"schedules": [{"id": str(uuid.uuid4()), "freq": "WEEKLY", "byday": "MO", "opens_at": "09:00"}]}
    responses = {
        f"{base}/services?page=1&per_page=100": {"total_pages": 2, "last_page": False, "contents": [one]},
        f"{base}/services?page=2&per_page=100": {"total_pages": 2, "last_page": True, "contents": [two]},
        f"{base}/services/{one['id']}": full_one,
        f"{base}/services/{two['id']}": two,
    }
    fetched: list[str] = []

    def fetch(url: str) -> Any:
        fetched.append(url)
        return responses[url]

    report = importer.import_feed(service=world.service, source=base, pages=base + "/", fetch=fetch)
    assert report.created == [one["id"], two["id"]]
    assert fetched == [
        f"{base}/services?page=1&per_page=100",
        f"{base}/services/{one['id']}",
        f"{base}/services?page=2&per_page=100",
        f"{base}/services/{two['id']}",
    ]
    assert Schedule.objects.get().byday == ["MO"]


def test_it_fetches_only_http_addresses() -> None:
    with pytest.raises(importer.FeedError, match="only http and https"):
        importer.fetch_json("file:///etc/passwd")


def test_what_it_publishes_it_can_import(client: HttpClient, directory: dict, world: World) -> None:
    walking = directory["walking"]
    published = get(client, f"/services/{walking.id}")
    report = importer.import_feed(service=world.other_service, source="riverside", pages=_feed(published))
    assert report.created == [str(walking.id)]
    copy = CommunityService.objects.get(provider__service=world.other_service)
    for name in importer.FEED_FIELDS:
        if name not in {"schedule"}:
            assert getattr(copy, name) == getattr(walking, name), name
    assert [(s.byday, s.opens_at, s.closes_at) for s in copy.schedules.all()] == [(["TU"], dt.time(10), dt.time(12))]
    assert copy.provider.charity_number == "1234567"


def test_the_command_imports_a_file_and_reports(world: World, tmp_path: Path, capsys: Any) -> None:
    call_command("import_oruk", "--service", world.service.name, "--file", str(EXAMPLES / "service_full.json"))
    assert "Services: 1 created, 0 updated, 0 unchanged, 0 skipped" in capsys.readouterr().out
    call_command("import_oruk", "--service", str(world.service.id), "--file", str(EXAMPLES / "service_full.json"))
    assert "Services: 0 created, 0 updated, 1 unchanged, 0 skipped" in capsys.readouterr().out
    assert CommunityService.objects.count() == 1

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_feed(_item("Good"), _item("Bad", status="gone"))[0]))
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_oruk", "--service", world.service.name, "--file", str(bad))
    out = capsys.readouterr().out
    assert f"Skipped {_item('Bad')['id']}: status: 'gone' is not one of" in out
    assert CommunityService.objects.count() == 1
    with pytest.raises(CommandError, match="No social prescribing service"):
        call_command("import_oruk", "--service", "Nowhere", "--file", str(bad))
    with pytest.raises(CommandError, match="No social prescribing service"):
        call_command("import_oruk", "--service", world.practice.name, "--file", str(bad))


# --- The shipped schemas ------------------------------------------------------------------------------------------


def _matches_manifest(folder: Path) -> None:
    import hashlib

    lines = (folder / "SHA256SUMS").read_text().splitlines()
    assert lines, "empty manifest"
    for line in lines:
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    listed = {line.split(maxsplit=1)[1].removeprefix("./") for line in lines}
    present = {str(p.relative_to(folder)) for p in folder.rglob("*.json")}
    assert present == listed


def test_the_shipped_schemas_and_examples_are_unchanged_copies() -> None:
    """The copies match the checksums taken when they were copied from the profile; where the profile's own
    files are beside the clone (../shared/oruk), they match those byte for byte too."""
    shipped = Path(schema.SCHEMA_DIR)
    _matches_manifest(shipped)
    _matches_manifest(EXAMPLES.parent)
    if SHARED.is_dir():
        for path in shipped.rglob("*.json"):
            assert path.read_bytes() == (SHARED / "schema" / path.relative_to(shipped)).read_bytes(), path
        for path in EXAMPLES.glob("*.json"):
            assert path.read_bytes() == (SHARED / "examples" / path.name).read_bytes(), path
