"""HL7 FHIR R4 referrals in: a UK Core shaped ServiceRequest (alone, with its Patient contained, or in a Bundle)
becomes the same referral the web form makes; its progress goes back out as a FHIR Task.

Structure and data types are checked by ``fhir.resources`` (the R4B package: 8.x has no R4 one, and R4B's
ServiceRequest, Patient, Task and Bundle are R4's). What a library cannot know is checked here: the codes it does
not bind (status, intent, the SNOMED CT code), the NHS number system and check digit, and that the requester is the
organisation the API key belongs to. Then the person's details go through the web form's own validation
(``referrals.forms.ReferralForm``), so an API referral can be nothing a person could not type in. Every problem
found is reported at once, as one OperationOutcome issue each, with a FHIRPath-like ``expression``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from referrals.forms import ReferralForm
from referrals.models import ContactPreference, DeclineReason, Referral, ReferralReason, ReferralStatus

SNOMED = "http://snomed.info/sct"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
REFERRAL_CODE = "871731000000106"  # Referral to social prescribing service (procedure)
DECLINED_CODE = "871711000000103"  # Social prescribing declined (situation)
REFERRAL_TERM = "Referral to social prescribing service"
DECLINED_TERM = "Social prescribing declined"
IDENTIFIER_NAMESPACE = uuid.UUID("6f1c8a5e-51f4-4c56-9a57-3a0f0c2b7d10")  # for the idempotency keys of API referrals
MAX_BYTES = 256 * 1024  # a referral with a long note is a few kB; anything near this is not a referral
CONTENT_TYPES = ("application/fhir+json", "application/json")


@dataclass
class Problem:
    expression: str
    message: str
    code: str = "invalid"  # an OperationOutcome issue type: invalid, required, value, code-invalid, duplicate...


@dataclass
class Intake:
    """What a valid submission says: the web form's cleaned data, and the request's own identifier."""

    data: dict[str, Any] = field(default_factory=dict)
    identifier: str = ""
    problems: list[Problem] = field(default_factory=list)


# --- OperationOutcome and Task ----------------------------------------------------------------------------------
def operation_outcome(problems: list[Problem], *, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": p.code,
                "diagnostics": p.message,
                **({"expression": [p.expression]} if p.expression else {}),
            }
            for p in problems
        ],
    }


TASK_STATUS = {
    ReferralStatus.NEW: "requested",
    ReferralStatus.ACCEPTED: "accepted",
    ReferralStatus.DECLINED: "rejected",
    ReferralStatus.CLOSED: "completed",
}


def task_for(referral: Referral, *, identifier: str = "") -> dict[str, Any]:
    """The referral's progress as a FHIR Task: requested, accepted, rejected (with the reason), completed."""
    status = TASK_STATUS.get(referral.status, "requested")
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(referral.pk),
        "identifier": [{"system": "https://linkwork.nhs.uk/Id/referral-reference", "value": referral.reference}],
        "status": status,
        "intent": "order",
        "code": {"coding": [{"system": SNOMED, "code": REFERRAL_CODE, "display": REFERRAL_TERM}]},
        "authoredOn": referral.received_at.isoformat(),
        "lastModified": referral.updated_at.isoformat(),
        "owner": {"display": referral.service.name},
    }
    if identifier:
        task["focus"] = {"identifier": _identifier_from_key(identifier), "type": "ServiceRequest"}
    if referral.nhs_number:
        task["for"] = {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": referral.nhs_number}}
    if referral.status == ReferralStatus.DECLINED:
        reason = DeclineReason(referral.decline_reason).label if referral.decline_reason else "Declined"
        task["statusReason"] = {"text": reason}
    elif referral.status == ReferralStatus.ACCEPTED:
        task["businessStatus"] = {"text": "Accepted: a link worker will contact the person"}
    return task


def _identifier_from_key(identifier: str) -> dict[str, str]:
    system, _, value = identifier.rpartition("|")
    return {"system": system, "value": value} if system else {"value": value}


def idempotency_key(client_id: Any, identifier: str) -> uuid.UUID:
    """One referral per API client and ServiceRequest identifier, whatever is resent."""
    return uuid.uuid5(IDENTIFIER_NAMESPACE, f"{client_id}|{identifier}")


# --- Reading the submission -------------------------------------------------------------------------------------
def _loc(loc: tuple[Any, ...], prefix: str) -> str:
    parts = [prefix]
    for part in loc:
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts)


