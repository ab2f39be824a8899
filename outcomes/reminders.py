"""The reminder rules, and the scans that apply them to every service at once.

The rules live here because outcomes is the layer that may read referrals, cases, assessments and the directory;
what they produce is stored by ``linkwork.notifications`` (``services.reminders_sync``).

Every scan is *set-based*: one query per rule, whatever the number of cases, then one reconciliation (insert the
new reminders, clear those whose condition no longer holds). It is *idempotent*: the unique constraint on
(rule, object, due date, recipient) makes a rule fire once, and a PostgreSQL advisory lock taken for the scan's
transaction makes an overlapping run skip. The whole scan is one transaction, so a crash half-way through leaves
nothing behind and the next run does all of it.

Times are stored in UTC; days (working days included, with England and Wales bank holidays) are Europe/London
days, so a referral that arrives at 00:30 on a Monday in summer (23:30 UTC on Sunday) was received on Monday.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.db.models import (
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from clients.models import Case, CaseStatus, Contact, HomeVisit
from community.models import CommunityService, ServiceStatus
from linkwork.accounts.models import Membership, Organisation, OrganisationKind, Role
from linkwork.notifications import services as notification_services
from linkwork.notifications.models import ObjectKind, Reminder, ReminderSettings, ReminderStatus, Rule
from linkwork.notifications.services import ReminderSpec, SyncResult
from linkwork.workdays import add_working_days, working_days_between
from outcomes import freshness
from outcomes.models import Assessment, Timepoint
from referrals.models import Referral, ReferralStatus

# Advisory lock keys (any constant bigint, unique to the job).
SCAN_LOCK = 7_100_001
VISIT_LOCK = 7_100_002
# A follow-up measure is still worth asking for this long after closure; after that the reminder clears.
FOLLOW_UP_AFTER_CLOSURE_DAYS = 30
OPEN_CASE = (CaseStatus.ACTIVE, CaseStatus.PAUSED)
TRIAGE_TEAM = (Role.LINK_WORKER, Role.SERVICE_MANAGER)  # who may triage (referrals.selectors.TRIAGE_ROLES)


# --- What each scan knows about the services ------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceRules:
    service_id: UUID
    triage_days: int
    escalate_days: int
    first_contact_days: int
    no_contact_days: int
    ending_soon_days: int
    ending_soon_below: int
    review_at: int
    window_ended: bool
    follow_up: bool
    community_review: bool
    grace_minutes: int
    duty_contact_id: UUID | None


@dataclass
class Context:
    now: dt.datetime
    today: dt.date
    rules: dict[UUID, ServiceRules]
    team: dict[UUID, dict[str, list[UUID]]]
    only: set[UUID] | None = None  # restrict every rule to these objects (re-checking one person's reminders)

    def members(self, service_id: UUID, *roles: str) -> list[UUID]:
        found: list[UUID] = []
        for role in roles:
            for user_id in self.team.get(service_id, {}).get(role, []):
                if user_id not in found:
                    found.append(user_id)
        return found

    def groups(self, key: Callable[[ServiceRules], Hashable], *, keep_zero: bool = False) -> dict[Any, list[UUID]]:
        """Service ids grouped by a setting, so a rule is one query however many services set it differently.
        Services where the setting is off (0; for a tuple, any 0) are left out unless ``keep_zero``."""
        grouped: dict[Any, list[UUID]] = defaultdict(list)
        for rules in self.rules.values():
            value = key(rules)
            parts = value if isinstance(value, tuple) else (value,)
            if keep_zero or all(parts):
                grouped[value].append(rules.service_id)
        return grouped

    def scoped(self, queryset: QuerySet[Any], field_name: str = "pk") -> QuerySet[Any]:
        return queryset if self.only is None else queryset.filter(**{f"{field_name}__in": self.only})


def _context(now: dt.datetime, only: set[UUID] | None = None) -> Context:
    """The rules of every active service and who works there: two queries."""
    rules: dict[UUID, ServiceRules] = {}
    for org in Organisation.objects.filter(kind=OrganisationKind.SERVICE, is_active=True).select_related(
        "reminder_settings"
    ):
        try:
            s = org.reminder_settings
        except ObjectDoesNotExist:
            s = ReminderSettings(service=org)
        rules[org.pk] = ServiceRules(
            service_id=org.pk,
            triage_days=org.triage_alert_working_days,
            escalate_days=s.triage_escalate_working_days,
            first_contact_days=s.first_contact_working_days,
            no_contact_days=s.no_contact_days,
            ending_soon_days=s.ending_soon_days,
            ending_soon_below=s.ending_soon_below_contacts,
            review_at=s.review_at_contacts,
            window_ended=s.window_ended,
            follow_up=s.follow_up_measure,
            community_review=s.community_review,
            grace_minutes=s.grace_minutes,
            duty_contact_id=s.duty_contact_id,
        )
    team: dict[UUID, dict[str, list[UUID]]] = defaultdict(lambda: defaultdict(list))
    for org_id, role, user_id in (
        Membership.objects.filter(
            organisation_id__in=list(rules),
            role__in=[Role.LINK_WORKER, Role.SUPERVISOR, Role.SERVICE_MANAGER],
            user__is_active=True,
        )
        .order_by("user__full_name", "user_id")
        .values_list("organisation_id", "role", "user_id")
    ):
        team[org_id][role].append(user_id)
    local = timezone.localtime(now, timezone.get_default_timezone())
    return Context(now=now, today=local.date(), rules=rules, team=team, only=only)


# --- Small helpers ------------------------------------------------------------------------------------------
def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Europe/London, as an aware datetime (UTC in the database)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _initials(given: str, family: str) -> str:
    return f"{given[:1]}.{family[:1]}.".upper()


def _subject(given: str, family: str, reference: str | None, fallback: UUID) -> str:
    return f"{_initials(given, family)} {reference or 'case ' + str(fallback)[:8]}"


def _latest_received(today: dt.date, days: int) -> dt.date:
    """The latest day a referral could have arrived and have waited more than ``days`` working days today."""
    day = today
    while working_days_between(day, today) <= days:
        day -= dt.timedelta(days=1)
    return day


def _latest_start(today: dt.date, days: int) -> dt.date:
    """The latest start date whose ``days``-th working day is today or earlier."""
    day = today
    while add_working_days(day, days) > today:
        day -= dt.timedelta(days=1)
    return day


def _any(*branches: Q) -> Q | None:
    combined = Q()
    for branch in branches:
        combined |= branch
    return combined or None


def _counted(case_ref: str = "pk") -> QuerySet[Contact]:
    return Contact.objects.filter(case=OuterRef(case_ref), attempted_only=False)


def _count_of(queryset: QuerySet[Any]) -> Coalesce:
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _reference(case_ref: str = "pk") -> Subquery:
    """A case's reference: the reference of the referral that opened it."""
    return Subquery(Referral.objects.filter(case=OuterRef(case_ref)).order_by("received_at").values("reference")[:1])


