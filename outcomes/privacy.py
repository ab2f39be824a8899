"""Data protection: the subject access export, anonymisation once the retention period has passed, and erasure
on request.

It lives in ``outcomes`` because it reads and writes every layer (clients, referrals, the directory's
connections, measures, supervision, reminders and the audit trail), and only ``outcomes`` may.

- ``build_subject_access`` gathers everything held about one person into one document (``SubjectAccess``),
  which ``subject_access_zip`` writes as JSON and as a PDF.
- ``anonymise_clients`` removes what identifies people (names, NHS number, date of birth to the year, address,
  postcode to the district, phone, email and every free-text note) and keeps the coded data reports count
  (dates, statuses, reasons, measures, deprivation decile, age at referral), so the reports still add up. It is
  set-based (one UPDATE per table per batch) and idempotent (anonymised people are skipped; rows are claimed
  with ``SELECT ... FOR UPDATE SKIP LOCKED``, so two runs never do the same person).
- ``retention_apply`` finds everyone whose cases are all closed and whose last contact is more than
  ``LINKWORK_RETENTION_YEARS`` ago, and anonymises them (nightly, and ``manage.py apply_retention``).
- ``client_erase`` anonymises one person now, on request, with the lawful basis recorded in the audit trail.

What is *not* changed: the audit trail is append-only (a database trigger), so its summaries keep what they
said at the time; supervision session notes cover several people and are kept as written.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest, Left, Length, Replace, Trim, TruncDate, TruncYear, Upper
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst

from clients import selectors as client_selectors
from clients.models import (
    Case,
    CaseAssignment,
    CaseStatus,
    CaseSupervisionFlag,
    Client,
    ClientAlert,
    Connection,
    ConnectionEvent,
    Contact,
    HomeVisit,
    PlanVersion,
    SafeguardingConcern,
    SafeguardingDecision,
    WhatMatters,
)
from clients.services import GOAL_STATUSES
from linkwork.accounts.access import access_for
from linkwork.accounts.models import Role, User
from linkwork.audit.models import Action, AuditEvent
from linkwork.audit.services import client_ip
from linkwork.notifications.models import Notification, Reminder
from outcomes.models import Assessment, SupervisionSession, SystemUse
from referrals.models import Referral, ReferralEvent, ReferralStatus

ANONYMISED_GIVEN_NAME = "Anonymised"
ANONYMISED_FAMILY_NAME = "person"
# For text that cannot be blank (a safeguarding concern, a decision that needs a note).
REMOVED = "Removed when the record was anonymised"
ANONYMISED_SUBJECT = "Anonymised record"
ANONYMISED_NOTIFICATION = "About a record that has since been anonymised"
OPEN_CASE_STATUSES = [CaseStatus.ACTIVE, CaseStatus.PAUSED]
BATCH_SIZE = 500
UUID_IN_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


# --- Access -----------------------------------------------------------------------------------------------------
def client_for_manager(user: Any, client_id: UUID) -> Client:
    """The client, for a service manager of the client's service. 404 for anyone who does not work in that
    service (the record's existence is not leaked); 403 for its other staff."""
    client = client_selectors.client_for_user(user, client_id)
    if client.service_id not in access_for(user).service_ids(Role.SERVICE_MANAGER):
        raise PermissionDenied
    return client


# --- Who is the same person -------------------------------------------------------------------------------------
def _same_person(ref: Any) -> Q:
    """Same NHS number (when known), or the same name and date of birth ignoring case: how triage spots a
    duplicate (``referrals.selectors``). ``ref`` is ``OuterRef`` or a function giving the other side's values."""
    same_nhs = Q(nhs_number=ref("nhs_number")) & ~Q(nhs_number="")
    same_details = Q(
        date_of_birth=ref("date_of_birth"),
        given_name__iexact=ref("given_name"),
        family_name__iexact=ref("family_name"),
    )
    return same_nhs | same_details


def referrals_of(client: Client) -> QuerySet[Referral]:
    """The person's referrals: those that became one of their cases, and those never accepted (declined,
    redirected or waiting) that name the same person in the same service. Once anonymised, only the first kind
    can still be told apart."""
    if client.anonymised_at is not None:
        return Referral.objects.filter(case__client=client)
    values = {f: getattr(client, f) for f in ("nhs_number", "date_of_birth", "given_name", "family_name")}
    unlinked = Q(case__isnull=True, service=client.service_id) & _same_person(values.__getitem__)
    return Referral.objects.filter(Q(case__client=client) | unlinked)


def _waiting_referral() -> Exists:
    """A referral for the same person still waiting for triage (the outer query is on clients)."""
    return Exists(
        Referral.objects.filter(status=ReferralStatus.NEW, service=OuterRef("service")).filter(_same_person(OuterRef))
    )


# --- Subject access ---------------------------------------------------------------------------------------------
Spec = Sequence[str | tuple[str, str]]


@dataclass
class Section:
    """One kind of record: its fields (key and label, in order) and one dict per record. ``rows`` is the same
    for people to read (dates in words, codes as labels), for the PDF."""

    key: str
    title: str
    fields: list[tuple[str, str]]
    records: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[tuple[str, str]]] = field(default_factory=list)
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "note": self.note,
            "fields": [{"key": key, "label": label} for key, label in self.fields],
            "records": self.records,
        }


