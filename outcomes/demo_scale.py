"""Benchmark data at ICB scale (issue #10): ``manage.py seed_demo --scale N`` fills an empty database, fast.

Scale 10 is the benchmark: an integrated care board commissioning 10 social prescribing services with 300 link
workers, 200,000 clients, 250,000 cases, 2,500,000 contacts, 400,000 wellbeing assessments, 5,000 community
services, 300,000 connections, 30,000 reminders and 2,000,000 audit events over ten years ending today. Scale N
is those numbers × N/10 (scale 1: one service, 30 link workers, 20,000 clients, 250,000 contacts ...).

Around them: practices in a primary care network with referrers, agencies, supervisors and managers, a
referral for every case (accepted or closed) and others declined or waiting in the triage queue, what matters
and plans for open cases, home visits, connection histories, supervision records, a directory with schedules
and coordinates (postcodes with coordinates and deprivation deciles, so search by distance works), reminders
made by the real reminder scan (topped up with done and cleared ones from the past) and their notifications.

How it is fast: names, addresses and texts come from small pools made once (Faker is called a few thousand
times, never per row); ids are made from random bits; the big tables are written with PostgreSQL COPY, in
time order (as a real deployment would have written them), with table and column names read from the models.
Nothing is disabled: constraints, foreign keys and triggers all stay on, and everything is one transaction, so
a failure leaves nothing behind. Deterministic for a given ``seed`` and day.

It lives in outcomes because it writes to every app (the layer allowed to know them all), like ``demo.py``.
"""

from __future__ import annotations

import json
import math
import random
import time as clock
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.urls import reverse
from django.utils import timezone
from faker import Faker

from clients.models import (
    AlertKind,
    Case,
    CaseAssignment,
    CaseStatus,
    CaseSupervisionFlag,
    Client,
    ClientAlert,
    ClosureReason,
    Connection,
    ConnectionEvent,
    ConnectionStatus,
    Contact,
    ContactMethod,
    EthnicCategory,
    HomeVisit,
    Plan,
    PlanVersion,
    SafeguardingConcern,
    SafeguardingDecision,
    SafeguardingOutcome,
    ShareWithGP,
    WhatMatters,
)
from community.models import (
    Accessibility,
    Capacity,
    Category,
    CommunityService,
    DBSCheck,
    DevelopmentNeed,
    GroupFeedback,
    HowToJoin,
    Opportunity,
    PostcodeArea,
    Provider,
    Schedule,
    ServiceStatus,
)
from linkwork.accounts.models import AgencyType, Membership, Organisation, OrganisationKind, Role, User
from linkwork.audit.models import Action, AuditEvent
from linkwork.notifications.models import Notification, ObjectKind, Reminder, ReminderStatus, Rule
from outcomes import reminders as reminder_rules
from outcomes import scoring
from outcomes.demo import DEMO_PASSWORD, DEMO_SERVICE_NAME
from outcomes.models import (
    Assessment,
    Instrument,
    Mode,
    ServiceInstrument,
    SupervisionAction,
    SupervisionSession,
    SystemUse,
    Timepoint,
    Wellbeing,
)
from referrals.models import (
    SNOMED_DECLINED,
    SNOMED_REFERRED,
    Channel,
    ContactPreference,
    DeclineReason,
    Referral,
    ReferralEvent,
    ReferralReason,
    ReferralStatus,
)

BENCH_DOMAIN = "bench.linkwork.test"
COMMISSIONER_NAME = "West Yorkshire and Harrogate Integrated Care Board"
DEMO_DOMAIN = "demo.linkwork.test"

# The benchmark (scale 10). Scale N is these × N/10.
BENCHMARK: dict[str, int] = {
    "services": 10,
    "link_workers": 300,
    "clients": 200_000,
    "cases": 250_000,
    "contacts": 2_500_000,
    "assessments": 400_000,
    "community_services": 5_000,
    "connections": 300_000,
    "reminders": 30_000,
    "audit_events": 2_000_000,
}
YEARS = 10
OPEN_SHARE = 0.10  # of cases: active or paused, with recent contacts
PAUSED_SHARE = 0.12  # of open cases
DECLINED_SHARE = 0.08  # declined referrals, per case
TRIAGE_QUEUE = 15  # referrals waiting for triage in each service (fewer below scale 1)
LOGIN_SHARE = 0.08  # of audit events
MISC_AUDIT_SHARE = 0.04  # dashboards, directory entries, report downloads


@dataclass(frozen=True)
class Targets:
    """How many rows of each headline kind a scale makes (the rest follows from these)."""

    services: int
    link_workers: int
    clients: int
    cases: int
    contacts: int
    assessments: int
    community_services: int
    connections: int
    reminders: int
    audit_events: int


def targets_for(scale: float) -> Targets:
    """The benchmark numbers × scale/10, rounded; at least one service and two link workers in each."""
    if not scale > 0:
        raise ValueError("The scale must be more than 0")
    f = scale / 10
    counts = {name: round(n * f) for name, n in BENCHMARK.items()}
    counts["services"] = max(1, counts["services"])
    counts["link_workers"] = max(2 * counts["services"], counts["link_workers"])
    counts["clients"] = max(1, counts["clients"])
    counts["cases"] = max(counts["clients"], counts["cases"])
    counts["community_services"] = max(counts["services"], counts["community_services"])
    return Targets(**counts)


class ScaleRefused(Exception):
    """The database is not one to fill with benchmark data (it has real data, or benchmark data already)."""


def check_database(*, force: bool = False) -> None:
    """Refuse a database that already has benchmark data (always), or data that is not demo data (unless
    ``force``): benchmark data is for a fresh, empty database."""
    if User.objects.filter(email__endswith="@" + BENCH_DOMAIN).exists():
        raise ScaleRefused(
            "This database already has benchmark data: seed_demo --scale has been run on it before. "
            "Make a fresh database (createdb, then manage.py migrate) and run it there."
        )
    demo = Organisation.objects.filter(name=DEMO_SERVICE_NAME, kind=OrganisationKind.SERVICE).first()
    not_demo = {"service": demo} if demo else {}
    counts = {
        "people": User.objects.exclude(email__endswith="@" + DEMO_DOMAIN).count(),
        "services": Organisation.objects.filter(kind=OrganisationKind.SERVICE)
        .exclude(pk=getattr(demo, "pk", None))
        .count(),
        "clients": Client.objects.exclude(**not_demo).count(),
        "referrals": Referral.objects.exclude(**not_demo).count(),
    }
    if any(counts.values()) and not force:
        what = ", ".join(f"{n:,} {name}" for name, n in counts.items() if n)
        raise ScaleRefused(
            f"This database has data that is not demo data ({what}). seed_demo --scale is for an empty benchmark "
            "database: use a fresh one, or add --force to add benchmark data to this one anyway."
        )


# --- Small fast tools ---------------------------------------------------------------------------------------
EPOCH = date(1970, 1, 1)
DAY = 86_400


def _bag(weights: dict[Any, float], size: int = 200) -> list[Any]:
    """A list with each value repeated in proportion to its weight: a random index picks by weight, fast."""
    total = sum(weights.values())
    bag: list[Any] = []
    for value, weight in weights.items():
        bag += [value] * max(1, round(size * weight / total))
    return bag


