"""The OpenAPI 3.1 document for Linkwork's whole API, served at /api/schema/ and rendered at /api/docs/.

It is built from parts rather than kept as one hand-edited file, so each part has one source of truth:

- **Open Referral UK** (/api/openreferral/): the profile's own OpenAPI file, vendored at
  ``community/oruk/schema/openapi.json``, with its paths moved under the mount point, its components renamed
  ``Oruk…``, and the JSON schemas it points at on GitHub copied in as components (the document must not send a
  reader or a tool to the network). ``ORUK_CHANGES`` then records where Linkwork's implementation says more than
  the profile (error answers, parameter types, the filters it also supports) or where the profile is wrong.
- **FHIR** (/api/fhir/): ``linkwork.api.fhir_paths``, the place to describe FHIR endpoints.
- Anything else: add a module like ``fhir_paths`` and merge it in ``document()``.

OpenAPI 3.1 because its Schema Object is JSON Schema 2020-12, the dialect the ORUK schemas are written in (3.0
would reject their extra keywords such as ``constraints``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any
from urllib.parse import urljoin

from community.oruk import schema as oruk_schema
from linkwork.api import fhir_paths

OPENAPI_VERSION = "3.1.0"
ORUK_BASE = "/api/openreferral"
ORUK_TAG = "Open Referral UK"
FHIR_TAG = "FHIR"

# The ORUK schema files the profile's OpenAPI file refers to (directly or through another file), by component name.
ORUK_FILES = {
    "compiled/service.json": "OrukService",
    "compiled/service_list.json": "OrukServiceListItem",
    "compiled/service_at_location.json": "OrukServiceAtLocation",
    "compiled/service_at_location_list.json": "OrukServiceAtLocationListItem",
    "taxonomy.json": "OrukTaxonomy",
    "taxonomy_term.json": "OrukTaxonomyTerm",
    "phone.json": "OrukPhone",
    "language.json": "OrukLanguage",
}

_TIME = {
    "type": "string",
    "pattern": r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$",
    "description": "HH:MM or HH:MM:SS",
    "examples": ["09:30"],
}
_UUID = {"type": "string", "format": "uuid"}
_ID_LIST_PATHS = ("/services", "/service_at_locations")

# Where Linkwork's ORUK API says more than (or differs from) the profile's file. Keys are JSON-pointer-like paths
# into the *renamed* document; values replace what is there. Each line says why.
ORUK_CHANGES: dict[tuple[str, ...], Any] = {
    # The profile types these "time", which is not a JSON Schema type; Linkwork accepts HH:MM[:SS].
    ("components", "parameters", "oruk_start_time", "schema"): _TIME,
    ("components", "parameters", "oruk_end_time", "schema"): _TIME,
    # "datetime" is not a format; the view reads an ISO 8601 date-time.
    ("components", "parameters", "oruk_modified_after", "schema"): {"type": "string", "format": "date-time"},
    # What the views' forms accept (anything else is a 400 with the reason).
    ("components", "parameters", "oruk_page", "schema"): {"type": "integer", "minimum": 1, "default": 1},
    ("components", "parameters", "oruk_per_page", "schema"): {
        "type": "integer",
        "minimum": 1,
        "default": 50,
        "description": "At most 100 items come back whatever is asked.",
    },
    ("components", "parameters", "oruk_proximity", "schema"): {"type": "number", "minimum": 0},
    ("components", "parameters", "oruk_minimum_age", "schema"): {"type": "number", "minimum": 0},
    ("components", "parameters", "oruk_maximum_age", "schema"): {"type": "number", "minimum": 0},
    ("components", "parameters", "oruk_taxonomy_term_id", "schema"): _UUID,
    ("components", "parameters", "oruk_taxonomy_id", "schema"): _UUID,
    ("components", "parameters", "oruk_organization_id", "schema"): _UUID,
    # The profile points this at service.json, but the endpoint returns a service_at_location.
    (
        "paths",
        f"{ORUK_BASE}/service_at_locations/{{id}}",
        "get",
        "responses",
        "200",
        "content",
        "application/json",
        "schema",
    ): {"$ref": oruk_schema.COMPILED + "service_at_location.json"},
    # The profile copied these descriptions from the detail operations.
    ("paths", f"{ORUK_BASE}/services", "get", "description"): (
        "Published services, a page at a time, with their one-to-one fields; the filters combine."
    ),
    ("paths", f"{ORUK_BASE}/taxonomy_terms", "get", "description"): "Taxonomy terms, a page at a time.",
    # The profile swaps these two operation ids.
    ("paths", f"{ORUK_BASE}/taxonomy_terms/{{id}}", "get", "operationId"): "getTaxonomyTermById",
    ("paths", f"{ORUK_BASE}/taxonomy_terms", "get", "operationId"): "getPaginatedListOfTaxonomyTerms",
}

ORUK_ERROR = {
    "type": "object",
    "description": "Every ORUK error answer (Linkwork's own shape; the profile defines none).",
    "required": ["status", "error", "detail"],
    "properties": {
        "status": {"type": "integer"},
        "error": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "For a 400: the parameters that are not valid, each with its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OrukError"}}},
    }


def _walk_refs(node: Any, rewrite: Callable[[str], str]) -> None:
    """Replace every ``$ref`` value in ``node`` (in place) with ``rewrite(value)``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                node[key] = rewrite(value)
            else:
                _walk_refs(value, rewrite)
    elif isinstance(node, list):
        for item in node:
            _walk_refs(item, rewrite)


def _load_oruk_file(relative: str) -> Any:
    return json.loads((oruk_schema.SCHEMA_DIR / relative).read_text())


