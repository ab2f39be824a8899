"""Every URL of the project, requested as every persona, answers as ``linkwork/accounts/permissions.py`` says.

The data is built once for the module (one of every kind of record, all in *our* service) inside a transaction
that is rolled back at the end; each test runs in a savepoint of it. Every free-text field of that data holds a
script payload, so every page a persona may open is also checked for stored XSS on the way.

A URL with no entry in the matrix fails ``test_every_url_has_an_entry``: say who may use it before it ships.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import DatabaseError, connection, models, transaction
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from clients import services as client_services
from clients.models import AlertKind, ContactMethod
from community import services as community_services
from community.models import DevelopmentNeed, Opportunity, TaxonomyTerm
from community.oruk import serializers as oruk
from linkwork.accounts import permissions
from linkwork.accounts.api_clients import api_client_create
from linkwork.accounts.models import Role
from linkwork.accounts.permissions import ALLOWED, LOGIN, MATRIX, PERSONAS, REDIRECT, REFUSALS
from linkwork.notifications.models import Reminder, ReminderSettings, Rule
from linkwork.notifications.services import notification_create
from outcomes import supervision_services
from outcomes.models import Assessment, Instrument, InstrumentItem, SystemUse
from referrals import services as referral_services
from referrals.models import Channel
from tests import factories
from tests.conftest import World, login, make_world

# --- The URLs ------------------------------------------------------------------------------------------------------
EXCLUDED_NAMESPACES = {"admin"}  # the Django admin checks is_staff itself: see test_the_django_admin_is_staff_only


def project_urls() -> dict[str, str]:
    """Every named URL of the project (namespaced, as for ``reverse``) with its route."""
    found: dict[str, str] = {}

    def walk(patterns: list[Any], namespace: str, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace in EXCLUDED_NAMESPACES:
                    continue
                inner = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
                walk(p.url_patterns, inner or "", prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name:
                found[f"{namespace}:{p.name}" if namespace else p.name] = prefix + str(p.pattern)

    walk(get_resolver().url_patterns, "", "")
    return found


URLS = project_urls()

# Which object fills each URL argument. Names shared by different kinds of object are settled per URL below.
URL_OBJECTS = {
    "client_id": "client",
    "alert_id": "alert",
    "case_id": "case",
    "connection_id": "connection",
    "visit_id": "visit",
    "referral_id": "referral",
    "link_id": "agency_link",
    "provider_id": "provider",
    "need_id": "need",
    "notification_id": "notification",
    "reminder_id": "reminder",
    "worker_id": "link_worker",
    "user_id": "link_worker",
    "session_id": "session",
    "action_id": "action",
    "concern_id": "concern",
    "instrument_id": "instrument",
    "timepoint": "baseline",
    "service_id": "directory_service",
    "api_client_id": "api_client",
}
URL_OBJECTS_BY_NAME: dict[str, dict[str, str]] = {
    "clients:connect": {"service_id": "unconnected_service"},
    "notifications:settings": {"service_id": "service"},
    "refer:self": {"service_id": "service"},
    "accounts:password_reset_confirm": {"uidb64": "bad_uid", "token": "bad_reset_token"},
    "openreferral:service": {"id": "directory_service"},
    "openreferral:service_at_location": {"id": "service_at_location"},
    "openreferral:taxonomy": {"id": "taxonomy"},
    "openreferral:taxonomy_term": {"id": "taxonomy_term"},
    "fhir:task": {"pk": "referral"},
}


def url_for(name: str, persona: str, objects: Objects, *, query: str | None = None, **chosen: str) -> str:
    """The URL with its arguments filled from ``objects`` (``chosen`` names other objects for some arguments) and
    the matrix entry's query string (or ``query``)."""
    arguments = re.findall(r"<(?:\w+:)?(\w+)>", URLS[name])
    ids = dict(objects.ids)
    # Only the agency_link persona holds a live link; everyone else tries a revoked one.
    ids["token"] = objects.ids["agency_token" if persona == "agency_link" else "revoked_agency_token"]
    chosen = {**URL_OBJECTS_BY_NAME.get(name, {}), **chosen}
    kwargs = {arg: ids[chosen.get(arg, URL_OBJECTS.get(arg, arg))] for arg in arguments}
    url = reverse(name, kwargs=kwargs)
    query = MATRIX[name].query if query is None else query
    return f"{url}?{query.format(**ids)}" if query else url