@dataclass
class SubjectAccess:
    client: Client
    generated_at: dt.datetime
    generated_by: User
    sections: list[Section]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": "linkwork-subject-access",
            "format_version": 1,
            "generated_at": _jsonable(self.generated_at),
            "generated_by": self.generated_by.full_name or self.generated_by.email,
            "service": self.client.service.name,
            "person_id": str(self.client.pk),
            "sections": [s.as_json() for s in self.sections],
        }

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def _label(model: type[models.Model], name: str) -> str:
    try:
        return capfirst(str(model._meta.get_field(name).verbose_name))
    except Exception:
        return capfirst(name.replace("_", " "))


def _raw(obj: models.Model, name: str) -> Any:
    """A field's value for a person to read: the label of a coded value, a person's name, a case's id."""
    try:
        model_field = obj._meta.get_field(name)
    except Exception:
        value = getattr(obj, name)
        return value() if callable(value) else value
    if model_field.is_relation:
        related = getattr(obj, name)
        if related is None:
            return None
        if isinstance(related, User):
            return related.full_name or related.email
        if isinstance(related, Referral):
            return related.reference
        if isinstance(related, (Case, SafeguardingConcern, SafeguardingDecision)):
            return str(related.pk)
        return str(related)
    value = getattr(obj, name)
    if getattr(model_field, "choices", None) and value not in ("", None):
        return getattr(obj, f"get_{name}_display")()
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _goals_text(goals: list[dict[str, Any]]) -> str:
    lines = []
    for n, goal in enumerate(goals, start=1):
        line = f"{n}. {goal.get('goal', '')} ({GOAL_STATUSES.get(goal.get('status', ''), goal.get('status', ''))})"
        for action in goal.get("actions", []):
            extra = ", ".join(x for x in (action.get("who", ""), action.get("by_when", "")) if x)
            line += f"\n   Action: {action.get('what', '')}" + (f" ({extra})" if extra else "")
        if goal.get("progress"):
            line += f"\n   Progress: {goal['progress']}"
        lines.append(line)
    return "\n".join(lines)


RECORD_NAMES = {
    "clients.client": "The person's record",
    "clients.case": "Case",
    "clients.clientalert": "Alert",
    "clients.contact": "Contact",
    "clients.homevisit": "Home visit",
    "clients.connection": "Community connection",
    "clients.casesupervisionflag": "Question for supervision",
    "clients.safeguardingconcern": "Safeguarding concern",
    "clients.safeguardingdecision": "Safeguarding decision",
    "referrals.referral": "Referral",
    "outcomes.assessment": "Wellbeing measure",
}


def _text(key: str, value: Any, case_labels: dict[str, str]) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if key == "case":
        return case_labels.get(str(value), str(value))
    if key == "object_type":
        return RECORD_NAMES.get(value, value)
    if key == "goals" and isinstance(value, list):
        return _goals_text(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value)
        return f"{local.day} {local:%B %Y}, {local:%H:%M}"
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _section(
    key: str,
    title: str,
    model: type[models.Model],
    spec: Spec,
    objects: Iterable[models.Model],
    *,
    case_labels: dict[str, str],
    note: str = "",
) -> Section:
    fields = [(item, _label(model, item)) if isinstance(item, str) else item for item in spec]
    section = Section(key=key, title=title, fields=fields, note=note)
    for obj in objects:
        raw = {name: _raw(obj, name) for name, _ in fields}
        section.records.append({name: _jsonable(value) for name, value in raw.items()})
        section.rows.append([(label, _text(name, raw[name], case_labels)) for name, label in fields])
    return section