CASE_VALUES = ("pk", "service_id", "link_worker_id", "client__given_name", "client__family_name", "reference")


def _cases(ctx: Context, services: Iterable[UUID], *statuses: str) -> QuerySet[Case]:
    return ctx.scoped(
        Case.objects.filter(service_id__in=list(services), status__in=statuses).annotate(reference=_reference())
    )


def _case_spec(row: dict[str, Any], rule: str, due_on: dt.date, title: str, detail: str = "") -> dict[str, Any]:
    return {
        "rule": rule,
        "object_kind": ObjectKind.CASE,
        "object_id": row["pk"],
        "service_id": row["service_id"],
        "due_on": due_on,
        "title": title,
        "subject": _subject(row["client__given_name"], row["client__family_name"], row["reference"], row["pk"]),
        "link": reverse("clients:case", args=[row["pk"]]),
        "detail": detail,
    }


def _owner(ctx: Context, service_id: UUID, link_worker_id: UUID | None) -> list[UUID]:
    """The case's link worker; if they no longer work in the service, its managers (or supervisors)."""
    if link_worker_id is not None and link_worker_id in ctx.members(service_id, Role.LINK_WORKER):
        return [link_worker_id]
    return ctx.members(service_id, Role.SERVICE_MANAGER) or ctx.members(service_id, Role.SUPERVISOR)


def _for(recipients: Iterable[UUID], **spec: Any) -> list[ReminderSpec]:
    return [ReminderSpec(recipient_id=user_id, **spec) for user_id in dict.fromkeys(recipients)]