def _bundle(document: dict[str, Any], base: str, schemas: dict[str, Any]) -> None:
    """Point every reference to an ORUK schema file at a component, copying the file (and what it refers to) into
    ``schemas``. A reference to anything else is a mistake: raise rather than leave a network fetch in."""

    def rewrite(value: str) -> str:
        if value.startswith("#"):
            return value
        target = urljoin(base, value)
        relative = target.removeprefix(oruk_schema.PUBLIC_PREFIX)
        name = ORUK_FILES.get(relative)
        if name is None or relative == target:
            raise ValueError(f"The ORUK OpenAPI file refers to {value}, which is not a schema Linkwork ships")
        if name not in schemas:
            schemas[name] = {}  # a placeholder first, in case the files refer to each other
            content = _load_oruk_file(relative)
            _bundle(content, target, schemas)
            schemas[name] = content
        return f"#/components/schemas/{name}"

    _walk_refs(document, rewrite)


def _set(document: dict[str, Any], pointer: tuple[str, ...], value: Any) -> None:
    node = document
    for key in pointer[:-1]:
        node = node[key]
    if pointer[-1] not in node:
        # Every change replaces something the profile has: a renamed upstream key should fail loudly.
        raise KeyError(f"ORUK_CHANGES: nothing at {'/'.join(pointer)}")
    node[pointer[-1]] = copy.deepcopy(value)


def oruk_part() -> dict[str, Any]:
    """The profile's OpenAPI file, moved under ``ORUK_BASE``, self-contained, and corrected by ``ORUK_CHANGES``."""
    upstream = _load_oruk_file("openapi.json")
    components = upstream["components"]
    renamed = {
        "schemas": {f"Oruk{name}": schema for name, schema in components["schemas"].items()},
        "parameters": {f"oruk_{name}": parameter for name, parameter in components["parameters"].items()},
    }
    part: dict[str, Any] = {
        "paths": {f"{ORUK_BASE}{path}": item for path, item in upstream["paths"].items()},
        "components": renamed,
    }

    def rename(value: str) -> str:
        for kind, prefix in (("schemas", "Oruk"), ("parameters", "oruk_")):
            local = f"#/components/{kind}/"
            if value.startswith(local):
                return local + prefix + value.removeprefix(local)
        return value

    _walk_refs(part, rename)
    renamed["schemas"]["OrukError"] = copy.deepcopy(ORUK_ERROR)

    for path, item in part["paths"].items():
        for method, operation in item_operations(item):
            operation["tags"] = [ORUK_TAG]
            responses = operation["responses"]
            if "{id}" in path:
                responses["404"] = _error_response("There is no published record with this id.")
            elif operation.get("parameters"):
                responses["400"] = _error_response("A query parameter is not valid: `errors` says which and why.")
            if any(path == ORUK_BASE + p for p in _ID_LIST_PATHS) and method == "get":
                # Filters the views support beyond the profile's list for these paths.
                operation["parameters"] += [
                    {"$ref": "#/components/parameters/oruk_organization_id"},
                    {"$ref": "#/components/parameters/oruk_modified_after"},
                ]
    for pointer, value in ORUK_CHANGES.items():
        _set(part, pointer, value)
    _bundle(part, oruk_schema.PUBLIC_PREFIX + "openapi.json", renamed["schemas"])
    return part


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def item_operations(item: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for method in HTTP_METHODS:
        if method in item:
            yield method, item[method]


def _merge(into: dict[str, Any], part: dict[str, Any], label: str) -> None:
    for path, item in part["paths"].items():
        if path in into["paths"]:
            raise ValueError(f"{label}: {path} is already described")
        into["paths"][path] = item
    for kind, entries in part.get("components", {}).items():
        target = into["components"].setdefault(kind, {})
        for name, value in entries.items():
            if name in target:
                raise ValueError(f"{label}: component {kind}/{name} is already defined")
            target[name] = value


DESCRIPTION = """\
Linkwork's machine-readable interfaces.

- **Open Referral UK 3.0** (`/api/openreferral/`): the community directory's published services, open to anyone,
  read-only, no key. Paths and schemas are the [Open Referral UK profile](https://github.com/OpenReferralUK/uk-profile)'s
  (its schemas are © the Open Referral project, CC BY-SA 4.0), with Linkwork's error answers added.
- **FHIR R4** (`/api/fhir/`): referrals from GP and other systems as ServiceRequests, their progress as Tasks, and
  SNOMED-coded events for the GP record. Each call needs an API key, issued per system by a service manager.
"""


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Linkwork API", "version": "1.0", "description": DESCRIPTION},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "/", "description": "This Linkwork site"}],
        "tags": [
            {"name": ORUK_TAG, "description": "The community directory in Open Referral UK 3.0 form."},
            {"name": FHIR_TAG, "description": "Referrals in and coded events out, in FHIR R4 (UK Core)."},
        ],
        "paths": {},
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "lw_…",
                    "description": (
                        "An API key, sent as `Authorization: Bearer lw_…`. A service manager issues one per sending "
                        "system; it is shown once. It can send referrals from one organisation to one service and "
                        "read back only what that organisation sent."
                    ),
                }
            }
        },
    }
    _merge(document, oruk_part(), "ORUK")
    _merge(document, {"paths": fhir_paths.PATHS, "components": fhir_paths.COMPONENTS}, "FHIR")
    return document


def document() -> dict[str, Any]:
    """The whole document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())


@cache
def document_json() -> bytes:
    return json.dumps(_document(), ensure_ascii=False, indent=1).encode()


def operations(doc: dict[str, Any] | None = None) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, method, operation) in the document, in document order."""
    for path, item in (doc or _document())["paths"].items():
        for method, operation in item_operations(item):
            yield path, method, operation