PERSON_FIELDS: Spec = [
    ("id", "Record ID"),
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    "preferred_name",
    "pronouns",
    ("date_of_birth", "Date of birth"),
    "nhs_number",
    "address",
    "postcode",
    "phone",
    "email",
    ("contact_preference", "How they prefer to be contacted"),
    ("contact_times", "Best times to contact"),
    ("practice", "GP practice"),
    ("interpreter_needed", "Needs an interpreter"),
    "language",
    ("accessibility_needs", "Accessibility needs"),
    ("ethnic_category", "Ethnic group"),
    "sex",
    "gender_identity",
    "disability",
    "carer",
    ("lsoa_code", "Small area (LSOA)"),
    ("deprivation_decile", "Deprivation decile (1 is the most deprived tenth)"),
    ("consent_to_contact", "Agreed to be contacted by the service"),
    ("share_with_gp", "What may be shared with the GP"),
    ("consent_to_share_with_groups", "Agreed to details being shared with community groups"),
    ("consent_recorded_at", "Consent last changed"),
    ("created_at", "Record created"),
    ("updated_at", "Record last changed"),
    ("anonymised_at", "Anonymised"),
]


def build_subject_access(*, client: Client, by: User) -> SubjectAccess:
    """Everything held about ``client``: their record, cases with all that hangs off them, referrals (also those
    never accepted), measures, connections, supervision and safeguarding records about their cases, reminders
    and notifications about them, and the audit trail of who saw or changed their records. The caller checks
    access (``client_for_manager``) and audits the export."""
    client = Client.objects.select_related("service", "practice").get(pk=client.pk)
    cases = list(client.cases.select_related("link_worker").order_by("start_date", "created_at"))
    case_ids = [c.pk for c in cases]
    case_labels = {
        str(c.pk): f"Case {n}, from {c.start_date.day} {c.start_date:%B %Y}" for n, c in enumerate(cases, start=1)
    }
    referrals = list(
        referrals_of(client)
        .select_related("source_organisation", "referred_by", "decided_by", "case")
        .order_by("received_at")
    )
    referral_ids = [r.pk for r in referrals]
    visits = list(HomeVisit.objects.filter(case__in=case_ids).select_related("link_worker", "case"))
    alerts = list(client.alerts.select_related("raised_by", "resolved_by").order_by("raised_at"))
    contacts = list(Contact.objects.filter(case__in=case_ids).select_related("recorded_by", "case").order_by("at"))
    connections = list(
        Connection.objects.filter(case__in=case_ids)
        .select_related("service", "created_by", "case")
        .order_by("created_at")
    )
    assessments = list(Assessment.objects.filter(case__in=case_ids).select_related("instrument", "recorded_by", "case"))
    flags = list(
        CaseSupervisionFlag.objects.filter(case__in=case_ids).select_related("raised_by", "discussed_by", "case")
    )
    concerns = list(SafeguardingConcern.objects.filter(case__in=case_ids).select_related("raised_by", "case"))
    decisions = list(
        SafeguardingDecision.objects.filter(concern__in=[c.pk for c in concerns]).select_related(
            "by", "concern", "corrects"
        )
    )
    c = {"case_labels": case_labels}
    sections = [
        _section("person", "The person's record", Client, PERSON_FIELDS, [client], **c),
        _section(
            "alerts",
            "Alerts on the record",
            ClientAlert,
            ["kind", "detail", "raised_by", "raised_at", "resolved_at", "resolved_by"],
            alerts,
            **c,
        ),
        _section(
            "cases",
            "Episodes of support (cases)",
            Case,
            [
                ("id", "Case ID"),
                "status",
                "link_worker",
                ("start_date", "Started"),
                ("window_end", "Support window ends"),
                "extension_reason",
                ("paused_on", "Paused on"),
                "paused_reason",
                ("closed_on", "Closed on"),
                "closure_reason",
                ("closing_summary", "Closing summary"),
            ],
            cases,
            **c,
        ),
        _section(
            "case_reassignments",
            "Changes of link worker",
            CaseAssignment,
            ["case", ("at", "When"), ("from_worker", "From"), ("to_worker", "To"), ("by", "Changed by"), "reason"],
            CaseAssignment.objects.filter(case__in=case_ids).select_related("from_worker", "to_worker", "by", "case"),
            **c,
        ),
        _section(
            "contacts",
            "Contacts and attempts",
            Contact,
            [
                "case",
                ("at", "When"),
                "method",
                ("duration_minutes", "Minutes"),
                ("attempted_only", "Tried but did not reach the person"),
                "notes",
                ("next_step", "Next step"),
                "follow_up_on",
                ("recorded_by", "Recorded by"),
            ],
            contacts,
            **c,
        ),
        _section(
            "what_matters",
            "What matters to the person",
            WhatMatters,
            [
                "case",
                "what_matters",
                "strengths",
                "worries",
                "want_to_change",
                ("updated_by", "Last changed by"),
                ("updated_at", "Last changed"),
            ],
            WhatMatters.objects.filter(case__in=case_ids).select_related("updated_by", "case"),
            **c,
        ),
        _section(
            "plan_versions",
            "Personalised plan, every saved version",
            PlanVersion,
            [
                ("case", "Case"),
                ("number", "Version"),
                ("saved_at", "Saved"),
                ("saved_by", "Saved by"),
                ("review_on", "Next review"),
                ("goals", "Goals"),
            ],
            PlanVersion.objects.filter(plan__case__in=case_ids)
            .annotate(case=F("plan__case"))
            .select_related("saved_by")
            .order_by("plan__case", "number"),
            **c,
        ),
        _section(
            "home_visits",
            "Home visits",
            HomeVisit,
            [
                "case",
                ("planned_start", "Planned for"),
                ("expected_minutes", "Expected minutes"),
                "link_worker",
                ("checked_in_at", "Arrived"),
                ("checked_out_at", "Left"),
            ],
            visits,
            **c,
        ),
        _section(
            "referrals",
            "Referrals",
            Referral,
            [
                ("id", "Referral ID"),
                "reference",
                "status",
                "channel",
                ("received_at", "Received"),
                ("source_organisation", "Referred from"),
                ("referred_by", "Referred by (user)"),
                ("referrer_name", "Referrer's name"),
                ("referrer_role", "Referrer's role"),
                ("referrer_organisation_name", "Referrer's organisation"),
                ("given_name", "Given name"),
                ("family_name", "Family name"),
                ("date_of_birth", "Date of birth"),
                "nhs_number",
                "address",
                "postcode",
                "phone",
                "email",
                ("contact_preference", "How they prefer to be contacted"),
                "contact_times",
                ("interpreter_needed", "Needs an interpreter"),
                "language",
                ("accessibility_needs", "Accessibility needs"),
                ("reason_labels", "Reasons"),
                "hopes",
                ("risk_information", "Risk information"),
                ("consent_given", "The person agreed to the referral"),
                ("decided_at", "Decided"),
                ("decided_by", "Decided by"),
                "decline_reason",
                ("decline_note", "Why it was declined"),
                ("snomed_code", "SNOMED CT code"),
                "case",
                ("outcome_summary", "Outcome summary for the GP"),
                ("closed_at", "Closed"),
            ],
            referrals,
            **c,
        ),
        _section(
            "referral_history",
            "Referral history",
            ReferralEvent,
            [
                ("referral", "Referral"),
                ("at", "When"),
                ("kind", "What happened"),
                ("from_status", "From"),
                ("to_status", "To"),
                "by",
                "note",
            ],
            ReferralEvent.objects.filter(referral__in=referral_ids).select_related("by", "referral"),
            **c,
        ),
        _section(
            "assessments",
            "Wellbeing measures",
            Assessment,
            [
                "case",
                ("instrument", "Measure"),
                "timepoint",
                ("taken_on", "Taken on"),
                "mode",
                ("answers", "Answers"),
                ("raw_total", "Total of the answers"),
                "score",
                ("recorded_by", "Recorded by"),
            ],
            assessments,
            **c,
        ),
        _section(
            "system_use",
            "GP appointments and A&E attendances",
            SystemUse,
            [
                "case",
                "period",
                ("gp_appointments", "GP appointments"),
                ("ae_attendances", "A&E attendances"),
                ("recorded_by", "Recorded by"),
                ("recorded_at", "Recorded"),
            ],
            SystemUse.objects.filter(case__in=case_ids).select_related("recorded_by", "case"),
            **c,
        ),
        _section(
            "connections",
            "Community connections",
            Connection,
            [
                "case",
                ("service", "Community service"),
                "status",
                ("reason", "Why it stopped or was not taken up"),
                ("qa_override_reason", "Why referred before the service's checks were complete"),
                ("created_by", "Suggested by"),
                ("created_at", "Suggested"),
                ("updated_at", "Last changed"),
            ],
            connections,
            **c,
        ),
        _section(
            "connection_history",
            "Community connection history",
            ConnectionEvent,
            [("connection", "Connection"), ("at", "When"), ("from_status", "From"), ("to_status", "To"), "note", "by"],
            ConnectionEvent.objects.filter(connection__in=[x.pk for x in connections]).select_related(
                "by", "connection__case", "connection__service"
            ),
            **c,
        ),
        _section(
            "supervision_flags",
            "Questions raised for supervision",
            CaseSupervisionFlag,
            [
                "case",
                "question",
                ("raised_by", "Raised by"),
                ("raised_at", "Raised"),
                ("discussed_at", "Discussed"),
                ("discussed_by", "Discussed by"),
            ],
            flags,
            **c,
        ),
        _section(
            "supervision_sessions",
            "Supervision sessions that discussed the person's case",
            SupervisionSession,
            [("held_on", "Held on"), "link_worker", "supervisor", ("concerns", "Concerns discussed")],
            SupervisionSession.objects.filter(cases_discussed__in=case_ids)
            .select_related("link_worker", "supervisor")
            .distinct()
            .order_by("held_on"),
            note="A session's notes may cover other people: check them and remove anything about anyone else "
            "before sending.",
            **c,
        ),
        _section(
            "safeguarding_concerns",
            "Safeguarding concerns",
            SafeguardingConcern,
            [("id", "Concern ID"), "case", ("raised_at", "Raised"), ("raised_by", "Raised by"), "detail"],
            concerns,
            **c,
        ),
        _section(
            "safeguarding_decisions",
            "Safeguarding decisions",
            SafeguardingDecision,
            [("concern", "Concern ID"), ("at", "When"), "decision", "note", "by", ("corrects", "Corrects decision")],
            decisions,
            **c,
        ),
        _section(
            "reminders",
            "Reminders to staff about the person",
            Reminder,
            [
                "rule",
                "recipient",
                ("due_on", "Due on"),
                "title",
                "subject",
                "detail",
                "status",
                ("created_at", "Created"),
            ],
            Reminder.objects.filter(object_id__in=[*case_ids, *referral_ids, *(v.pk for v in visits)])
            .select_related("recipient")
            .order_by("created_at"),
            **c,
        ),
        _section(
            "notifications",
            "Notifications to staff about the person",
            Notification,
            [("user", "To"), "title", ("created_at", "Sent"), ("read_at", "Read")],
            _notifications_about([*case_ids, *referral_ids]).select_related("user").order_by("created_at"),
            **c,
        ),
        _section(
            "access_log",
            "Who saw or changed the person's records",
            AuditEvent,
            [
                ("at", "When"),
                ("actor_label", "Who"),
                ("action", "What"),
                ("object_type", "Record"),
                ("summary", "Detail"),
            ],
            _audit_trail(
                {
                    "clients.client": [client.pk],
                    "clients.case": case_ids,
                    "clients.clientalert": [a.pk for a in alerts],
                    "clients.contact": [x.pk for x in contacts],
                    "clients.homevisit": [v.pk for v in visits],
                    "clients.connection": [x.pk for x in connections],
                    "clients.casesupervisionflag": [f.pk for f in flags],
                    "clients.safeguardingconcern": [x.pk for x in concerns],
                    "clients.safeguardingdecision": [d.pk for d in decisions],
                    "referrals.referral": referral_ids,
                    "outcomes.assessment": [a.pk for a in assessments],
                }
            ),
            note="Sign-ins and searches are not listed: they name no one person.",
            **c,
        ),
    ]
    return SubjectAccess(client=client, generated_at=timezone.now(), generated_by=by, sections=sections)