# --- The rules: one query each ------------------------------------------------------------------------------
def referral_waiting(ctx: Context) -> list[ReminderSpec]:
    """Waiting for triage more than ``triage_alert_working_days`` working days: the triage team (link workers
    and service managers). More than ``triage_escalate_working_days``: escalated to the service managers.
    Cleared when the referral is triaged."""
    # The earlier of the two thresholds decides which referrals to fetch; each is then checked against both.
    earliest = ctx.groups(lambda r: min(r.triage_days, r.escalate_days or r.triage_days), keep_zero=True)
    branches = [
        Q(service_id__in=ids, received_at__lt=_day_start(_latest_received(ctx.today, days) + dt.timedelta(days=1)))
        for days, ids in earliest.items()
    ]
    where = _any(*branches)
    if where is None:
        return []
    rows = ctx.scoped(Referral.objects.filter(where, status=ReferralStatus.NEW)).values(
        "pk", "reference", "given_name", "family_name", "service_id", "received_at"
    )
    specs: list[ReminderSpec] = []
    for row in rows:
        rules = ctx.rules[row["service_id"]]
        received = _local_date(row["received_at"])
        waited = working_days_between(received, ctx.today)
        common = {
            "object_kind": ObjectKind.REFERRAL,
            "object_id": row["pk"],
            "service_id": row["service_id"],
            "subject": f"{_initials(row['given_name'], row['family_name'])} {row['reference']}",
            "link": reverse("referrals:detail", args=[row["pk"]]),
            "detail": f"Received {_long(received)}",
        }
        if waited > rules.triage_days:
            specs += _for(
                ctx.members(row["service_id"], *TRIAGE_TEAM),
                rule=Rule.TRIAGE_WAITING,
                due_on=add_working_days(received, rules.triage_days + 1),
                title=f"Referral waiting for triage for more than {rules.triage_days} working days",
                **common,
            )
        if rules.escalate_days and waited > rules.escalate_days:
            specs += _for(
                ctx.members(row["service_id"], Role.SERVICE_MANAGER),
                rule=Rule.TRIAGE_ESCALATION,
                due_on=add_working_days(received, rules.escalate_days + 1),
                title=f"Escalated: referral waiting for triage for more than {rules.escalate_days} working days",
                **common,
            )
    return specs


def first_contact(ctx: Context) -> list[ReminderSpec]:
    """No contact (attempts do not count) by the ``first_contact_working_days``-th working day after the
    case was opened. Cleared by the first contact."""
    branches = [
        Q(service_id__in=ids, start_date__lte=_latest_start(ctx.today, days))
        for days, ids in ctx.groups(lambda r: r.first_contact_days).items()
    ]
    where = _any(*branches)
    if where is None:
        return []
    attempts = Contact.objects.filter(case=OuterRef("pk"), attempted_only=True)
    rows = (
        _cases(ctx, ctx.rules, CaseStatus.ACTIVE)
        .filter(where)
        .filter(~Exists(_counted()))
        .annotate(attempts=_count_of(attempts))
        .values(*CASE_VALUES, "start_date", "attempts")
    )
    specs: list[ReminderSpec] = []
    for row in rows:
        days = ctx.rules[row["service_id"]].first_contact_days
        due = add_working_days(row["start_date"], days)
        attempts_text = f"{row['attempts']} attempt{'s' if row['attempts'] != 1 else ''} so far"
        specs += _for(
            _owner(ctx, row["service_id"], row["link_worker_id"]),
            **_case_spec(
                row,
                Rule.FIRST_CONTACT,
                due,
                f"First contact due by {_long(due)}",
                f"Accepted {_long(row['start_date'])}; {attempts_text}",
            ),
        )
    return specs


def no_contact(ctx: Context) -> list[ReminderSpec]:
    """An active case whose last contact (attempts do not count, but are shown) was ``no_contact_days`` or more
    days ago. Logging a contact moves the due date on, which clears this reminder."""
    branches = [
        Q(service_id__in=ids, last_at__lt=_day_start(ctx.today - dt.timedelta(days=days - 1)))
        for days, ids in ctx.groups(lambda r: r.no_contact_days).items()
    ]
    where = _any(*branches)
    if where is None:
        return []
    last = Subquery(_counted().order_by("-at").values("at")[:1], output_field=DateTimeField())
    attempts_since = Contact.objects.filter(case=OuterRef("pk"), attempted_only=True, at__gt=OuterRef("last_at"))
    rows = (
        _cases(ctx, ctx.rules, CaseStatus.ACTIVE)
        .annotate(last_at=last)
        .filter(where)
        .annotate(attempts=_count_of(attempts_since))
        .values(*CASE_VALUES, "last_at", "attempts")
    )
    specs: list[ReminderSpec] = []
    for row in rows:
        days = ctx.rules[row["service_id"]].no_contact_days
        last_day = _local_date(row["last_at"])
        n = row["attempts"]
        detail = f"Last contact {_long(last_day)}; " + (
            f"{n} attempt{'s' if n != 1 else ''} since" if n else "no attempts since"
        )
        specs += _for(
            _owner(ctx, row["service_id"], row["link_worker_id"]),
            **_case_spec(
                row, Rule.NO_CONTACT, last_day + dt.timedelta(days=days), f"No contact for {days} days", detail
            ),
        )
    return specs


