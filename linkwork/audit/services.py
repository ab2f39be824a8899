"""Writing audit events. Reads and changes of identifiable data call ``audit_record``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from linkwork.audit.models import Action, AuditEvent


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    summary: str = "",
    actor_label: str = "",
) -> AuditEvent:
    """Append one event. ``actor`` defaults to the request's user; the object is named by its model label
    and primary key so the row outlives the object."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=(actor_label or getattr(actor, "email", "") or "")[:254],
        action=Action(action),
        object_type=object_type,
        object_id=object_id,
        summary=summary[:300],
        path=(request.get_full_path()[:300] if request is not None else ""),
        ip_address=client_ip(request) if request is not None else None,
    )
