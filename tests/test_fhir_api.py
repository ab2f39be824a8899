"""The FHIR referral API: real example payloads (tests/fhir/), good and bad, through HTTP with API keys."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task

from linkwork.accounts.api_clients import api_client_create, api_client_revoke
from linkwork.accounts.models import ApiClient
from linkwork.audit.models import AuditEvent
from referrals import services as referral_services
from referrals.models import Channel, Referral, ReferralEvent
from tests import factories
from tests.conftest import World, login

EXAMPLES = Path(__file__).parent / "fhir"
FHIR = "application/fhir+json"


def example(name: str, ods: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text().replace("ODSCODE", ods))


@pytest.fixture
def key(world: World) -> str:
    _, key = api_client_create(
        name="EMIS at Riverside", organisation=world.practice, service=world.service, by=world.manager
    )
    return key


def post(client, key: str, payload: Any, path: str = "fhir:bundle", content_type: str = FHIR):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.post(reverse(path), body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {key}")


def issues(response) -> list[dict[str, Any]]:
    OperationOutcome.model_validate(response.json())  # a valid FHIR OperationOutcome
    return response.json()["issue"]


def test_a_bundle_from_a_gp_system_makes_the_same_referral_as_the_form_and_answers_with_a_task(
    client, world: World, key: str
) -> None:
    response = post(client, key, example("referral-bundle.json", world.practice.ods_code))
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith(FHIR)
    task = Task.model_validate(response.json())
    assert task.status == "requested"
    referral = Referral.objects.get()
    assert response["Location"] == reverse("fhir:task", args=[referral.pk])
    assert (referral.given_name, referral.family_name, referral.nhs_number) == ("Ada", "Okoro", "9990000026")
    assert str(referral.date_of_birth) == "1948-03-14"
    assert referral.postcode == "LS1 4AP" and referral.phone == "07700 900123"
    assert referral.reasons == ["loneliness", "other"] and referral.reason_other == "Caring for a partner with dementia"
    assert "Would like to meet people" in referral.hopes
    assert referral.consent_given
    assert (referral.service, referral.source_organisation, referral.channel) == (
        world.service,
        world.practice,
        Channel.API,
    )
    assert referral.referrer_organisation_name == "Riverside Surgery"
    assert ReferralEvent.objects.filter(referral=referral, kind=ReferralEvent.Kind.SUBMITTED).exists()
    assert task.for_fhir.identifier.value == "9990000026"


def test_a_service_request_with_a_contained_patient_is_accepted_too(client, world: World, key: str) -> None:
    payload = example("service-request-contained.json", world.practice.ods_code)
    response = post(client, key, payload, path="fhir:service_request")
    assert response.status_code == 201, response.content
    referral = Referral.objects.get()
    assert (referral.given_name, referral.email, referral.contact_preference) == (
        "Ravi",
        "ravi.shah@example.com",
        "email",
    )
    assert referral.reasons == ["money"]
    assert referral.referrer_name == "Dr Amir Khan"


def test_sending_the_same_request_again_makes_no_second_referral(client, world: World, key: str) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    first = post(client, key, payload)
    again = post(client, key, payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Referral.objects.count() == 1


def test_the_task_follows_the_referral_through_triage(client, world: World, key: str) -> None:
    task_id = post(client, key, example("referral-bundle.json", world.practice.ods_code)).json()["id"]
    url = reverse("fhir:task", args=[task_id])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get(url, **auth).json()["status"] == "requested"
    referral = Referral.objects.get(pk=task_id)
    referral_services.referral_decline(referral=referral, by=world.link_worker, reason="not_eligible", note="")
    declined = client.get(url, **auth).json()
    Task.model_validate(declined)
    assert declined["status"] == "rejected"
    assert declined["statusReason"]["text"]


def test_an_accepted_referral_shows_as_accepted(client, world: World, key: str) -> None:
    task_id = post(client, key, example("referral-bundle.json", world.practice.ods_code)).json()["id"]
    referral = Referral.objects.get(pk=task_id)
    referral_services.referral_accept(referral=referral, by=world.link_worker, assignee=world.link_worker)
    answer = client.get(reverse("fhir:task", args=[task_id]), HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert answer["status"] == "accepted"


# --- Bad submissions: every problem listed, nothing saved ------------------------------------------------------
def _bundle_parts(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    resources = {e["resource"]["resourceType"]: e["resource"] for e in payload["entry"]}
    return resources["ServiceRequest"], resources["Patient"]


def test_a_bundle_with_many_problems_lists_them_all_and_saves_nothing(client, world: World, key: str) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    request, patient = _bundle_parts(payload)
    patient["identifier"] = []  # missing NHS number
    patient["name"] = [{"family": "<script>alert(1)</script>", "given": ["Ada"]}]
    request["code"]["coding"][0]["code"] = "183524004"  # not the social prescribing referral code
    del request["identifier"]
    response = post(client, key, payload)
    assert response.status_code == 422
    found = issues(response)
    expressions = {e for issue in found for e in issue.get("expression", [])}
    assert {"Patient.identifier", "ServiceRequest.code", "ServiceRequest.identifier"} <= expressions
    assert any("name" in e for e in expressions)
    assert Referral.objects.count() == 0
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("number", "message"),
    [("9990000027", "NHS number"), ("12345", "NHS number"), ("999000002X", "NHS number")],
)
def test_a_bad_nhs_number_is_refused_with_the_forms_message(client, world, key, number, message) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    _, patient = _bundle_parts(payload)
    patient["identifier"][0]["value"] = number
    response = post(client, key, payload)
    assert response.status_code == 422
    problems = [i for i in issues(response) if i.get("expression") == ["Patient.identifier"]]
    assert problems and message in problems[0]["diagnostics"]
    assert Referral.objects.count() == 0


def test_an_impossible_birth_date_is_a_structure_problem(client, world: World, key: str) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    _, patient = _bundle_parts(payload)
    patient["birthDate"] = "1948-02-30"
    response = post(client, key, payload)
    assert response.status_code in (400, 422)
    assert issues(response)
    assert Referral.objects.count() == 0


def test_an_unknown_practice_is_refused(client, world: World, key: str) -> None:
    response = post(client, key, example("referral-bundle.json", "Q99999"))
    assert response.status_code == 422
    assert any("Unknown practice" in i["diagnostics"] for i in issues(response))
    assert Referral.objects.count() == 0


def test_no_consent_no_referral(client, world: World, key: str) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    payload["entry"] = [e for e in payload["entry"] if e["resource"]["resourceType"] != "Consent"]
    response = post(client, key, payload)
    assert response.status_code == 422
    assert any("consent" in i["diagnostics"].lower() for i in issues(response))
    assert Referral.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"resourceType": "Patient", "id": "x"},
        {"resourceType": "Bundle", "type": "transaction", "entry": []},
        {"resourceType": "ServiceRequest", "status": "active", "intent": "order", "unknownElement": 1},
        {"resourceType": "ServiceRequest"},
        [1, 2, 3],
        "not json at all",
    ],
    ids=["wrong-resource-type", "empty-bundle", "unknown-element", "missing-required", "array", "not-json"],
)
def test_wrong_shapes_get_an_operation_outcome_not_an_error(client, world: World, key: str, payload: Any) -> None:
    response = post(client, key, payload if payload != "not json at all" else b"{not json")
    # 400 when it cannot be read as the resource; 422 when it can but says too little (a bare ServiceRequest).
    assert response.status_code in (400, 422)
    assert issues(response)
    assert Referral.objects.count() == 0


def test_a_huge_payload_is_refused_before_it_is_read(client, world: World, key: str) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    request, _ = _bundle_parts(payload)
    request["note"] = [{"text": "x" * 400_000}]
    response = post(client, key, payload)
    assert response.status_code == 413
    assert issues(response)
    assert Referral.objects.count() == 0


def test_a_long_note_within_the_limit_is_refused_by_the_forms_length_rule(client, world: World, key: str) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    request, _ = _bundle_parts(payload)
    request["note"] = [{"text": "y" * 5000}]
    response = post(client, key, payload)
    # The note is cut to the form's 1,000 characters, as the form would take it: the referral is made.
    assert response.status_code == 201
    assert len(Referral.objects.get().hopes) == 1000


def test_other_content_types_are_refused(client, world: World, key: str) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    response = post(client, key, json.dumps(payload), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert Referral.objects.count() == 0


# --- Keys -----------------------------------------------------------------------------------------------------
def test_no_key_or_a_wrong_key_is_refused(client, world: World) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    no_key = client.post(reverse("fhir:bundle"), json.dumps(payload), content_type=FHIR)
    wrong = post(client, "lw_00000000_not-a-real-key", payload)
    assert (no_key.status_code, wrong.status_code) == (401, 401)
    assert no_key["WWW-Authenticate"] == "Bearer"
    assert Referral.objects.count() == 0


def test_a_revoked_key_stops_working_at_once(client, world: World, key: str) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    assert post(client, key, payload).status_code == 201
    api_client_revoke(client=ApiClient.objects.get(), by=world.manager)
    payload["entry"][0]["resource"]["identifier"][0]["value"] = "another"
    response = post(client, key, payload)
    assert response.status_code == 403
    assert Referral.objects.count() == 1


def test_only_the_digest_of_a_key_is_stored(world: World, key: str) -> None:
    stored = ApiClient.objects.get()
    assert key not in json.dumps(list(ApiClient.objects.values()), default=str)
    assert key.startswith(stored.prefix) and len(stored.key_digest) == 64


def test_another_services_key_cannot_read_our_task(client, world: World, key: str) -> None:
    task_id = post(client, key, example("referral-bundle.json", world.practice.ods_code)).json()["id"]
    other_practice = factories.PracticeFactory(services=[world.other_service])
    _, theirs = api_client_create(
        name="Other", organisation=other_practice, service=world.other_service, by=world.manager
    )
    response = client.get(reverse("fhir:task", args=[task_id]), HTTP_AUTHORIZATION=f"Bearer {theirs}")
    assert response.status_code == 404
    assert "Okoro" not in response.content.decode()


def test_another_services_key_cannot_send_as_our_practice(client, world: World) -> None:
    other_practice = factories.PracticeFactory(services=[world.other_service])
    _, theirs = api_client_create(
        name="Other", organisation=other_practice, service=world.other_service, by=world.manager
    )
    response = post(client, theirs, example("referral-bundle.json", world.practice.ods_code))
    assert response.status_code == 422
    assert Referral.objects.count() == 0


def test_a_key_is_only_made_for_a_practice_that_refers_to_the_service(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        api_client_create(name="x", organisation=world.practice, service=world.other_service, by=world.manager)


def test_every_call_is_audited_whoever_makes_it(client, world: World, key: str) -> None:
    payload = example("referral-bundle.json", world.practice.ods_code)
    post(client, key, payload)
    post(client, "lw_nope", payload)
    labels = list(AuditEvent.objects.filter(path__startswith="/api/fhir/").values_list("actor_label", "summary"))
    assert any(label.startswith("API lw_") and "received" in summary for label, summary in labels)
    assert any(label == "API (no valid key)" for label, _ in labels)


def test_calls_are_rate_limited_per_key(client, world: World, key: str, settings) -> None:
    settings.LINKWORK_API_RATE = "3/m"
    cache.clear()
    url = reverse("fhir:task", args=["00000000-0000-4000-8000-000000000000"])
    answers = [client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}").status_code for _ in range(5)]
    assert answers[:3] == [404, 404, 404]
    assert answers[3:] == [429, 429]


def test_task_ids_that_are_not_ours_are_not_found(client, world: World, key: str) -> None:
    theirs = factories.NewReferralFactory(service=world.service, source_organisation=world.agency)
    response = client.get(reverse("fhir:task", args=[theirs.pk]), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 404


def test_a_copy_of_the_payload_is_not_changed_by_reading_it(world: World) -> None:
    from referrals import fhir

    payload = example("referral-bundle.json", world.practice.ods_code)
    before = copy.deepcopy(payload)
    intake = fhir.read(json.dumps(payload).encode(), ods_code=world.practice.ods_code)
    assert not intake.problems and payload == before


# --- The service manager's page of keys ------------------------------------------------------------------------
def test_a_manager_makes_a_key_sees_it_once_and_can_revoke_it(client, world: World) -> None:
    login(client, world.manager)
    url = reverse("api_keys:list")
    page = client.get(url)
    assert page.status_code == 200
    route = f"{world.practice.pk}:{world.service.pk}"
    made = client.post(url, {"name": "EMIS Web at Riverside", "route": route})
    assert made.status_code == 200
    key = made.context["new_key"]
    assert key.startswith("lw_") and key in made.content.decode()
    again = client.get(url).content.decode()
    assert key not in again and ApiClient.objects.get().prefix in again
    api_client = ApiClient.objects.get()
    assert client.post(reverse("api_keys:revoke", args=[api_client.pk])).status_code == 302
    api_client.refresh_from_db()
    assert not api_client.is_active
    assert post(client, key, example("referral-bundle.json", world.practice.ods_code)).status_code == 403


def test_bad_input_on_the_key_page_says_what_is_wrong_and_keeps_what_was_typed(client, world: World) -> None:
    login(client, world.manager)
    url = reverse("api_keys:list")
    no_route = client.post(url, {"name": "My system"})
    assert no_route.status_code == 400
    assert "Select the organisation the key is for" in no_route.content.decode()
    assert 'value="My system"' in no_route.content.decode()
    foreign = factories.PracticeFactory(services=[world.other_service])
    smuggled = client.post(url, {"name": "Sneaky", "route": f"{foreign.pk}:{world.other_service.pk}"})
    assert smuggled.status_code == 400
    assert ApiClient.objects.count() == 0


def test_another_services_manager_cannot_revoke_our_key(client, world: World, key: str) -> None:
    other_manager = factories.UserFactory()
    factories.MembershipFactory(user=other_manager, organisation=world.other_service, role="service_manager")
    login(client, other_manager)
    api_client = ApiClient.objects.get()
    assert client.post(reverse("api_keys:revoke", args=[api_client.pk])).status_code == 404
    assert ApiClient.objects.get().is_active
    assert api_client.name not in client.get(reverse("api_keys:list")).content.decode()


# --- Coded events as FHIR ----------------------------------------------------------------------------------------
def test_coded_events_come_as_procedures_and_observations_with_the_consent_rule(client, world: World, key: str) -> None:
    from fhir.resources.R4B.bundle import Bundle

    from clients.models import ShareWithGP
    from tests.test_coded_events import accept, close, decline, refer

    shared = close(world, accept(world, refer(world, given_name="Shared")), summary="Joined the choir")
    accept(world, refer(world, given_name="CodesOnly"), share=ShareWithGP.CODES)
    close(world, Referral.objects.get(given_name="CodesOnly"), summary="Private words")
    shared.case.client.share_with_gp = ShareWithGP.SUMMARY
    shared.case.client.save(update_fields=["share_with_gp"])
    decline(world, refer(world, given_name="Declined"))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    procedures = client.get(reverse("fhir:procedures"), **auth)
    assert procedures.status_code == 200
    bundle = procedures.json()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 2
    by_name = {e["resource"]["subject"]["display"].split()[0]: e["resource"] for e in bundle["entry"]}
    assert {r["resourceType"] for r in by_name.values()} == {"Procedure"}
    assert by_name["Shared"]["code"]["coding"][0]["code"] == "871731000000106"
    assert by_name["Shared"]["note"] == [{"text": "Joined the choir"}]
    assert "note" not in by_name["CodesOnly"]
    assert "Private words" not in procedures.content.decode()
    assert by_name["Shared"]["subject"]["identifier"]["system"] == "https://fhir.nhs.uk/Id/nhs-number"

    observations = client.get(reverse("fhir:observations"), **auth).json()
    Bundle.model_validate(observations)
    assert [e["resource"]["code"]["coding"][0]["code"] for e in observations["entry"]] == ["871711000000103"]
    assert observations["entry"][0]["resource"]["resourceType"] == "Observation"


def test_coded_events_of_another_service_or_practice_are_not_given(client, world: World, key: str) -> None:
    from tests.test_coded_events import accept, refer

    accept(world, refer(world))
    other_practice = factories.PracticeFactory(services=[world.service])
    _, theirs = api_client_create(name="Other", organisation=other_practice, service=world.service, by=world.manager)
    answer = client.get(reverse("fhir:procedures"), HTTP_AUTHORIZATION=f"Bearer {theirs}").json()
    assert answer["total"] == 0
    bad_date = client.get(reverse("fhir:procedures") + "?date=ge2026-13-01", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert bad_date.status_code == 400