def _notifications_about(object_ids: Sequence[UUID]) -> QuerySet[Notification]:
    """Notifications whose link points at one of these objects (a notification refers to what it is about by
    its link only, so this low layer stays independent of the apps above it)."""
    ids = [str(i) for i in object_ids]
    return Notification.objects.annotate(about=RawSQL("substring(link from %s)", [UUID_IN_TEXT])).filter(about__in=ids)


def _audit_trail(objects: dict[str, Sequence[Any]]) -> QuerySet[AuditEvent]:
    condition = Q(pk__in=[])
    for object_type, ids in objects.items():
        if ids:
            condition |= Q(object_type=object_type, object_id__in=[str(i) for i in ids])
    return AuditEvent.objects.filter(condition).order_by("at", "pk")


def subject_access_pdf(document: SubjectAccess) -> bytes:
    from clients.views.plan import render_pdf

    html = render_to_string("outcomes/privacy/export.html", {"document": document})
    return render_pdf(html, stylesheet="css/plan-print.css")


def subject_access_zip(document: SubjectAccess) -> bytes:
    """One download: the record as JSON (for machines, stable keys, ISO dates) and as a PDF (for the person)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("subject-access.json", json.dumps(document.as_json(), indent=2, ensure_ascii=False))
        archive.writestr("subject-access.pdf", subject_access_pdf(document))
    return buffer.getvalue()


# --- Anonymisation ---------------------------------------------------------------------------------------------
def _district(name: str) -> Any:
    """The postcode's outward code (district), e.g. LS1 from LS1 4AP: the inward code is always 3 characters."""
    compact = Replace(Upper(Trim(F(name))), Value(" "), Value(""))
    return Left(compact, Greatest(Length(compact) - 3, Value(0)))