def _split(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """``total`` shared out in proportion to ``weights`` (largest remainder), each at least ``minimum``."""
    spare = max(0, total - minimum * len(weights))
    whole = sum(weights)
    exact = [spare * w / whole for w in weights]
    parts = [int(x) for x in exact]
    for i in sorted(range(len(weights)), key=lambda i: parts[i] - exact[i])[: spare - sum(parts)]:
        parts[i] += 1
    return [minimum + p for p in parts]


def _nhs_check(stem: str) -> int | None:
    total = sum(int(d) * (10 - i) for i, d in enumerate(stem))
    check = 11 - total % 11
    return None if check == 10 else (0 if check == 11 else check)


class Moments:
    """Days and moments as ints (days and seconds since 1970-01-01 UTC), turned into COPY text with caches."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def day(self, d: int) -> str:
        text = self._days.get(d)
        if text is None:
            text = self._days[d] = (EPOCH + timedelta(days=d)).isoformat()
        return text

    def at(self, seconds: int) -> str:
        d, rest = divmod(seconds, DAY)
        return f"{self.day(d)} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}+00"

    @staticmethod
    def to_date(d: int) -> date:
        return EPOCH + timedelta(days=d)

    @staticmethod
    def of(day: date) -> int:
        return (day - EPOCH).days


class Ids:
    """Random version-4 UUIDs as text, from the seeded generator (about three times faster than uuid4())."""

    CLEAR = ~(0xF000 << 64) & ~(0xC000 << 48)
    SET = (0x4000 << 64) | (0x8000 << 48)

    def __init__(self, rng: random.Random) -> None:
        self.bits = rng.getrandbits

    def __call__(self) -> str:
        h = "%032x" % (self.bits(128) & self.CLEAR | self.SET)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _words(text: str) -> list[str]:
    return text.split()


def _array(values: Sequence[str]) -> str:
    """A PostgreSQL array literal for COPY (the values here never need quoting)."""
    return "{" + ",".join(values) + "}"


class Copier:
    """COPY rows into a model's table. Columns come from the model's fields; a field not given gets its
    default (or NULL, or now for auto_now fields), so a field added later does not break the generator
    unless it is required and has no default, which raises straight away. Generated columns are left to
    the database."""

    AUTO = ("AutoField", "BigAutoField", "SmallAutoField")

    def __init__(self, model: type[models.Model], names: str, now: str) -> None:
        """``names``: the fields each row gives, in order, separated by spaces."""
        meta = model._meta
        given = [meta.get_field(name) for name in names.split()]
        columns = [f.column for f in given]  # type: ignore[union-attr]
        fixed: list[Any] = []
        for f in meta.concrete_fields:
            if f in given or getattr(f, "generated", False):
                continue
            if f.primary_key and f.get_internal_type() in self.AUTO:
                continue
            columns.append(f.column)
            fixed.append(self._default(model, f, now))
        self.table = meta.db_table
        self.columns = columns
        self.fixed = tuple(fixed)

    @staticmethod
    def _default(model: type[models.Model], f: Any, now: str) -> Any:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return now
        if f.has_default():
            if callable(f.default) and f.default not in (list, dict):
                raise TypeError(f"{model.__name__}.{f.name}: give a value for each row (its default varies)")
            value = f.get_default()
        elif f.null:
            return None
        else:
            value = f.get_default()
            if value is None:
                raise TypeError(f"{model.__name__}.{f.name} is required: the scale generator must fill it")
        if f.get_internal_type() == "ArrayField":
            return _array(value)
        if f.get_internal_type() == "JSONField":
            return json.dumps(value)
        return value

    def write(self, cursor: Any, rows: Iterator[tuple[Any, ...]] | Sequence[tuple[Any, ...]]) -> int:
        columns = ", ".join(f'"{c}"' for c in self.columns)
        fixed, n, width = self.fixed, 0, len(self.columns) - len(self.fixed)
        with cursor.copy(f'COPY "{self.table}" ({columns}) FROM STDIN') as copy:
            write = copy.write_row
            for row in rows:
                if not n and len(row) != width:
                    raise ValueError(f"{self.table}: rows have {len(row)} values for {width} columns")
                write(row + fixed)
                n += 1
        return n


# --- Text pools ---------------------------------------------------------------------------------------------
PLACES: list[tuple[str, float, float]] = [
    ("Airedale", 53.867, -1.907),
    ("Calderdale", 53.722, -1.862),
    ("Wakefield", 53.683, -1.499),
    ("Kirklees", 53.645, -1.782),
    ("Harrogate", 53.993, -1.541),
    ("Bradford North", 53.818, -1.760),
    ("Leeds South and East", 53.777, -1.510),
    ("Craven", 53.962, -2.017),
    ("Five Towns", 53.713, -1.345),
    ("Wharfedale", 53.905, -1.690),
]
NEIGHBOURHOODS = _words(
    "Oakwood Meadowbank Hillside Riverside Northfield Ashgrove Beechwood Moorside Brookfield Greenhill "
    "Westgate Eastfield Thornbury Holmewood Fairfield Highfield Lowmoor Churchtown Millbrook Stonegate "
    "Woodhouse Broadway Springfield Marshfield Windmill Castleton Parkside Bankfoot Heathfield Cliffe"
)
PROVIDER_KINDS = [
    "Walking Friends",
    "Community Garden",
    "Arts Collective",
    "Men's Shed",
    "Carers Hub",
    "Citizens Advice",
    "Mind",
    "Age Friendly Network",
    "Leisure Trust",
    "Allotment Society",
    "Community Choir",
    "Library",
    "Faith Forum",
    "Volunteer Centre",
    "Credit Union",
    "Housing Trust",
    "Repair Cafe",
    "Dementia Friends",
    "Bereavement Network",
    "Community Centre",
]
# (name, categories, description, how to join, free)
ACTIVITIES: list[tuple[str, list[str], str, str, bool]] = [
    (
        "Health walk",
        [Category.PHYSICAL, Category.NATURE],
        "A gentle group walk of about an hour at an easy pace, with a cup of tea afterwards. Walking boots not needed.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Nordic walking for beginners",
        [Category.PHYSICAL],
        "Learn Nordic walking with poles provided; builds strength and balance.",
        HowToJoin.BOOKING,
        True,
    ),
    (
        "Growing together",
        [Category.NATURE, Category.MENTAL_WELLBEING],
        "Gardening group growing vegetables and flowers on the community plot. No experience needed; tools provided.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Allotment volunteers",
        [Category.VOLUNTEERING, Category.NATURE],
        "Help look after shared allotments and take home what you grow.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Tea and chat club",
        [Category.BEFRIENDING],
        "A friendly social afternoon with tea, cake and conversation for anyone feeling lonely or isolated.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Telephone befriending",
        [Category.BEFRIENDING],
        "A weekly phone call from the same trained volunteer, for people who cannot easily get out.",
        HowToJoin.REFERRAL,
        True,
    ),
    (
        "Digital skills drop-in",
        [Category.LEARNING],
        "Help with phones, tablets, email, video calls and online forms, one to one.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Art for wellbeing",
        [Category.ARTS, Category.MENTAL_WELLBEING],
        "Relaxed painting and drawing sessions; materials provided.",
        HowToJoin.BOOKING,
        False,
    ),
    (
        "Community choir",
        [Category.ARTS],
        "Sing together: no auditions and no need to read music.",
        HowToJoin.DROP_IN,
        False,
    ),
    (
        "Money and debt advice",
        [Category.MONEY],
        "Free confidential advice on debt, budgeting, energy bills and benefits.",
        HowToJoin.BOOKING,
        True,
    ),
    (
        "Benefits check",
        [Category.MONEY],
        "A full check of the benefits you may be entitled to, with help to apply.",
        HowToJoin.BOOKING,
        True,
    ),
    (
        "Tenancy support",
        [Category.HOUSING],
        "Help to keep your home: repairs, rent arrears and dealing with the landlord.",
        HowToJoin.REFERRAL,
        True,
    ),
    (
        "Carers cafe",
        [Category.CARERS, Category.PEER_SUPPORT],
        "A break and a chat for unpaid carers, with information about support.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Peer support group",
        [Category.PEER_SUPPORT, Category.MENTAL_WELLBEING],
        "A safe space to talk with others who understand anxiety and low mood.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Managing stress course",
        [Category.MENTAL_WELLBEING, Category.LEARNING],
        "Six weekly sessions on understanding stress, sleep and worry.",
        HowToJoin.BOOKING,
        True,
    ),
    (
        "Gentle exercise class",
        [Category.PHYSICAL],
        "Chair-based exercise to music for strength and balance.",
        HowToJoin.DROP_IN,
        False,
    ),
    (
        "Walking football",
        [Category.PHYSICAL],
        "Football at walking pace for all fitness levels.",
        HowToJoin.DROP_IN,
        False,
    ),
    (
        "Community lunch",
        [Category.FAITH_CULTURE, Category.BEFRIENDING],
        "A free hot meal and good company, open to everyone.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Volunteering taster",
        [Category.VOLUNTEERING, Category.LEARNING],
        "Try out volunteering roles in the area with support.",
        HowToJoin.BOOKING,
        True,
    ),
    (
        "Men's shed",
        [Category.PEER_SUPPORT, Category.LEARNING],
        "Woodwork, repairs and a brew: men making things and friends.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Repair cafe",
        [Category.VOLUNTEERING, Category.LEARNING],
        "Bring broken things and fix them with volunteer menders.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Dementia cafe",
        [Category.CARERS, Category.BEFRIENDING],
        "Activities and support for people living with dementia and their carers.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Bereavement support group",
        [Category.PEER_SUPPORT],
        "Meet others who have lost someone close, with a trained facilitator.",
        HowToJoin.REFERRAL,
        True,
    ),
    (
        "Food pantry",
        [Category.MONEY],
        "Low-cost shopping for members: a week's food for a few pounds.",
        HowToJoin.BOOKING,
        False,
    ),
    (
        "Sewing and knitting circle",
        [Category.ARTS, Category.BEFRIENDING],
        "Bring your own project or learn from scratch.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Yoga for beginners",
        [Category.PHYSICAL, Category.MENTAL_WELLBEING],
        "Slow, gentle yoga; mats provided.",
        HowToJoin.BOOKING,
        False,
    ),
    (
        "English conversation club",
        [Category.LEARNING, Category.FAITH_CULTURE],
        "Practise spoken English in a friendly group.",
        HowToJoin.DROP_IN,
        True,
    ),
    (
        "Swimming for health",
        [Category.PHYSICAL],
        "Quiet adult swimming sessions with a lifeguard on hand.",
        HowToJoin.DROP_IN,
        False,
    ),
    (
        "Conservation volunteers",
        [Category.VOLUNTEERING, Category.NATURE],
        "Outdoor work days looking after local woods and paths.",
        HowToJoin.BOOKING,
        True,
    ),
    ("Jobs club", [Category.LEARNING], "Help with CVs, applications and interviews.", HowToJoin.DROP_IN, True),
]
ELIGIBILITY = [
    "Adults aged 18 and over",
    "Anyone living locally",
    "Adults with caring responsibilities",
    "Older people and their families",
    "Adults with long-term conditions",
    "Everyone welcome",
]
DAYS_OF_WEEK = [
    ("MO", "Mondays"),
    ("TU", "Tuesdays"),
    ("WE", "Wednesdays"),
    ("TH", "Thursdays"),
    ("FR", "Fridays"),
    ("SA", "Saturdays"),
    ("SU", "Sundays"),
]
CONTACT_NOTES = [
    "Talked about what matters to them and agreed next steps.",
    "Reviewed the plan together. Feeling more positive this week.",
    "Discussed the walking group; keen to try it next week.",
    "Helped fill in the benefits form over the phone.",
    "Went with them to the first session of the group. Stayed for the whole hour.",
    "Low this week after a difficult letter from the council. Agreed to call the housing officer together.",
    "Left a voicemail; will try again tomorrow.",
    "No answer. Sent a text to ask for a good time to call.",
    "Caught up about the carers cafe: met two people in a similar situation.",
    "Talked through money worries; booked the debt advice appointment.",
    "Feeling lonely since moving. Looked at befriending options together.",
    "Good progress with the goals: now going out twice a week.",
    "Home visit: house cold; talked about the warm home discount and energy advice.",
    "Daughter joined the call. Agreed she will help with transport to the group.",
    "Planning for the end of support: which groups they will keep going to.",
    "Said the art group is the highlight of their week.",
    "Sleep still poor. Suggested raising it with the GP at the review.",
    "Volunteering taster went well; considering a regular role.",
]
NEXT_STEPS = [
    "Call next week",
    "Book the money advice appointment",
    "Meet at the group on Wednesday",
    "Send the leaflet about the choir",
    "Check how the first session went",
    "Review the plan",
    "",
    "",
    "",
]
HOPES = [
    "To get out of the house more and meet people.",
    "Help with money worries and the bills.",
    "Something to do during the day since retiring.",
    "Support as a carer for my husband.",
    "To feel less anxious and more like myself.",
    "Help to sort out the housing problems.",
    "To get fitter and lose some weight.",
    "To find a group where I can make friends.",
]
CLOSING_SUMMARIES = {
    ClosureReason.GOALS_MET: "Goals met: now attending local groups every week and feeling more confident.",
    ClosureReason.CONNECTED: "Connected to community groups; wellbeing improved over the support period.",
    ClosureReason.MOVED_AWAY: "Moved out of the area; given details of the social prescribing service there.",
    ClosureReason.DISENGAGED: "Closed after several attempts to contact without a reply.",
    ClosureReason.STATUTORY: "Needs were beyond social prescribing; referred to the community mental health team.",
    ClosureReason.DECLINED: "Decided social prescribing was not for them at the moment.",
    ClosureReason.DIED: "Closed: the person has died.",
}
PAUSE_REASONS = [
    "In hospital",
    "Caring for a family member who is unwell",
    "Away for a few weeks",
    "Asked for a break while other support is under way",
]
EXTENSION_REASONS = [
    "Still waiting for the housing decision",
    "Needs more time to settle into the group",
    "Complex needs: agreed with the supervisor",
    "Support was paused while in hospital",
]
REASONS_STOPPED = [
    "Group moved to a time they cannot make",
    "Did not feel it was for them",
    "Health got worse",
    "Transport was too difficult",
    "Found paid work",
]
RISK_INFORMATION = [
    "Large dog at the property: ask for it to be shut away.",
    "Lives alone; hard of hearing, so call twice.",
    "Partner can be hostile to visitors.",
]
WHAT_MATTERS = [
    (
        "Seeing my grandchildren and getting back to the allotment.",
        "Good with my hands; my neighbour looks in on me.",
        "Money since my husband died, and the stairs.",
        "Get out of the house more and meet people.",
    ),
    (
        "Feeling useful again.",
        "I used to run a team at work; I like organising.",
        "Being stuck indoors all day.",
        "Find some volunteering.",
    ),
    (
        "My dog and my garden.",
        "Determined; I don't give up.",
        "The bills, and my knees.",
        "Sort out the debts and get fitter.",
    ),
    (
        "Looking after my mum while still having a life of my own.",
        "Patient; good at listening.",
        "Burning out as a carer.",
        "Get a regular break and meet other carers.",
    ),
]
GOALS = [
    ("Get out of the house twice a week", "Try the health walk on Wednesday"),
    ("Sort out the gas bill", "Book a money advice appointment"),
    ("Meet new people", "Go to the tea and chat club with a volunteer"),
    ("Sleep better", "Talk to the GP about sleep at the review"),
    ("Get a regular break from caring", "Go to the carers cafe"),
    ("Learn to video call the family", "Go to the digital skills drop-in"),
]
FLAG_QUESTIONS = [
    "Not engaging after three attempts: close or keep trying?",
    "Carer seems exhausted: should we raise a carer's assessment?",
    "Worried about the person's drinking: how best to raise it?",
]
CONCERNS = [
    "Bruising seen on the person's arm; they said they fell. Partner answered for them.",
    "Said a neighbour has been taking money from them for shopping.",
    "House very cold and little food in the kitchen; may be self-neglecting.",
]
SESSION_CONCERNS = [
    "Caseload heavy this month",
    "Two people with complex housing needs",
    "",
    "A difficult home visit last week",
    "",
]
NEEDS = [
    (DevelopmentNeed.Kind.FUNDING, "Needs funding to keep the room hire going next year"),
    (DevelopmentNeed.Kind.VOLUNTEERS, "Short of volunteers on Wednesdays"),
    (DevelopmentNeed.Kind.SAFEGUARDING, "Wants safeguarding training for new volunteers"),
    (DevelopmentNeed.Kind.PREMISES, "Looking for a step-free venue"),
]
ETHNICITY = _bag(
    {
        EthnicCategory.A: 70,
        EthnicCategory.C: 4,
        EthnicCategory.H: 3,
        EthnicCategory.J: 9,
        EthnicCategory.K: 1,
        EthnicCategory.M: 1,
        EthnicCategory.N: 2,
        EthnicCategory.D: 1,
        EthnicCategory.F: 1,
        EthnicCategory.R: 1,
        EthnicCategory.S: 1,
        EthnicCategory.Z: 2,
        "": 4,
    }
)
METHODS = _bag(
    {
        ContactMethod.PHONE: 40,
        ContactMethod.PRACTICE: 24,
        ContactMethod.HOME_VISIT: 10,
        ContactMethod.VIDEO: 4,
        ContactMethod.TEXT_EMAIL: 8,
        ContactMethod.GROUP: 5,
        ContactMethod.ACCOMPANIED: 9,
    }
)
DURATIONS = {
    ContactMethod.PHONE: [10, 15, 20, 30],
    ContactMethod.PRACTICE: [30, 45, 60],
    ContactMethod.HOME_VISIT: [45, 60, 75, 90],
    ContactMethod.VIDEO: [20, 30, 45],
    ContactMethod.TEXT_EMAIL: [5, 10],
    ContactMethod.GROUP: [60, 90, 120],
    ContactMethod.ACCOMPANIED: [60, 90, 120],
}
CLOSURES = _bag(
    {
        ClosureReason.CONNECTED: 35,
        ClosureReason.GOALS_MET: 25,
        ClosureReason.DISENGAGED: 14,
        ClosureReason.DECLINED: 8,
        ClosureReason.STATUTORY: 7,
        ClosureReason.MOVED_AWAY: 7,
        ClosureReason.DIED: 4,
    }
)
REASONS = _bag(
    {
        ReferralReason.LONELINESS: 30,
        ReferralReason.LOW_MOOD: 22,
        ReferralReason.MONEY: 14,
        ReferralReason.HOUSING: 7,
        ReferralReason.LONG_TERM_CONDITION: 9,
        ReferralReason.CARING: 6,
        ReferralReason.PHYSICAL_ACTIVITY: 6,
        ReferralReason.BEREAVEMENT: 5,
        ReferralReason.WEIGHT: 3,
        ReferralReason.EMPLOYMENT: 3,
        ReferralReason.OTHER: 1,
    }
)
CHANNELS = _bag({Channel.STAFF: 72, Channel.AGENCY_LINK: 8, Channel.SELF: 10, Channel.PHONE: 7, Channel.LETTER: 3})
DECLINES = _bag(
    {
        DeclineReason.PERSON_DECLINED: 35,
        DeclineReason.NO_CONTACT: 25,
        DeclineReason.NOT_ELIGIBLE: 15,
        DeclineReason.STATUTORY: 15,
        DeclineReason.DUPLICATE: 10,
    }
)
FINAL_CLOSED = _bag(
    {
        ConnectionStatus.ATTENDING: 30,
        ConnectionStatus.STOPPED: 20,
        ConnectionStatus.ATTENDED_FIRST: 10,
        ConnectionStatus.NOT_TAKEN_UP: 25,
        ConnectionStatus.REFERRED: 10,
        ConnectionStatus.SUGGESTED: 5,
    }
)
FINAL_OPEN = _bag(
    {
        ConnectionStatus.SUGGESTED: 30,
        ConnectionStatus.REFERRED: 35,
        ConnectionStatus.ATTENDED_FIRST: 20,
        ConnectionStatus.ATTENDING: 10,
        ConnectionStatus.NOT_TAKEN_UP: 5,
    }
)
PATHS: dict[str, list[list[str]]] = {
    "suggested": [["suggested"]],
    "referred": [["referred"], ["suggested", "referred"]],
    "attended_first": [["referred", "attended_first"], ["suggested", "referred", "attended_first"]],
    "attending": [["referred", "attended_first", "attending"]],
    "stopped": [["referred", "attended_first", "stopped"], ["referred", "attended_first", "attending", "stopped"]],
    "not_taken_up": [["suggested", "not_taken_up"], ["referred", "not_taken_up"]],
}


# --- The service being built --------------------------------------------------------------------------------
@dataclass
class ServicePlan:
    org: Organisation
    place: str
    centre: tuple[float, float]
    weight: float
    workers: list[str] = field(default_factory=list)
    supervisors: list[str] = field(default_factory=list)
    managers: list[str] = field(default_factory=list)
    practices: list[Organisation] = field(default_factory=list)
    agencies: list[Organisation] = field(default_factory=list)
    referrers: dict[Any, list[str]] = field(default_factory=dict)
    postcodes: list[tuple[str, int, str]] = field(default_factory=list)  # (postcode, decile, lsoa)
    directory: list[str] = field(default_factory=list)  # community service ids
    directory_names: dict[str, str] = field(default_factory=dict)
    unchecked: set[str] = field(default_factory=set)  # quality checks incomplete or overdue
    popular: list[str] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.org.pk)


class CaseRow:
    """What later tables need to know about a case (slots keep 250,000 of them small)."""

    __slots__ = (
        "id",
        "client",
        "service",
        "worker",
        "status",
        "start",
        "window_end",
        "closed_on",
        "paused_on",
        "reason",
        "extension",
        "referral_id",
        "received",
        "reference",
        "contacts",
        "first_contact",
        "last_contact",
        "measures",
        "connections",
        "audit",
    )

    def __init__(self) -> None:
        self.reference = ""
        self.extension = ""
        self.contacts = 0
        self.first_contact = 0
        self.last_contact = 0
        self.measures = 0
        self.connections = 0
        self.audit = 0

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED

    @property
    def end(self) -> int:
        """The last day anything can happen on the case."""
        if self.closed_on is not None:
            return self.closed_on
        return self.paused_on if self.paused_on is not None else 10**9


class ClientRow:
    __slots__ = ("id", "given", "family", "service", "dob", "nhs", "address", "postcode", "phone", "practice")

    def __init__(self, id: str, given: str, family: str, service: ServicePlan) -> None:
        self.id, self.given, self.family, self.service = id, given, family, service

    @property
    def name(self) -> str:
        return f"{self.given} {self.family}"


@dataclass
class Report:
    targets: Targets
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)


# --- The generator ------------------------------------------------------------------------------------------
class Generator:
    def __init__(self, *, scale: float, seed: int, today: date, out: Callable[[str], None]) -> None:
        self.scale = scale
        self.targets = targets_for(scale)
        self.rng = random.Random(seed)  # nosec B311  # reproducible benchmark data, not security
        self.uid = Ids(self.rng)
        self.fake = Faker("en_GB")
        self.fake.seed_instance(seed)
        self.today = Moments.of(today)
        self.first_day = self.today - round(365.25 * YEARS)
        self.m = Moments()
        self.now = timezone.now()
        self.now_text = self.now.astimezone(UTC).isoformat()
        self.out = out
        self.report = Report(targets=self.targets)
        self.cursor: Any = None
        self.services: list[ServicePlan] = []
        self.emails: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.cases: list[CaseRow] = []
        self.clients: list[ClientRow] = []
        self.contact_ids: dict[str, list[tuple[str, int]]] = {}  # case id → (contact id, at), for some cases
        self.case_link = reverse("clients:case", args=["00000000-0000-4000-8000-000000000000"])

    # Helpers -------------------------------------------------------------------------------------------------
    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[int(self.rng.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def link_to_case(self, case_id: str) -> str:
        return self.case_link.replace("00000000-0000-4000-8000-000000000000", case_id)

    def copy(self, model: type[models.Model], names: str, rows: Any) -> int:
        n = Copier(model, names, self.now_text).write(self.cursor, rows)
        key = model._meta.label
        self.report.rows[key] = self.report.rows.get(key, 0) + n
        return n

    @contextmanager
    def step(self, title: str) -> Iterator[dict[str, int]]:
        counted: dict[str, int] = {}
        before = dict(self.report.rows)
        started = clock.perf_counter()
        yield counted
        took = clock.perf_counter() - started
        self.report.seconds[title] = took
        made = {k: v - before.get(k, 0) for k, v in self.report.rows.items() if v != before.get(k, 0)}
        made.update(counted)
        detail = ", ".join(f"{n:,} {k.split('.')[-1]}" for k, n in made.items())
        total = sum(made.values())
        rate = f" ({total / took:,.0f} rows/s)" if took > 0.5 and total else ""
        self.out(f"  {title:<28} {took:7.1f} s  {detail}{rate}")

    def moment(self, day: int, earliest: int = 8, hours: int = 9) -> int:
        """A time on ``day`` in working hours (UTC), to the minute."""
        return day * DAY + earliest * 3600 + int(self.rng.random() * hours * 60) * 60

    # Run -----------------------------------------------------------------------------------------------------
    def run(self) -> Report:
        t = self.targets
        self.out(
            f"Benchmark data at scale {self.scale:g}: {t.services} service{'s' if t.services > 1 else ''}, "
            f"{t.link_workers} link workers, {t.clients:,} clients, {t.cases:,} cases, {t.contacts:,} contacts, "
            f"{t.audit_events:,} audit events"
        )
        started = clock.perf_counter()
        with transaction.atomic(), connection.cursor() as wrapper:
            self.cursor = wrapper.cursor
            # The data-version triggers (outcomes migration 0004) would queue one event per copied row until
            # commit; they are switched off for the load and every service's version bumped once at the end.
            versioned = self.data_version_tables()
            # Checks and triggers at each statement from here: ALTER TABLE refuses a table with events queued.
            self.cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in versioned:
                self.cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER linkwork_data_version')
            with self.step("pools"):
                self.make_pools()
            with self.step("organisations and people"):
                self.make_organisations()
            with self.step("postcodes"):
                self.make_postcodes()
            with self.step("directory"):
                self.make_directory()
            with self.step("clients and cases"):
                self.make_clients_and_cases()
            with self.step("referrals"):
                self.make_referrals()
            with self.step("contacts and home visits"):
                audit = self.make_contacts()
            with self.step("assessments and system use"):
                self.make_assessments()
            with self.step("connections"):
                self.make_connections()
            with self.step("plans, alerts, supervision"):
                self.make_open_case_records()
            with self.step("audit events"):
                self.make_audit(audit)
            with self.step("reminders and notifications"):
                self.make_reminders()
            for table in versioned:
                self.cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER linkwork_data_version')
            if versioned:
                self.cursor.execute(
                    "SELECT linkwork_bump_version(id) FROM accounts_organisation WHERE kind = 'service' "
                    "UNION ALL SELECT linkwork_bump_version('00000000-0000-0000-0000-000000000000'::uuid)"
                )
        with self.step("vacuum and analyze"), connection.cursor() as cursor:
            # A database in use is vacuumed by autovacuum, which also marks its pages all-visible: only then can
            # PostgreSQL answer from an index alone (contact_case_cover_idx). Freshly loaded data is not vacuumed
            # yet, so the benchmark would measure a state no running service is in. VACUUM cannot run inside a
            # transaction (a test's): there, statistics only.
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
        self.report.seconds["total"] = clock.perf_counter() - started
        return self.report

    def data_version_tables(self) -> list[str]:
        self.cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'linkwork_data_version' ORDER BY 1"
        )
        return [row[0] for row in self.cursor.fetchall()]

    # Pools ---------------------------------------------------------------------------------------------------
    def make_pools(self) -> None:
        fake = self.fake
        self.female = [fake.first_name_female() for _ in range(1500)]
        self.male = [fake.first_name_male() for _ in range(1500)]
        self.family = [fake.last_name() for _ in range(3000)]
        self.streets = [fake.street_address() for _ in range(4000)]
        self.towns = [fake.city() for _ in range(300)]
        # Ofcom's drama numbers: 07700 900000 to 900999 are never given to anyone.
        self.phones = [f"07700 900{n:03d}" for n in range(1000)]
        numbers_needed = self.targets.clients + self.targets.cases // 5 + 1000
        stems = (
            self.rng.sample(range(1_000_000), min(1_000_000, numbers_needed * 11 // 10))
            if numbers_needed * 11 // 10 <= 1_000_000
            else [self.rng.randrange(1_000_000) for _ in range(numbers_needed * 11 // 10)]
        )
        self.nhs_numbers: list[str] = []
        for stem in stems:
            text = f"999{stem:06d}"
            check = _nhs_check(text)
            if check is not None:
                self.nhs_numbers.append(text + str(check))
        self._next_nhs = 0

    def nhs_number(self) -> str:
        number = self.nhs_numbers[self._next_nhs % len(self.nhs_numbers)]
        self._next_nhs += 1
        return number

    def person(self) -> tuple[str, str, str]:
        sex = self.pick(SEXES)
        given = self.pick(self.male if sex == "male" else self.female)
        return given, self.pick(self.family), sex

    # Organisations and people --------------------------------------------------------------------------------
    def make_organisations(self) -> None:
        t = self.targets
        rng = self.rng
        password = make_password(DEMO_PASSWORD)  # hashed once: the same for every generated person
        weights = [rng.uniform(0.7, 1.3) for _ in range(t.services)]
        orgs: list[Organisation] = []
        for i in range(t.services):
            place, lat, lng = PLACES[i % len(PLACES)]
            if i >= len(PLACES):
                place = f"{place} {i // len(PLACES) + 1}"
                lat, lng = lat + rng.uniform(-0.3, 0.3), lng + rng.uniform(-0.3, 0.3)
            org = Organisation(
                name=f"{place} Social Prescribing Service",
                kind=OrganisationKind.SERVICE,
                link_worker_title=rng.choice(["Social prescribing link worker", "Community connector"]),
            )
            orgs.append(org)
            self.services.append(ServicePlan(org=org, place=place, centre=(lat, lng), weight=weights[i]))
        commissioner = Organisation(name=COMMISSIONER_NAME, kind=OrganisationKind.COMMISSIONER)
        pcns = [Organisation(name=f"{s.place} Primary Care Network", kind=OrganisationKind.PCN) for s in self.services]
        Organisation.objects.bulk_create([*orgs, commissioner, *pcns])
        practices: list[Organisation] = []
        agencies: list[Organisation] = []
        for i, (s, pcn) in enumerate(zip(self.services, pcns, strict=True)):
            for k in range(6):
                hood = NEIGHBOURHOODS[(i * 7 + k) % len(NEIGHBOURHOODS)]
                kind = ["Medical Centre", "Surgery", "Health Centre", "Family Practice"][k % 4]
                s.practices.append(
                    Organisation(
                        name=f"{hood} {kind}, {s.place}",
                        kind=OrganisationKind.PRACTICE,
                        ods_code=f"B{i:03d}{k:02d}",
                        pcn=pcn,
                    )
                )
            s.agencies = [
                Organisation(
                    name=f"{s.place} Council Adult Social Care",
                    kind=OrganisationKind.AGENCY,
                    agency_type=AgencyType.COUNCIL,
                ),
                Organisation(
                    name=f"{s.place} Housing Association", kind=OrganisationKind.AGENCY, agency_type=AgencyType.HOUSING
                ),
            ]
            practices += s.practices
            agencies += s.agencies
        Organisation.objects.bulk_create([*practices, *agencies])
        links = Organisation.services.through
        pairs = [links(from_organisation=commissioner, to_organisation=s.org) for s in self.services]
        for s, pcn in zip(self.services, pcns, strict=True):
            pairs += [links(from_organisation=o, to_organisation=s.org) for o in (pcn, *s.practices, *s.agencies)]
        links.objects.bulk_create(pairs)

        users: list[User] = []
        memberships: list[Membership] = []
        joined = timezone.make_aware(datetime.combine(Moments.to_date(self.first_day), datetime.min.time()))

        def person(email: str, org: Organisation, role: str, title: str = "") -> str:
            given, family, _ = self.person()
            user = User(
                email=email,
                full_name=f"{given} {family}",
                job_title=title,
                password=password,
                date_joined=joined,
                is_staff=role == Role.SITE_ADMIN,
            )
            users.append(user)
            memberships.append(Membership(user=user, organisation=org, role=role))
            self.emails[str(user.pk)] = email
            self.names[str(user.pk)] = user.full_name
            return str(user.pk)

        worker_counts = _split(t.link_workers, weights, minimum=2)
        n = 0
        for i, s in enumerate(self.services):
            tag = f"s{i + 1:02d}"
            for k in range(worker_counts[i]):
                n += 1
                s.workers.append(
                    person(f"linkworker{k + 1}.{tag}@{BENCH_DOMAIN}", s.org, Role.LINK_WORKER, s.org.link_worker_title)
                )
            for k in range(2):
                s.supervisors.append(person(f"supervisor{k + 1}.{tag}@{BENCH_DOMAIN}", s.org, Role.SUPERVISOR, "GP"))
                s.managers.append(
                    person(f"manager{k + 1}.{tag}@{BENCH_DOMAIN}", s.org, Role.SERVICE_MANAGER, "Service manager")
                )
            for k, practice in enumerate(s.practices):
                s.referrers[practice.pk] = [
                    person(f"referrer{j + 1}.p{k + 1}.{tag}@{BENCH_DOMAIN}", practice, Role.REFERRER, "Receptionist")
                    for j in range(2)
                ]
            for k, agency in enumerate(s.agencies):
                s.referrers[agency.pk] = [
                    person(f"agency{k + 1}.{tag}@{BENCH_DOMAIN}", agency, Role.REFERRER, "Social worker")
                ]
            s.ips = [f"198.51.100.{(i * 17 + k) % 254 + 1}" for k in range(12)]
        commissioners = [
            person(f"commissioner{k + 1}@{BENCH_DOMAIN}", commissioner, Role.COMMISSIONER, "Commissioning manager")
            for k in range(3)
        ]
        admin = person(f"admin@{BENCH_DOMAIN}", self.services[0].org, Role.SITE_ADMIN)
        User.objects.bulk_create(users)
        Membership.objects.bulk_create(memberships)
        ServiceInstrument.objects.bulk_create(
            ServiceInstrument(service=s.org, instrument=instrument)
            for s in self.services
            for instrument in Instrument.objects.filter(is_active=True)
        )
        first = self.services[0]
        self.report.logins = [
            ("Link worker", self.emails[first.workers[0]]),
            ("Supervisor", self.emails[first.supervisors[0]]),
            ("Service manager", self.emails[first.managers[0]]),
            ("Referrer", self.emails[first.referrers[first.practices[0].pk][0]]),
            ("Commissioner", self.emails[commissioners[0]]),
            ("Site admin", self.emails[admin]),
        ]
        self.report.rows["accounts.Organisation"] = len(orgs) + 1 + len(pcns) + len(practices) + len(agencies)
        self.report.rows["accounts.User"] = len(users)

    # Postcodes -----------------------------------------------------------------------------------------------
    def make_postcodes(self) -> None:
        per_service = _split(max(40, self.targets.clients // 8), [s.weight for s in self.services], minimum=40)
        taken = set(PostcodeArea.objects.values_list("postcode", flat=True))
        rows: list[tuple[Any, ...]] = []
        gauss = self.rng.gauss
        for s, n in zip(self.services, per_service, strict=True):
            while len(s.postcodes) < n:
                postcode = self.fake.postcode()
                key = PostcodeArea.key(postcode)
                if key in taken:
                    continue
                taken.add(key)
                decile = min(10, max(1, round(gauss(4.5, 2.6))))
                lsoa = f"E0{1000000 + int(self.rng.random() * 35000):07d}"[:9]
                s.postcodes.append((postcode, decile, lsoa))
                lat = round(s.centre[0] + gauss(0, 0.035), 6)
                lng = round(s.centre[1] + gauss(0, 0.055), 6)
                rows.append((key, lsoa, decile, lat, lng))
        self.copy(PostcodeArea, "postcode lsoa_code imd_decile latitude longitude", rows)
        self.coordinates = {r[0]: (r[3], r[4]) for r in rows}

    # Directory -----------------------------------------------------------------------------------------------
    def make_directory(self) -> None:
        rng = self.rng
        counts = _split(self.targets.community_services, [s.weight for s in self.services], minimum=1)
        providers: list[tuple[Any, ...]] = []
        services: list[tuple[Any, ...]] = []
        schedules: list[tuple[Any, ...]] = []
        needs: list[tuple[Any, ...]] = []
        feedback: list[tuple[Any, ...]] = []
        accessibility = list(Accessibility.values)
        statuses = _bag(
            {
                ServiceStatus.ACTIVE: 90,
                ServiceStatus.TEMPORARILY_CLOSED: 4,
                ServiceStatus.INACTIVE: 4,
                ServiceStatus.DEFUNCT: 2,
            }
        )
        for s, count in zip(self.services, counts, strict=True):
            provider_ids: list[tuple[str, str]] = []
            for k in range(max(1, count * 2 // 5)):
                hood = self.pick(NEIGHBOURHOODS)
                name = f"{hood} {PROVIDER_KINDS[k % len(PROVIDER_KINDS)]}"
                if k >= len(PROVIDER_KINDS):
                    name += f" ({s.place})" if k < 2 * len(PROVIDER_KINDS) else f" {k // len(PROVIDER_KINDS)}"
                pid = self.uid()
                created = self.moment(self.first_day + int(rng.random() * 3000))
                slug = "".join(c for c in name.lower() if c.isalnum())[:24]
                providers.append(
                    (
                        pid,
                        s.id,
                        name,
                        f"{name} is a local community organisation in {s.place}.",
                        f"https://{slug}.example.org",
                        f"hello@{slug}.example.org",
                        self.pick(self.phones),
                        self.m.at(created),
                        self.m.at(created),
                    )
                )
                provider_ids.append((pid, name))
                if self.chance(0.05):
                    kind, text = self.pick(NEEDS)
                    noted = min(created + 400 * DAY, self.now_seconds() - DAY)
                    needs.append(
                        (
                            self.uid(),
                            pid,
                            kind,
                            text,
                            "Local CVS",
                            self.pick(["open", "in_progress", "met"]),
                            self.pick(s.workers),
                            self.m.at(noted),
                            self.m.at(noted),
                        )
                    )
                if self.chance(0.1):
                    day = self.today - int(rng.random() * 700)
                    feedback.append(
                        (
                            self.uid(),
                            pid,
                            "Three people came from social prescribing this month; all still coming.",
                            self.m.day(day),
                            self.pick(s.workers),
                            self.m.at(day * DAY + 43200),
                        )
                    )
            popularity: list[float] = []
            for k in range(count):
                pid, provider_name = provider_ids[k % len(provider_ids)]
                name, categories, description, join, free = ACTIVITIES[(k * 7 + len(s.place)) % len(ACTIVITIES)]
                hood = self.pick(NEIGHBOURHOODS)
                title = f"{name} ({hood})" if k >= len(ACTIVITIES) else name
                sid = self.uid()
                postcode, _, _ = self.pick(s.postcodes)
                lat, lng = self.coordinates[PostcodeArea.key(postcode)]
                status = self.pick(statuses)
                quality = rng.random()
                checked = (
                    None
                    if quality < 0.05
                    else (
                        self.today - 380 - int(rng.random() * 300)
                        if quality < 0.12
                        else self.today - int(rng.random() * 330)
                    )
                )
                complete = quality >= 0.05
                day_code, day_name = self.pick(DAYS_OF_WEEK)
                hour = self.pick([9, 10, 10, 11, 13, 14, 18, 19])
                by_appointment = join == HowToJoin.BOOKING and "advice" in name.lower()
                schedule = (
                    "By appointment"
                    if by_appointment
                    else (
                        f"{day_name} {hour % 12 or 12}{'am' if hour < 12 else 'pm'} to "
                        f"{(hour + 2) % 12 or 12}{'am' if hour + 2 < 12 else 'pm'}"
                    )
                )
                created = self.moment(self.first_day + int(rng.random() * 3500))
                services.append(
                    (
                        sid,
                        pid,
                        title,
                        f"{description} Run by {provider_name}.",
                        _array(categories),
                        f"https://{sid[:8]}.example.org",
                        f"info@{sid[:8]}.example.org",
                        self.pick(self.phones),
                        self.pick(self.female) + " " + self.pick(self.family),
                        18,
                        None,
                        self.pick(ELIGIBILITY),
                        free,
                        None if free else "3.00",
                        "" if free else "per session",
                        schedule,
                        join,
                        self.pick(_CAPACITY),
                        _array(rng.sample(accessibility, int(rng.random() * 4))),
                        _array(["English", "Urdu"] if self.chance(0.1) else ["English"]),
                        self.pick(self.streets),
                        postcode,
                        lat,
                        lng,
                        status,
                        self.chance(0.97),
                        complete,
                        DBSCheck.DONE if complete else DBSCheck.MISSING,
                        complete,
                        None if checked is None else self.m.day(checked),
                        None if checked is None else self.pick(s.managers),
                        365,
                        self.m.at(created),
                        self.m.at(created),
                    )
                )
                if not by_appointment:
                    schedules.append(
                        (
                            self.uid(),
                            sid,
                            "WEEKLY",
                            _array([day_code]),
                            f"{hour:02d}:00",
                            f"{hour + 2:02d}:00",
                            None,
                            schedule,
                        )
                    )
                    if self.chance(0.25):
                        other_code, _ = self.pick(DAYS_OF_WEEK)
                        schedules.append(
                            (
                                self.uid(),
                                sid,
                                "WEEKLY",
                                _array([other_code]),
                                f"{hour:02d}:00",
                                f"{hour + 2:02d}:00",
                                None,
                                schedule,
                            )
                        )
                s.directory.append(sid)
                s.directory_names[sid] = title
                if not complete or checked is None or checked < self.today - 365:
                    s.unchecked.add(sid)
                usable = status in (ServiceStatus.ACTIVE, ServiceStatus.TEMPORARILY_CLOSED)
                popularity.append(1 / (k % 50 + 3) if usable else 0.002)
            s.popular = _bag(dict(zip(s.directory, popularity, strict=True)), size=4 * len(s.directory))
        self.copy(
            Provider,
            "id service name description website email phone created_at updated_at",
            providers,
        )
        self.copy(
            CommunityService,
            (
                "id provider name description categories url email phone contact_name minimum_age maximum_age "
                "eligibility is_free cost_amount cost_description schedule how_to_join capacity accessibility "
                "languages address postcode latitude longitude status is_public safeguarding_policy_seen "
                "dbs_check insurance_seen last_checked_on last_checked_by review_every_days created_at updated_at"
            ),
            services,
        )
        self.copy(Schedule, "id service freq byday opens_at closes_at on_date description", schedules)
        self.copy(
            DevelopmentNeed,
            "id provider kind description helped_by status recorded_by created_at updated_at",
            needs,
        )
        self.copy(GroupFeedback, "id provider note received_on recorded_by created_at", feedback)
        opportunities = []
        for s in self.services:
            for k in range(3):
                opportunities.append(
                    (
                        self.uid(),
                        s.id,
                        self.pick(["funding", "training"]),
                        ["Community grants round", "Safeguarding training for volunteers", "Mental health first aid"][
                            k
                        ],
                        "Open to groups in the directory.",
                        self.m.day(self.today + 20 + 15 * k),
                        self.pick(s.managers),
                        self.now_text,
                    )
                )
        self.copy(
            Opportunity,
            "id service kind title description closes_on created_by created_at",
            opportunities,
        )

    # Clients and cases ---------------------------------------------------------------------------------------
    def closed_start(self, low: int, high: int) -> int:
        """A start day in [low, high], more of them recent (the service grew over the years)."""
        u = self.rng.random()
        x = -0.4 + math.sqrt(0.16 + 1.8 * u)  # inverse of the density 0.4 + x on [0, 1]
        return low + int(x * (high - low))

    def make_clients_and_cases(self) -> None:
        t = self.targets
        rng = self.rng
        weights = [s.weight for s in self.services]
        clients_per = _split(t.clients, weights, minimum=1)
        extra_per = _split(t.cases - t.clients, weights)
        open_per = _split(round(t.cases * OPEN_SHARE), weights)
        client_rows: list[tuple[Any, ...]] = []
        for s, n_clients, extra, n_open in zip(self.services, clients_per, extra_per, open_per, strict=True):
            case_counts = [1] * n_clients
            for _ in range(extra):
                case_counts[int(rng.random() * n_clients)] += 1
            opening = set(rng.sample(range(n_clients), min(n_open, n_clients)))
            for i in range(n_clients):
                given, family, sex = self.person()
                cid = self.uid()
                client = ClientRow(cid, given, family, s)
                self.clients.append(client)
                m = case_counts[i]
                starts: list[int] = []
                last_open = i in opening
                open_start = self.today - int(rng.random() * 118) if last_open else None
                closed_n = m - 1 if last_open else m
                limit = (open_start - 150) if open_start is not None else self.today - 100
                if closed_n == 1:
                    starts.append(self.closed_start(self.first_day, limit))
                elif closed_n > 1:
                    segment = (limit - self.first_day) // closed_n
                    for k in range(closed_n):
                        starts.append(self.first_day + k * segment + int(rng.random() * max(1, segment - 160)))
                for k, start in enumerate(starts):
                    case = self.new_case(client, s, start)
                    length = self.pick(CLOSED_LENGTHS)
                    closed = min(start + length, self.today - 1)
                    if k + 1 < len(starts):
                        closed = min(closed, starts[k + 1] - 20)
                    case.status, case.closed_on = CaseStatus.CLOSED, max(start, closed)
                    case.reason = self.pick(CLOSURES)
                    if case.closed_on > case.window_end:
                        case.window_end = case.closed_on
                        case.extension = self.pick(EXTENSION_REASONS)
                if open_start is not None:
                    case = self.new_case(client, s, open_start)
                    case.status = CaseStatus.PAUSED if self.chance(PAUSED_SHARE) else CaseStatus.ACTIVE
                    if case.status == CaseStatus.PAUSED:
                        case.paused_on = max(open_start + 3, self.today - int(rng.random() * 25))
                        case.paused_on = min(case.paused_on, self.today)
                    if case.window_end < self.today + 10 and self.chance(0.85):
                        case.window_end += 7 * self.pick([4, 6, 8])
                        case.extension = self.pick(EXTENSION_REASONS)
                first = Moments.to_date(starts[0] if starts else open_start)  # type: ignore[arg-type]
                age = int(rng.triangular(18, 96, 62))
                dob = first - timedelta(days=int(age * 365.25) + int(rng.random() * 364))
                postcode, decile, lsoa = self.pick(s.postcodes)
                practice = self.pick(s.practices) if self.chance(0.9) else None
                client.dob, client.nhs, client.postcode = dob.isoformat(), self.nhs_number(), postcode
                client.address, client.phone = self.pick(self.streets) + "\n" + s.place, self.pick(self.phones)
                client.practice = practice
                email = f"{given.lower()}.{family.lower()}{int(rng.random() * 90) + 10}@example.com".replace(" ", "")
                created = self.moment(Moments.of(first) - 3)
                client_rows.append(
                    (
                        cid,
                        s.id,
                        given,
                        family,
                        self.pick(PREFERRED) if self.chance(0.05) else "",
                        client.dob,
                        client.nhs,
                        client.address,
                        postcode,
                        client.phone,
                        email if self.chance(0.4) else "",
                        self.pick(PREFERENCES),
                        "" if self.chance(0.8) else "Mornings",
                        None if practice is None else str(practice.pk),
                        self.chance(0.03),
                        "Urdu" if self.chance(0.03) else "",
                        self.pick(ETHNICITY),
                        sex,
                        "",
                        self.pick(YES_NO),
                        self.pick(YES_NO_CARER),
                        lsoa,
                        decile,
                        True,
                        self.pick(SHARING),
                        self.chance(0.3),
                        self.m.at(created),
                        self.m.at(created),
                        self.m.at(created),
                    )
                )
        self.copy(
            Client,
            (
                "id service given_name family_name preferred_name date_of_birth nhs_number address postcode "
                "phone email contact_preference contact_times practice interpreter_needed language "
                "ethnic_category sex gender_identity disability carer lsoa_code deprivation_decile "
                "consent_to_contact share_with_gp consent_to_share_with_groups consent_recorded_at created_at "
                "updated_at"
            ),
            client_rows,
        )
        del client_rows
        self.cases.sort(key=lambda c: c.start)
        m = self.m

        def rows() -> Iterator[tuple[Any, ...]]:
            for c in self.cases:
                closed = c.closed_on is not None
                extended = bool(c.extension)
                version = 1 + (c.paused_on is not None) + extended
                updated = (c.closed_on if closed else self.today) * DAY + 57600
                yield (
                    c.id,
                    c.client.id,
                    c.service.id,
                    c.worker,
                    c.status,
                    None if c.paused_on is None else m.day(c.paused_on),
                    self.pick(PAUSE_REASONS) if c.paused_on is not None else "",
                    m.day(c.start),
                    m.day(c.window_end),
                    c.extension,
                    None if not closed else m.day(c.closed_on),
                    c.reason if closed else "",
                    CLOSING_SUMMARIES[c.reason] if closed else "",
                    version,
                    m.at(c.start * DAY + 36000),
                    m.at(updated),
                )

        self.copy(
            Case,
            (
                "id client service link_worker status paused_on paused_reason start_date window_end extension_reason "
                "closed_on closure_reason closing_summary version created_at updated_at"
            ),
            rows(),
        )

    def new_case(self, client: ClientRow, s: ServicePlan, start: int) -> CaseRow:
        case = CaseRow()
        case.id = self.uid()
        case.client, case.service, case.worker = client, s, self.pick(s.workers)
        case.start = start
        case.window_end = start + 7 * (s.org.support_window_weeks or 13)
        case.closed_on = case.paused_on = None
        case.reason = ""
        case.referral_id = self.uid()
        case.received = self.moment(start - 1 - int(self.rng.random() * 9))
        self.cases.append(case)
        return case

    # Referrals -----------------------------------------------------------------------------------------------
    def make_referrals(self) -> None:
        """A referral for every case (accepted, or closed with the case), declined ones, and a triage queue;
        numbered in the order they arrived from a block of the reference sequence."""
        rng = self.rng
        people: list[tuple[Any, ...]] = []  # (received, kind, payload)
        for c in self.cases:
            people.append((c.received, 0, c))
        declined_n = round(self.targets.cases * DECLINED_SHARE)
        for _ in range(declined_n):
            s = self.services[int(rng.random() * len(self.services))] if len(self.services) > 1 else self.services[0]
            day = self.closed_start(self.first_day, self.today - 15)
            people.append((self.moment(day), 1, s))
        queue_size = TRIAGE_QUEUE if self.scale >= 1 else max(3, round(TRIAGE_QUEUE * self.scale))
        for s in self.services:
            for k in range(queue_size):
                roll = rng.random()
                ago = int(rng.random() * 2) if roll < 0.7 else (3 + int(rng.random() * 6) if roll < 0.95 else 12)
                people.append((self.moment(self.today - ago) if ago else self.now_seconds() - 3600 * (k + 1), 2, s))
        people.sort(key=itemgetter(0))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval('referral_reference_seq', nextval('referral_reference_seq') + %s - 1)", [len(people)]
            )
            (last,) = cursor.fetchone()
        first_number = last - len(people) + 1
        events: list[tuple[Any, ...]] = []
        opened_clients = [c for c in self.cases if c.status == CaseStatus.ACTIVE]

        def rows() -> Iterator[tuple[Any, ...]]:
            for number, (received, kind, payload) in enumerate(people, start=first_number):
                reference = f"SP-{Moments.to_date(received // DAY).year}-{number:06d}"
                if kind == 0:
                    yield self.case_referral(payload, received, reference, events)
                else:
                    yield self.other_referral(payload, received, reference, kind, events, opened_clients)

        self.copy(Referral, REFERRAL_FIELDS, rows())
        self.copy(ReferralEvent, "referral kind from_status to_status by note at", events)

    def now_seconds(self) -> int:
        return int(self.now.timestamp())

    def referrer(self, s: ServicePlan, practice: Any = None) -> tuple[str, Any, Any, tuple[str, ...]]:
        """(channel, source organisation id, referred_by, (name, role, organisation name)); staff referrals
        come from the person's own practice when it is known."""
        channel = self.pick(CHANNELS)
        if channel == Channel.STAFF:
            practice = practice or self.pick(s.practices)
            by = self.pick(s.referrers[practice.pk]) if self.chance(0.5) else None
            name = ("", "", "") if by else (self.pick(self.female) + " " + self.pick(self.family), "GP", practice.name)
            return channel, str(practice.pk), by, name
        if channel == Channel.AGENCY_LINK:
            agency = self.pick(s.agencies)
            name = (self.pick(self.male) + " " + self.pick(self.family), "Support worker", agency.name)
            return channel, str(agency.pk), None, name
        return channel, None, None, ("", "", "")

    def case_referral(self, c: CaseRow, received: int, reference: str, events: list[tuple[Any, ...]]) -> tuple:
        c.reference = reference
        m, s = self.m, c.service
        channel, source, by, (rname, rrole, rorg) = self.referrer(s, c.client.practice)
        decided = max(received + 600, c.start * DAY + 32400 + int(self.rng.random() * 3600))
        closed = c.closed_on is not None
        status = ReferralStatus.CLOSED if closed else ReferralStatus.ACCEPTED
        closed_at = (c.closed_on * DAY + 57600) if closed else None
        events.append((c.referral_id, ReferralEvent.Kind.SUBMITTED, "", ReferralStatus.NEW, by, "", m.at(received)))
        events.append(
            (
                c.referral_id,
                ReferralEvent.Kind.ACCEPTED,
                ReferralStatus.NEW,
                ReferralStatus.ACCEPTED,
                c.worker,
                "",
                m.at(decided),
            )
        )
        if closed_at is not None:
            events.append(
                (
                    c.referral_id,
                    ReferralEvent.Kind.CLOSED,
                    ReferralStatus.ACCEPTED,
                    ReferralStatus.CLOSED,
                    c.worker,
                    "",
                    m.at(closed_at),
                )
            )
        person = c.client
        return (
            c.referral_id,
            reference,
            self.uid(),
            s.id,
            channel,
            source,
            by,
            rname,
            rrole,
            rorg,
            person.given,
            person.family,
            person.dob,
            person.nhs,
            person.address,
            person.postcode,
            person.phone,
            ContactPreference.PHONE,
            self.chance(0.03),
            _array(self.reasons()),
            self.pick(HOPES),
            self.pick(RISK_INFORMATION) if self.chance(0.04) else "",
            True,
            status,
            m.at(received),
            m.at(decided),
            c.worker,
            "",
            SNOMED_REFERRED,
            c.id,
            CLOSING_SUMMARIES[c.reason] if closed else "",
            None if closed_at is None else m.at(closed_at),
            m.at(received),
            m.at(closed_at or decided),
        )

    def other_referral(
        self,
        s: ServicePlan,
        received: int,
        reference: str,
        kind: int,
        events: list[tuple[Any, ...]],
        open_cases: list[CaseRow],
    ) -> tuple:
        m, rng = self.m, self.rng
        rid = self.uid()
        channel, source, by, (rname, rrole, rorg) = self.referrer(s)
        given, family, _ = self.person()
        dob = (Moments.to_date(received // DAY) - timedelta(days=int(rng.triangular(18, 95, 60) * 365.25))).isoformat()
        nhs = self.nhs_number()
        if kind == 2 and open_cases and self.chance(0.1):
            same = self.pick([c for c in open_cases if c.service is s] or open_cases)
            if same.service is s:  # a second referral for someone already being supported
                given, family, dob, nhs = same.client.given, same.client.family, same.client.dob, same.client.nhs
        events.append((rid, ReferralEvent.Kind.SUBMITTED, "", ReferralStatus.NEW, by, "", m.at(received)))
        declined = kind == 1
        decided = received + DAY * (1 + int(rng.random() * 4)) if declined else None
        worker = self.pick(s.workers)
        reason = self.pick(DECLINES) if declined else ""
        if declined:
            events.append(
                (
                    rid,
                    ReferralEvent.Kind.DECLINED,
                    ReferralStatus.NEW,
                    ReferralStatus.DECLINED,
                    worker,
                    "",
                    m.at(decided),
                )
            )
        return (
            rid,
            reference,
            self.uid(),
            s.id,
            channel,
            source,
            by,
            rname,
            rrole,
            rorg,
            given,
            family,
            dob,
            nhs,
            self.pick(self.streets),
            self.pick(s.postcodes)[0],
            self.pick(self.phones),
            ContactPreference.PHONE,
            self.chance(0.05),
            _array(self.reasons()),
            self.pick(HOPES),
            self.pick(RISK_INFORMATION) if self.chance(0.1) else "",
            True,
            ReferralStatus.DECLINED if declined else ReferralStatus.NEW,
            m.at(received),
            None if decided is None else m.at(decided),
            worker if declined else None,
            reason,
            SNOMED_DECLINED if declined else "",
            None,
            "",
            None,
            m.at(received),
            m.at(decided or received),
        )

    def reasons(self) -> list[str]:
        chosen = {self.pick(REASONS) for _ in range(1 + int(self.rng.random() * 2.2))}
        return sorted(chosen)

    # Contacts ------------------------------------------------------------------------------------------------
    def contact_counts(self) -> None:
        """How many contacts each case has, adding up to the target exactly."""
        rng = self.rng
        adjustable: list[CaseRow] = []
        total = 0
        for c in self.cases:
            if c.is_open:
                end = min(self.today, c.end)
                elapsed = end - c.start
                # Most stop short of the 12 contacts that call for a review; some reach it.
                most = 11 if self.chance(0.8) else 13
                n = 0 if elapsed < 2 else min(most, max(1, elapsed // 8 + int(rng.random() * 3) - 1))
            elif c.reason in (ClosureReason.DISENGAGED, ClosureReason.DECLINED):
                n = 1 + int(rng.random() * 3)
            else:
                n = 4 + int(rng.random() * 12)
                adjustable.append(c)
            c.contacts = n
            total += n
        diff = self.targets.contacts - total
        pool = adjustable or self.cases
        guard, tries = 0, 50 * abs(diff) + 1000
        while diff and guard < tries:
            guard += 1
            c = pool[int(rng.random() * len(pool))]
            if diff > 0 and c.contacts < 40:
                c.contacts += 1
                diff -= 1
            elif diff < 0 and c.contacts > 1:
                c.contacts -= 1
                diff += 1

    def make_contacts(self) -> list[tuple[Any, ...]]:
        """Contacts in time order (as a real deployment writes them), home visits for recent ones, and the
        audit events of each case (returned, written after)."""
        self.contact_counts()
        self.audit_budgets()
        rng, m = self.rng, self.m
        visits: list[tuple[Any, ...]] = []
        audit: list[tuple[Any, ...]] = []
        recent = self.today - 365
        buffer: list[tuple[Any, ...]] = []
        today_end = self.now_seconds() - 600

        def case_contacts(c: CaseRow) -> list[tuple[Any, ...]]:
            n = c.contacts
            if not n:
                self.case_audit(c, [], audit)
                return []
            end = min(c.end, self.today)
            span = max(0, end - c.start)
            days = sorted(c.start + int(rng.random() * (span + 1)) for _ in range(n))
            days[0] = min(end, c.start + int(rng.random() * 4))
            if c.status == CaseStatus.ACTIVE and span > 3:
                gap = int(rng.random() * 12) if self.chance(0.85) else 15 + int(rng.random() * 25)
                days[-1] = max(days[-1], max(c.start, self.today - gap))
                days.sort()
            out = []
            for k, day in enumerate(days):
                at = self.moment(day)
                if at > today_end:
                    at = today_end - int(rng.random() * 3600)
                method = self.pick(METHODS)
                attempt = k > 0 and method in (ContactMethod.PHONE, ContactMethod.TEXT_EMAIL) and self.chance(0.12)
                cid = self.uid()
                follow = day + 7 if self.chance(0.15) else None
                out.append(
                    (
                        at,
                        cid,
                        c.id,
                        m.at(at),
                        method,
                        self.pick(DURATIONS[method]) if not attempt else 2,
                        attempt,
                        "No answer; left a message." if attempt else self.pick(CONTACT_NOTES),
                        self.pick(NEXT_STEPS),
                        None if follow is None else m.day(follow),
                        c.worker,
                        m.at(at + 300 + int(rng.random() * 7200)),
                    )
                )
                if method == ContactMethod.HOME_VISIT and not attempt and (c.is_open or (c.closed_on or 0) >= recent):
                    dur = out[-1][5]
                    visits.append(
                        (
                            self.uid(),
                            c.id,
                            c.worker,
                            m.at(at - 600),
                            60,
                            m.at(at),
                            m.at(at + dur * 60),
                            cid,
                            None,
                            m.at(at - DAY * (1 + int(rng.random() * 6))),
                        )
                    )
            c.first_contact, c.last_contact = out[0][0], out[-1][0]
            self.case_audit(c, [(row[1], row[0]) for row in out], audit)
            return out

        def ordered() -> Iterator[tuple[Any, ...]]:
            flush_day = None
            for c in self.cases:
                if flush_day is None or c.start >= flush_day + 14:
                    # Nothing generated from here on is earlier than this case's start: what is, can go.
                    buffer.sort(key=itemgetter(0))
                    cut = c.start * DAY
                    k = 0
                    while k < len(buffer) and buffer[k][0] < cut:
                        k += 1
                    for row in buffer[:k]:
                        yield row[1:]
                    del buffer[:k]
                    flush_day = c.start
                buffer.extend(case_contacts(c))
            buffer.sort(key=itemgetter(0))
            for row in buffer:
                yield row[1:]

        self.copy(
            Contact,
            "id case at method duration_minutes attempted_only notes next_step follow_up_on recorded_by created_at",
            ordered(),
        )
        # Visits still to come for some open cases (none checked in: no one is out on a visit right now).
        for c in self.cases:
            if c.status == CaseStatus.ACTIVE and self.chance(0.05):
                planned = self.moment(self.today + 1 + int(rng.random() * 13))
                visits.append(
                    (
                        self.uid(),
                        c.id,
                        c.worker,
                        m.at(planned),
                        60,
                        None,
                        None,
                        None,
                        None,
                        m.at(self.now_seconds() - DAY),
                    )
                )
        self.copy(
            HomeVisit,
            (
                "id case link_worker planned_start expected_minutes checked_in_at checked_out_at contact "
                "overdue_alerted_at created_at"
            ),
            visits,
        )
        return audit

    # Audit ---------------------------------------------------------------------------------------------------
    def audit_budgets(self) -> None:
        total = self.targets.audit_events
        logins = round(total * LOGIN_SHARE)
        misc = round(total * MISC_AUDIT_SHARE)
        spare = total - logins - misc
        self.audit_split = (logins, misc)
        weights = [c.contacts + 2 for c in self.cases]
        for c, n in zip(self.cases, _split(spare, weights), strict=True):
            c.audit = n

    def case_audit(self, c: CaseRow, contacts: list[tuple[str, int]], audit: list[tuple[Any, ...]]) -> None:
        """The case's share of the audit trail: the referral triaged, the case opened, each contact logged
        with the case page viewed, and the person's record viewed now and then."""
        budget = c.audit
        if not budget:
            return
        rng = self.rng
        decided = c.start * DAY + 33000
        events: list[tuple[Any, ...]] = [
            (decided - 300, 0, c, None, c.worker),  # referral viewed in triage
            (decided + 60, 1, c, None, c.worker),  # case created
        ]
        for contact_id, at in contacts:
            events.append((at - 240, 2, c, None, c.worker))  # case viewed
            events.append((at + 120, 3, c, contact_id, c.worker))  # contact logged
        end = min(c.end, self.today)
        while len(events) < budget:
            day = c.start + int(rng.random() * (max(0, end - c.start) + 1))
            who = c.worker if self.chance(0.9) else self.pick(c.service.supervisors)
            events.append((min(self.moment(day), self.now_seconds() - 60), 4 if self.chance(0.5) else 2, c, None, who))
        if len(events) > budget:
            events = events[:2] + rng.sample(events[2:], budget - 2) if budget > 2 else events[:budget]
        audit.extend(events)

    def make_audit(self, audit: list[tuple[Any, ...]]) -> None:
        rng, m = self.rng, self.m
        logins, misc = self.audit_split
        staff = [(u, s) for s in self.services for u in (*s.workers, *s.supervisors, *s.managers)]
        for _ in range(logins):
            user, s = self.pick(staff)
            day = self.closed_start(self.first_day, self.today)
            audit.append((self.moment(day, 7, 3), 5 if self.chance(0.99) else 6, s, None, user))
        for _ in range(misc):
            s = self.pick(self.services)
            day = self.closed_start(self.first_day, self.today)
            roll = rng.random()
            if roll < 0.5:
                audit.append((self.moment(day), 7, s, self.pick(s.directory), self.pick(s.workers)))
            elif roll < 0.9:
                audit.append((self.moment(day), 8, s, None, self.pick(s.supervisors + s.managers)))
            else:
                audit.append((self.moment(day), 9, s, None, self.pick(s.managers)))
        audit.sort(key=itemgetter(0))
        case_path = "/caseload/cases/{}/"
        emails = self.emails

        def rows() -> Iterator[tuple[Any, ...]]:
            for at, kind, obj, extra, actor in audit:
                when = m.at(at)
                if kind <= 4:
                    c: CaseRow = obj
                    ip = c.service.ips[int(actor[:6], 16) % len(c.service.ips)]
                    if kind == 0:
                        yield (
                            when,
                            actor,
                            emails[actor],
                            Action.VIEW,
                            "referrals.referral",
                            c.referral_id,
                            c.reference,
                            f"/referrals/{c.referral_id}/",
                            ip,
                        )
                    elif kind == 1:
                        yield (
                            when,
                            actor,
                            emails[actor],
                            Action.CREATE,
                            "clients.case",
                            c.id,
                            f"Case opened for {c.client.name}",
                            f"/referrals/{c.referral_id}/accept/",
                            ip,
                        )
                    elif kind == 2:
                        yield (
                            when,
                            actor,
                            emails[actor],
                            Action.VIEW,
                            "clients.case",
                            c.id,
                            f"Case of {c.client.name}",
                            case_path.format(c.id),
                            ip,
                        )
                    elif kind == 3:
                        yield (
                            when,
                            actor,
                            emails[actor],
                            Action.CREATE,
                            "clients.contact",
                            extra,
                            "Contact logged",
                            case_path.format(c.id) + "contacts/new/",
                            ip,
                        )
                    else:
                        yield (
                            when,
                            actor,
                            emails[actor],
                            Action.VIEW,
                            "clients.client",
                            c.client.id,
                            c.client.name,
                            f"/caseload/clients/{c.client.id}/",
                            ip,
                        )
                    continue
                s: ServicePlan = obj
                ip = s.ips[int(actor[:6], 16) % len(s.ips)]
                if kind == 5:
                    yield (when, actor, emails[actor], Action.LOGIN, "", "", "", "/accounts/login/", ip)
                elif kind == 6:
                    yield (
                        when,
                        None,
                        emails[actor],
                        Action.LOGIN_FAILED,
                        "",
                        "",
                        "Wrong password",
                        "/accounts/login/",
                        ip,
                    )
                elif kind == 7:
                    yield (
                        when,
                        actor,
                        emails[actor],
                        Action.VIEW,
                        "community.communityservice",
                        extra,
                        s.directory_names[extra],
                        f"/community/services/{extra}/",
                        ip,
                    )
                elif kind == 8:
                    yield (
                        when,
                        actor,
                        emails[actor],
                        Action.VIEW,
                        "outcomes.dashboard",
                        "",
                        "Caseload dashboard: 2 flags, 0 concerns shown",
                        "/outcomes/dashboard/",
                        ip,
                    )
                else:
                    yield (
                        when,
                        actor,
                        emails[actor],
                        Action.EXPORT,
                        "outcomes.report",
                        "",
                        f"CSV report, {s.org.name}, last quarter",
                        "/outcomes/reports/?format=csv",
                        ip,
                    )

        self.copy(
            AuditEvent,
            "at actor actor_label action object_type object_id summary path ip_address",
            rows(),
        )
        audit.clear()

    # Assessments ---------------------------------------------------------------------------------------------
    def answer_pools(self) -> dict[tuple[str, str], list[tuple[str, Any, Any]]]:
        """For each measure and timepoint, 300 scored answer sets (follow-ups a little better)."""
        pools: dict[tuple[str, str], list[tuple[str, Any, Any]]] = {}
        for instrument in Instrument.objects.filter(is_active=True).prefetch_related("items"):
            items = list(instrument.items.all())
            for timepoint, shift in ((Timepoint.BASELINE, 0.0), (Timepoint.FOLLOW_UP, 0.6)):
                pool = []
                for _ in range(300):
                    answers = {}
                    for item in items:
                        values = item.values
                        better = shift if item.higher_is_better else -shift
                        centre = (len(values) - 1) * (0.4 + better / 4) + self.rng.gauss(0, len(values) / 5)
                        answers[item.code] = values[min(len(values) - 1, max(0, round(centre)))]
                    scored = scoring.score_answers(instrument, items, answers)
                    pool.append((json.dumps(scored.answers), scored.raw_total, scored.score))
                pools[(str(instrument.pk), timepoint)] = pool
        self.instruments = {i.code: str(i.pk) for i in Instrument.objects.filter(is_active=True)}
        return pools

    def make_assessments(self) -> None:
        rng, m = self.rng, self.m
        pools = self.answer_pools()
        order = [code for code in ("swemwbs", "ucla3", "ons4") if code in self.instruments]

        def slots(c: CaseRow) -> list[tuple[str, str]]:
            follow = not c.is_open or c.window_end <= self.today
            out = []
            for code in order:
                out.append((code, Timepoint.BASELINE))
                if follow:
                    out.append((code, Timepoint.FOLLOW_UP))
            return out

        total = 0
        for c in self.cases:
            n_slots = len(slots(c))
            if c.contacts == 0:
                n = 0
            elif c.is_open:
                n = 1 if self.chance(0.75) else (2 if self.chance(0.5) else 0)
            elif c.reason in (ClosureReason.DISENGAGED, ClosureReason.DECLINED):
                n = 1 if self.chance(0.4) else 0
            else:
                roll = rng.random()
                n = 2 if roll < 0.55 else (4 if roll < 0.75 else (1 if roll < 0.9 else 0))
            c.measures = min(n, n_slots)
            total += c.measures
        diff = self.targets.assessments - total
        candidates = [c for c in self.cases if c.contacts]
        guard, tries = 0, 50 * abs(diff) + 1000
        while diff and candidates and guard < tries:
            guard += 1
            c = candidates[int(rng.random() * len(candidates))]
            if diff > 0 and c.measures < len(slots(c)):
                c.measures += 1
                diff -= 1
            elif diff < 0 and c.measures > 0:
                c.measures -= 1
                diff += 1

        def rows() -> Iterator[tuple[Any, ...]]:
            for c in self.cases:
                if not c.measures:
                    continue
                for code, timepoint in slots(c)[: c.measures]:
                    instrument = self.instruments[code]
                    answers, raw, score = self.pick(pools[(instrument, timepoint)])
                    if timepoint == Timepoint.BASELINE:
                        day = c.first_contact // DAY if c.first_contact else c.start
                    else:
                        day = min(self.today, c.closed_on if c.closed_on is not None else c.window_end)
                    taken = self.moment(day)
                    yield (
                        self.uid(),
                        c.id,
                        instrument,
                        timepoint,
                        m.day(day),
                        Mode.PAPER if self.chance(0.15) else Mode.WITH_PERSON,
                        answers,
                        raw,
                        None if score is None else str(score),
                        c.worker,
                        m.at(taken),
                    )

        self.copy(
            Assessment,
            "id case instrument timepoint taken_on mode answers raw_total score recorded_by created_at",
            rows(),
        )

        def system_use() -> Iterator[tuple[Any, ...]]:
            for c in self.cases:
                if c.closed_on is None or c.closed_on > self.today - 95 or not self.chance(0.2):
                    continue
                before = 2 + int(rng.random() * 8)
                after = max(0, before - int(rng.random() * 4))
                when = m.at(c.closed_on * DAY + 95 * DAY)
                yield (c.id, "before", before, 0 if self.chance(0.7) else 1, c.worker, when)
                yield (c.id, "after", after, 0, c.worker, when)

        self.copy(
            SystemUse,
            "case period gp_appointments ae_attendances recorded_by recorded_at",
            system_use(),
        )

    # Connections ---------------------------------------------------------------------------------------------
    def make_connections(self) -> None:
        rng, m = self.rng, self.m
        total = 0
        for c in self.cases:
            if c.contacts == 0:
                n = 0
            elif c.is_open:
                n = int(rng.random() * 3)
            elif c.reason in (ClosureReason.CONNECTED, ClosureReason.GOALS_MET):
                n = 1 + int(rng.random() * 3)
            else:
                n = 1 if self.chance(0.3) else 0
            c.connections = min(n, len(c.service.directory))
            total += c.connections
        diff = self.targets.connections - total
        candidates = [c for c in self.cases if c.contacts]
        guard, tries = 0, 50 * abs(diff) + 1000
        while diff and candidates and guard < tries:
            guard += 1
            c = candidates[int(rng.random() * len(candidates))]
            if diff > 0 and c.connections < min(6, len(c.service.directory)):
                c.connections += 1
                diff -= 1
            elif diff < 0 and c.connections > 0:
                c.connections -= 1
                diff += 1
        events: list[tuple[Any, ...]] = []

        def rows() -> Iterator[tuple[Any, ...]]:
            for c in self.cases:
                if not c.connections:
                    continue
                s = c.service
                chosen: set[str] = set()
                while len(chosen) < c.connections:
                    chosen.add(self.pick(s.popular) if len(chosen) < len(s.directory) // 2 else self.pick(s.directory))
                end = min(self.today, c.end) * DAY + 57000
                for sid in sorted(chosen):
                    final = self.pick(FINAL_OPEN if c.is_open else FINAL_CLOSED)
                    path = self.pick(PATHS[final])
                    at = (c.first_contact or c.start * DAY + 36000) + int(rng.random() * 20) * DAY
                    at = min(at, end)
                    cid = self.uid()
                    override = ""
                    if sid in s.unchecked and any(p in ("referred", "attended_first", "attending") for p in path):
                        override = "The person already goes there and wants to carry on"
                    created = at
                    before = ""
                    for status in path:
                        note = self.pick(REASONS_STOPPED) if status in ("stopped", "not_taken_up") else ""
                        if not before and override:
                            note = f"Quality checks overridden: {override}"
                        events.append((cid, before, status, note, c.worker, m.at(at)))
                        before = status
                        at = min(end, at + DAY * (5 + int(rng.random() * 16)))
                    reason = events[-1][3] if path[-1] in ("stopped", "not_taken_up") else ""
                    yield (cid, c.id, sid, path[-1], reason, override, c.worker, m.at(created), m.at(at))

        self.copy(
            Connection,
            "id case service status reason qa_override_reason created_by created_at updated_at",
            rows(),
        )
        self.copy(ConnectionEvent, "connection from_status to_status note by at", events)

    # What matters, plans, alerts, supervision ----------------------------------------------------------------
    def reserve_ids(self, model: type[models.Model], n: int) -> list[int]:
        """``n`` primary keys from the table's own sequence, so rows can refer to each other before COPY."""
        if n == 0:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(s::regclass, nextval(s::regclass) + %s - 1) FROM pg_get_serial_sequence(%s, %s) AS s",
                [n, model._meta.db_table, model._meta.pk.column],
            )
            (last,) = cursor.fetchone()
        return list(range(last - n + 1, last + 1))

    def make_open_case_records(self) -> None:
        rng, m = self.rng, self.m
        open_cases = [c for c in self.cases if c.is_open]
        what_matters, plans, versions, alerts, assignments, flags = [], [], [], [], [], []
        concerns: list[tuple[Any, ...]] = []
        decisions: list[tuple[Any, ...]] = []
        planned = [c for c in open_cases if c.contacts and self.chance(0.6)]
        plan_ids = self.reserve_ids(Plan, len(planned))
        for c in open_cases:
            if c.contacts and self.chance(0.8):
                words = self.pick(WHAT_MATTERS)
                at = c.first_contact + 1800
                what_matters.append((c.id, *words, 1 + int(rng.random() * 2), c.worker, m.at(at)))
            if self.chance(0.03):
                kind, detail = self.pick(
                    [
                        (AlertKind.LONE_WORKER, "Visit in pairs: a family member has been aggressive to visitors."),
                        (AlertKind.NO_PHONE, "Hard of hearing: text or letter only."),
                        (AlertKind.NO_LETTERS, "Post is opened by others at the address."),
                    ]
                )
                alerts.append((self.uid(), c.client.id, kind, detail, c.worker, m.at(c.start * DAY + 40000)))
            if self.chance(0.02) and len(c.service.workers) > 1:
                before = self.pick([w for w in c.service.workers if w != c.worker])
                assignments.append(
                    (
                        c.id,
                        before,
                        c.worker,
                        "Caseloads rebalanced",
                        self.pick(c.service.managers),
                        m.at(min(self.now_seconds(), (c.start + 5) * DAY + 40000)),
                    )
                )
        for pid, c in zip(plan_ids, planned, strict=True):
            n = 1 + int(rng.random() * 3)
            review = m.day(c.window_end)
            at = c.first_contact + 3600
            for number in range(1, n + 1):
                goals = []
                for goal, action in rng.sample(GOALS, 2):
                    status = "in_progress" if number > 1 else "not_started"
                    goals.append(
                        {
                            "goal": goal,
                            "status": status,
                            "progress": "",
                            "actions": [{"what": action, "who": c.client.given, "by_when": ""}],
                        }
                    )
                versions.append((pid, number, json.dumps(goals), review, c.worker, m.at(min(at, self.now_seconds()))))
                at += DAY * (7 + int(rng.random() * 14))
            plans.append((pid, c.id, n, review, m.at(min(at, self.now_seconds()))))
        for c in open_cases:
            if self.chance(0.012):
                s = c.service
                raised = min(self.now_seconds() - 3600, c.start * DAY + DAY * int(rng.random() * 20) + 40000)
                discussed = self.chance(0.4)
                flags.append(
                    (
                        self.uid(),
                        c.id,
                        self.pick(FLAG_QUESTIONS),
                        c.worker,
                        m.at(raised),
                        m.at(raised + DAY) if discussed else None,
                        self.pick(s.supervisors) if discussed else None,
                    )
                )
            if self.chance(0.004):
                s = c.service
                concern_id = self.uid()
                raised = min(self.now_seconds() - 3600, c.start * DAY + DAY * int(rng.random() * 20) + 40000)
                concerns.append((concern_id, c.id, c.worker, m.at(raised), self.pick(CONCERNS)))
                if self.chance(0.5):
                    decisions.append(
                        (
                            self.uid(),
                            concern_id,
                            SafeguardingOutcome.REFERRED_LA,
                            "Referred to the local authority safeguarding team.",
                            self.pick(s.supervisors),
                            m.at(raised + 7200),
                            None,
                        )
                    )
        self.copy(
            WhatMatters,
            "case what_matters strengths worries want_to_change version updated_by updated_at",
            what_matters,
        )
        self.copy(Plan, "id case version review_on updated_at", plans)
        self.copy(PlanVersion, "plan number goals review_on saved_by saved_at", versions)
        self.copy(ClientAlert, "id client kind detail raised_by raised_at", alerts)
        self.copy(CaseAssignment, "case from_worker to_worker reason by at", assignments)
        self.copy(
            CaseSupervisionFlag,
            "id case question raised_by raised_at discussed_at discussed_by",
            flags,
        )
        self.copy(SafeguardingConcern, "id case raised_by raised_at detail", concerns)
        self.copy(SafeguardingDecision, "id concern decision note by at corrects", decisions)
        self.make_supervision(open_cases)

    def make_supervision(self, open_cases: list[CaseRow]) -> None:
        """Monthly supervision for every link worker over the last year, with cases discussed and actions."""
        rng, m = self.rng, self.m
        by_worker: dict[str, list[str]] = {}
        for c in open_cases:
            by_worker.setdefault(c.worker, []).append(c.id)
        sessions, discussed, actions = [], [], []
        wellbeing = _bag({Wellbeing.WELL: 60, Wellbeing.MANAGING: 32, Wellbeing.STRUGGLING: 8})
        for s in self.services:
            for worker in s.workers:
                for month in range(12):
                    held = self.today - 30 * month - int(rng.random() * 10) - 1
                    sid = self.uid()
                    supervisor = self.pick(s.supervisors)
                    sessions.append(
                        (
                            sid,
                            s.id,
                            worker,
                            supervisor,
                            m.day(held),
                            self.pick(SESSION_CONCERNS),
                            self.pick(wellbeing),
                            "",
                            m.at(held * DAY + 50000),
                        )
                    )
                    own = by_worker.get(worker, [])
                    if month == 0 and own:
                        for case_id in rng.sample(own, min(2, len(own))):
                            discussed.append((sid, case_id))
                    done = held + 10 < self.today and (month > 0 or self.chance(0.3))
                    actions.append(
                        (
                            self.uid(),
                            sid,
                            "Review the longest-open cases",
                            worker,
                            m.day(held + 14),
                            m.at((held + 10) * DAY + 40000) if done else None,
                            worker if done else None,
                        )
                    )
        self.copy(
            SupervisionSession,
            "id service link_worker supervisor held_on concerns wellbeing wellbeing_notes created_at",
            sessions,
        )
        through = SupervisionSession.cases_discussed.through
        self.copy(through, "supervisionsession case", discussed)
        self.copy(SupervisionAction, "id session what owner due_on done_at done_by", actions)

    # Reminders -----------------------------------------------------------------------------------------------
    def make_reminders(self) -> None:
        """The reminders really due today, made by the real scan, then done and cleared ones from the past up to
        the target; a notification for each."""
        rng, m = self.rng, self.m
        reminder_rules.reminders_scan(now=self.now)
        current = set(Reminder.objects.values_list("rule", "object_id", "due_on", "recipient_id"))
        scanned = len(current)
        wanted = self.targets.reminders - scanned
        if wanted < 0:
            self.out(
                f"    note: the reminder scan made {scanned:,} reminders, more than the {self.targets.reminders:,} "
                "asked for"
            )
        keys = {(r, str(o), Moments.of(d), str(u)) for r, o, d, u in current}
        closed = [c for c in self.cases if c.closed_on is not None and c.contacts]
        rows = []
        rules = [Rule.NO_CONTACT, Rule.ENDING_SOON, Rule.WINDOW_ENDED, Rule.FOLLOW_UP_MEASURE, Rule.FIRST_CONTACT]
        guard = 0
        while len(rows) < wanted and closed and guard < wanted * 20:
            guard += 1
            c = self.pick(closed)
            rule = self.pick(rules)
            due = c.start + 1 + int(rng.random() * max(1, (c.closed_on or c.start) - c.start))
            key = (rule, c.id, due, c.worker)
            if key in keys:
                continue
            keys.add(key)
            title = {
                Rule.NO_CONTACT: "No contact for 14 days",
                Rule.ENDING_SOON: f"Support window ends on {_long(c.window_end)}: 3 contacts so far",
                Rule.WINDOW_ENDED: f"Support window ended on {_long(c.window_end)}: review needed",
                Rule.FOLLOW_UP_MEASURE: "Follow-up wellbeing measure due",
                Rule.FIRST_CONTACT: f"First contact due by {_long(c.start + 7)}",
            }[rule]
            subject = f"{c.client.given[:1]}.{c.client.family[:1]}.".upper() + f" {c.reference}"
            done = self.chance(0.7)
            changed = m.at(self.moment(min(due + int(rng.random() * 4), c.closed_on or due)))
            rows.append(
                (
                    rule,
                    c.worker,
                    c.service.id,
                    ObjectKind.CASE,
                    c.id,
                    m.day(due),
                    title,
                    subject,
                    "",
                    self.link_to_case(c.id),
                    False,
                    ReminderStatus.DONE if done else ReminderStatus.CLEARED,
                    None,
                    changed,
                    None,
                    m.at(due * DAY + 21600),
                )
            )
        rows.sort(key=itemgetter(5))
        self.copy(
            Reminder,
            (
                "rule recipient service object_kind object_id due_on title subject detail link urgent status "
                "snoozed_until status_changed_at emailed_at created_at"
            ),
            rows,
        )
        self.report.rows["notifications.Reminder"] = scanned + len(rows)

        # Read before the COPY starts: the connection can do nothing else while a COPY is open.
        made = Reminder.objects.values_list(
            "title", "subject", "link", "recipient_id", "created_at", "status", "status_changed_at"
        ).order_by("created_at", "id")
        notifications = [
            (recipient, f"{title} ({subject})"[:200], link, created, None if status == ReminderStatus.OPEN else changed)
            for title, subject, link, recipient, created, status, changed in made
        ]
        self.copy(Notification, "user title link created_at read_at", notifications)


def _long(d: int) -> str:
    day = Moments.to_date(d)
    return f"{day.day} {day:%B %Y}"


SEXES = _bag({"female": 57, "male": 41, "prefer_not": 2})
CLOSED_LENGTHS = [7 * w for w in (4, 6, 8, 10, 11, 12, 12, 13, 13, 13, 14, 15, 17, 20)]
PREFERRED = ["Bill", "Liz", "Jim", "Pat", "Sue", "Mo", "Kath", "Jen"]
PREFERENCES = _bag(
    {ContactPreference.PHONE: 75, ContactPreference.TEXT: 15, ContactPreference.EMAIL: 5, ContactPreference.LETTER: 5}
)
YES_NO = _bag({"yes": 35, "no": 55, "prefer_not": 3, "": 7})
YES_NO_CARER = _bag({"yes": 18, "no": 72, "prefer_not": 3, "": 7})
SHARING = _bag({ShareWithGP.CODES: 70, ShareWithGP.SUMMARY: 25, ShareWithGP.NONE: 5})
_CAPACITY = _bag({Capacity.OPEN: 82, Capacity.WAITING_LIST: 12, Capacity.FULL: 6})
REFERRAL_FIELDS = (
    "id reference idempotency_key service channel source_organisation referred_by referrer_name "
    "referrer_role referrer_organisation_name given_name family_name date_of_birth nhs_number address "
    "postcode phone contact_preference interpreter_needed reasons hopes risk_information consent_given "
    "status received_at decided_at decided_by decline_reason snomed_code case outcome_summary closed_at "
    "created_at updated_at"
)


def seed_scale(
    *,
    scale: float,
    seed: int = 2026,
    today: date | None = None,
    force: bool = False,
    out: Callable[[str], None] = print,
) -> Report:
    """Fill an empty database with benchmark data at ``scale`` (see the module docstring). Raises ScaleRefused
    for a database that already has benchmark data, or other data unless ``force``."""
    check_database(force=force)
    generator = Generator(scale=scale, seed=seed, today=today or timezone.localdate(), out=out)
    return generator.run()


__all__ = ["BENCHMARK", "Report", "ScaleRefused", "Targets", "check_database", "seed_scale", "targets_for"]
