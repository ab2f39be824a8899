"""The FHIR API: referrals in (ServiceRequest or Bundle), their progress out (Task), coded events out
(Procedure and Observation). Mounted at /api/fhir/; documented at /api/docs/.

Every call carries ``Authorization: Bearer <key>`` (``linkwork.accounts.api_clients``); it is audited, whatever
the answer, and counted against a per-key rate limit. Answers are FHIR JSON: a resource, or an OperationOutcome
saying every problem found. No session, no cookies, so no CSRF token either (a bearer key is not sent by a browser
on its own)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from linkwork.accounts.api_clients import api_client_for_key, api_client_used
from linkwork.accounts.models import ApiClient
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from referrals import fhir
from referrals.coded_events import coded_events
from referrals.fhir import Problem
from referrals.models import Channel, Referral
from referrals.services import referral_submit

FHIR_JSON = "application/fhir+json"


def fhir_response(resource: dict[str, Any], status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(json.dumps(resource), status=status, content_type=f"{FHIR_JSON}; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def outcome(status: int, message: str, code: str = "invalid", expression: str = "", **headers: str) -> HttpResponse:
    return fhir_response(fhir.operation_outcome([Problem(expression, message, code)]), status=status, **headers)


def _audit(request: HttpRequest, client: ApiClient | None, action: str, summary: str, obj: Any = None) -> None:
    label = f"API {client.prefix}… ({client.organisation.name})" if client else "API (no valid key)"
    audit_record(
        request=request,
        action=action,
        obj=obj,
        object_type="" if obj else "api.fhir",
        summary=summary,
        actor_label=label,
    )


def api_key_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Recognise the key, refuse revoked ones, apply the rate limit; the client goes to the view."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            _audit(request, None, Action.LOGIN_FAILED, f"{request.method} refused: no API key")
            return outcome(401, "Send an API key: Authorization: Bearer <key>", "login", WWW_Authenticate="Bearer")
        client = api_client_for_key(key.strip())
        if client is None:
            _audit(request, None, Action.LOGIN_FAILED, f"{request.method} refused: unknown API key")
            return outcome(401, "This API key is not recognised", "login", WWW_Authenticate="Bearer")
        if not client.is_active:
            _audit(request, client, Action.LOGIN_FAILED, f"{request.method} refused: API key revoked")
            return outcome(403, "This API key has been revoked", "forbidden")
        if not client.service.is_active or not client.organisation.is_active:
            _audit(request, client, Action.LOGIN_FAILED, f"{request.method} refused: organisation not active")
            return outcome(403, "The organisation or service of this API key is no longer active", "forbidden")
        limited = is_ratelimited(
            request,
            group="fhir-api",
            key=lambda _group, _request: str(client.pk),
            rate=settings.LINKWORK_API_RATE,
            increment=True,
        )
        if limited:
            _audit(request, client, Action.LOGIN_FAILED, f"{request.method} refused: rate limit")
            return outcome(
                429, f"Too many requests: the limit is {settings.LINKWORK_API_RATE}", "throttled", Retry_After="60"
            )
        api_client_used(client=client)
        request.api_client = client  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapped


def _read_body(request: HttpRequest) -> bytes | HttpResponse:
    content_type = request.content_type or ""
    if content_type not in fhir.CONTENT_TYPES:
        return outcome(415, f"Send FHIR JSON ({FHIR_JSON}), not {content_type[:60] or 'nothing'}", "not-supported")
    declared = request.headers.get("Content-Length", "0")
    if declared.isdigit() and int(declared) > fhir.MAX_BYTES:
        return outcome(413, f"The request is larger than {fhir.MAX_BYTES // 1024} kB", "too-costly")
    try:
        body = request.body
    except RequestDataTooBig:
        return outcome(413, f"The request is larger than {fhir.MAX_BYTES // 1024} kB", "too-costly")
    if len(body) > fhir.MAX_BYTES:
        return outcome(413, f"The request is larger than {fhir.MAX_BYTES // 1024} kB", "too-costly")
    return body


@csrf_exempt
@require_http_methods(["POST"])
@api_key_required
def submit(request: HttpRequest) -> HttpResponse:
    """POST a ServiceRequest (Patient contained) to /ServiceRequest, or a Bundle to the base: 201 and a Task for a
    new referral, 200 and the same Task when the same identifier is sent again, 400 (unreadable) or 422
    (readable, not acceptable) with an OperationOutcome listing every problem. Nothing is saved unless all is
    well."""
    client: ApiClient = request.api_client  # type: ignore[attr-defined]
    body = _read_body(request)
    if isinstance(body, HttpResponse):
        _audit(request, client, Action.CREATE, f"Referral refused: {body.status_code}")
        return body
    intake = fhir.read(body, ods_code=client.organisation.ods_code)
    if intake.problems:
        structural = any(p.code in ("structure", "not-supported") for p in intake.problems)
        _audit(request, client, Action.CREATE, f"Referral refused: {len(intake.problems)} problems")
        return fhir_response(fhir.operation_outcome(intake.problems), status=400 if structural else 422)
    key = fhir.idempotency_key(client.pk, intake.identifier)
    earlier = Referral.objects.select_related("service").filter(idempotency_key=key).first()
    if earlier is not None:
        _audit(request, client, Action.VIEW, f"Referral {earlier.reference} sent again: no new referral", earlier)
        return _task_response(earlier, intake.identifier, 200)
    try:
        referral, created = referral_submit(
            service=client.service,
            data=intake.data,
            channel=Channel.API,
            idempotency_key=key,
            source_organisation=client.organisation,
        )
    except ValidationError as error:
        _audit(request, client, Action.CREATE, "Referral refused by the service")
        return fhir_response(
            fhir.operation_outcome([Problem("ServiceRequest", m, "business-rule") for m in error.messages]), 422
        )
    _audit(
        request,
        client,
        Action.CREATE if created else Action.VIEW,
        f"Referral {referral.reference} {'received' if created else 'sent again'} through the FHIR API",
        referral,
    )
    return _task_response(referral, intake.identifier, 201 if created else 200)


def _task_response(referral: Referral, identifier: str, status: int) -> HttpResponse:
    location = reverse("fhir:task", args=[referral.pk])
    return fhir_response(fhir.task_for(referral, identifier=identifier), status=status, Location=location)


def _own_referral(client: ApiClient, pk: Any) -> Referral | None:
    """Only what this client's organisation sent to this client's service; anything else is not found."""
    return (
        Referral.objects.select_related("service")
        .filter(pk=pk, service=client.service, source_organisation=client.organisation)
        .first()
    )


@csrf_exempt
@require_GET
@api_key_required
def task(request: HttpRequest, pk: Any) -> HttpResponse:
    """GET /Task/<id>: the referral's progress (requested, accepted, rejected with the reason, completed)."""
    client: ApiClient = request.api_client  # type: ignore[attr-defined]
    try:
        referral = _own_referral(client, uuid.UUID(pk))
    except ValueError:
        referral = None  # not an id we ever give out: the same answer as someone else's
    if referral is None:
        _audit(request, client, Action.VIEW, f"Task {str(pk)[:40]} not found")
        return outcome(404, "No such Task for this API key", "not-found")
    _audit(request, client, Action.VIEW, f"Task for referral {referral.reference}", referral)
    return fhir_response(fhir.task_for(referral))