# --- The data ------------------------------------------------------------------------------------------------------
PAYLOAD = '<script>alert("xss-{n}")</script><img src=x onerror=alert({n})>'
SHORT_PAYLOAD = '<script>alert("xss-{n}")</script>'
RAW_MARKERS = ("<script>alert(", "<img src=x onerror")
# Fields that are not free text: validated formats, codes, references, links the system makes, secrets.
NOT_FREE_TEXT = {
    "nhs_number",
    "postcode",
    "phone",
    "referrer_phone",
    "reference",
    "token_hash",
    "key_digest",
    "prefix",
    "link",
    "snomed_code",
    "ods_code",
    "code",
    "lsoa_code",
    "external_id",
    "source",
    "password",
    "version",
    "contact_preference",
}
APPS = ("accounts", "clients", "community", "referrals", "outcomes", "notifications")


@dataclass
class Objects:
    world: World
    sessions: dict[str, str] = field(default_factory=dict)  # persona -> session cookie, signed in once
    ids: dict[str, str] = field(default_factory=dict)
    payloads: dict[int, str] = field(default_factory=dict)  # payload number -> "app.Model.field"
    append_only: list[str] = field(default_factory=list)


def _person(email: str, name: str, org: Any, role: str | None) -> Any:
    user = factories.UserFactory(email=email, full_name=name)
    if org is not None and role is not None:
        factories.MembershipFactory(user=user, organisation=org, role=role)
    return user


def _world() -> World:
    """The personas of tests/conftest.py's ``world``, made once for the module."""
    return make_world()


def _instrument() -> Instrument:
    # get_or_create: a transactional test elsewhere may have flushed the migration's rows from a reused database.
    instrument, _ = Instrument.objects.get_or_create(
        code="ucla3",
        version="1",
        defaults={"name": "UCLA 3-item loneliness scale", "short_name": "UCLA-3", "scoring": "sum"},
    )
    if not instrument.items.exists():
        InstrumentItem.objects.create(
            instrument=instrument, number=1, code="companionship", text="Lack companionship", options=[[1, "Hardly"]]
        )
    return instrument


def _referral_data(given: str, family: str, **extra: Any) -> dict[str, Any]:
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": dt.date(1950, 1, 2),
        "reasons": ["loneliness"],
        "consent_given": True,
        "hopes": "To meet people",
        **extra,
    }


def build(x: str) -> Objects:
    """One of every kind of record, in our service, written through the services where there is one. ``x`` is
    the text for fields written only at creation (append-only records)."""
    w = _world()
    lw, today, now = w.link_worker, timezone.localdate(), timezone.now()
    objects = Objects(world=w)
    ids = objects.ids

    client = factories.ClientFactory(service=w.service, practice=w.practice)
    case = factories.ActiveCaseFactory(client=client, link_worker=w.colleague)
    case = client_services.case_reassign(case=case, by=w.manager, to=lw, reason="Caseload balance")
    alert = client_services.alert_raise(client=client, by=lw, kind=AlertKind.OTHER, detail="Dog on site")
    client_services.contact_log(
        case=case,
        by=lw,
        at=now - dt.timedelta(days=2),
        method=ContactMethod.PHONE,
        duration_minutes=20,
        attempted_only=False,
        notes="Talked",
        next_step="Visit",
        follow_up_on=today + dt.timedelta(days=3),
    )
    client_services.what_matters_save(case=case, by=lw, expected_version=0, what_matters="Garden", worries="Money")
    client_services.plan_save(
        case=case,
        by=lw,
        goals=[{"goal": x, "status": "in_progress", "progress": x, "actions": [{"what": x, "who": x}]}],
        review_on=today + dt.timedelta(days=30),
        expected_version=0,
    )
    visit = client_services.home_visit_schedule(
        case=case, by=lw, planned_start=now + dt.timedelta(days=1), expected_minutes=60
    )
    provider = factories.ProviderFactory(service=w.service, name="Riverside Walkers")
    directory_service = factories.CommunityServiceFactory(
        provider=provider, name="Health walk", is_public=True, address="Park gates", postcode="LS1 4AP"
    )
    community_services.service_save(
        provider=provider,
        by=lw,
        service=directory_service,
        days=["WE"],
        opens_at=dt.time(10),
        closes_at=dt.time(11),
        name="Health walk",
        description="A walk",
    )
    unconnected = factories.CommunityServiceFactory(provider=provider, name="Knit and natter")
    connection = client_services.connection_create(case=case, by=lw, service=directory_service)
    client_services.connection_move(connection=connection, by=lw, status="referred")
    need = community_services.need_record(provider=provider, by=lw, kind=DevelopmentNeed.Kind.FUNDING, description="x")
    community_services.feedback_record(provider=provider, by=lw, note="Lovely group", received_on=today)
    community_services.opportunity_add(service=w.service, by=w.manager, kind=Opportunity.Kind.TRAINING, title="MHFA")

    session = supervision_services.supervision_session_record(
        service=w.service,
        supervisor=w.supervisor,
        link_worker=lw,
        held_on=today,
        cases=[case],
        concerns="Busy",
        wellbeing="managing",
        actions=[supervision_services.ActionDraft(what="Call back", owner=lw, due_on=today + dt.timedelta(days=7))],
    )
    client_services.supervision_flag_raise(case=case, by=lw, question="Should I visit?")
    concern = client_services.safeguarding_concern_raise(case=case, by=lw, detail=x)
    client_services.safeguarding_decision_record(concern=concern, by=w.supervisor, decision="other", note=x)

    instrument = _instrument()
    other_instrument, _ = Instrument.objects.get_or_create(
        code="ons4",
        version="1",
        defaults={"name": "ONS personal wellbeing", "short_name": "ONS4", "scoring": "separate"},
    )
    Assessment.objects.create(
        case=case, instrument=other_instrument, timepoint="baseline", taken_on=today, answers={}, recorded_by=lw
    )
    SystemUse.objects.create(case=case, period="before", gp_appointments=3, ae_attendances=1, recorded_by=lw)

    referral, _ = referral_services.referral_submit(
        service=w.service,
        data=_referral_data("Nora", "New", risk_information="Dog"),
        channel=Channel.STAFF,
        idempotency_key=uuid.uuid4(),
        referred_by=w.referrer,
        source_organisation=w.practice,
    )
    accepted, _ = referral_services.referral_submit(
        service=w.service,
        data=_referral_data("Alan", "Accepted"),
        channel=Channel.AGENCY_LINK,
        idempotency_key=uuid.uuid4(),
        source_organisation=w.agency,
    )
    referral_services.referral_accept(referral=accepted, by=w.manager, assignee=None, into_case=case)
    declined, _ = referral_services.referral_submit(
        service=w.service, data=_referral_data("Dina", "Declined"), channel=Channel.SELF, idempotency_key=uuid.uuid4()
    )
    referral_services.referral_decline(referral=declined, by=lw, reason="not_eligible", note="Too far")
    closed, _ = referral_services.referral_submit(
        service=w.service,
        data=_referral_data("Carl", "Closed"),
        channel=Channel.PHONE,
        idempotency_key=uuid.uuid4(),
        recorded_by=lw,
    )
    referral_services.referral_accept(referral=closed, by=w.manager, assignee=w.colleague)
    closed.refresh_from_db()
    referral_services.referral_close(referral=closed, by=w.colleague, reason="goals_met", summary="Connected")

    agency_link, token = referral_services.agency_link_create(
        service=w.service, agency_name="Riverside Housing", by=w.manager, agency=w.agency
    )
    revoked, revoked_token = referral_services.agency_link_create(service=w.service, agency_name="Old", by=w.manager)
    referral_services.agency_link_revoke(link=revoked, by=w.manager)
    api_client, _ = api_client_create(name="EMIS Web", organisation=w.practice, service=w.service, by=w.manager)

    reminder = Reminder.objects.create(
        rule=Rule.NO_CONTACT,
        recipient=lw,
        service=w.service,
        object_kind="case",
        object_id=case.pk,
        due_on=today,
        title="No recent contact",
        subject="A.B.",
        detail="Last seen 20 days ago",
        link=reverse("clients:case", args=[case.pk]),
    )
    notification = notification_create(user=lw, title="Welcome", link=reverse("clients:case", args=[case.pk]))
    ReminderSettings.objects.get_or_create(service=w.service)
    term = TaxonomyTerm.objects.filter(code="befriending").first() or TaxonomyTerm.objects.create(
        id=uuid.uuid4(), code="befriending", name="Befriending"
    )

    ids.update(
        client=client.pk,
        alert=alert.pk,
        case=case.pk,
        connection=connection.pk,
        visit=visit.pk,
        referral=referral.pk,
        accepted_referral=accepted.pk,
        declined_referral=declined.pk,
        closed_referral=closed.pk,
        agency_link=agency_link.pk,
        api_client=api_client.pk,
        provider=provider.pk,
        need=need.pk,
        notification=notification.pk,
        reminder=reminder.pk,
        link_worker=lw.pk,
        session=session.pk,
        action=session.actions.get().pk,
        concern=concern.pk,
        instrument=instrument.pk,
        baseline="baseline",
        directory_service=directory_service.pk,
        unconnected_service=unconnected.pk,
        service=w.service.pk,
        other_service=w.other_service.pk,
        service_at_location=oruk.service_at_location_id(directory_service.pk),
        taxonomy=oruk.TAXONOMY_ID,
        taxonomy_term=term.pk,
        bad_uid="MQ",
        bad_reset_token="not-a-token",
        agency_token=token,
        revoked_agency_token=revoked_token,
    )
    objects.ids = {k: str(v) for k, v in ids.items()}
    return objects


def _free_text_fields(model: type[models.Model]) -> list[models.Field]:
    fields = []
    for f in model._meta.concrete_fields:
        base = f.base_field if isinstance(f, ArrayField) else f
        if f.primary_key or f.name in NOT_FREE_TEXT or not isinstance(base, models.CharField | models.TextField):
            continue
        if base.choices or isinstance(base, models.EmailField | models.URLField | models.SlugField):
            continue
        if f.remote_field is not None:
            continue
        fields.append(f)
    return fields


def fill_with_payloads(objects: Objects) -> None:
    """Write a numbered script payload into every free-text field of every row of our apps. Rows the database
    refuses to change (append-only records) were given payloads when they were made."""
    n = 0
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            values: dict[str, Any] = {}
            for f in _free_text_fields(model):
                n += 1
                text = PAYLOAD.format(n=n)
                base = f.base_field if isinstance(f, ArrayField) else f
                limit = getattr(base, "max_length", None)
                if limit is not None and len(text) > limit:
                    text = SHORT_PAYLOAD.format(n=n)
                    if len(text) > limit:
                        continue
                values[f.name] = [text] if isinstance(f, ArrayField) else text
                objects.payloads[n] = f"{model._meta.label}.{f.name}"
            if not values:
                continue
            try:
                with transaction.atomic():
                    model._default_manager.all().update(**values)
            except DatabaseError:
                objects.append_only.append(model._meta.label)


