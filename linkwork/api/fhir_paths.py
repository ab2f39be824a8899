"""The FHIR part of the OpenAPI document: paths under /api/fhir/ and the components they use.

THIS IS WHERE FHIR ENDPOINTS ARE DESCRIBED. ``linkwork.api.openapi`` merges ``PATHS`` and ``COMPONENTS`` into the
document served at /api/schema/; the property-based test (tests/test_api_schema.py) exercises every path here as
soon as Django can resolve it, so a path described before its view exists costs nothing, and a view that exists
but answers 500 to some request fails CI.

To add or change an endpoint: edit its entry in ``PATHS`` (an OpenAPI 3.1 Path Item, as a Python dict), and put any
new schema in ``COMPONENTS["schemas"]`` (names start with ``Fhir``; the ORUK part uses ``Oruk``). Refer to
components with ``ref("FhirTask")`` and to shared error answers with ``RESPONSES_…`` below.

The resource schemas are deliberately small: ``resourceType`` fixed, the properties Linkwork reads or writes, and
everything else allowed (a FHIR resource may carry much more). They describe Linkwork's use of FHIR R4 (UK Core
ServiceRequest for referrals), not the FHIR specification.
"""

from __future__ import annotations

from typing import Any

FHIR_JSON = "application/fhir+json"
REQUEST_TYPES = (FHIR_JSON, "application/json")  # the views accept either; they answer with FHIR_JSON
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
SNOMED = "http://snomed.info/sct"
SNOMED_ACCEPTED = "871731000000106"  # Referral to social prescribing service (procedure): sent when accepted
SNOMED_DECLINED = "871711000000103"  # Social prescribing declined (situation)
SECURITY = [{"apiKey": []}]


def ref(name: str, kind: str = "schemas") -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _fhir(schema_name: str, description: str, **extra: Any) -> dict[str, Any]:
    """A response (or request body) of one FHIR resource as application/fhir+json."""
    return {"description": description, "content": {FHIR_JSON: {"schema": ref(schema_name)}}, **extra}


