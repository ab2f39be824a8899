"""The service's side: the triage queue, a referral's page, and the decisions taken on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from linkwork.accounts.access import SERVICE_ROLES, access_for, link_worker_title, role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from linkwork.links import object_url
from linkwork.pagination import PageWithTotal, paginate
from referrals import forms, selectors, services
from referrals.models import Referral, ReferralStatus

QUEUE_PER_PAGE = 50

# A line of the queue. Written here, not by a template loop: fifty lines of links, tags and filters were a third
# of the page's time (make bench); queue_rows_html writes what the loop wrote (tests/test_referral_views.py).
QUEUE_ROW = """    <tr role="row" class="nhsuk-table__row">
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Reference </span><a href="{url}">{reference}</a></td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Person </span>{person}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">From </span>{source}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Waiting </span>{waiting}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Flags </span>
        {flags}
      </td>
    </tr>
"""  # noqa: E501


def queue_rows_html(rows: list[selectors.QueueRow]) -> SafeString:
    """The queue's lines, every value escaped as the template language escapes it."""
    lines = []
    for row in rows:
        r = row.referral
        days = row.waiting_working_days
        waiting = f"{days} working day{'' if days == 1 else 's'}"
        if row.overdue:
            waiting = f'<strong class="nhsuk-tag nhsuk-tag--red">{waiting}</strong>'
        flags = []
        if r.possible_duplicate:
            flags.append('<strong class="nhsuk-tag nhsuk-tag--orange">Possible duplicate</strong>')
        if r.risk_information:
            flags.append('<strong class="nhsuk-tag nhsuk-tag--red">Risk information</strong>')
        if r.interpreter_needed:
            flags.append(f'<strong class="nhsuk-tag nhsuk-tag--purple">Interpreter: {escape(r.language)}</strong>')
        source = r.source_organisation.name if r.source_organisation else ""
        lines.append(
            QUEUE_ROW.format(
                url=object_url("referrals:detail", r.pk),
                reference=escape(r.reference),
                person=escape(r.person_name),
                source=escape(source or r.get_channel_display()),
                waiting=waiting,
                flags=" ".join(flags) if flags else "None",
            )
        )
    return mark_safe("".join(lines))  # noqa: S308  # nosec B308 B703 - every value above is escaped


