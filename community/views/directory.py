from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

from crispy_forms.utils import render_crispy_form
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from community import forms, selectors, services
from linkwork.accounts.access import SERVICE_ROLES, role_required
from linkwork.accounts.models import Role
from linkwork.audit.models import Action
from linkwork.audit.services import audit_record
from linkwork.forms.kept import Asked, asked_of
from linkwork.pagination import PageWithTotal, paginate

MAINTAIN = (Role.LINK_WORKER, Role.SERVICE_MANAGER)
RESULTS_PER_PAGE = 20


def run_search(request: HttpRequest, **defaults: Any) -> tuple[forms.SearchForm, selectors.SearchResult | None]:
    """The search form bound to the query string, and its results (None until something is asked)."""
    data = request.GET.copy()
    for key, value in defaults.items():
        data.setdefault(key, value)
    form = forms.SearchForm(data or None)
    if not data or not form.is_valid():
        return form, None
    d = form.cleaned_data
    search = selectors.Search(
        text=d["q"],
        categories=tuple(d["categories"]),
        day=d["day"],
        time_of_day=d["time_of_day"],
        free_only=d["free_only"],
        accessibility=tuple(d["accessibility"]),
        postcode=d["postcode"],
        within_km=d["within_km"],
        open_only=d["open_only"],
    )
    result, shape, inputs = selectors.search_plan(user=request.user, search=search)
    # A page of results at a time, with the true total: a link worker reads the nearest few, and the cards
    # were most of the page's time (100 of them took ~60 ms to render at ICB scale, make bench).
    # The page and the total come in one query (linkwork.pagination.PageWithTotal), whose SQL is kept a process
    # for each shape of search and page, and asked with this search's services, words, categories and place.
    page_with_total = PageWithTotal(
        selectors.search_builder(shape),
        page=request.GET.get("page"),
        per_page=RESULTS_PER_PAGE,
        key=("community.search", shape) if shape[0] else None,
        inputs=inputs,
    )
    result.pagination = paginate(request, page_with_total, per_page=RESULTS_PER_PAGE)
    result.services = list(result.pagination.items)
    result.total = result.pagination.page.paginator.count
    return form, result


def search_form_html(form: forms.SearchForm) -> SafeString:
    """The search form as HTML: drawn once a process for each question, since its choices are constants and it
    carries no CSRF token (a GET), so the HTML follows from the query string alone. Drawing it through the crispy
    pack was a sixth of a search's time at ICB scale (make bench). Drawn every time under DEBUG, where templates
    change without a restart."""
    if settings.DEBUG:
        return mark_safe(render_crispy_form(form))  # noqa: S308  # nosec B308 B703 - our templates, autoescaped
    return mark_safe(_drawn_search_form(asked_of(form)))  # noqa: S308  # nosec B308 B703 - our templates, autoescaped


@lru_cache(maxsize=256)
def _drawn_search_form(asked: Asked | None) -> str:
    data = None
    if asked is not None:
        data = QueryDict(mutable=True)
        for name, values in asked:
            data.setlist(name, list(values))
    form = forms.SearchForm(data)
    form.is_valid()
    return str(render_crispy_form(form))


@role_required(*SERVICE_ROLES)
def directory(request: HttpRequest) -> HttpResponse:
    form, result = run_search(request)
    if result is None and not request.GET:
        result = selectors.SearchResult(
            services=list(
                selectors.directory_for(user=request.user).defer("search_vector").order_by("name", "pk")[:100]
            )
        )
    return render(
        request,
        "community/directory.html",
        {
            "form": form,
            "search_form_html": search_form_html(form),
            "result": result,
            "today": timezone.localdate(),
            # The services due a quality review: the maintainers' list, on the directory's own page. A search's
            # cards flag their own ("Checks due"), so the list is not put above someone's results.
            "overdue": None if request.GET else selectors.overdue_reviews(user=request.user),
        },
    )


@role_required(*SERVICE_ROLES)
def service_detail(request: HttpRequest, service_id: UUID) -> HttpResponse:
    service = selectors.service_for_user(request.user, service_id)
    return render(
        request,
        "community/service.html",
        {
            "service": service,
            "today": timezone.localdate(),
            "can_maintain": selectors.can_maintain(request.user, service.provider),
            "qa_form": forms.QAForm(
                initial={
                    "safeguarding_policy_seen": service.safeguarding_policy_seen,
                    "dbs_check": service.dbs_check,
                    "insurance_seen": service.insurance_seen,
                }
            ),
        },
    )


def _initial(service: Any) -> dict[str, Any]:
    initial = {f: getattr(service, f) for f in services.SERVICE_FIELDS}
    initial["languages"] = ", ".join(service.languages)
    schedule = service.schedules.first()
    if schedule:
        initial.update(days=schedule.byday, opens_at=schedule.opens_at, closes_at=schedule.closes_at)
    return initial


@role_required(*MAINTAIN)
def service_edit(request: HttpRequest, service_id: UUID) -> HttpResponse:
    service = selectors.service_for_user(request.user, service_id, write=True)
    form = forms.ServiceForm(request.POST or None, initial=_initial(service))
    if request.method == "POST" and form.is_valid():
        services.service_save(
            provider=service.provider,
            by=request.user,
            service=service,
            days=form.cleaned_data["days"],
            opens_at=form.cleaned_data["opens_at"],
            closes_at=form.cleaned_data["closes_at"],
            **form.service_fields(),
        )
        audit_record(request=request, action=Action.UPDATE, obj=service, summary=service.name)
        messages.success(request, f"{service.name} updated")
        return redirect("community:service", service.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "community/service_form.html",
        {"form": form, "service": service, "provider": service.provider},
        status=status,
    )