def _resource(name: str, description: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict:
    return {
        "type": "object",
        "description": description,
        "required": ["resourceType", *required],
        "properties": {"resourceType": {"const": name}, "id": {"type": "string"}, **properties},
    }


_STRING = {"type": "string"}
_DATE_TIME = {"type": "string", "format": "date-time"}
_ARRAY_OF_CODEABLE = {"type": "array", "items": ref("FhirCodeableConcept")}

SCHEMAS: dict[str, Any] = {
    # --- Data types ------------------------------------------------------------------------------------------------
    "FhirIdentifier": {
        "type": "object",
        "properties": {"system": {"type": "string", "format": "uri"}, "value": _STRING},
        "required": ["value"],
    },
    "FhirCoding": {
        "type": "object",
        "properties": {"system": {"type": "string", "format": "uri"}, "code": _STRING, "display": _STRING},
    },
    "FhirCodeableConcept": {
        "type": "object",
        "properties": {"coding": {"type": "array", "items": ref("FhirCoding")}, "text": _STRING},
    },
    "FhirReference": {
        "type": "object",
        "description": "A relative reference (`Patient/…`, `#contained-id`) or a logical one by identifier.",
        "properties": {"reference": _STRING, "identifier": ref("FhirIdentifier"), "display": _STRING},
    },
    # --- Resources -------------------------------------------------------------------------------------------------
    "FhirPatient": _resource(
        "Patient",
        f"The person referred. Identified by NHS number (identifier system `{NHS_NUMBER_SYSTEM}`).",
        {
            "identifier": {"type": "array", "items": ref("FhirIdentifier"), "minItems": 1},
            "name": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"family": _STRING, "given": {"type": "array", "items": _STRING}},
                },
            },
            "birthDate": {"type": "string", "format": "date"},
            "gender": {"enum": ["male", "female", "other", "unknown"]},
            "telecom": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"system": {"enum": ["phone", "email", "sms"]}, "value": _STRING},
                },
            },
            "address": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"line": {"type": "array", "items": _STRING}, "postalCode": _STRING},
                },
            },
        },
        required=("identifier",),
    ),
    "FhirServiceRequest": _resource(
        "ServiceRequest",
        "A referral to a social prescribing service (FHIR R4 UK Core ServiceRequest). `identifier` is the sender's "
        "own id for the referral: sending the same one again returns the existing Task instead of a new referral. "
        "`subject` points at a Patient in `contained` (`#id`) or, in a Bundle, at the Patient entry's `fullUrl`.",
        {
            "identifier": {"type": "array", "items": ref("FhirIdentifier"), "minItems": 1},
            "status": {"const": "active"},
            "intent": {"enum": ["order", "original-order", "plan", "proposal"]},
            "category": _ARRAY_OF_CODEABLE,
            "code": ref("FhirCodeableConcept"),
            "subject": ref("FhirReference"),
            "requester": ref("FhirReference"),
            "authoredOn": _DATE_TIME,
            "reasonCode": _ARRAY_OF_CODEABLE,
            "note": {"type": "array", "items": {"type": "object", "properties": {"text": _STRING}}},
            "contained": {"type": "array", "items": ref("FhirPatient")},
        },
        required=("identifier", "status", "intent", "subject"),
    ),
    "FhirBundle": {
        "type": "object",
        "description": "A Bundle of type `transaction` or `collection` holding one ServiceRequest and its Patient.",
        "required": ["resourceType", "type", "entry"],
        "properties": {
            "resourceType": {"const": "Bundle"},
            "type": {"enum": ["transaction", "collection"]},
            "entry": {
                "type": "array",
                "minItems": 2,
                "items": {
                    "type": "object",
                    "required": ["resource"],
                    "properties": {
                        "fullUrl": _STRING,
                        "resource": {"oneOf": [ref("FhirServiceRequest"), ref("FhirPatient")]},
                        "request": {
                            "type": "object",
                            "properties": {"method": {"const": "POST"}, "url": _STRING},
                        },
                    },
                },
            },
        },
    },
    "FhirTask": _resource(
        "Task",
        "Linkwork's answer to a referral, and where its progress shows: `status` moves from `requested` to "
        "`accepted` or `rejected` (then `in-progress`, `completed`). `focus` is the ServiceRequest.",
        {
            "identifier": {"type": "array", "items": ref("FhirIdentifier")},
            "status": {
                "enum": ["requested", "received", "accepted", "rejected", "cancelled", "in-progress", "completed"]
            },
            "code": ref("FhirCodeableConcept"),
            "businessStatus": ref("FhirCodeableConcept"),
            "statusReason": ref("FhirCodeableConcept"),
            "intent": {"const": "order"},
            "focus": ref("FhirReference"),
            "for": ref("FhirReference"),
            "owner": ref("FhirReference"),
            "authoredOn": _DATE_TIME,
            "lastModified": _DATE_TIME,
        },
        required=("status", "intent"),
    ),
    "FhirProcedure": _resource(
        "Procedure",
        f"A coded event for the GP record: SNOMED {SNOMED_ACCEPTED} (referral to social prescribing service), "
        "once the referral is accepted.",
        {
            "status": {"enum": ["completed", "not-done", "entered-in-error"]},
            "code": ref("FhirCodeableConcept"),
            "subject": ref("FhirReference"),
            "performedDateTime": _DATE_TIME,
            "basedOn": {"type": "array", "items": ref("FhirReference")},
        },
        required=("status", "code", "subject"),
    ),
    "FhirObservation": _resource(
        "Observation",
        f"A coded event for the GP record: SNOMED {SNOMED_DECLINED} (social prescribing declined).",
        {
            "status": {"enum": ["final", "amended", "entered-in-error"]},
            "code": ref("FhirCodeableConcept"),
            "subject": ref("FhirReference"),
            "effectiveDateTime": _DATE_TIME,
            "basedOn": {"type": "array", "items": ref("FhirReference")},
        },
        required=("status", "code", "subject"),
    ),
    "FhirSearchsetBundle": {
        "type": "object",
        "required": ["resourceType", "type", "total", "entry"],
        "properties": {
            "resourceType": {"const": "Bundle"},
            "type": {"const": "searchset"},
            "total": {"type": "integer", "minimum": 0},
            "link": {
                "type": "array",
                "items": {"type": "object", "properties": {"relation": _STRING, "url": _STRING}},
            },
            "entry": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "fullUrl": _STRING,
                        "resource": {"oneOf": [ref("FhirProcedure"), ref("FhirObservation")]},
                        "search": {"type": "object", "properties": {"mode": {"const": "match"}}},
                    },
                },
            },
        },
    },
    "FhirOperationOutcome": _resource(
        "OperationOutcome",
        "Why a request failed. `issue[].diagnostics` says what to fix; `expression` points at the element.",
        {
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code"],
                    "properties": {
                        "severity": {"enum": ["fatal", "error", "warning", "information"]},
                        "code": _STRING,
                        "details": ref("FhirCodeableConcept"),
                        "diagnostics": _STRING,
                        "expression": {"type": "array", "items": _STRING},
                    },
                },
            }
        },
        required=("issue",),
    ),
}


def _outcome(description: str, **extra: Any) -> dict[str, Any]:
    return _fhir("FhirOperationOutcome", description, **extra)