@pytest.fixture(scope="module")
def objects(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        built = build(x=PAYLOAD.format(n=0))
        built.payloads[0] = "text written at creation (safeguarding concern and decision, plan goals)"
        fill_with_payloads(built)
        for persona in PERSONAS:
            if persona not in permissions.SIGNED_OUT:
                browser = login(HttpClient(), getattr(built.world, persona))
                built.sessions[persona] = browser.cookies[settings.SESSION_COOKIE_NAME].value
        yield built
        transaction.set_rollback(True)


# --- Answers -------------------------------------------------------------------------------------------------------
def sign_in(client: HttpClient, objects: Objects, persona: str) -> None:
    """Use the persona's session, made once for the module with ``login``: a test's changes to it (signing out,
    renewing it) are rolled back with the test."""
    if persona not in permissions.SIGNED_OUT:
        client.cookies[settings.SESSION_COOKIE_NAME] = objects.sessions[persona]


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(f"{reverse('accounts:login')}?next=")


def assert_answer(response: Any, expected: Any, what: str) -> None:
    got = response.status_code
    if expected == LOGIN:
        assert _to_login(response), f"{what}: expected a redirect to sign in, got {got}"
    elif expected == ALLOWED:
        assert got not in (403, 404, 405) and not _to_login(response), f"{what}: expected to be let through, got {got}"
    elif expected == REDIRECT:
        assert got == 302 and not _to_login(response), f"{what}: expected the view's redirect, got {got}"
    else:
        location = f" to {response['Location']}" if got == 302 else ""
        assert got == expected, f"{what}: expected {expected}, got {got}{location}"


def assert_inert(response: Any, objects: Objects, what: str) -> None:
    """No stored payload comes back as markup: HTML has it escaped; JSON carries it as a string."""
    content_type = response.get("Content-Type", "")
    if not content_type.startswith(("text/html", "application/json", "image/svg")):
        return  # CSV, a spreadsheet, zip or PDF: data, not a page (tests/test_input_safety.py checks the formulas)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    body = content.decode(errors="replace")
    if "json" in content_type:
        json.loads(body)
        assert response.get("X-Content-Type-Options") == "nosniff", what
        return
    for marker in RAW_MARKERS:
        if marker in body:
            at = body.index(marker)
            number = re.search(r"xss-(\d+)|alert\((\d+)\)", body[at : at + 60])
            source = objects.payloads.get(int(next(g for g in number.groups() if g))) if number else "?"
            raise AssertionError(f"{what}: unescaped {marker!r} from {source}: ...{body[max(0, at - 80) : at + 80]}...")


def snapshot() -> dict[str, str]:
    """A digest of every row of our apps' tables (the audit trail and sign-in bookkeeping are in other apps), in
    one query."""
    tables = sorted(
        {m._meta.db_table for label in APPS for m in apps.get_app_config(label).get_models(include_auto_created=True)}
    )
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT '{t}', md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM {quote(t)} r" for t in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


# --- The tests -----------------------------------------------------------------------------------------------------
def test_every_url_has_an_entry() -> None:
    missing = sorted(set(URLS) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(URLS))
    assert not missing, f"URLs with no entry in linkwork/accounts/permissions.py MATRIX: {missing}"
    assert not stale, f"MATRIX entries for URLs that no longer exist: {stale}"


def test_every_kind_of_record_with_free_text_is_in_the_data(objects: Objects, db) -> None:
    """Otherwise its text is never shown with a payload in it: add one to ``build``."""
    empty = [
        model._meta.label
        for label in APPS
        for model in apps.get_app_config(label).get_models()
        if _free_text_fields(model) and not model._default_manager.exists()
    ]
    assert not empty, f"no rows of {empty} in the test data"


def test_every_url_argument_can_be_filled() -> None:
    known = set(URL_OBJECTS) | {"token", "id", "uidb64"}
    for name, route in URLS.items():
        for argument in re.findall(r"<(?:\w+:)?(\w+)>", route):
            assert argument in known or argument in URL_OBJECTS_BY_NAME.get(name, {}), (
                f"{name}: add the URL argument {argument!r} to URL_OBJECTS in this file"
            )


GET_CASES = [(name, persona) for name in sorted(MATRIX) if name in URLS for persona in PERSONAS]


@pytest.mark.parametrize(("name", "persona"), GET_CASES)
def test_a_get_answers_as_the_matrix_says(client, objects: Objects, db, name: str, persona: str) -> None:
    url = url_for(name, persona, objects)
    sign_in(client, objects, persona)
    response = client.get(url)
    assert_answer(response, MATRIX[name].get.answers[persona], f"GET {url} as {persona}")
    if response.status_code == 200:
        assert_inert(response, objects, f"GET {url} as {persona}")


POST_CASES = [
    (name, persona, answer)
    for name in sorted(MATRIX)
    if name in URLS
    for persona, answer in MATRIX[name].post_answers().items()
    # Without a token in the URL, the agency link holder is just anonymous: one POST says it for both.
    if persona != "agency_link" or "<str:token>" in URLS[name]
]


@pytest.mark.parametrize(("name", "persona", "answer"), POST_CASES)
def test_a_post_answers_as_the_matrix_says(client, objects: Objects, db, name: str, persona: str, answer) -> None:
    """An empty POST: refused people change nothing; allowed ones get past the access checks."""
    url = url_for(name, persona, objects)
    sign_in(client, objects, persona)
    before = snapshot() if answer in REFUSALS else None
    response = client.post(url, {})
    assert_answer(response, answer, f"POST {url} as {persona}")
    if answer == ALLOWED and response.status_code == 302:
        # The page it leads to carries the action's message, which may quote stored text.
        landing = client.get(response["Location"])
        if landing.status_code == 200:
            assert_inert(landing, objects, f"GET {response['Location']} after POST {url} as {persona}")
    elif answer == ALLOWED:
        assert_inert(response, objects, f"POST {url} as {persona}")
    if before is not None:
        after = snapshot()
        changed = [label for label in before if before[label] != after[label]]
        assert not changed, f"POST {url} as {persona} was refused but changed {changed}"


def test_the_django_admin_is_staff_only(client, objects: Objects, db) -> None:
    """The Django admin is outside the matrix: it checks is_staff itself. No persona is staff, the site admin
    included (they manage people in Linkwork's own pages)."""
    for persona in PERSONAS:
        sign_in(client, objects, persona)
        response = client.get("/django-admin/")
        assert response.status_code == 302, persona
        assert response["Location"].startswith("/django-admin/login/"), persona
        client.cookies.clear()
    staff = factories.UserFactory(email="staff@example.nhs.uk", is_staff=True, is_superuser=True)
    login(client, staff)
    assert client.get("/django-admin/").status_code == 200


def test_the_permission_document_is_up_to_date() -> None:
    """docs/permissions.md is generated: after changing the matrix, run
    ``python -m linkwork.accounts.permissions > docs/permissions.md``."""
    document = settings.BASE_DIR / "docs" / "permissions.md"
    assert document.read_text() == permissions.render_markdown(), (
        "docs/permissions.md is out of date: run python -m linkwork.accounts.permissions > docs/permissions.md"
    )


# --- Stored XSS beyond the matrix: other states, other formats ------------------------------------------------------
ESCAPED = "&lt;script&gt;alert("
REPORT = "period=last_12_months"
SHOWN_ESCAPED = [
    # (persona, URL name, query, objects for URL arguments): each page shows stored text, escaped
    ("link_worker", "clients:case", None, {}),
    ("link_worker", "clients:client", None, {}),
    ("link_worker", "clients:client_edit", None, {}),
    ("link_worker", "clients:plan_edit", None, {}),
    ("link_worker", "clients:plan_history", None, {}),
    ("link_worker", "clients:plan_print", None, {}),
    ("link_worker", "clients:case_supervision", None, {}),
    ("link_worker", "clients:connection", None, {}),
    ("link_worker", "clients:visit", None, {}),
    ("link_worker", "clients:caseload", None, {}),
    ("link_worker", "clients:search", "q=script", {}),
    ("link_worker", "referrals:queue", None, {}),
    ("link_worker", "referrals:detail", None, {}),
    ("link_worker", "referrals:detail", None, {"referral_id": "accepted_referral"}),
    ("link_worker", "referrals:detail", None, {"referral_id": "declined_referral"}),
    ("link_worker", "referrals:detail", None, {"referral_id": "closed_referral"}),
    ("link_worker", "community:directory", None, {}),
    ("link_worker", "community:directory", "q=walk", {}),
    ("link_worker", "community:service", None, {}),
    ("link_worker", "community:provider", None, {}),
    ("link_worker", "community:need_update", None, {}),
    ("link_worker", "community:opportunities", None, {}),
    ("link_worker", "supervision:mine", None, {}),
    ("link_worker", "supervision:session", None, {}),
    ("link_worker", "notifications:snooze", None, {}),
    ("link_worker", "measures:choose", None, {}),
    ("supervisor", "outcomes:dashboard", None, {}),
    ("supervisor", "supervision:worker", None, {}),
    ("supervisor", "supervision:concern", None, {}),
    ("manager", "clients:reassign", None, {}),
    ("manager", "referrals:links", None, {}),
    ("manager", "outcomes:demand", None, {}),
    ("manager", "outcomes:reports", REPORT, {}),
    ("manager", "outcomes:reports", f"{REPORT}&format=print", {}),
    ("manager", "outcomes:reports", f"{REPORT}&format=svg&chart=referrals_by_source", {}),
    ("commissioner", "outcomes:reports", REPORT, {}),
    ("referrer", "referrals:mine", None, {}),
    ("referrer", "referrals:sent", None, {}),
    ("referrer", "referrals:new", None, {}),
    ("admin", "accounts:admin_home", None, {}),
    ("agency_link", "refer:agency", None, {}),
    ("anonymous", "refer:self", None, {}),
]


@pytest.mark.parametrize(("persona", "name", "query", "chosen"), SHOWN_ESCAPED)
def test_stored_scripts_are_shown_as_text(client, objects: Objects, db, persona, name, query, chosen) -> None:
    url = url_for(name, persona, objects, query=query, **chosen)
    sign_in(client, objects, persona)
    response = client.get(url)
    assert response.status_code == 200, url
    assert_inert(response, objects, f"GET {url} as {persona}")
    assert ESCAPED in response.content.decode(), f"{url}: the stored text is not on the page, so nothing was tested"


def test_the_open_data_api_returns_stored_scripts_as_json_strings(client, objects: Objects, db) -> None:
    """ORUK consumers get the text as typed, inside a JSON string, never as a page a browser would run."""
    for url in (
        reverse("openreferral:services"),
        reverse("openreferral:service", args=[objects.ids["directory_service"]]),
        reverse("openreferral:service_at_location", args=[objects.ids["service_at_location"]]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response["X-Content-Type-Options"] == "nosniff"
        data = response.json()
        service = data["contents"][0] if "contents" in data else data.get("service", data)
        assert service["name"].startswith('<script>alert("xss-'), url


# --- A role in another service grants nothing here ----------------------------------------------------------------
def _refused(response: Any) -> bool:
    return response.status_code in (401, 403, 404) or _to_login(response)


RECORD_URLS = [
    name
    for name in sorted(MATRIX)
    if name in URLS
    and re.search(r"<", URLS[name])
    # The FHIR API takes keys, not roles: a role anywhere grants nothing there (test_fhir_api.py checks keys).
    and not name.startswith(("refer:", "openreferral:", "accounts:password_reset", "fhir:"))
]


@pytest.mark.parametrize("name", RECORD_URLS)
def test_a_role_in_another_service_grants_nothing_here(client, objects: Objects, db, name: str) -> None:
    """Someone who supervises our service and is a link worker in another may do here exactly what our
    supervisor may: their link worker role does not carry over to our records."""
    w = objects.world
    dual = _person("dual@example.nhs.uk", "Dana Dual", w.service, Role.SUPERVISOR)
    factories.MembershipFactory(user=dual, organisation=w.other_service, role=Role.LINK_WORKER)
    login(client, dual)
    url = url_for(name, "supervisor", objects)
    entry = MATRIX[name]
    expected = entry.get.answers["supervisor"]
    response = client.get(url)
    if expected != 405:
        assert _refused(response) == (expected in REFUSALS), f"GET {url}: got {response.status_code}"
    post_expected = entry.post_answers().get("supervisor")
    if post_expected is not None:
        response = client.post(url, {})
        assert _refused(response) == (post_expected in REFUSALS), f"POST {url}: got {response.status_code}"