@role_required(*MAINTAIN)
def service_new(request: HttpRequest, provider_id: UUID) -> HttpResponse:
    provider = selectors.provider_for_user(request.user, provider_id, write=True)
    form = forms.ServiceForm(
        request.POST or None,
        initial={"is_free": True, "is_public": True, "status": "active", "how_to_join": "drop_in", "capacity": "open"},
    )
    if request.method == "POST" and form.is_valid():
        service = services.service_save(
            provider=provider,
            by=request.user,
            days=form.cleaned_data["days"],
            opens_at=form.cleaned_data["opens_at"],
            closes_at=form.cleaned_data["closes_at"],
            **form.service_fields(),
        )
        audit_record(request=request, action=Action.CREATE, obj=service, summary=service.name)
        messages.success(request, f"{service.name} added. Record its quality check before referring people")
        return redirect("community:service", service.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "community/service_form.html", {"form": form, "provider": provider}, status=status)


@role_required(*MAINTAIN)
def qa(request: HttpRequest, service_id: UUID) -> HttpResponse:
    service = selectors.service_for_user(request.user, service_id, write=True)
    if request.method != "POST":
        return redirect("community:service", service.pk)
    form = forms.QAForm(request.POST)
    form.helper.form_action = reverse("community:qa", args=[service.pk])
    if form.is_valid():
        services.qa_record(service=service, by=request.user, **form.cleaned_data)
        audit_record(request=request, action=Action.UPDATE, obj=service, summary="Quality check recorded")
        messages.success(request, "Quality check recorded")
        return redirect("community:service", service.pk)
    return render(
        request,
        "community/service.html",
        {"service": service, "today": timezone.localdate(), "can_maintain": True, "qa_form": form},
        status=400,
    )


@role_required(*SERVICE_ROLES)
def provider_detail(request: HttpRequest, provider_id: UUID) -> HttpResponse:
    provider = selectors.provider_for_user(request.user, provider_id)
    return render(
        request,
        "community/provider.html",
        {
            "provider": provider,
            "services": provider.services.all(),
            "needs": provider.development_needs.select_related("recorded_by"),
            "feedback": provider.feedback.select_related("recorded_by"),
            "can_maintain": selectors.can_maintain(request.user, provider),
            "need_form": forms.NeedForm(),
            "feedback_form": forms.FeedbackForm(),
        },
    )


def _provider_post(request: HttpRequest, provider_id: UUID, form_class: Any, save: Any, done: str) -> HttpResponse:
    provider = selectors.provider_for_user(request.user, provider_id, write=True)
    if request.method != "POST":
        return redirect("community:provider", provider.pk)
    form = form_class(request.POST)
    if form.is_valid():
        save(provider, form.cleaned_data)
        messages.success(request, done)
        return redirect("community:provider", provider.pk)
    context = {
        "provider": provider,
        "services": provider.services.all(),
        "needs": provider.development_needs.all(),
        "feedback": provider.feedback.all(),
        "can_maintain": True,
        "need_form": forms.NeedForm(),
        "feedback_form": forms.FeedbackForm(),
    }
    context["need_form" if form_class is forms.NeedForm else "feedback_form"] = form
    return render(request, "community/provider.html", context, status=400)


@role_required(*MAINTAIN)
def need_add(request: HttpRequest, provider_id: UUID) -> HttpResponse:
    return _provider_post(
        request,
        provider_id,
        forms.NeedForm,
        lambda p, d: services.need_record(provider=p, by=request.user, **d),
        "Development need recorded",
    )


@role_required(*MAINTAIN)
def feedback_add(request: HttpRequest, provider_id: UUID) -> HttpResponse:
    return _provider_post(
        request,
        provider_id,
        forms.FeedbackForm,
        lambda p, d: services.feedback_record(provider=p, by=request.user, **d),
        "Feedback recorded",
    )


@role_required(*MAINTAIN)
def need_update(request: HttpRequest, provider_id: UUID, need_id: UUID) -> HttpResponse:
    provider = selectors.provider_for_user(request.user, provider_id, write=True)
    need = provider.development_needs.filter(pk=need_id).first()
    if need is None:
        from django.http import Http404

        raise Http404
    form = forms.NeedUpdateForm(
        request.POST or None, initial={"status": need.status, "helped_by": need.helped_by, "outcome": need.outcome}
    )
    if request.method == "POST" and form.is_valid():
        services.need_update(need=need, by=request.user, **form.cleaned_data)
        messages.success(request, "Development need updated")
        return redirect("community:provider", provider.pk)
    return render(
        request,
        "community/need_form.html",
        {"provider": provider, "need": need, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@role_required(*MAINTAIN)
def provider_new(request: HttpRequest) -> HttpResponse:
    owners = selectors.access_for(request.user).services(*MAINTAIN)
    form = forms.ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and owners:
        provider = form.save(commit=False)
        provider.service = owners[0]
        provider.save()
        messages.success(request, f"{provider.name} added")
        return redirect("community:provider", provider.pk)
    return render(
        request, "community/provider_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )
