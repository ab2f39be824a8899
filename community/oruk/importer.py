"""Import another publisher's Open Referral UK 3.0 feed into one social prescribing service's directory.

Organisations become ``Provider`` rows and services ``CommunityService`` rows (with their ``Schedule`` rows), keyed
by (the owning service, ``source``, the feed's own id as ``external_id``): importing the same feed again refreshes
what is there and never duplicates it. A run reads and checks everything before it writes anything, then writes in
one transaction, so a run either imports every item it reports or nothing at all.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.error import URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from django.core.exceptions import ValidationError
from django.db import models, transaction

from community.models import (
    Accessibility,
    CommunityService,
    PostcodeArea,
    Provider,
    Schedule,
    TaxonomyTerm,
    Weekday,
)
from community.oruk import schema
from linkwork.accounts.models import Organisation

FETCH_TIMEOUT_SECONDS = 30
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
MAX_PAGES = 1000
PER_PAGE = 100
SERVICE_SCHEMA = schema.COMPILED + "service.json"

# The service fields a feed owns; the rest (quality checks, whether it is public, how to join, capacity) are kept by
# the link workers and an import never touches them.
FEED_FIELDS = (
    "name",
    "description",
    "url",
    "email",
    "status",
    "minimum_age",
    "maximum_age",
    "eligibility",
    "is_free",
    "cost_amount",
    "cost_description",
    "categories",
    "languages",
    "contact_name",
    "phone",
    "address",
    "postcode",
    "latitude",
    "longitude",
    "accessibility",
    "schedule",
)
PROVIDER_FIELDS = ("name", "description", "website", "email", "charity_number")
SCHEDULE_FIELDS = ("freq", "byday", "opens_at", "closes_at", "on_date", "description")

Fetch = Callable[[str], Any]


class FeedError(Exception):
    """The feed could not be read (network, HTTP status, not JSON, too large, not an ORUK document)."""


@dataclass(frozen=True)
class Skipped:
    item: str
    reason: str


@dataclass
class ImportReport:
    """What a run did, by the feed's service ids. ``committed`` is False when nothing was written."""

    source: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    organizations_created: int = 0
    organizations_updated: int = 0
    committed: bool = False

    def lines(self) -> list[str]:
        lines = [
            f"Feed: {self.source}",
            f"Services: {len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.skipped)} skipped",
            f"Organisations: {self.organizations_created} created, {self.organizations_updated} updated",
        ]
        lines += [f"Skipped {s.item}: {s.reason}" for s in self.skipped]
        if not self.committed:
            lines.append("Nothing was imported.")
        return lines


@dataclass
class _Item:
    external_id: str
    organization_id: str
    fields: dict[str, Any]
    schedules: list[dict[str, Any]]


class _Invalid(Exception):
    pass


# --- Reading a feed --------------------------------------------------------------------------------------------