# The date of birth on a referral becomes the day of referral, that many whole years earlier: the age at
# referral, which the equity report bands, stays the same, and nothing finer than that is kept.
AGE_AT_REFERRAL_DOB = (
    "(received_at::date - make_interval(years => date_part('year', age(received_at::date, date_of_birth))::int))::date"
)
# Plan goals keep their number, status, actions' count and dates; their words go.
ANONYMISED_GOALS = """(
  SELECT coalesce(jsonb_agg(jsonb_build_object(
    'goal', 'Goal ' || n,
    'status', coalesce(g->'status', '"not_started"'::jsonb),
    'progress', '',
    'actions', (
      SELECT coalesce(jsonb_agg(jsonb_build_object(
        'what', 'Action ' || m, 'who', '', 'by_when', coalesce(a->'by_when', '""'::jsonb)) ORDER BY m), '[]'::jsonb)
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(g->'actions') = 'array' THEN g->'actions' ELSE '[]'::jsonb END)
        WITH ORDINALITY AS y(a, m))
  ) ORDER BY n), '[]'::jsonb)
  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(goals) = 'array' THEN goals ELSE '[]'::jsonb END)
    WITH ORDINALITY AS x(g, n)
)"""


def _allow_safeguarding_redaction(on: bool) -> None:
    """The safeguarding tables' trigger lets text be redacted only while this transaction-local flag is on
    (migration clients 0008)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('linkwork.anonymising', %s, true)", ["on" if on else "off"])


@transaction.atomic
def anonymise_clients(
    *,
    client_ids: Iterable[UUID],
    summary: str,
    actor: User | None = None,
    request: HttpRequest | None = None,
    now: dt.datetime | None = None,
) -> list[UUID]:
    """Anonymise these people, in one transaction, with one UPDATE per table: everyone not already anonymised
    and not being anonymised by a concurrent run (their rows are claimed with SKIP LOCKED). Records one audit
    event per person (``summary``; ``actor`` None for the retention schedule). Returns the ids anonymised."""
    now = now or timezone.now()
    claimed = list(
        Client.objects.select_for_update(skip_locked=True)
        .filter(pk__in=list(client_ids), anonymised_at=None)
        .values_list("pk", flat=True)
    )
    if not claimed:
        return []
    # Referrals first: the ones never accepted are found by the person's details, which are about to go.
    unlinked = Exists(Client.objects.filter(pk__in=claimed, service=OuterRef("service")).filter(_same_person(OuterRef)))
    referral_ids = list(
        Referral.objects.filter(Q(case__client__in=claimed) | Q(unlinked, case__isnull=True)).values_list(
            "pk", flat=True
        )
    )
    case_ids = list(Case.objects.filter(client__in=claimed).values_list("pk", flat=True))
    visit_ids = list(HomeVisit.objects.filter(case__in=case_ids).values_list("pk", flat=True))

    Referral.objects.filter(pk__in=referral_ids).update(
        given_name=ANONYMISED_GIVEN_NAME,
        family_name=ANONYMISED_FAMILY_NAME,
        date_of_birth=RawSQL(AGE_AT_REFERRAL_DOB, []),  # noqa: S611  # nosec B611 (a constant, no input)
        nhs_number="",
        address="",
        postcode=_district("postcode"),
        phone="",
        email="",
        contact_times="",
        language="",
        accessibility_needs="",
        reason_other="",
        hopes="",
        risk_information="",
        decline_note="",
        outcome_summary="",
        referrer_name="",
        referrer_phone="",
        referrer_email="",
        updated_at=now,
    )
    ReferralEvent.objects.filter(referral__in=referral_ids).exclude(note="").update(note="")
    Client.objects.filter(pk__in=claimed).update(
        given_name=ANONYMISED_GIVEN_NAME,
        family_name=ANONYMISED_FAMILY_NAME,
        preferred_name="",
        pronouns="",
        date_of_birth=TruncYear("date_of_birth", output_field=models.DateField()),
        nhs_number="",
        address="",
        postcode=_district("postcode"),
        phone="",
        email="",
        contact_times="",
        language="",
        accessibility_needs="",
        gender_identity="",
        lsoa_code="",  # finer than the district; the deprivation decile it gave is kept
        anonymised_at=now,
        updated_at=now,
        version=F("version") + 1,
    )
    ClientAlert.objects.filter(client__in=claimed).exclude(detail="").update(detail="")
    Case.objects.filter(pk__in=case_ids).update(
        paused_reason="", extension_reason="", closing_summary="", version=F("version") + 1, updated_at=now
    )
    Contact.objects.filter(case__in=case_ids).update(notes="", next_step="")
    CaseAssignment.objects.filter(case__in=case_ids).update(reason="")
    WhatMatters.objects.filter(case__in=case_ids).update(what_matters="", strengths="", worries="", want_to_change="")
    PlanVersion.objects.filter(plan__case__in=case_ids).update(goals=RawSQL(ANONYMISED_GOALS, []))  # noqa: S611  # nosec B611 (a constant)
    Connection.objects.filter(case__in=case_ids).update(reason="", qa_override_reason="")
    ConnectionEvent.objects.filter(connection__case__in=case_ids).exclude(note="").update(note="")
    CaseSupervisionFlag.objects.filter(case__in=case_ids).update(question=REMOVED)
    _allow_safeguarding_redaction(True)
    SafeguardingConcern.objects.filter(case__in=case_ids).exclude(detail=REMOVED).update(detail=REMOVED)
    SafeguardingDecision.objects.filter(concern__case__in=case_ids).exclude(note__in=["", REMOVED]).update(note=REMOVED)
    _allow_safeguarding_redaction(False)
    Reminder.objects.filter(object_id__in=[*case_ids, *referral_ids, *visit_ids]).update(
        subject=ANONYMISED_SUBJECT, detail=""
    )
    _notifications_about([*case_ids, *referral_ids]).update(title=ANONYMISED_NOTIFICATION)

    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            actor_label=getattr(actor, "email", "") or "",
            action=Action.UPDATE,
            object_type=Client._meta.label_lower,
            object_id=str(pk),
            summary=summary[:300],
            path=request.get_full_path()[:300] if request is not None else "",
            ip_address=client_ip(request) if request is not None else None,
        )
        for pk in claimed
    )
    return claimed


# --- Retention -------------------------------------------------------------------------------------------------
def retention_years() -> int:
    return int(settings.LINKWORK_RETENTION_YEARS)


def retention_cutoff(today: dt.date | None = None, years: int | None = None) -> dt.date:
    """People whose last contact was before this day are past the retention period."""
    return (today or timezone.localdate()) - relativedelta(years=years or retention_years())


def _with_activity(clients: QuerySet[Client]) -> QuerySet[Client]:
    """Annotate each client with ``open_cases``, ``case_count`` and ``last_activity``: the day of their last
    contact (attempts included), or of their last case closure if there was never a contact."""
    return clients.annotate(
        open_cases=Count("cases", filter=Q(cases__status__in=OPEN_CASE_STATUSES), distinct=True),
        case_count=Count("cases", distinct=True),
        last_contact=Max("cases__contacts__at"),
        last_closed=Max("cases__closed_on"),
    ).annotate(
        last_activity=Coalesce(TruncDate("last_contact"), F("last_closed"), output_field=models.DateField()),
        waiting_referral=_waiting_referral(),
    )


def clients_past_retention(*, today: dt.date | None = None, years: int | None = None) -> QuerySet[Client]:
    """People not yet anonymised whose every case is closed, with no referral waiting for triage, and whose
    last activity is more than the retention period ago (strictly: on the anniversary they are not yet due)."""
    cutoff = retention_cutoff(today, years)
    return _with_activity(Client.objects.filter(anonymised_at=None)).filter(
        open_cases=0, case_count__gt=0, last_activity__lt=cutoff, waiting_referral=False
    )


OPEN_CASE_REFUSAL = "This person has an open case, so their details cannot be erased. The case must be closed first."
WAITING_REFERRAL_REFUSAL = (
    "A referral for this person is waiting for triage, so their details cannot be erased. The referral must be "
    "accepted or declined first."
)


@dataclass(frozen=True)
class RetentionStatus:
    open_cases: int
    waiting_referral: bool
    last_activity: dt.date | None
    due_on: dt.date | None  # the first day the nightly job would anonymise the person

    @property
    def erasure_refusal(self) -> str:
        """Why the person's details cannot be erased now, or "" if they can."""
        if self.open_cases:
            return OPEN_CASE_REFUSAL
        if self.waiting_referral:
            return WAITING_REFERRAL_REFUSAL
        return ""


