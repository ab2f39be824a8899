"""The API's OpenAPI document (/api/schema/), the page made from it (/api/docs/), and a property-based test of the
whole API against the document with schemathesis.

The property-based test calls Django in-process through WSGI (no live server, no threads): for every operation in
the document, schemathesis generates requests (valid ones and deliberately broken ones) from its parameters and
body schema, and checks that none is answered with a server error and that every answer matches the response
schema the document declares (the Open Referral UK operations are held to their documented status codes and
content types too). Operations that need an API key get a real one. Generation is derandomised, so CI sends the
same requests every run.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import uuid
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client as HttpClient
from django.urls import Resolver404, resolve, reverse
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from community.models import Category, PostcodeArea, Schedule, TaxonomyTerm
from community.oruk import serializers
from linkwork.accounts.api_clients import api_client_create
from linkwork.api import openapi
from tests import factories
from tests.conftest import World

WSGI = get_wsgi_application()
ANY_UUID = "00000000-0000-4000-8000-000000000000"


def is_served(path: str) -> bool:
    """Whether Django has a URL for this document path (``{id}`` filled with a UUID, which every id accepts)."""
    try:
        resolve(re.sub(r"\{[^}]+\}", ANY_UUID, path))
    except Resolver404:
        return False
    return True


# Operations whose URL Django cannot resolve yet are left out of the parametrisation (not skipped: a skipped test in
# CI would be a defect). That lets a path be described in linkwork/api/fhir_paths.py before its view is written; it
# is tested from the moment its URL exists. test_every_path_in_the_document_is_served says which are waiting.
API = schemathesis.openapi.from_dict(openapi.document()).include(lambda ctx: is_served(ctx.operation.path))
API.config.generation.update(max_examples=25, deterministic=True, database="none")

# Every operation, ORUK and FHIR: no 5xx, only documented status codes, content types and headers, and every
# answer matching its documented schema.
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
]

PROPERTY_SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    # The data fixture is created once per operation and shared by its examples, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# --- Data ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def directory(world: World) -> dict[str, Any]:
    """Published services with locations, schedules and terms, so the ORUK endpoints answer with real content."""
    for code, name in Category.choices:
        # Migration 0003 creates these; a transactional test elsewhere may have flushed them.
        TaxonomyTerm.objects.get_or_create(
            code=code, defaults={"id": uuid.uuid5(serializers.NAMESPACE, code), "name": name}
        )
    provider = factories.ProviderFactory(
        service=world.service, name="Riverside Community Trust", website="https://riverside.example.org"
    )
    walking = factories.CommunityServiceFactory(
        provider=provider,
        name="Riverside walking group",
        categories=["physical_activity", "befriending"],
        url="https://riverside.example.org/walks",
        email="walks@riverside.example.org",
        phone="0113 496 0000",
        minimum_age=18,
        address="Riverside Park, 1 Mill Lane, Leeds",
        postcode="LS1 4AP",
        latitude=53.7960,
        longitude=-1.5470,
        languages=["English", "Urdu"],
    )
    Schedule.objects.create(service=walking, byday=["TU"], opens_at=dt.time(10), closes_at=dt.time(12))
    knitting = factories.CommunityServiceFactory(
        provider=provider,
        name="Knit and natter",
        categories=["arts"],
        is_free=False,
        cost_amount=Decimal("3.50"),
        minimum_age=16,
        maximum_age=99,
        postcode="LS1 3AB",
        latitude=53.8008,
        longitude=-1.5491,
    )
    factories.CommunityServiceFactory(name="York men's shed", categories=["learning"], postcode="YO1 7HH")
    factories.CommunityServiceFactory(provider=provider, name="Private walking club", is_public=False)
    PostcodeArea.objects.create(postcode="LS14AP", latitude=53.7960, longitude=-1.5470)
    return {"walking": walking, "knitting": knitting}


@pytest.fixture
def wsgi() -> Any:
    """Django as a WSGI app, in this thread and this test's transaction. At the end of a request Django closes the
    database connection (``close_old_connections``); the test client stops that, and so must we."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGI
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(world: World) -> str:
    _, key = api_client_create(
        name="EMIS at Riverside", organisation=world.practice, service=world.service, by=world.manager
    )
    return key


# --- The document --------------------------------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi.document()
    assert document["openapi"].startswith("3.1.")
    OPENAPI_31_VALIDATOR.validate(document)
    API.validate()  # schemathesis's own reading of it


def test_every_schema_in_the_document_is_valid_json_schema() -> None:
    document = openapi.document()
    schemas = [("components/schemas/" + name, s) for name, s in document["components"]["schemas"].items()]
    for path, _method, operation in openapi.operations(document):
        for status, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                schemas.append((f"{path} {status} {media_type}", media["schema"]))
    for where, schema in schemas:
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            pytest.fail(f"{where}: {error.message}")


def test_every_reference_resolves_inside_the_document() -> None:
    """No reference leaves the document: a reader or tool never needs the network (or GitHub) to follow one."""
    document = openapi.document()
    refs: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(document)
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        target: Any = document
        for key in ref.removeprefix("#/").split("/"):
            target = target[key.replace("~1", "/").replace("~0", "~")]


def test_every_url_of_the_apis_is_in_the_document() -> None:
    """The other way round from the property test: a new API URL without a description fails here."""
    described = {re.sub(r"\{[^}]+\}", "ID", path) for path, _m, _o in openapi.operations()}
    mounted = {"/api/openreferral/": "community.api_urls", "/api/fhir/": "referrals.api_urls"}
    for prefix, module in mounted.items():
        for pattern in importlib.import_module(module).urlpatterns:
            route = prefix + re.sub(r"<[^>]+>", "ID", str(pattern.pattern))
            assert route in described, f"{route} is not in linkwork/api (openapi.py or fhir_paths.py)"