def fetch_json(url: str) -> Any:
    """GET ``url`` and parse it as JSON: http(s) only, a 30-second timeout, at most 20 MB. Raises FeedError."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FeedError(f"{url}: only http and https addresses can be fetched")
    request = Request(url, headers={"Accept": "application/json", "User-Agent": "Linkwork ORUK importer"})  # noqa: S310
    try:
        # the scheme is checked above: http(s) only, never file: or custom schemes
        with urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except (URLError, TimeoutError, OSError) as exc:
        raise FeedError(f"{url}: {exc}") from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise FeedError(f"{url}: the response is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise FeedError(f"{url}: not JSON ({exc})") from exc


def feed_pages(*, base_url: str, fetch: Fetch = fetch_json) -> Iterator[dict[str, Any]]:
    """The ``/services`` pages of an ORUK API, each item replaced by its fully nested ``/services/{id}`` (list items
    carry no schedules, locations or contacts). Raises FeedError if any request fails."""
    base = base_url.rstrip("/")
    for number in range(1, MAX_PAGES + 1):
        listing = fetch(f"{base}/services?{urlencode({'page': number, 'per_page': PER_PAGE})}")
        if not isinstance(listing, dict) or not isinstance(listing.get("contents"), list):
            raise FeedError(f"{base}/services page {number} is not an ORUK page")
        contents = [
            fetch(f"{base}/services/{item['id']}") if isinstance(item, dict) and "id" in item else item
            for item in listing["contents"]
        ]
        yield {**listing, "contents": contents}
        total_pages = listing.get("total_pages")
        if not contents or listing.get("last_page") is True or (isinstance(total_pages, int) and number >= total_pages):
            return
    raise FeedError(f"{base}: more than {MAX_PAGES} pages")


def pages_from_document(document: Any) -> list[dict[str, Any]]:
    """A saved feed may be a Page, a single service, or a list of services; any of them becomes a list of pages."""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return [document]
    if isinstance(document, dict):
        return [{"contents": [document]}]
    if isinstance(document, list):
        return [{"contents": document}]
    raise FeedError("The file holds neither an ORUK page nor a service")


# --- Mapping ORUK to the directory -------------------------------------------------------------------------------


def _text(value: Any, limit: int | None = None) -> str:
    text = value.strip() if isinstance(value, str) else ""
    return text[:limit].strip() if limit else text


def _age(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if (isinstance(value, float) and not value.is_integer()) or not 0 <= value <= 150:
        raise _Invalid(f"{key} must be a whole number of years from 0 to 150, not {value}")
    return int(value)


_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$")


def _time(value: Any, what: str) -> dt.time | None:
    # Feeds give local wall-clock times, some with an offset; Linkwork keeps the wall-clock time.
    if not value:
        return None
    match = _TIME.match(str(value).strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise _Invalid(f"{what} {value!r} is not a time of day (HH:MM)")
    return dt.time(int(match[1]), int(match[2]), int(match[3] or 0))


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _schedules(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for entry in item.get("schedules") or []:
        days = [re.sub(r"^[+-]?\d+", "", d.strip().upper()) for d in _text(entry.get("byday")).split(",")]
        on_date = _date(entry.get("dtstart") or entry.get("valid_from"))
        freq = entry.get("freq") or (Schedule.Frequency.ONCE if on_date and not any(days) else "WEEKLY")
        rows.append(
            {
                "freq": freq,
                "byday": list(dict.fromkeys(d for d in days if d in Weekday.values)),
                "opens_at": _time(entry.get("opens_at"), "opens_at"),
                "closes_at": _time(entry.get("closes_at"), "closes_at"),
                "on_date": on_date if freq == Schedule.Frequency.ONCE else None,
                "description": _text(entry.get("description") or entry.get("notes"), 200),
            }
        )
    return rows


def _categories(item: Mapping[str, Any], terms: list[TaxonomyTerm]) -> list[str]:
    by_key: dict[str, str] = {}
    for term in terms:
        by_key.update({str(term.id): term.code, term.code.lower(): term.code, term.name.lower(): term.code})
    codes = []
    for attribute in item.get("attributes") or []:
        term = attribute.get("taxonomy_term") or {}
        keys = [attribute.get("taxonomy_term_id"), term.get("id"), term.get("term"), term.get("name")]
        code = next((by_key[k.lower()] for k in keys if isinstance(k, str) and k.lower() in by_key), None)
        if code:
            codes.append(code)
    return list(dict.fromkeys(codes))


def _cost(item: Mapping[str, Any]) -> dict[str, Any]:
    options = item.get("cost_options") or []
    paid = [o for o in options if isinstance(o.get("amount"), int | float) and o["amount"] > 0]
    if paid:
        try:
            amount = Decimal(str(paid[0]["amount"])).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise _Invalid(f"cost amount {paid[0]['amount']!r} is not a sum of money") from None
        description = _text(paid[0].get("amount_description") or paid[0].get("option"), 200)
        return {"is_free": False, "cost_amount": amount, "cost_description": description}
    fees = _text(item.get("fees"), 200)
    if fees and fees.lower() != "free" and not options:
        return {"is_free": False, "cost_amount": None, "cost_description": fees}
    return {"is_free": True, "cost_amount": None, "cost_description": ""}


def _place(item: Mapping[str, Any]) -> dict[str, Any]:
    located = [s["location"] for s in item.get("service_at_locations") or [] if isinstance(s.get("location"), dict)]
    place: dict[str, Any] = {"address": "", "postcode": "", "latitude": None, "longitude": None, "accessibility": []}
    if not located:
        return place
    where = located[0]
    lat, lng = where.get("latitude"), where.get("longitude")
    # Out-of-range coordinates (the upstream example has latitude 100) are dropped rather than mapped wrongly.
    if isinstance(lat, int | float) and isinstance(lng, int | float) and -90 <= lat <= 90 and -180 <= lng <= 180:
        place.update(latitude=float(lat), longitude=float(lng))
    addresses = where.get("addresses") or []
    if addresses:
        first = addresses[0]
        lines = [_text(first.get(k)) for k in ("address_1", "address_2", "city")]
        place["address"] = ", ".join(line for line in lines if line)[:300]
        postcode = _text(first.get("postal_code")).upper()
        place["postcode"] = postcode if len(postcode) <= 8 else ""  # longer is no UK postcode
    labels = {label.lower(): code for code, label in Accessibility.choices} | {c: c for c in Accessibility.values}
    found = [
        labels[text.lower()]
        for entry in where.get("accessibility") or []
        for text in (_text(entry.get("accessibility")), _text(entry.get("description")))
        if text.lower() in labels
    ]
    place["accessibility"] = list(dict.fromkeys(found))
    return place


def _objects(value: Any) -> list[dict[str, Any]]:
    # For HSDS fields the UK schema does not describe (and so does not check), such as phones.
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _phone(item: Mapping[str, Any]) -> str:
    phones = _objects(item.get("phones"))
    for contact in item.get("contacts") or []:
        phones += _objects(contact.get("phones"))
    return next((_text(p.get("number")) for p in phones if _text(p.get("number"))), "")


def _service_fields(item: Mapping[str, Any], terms: list[TaxonomyTerm]) -> dict[str, Any]:
    minimum, maximum = _age(item, "minimum_age"), _age(item, "maximum_age")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise _Invalid(f"minimum_age {minimum} is more than maximum_age {maximum}")
    schedules = item.get("schedules") or []
    return {
        "name": _text(item.get("name")),
        "description": _text(item.get("description")),
        "url": _text(item.get("url")),
        "email": _text(item.get("email")),
        "status": item.get("status"),
        "minimum_age": minimum,
        "maximum_age": maximum,
        "eligibility": _text(item.get("eligibility_description"), 300),
        "categories": _categories(item, terms),
        "languages": [n for n in dict.fromkeys(_text(x.get("name"), 40) for x in item.get("languages") or []) if n],
        "contact_name": next((_text(c.get("name"), 150) for c in item.get("contacts") or [] if c.get("name")), ""),
        "phone": _phone(item),
        "schedule": next((_text(s.get("description"), 200) for s in schedules if s.get("description")), ""),
        **_cost(item),
        **_place(item),
    }


def _provider_fields(organization: Mapping[str, Any]) -> dict[str, Any]:
    charity = next(
        (
            _text(i.get("identifier"), 20)
            for i in organization.get("organization_identifiers") or []
            if i.get("identifier_scheme") == "GB-CHC"
        ),
        "",
    )
    return {
        "name": _text(organization.get("name")),
        "description": _text(organization.get("description")),
        "website": _text(organization.get("website") or organization.get("uri")),
        "email": _text(organization.get("email")),
        "charity_number": charity,
    }


def _check(model: type[models.Model], fields: Mapping[str, Any], exclude: list[str]) -> None:
    """Field-level model validation (lengths, URLs, e-mail addresses, choices) before anything is written."""
    try:
        model(**fields).clean_fields(exclude=exclude)
    except ValidationError as exc:
        raise _Invalid("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None


# --- The run -----------------------------------------------------------------------------------------------------


def _label(item: Any, position: int) -> str:
    return str(item["id"]) if isinstance(item, dict) and item.get("id") else f"item {position}"


def _parse(
    pages: Iterable[Mapping[str, Any]], *, report: ImportReport, known_providers: set[str]
) -> tuple[list[_Item], dict[str, dict[str, Any]]]:
    terms = list(TaxonomyTerm.objects.all())
    items: list[_Item] = []
    organizations: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    position = 0
    for number, page in enumerate(pages, start=1):
        if not isinstance(page, Mapping) or not isinstance(page.get("contents"), list):
            raise FeedError(f"Page {number} is not an ORUK page (no contents list)")
        for raw in page["contents"]:
            position += 1
            label = _label(raw, position)
            problems = schema.errors(SERVICE_SCHEMA, raw)
            if problems:
                report.skipped.append(Skipped(label, "; ".join(problems)))
                continue
            if label in seen:
                report.skipped.append(Skipped(label, "appears more than once in the feed"))
                continue
            seen.add(label)
            try:
                organization = raw.get("organization")
                organization_id = str(organization["id"] if organization else raw.get("organization_id") or "")
                provider_fields = _provider_fields(organization) if organization else None
                if provider_fields is not None:
                    _check(Provider, provider_fields, exclude=["service"])
                elif organization_id not in organizations and organization_id not in known_providers:
                    raise _Invalid("it names no organisation that is in the feed or already imported")
                fields = _service_fields(raw, terms)
                _check(CommunityService, fields, exclude=["provider"])
                schedules = _schedules(raw)
                for row in schedules:
                    _check(Schedule, row, exclude=["service"])
            except _Invalid as exc:
                report.skipped.append(Skipped(label, str(exc)))
                continue
            # Only now, so a skipped item brings in no organisation of its own.
            if provider_fields is not None:
                organizations[organization_id] = provider_fields
            items.append(_Item(label, organization_id, fields, schedules))
    return items, organizations


def _locate(items: list[_Item]) -> None:
    """Services with a postcode but no coordinates get the postcode's centre, as the directory's own do."""
    missing = {
        PostcodeArea.key(i.fields["postcode"]) for i in items if i.fields["postcode"] and i.fields["latitude"] is None
    }
    if not missing:
        return
    areas = PostcodeArea.objects.filter(postcode__in=missing, latitude__isnull=False, longitude__isnull=False)
    points = {a.postcode: (a.latitude, a.longitude) for a in areas}
    for item in items:
        point = points.get(PostcodeArea.key(item.fields["postcode"]))
        if point and item.fields["latitude"] is None:
            item.fields["latitude"], item.fields["longitude"] = point


def _schedule_rows(schedules: Iterable[Schedule]) -> list[tuple[Any, ...]]:
    return sorted((tuple(str(getattr(s, f)) for f in SCHEDULE_FIELDS) for s in schedules), key=str)


def _write(
    *,
    service: Organisation,
    source: str,
    items: list[_Item],
    organizations: Mapping[str, dict[str, Any]],
    report: ImportReport,
) -> None:
    providers = {p.external_id: p for p in Provider.objects.filter(service=service, source=source)}
    for external_id, provider_fields in organizations.items():
        provider = providers.get(external_id)
        if provider is None:
            providers[external_id] = Provider.objects.create(
                service=service, source=source, external_id=external_id, **provider_fields
            )
            report.organizations_created += 1
        elif any(getattr(provider, k) != v for k, v in provider_fields.items()):
            for key, value in provider_fields.items():
                setattr(provider, key, value)
            provider.save()
            report.organizations_updated += 1
    existing = {
        s.external_id: s
        for s in CommunityService.objects.filter(provider__service=service, source=source).prefetch_related("schedules")
    }
    for item in items:
        provider = providers[item.organization_id]
        current = existing.get(item.external_id)
        new_schedules = [Schedule(**row) for row in item.schedules]
        if current is None:
            current = CommunityService.objects.create(
                provider=provider, source=source, external_id=item.external_id, **item.fields
            )
            report.created.append(item.external_id)
        else:
            same_schedules = _schedule_rows(current.schedules.all()) == _schedule_rows(new_schedules)
            changed = current.provider_id != provider.pk or any(
                getattr(current, k) != v for k, v in item.fields.items()
            )
            if not changed and same_schedules:
                report.unchanged.append(item.external_id)
                continue
            current.provider = provider
            for key, value in item.fields.items():
                setattr(current, key, value)
            current.save()  # also when only the schedules changed, so last_modified moves on
            current.schedules.all().delete()
            report.updated.append(item.external_id)
        for row in new_schedules:
            row.service = current
        Schedule.objects.bulk_create(new_schedules)


def import_feed(
    *,
    service: Organisation,
    source: str,
    pages: Iterable[Mapping[str, Any]] | str,
    skip_invalid: bool = False,
    fetch: Fetch = fetch_json,
) -> ImportReport:
    """Import ORUK pages (or the API at a base URL, fetched with ``fetch``) into ``service``'s directory.

    Every item is checked against the ORUK 3.0 service schema and Linkwork's own field rules before anything is
    written. If any item fails, nothing is imported unless ``skip_invalid``, in which case the failing items are
    left out. Either way the report gives each failing item with its reason. The writes happen in one transaction
    (a failure part-way leaves nothing behind) and imports into the same service run one at a time. Services no
    longer in the feed are left as they are. Raises FeedError if the feed cannot be read.
    """
    source = source.strip()
    if not source or len(source) > 300:
        raise ValueError("source must name the feed in 1 to 300 characters")
    report = ImportReport(source=source)
    if isinstance(pages, str):
        pages = list(feed_pages(base_url=pages, fetch=fetch))  # fetched before the transaction opens
    known = set(
        Provider.objects.filter(service=service, source=source)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    items, organizations = _parse(pages, report=report, known_providers=known)
    _locate(items)
    if report.skipped and not skip_invalid:
        return report
    with transaction.atomic():
        # One import per service at a time: a second run waits here, then sees the first one's rows.
        Organisation.objects.select_for_update().filter(pk=service.pk).first()
        _write(service=service, source=source, items=items, organizations=organizations, report=report)
        report.committed = True
    return report