def ending_soon(ctx: Context) -> list[ReminderSpec]:
    """``ending_soon_days`` before the window ends, on an active case with fewer than
    ``ending_soon_below_contacts`` contacts: "ending soon, N contacts so far". Cleared by enough contacts, an
    extension, closure, or the window ending (the window-ended reminder takes over)."""
    branches = [
        Q(
            service_id__in=ids,
            window_end__gte=ctx.today,
            window_end__lte=ctx.today + dt.timedelta(days=days),
            contacts_so_far__lt=below,
        )
        for (days, below), ids in ctx.groups(lambda r: (r.ending_soon_days, r.ending_soon_below)).items()
    ]
    where = _any(*branches)
    if where is None:
        return []
    rows = (
        _cases(ctx, ctx.rules, CaseStatus.ACTIVE)
        .annotate(contacts_so_far=_count_of(_counted()))
        .filter(where)
        .values(*CASE_VALUES, "window_end", "contacts_so_far")
    )
    specs: list[ReminderSpec] = []
    for row in rows:
        days = ctx.rules[row["service_id"]].ending_soon_days
        n = row["contacts_so_far"]
        specs += _for(
            _owner(ctx, row["service_id"], row["link_worker_id"]),
            **_case_spec(
                row,
                Rule.ENDING_SOON,
                row["window_end"] - dt.timedelta(days=days),
                f"Support window ends on {_long(row['window_end'])}: {n} contact{'s' if n != 1 else ''} so far",
            ),
        )
    return specs


def contacts_review(ctx: Context) -> list[ReminderSpec]:
    """``review_at_contacts`` contacts reached on an open case: review it (close, extend with a reason, or
    continue and mark this done). Due on the day of that contact, so later contacts do not repeat it."""
    branches = [Q(service_id__in=ids, contacts_so_far__gte=n) for n, ids in ctx.groups(lambda r: r.review_at).items()]
    where = _any(*branches)
    if where is None:
        return []
    rows = (
        _cases(ctx, ctx.rules, *OPEN_CASE)
        .annotate(contacts_so_far=_count_of(_counted()))
        .filter(where)
        .annotate(contact_times=ArraySubquery(_counted().order_by("at", "pk").values("at")))
        .values(*CASE_VALUES, "contacts_so_far", "contact_times")
    )
    specs: list[ReminderSpec] = []
    for row in rows:
        n = ctx.rules[row["service_id"]].review_at
        specs += _for(
            _owner(ctx, row["service_id"], row["link_worker_id"]),
            **_case_spec(
                row,
                Rule.CONTACTS_REVIEW,
                _local_date(row["contact_times"][n - 1]),
                f"{n} contacts reached: review (close, extend with a reason, or continue)",
                f"{row['contacts_so_far']} contacts so far",
            ),
        )
    return specs


def window_ended(ctx: Context) -> list[ReminderSpec]:
    """The support window has ended and the case is still open: the link worker and the supervisors. Cleared
    by closing or extending the case."""
    enabled = [r.service_id for r in ctx.rules.values() if r.window_ended]
    rows = _cases(ctx, enabled, *OPEN_CASE).filter(window_end__lt=ctx.today).values(*CASE_VALUES, "window_end")
    specs: list[ReminderSpec] = []
    for row in rows:
        recipients = [
            *_owner(ctx, row["service_id"], row["link_worker_id"]),
            *ctx.members(row["service_id"], Role.SUPERVISOR),
        ]
        specs += _for(
            recipients,
            **_case_spec(
                row,
                Rule.WINDOW_ENDED,
                row["window_end"] + dt.timedelta(days=1),
                f"Support window ended on {_long(row['window_end'])}: review needed",
            ),
        )
    return specs


