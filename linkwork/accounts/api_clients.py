"""API clients: making, revoking and recognising the keys GP systems use for the FHIR API.

A key is ``lw_`` + 8 characters anyone may see (the prefix, shown in lists and audit) + ``_`` + 43 secret
characters (256 random bits). Only its SHA-256 digest is stored, so a copy of the database gives no working key;
looking one up is one indexed query on the digest, and the comparison is the database's equality on a digest,
which reveals nothing useful about the key's characters."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from linkwork.accounts.models import ApiClient, Organisation, OrganisationKind
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record

KEY_PREFIX = "lw_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_client_create(
    *, name: str, organisation: Organisation, service: Organisation, by: Any
) -> tuple[ApiClient, str]:
    """A new client and its key (returned once, never stored). The organisation must refer to the service."""
    if not service.is_service:
        raise ValidationError("API keys are for sending referrals to a social prescribing service")
    if organisation.kind not in (OrganisationKind.PRACTICE, OrganisationKind.AGENCY):
        raise ValidationError("API keys are for GP practices and referring agencies")
    if not organisation.services.filter(pk=service.pk).exists():
        raise ValidationError(f"{organisation.name} does not refer to {service.name}")
    prefix = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        client = ApiClient.objects.create(
            name=name.strip()[:150],
            organisation=organisation,
            service=service,
            prefix=f"{KEY_PREFIX}{prefix}",
            key_digest=digest(key),
            created_by=by,
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=client,
            summary=f"API key {client.prefix}… for {organisation.name} to refer to {service.name}",
        )
    return client, key


def api_client_revoke(*, client: ApiClient, by: Any) -> ApiClient:
    """Revoke at once; the key stops working on its next use. Revoking twice changes nothing."""
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().get(pk=client.pk)
        if client.revoked_at is None:
            client.revoked_at, client.revoked_by = timezone.now(), by
            client.save(update_fields=["revoked_at", "revoked_by"])
            audit_record(actor=by, action=Action.UPDATE, obj=client, summary=f"API key {client.prefix}… revoked")
    return client


def api_client_for_key(key: str) -> ApiClient | None:
    """The client holding this key, revoked or not (the caller tells them apart), or None."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    return ApiClient.objects.select_related("organisation", "service").filter(key_digest=digest(key)).first()


def api_client_used(*, client: ApiClient) -> None:
    """Remember when a key was last used, at most once a minute (a busy system would otherwise write each call)."""
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
