"""Build ORUK 3.0 JSON from the directory models.

Every function here is pure: it reads the objects it is given (with their prefetched relations) and never queries.
Optional ORUK fields are left out rather than sent empty, because the schemas type most of them strictly (a null
``minimum_age`` or an empty ``url`` would not validate). Child records Linkwork keeps as fields of the service
(location, address, contact, phone, cost, languages, accessibility) get stable ids derived from the service id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from community.models import (
    Accessibility,
    Capacity,
    CommunityService,
    Provider,
    Schedule,
    TaxonomyTerm,
)

# The namespace migration 0003 derived the taxonomy term ids from; the taxonomy and child ids derive from it too.
NAMESPACE = uuid.UUID("6b0c1f57-63a5-4a39-9b6e-5c1a61f0b5a1")
TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:linkwork-activity-categories")
TAXONOMY_NAME = "Linkwork activity categories"
TAXONOMY_DESCRIPTION = "The kinds of community activity a social prescribing link worker connects people to."

HSDS_VERSION = "HSDS-UK-3.0"  # the value the ORUK validator reads to pick its 3.0 test profile
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/openapi.json"

# A service has at most one location, so its service_at_location id is the service id with these bits flipped:
# reversible (``/service_at_locations/{id}`` needs no stored mapping) and, with the version and variant bits left
# alone, still a valid UUID of the same version.
_SAL_MASK = uuid.uuid5(NAMESPACE, "service_at_location").int & ~((0xF << 76) | (0x3 << 62))


def service_at_location_id(service_id: uuid.UUID) -> uuid.UUID:
    return uuid.UUID(int=service_id.int ^ _SAL_MASK)


def service_id_for_location(service_at_location_id: uuid.UUID) -> uuid.UUID:
    return uuid.UUID(int=service_at_location_id.int ^ _SAL_MASK)


def _child_id(kind: str, service_id: uuid.UUID, *parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join([kind, str(service_id), *map(str, parts)])))


def _url(value: str) -> str | None:
    """An absolute http(s) URL, or None (a bare "www.example.org" would fail the schema's ``uri`` format)."""
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc and " " not in value.strip() else None


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", []):
        data[key] = value


def timestamp(value: dt.datetime) -> str:
    """UTC, ISO 8601 with a ``Z``, as the ORUK examples write it."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def page(*, contents: list[dict[str, Any]], total: int, page_number: int, per_page: int) -> dict[str, Any]:
    """The ORUK ``Page`` envelope; ``size`` is the number of items on this page, as the profile describes it."""
    total_pages = -(-total // per_page)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


# --- Taxonomy ------------------------------------------------------------------------------------------------


def taxonomy_term(term: TaxonomyTerm) -> dict[str, Any]:
    return {
        "id": str(term.id),
        "name": term.name,
        "description": term.description or term.name,
        "taxonomy": TAXONOMY_NAME,
        "taxonomy_id": str(TAXONOMY_ID),
        "term": term.code,
    }


def taxonomy(*, terms: Iterable[TaxonomyTerm] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(TAXONOMY_ID), "name": TAXONOMY_NAME, "description": TAXONOMY_DESCRIPTION}
    if terms is not None:
        data["taxonomy_terms"] = [taxonomy_term(t) for t in terms]
    return data


# --- Organisation ----------------------------------------------------------------------------------------------


def organization(provider: Provider, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(provider.id), "name": provider.name, "description": provider.description}
    _put(data, "email", provider.email.strip() if "@" in provider.email else "")
    _put(data, "website", _url(provider.website))
    if full and provider.charity_number:
        data["organization_identifiers"] = [
            {
                "id": str(uuid.uuid5(NAMESPACE, f"charity:{provider.id}")),
                "organization_id": str(provider.id),
                "identifier_scheme": "GB-CHC",
                "identifier_type": "Registered charity number",
                "identifier": provider.charity_number,
            }
        ]
    return data


# --- Service -----------------------------------------------------------------------------------------------------


def _fees(service: CommunityService) -> str:
    if service.is_free:
        return "Free"
    if service.cost_amount is not None:
        return f"£{service.cost_amount:.2f} {service.cost_description}".strip()
    return service.cost_description or "There is a cost"


def _alert(service: CommunityService) -> str:
    if service.capacity == Capacity.FULL:
        return "Full at the moment: not taking new members"
    if service.capacity == Capacity.WAITING_LIST:
        return "There is a waiting list for new members"
    return ""


def service_summary(service: CommunityService) -> dict[str, Any]:
    """The one-to-one fields of a service and its organisation (``compiled/service_list.json``)."""
    data: dict[str, Any] = {
        "id": str(service.id),
        "organization_id": str(service.provider_id),
        "name": service.name,
        "description": service.description,
        "status": service.status,
        "fees": _fees(service),
        "last_modified": timestamp(service.updated_at),
    }
    _put(data, "url", _url(service.url))
    _put(data, "email", service.email.strip() if "@" in service.email else "")
    _put(data, "minimum_age", service.minimum_age)
    _put(data, "maximum_age", service.maximum_age)
    _put(data, "alert", _alert(service))
    if service.qa_complete and service.last_checked_on:
        data["assured_date"] = service.last_checked_on.isoformat()
    # HSDS 3 fields the UK profile leaves optional: who it is for, and how to join.
    _put(data, "eligibility_description", service.eligibility)
    data["application_process"] = service.get_how_to_join_display()
    data["organization"] = organization(service.provider)
    return data


def _time(value: dt.time | None) -> str | None:
    # Local wall-clock time: a weekly group meets at 10:00 in winter and summer alike, so no UTC offset is given.
    return value.strftime("%H:%M") if value else None


def schedule(item: Schedule) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(item.id), "service_id": str(item.service_id)}
    if item.freq == Schedule.Frequency.ONCE:
        # ORUK's freq has no one-off value: a one-off is a schedule valid on a single day.
        if item.on_date:
            data.update(dtstart=item.on_date.isoformat(), valid_from=item.on_date.isoformat())
            data["valid_to"] = item.on_date.isoformat()
    else:
        data.update(freq=item.freq, interval=1)
    _put(data, "byday", ",".join(item.byday))
    _put(data, "opens_at", _time(item.opens_at))
    _put(data, "closes_at", _time(item.closes_at))
    _put(data, "description", item.description)
    data["attending_type"] = "In person"
    return data


def _schedules(service: CommunityService) -> list[dict[str, Any]]:
    rows = [schedule(s) for s in service.schedules.all()]
    if not rows and service.schedule:
        rows = [
            {"id": _child_id("schedule", service.id), "service_id": str(service.id), "description": service.schedule}
        ]
    return rows


def has_location(service: CommunityService) -> bool:
    return bool(service.address.strip() or service.postcode.strip() or service.latitude is not None)


def location(service: CommunityService, *, full: bool) -> dict[str, Any]:
    """The place a service runs: ORUK ``location``, with address and accessibility when ``full``."""
    location_id = _child_id("location", service.id)
    parts = [p.strip() for p in service.address.split(",") if p.strip()]
    data: dict[str, Any] = {
        "id": location_id,
        "location_type": "physical",
        "name": parts[0] if parts else service.postcode or service.name,
    }
    if service.latitude is not None and service.longitude is not None:
        data.update(latitude=service.latitude, longitude=service.longitude)
    if not full:
        return data
    if parts or service.postcode:
        address: dict[str, Any] = {
            "id": _child_id("address", service.id),
            "location_id": location_id,
            "address_1": parts[0] if parts else "",
            "city": parts[-1] if len(parts) > 1 else "",
            "state_province": "",
            "postal_code": service.postcode,
            "country": "GB",
            "address_type": "physical",
        }
        _put(address, "address_2", ", ".join(parts[1:-1]))
        data["addresses"] = [address]
    data["accessibility"] = [
        {
            "id": _child_id("accessibility", service.id, code),
            "location_id": location_id,
            "description": Accessibility(code).label,
            "accessibility": Accessibility(code).label,
        }
        for code in service.accessibility
        if code in Accessibility.values
    ]
    return data


def _attributes(service: CommunityService, terms: Mapping[str, TaxonomyTerm]) -> list[dict[str, Any]]:
    return [
        {
            "id": _child_id("attribute", service.id, terms[code].id),
            "link_id": str(service.id),
            "link_type": "service",
            "taxonomy_term_id": str(terms[code].id),
            "taxonomy_term": taxonomy_term(terms[code]),
        }
        for code in service.categories
        if code in terms
    ]


def _cost_options(service: CommunityService) -> list[dict[str, Any]]:
    option: dict[str, Any] = {"id": _child_id("cost", service.id), "service_id": str(service.id)}
    if service.is_free:
        option.update(option="Free", amount=0)
    elif service.cost_amount is not None:
        option["amount"] = float(service.cost_amount.quantize(Decimal("0.01")))
        _put(option, "amount_description", service.cost_description)
    else:
        _put(option, "amount_description", service.cost_description)
    return [option]


def service_full(service: CommunityService, *, terms: Mapping[str, TaxonomyTerm]) -> dict[str, Any]:
    """A fully nested service (``compiled/service.json``). Needs ``provider`` and ``schedules`` loaded, and the
    taxonomy terms by code."""
    data = service_summary(service)
    data["organization"] = organization(service.provider, full=True)
    data["schedules"] = _schedules(service)
    data["service_at_locations"] = (
        [
            {
                "id": str(service_at_location_id(service.id)),
                "service_id": str(service.id),
                "location_id": _child_id("location", service.id),
                "location": location(service, full=True),
            }
        ]
        if has_location(service)
        else []
    )
    data["languages"] = [
        {"id": _child_id("language", service.id, name), "service_id": str(service.id), "name": name}
        for name in service.languages
    ]
    data["cost_options"] = _cost_options(service)
    data["contacts"] = (
        [{"id": _child_id("contact", service.id), "service_id": str(service.id), "name": service.contact_name}]
        if service.contact_name
        else []
    )
    # HSDS 3 service phones (the UK compiled schema does not list them; each validates against phone.json).
    data["phones"] = (
        [{"id": _child_id("phone", service.id), "service_id": str(service.id), "number": service.phone}]
        if service.phone
        else []
    )
    data["attributes"] = _attributes(service, terms)
    return data


def service_at_location(
    service: CommunityService, *, full: bool, terms: Mapping[str, TaxonomyTerm] | None = None
) -> dict[str, Any]:
    """A service at its location: list shape (``compiled/service_at_location_list.json``) or, with ``full``,
    the nested one (``compiled/service_at_location.json``)."""
    service_data = service_full(service, terms=terms or {}) if full else service_summary(service)
    service_data.pop("service_at_locations", None)
    return {
        "id": str(service_at_location_id(service.id)),
        "service_id": str(service.id),
        "location_id": _child_id("location", service.id),
        "location": location(service, full=full),
        "service": service_data,
    }