def follow_up_measure(ctx: Context) -> list[ReminderSpec]:
    """A baseline wellbeing measure without its follow-up, once the window has ended or the case has closed
    (for ``FOLLOW_UP_AFTER_CLOSURE_DAYS`` after closure). Cleared by recording the follow-up."""
    enabled = [r.service_id for r in ctx.rules.values() if r.follow_up]
    follow_up = Assessment.objects.filter(
        case=OuterRef("case"), instrument=OuterRef("instrument"), timepoint=Timepoint.FOLLOW_UP
    )
    missing = Assessment.objects.filter(case=OuterRef("pk"), timepoint=Timepoint.BASELINE).filter(~Exists(follow_up))
    recently = ctx.today - dt.timedelta(days=FOLLOW_UP_AFTER_CLOSURE_DAYS)
    rows = (
        _cases(ctx, enabled, *OPEN_CASE, CaseStatus.CLOSED)
        .filter(
            Q(status__in=OPEN_CASE, window_end__lte=ctx.today) | Q(status=CaseStatus.CLOSED, closed_on__gte=recently)
        )
        .filter(Exists(missing))
        .values(*CASE_VALUES, "window_end", "closed_on")
    )
    specs: list[ReminderSpec] = []
    for row in rows:
        closed = row["closed_on"]
        due = min(row["window_end"], closed) if closed else row["window_end"]
        detail = f"Case closed {_long(closed)}" if closed else f"Support window ended {_long(row['window_end'])}"
        specs += _for(
            _owner(ctx, row["service_id"], row["link_worker_id"]),
            **_case_spec(row, Rule.FOLLOW_UP_MEASURE, due, "Follow-up wellbeing measure due", detail),
        )
    return specs


def community_review(ctx: Context) -> list[ReminderSpec]:
    """A directory entry (not defunct) never checked, or past ``last_checked_on + review_every_days``: the
    service managers. Cleared by recording the check."""
    enabled = [r.service_id for r in ctx.rules.values() if r.community_review]
    due_expr = ExpressionWrapper(
        Func(F("last_checked_on"), F("review_every_days"), template="(%(expressions)s)", arg_joiner=" + "),
        output_field=DateField(),
    )
    rows = (
        ctx.scoped(CommunityService.objects.filter(provider__service_id__in=enabled))
        .exclude(status=ServiceStatus.DEFUNCT)
        .annotate(review_due=due_expr)
        .filter(Q(last_checked_on=None) | Q(review_due__lt=ctx.today))
        .values("pk", "name", "provider__service_id", "last_checked_on", "review_due", "created_at")
    )
    specs: list[ReminderSpec] = []
    for row in rows:
        service_id = row["provider__service_id"]
        checked = row["last_checked_on"]
        specs += _for(
            ctx.members(service_id, Role.SERVICE_MANAGER),
            rule=Rule.COMMUNITY_REVIEW,
            object_kind=ObjectKind.COMMUNITY_SERVICE,
            object_id=row["pk"],
            service_id=service_id,
            due_on=row["review_due"] if checked else _local_date(row["created_at"]),
            title="Quality review due" if checked else "Quality checks never recorded",
            subject=row["name"],
            link=reverse("community:service", args=[row["pk"]]),
            detail=f"Last checked {_long(checked)}" if checked else "",
        )
    return specs


