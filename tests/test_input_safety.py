"""What people type cannot turn into something else: formulas in downloads stay text, extra form fields are
ignored (nobody raises their own role or moves a record to another service), and stored links are web links.

Stored script payloads on every page are tested with the permission matrix (tests/test_permission_matrix.py)."""

from __future__ import annotations

import ast
import csv
import importlib
import io
import pkgutil
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from clients import services as client_services
from clients.models import Case, CaseStatus, Client
from community.models import Opportunity, Provider
from linkwork.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from linkwork.spreadsheets import DANGEROUS
from referrals.models import Channel, Referral, ReferralStatus
from tests import factories
from tests.conftest import World, login
from tests.test_referral_views import form_data as referral_form_data

PROJECT_PACKAGES = ("linkwork", "clients", "community", "referrals", "outcomes")

# --- Formula injection in every download -----------------------------------------------------------------------------
FORMULAS = [
    '=HYPERLINK("http://evil.example","Click")',
    "+1+1",
    "-1+1",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]
# A download may hold numbers, including negative ones (a change in score); never text a spreadsheet would run.
NUMBER = re.compile(r"^-\d+(\.\d+)?%?$")


def _dangerous(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(DANGEROUS) and not NUMBER.match(value)


@pytest.fixture
def formula_names(world: World) -> None:
    """Names an attacker could choose, wherever a report prints a name: the service, a PCN, a practice, an agency,
    community services; with referrals and connections in the period so every table has rows."""
    pcn = Organisation.objects.create(name="-2+3 PCN", kind=OrganisationKind.PCN)
    pcn.services.add(world.service)
    Organisation.objects.filter(pk=world.service.pk).update(name="@SUM(A1:A9)")
    Organisation.objects.filter(pk=world.practice.pk).update(name=FORMULAS[0], pcn=pcn)
    Organisation.objects.filter(pk=world.agency.pk).update(name=FORMULAS[1])
    for source in (world.practice, world.agency):
        factories.NewReferralFactory(service=world.service, source_organisation=source)
    for name in FORMULAS:
        entry = factories.CommunityServiceFactory(provider__service=world.service, name=name)
        case = factories.ActiveCaseFactory(client__service=world.service, client__practice=world.practice)
        client_services.connection_create(case=case, by=world.link_worker, service=entry)


def _csv_cells(response: Any) -> list[tuple[str, Any]]:
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return [
        (name, cell)
        for name in archive.namelist()
        for row in csv.reader(io.StringIO(archive.read(name).decode()))
        for cell in row
    ]


def _xlsx_cells(response: Any) -> list[tuple[str, Any]]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                cells.append((sheet.title, cell.value))
    return cells


@pytest.mark.parametrize("persona", ["manager", "commissioner"])
@pytest.mark.parametrize("scope", ["", "practice", "pcn"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_report_downloads_neutralise_every_formula(
    client, world: World, formula_names, persona: str, scope: str, fmt: str
) -> None:
    query = {"period": "last_12_months", "format": fmt}
    if scope == "practice":
        query["practice"] = str(world.practice.pk)
    elif scope == "pcn":
        query["pcn"] = str(Organisation.objects.get(kind=OrganisationKind.PCN).pk)
    login(client, getattr(world, persona))
    response = client.get(reverse("outcomes:reports"), query)
    assert response.status_code == 200
    cells = _csv_cells(response) if fmt == "csv" else _xlsx_cells(response)
    bad = [(where, value) for where, value in cells if _dangerous(value)]
    assert not bad, f"cells a spreadsheet would run: {bad}"
    # XML turns a carriage return into a line feed on reading; what matters there is that no cell is a formula.
    texts = {value.replace("\n", "\r") if fmt == "xlsx" else value for _, value in cells if isinstance(value, str)}
    # The names are there, neutralised the project's way (a leading apostrophe), not dropped.
    if scope != "pcn" and persona == "manager":
        assert "'" + FORMULAS[0] in texts or any(t.startswith("'" + FORMULAS[0]) for t in texts)
        assert {"'" + f for f in FORMULAS[2:]} <= texts
    assert any("@SUM(A1:A9)" in t for t in texts), "the service's name, in the scope line of the cover"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_import_template_holds_no_formula(client, world: World, fmt: str) -> None:
    login(client, world.manager)
    response = client.get(reverse("community:import_template"), {"format": fmt} if fmt == "xlsx" else {})
    assert response.status_code == 200
    if fmt == "csv":
        cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    else:
        workbook = load_workbook(io.BytesIO(response.content))
        cells = [c.value for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c for c in cells if _dangerous(c)]


# --- Extra POST fields are ignored ---------------------------------------------------------------------------------
ROLE_FIELDS = {
    "role": Role.SITE_ADMIN,
    "is_superuser": "on",
    "is_staff": "on",
    "is_active": "on",
    "organisation": "",
    "memberships": "",
    "user": "",
}


def _privileges() -> list[tuple[Any, ...]]:
    users = User.objects.order_by("email").values_list("email", "is_staff", "is_superuser", "is_active")
    memberships = Membership.objects.order_by("user__email", "role").values_list(
        "user__email", "organisation_id", "role"
    )
    return [*users, *memberships]


@pytest.mark.parametrize(
    "persona", ["link_worker", "referrer", "supervisor", "manager", "commissioner", "admin", "nobody"]
)
@pytest.mark.parametrize(
    "page", ["accounts:profile", "notifications:preferences", "accounts:password_change", "notifications:inbox"]
)
def test_nobody_raises_their_own_role(client, world: World, persona: str, page: str) -> None:
    """The pages everyone may post to take no role, staff flag or membership, whatever is sent."""
    user = getattr(world, persona)
    before = _privileges()
    login(client, user)
    client.post(reverse(page), {**ROLE_FIELDS, "organisation": str(world.service.pk), "user": str(user.pk)})
    assert _privileges() == before


def test_a_referral_takes_only_the_fields_of_its_form(client, world: World) -> None:
    other_case = factories.ActiveCaseFactory(client__service=world.other_service)
    login(client, world.referrer)
    data = referral_form_data(
        status=ReferralStatus.ACCEPTED,
        service=str(world.other_service.pk),
        service_id=str(world.other_service.pk),
        case=str(other_case.pk),
        reference="SP-2000-000001",
        channel=Channel.SELF,
        snomed_code="871731000000106",
        decided_by=str(world.manager.pk),
        referred_by=str(world.manager.pk),
        source_organisation=str(world.agency.pk),
        id=str(uuid.uuid4()),
    )
    response = client.post(reverse("referrals:new"), data)
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.NEW
    assert referral.service == world.service
    assert referral.case is None and referral.decided_by is None and referral.snomed_code == ""
    assert referral.reference != "SP-2000-000001"
    assert referral.channel == Channel.STAFF
    assert referral.referred_by == world.referrer
    assert referral.source_organisation == world.practice


def test_editing_a_record_cannot_move_it_to_another_service(client, world: World) -> None:
    case = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
    record = case.client
    login(client, world.link_worker)
    data = {
        "version": str(record.version),
        "given_name": "Nora",
        "family_name": "Brown",
        "date_of_birth_day": "17",
        "date_of_birth_month": "5",
        "date_of_birth_year": "1960",
        "postcode": "LS1 4AP",
        "share_with_gp": "codes",
        "consent_to_contact": "on",
        # not on the form:
        "service": str(world.other_service.pk),
        "service_id": str(world.other_service.pk),
        "id": str(uuid.uuid4()),
        "lsoa_code": "E01000001",
        "deprivation_decile": "1",
        "consent_recorded_at": "2000-01-01",
    }
    response = client.post(reverse("clients:client_edit", args=[record.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    record.refresh_from_db()
    assert (record.given_name, record.family_name) == ("Nora", "Brown")
    assert record.service == world.service
    assert record.lsoa_code != "E01000001" and record.deprivation_decile != 1
    assert Client.objects.count() == 1


def test_pausing_a_case_changes_nothing_else(client, world: World) -> None:
    case = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
    window_end = case.window_end
    login(client, world.link_worker)
    data = {
        "reason": "In hospital",
        "status": CaseStatus.CLOSED,
        "link_worker": str(world.colleague.pk),
        "service": str(world.other_service.pk),
        "window_end": "2099-01-01",
        "closure_reason": "goals_met",
    }
    response = client.post(reverse("clients:pause", args=[case.pk]), data)
    assert response.status_code == 302
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.paused_reason) == (CaseStatus.PAUSED, "In hospital")
    assert case.link_worker == world.link_worker and case.service == world.service
    assert case.window_end == window_end and case.closure_reason == ""


def test_a_new_directory_organisation_belongs_to_the_users_own_service(client, world: World) -> None:
    login(client, world.link_worker)
    response = client.post(
        reverse("community:provider_new"),
        {"name": "Walking group", "service": str(world.other_service.pk), "external_id": "X", "source": "evil"},
    )
    assert response.status_code == 302
    provider = Provider.objects.get()
    assert provider.service == world.service
    assert (provider.external_id, provider.source) == ("", "")


# --- Links people type are web links ----------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>"])
def test_a_link_in_the_directory_must_be_a_web_address(client, world: World, url: str) -> None:
    """Directory and opportunity links are shown as links, so only http(s) addresses are taken."""
    login(client, world.link_worker)
    response = client.post(reverse("community:provider_new"), {"name": "Group", "website": url})
    assert response.status_code == 400
    response = client.post(reverse("community:opportunities"), {"kind": "training", "title": "MHFA", "url": url})
    assert response.status_code == 400
    assert not Provider.objects.exists() and not Opportunity.objects.exists()


def test_a_website_typed_without_its_scheme_is_kept_as_https(client, world: World) -> None:
    """As every other link in the directory: "www..." is not sent to people as plain http."""
    login(client, world.link_worker)
    response = client.post(reverse("community:provider_new"), {"name": "Group", "website": "www.knitandnatter.org"})
    assert response.status_code == 302
    assert Provider.objects.get().website == "https://www.knitandnatter.org"
    too_long = "https://example.org/" + "a" * 190
    response = client.post(reverse("community:provider_new"), {"name": "Other group", "website": too_long})
    assert response.status_code == 400
    assert "Ensure this value has at most 200 characters" in response.content.decode()
    assert too_long in response.content.decode()  # what was typed is kept on the page
    assert Provider.objects.count() == 1


# --- Forms whitelist their fields ---------------------------------------------------------------------------------
def _project_modules() -> list[str]:
    names = []
    for package in PROJECT_PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if ".migrations" in info.name or info.name.endswith(("settings", "wsgi", "asgi")):
                continue
            names.append(info.name)
    return names


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_model_forms_name_their_fields() -> None:
    """A ModelForm with ``fields = "__all__"`` or ``exclude`` would take any new model field from a POST (a role,
    a service, a status): every one must list the fields it takes. Checked on the imported classes and, for forms
    defined inside functions, in the source."""
    for name in _project_modules():
        importlib.import_module(name)
    for form in _subclasses(forms.ModelForm):
        if not form.__module__.startswith(PROJECT_PACKAGES):
            continue
        meta = getattr(form, "Meta", None)
        assert meta is not None and isinstance(getattr(meta, "fields", None), list | tuple), (
            f"{form.__module__}.{form.__name__}: list the fields in Meta.fields"
        )
        assert not getattr(meta, "exclude", None), f"{form.__module__}.{form.__name__}: use fields, not exclude"
    for package in PROJECT_PACKAGES:
        for path in Path(settings.BASE_DIR, package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.ClassDef) and node.name == "Meta"):
                    continue
                for statement in node.body:
                    if isinstance(statement, ast.Assign):
                        targets = {t.id for t in statement.targets if isinstance(t, ast.Name)}
                        value = statement.value
                        all_fields = isinstance(value, ast.Constant) and value.value == "__all__"
                        assert not ("fields" in targets and all_fields), f"{path}:{node.lineno}: fields = '__all__'"
                        assert "exclude" not in targets, f"{path}:{node.lineno}: exclude in a Meta"


# --- Another service's ids in a form are refused ---------------------------------------------------------------------
def _other_service_ids(world: World) -> dict[str, Any]:
    case = factories.ActiveCaseFactory(client__service=world.other_service, link_worker=world.other_link_worker)
    practice = factories.PracticeFactory(name="Hill Surgery", services=[world.other_service])
    return {"case": case, "client": case.client, "practice": practice}


def test_forms_refuse_records_of_another_service(client, world: World) -> None:
    """Choices in a form are limited to the user's own service: posting another service's id (a service, a link
    worker, a case, a practice) is a validation error, and nothing is written."""
    theirs = _other_service_ids(world)
    ours = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
    referral = factories.NewReferralFactory(service=world.service)
    other = str(world.other_service.pk)
    before = (Referral.objects.count(), Case.objects.count())

    login(client, world.link_worker)
    data = referral_form_data(channel="phone", referrer_name="Jo", service=other)
    assert client.post(reverse("referrals:record"), data).status_code == 400
    accept = reverse("referrals:accept", args=[referral.pk])
    assert client.post(accept, {"assignee": str(world.other_link_worker.pk)}).status_code == 400
    login(client, world.manager)
    assert client.post(reverse("referrals:links"), {"agency_name": "Foodbank", "service": other}).status_code == 400
    response = client.post(
        reverse("clients:reassign", args=[ours.pk]), {"to": str(world.other_link_worker.pk), "reason": "Balance"}
    )
    assert response.status_code == 400
    assert client.get(reverse("outcomes:reports"), {"service": other}).status_code == 400
    assert client.get(reverse("outcomes:dashboard"), {"practice": str(theirs["practice"].pk)}).status_code == 400
    login(client, world.supervisor)
    session = {"held_on_day": "1", "held_on_month": "1", "held_on_year": "2026", "wellbeing": "well"}
    url = reverse("supervision:session_new", args=[world.link_worker.pk])
    assert client.post(url, {**session, "cases": [str(theirs["case"].pk)]}).status_code == 400
    assert client.post(url, {**session, "cases": [str(ours.pk)]}).status_code == 302  # the same, with our case

    referral.refresh_from_db()
    ours.refresh_from_db()
    assert referral.status == ReferralStatus.NEW and ours.link_worker == world.link_worker
    assert (Referral.objects.count(), Case.objects.count()) == before
    assert not world.other_service.agency_links.exists()

    # Accepting into another service's case or client record is not on offer: those ids are ignored.
    login(client, world.link_worker)
    data = {"assignee": str(world.colleague.pk), "case": str(theirs["case"].pk), "client": str(theirs["client"].pk)}
    assert client.post(accept, data).status_code == 302
    referral.refresh_from_db()
    assert referral.case.service == world.service and referral.case.client.service == world.service
    assert referral.case != theirs["case"] and referral.case.client != theirs["client"]
