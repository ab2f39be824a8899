"""Demo data: one social prescribing service with a PCN of four practices, a user for every role, a
community directory and clients in realistic states. Deterministic (seeded) and idempotent.

It lives in outcomes because it writes to every app, and outcomes is the only layer allowed to know them all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from faker import Faker

from clients.models import (
    AlertKind,
    Case,
    CaseStatus,
    Client,
    ClientAlert,
    ClosureReason,
    Contact,
    ContactMethod,
    Plan,
    PlanVersion,
    WhatMatters,
)
from community.models import (
    Accessibility,
    Capacity,
    Category,
    CommunityService,
    DBSCheck,
    HowToJoin,
    PostcodeArea,
    Provider,
    Schedule,
    ServiceStatus,
)
from linkwork.accounts.models import AgencyType, Membership, Organisation, OrganisationKind, Role, User
from linkwork.nhs import synthetic_nhs_number
from referrals.models import (
    SNOMED_DECLINED,
    SNOMED_REFERRED,
    ContactPreference,
    DeclineReason,
    Referral,
    ReferralReason,
    ReferralStatus,
)
from referrals.services import next_reference

DEMO_SERVICE_NAME = "Riverside Social Prescribing Service"
DEMO_PASSWORD = "linkwork-demo-2026"  # nosec B105  # the published password of the demo accounts


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    name: str


DEMO_USERS: list[tuple[str, str, str, str]] = [
    # (email, full name, role, organisation key)
    ("linkworker@demo.linkwork.test", "Amira Khan", Role.LINK_WORKER, "service"),
    ("linkworker2@demo.linkwork.test", "Tom Evans", Role.LINK_WORKER, "service"),
    ("referrer@demo.linkwork.test", "Sally Brown", Role.REFERRER, "practice0"),
    ("agency@demo.linkwork.test", "Dev Patel", Role.REFERRER, "agency"),
    ("supervisor@demo.linkwork.test", "Dr Helen O'Neill", Role.SUPERVISOR, "service"),
    ("manager@demo.linkwork.test", "Grace Okafor", Role.SERVICE_MANAGER, "service"),
    ("commissioner@demo.linkwork.test", "Peter Lewis", Role.COMMISSIONER, "commissioner"),
    ("admin@demo.linkwork.test", "Sam Admin", Role.SITE_ADMIN, "service"),
]

PRACTICES = [
    ("Riverside Medical Centre", "Y90001"),
    ("Bridge Street Surgery", "Y90002"),
    ("Meadow Lane Practice", "Y90003"),
    ("Oakwood Health Centre", "Y90004"),
]

GROUPS: list[tuple[str, str, list[str], str, bool]] = [
    # (provider, service name, categories, schedule, free)
    (
        "Riverside Walking Friends",
        "Wednesday health walk",
        [Category.PHYSICAL, Category.NATURE],
        "Wednesdays 10am",
        True,
    ),
    (
        "Riverside Walking Friends",
        "Nordic walking for beginners",
        [Category.PHYSICAL],
        "Saturdays 9:30am",
        True,
    ),
    (
        "Oakwood Community Garden",
        "Growing together",
        [Category.NATURE, Category.MENTAL_WELLBEING],
        "Tuesdays and Thursdays 10am to 1pm",
        True,
    ),
    (
        "Oakwood Community Garden",
        "Allotment volunteers",
        [Category.VOLUNTEERING, Category.NATURE],
        "Sundays 11am",
        True,
    ),
    ("Age Friendly Riverside", "Tea and chat club", [Category.BEFRIENDING], "Mondays 2pm to 4pm", True),
    (
        "Age Friendly Riverside",
        "Telephone befriending",
        [Category.BEFRIENDING],
        "Weekly call at a time agreed",
        True,
    ),
    (
        "Age Friendly Riverside",
        "Digital skills drop-in",
        [Category.LEARNING],
        "Fridays 10am to 12 noon",
        True,
    ),
    (
        "Riverside Arts Collective",
        "Art for wellbeing",
        [Category.ARTS, Category.MENTAL_WELLBEING],
        "Thursdays 6pm",
        False,
    ),
    ("Riverside Arts Collective", "Community choir", [Category.ARTS], "Tuesdays 7pm", False),
    ("Citizens Advice Riverside", "Money and debt advice", [Category.MONEY], "By appointment", True),
    ("Citizens Advice Riverside", "Benefits check", [Category.MONEY], "By appointment", True),
    ("Riverside Housing Trust", "Tenancy support", [Category.HOUSING], "By referral", True),
    (
        "Carers Hub",
        "Carers cafe",
        [Category.CARERS, Category.PEER_SUPPORT],
        "First Monday of the month, 1pm",
        True,
    ),
    ("Carers Hub", "Carers assessment support", [Category.CARERS], "By appointment", True),
    (
        "Mind in Riverside",
        "Peer support group",
        [Category.PEER_SUPPORT, Category.MENTAL_WELLBEING],
        "Wednesdays 6pm",
        True,
    ),
    (
        "Mind in Riverside",
        "Managing stress course",
        [Category.MENTAL_WELLBEING, Category.LEARNING],
        "Six weekly sessions, Mondays 10am",
        True,
    ),
    ("Riverside Leisure Trust", "Gentle exercise class", [Category.PHYSICAL], "Fridays 11am", False),
    ("Riverside Leisure Trust", "Walking football", [Category.PHYSICAL], "Sundays 10am", False),
    (
        "Riverside Faith Forum",
        "Community lunch",
        [Category.FAITH_CULTURE, Category.BEFRIENDING],
        "Thursdays 12:30pm",
        True,
    ),
    (
        "Riverside Volunteer Centre",
        "Volunteering taster",
        [Category.VOLUNTEERING, Category.LEARNING],
        "Monthly",
        True,
    ),
]


CENTRE = (53.7997, -1.5492)
DAYS = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}


def _schedule_parts(text: str) -> list[tuple[str, time]]:
    """ "Tuesdays and Thursdays 10am to 1pm" → [("TU", 10:00), ("TH", 10:00)]."""
    import re

    lowered = text.lower()
    days = [code for name, code in DAYS.items() if name in lowered]
    match = re.search(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)", lowered)
    if not days or not match:
        return []
    hour = int(match.group(1)) % 12 + (12 if match.group(3) == "pm" else 0)
    return [(day, time(hour, int(match.group(2) or 0))) for day in days]


def demo_logins() -> list[DemoLogin]:
    return [DemoLogin(role=str(Role(r).label), email=e, name=n) for e, n, r, _ in DEMO_USERS]


@transaction.atomic
def seed_demo(*, scale: int = 1, seed: int = 2026, today: date | None = None) -> bool:
    """Create the demo deployment. Returns False (and changes nothing) if it already exists."""
    if Organisation.objects.filter(name=DEMO_SERVICE_NAME, kind=OrganisationKind.SERVICE).exists():
        return False
    rng = random.Random(seed)  # nosec B311  # reproducible demo data, not security
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    today = today or timezone.localdate()

    service = Organisation.objects.create(
        name=DEMO_SERVICE_NAME, kind=OrganisationKind.SERVICE, link_worker_title="Community connector"
    )
    pcn = Organisation.objects.create(name="Riverside Primary Care Network", kind=OrganisationKind.PCN)
    pcn.services.add(service)
    orgs: dict[str, Organisation] = {"service": service}
    practices = []
    for i, (name, ods) in enumerate(PRACTICES):
        practice = Organisation.objects.create(name=name, kind=OrganisationKind.PRACTICE, ods_code=ods, pcn=pcn)
        practice.services.add(service)
        orgs[f"practice{i}"] = practice
        practices.append(practice)
    agency = Organisation.objects.create(
        name="Riverside Council Adult Social Care",
        kind=OrganisationKind.AGENCY,
        agency_type=AgencyType.COUNCIL,
    )
    agency.services.add(service)
    orgs["agency"] = agency
    commissioner = Organisation.objects.create(
        name="Riverside Integrated Care Board", kind=OrganisationKind.COMMISSIONER
    )
    commissioner.services.add(service)
    orgs["commissioner"] = commissioner

    users: dict[str, User] = {}
    for email, name, role, org_key in DEMO_USERS:
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=DEMO_PASSWORD, full_name=name, is_staff=(role == Role.SITE_ADMIN)
        )
        Membership.objects.get_or_create(user=user, organisation=orgs[org_key], role=role)
        users[email] = user
    link_workers = [u for (e, _, r, _), u in zip(DEMO_USERS, users.values(), strict=True) if r == Role.LINK_WORKER]
    referrers = [users["referrer@demo.linkwork.test"], users["agency@demo.linkwork.test"]]

    providers: dict[str, Provider] = {}
    for n, (provider_name, name, categories, schedule, free) in enumerate(GROUPS):
        provider = providers.get(provider_name) or Provider.objects.create(
            service=service,
            name=provider_name,
            description=f"{provider_name} is a local community organisation.",
            email=f"hello@{provider_name.lower().replace(' ', '')[:20]}.example",
        )
        providers[provider_name] = provider
        postcode = fake.postcode()
        lat, lng = CENTRE[0] + rng.uniform(-0.05, 0.05), CENTRE[1] + rng.uniform(-0.08, 0.08)
        PostcodeArea.objects.update_or_create(
            postcode=PostcodeArea.key(postcode),
            defaults={"latitude": lat, "longitude": lng, "imd_decile": rng.randint(1, 10)},
        )
        community_service = CommunityService.objects.create(
            provider=provider,
            name=name,
            categories=categories,
            schedule=schedule,
            is_free=free,
            cost_amount=None if free else Decimal("3.00"),
            cost_description="" if free else "per session",
            description=f"{name}, run by {provider_name}. Friendly, relaxed and open to all abilities.",
            address=fake.street_address(),
            postcode=postcode,
            latitude=lat,
            longitude=lng,
            accessibility=rng.sample(list(Accessibility.values), rng.randint(0, 4)),
            languages=["English"] + (["Polish"] if n % 6 == 0 else []),
            capacity=Capacity.FULL if n % 9 == 4 else (Capacity.WAITING_LIST if n % 9 == 7 else Capacity.OPEN),
            how_to_join=[HowToJoin.DROP_IN, HowToJoin.BOOKING, HowToJoin.REFERRAL][n % 3],
            contact_name=fake.name(),
            minimum_age=18,
            status=ServiceStatus.TEMPORARILY_CLOSED if name == "Walking football" else ServiceStatus.ACTIVE,
            safeguarding_policy_seen=n % 10 != 3,
            insurance_seen=n % 10 != 3,
            dbs_check=DBSCheck.DONE if n % 10 != 3 else DBSCheck.MISSING,
            last_checked_on=today - timedelta(days=400 if n % 10 == 8 else rng.randint(10, 300)),
        )
        for day, opens in _schedule_parts(schedule):
            Schedule.objects.create(
                service=community_service,
                byday=[day],
                opens_at=opens,
                closes_at=time(min(opens.hour + 2, 23), opens.minute),
                description=schedule,
            )

    _seed_people(
        service=service,
        practices=practices,
        agency=agency,
        link_workers=link_workers,
        referrers=referrers,
        rng=rng,
        fake=fake,
        today=today,
        count=60 * scale,
    )
    return True


def _aware(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _seed_people(
    *,
    service: Organisation,
    practices: list[Organisation],
    agency: Organisation,
    link_workers: list[User],
    referrers: list[User],
    rng: random.Random,
    fake: Faker,
    today: date,
    count: int,
) -> None:
    reasons = list(ReferralReason.values)
    methods = [
        ContactMethod.PRACTICE,
        ContactMethod.PHONE,
        ContactMethod.HOME_VISIT,
        ContactMethod.VIDEO,
        ContactMethod.ACCOMPANIED,
    ]
    contacts: list[Contact] = []
    for i in range(count):
        given, family = fake.first_name(), fake.last_name()
        dob = fake.date_of_birth(minimum_age=18, maximum_age=92)
        source = agency if i % 5 == 0 else practices[i % len(practices)]
        referred_by = referrers[1] if source == agency else (referrers[0] if source == practices[0] else None)
        # 40 active, 5 paused, 15 closed for every 60 people
        state = "active" if i % 60 < 40 else ("paused" if i % 60 < 45 else "closed")
        start = today - timedelta(days=rng.randint(3, 80) if state != "closed" else rng.randint(95, 300))
        postcode = fake.postcode()
        decile = rng.randint(1, 10)
        PostcodeArea.objects.update_or_create(
            postcode=PostcodeArea.key(postcode),
            defaults={
                "imd_decile": decile,
                "latitude": CENTRE[0] + rng.uniform(-0.05, 0.05),
                "longitude": CENTRE[1] + rng.uniform(-0.08, 0.08),
            },
        )
        client = Client.objects.create(
            deprivation_decile=decile,
            service=service,
            given_name=given,
            family_name=family,
            date_of_birth=dob,
            nhs_number=synthetic_nhs_number(rng),
            postcode=postcode,
            address=fake.street_address(),
            phone=fake.phone_number(),
            practice=source if source.kind == OrganisationKind.PRACTICE else None,
        )
        window_end = Case.window_end_for(start, service.support_window_weeks)
        closed = state == "closed"
        case = Case.objects.create(
            client=client,
            service=service,
            link_worker=link_workers[i % len(link_workers)],
            status=CaseStatus(state),
            start_date=start,
            window_end=window_end,
            closed_on=min(today, window_end) if closed else None,
            closure_reason=rng.choice(list(ClosureReason.values)) if closed else "",
            closing_summary="Connected to local groups; wellbeing improved." if closed else "",
        )
        received = _aware(start - timedelta(days=rng.randint(1, 6)), 9)
        Referral.objects.create(
            reference=next_reference(year=received.year),
            service=service,
            source_organisation=source,
            referred_by=referred_by,
            given_name=given,
            family_name=family,
            date_of_birth=dob,
            nhs_number=client.nhs_number,
            postcode=client.postcode,
            reasons=rng.sample(reasons, rng.randint(1, 3)),
            contact_preference=ContactPreference.PHONE,
            phone=client.phone,
            consent_given=True,
            status=ReferralStatus.CLOSED if state == "closed" else ReferralStatus.ACCEPTED,
            received_at=received,
            decided_at=received + timedelta(days=1),
            decided_by=case.link_worker,
            snomed_code=SNOMED_REFERRED,
            case=case,
            outcome_summary=case.closing_summary,
            closed_at=_aware(case.closed_on, 16) if case.closed_on else None,
        )
        elapsed = ((case.closed_on or today) - start).days
        for n in range(min(12, max(0, elapsed // 9 + rng.randint(-1, 2)))):
            day = start + timedelta(days=min(elapsed, 2 + n * 8 + rng.randint(0, 3)))
            contacts.append(
                Contact(
                    case=case,
                    at=_aware(day, 9 + n % 8),
                    method=rng.choice(methods),
                    duration_minutes=rng.choice([20, 30, 45, 60]),
                    attempted_only=rng.random() < 0.1,
                    notes="Talked about what matters to them and next steps.",
                    recorded_by=case.link_worker,
                )
            )
    Contact.objects.bulk_create(contacts, batch_size=2000)
    _seed_plans(service=service, link_workers=link_workers)

    # Referrals still waiting for triage (some flagged), and some declined.
    an_active_client = Client.objects.filter(service=service, cases__status=CaseStatus.ACTIVE).first()
    for i in range(18 * scale_of(count)):
        waiting = i % 3 != 2
        received = _aware(today - timedelta(days=rng.randint(0, 10) if waiting else rng.randint(15, 60)), 11)
        source = practices[i % len(practices)]
        duplicate = i == 0 and an_active_client is not None
        decline = rng.choice(list(DeclineReason.values))
        Referral.objects.create(
            reference=next_reference(year=received.year),
            service=service,
            source_organisation=source,
            referred_by=referrers[0] if source == practices[0] else None,
            given_name=an_active_client.given_name if duplicate else fake.first_name(),
            family_name=an_active_client.family_name if duplicate else fake.last_name(),
            date_of_birth=an_active_client.date_of_birth
            if duplicate
            else fake.date_of_birth(minimum_age=18, maximum_age=90),
            nhs_number=an_active_client.nhs_number if duplicate else synthetic_nhs_number(rng),
            address=fake.street_address(),
            postcode=fake.postcode(),
            phone=fake.phone_number(),
            contact_preference=ContactPreference.PHONE,
            interpreter_needed=i % 7 == 1,
            language="Polish" if i % 7 == 1 else "",
            risk_information="Large dog at the property: ask for it to be shut away." if i % 5 == 3 else "",
            reasons=rng.sample(reasons, rng.randint(1, 2)),
            hopes="To get out of the house more and meet people.",
            consent_given=True,
            status=ReferralStatus.NEW if waiting else ReferralStatus.DECLINED,
            received_at=received,
            decided_at=None if waiting else received + timedelta(days=2),
            decline_reason="" if waiting else decline,
            snomed_code="" if waiting else SNOMED_DECLINED,
        )


def _seed_plans(*, service: Organisation, link_workers: list[User]) -> None:
    """What matters, plans and alerts for some of the open cases, so the pages look lived in."""
    worker = link_workers[0]
    cases = list(Case.objects.filter(service=service, status=CaseStatus.ACTIVE).select_related("client")[:12])
    for n, case in enumerate(cases):
        WhatMatters.objects.create(
            case=case,
            updated_by=worker,
            what_matters="Seeing my grandchildren and getting back to the allotment.",
            strengths="Good with my hands; my neighbour looks in on me.",
            worries="Money since my husband died, and the stairs.",
            want_to_change="Get out of the house more and meet people.",
        )
        plan = Plan.objects.create(case=case, version=1, review_on=case.window_end)
        PlanVersion.objects.create(
            plan=plan,
            number=1,
            saved_by=worker,
            review_on=case.window_end,
            goals=[
                {
                    "goal": "Get out of the house twice a week",
                    "status": "in_progress",
                    "progress": "",
                    "actions": [
                        {"what": "Try the Wednesday health walk", "who": case.client.given_name, "by_when": ""}
                    ],
                },
                {
                    "goal": "Sort out the gas bill",
                    "status": "not_started",
                    "progress": "",
                    "actions": [{"what": "Book a money advice appointment", "who": worker.full_name, "by_when": ""}],
                },
            ],
        )
        if n % 4 == 0:
            ClientAlert.objects.create(
                client=case.client,
                kind=AlertKind.LONE_WORKER,
                raised_by=worker,
                detail="Son at the address has been aggressive to visitors: visit in pairs.",
            )
        if n % 5 == 1:
            ClientAlert.objects.create(
                client=case.client,
                kind=AlertKind.NO_PHONE,
                raised_by=worker,
                detail="Hard of hearing: text or letter only.",
            )


def scale_of(count: int) -> int:
    return max(1, count // 60)


def describe_logins() -> str:
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD})"]
    for login in demo_logins():
        lines.append(f"  {login.role:<16} {login.email:<34} {login.name}")
    return "\n".join(lines)


__all__: list[Any] = ["seed_demo", "describe_logins", "DEMO_PASSWORD", "DEMO_SERVICE_NAME"]