def home_visits_overdue(ctx: Context) -> list[ReminderSpec]:
    """Checked in to a home visit and not checked out by the expected end plus the grace period: an urgent
    alert to the duty contact (or the service managers) and the supervisors. Cleared by checking out."""
    ends = ExpressionWrapper(
        F("checked_in_at") + F("expected_minutes") * Value(dt.timedelta(minutes=1)), output_field=DateTimeField()
    )
    branches = [
        Q(case__service_id__in=ids, expected_end__lt=ctx.now - dt.timedelta(minutes=grace))
        for grace, ids in ctx.groups(lambda r: r.grace_minutes, keep_zero=True).items()
    ]
    where = _any(*branches)
    if where is None:
        return []
    rows = (
        ctx.scoped(HomeVisit.objects.filter(checked_in_at__isnull=False, checked_out_at=None))
        .annotate(expected_end=ends, reference=_reference("case_id"))
        .filter(where)
        .values(
            "pk",
            "case_id",
            "case__service_id",
            "link_worker_id",
            "link_worker__full_name",
            "expected_end",
            "case__client__given_name",
            "case__client__family_name",
            "reference",
        )
    )
    specs: list[ReminderSpec] = []
    for row in rows:
        service_id = row["case__service_id"]
        rules = ctx.rules.get(service_id)
        if rules is None:
            continue
        duty = [rules.duty_contact_id] if rules.duty_contact_id in ctx.members(service_id, *TEAM_ROLES) else []
        recipients = [
            *(duty or ctx.members(service_id, Role.SERVICE_MANAGER)),
            *ctx.members(service_id, Role.SUPERVISOR),
        ] or [u for u in ctx.members(service_id, Role.LINK_WORKER) if u != row["link_worker_id"]]
        expected = timezone.localtime(row["expected_end"], timezone.get_default_timezone())
        specs += _for(
            recipients,
            rule=Rule.HOME_VISIT_OVERDUE,
            object_kind=ObjectKind.HOME_VISIT,
            object_id=row["pk"],
            service_id=service_id,
            due_on=expected.date(),
            title=(
                f"Home visit not checked out: {row['link_worker__full_name']} was expected back by "
                f"{expected:%H:%M} on {_long(expected.date())}"
            ),
            subject=_subject(
                row["case__client__given_name"], row["case__client__family_name"], row["reference"], row["case_id"]
            ),
            link=reverse("clients:case", args=[row["case_id"]]),
            urgent=True,
        )
    return specs


TEAM_ROLES = (Role.LINK_WORKER, Role.SUPERVISOR, Role.SERVICE_MANAGER)

# Each rule function and the reminder rules it produces.
SCAN_RULES: dict[Callable[[Context], list[ReminderSpec]], tuple[str, ...]] = {
    referral_waiting: (Rule.TRIAGE_WAITING, Rule.TRIAGE_ESCALATION),
    first_contact: (Rule.FIRST_CONTACT,),
    no_contact: (Rule.NO_CONTACT,),
    ending_soon: (Rule.ENDING_SOON,),
    contacts_review: (Rule.CONTACTS_REVIEW,),
    window_ended: (Rule.WINDOW_ENDED,),
    follow_up_measure: (Rule.FOLLOW_UP_MEASURE,),
    community_review: (Rule.COMMUNITY_REVIEW,),
}
VISIT_RULES: dict[Callable[[Context], list[ReminderSpec]], tuple[str, ...]] = {
    home_visits_overdue: (Rule.HOME_VISIT_OVERDUE,),
}


# --- The scans ----------------------------------------------------------------------------------------------
def _try_lock(key: int) -> bool:
    """Take a transaction-scoped advisory lock, or say someone else holds it. Released at commit or rollback,
    so a crashed run never leaves it behind."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return bool(cursor.fetchone()[0])


RuleSet = dict[Callable[[Context], list[ReminderSpec]], tuple[str, ...]]


@transaction.atomic
def _run(lock: int, rule_set: RuleSet, now: dt.datetime | None) -> tuple[list[ReminderSpec], SyncResult] | None:
    if not _try_lock(lock):
        return None
    ctx = _context(now or timezone.now())
    specs = [spec for rule in rule_set for spec in rule(ctx)]
    rules = [r for produced in rule_set.values() for r in produced]
    return specs, notification_services.reminders_sync(specs=specs, rules=rules)


def reminders_scan(*, now: dt.datetime | None = None) -> SyncResult | None:
    """Apply every rule (except the home visit alert, which has its own minute-by-minute scan) to every
    service: create what is due, clear what no longer is. Returns None if another scan is running."""
    done = _run(SCAN_LOCK, SCAN_RULES, now)
    return None if done is None else done[1]


@transaction.atomic
def home_visit_alerts_scan(*, now: dt.datetime | None = None) -> SyncResult | None:
    """Raise (and clear) the urgent home visit alerts; the caller then emails them
    (``notifications.services.urgent_alerts_send``). Runs every minute; None if another run is going."""
    done = _run(VISIT_LOCK, VISIT_RULES, now)
    if done is None:
        return None
    specs, result = done
    # The visit page can say when the alert went: once per visit (a conditional UPDATE).
    HomeVisit.objects.filter(pk__in={s.object_id for s in specs}, overdue_alerted_at=None).update(
        overdue_alerted_at=timezone.now()
    )
    return result


RECHECKED = "reminders-rechecked"
RECHECKED_SECONDS = 24 * 3600


# What the rules read besides the versioned tables (outcomes.freshness): the services' reminder settings, and who
# works there (a reminder goes to the case's link worker, or to the managers once they have left). Each as a digest
# of the rows themselves, so any change to either shows, whenever it was made. Table names are constants.
UNVERSIONED_SQL = """
SELECT
  (SELECT md5(COALESCE(string_agg(s::text, ',' ORDER BY s.service_id), ''))
     FROM notifications_remindersettings s WHERE s.service_id = ANY(%s)),
  (SELECT md5(COALESCE(string_agg(concat_ws(':', m.organisation_id, m.role, m.user_id, u.is_active), ','
                                  ORDER BY m.organisation_id, m.role, m.user_id), ''))
     FROM accounts_membership m JOIN accounts_user u ON u.id = m.user_id WHERE m.organisation_id = ANY(%s))