def searchset(resources: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": timezone.now().isoformat(),
        "total": len(resources),
        "link": [{"relation": "self", "url": url}],
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def _coded_resources(request: HttpRequest, code: str) -> HttpResponse:
    """Coded events for the client's practice as FHIR resources: accepted referrals as Procedures, declines as
    Observations (a 'situation' concept). ``?recorded=false`` for those not yet marked recorded; ``?date=geYYYY-MM-DD``
    for those since a date."""
    client: ApiClient = request.api_client  # type: ignore[attr-defined]
    pending = request.GET.get("recorded", "").lower() == "false"
    since = None
    raw = request.GET.get("date", "")
    if raw:
        try:
            since = dt.date.fromisoformat(raw.removeprefix("ge"))
        except ValueError:
            return outcome(400, "date must be geYYYY-MM-DD", "value", "date")
    events = [
        e
        for e in coded_events(practice_ids=[client.organisation.pk], pending_only=pending, since=since)
        if e.code == code
    ]
    # The key is scoped to one service: only the referrals the practice sent there.
    ours = set(
        Referral.objects.filter(pk__in=[e.referral_id for e in events], service=client.service).values_list(
            "pk", flat=True
        )
    )
    events = [e for e in events if e.referral_id in ours]
    resources = [fhir.coded_event_resource(e) for e in events]
    _audit(request, client, Action.EXPORT, f"{len(resources)} coded events ({code}) read through the FHIR API")
    return fhir_response(searchset(resources, request.build_absolute_uri()))


@csrf_exempt
@require_GET
@api_key_required
def procedures(request: HttpRequest) -> HttpResponse:
    return _coded_resources(request, fhir.REFERRAL_CODE)


@csrf_exempt
@require_GET
@api_key_required
def observations(request: HttpRequest) -> HttpResponse:
    return _coded_resources(request, fhir.DECLINED_CODE)