@role_required(*SERVICE_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    """New referrals, oldest first, a page at a time: a backlog of a thousand (a service closed over a holiday,
    or the benchmark's own referrals) made one page of a thousand lines, half a second each at ICB scale."""
    access = access_for(request.user)
    service_list = access.services(*SERVICE_ROLES)
    # The page's SQL is kept a process for these services and page (linkwork.compiled): building and compiling the
    # queue's duplicate checks took longer than PostgreSQL took to run them (make bench, scale 10: 2.7 ms to 1.5 ms).
    referrals = PageWithTotal(
        lambda: selectors.waiting_to(service_list),
        page=request.GET.get("page"),
        per_page=QUEUE_PER_PAGE,
        key=("referrals.queue", tuple(sorted(s.pk for s in service_list))),
    )
    pagination = paginate(request, referrals, per_page=QUEUE_PER_PAGE)
    return render(
        request,
        "referrals/queue.html",
        {
            "rows_html": queue_rows_html(selectors.queue_rows(pagination.items)),
            "total": pagination.page.paginator.count,
            "pagination": pagination,
            "services": service_list,
            "can_record": access.has(*selectors.TRIAGE_ROLES),
            "can_manage_links": access.has(Role.SERVICE_MANAGER),
        },
    )


def _forms(referral: Referral, data: Any = None, which: str = "") -> dict[str, Any]:
    duplicates = selectors.duplicates_for(referral)
    title = referral.service.link_worker_title
    return {
        "duplicates": duplicates,
        "accept_form": forms.AcceptForm(
            data if which == "accept" else None,
            link_workers=selectors.link_workers_of(referral.service),
            open_cases=duplicates.cases,
            clients=duplicates.clients if not referral.nhs_number or len(duplicates.clients) != 1 else [],
            title=title,
        ),
        "decline_form": forms.DeclineForm(data if which == "decline" else None),
        "redirect_form": forms.RedirectForm(
            data if which == "redirect" else None, services=selectors.other_services(referral.service)
        ),
        "close_form": forms.CloseForm(data if which == "close" else None),
    }


def _page(request: HttpRequest, referral: Referral, status: int = 200, **extra: Any) -> HttpResponse:
    access = access_for(request.user)
    context = {
        "referral": referral,
        "events": referral.events.select_related("by"),
        "can_triage": referral.service_id in access.service_ids(*selectors.TRIAGE_ROLES),
        "link_worker_title": link_worker_title([referral.service]),
        **_forms(referral),
        **extra,
    }
    return render(request, "referrals/detail.html", context, status=status)


@role_required(*SERVICE_ROLES)
def detail(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    referral = selectors.referral_for_user(request.user, referral_id)
    audit_record(request=request, action=Action.VIEW, obj=referral, summary=referral.reference)
    return _page(request, referral)


TARGET = {"accept": ReferralStatus.ACCEPTED, "decline": ReferralStatus.DECLINED, "close": ReferralStatus.CLOSED}


def _decide(request: HttpRequest, referral_id: UUID, which: str) -> tuple[Referral, Any]:
    """The referral (404/403 as the access helper says) and the bound form; raises TransitionError first if
    the decision is no longer possible, so a stale page gets the reason rather than form errors."""
    referral = selectors.referral_for_user(request.user, referral_id, write=True)
    if which == "redirect" and referral.status != ReferralStatus.NEW:
        raise services.TransitionError("Only a referral waiting for triage can be redirected")
    if which in TARGET:
        services.require_transition(referral, TARGET[which])
    form = _forms(referral, request.POST, which)[f"{which}_form"]
    return referral, form


def _invalid(request: HttpRequest, referral: Referral, which: str, form: Any) -> HttpResponse:
    return _page(request, referral, status=400, **{f"{which}_form": form, "open_panel": which})


def _refused(request: HttpRequest, referral_id: UUID, error: ValidationError) -> HttpResponse:
    messages.error(request, " ".join(error.messages))
    return redirect("referrals:detail", referral_id)


def _decision(
    request: HttpRequest,
    referral_id: UUID,
    which: str,
    act: Callable[[Referral, dict[str, Any]], str],
    audit: str,
    then: str = "referrals:queue",
) -> HttpResponse:
    """The shape every triage decision shares: a stale page gets the reason, bad input the form again (400),
    a refusal from the service its message; success is audited, announced and redirected."""
    try:
        referral, form = _decide(request, referral_id, which)
    except services.TransitionError as error:
        return _refused(request, referral_id, error)
    if not form.is_valid():
        return _invalid(request, referral, which, form)
    try:
        message = act(referral, form.cleaned_data)
    except ValidationError as error:
        return _refused(request, referral.pk, error)
    audit_record(request=request, action=Action.UPDATE, obj=referral, summary=f"{audit} {referral.reference}")
    messages.success(request, message)
    return redirect(then, referral.pk) if then == "referrals:detail" else redirect(then)


@require_POST
@role_required(*selectors.TRIAGE_ROLES)
def accept(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    def act(referral: Referral, data: dict[str, Any]) -> str:
        case = services.referral_accept(
            referral=referral,
            by=request.user,
            assignee=data.get("assignee"),
            client=data["client_record"],
            into_case=data["into_case"],
        )
        who = case.link_worker.full_name if case.link_worker else "the existing case"
        return f"Referral {referral.reference} accepted and assigned to {who}"

    return _decision(request, referral_id, "accept", act, "Accepted")


@require_POST
@role_required(*selectors.TRIAGE_ROLES)
def decline(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    def act(referral: Referral, data: dict[str, Any]) -> str:
        services.referral_decline(referral=referral, by=request.user, reason=data["reason"], note=data["note"])
        return f"Referral {referral.reference} declined. The referrer has been told"

    return _decision(request, referral_id, "decline", act, "Declined")


@require_POST
@role_required(*selectors.TRIAGE_ROLES)
def redirect_referral(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    def act(referral: Referral, data: dict[str, Any]) -> str:
        services.referral_redirect(referral=referral, by=request.user, to_service=data["service"], note=data["note"])
        return f"Referral {referral.reference} sent to {data['service'].name}"

    return _decision(request, referral_id, "redirect", act, "Redirected")


@require_POST
@role_required(*selectors.TRIAGE_ROLES)
def close(request: HttpRequest, referral_id: UUID) -> HttpResponse:
    def act(referral: Referral, data: dict[str, Any]) -> str:
        services.referral_close(referral=referral, by=request.user, reason=data["reason"], summary=data["summary"])
        return "Case closed. The referrer has been sent the outcome summary"

    return _decision(request, referral_id, "close", act, "Closed", then="referrals:detail")