RESPONSES: dict[str, Any] = {
    "FhirUnreadable": _outcome("The body is not JSON, or not a FHIR R4 ServiceRequest or Bundle. Nothing is saved."),
    "FhirUnprocessable": _outcome(
        "The resource is FHIR but breaks a rule (NHS number, practice, consent, code…): every problem is listed, "
        "each with the element in `expression`. Nothing is saved."
    ),
    "FhirBadSearch": _outcome("A search parameter is not valid: the OperationOutcome says which."),
    "FhirUnauthorized": _outcome(
        "No API key, or not one Linkwork knows.",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    ),
    "FhirForbidden": _outcome("The key is revoked, or the resource belongs to another organisation or service."),
    "FhirNotFound": _outcome("There is no such resource for this API client."),
    "FhirTooLarge": _outcome("The request body is larger than Linkwork accepts."),
    "FhirUnsupportedMediaType": _outcome(f"The body is not `{FHIR_JSON}` or `application/json`."),
    "FhirTooManyRequests": _outcome(
        "Too many requests with this key: wait and try again.",
        headers={"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    ),
}

_COMMON_ERRORS = {
    "401": ref("FhirUnauthorized", "responses"),
    "403": ref("FhirForbidden", "responses"),
    "429": ref("FhirTooManyRequests", "responses"),
}
_SUBMIT_ERRORS = {
    "400": ref("FhirUnreadable", "responses"),
    **_COMMON_ERRORS,
    "413": ref("FhirTooLarge", "responses"),
    "415": ref("FhirUnsupportedMediaType", "responses"),
    "422": ref("FhirUnprocessable", "responses"),
}
_CREATED = _fhir(
    "FhirTask",
    "The referral is received: the Task tracks it.",
    headers={
        "Location": {
            "schema": {"type": "string"},
            "description": "The Task's address, `/api/fhir/Task/{id}`.",
            "required": True,
        }
    },
)
_RESUBMITTED = _fhir("FhirTask", "A referral with this ServiceRequest.identifier was already received: its Task.")

_SEARCH_PARAMETERS = [
    {
        "name": "date",
        "in": "query",
        "required": False,
        "description": "Only events on or after a date: `ge` and the date, e.g. `ge2026-11-01`.",
        "schema": {"type": "string", "pattern": r"^(ge)?\d{4}-\d{2}-\d{2}$", "examples": ["ge2026-11-01"]},
    },
    {
        "name": "recorded",
        "in": "query",
        "required": False,
        "description": "`false`: only events the practice has not yet marked as recorded in the GP record.",
        "schema": {"enum": ["true", "false"]},
    },
]


def _body(schema_name: str) -> dict[str, Any]:
    return {"required": True, "content": {t: {"schema": ref(schema_name)} for t in REQUEST_TYPES}}


_SEARCH_CODES = {
    "Procedure": f"{SNOMED_ACCEPTED} (referral to social prescribing service), once a referral is accepted",
    "Observation": f"{SNOMED_DECLINED} (social prescribing declined), when a referral is declined",
}


def _search(resource: str) -> dict[str, Any]:
    return {
        "get": {
            "tags": ["FHIR"],
            "operationId": f"fhirSearch{resource}",
            "summary": f"Coded events ({resource}) for the API client's practice",
            "description": (
                "A searchset Bundle of SNOMED-coded events on the referrals the client's practice sent to the "
                f"client's service: {_SEARCH_CODES[resource]}."
            ),
            "security": SECURITY,
            "parameters": _SEARCH_PARAMETERS,
            "responses": {
                "200": _fhir("FhirSearchsetBundle", "The matching events (possibly none)."),
                "400": ref("FhirBadSearch", "responses"),
                **_COMMON_ERRORS,
            },
        }
    }


PATHS: dict[str, Any] = {
    "/api/fhir/ServiceRequest": {
        "post": {
            "tags": ["FHIR"],
            "operationId": "fhirCreateServiceRequest",
            "summary": "Send a referral (a ServiceRequest with a contained Patient)",
            "security": SECURITY,
            "requestBody": _body("FhirServiceRequest"),
            "responses": {"201": _CREATED, "200": _RESUBMITTED, **_SUBMIT_ERRORS},
        }
    },
    "/api/fhir/": {
        "post": {
            "tags": ["FHIR"],
            "operationId": "fhirSubmitBundle",
            "summary": "Send a referral as a Bundle (transaction or collection) of a ServiceRequest and a Patient",
            "security": SECURITY,
            "requestBody": _body("FhirBundle"),
            "responses": {"201": _CREATED, "200": _RESUBMITTED, **_SUBMIT_ERRORS},
        }
    },
    "/api/fhir/Task/{id}": {
        "parameters": [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "description": "The Task's id (the `Location` of the referral's answer).",
                "schema": {"type": "string", "maxLength": 64},
            }
        ],
        "get": {
            "tags": ["FHIR"],
            "operationId": "fhirReadTask",
            "summary": "Where a referral has got to",
            "security": SECURITY,
            "responses": {
                "200": _fhir("FhirTask", "The Task."),
                "404": ref("FhirNotFound", "responses"),
                **_COMMON_ERRORS,
            },
        },
    },
    "/api/fhir/Procedure": _search("Procedure"),
    "/api/fhir/Observation": _search("Observation"),
}

COMPONENTS: dict[str, Any] = {"schemas": SCHEMAS, "responses": RESPONSES}
