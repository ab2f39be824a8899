"""Sign-in and sign-out are audited through Django's own auth signals."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import signals
from django.dispatch import receiver
from django.http import HttpRequest

from linkwork.audit.models import Action
from linkwork.audit.services import audit_record


@receiver(signals.user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    audit_record(request=request, actor=user, action=Action.LOGIN, obj=user)


@receiver(signals.user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(request=request, actor=user, action=Action.LOGOUT, obj=user)


@receiver(signals.user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    audit_record(
        request=request,
        action=Action.LOGIN_FAILED,
        object_type="accounts.user",
        summary=f"Failed sign-in for {str(credentials.get('username', ''))[:200]}",
    )