"""


def _unversioned_stamp(service_ids: set[UUID]) -> tuple[str, str]:
    """A digest of the services' reminder settings and of their members: one query."""
    ids = sorted(service_ids)
    with connection.cursor() as cursor:
        cursor.execute(UNVERSIONED_SQL, [ids, ids])
        settings, members = cursor.fetchone()
    return settings, members


def reminders_recheck_for_user(*, user: Any, now: dt.datetime | None = None) -> int:
    """Clear the user's outstanding reminders whose condition no longer holds (a contact logged, a referral
    triaged, a visit checked out), so the reminders page never lists something already done. Runs only the
    rules the user has reminders for, limited to those objects. Returns how many were cleared.

    The answer only changes when what the rules read changes, so a recheck is remembered (in the cache) under
    everything it depended on: the user's outstanding reminders, the data versions of their services and the
    shared tables (bumped by any write, outcomes.freshness), those services' reminder settings and members, the
    day and the rules' code. Looking again before any of that changes reruns nothing: three queries instead of
    a dozen (the reminders page took 60-90 ms at ICB scale, make bench). All of it is read before the rules
    run, so a write made meanwhile gives the next look a new key."""
    now = now or timezone.now()
    outstanding = list(
        Reminder.objects.filter(recipient=user, status__in=[ReminderStatus.OPEN, ReminderStatus.SNOOZED]).values_list(
            "pk", "rule", "object_id", "service_id"
        )
    )
    if not outstanding:
        return 0
    service_ids = {service_id for *_, service_id in outstanding}
    versions = freshness.versions(service_ids)
    stamp = _unversioned_stamp(service_ids)

    def key(pks: Iterable[int]) -> str:
        return freshness.key_for(
            RECHECKED,
            service_ids=service_ids,
            parts=(str(user.pk), _local_date(now), tuple(sorted(pks)), stamp),
            code=(sys.modules[__name__],),
            known_versions=versions,
        )

    if cache.get(key(pk for pk, *_ in outstanding)):
        return 0
    present = {rule for _, rule, _, _ in outstanding}
    objects = {object_id for _, _, object_id, _ in outstanding}
    ctx = _context(now, only=objects)
    # Each rule the user has reminders for says what is still due; their reminders are then reconciled in one
    # read and one update for all those rules (a read and an update per rule before: the busiest link worker's
    # reminders page made four of each when the recheck ran).
    rules: list[str] = []
    specs: list[ReminderSpec] = []
    with transaction.atomic():
        for rule_set in (SCAN_RULES, VISIT_RULES):
            for rule, produced in rule_set.items():
                if present.intersection(produced):
                    rules.extend(produced)
                    specs.extend(s for s in rule(ctx) if s.recipient_id == user.pk)
        cleared = notification_services.reminders_sync(
            specs=specs, rules=rules, object_ids=objects, recipient=user, create=False
        ).cleared
        remaining = (
            Reminder.objects.filter(recipient=user, status__in=[ReminderStatus.OPEN, ReminderStatus.SNOOZED])
            .values_list("pk", flat=True)
            .order_by()
            if cleared
            else [pk for pk, *_ in outstanding]
        )
        checked = key(remaining)
    # Keyed on the reminders left outstanding: were the clearing rolled back, the cleared ones would be
    # outstanding again, and that set's key is not remembered.
    cache.set(checked, True, RECHECKED_SECONDS)
    return cleared