def _validation_problems(error: ValidationError, prefix: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        message = item.get("msg", "Invalid value")
        if item.get("type") == "extra_forbidden":
            message = "Not an element of this resource in FHIR R4"
        elif item.get("type") == "missing":
            message = "Required by FHIR R4"
        problems.append(Problem(_loc(tuple(item.get("loc", ())), prefix), message, "structure"))
    return problems


def parse(body: bytes) -> tuple[ServiceRequest | None, Any, list[Any], list[Problem]]:
    """The ServiceRequest, its Patient, and any other resources sent with it (Consent, Organization,
    Practitioner), from a ServiceRequest (Patient contained) or a Bundle (Patient as an entry or contained)."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None, [], [Problem("", "The body is not JSON", "structure")]
    if not isinstance(raw, dict):
        return None, None, [], [Problem("", "The body must be a FHIR resource (a JSON object)", "structure")]
    kind = raw.get("resourceType")
    if kind not in ("Bundle", "ServiceRequest"):
        return (
            None,
            None,
            [],
            [
                Problem(
                    "resourceType", f"Expected a ServiceRequest or a Bundle, not {str(kind)[:40]!r}", "not-supported"
                )
            ],
        )
    model = Bundle if kind == "Bundle" else ServiceRequest
    try:
        resource = model.model_validate(raw)
    except ValidationError as error:
        return None, None, [], _validation_problems(error, kind)
    except (TypeError, KeyError, ValueError):  # fhir.resources raises these for a malformed resourceType
        return None, None, [], [Problem(kind, "An entry or contained item is not a FHIR resource", "structure")]
    if kind == "ServiceRequest":
        others = list(resource.contained or [])
        return resource, _subject(resource, others, {}), _Resources(others, {}), []
    if resource.type not in ("transaction", "collection", "message", "batch"):
        return None, None, [], [Problem("Bundle.type", "A referral Bundle is a transaction or collection", "value")]
    resources = [e.resource for e in resource.entry or [] if e.resource is not None]
    full_urls = {e.fullUrl: e.resource for e in resource.entry or [] if e.fullUrl and e.resource is not None}
    requests = [r for r in resources if r.get_resource_type() == "ServiceRequest"]
    if len(requests) != 1:
        return None, None, [], [Problem("Bundle.entry", "The Bundle must hold exactly one ServiceRequest", "value")]
    request = requests[0]
    others = [r for r in resources if r is not request] + list(request.contained or [])
    return request, _subject(request, others, full_urls), _Resources(others, full_urls), []


class _Resources(list):
    """The resources sent with the request, and the Bundle's fullUrls for resolving references."""

    def __init__(self, items: list[Any], full_urls: dict[str, Any]) -> None:
        super().__init__(items)
        self.full_urls = full_urls


def _subject(request: ServiceRequest, others: list[Any], full_urls: dict[str, Any]) -> Any:
    reference = (request.subject.reference or "") if request.subject else ""
    patients = [r for r in others if r.get_resource_type() == "Patient"]
    if reference.startswith("#"):
        return next((p for p in patients if p.id == reference[1:]), None)
    if reference in full_urls and full_urls[reference].get_resource_type() == "Patient":
        return full_urls[reference]
    if reference.startswith("Patient/"):
        return next((p for p in patients if p.id == reference.split("/", 1)[1]), None)
    return None


def _codes(concept: Any) -> list[tuple[str, str]]:
    return [(c.system or "", c.code or "") for c in (concept.coding or [])] if concept else []


def _reasons(request: ServiceRequest) -> tuple[list[str], str]:
    """Reason codes and texts matched to the form's reasons by their words; anything else is 'other'."""
    labels = {str(label).lower(): value for value, label in ReferralReason.choices}
    found: list[str] = []
    other: list[str] = []
    for concept in request.reasonCode or []:
        words = [concept.text or ""] + [c.display or "" for c in concept.coding or []]
        matched = next(
            (labels[w.strip().lower()] for w in words if w.strip().lower() in labels),
            next((v for w in words for v in ReferralReason.values if w.strip().lower() == v), None),
        )
        if matched:
            found.append(matched)
        elif any(w.strip() for w in words):
            other.append(next(w.strip() for w in words if w.strip()))
    if other:
        found.append("other")
    return list(dict.fromkeys(found)), "; ".join(other)[:200]


def read(body: bytes, *, ods_code: str) -> Intake:
    """Check a submission and turn it into the web form's data. ``ods_code`` is the API client's organisation's:
    the requester must be it."""
    intake = Intake()
    request, patient, others, problems = parse(body)
    if problems or request is None:
        intake.problems = problems
        return intake
    add = intake.problems.append

    # The request itself
    if request.status != "active":
        add(Problem("ServiceRequest.status", "A new referral's status is 'active'", "code-invalid"))
    if request.intent not in ("order", "original-order", "proposal", "plan"):
        add(
            Problem(
                "ServiceRequest.intent", "The intent is 'order' (or proposal, plan, original-order)", "code-invalid"
            )
        )
    if (SNOMED, REFERRAL_CODE) not in _codes(request.code):
        add(
            Problem(
                "ServiceRequest.code",
                f"The code must be SNOMED CT {REFERRAL_CODE} ({REFERRAL_TERM}), system {SNOMED}",
                "code-invalid",
            )
        )
    identifiers = [i for i in request.identifier or [] if i.value]
    if not identifiers:
        add(
            Problem(
                "ServiceRequest.identifier",
                "The ServiceRequest needs an identifier (system and value): it makes resending safe",
                "required",
            )
        )
    else:
        intake.identifier = f"{identifiers[0].system or ''}|{identifiers[0].value}"[:300]

    # Who is referring: the organisation the key belongs to, by ODS code.
    requester_ods = _requester_ods(request, others)
    if requester_ods is None:
        add(
            Problem(
                "ServiceRequest.requester",
                f"The requester must be an Organization (or a Practitioner's organisation) with an ODS code "
                f"identifier ({ODS_SYSTEM})",
                "required",
            )
        )
    elif requester_ods.upper() != (ods_code or "").upper():
        add(
            Problem(
                "ServiceRequest.requester",
                f"Unknown practice: ODS code {requester_ods[:10]!r} is not the organisation this API key belongs to",
                "value",
            )
        )

    # Consent: an active Consent sent with the request.
    consents = [r for r in others if r.get_resource_type() == "Consent"]
    consented = any(c.status == "active" for c in consents)
    if not consented:
        add(
            Problem(
                "ServiceRequest.supportingInfo",
                "Send the person's consent to be referred: a Consent resource with status 'active'",
                "required",
            )
        )

    if patient is None:
        add(Problem("ServiceRequest.subject", "The subject must be a Patient sent with the request", "required"))
        return intake
    data = _patient_form_data(patient, intake.problems)
    reasons, reason_other = _reasons(request)
    notes = "\n".join(n.text for n in request.note or [] if n.text)
    data |= {
        "reasons": reasons,
        "reason_other": reason_other,
        "hopes": notes[:1000],
        "consent_given": "on" if consented else "",
        "idempotency_key": str(uuid.uuid4()),
    }
    referrer = _referrer(request, others)
    form = ReferralForm(data)
    form.fields["nhs_number"].required = True
    if not form.is_valid():
        for name, errors in form.errors.items():
            if name == "consent_given" and not consented:
                continue  # reported above, in FHIR's terms
            for message in errors:
                add(Problem(FORM_FIELD_PATHS.get(name, "ServiceRequest"), message, "value"))
    if intake.problems:
        return intake
    intake.data = {k: v for k, v in form.cleaned_data.items() if k != "idempotency_key"} | referrer
    return intake


FORM_FIELD_PATHS = {
    "given_name": "Patient.name.given",
    "family_name": "Patient.name.family",
    "date_of_birth": "Patient.birthDate",
    "nhs_number": "Patient.identifier",
    "address": "Patient.address.line",
    "postcode": "Patient.address.postalCode",
    "phone": "Patient.telecom",
    "email": "Patient.telecom",
    "contact_preference": "Patient.telecom",
    "reasons": "ServiceRequest.reasonCode",
    "reason_other": "ServiceRequest.reasonCode.text",
    "hopes": "ServiceRequest.note",
    "__all__": "ServiceRequest",
}


def _patient_form_data(patient: Any, problems: list[Problem]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    numbers = [i.value for i in patient.identifier or [] if i.system == NHS_NUMBER_SYSTEM and i.value]
    if not numbers:
        problems.append(
            Problem(
                "Patient.identifier", f"The Patient needs an NHS number identifier ({NHS_NUMBER_SYSTEM})", "required"
            )
        )
    data["nhs_number"] = numbers[0] if numbers else ""
    names = [n for n in patient.name or [] if n.use in (None, "official", "usual")] or list(patient.name or [])
    if names:
        data["given_name"] = " ".join(names[0].given or [])
        data["family_name"] = names[0].family or ""
    if patient.birthDate:
        born = patient.birthDate
        data |= {"date_of_birth_day": born.day, "date_of_birth_month": born.month, "date_of_birth_year": born.year}
    addresses = [a for a in patient.address or [] if a.use in (None, "home")] or list(patient.address or [])
    if addresses:
        address = addresses[0]
        data["address"] = "\n".join([*(address.line or []), address.city or "", address.district or ""]).strip()
        data["postcode"] = address.postalCode or ""
    telecom = patient.telecom or []
    phones = [t.value for t in telecom if t.system in ("phone", "sms") and t.value]
    emails = [t.value for t in telecom if t.system == "email" and t.value]
    data["phone"] = phones[0] if phones else ""
    data["email"] = emails[0] if emails else ""
    if phones:
        data["contact_preference"] = ContactPreference.PHONE
    elif emails:
        data["contact_preference"] = ContactPreference.EMAIL
    else:
        data["contact_preference"] = ContactPreference.LETTER
    return data


def _requester_ods(request: ServiceRequest, others: list[Any]) -> str | None:
    """The ODS code of the requesting organisation: on the reference's identifier, or on the Organization (or
    the PractitionerRole's organisation) it points to."""
    requester = request.requester
    if requester is None:
        return None
    if requester.identifier is not None and requester.identifier.system == ODS_SYSTEM and requester.identifier.value:
        return requester.identifier.value
    target = _resolve(requester.reference or "", others)
    if target is None:
        return None
    kind = target.get_resource_type()
    if kind == "Organization":
        return next((i.value for i in target.identifier or [] if i.system == ODS_SYSTEM and i.value), None)
    if kind == "PractitionerRole" and target.organization is not None:
        org = target.organization
        if org.identifier is not None and org.identifier.system == ODS_SYSTEM:
            return org.identifier.value
        return _requester_ods(ServiceRequest.model_construct(requester=org), others)
    return None


def _resolve(reference: str, others: list[Any]) -> Any:
    full_urls = getattr(others, "full_urls", {})
    if reference in full_urls:
        return full_urls[reference]
    if reference.startswith("#"):
        key = reference[1:]
        return next((r for r in others if r.id == key), None)
    if "/" in reference:
        kind, _, key = reference.rpartition("/")
        return next((r for r in others if r.get_resource_type() == kind.split("/")[-1] and r.id == key), None)
    return None


def _referrer(request: ServiceRequest, others: list[Any]) -> dict[str, str]:
    """The referring person's name and the organisation's, when sent (for the link worker to call back)."""
    out: dict[str, str] = {}
    people = [r for r in others if r.get_resource_type() == "Practitioner"]
    if people and people[0].name:
        name = people[0].name[0]
        out["referrer_name"] = " ".join([*(name.given or []), name.family or ""]).strip()[:150]
    orgs = [r for r in others if r.get_resource_type() == "Organization" and r.name]
    if orgs:
        out["referrer_organisation_name"] = orgs[0].name[:200]
    if request.requester is not None and request.requester.display and "referrer_name" not in out:
        out["referrer_name"] = request.requester.display[:150]
    return out


def coded_event_resource(event: Any) -> dict[str, Any]:
    """A coded event (``referrals.coded_events.CodedEvent``) as FHIR: a Procedure for the referral (a procedure
    concept), an Observation for 'declined' (a situation concept). The summary goes only where the selector put
    it, that is, where the person agreed to share it."""
    subject: dict[str, Any] = {"display": event.person_name}
    if event.nhs_number:
        subject["identifier"] = {"system": NHS_NUMBER_SYSTEM, "value": event.nhs_number}
    resource: dict[str, Any] = {
        "id": f"{event.referral_id}-{event.code}",
        "identifier": [{"system": "https://linkwork.nhs.uk/Id/referral-reference", "value": event.reference}],
        "code": {"coding": [{"system": SNOMED, "code": event.code, "display": event.display}]},
        "subject": subject,
    }
    if event.summary:
        resource["note"] = [{"text": event.summary}]
    if event.code == REFERRAL_CODE:
        return {
            "resourceType": "Procedure",
            **resource,
            "status": "completed",
            "performedDateTime": event.event_at.isoformat(),
        }
    return {
        "resourceType": "Observation",
        **resource,
        "status": "final",
        "effectiveDateTime": event.event_at.isoformat(),
    }