def test_every_path_in_the_document_is_served() -> None:
    waiting = [path for path, _m, _o in openapi.operations() if not is_served(path)]
    assert not waiting, f"described but not served (so not property-tested): {waiting}"


def test_the_oruk_part_keeps_the_profiles_paths_under_its_mount_point() -> None:
    paths = set(openapi.document()["paths"])
    for upstream in openapi._load_oruk_file("openapi.json")["paths"]:
        assert "/api/openreferral" + upstream in paths


def test_a_change_to_nothing_in_the_profile_fails_loudly(monkeypatch) -> None:
    monkeypatch.setitem(openapi.ORUK_CHANGES, ("components", "parameters", "oruk_no_such_thing", "schema"), {})
    with pytest.raises(KeyError, match="oruk_no_such_thing"):
        openapi.oruk_part()


# --- The views -----------------------------------------------------------------------------------------------------


def test_the_document_is_served_as_json_to_anyone(client: HttpClient, db: None) -> None:
    response = client.get(reverse("api_schema"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == openapi.document()


def test_the_document_is_read_only(client: HttpClient, db: None) -> None:
    assert client.post(reverse("api_schema")).status_code == 405
    assert client.post(reverse("api_docs")).status_code == 405


def test_the_page_lists_every_operation_with_its_parameters_and_responses(client: HttpClient, db: None) -> None:
    response = client.get(reverse("api_docs"))
    assert response.status_code == 200
    html = response.content.decode()
    for path, method, operation in openapi.operations():
        assert f'<code class="lw-break-anywhere">{path}</code>' in html, path
        assert f'id="{method}-{operation["operationId"].lower()}"' in html
        for status in operation["responses"]:
            assert f'<td class="nhsuk-table__cell">{status}</td>' in html
    assert (
        '<code class="lw-break-anywhere">search</code>' in html
        and '<code class="lw-break-anywhere">per_page</code>' in html
    )  # ORUK query parameters
    assert (
        '<code class="lw-break-anywhere">application/fhir+json</code>: <a href="#schema-FhirServiceRequest">' in html
    )  # a request body
    assert 'href="/api/schema/"' in html
    assert "Authorization: Bearer lw_…" in html
    for name in openapi.document()["components"]["schemas"]:
        assert f'id="schema-{name}"' in html


def test_the_page_has_a_sound_structure_and_loads_nothing_from_elsewhere(client: HttpClient, db: None) -> None:
    html = client.get(reverse("api_docs")).content.decode()
    assert html.count("<h1") == 1
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", html)]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), "a heading level is skipped"
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids"
    for anchor in set(re.findall(r'href="#([^"]+)"', html)):
        assert anchor in ids, f"link to #{anchor} goes nowhere"
    assert "<table" in html and '<th scope="col"' in html
    assert not re.search(r'(src|href)="(https?:)?//(?!github\.com/OpenReferralUK)', html), "loads from elsewhere"


def test_the_page_escapes_text_from_the_document(monkeypatch) -> None:
    from linkwork.api import docs

    assert str(docs.inline("<script>x</script> `a<b` [text](javascript:alert(1))")) == (
        "&lt;script&gt;x&lt;/script&gt; <code>a&lt;b</code> [text](javascript:alert(1))"
    )


# --- Property-based: no server errors anywhere, ORUK answers as described -------------------------------------------


@API.parametrize()
@PROPERTY_SETTINGS
def test_the_api_never_answers_with_a_server_error(
    case: schemathesis.Case, directory: dict[str, Any], api_key: str, django_settings: Any, wsgi: Any
) -> None:
    if case.operation.definition.raw.get("security"):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api_key}"}
    # Every operation, FHIR included, must answer with the statuses, content types and headers it documents.
    case.call_and_validate(app=wsgi, checks=CHECKS)


@pytest.fixture
def django_settings(settings: Any) -> Any:
    # Hundreds of calls with one key: the rate limit would turn most of them into 429s and test nothing.
    settings.LINKWORK_API_RATE = "100000/m"
    return settings


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/api/openreferral/services/{id}", "walking"),
        ("/api/openreferral/service_at_locations/{id}", "walking"),
        ("/api/openreferral/taxonomies/{id}", "taxonomy"),
        ("/api/openreferral/taxonomy_terms/{id}", "term"),
    ],
)
def test_real_records_match_the_response_schemas(path: str, key: str, directory: dict[str, Any], wsgi: Any) -> None:
    """Generated ids almost never exist, so the detail answers are checked here with real ones."""
    ids = {
        "walking": directory["walking"].id,
        "taxonomy": serializers.TAXONOMY_ID,
        "term": TaxonomyTerm.objects.order_by("code").first().id,
    }
    if "service_at_locations" in path:
        ids["walking"] = serializers.service_at_location_id(directory["walking"].id)
    case = API[path]["GET"].Case(path_parameters={"id": str(ids[key])})
    response = case.call_and_validate(app=wsgi, checks=[not_a_server_error, response_schema_conformance])
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2026-11-24T09:30:00+22:14", 200),  # Python allows the offset, PostgreSQL does not: it was a 500
        ("0001-01-01T00:00:00+05:00", 400),  # before year 1 in UTC
        ("9999-12-31T23:59:00-05:00", 400),  # after year 9999 in UTC
    ],
)
def test_modified_after_with_an_extreme_offset_is_answered_not_a_server_error(
    client: HttpClient, directory: dict[str, Any], value: str, status: int
) -> None:
    for path in ("services", "service_at_locations"):
        response = client.get(f"{openapi.ORUK_BASE}/{path}", {"modified_after": value})
        assert response.status_code == status, response.content