def retention_status(client: Client) -> RetentionStatus:
    row = _with_activity(Client.objects.filter(pk=client.pk)).get()
    due = None
    if row.last_activity and not row.open_cases and not row.waiting_referral:
        due = row.last_activity + relativedelta(years=retention_years()) + dt.timedelta(days=1)
    return RetentionStatus(row.open_cases, row.waiting_referral, row.last_activity, due)


@dataclass(frozen=True)
class RetentionResult:
    due: int
    anonymised: int
    cases: int = 0
    referrals: int = 0
    contacts: int = 0


def retention_apply(
    *, today: dt.date | None = None, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> RetentionResult:
    """Anonymise everyone past the retention period, ``batch_size`` people per transaction. Safe to run again
    or at the same time as another run: each person is done once. With ``dry_run`` nothing changes and the
    counts say what would."""
    years = retention_years()
    ids = list(clients_past_retention(today=today, years=years).values_list("pk", flat=True))
    if dry_run:
        return RetentionResult(
            due=len(ids),
            anonymised=0,
            cases=Case.objects.filter(client__in=ids).count(),
            referrals=Referral.objects.filter(case__client__in=ids).count(),
            contacts=Contact.objects.filter(case__client__in=ids).count(),
        )
    summary = f"Anonymised: the retention period ({years} years after the last contact) has passed"
    done = 0
    for start in range(0, len(ids), batch_size):
        done += len(anonymise_clients(client_ids=ids[start : start + batch_size], summary=summary))
    return RetentionResult(due=len(ids), anonymised=done)


# --- Erasure on request --------------------------------------------------------------------------------------
class LawfulBasis(models.TextChoices):
    """When the right to erasure applies (UK GDPR Article 17(1))."""

    NOT_NEEDED = "17_1_a", "No longer needed for the purpose it was collected for (Article 17(1)(a))"
    CONSENT_WITHDRAWN = "17_1_b", "Consent withdrawn and there is no other lawful basis (Article 17(1)(b))"
    OBJECTION = "17_1_c", "The person objected and there are no overriding legitimate grounds (Article 17(1)(c))"
    UNLAWFUL = "17_1_d", "The data were processed unlawfully (Article 17(1)(d))"
    LEGAL_OBLIGATION = "17_1_e", "Erasure is needed to meet a legal obligation (Article 17(1)(e))"


ERASURE_REASON_MAX = 200


@transaction.atomic
def client_erase(*, client: Client, by: User, basis: str, reason: str, request: HttpRequest | None = None) -> Client:
    """Anonymise one person now, at their request, with the same code as the retention schedule. The audit
    event records who decided, the lawful basis and the reason. Raises ValidationError if a case of theirs is
    open, a referral for them is waiting for triage, or the record is already anonymised."""
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if locked.anonymised_at is not None:
        raise ValidationError("This record has already been anonymised")
    reason = " ".join(reason.split())
    if basis not in LawfulBasis.values:
        raise ValidationError({"basis": "Choose the lawful basis for erasure"})
    if not reason:
        raise ValidationError({"reason": "Enter why erasure is lawful here"})
    refusal = retention_status(locked).erasure_refusal
    if refusal:
        raise ValidationError(refusal)
    article = f"Article 17(1)({basis[-1]})"
    summary = f"Anonymised: erased on request under UK GDPR {article}. Reason: {reason[:ERASURE_REASON_MAX]}"
    anonymise_clients(client_ids=[locked.pk], summary=summary, actor=by, request=request)
    locked.refresh_from_db()
    return locked
