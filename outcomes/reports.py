"""Commissioner reports: activity, reach and equity, person outcomes, community and system impact.

Every figure is computed with aggregate queries in PostgreSQL (no per-person loops; where raw SQL is used it
wraps Django's own compiled query, whose values stay parameters), for a period and a
scope (services, and optionally a PCN or practice). ``Table`` holds raw numbers; ``Table.shown`` applies the
small-number rule when the viewer must only see suppressed figures (commissioners, always).

``build`` runs every query on the read replica when one is configured (``linkwork.db_router``); raw SQL takes
its connection from ``db_router.read_connection()`` for that reason, never ``django.db.connection``.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import (
    Avg,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    StdDev,
    Subquery,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Greatest
from django.utils import timezone

from clients.models import Case, CaseStatus, ClosureReason, Connection, Contact, ContactMethod, EthnicCategory, Sex
from community.models import Category, DevelopmentNeed, PostcodeArea
from linkwork import db_router
from linkwork.accounts.models import Organisation
from outcomes import freshness
from outcomes.models import Assessment, Instrument, SystemUse, Timepoint
from outcomes.selectors import Median
from outcomes.suppression import SUPPRESSED, suppress_average, suppress_count, suppress_percentage
from referrals.models import DeclineReason, Referral, ReferralReason

SUPPRESSION_RULE = (
    "Counts from 1 to 7 are shown as *, other counts are rounded to the nearest 5, percentages are worked out "
    "from the rounded counts, and averages over 1 to 7 people are shown as *."
)
AGE_BANDS = [(18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 84), (85, 200)]


def _in_period(field: str, scope: Any) -> dict[str, dt.datetime]:
    """Timestamps within the period's days (local time), as a range on the column itself, so PostgreSQL can use
    its index; ``field__date__gte`` casts every row first (EXPLAIN at 2.5 million contacts: a scan of them all)."""
    start = timezone.make_aware(dt.datetime.combine(scope.start, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(scope.end + dt.timedelta(days=1), dt.time.min))
    return {f"{field}__gte": start, f"{field}__lt": end}


@dataclass(frozen=True)
class Scope:
    services: tuple[Organisation, ...]
    start: dt.date
    end: dt.date  # inclusive
    practice: Organisation | None = None
    pcn: Organisation | None = None

    @property
    def service_ids(self) -> list[Any]:
        return [s.pk for s in self.services]

    def describe(self) -> str:
        where = ", ".join(s.name for s in self.services) or "no services"
        if self.practice:
            where += f"; referrals from {self.practice.name}"
        elif self.pcn:
            where += f"; practices of {self.pcn.name}"
        return f"{self.start:%-d %B %Y} to {self.end:%-d %B %Y}: {where}"


@dataclass
class Table:
    """One report table. Columns after the first are counts unless named in ``kinds`` ('pct', 'avg', 'text')."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    note: str = ""
    # For percentages: column index → (numerator column, denominator column) so they come from rounded counts.
    ratios: dict[int, tuple[int, int]] = field(default_factory=dict)
    # For averages: column index → column holding the number of people it is over.
    averages_over: dict[int, int] = field(default_factory=dict)

    def most_first(self) -> None:
        """Rows by their first count, largest first; equal counts by name, so a table comes out in the same order
        every time it is built (the page, the CSV and the XLSX agree) whatever order PostgreSQL grouped them in."""
        self.rows.sort(key=lambda row: (-row[1], str(row[0]).casefold()))

    def shown(self, *, suppressed: bool) -> list[list[Any]]:
        out = []
        for row in self.rows:
            cells: list[Any] = [row[0]]
            for i in range(1, len(row)):
                value, kind = row[i], self.kinds.get(i, "count")
                if kind == "pct":
                    num, den = self.ratios[i]
                    cells.append(suppress_percentage(row[num], row[den]) if suppressed else _pct(row[num], row[den]))
                elif kind == "avg":
                    people = row[self.averages_over[i]] if i in self.averages_over else 0
                    if value is None:
                        cells.append("–")
                    elif suppressed and 0 < people <= 7:
                        cells.append(SUPPRESSED)
                    else:
                        cells.append(value)
                elif kind == "text":
                    cells.append(value)
                else:
                    cells.append(suppress_count(value) if suppressed else value)
            out.append(cells)
        return out


def _rows_around(queryset: QuerySet[Any], around: str, *, before: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of ``around``, SQL with the queryset's compiled SQL where it says ``{query}``, from the
    reports' connection (the replica inside ``replica_reads()``). ``before``: parameters of ``around`` that come
    before the queryset's. Every value stays a parameter; ``around`` is our own text."""
    sql, params = queryset.query.sql_with_params()
    with db_router.read_connection().cursor() as cursor:
        cursor.execute(around.replace("{query}", sql), [*before, *params])  # nosec B608 - see the docstring
        return cursor.fetchall()


def _pct(part: int, whole: int) -> str:
    return "–" if not whole else f"{round(100 * part / whole)}%"


def _referrals(scope: Scope) -> Any:
    qs = Referral.objects.filter(service__in=scope.service_ids, **_in_period("received_at", scope))
    if scope.practice:
        qs = qs.filter(source_organisation=scope.practice)
    elif scope.pcn:
        qs = qs.filter(source_organisation__pcn=scope.pcn)
    return qs


def _cases(scope: Scope) -> Any:
    qs = Case.objects.filter(service__in=scope.service_ids)
    if scope.practice:
        qs = qs.filter(client__practice=scope.practice)
    elif scope.pcn:
        qs = qs.filter(client__practice__pcn=scope.pcn)
    return qs


# --- Activity --------------------------------------------------------------------------------------------------
# Referrals by source, the decisions and the reasons for declining come from one pass over the period's referrals
# (GROUPING SETS; GROUPING() has a bit for each column left out of a row's set): three scans before.
ACTIVITY_SETS = {0b001: "source", 0b110: "decline_reason", 0b111: "all"}
SOURCE_CHANNELS = {
    "self": "Self-referral",
    "phone": "Phone",
    "letter": "Letter or email",
    "agency_link": "Agency link",
    "staff": "Other",
}


def _referral_counts(referrals: QuerySet[Referral]) -> dict[str, list[tuple[Any, ...]]]:
    """``{"source": [(organisation name, channel, received)], "decline_reason": [(reason, declined)],
    "all": [(received, accepted, declined, waiting)]}``; the tables put them in order (``Table.most_first``)."""
    rows = referrals.values("channel", "decline_reason", "status", source=F("source_organisation__name"))
    groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    counted = _rows_around(
        rows,
        "SELECT GROUPING(source, channel, decline_reason), source, channel, decline_reason, count(*), "
        "count(*) FILTER (WHERE status IN ('accepted','closed')), count(*) FILTER (WHERE status = 'declined'), "
        "count(*) FILTER (WHERE status = 'new') "
        "FROM ({query}) r GROUP BY GROUPING SETS ((source, channel), (decline_reason), ())",
    )
    for grouping, source, channel, reason, received, accepted, declined, waiting in counted:
        key = ACTIVITY_SETS[grouping]
        if key == "source":
            groups[key].append((source, channel, received))
        elif key == "decline_reason":
            if declined:
                groups[key].append((reason, declined))
        else:
            groups[key].append((received, accepted, declined, waiting))
    return groups


def activity(scope: Scope) -> list[Table]:
    referrals = _referrals(scope)
    counts = _referral_counts(referrals)
    by_source = Table("referrals_by_source", "Referrals received by source", ["Source", "Referrals"])
    for name, channel, n in counts["source"]:
        by_source.rows.append([name or SOURCE_CHANNELS[channel], n])
    by_source.most_first()

    by_reason = Table(
        "referrals_by_reason", "Referrals by reason (a referral may give several)", ["Reason", "Referrals"]
    )
    for reason, n in _rows_around(
        referrals.values("id", "reasons"),
        "SELECT reason, count(*) FROM (SELECT unnest(reasons) AS reason FROM ({query}) r) x GROUP BY reason",
    ):
        by_reason.rows.append([ReferralReason(reason).label if reason in ReferralReason.values else reason, n])
    by_reason.most_first()

    received, accepted, declined, waiting = counts["all"][0] if counts["all"] else (0, 0, 0, 0)
    outcome = {"received": received, "accepted": accepted, "declined": declined, "waiting": waiting}
    decisions = Table(
        "decisions",
        "Accepted and declined",
        ["Outcome", "Referrals", "Share of referrals"],
        kinds={2: "pct"},
        ratios={2: (1, 3)},
    )
    for label, key in (("Accepted", "accepted"), ("Declined", "declined"), ("Waiting for triage", "waiting")):
        decisions.rows.append([label, outcome[key], None, outcome["received"]])
    decisions.columns.append("Referrals received")
    decline_reasons = Table("decline_reasons", "Declined, by reason", ["Reason", "Referrals"])
    for reason, n in counts["decline_reason"]:
        decline_reasons.rows.append([DeclineReason(reason).label, n])
    decline_reasons.most_first()

    # Time from referral to first (counted) contact, in whole days, for referrals accepted in the period: counted
    # and the median taken by PostgreSQL (the first contact by the (case, at) index), not one row per referral
    # brought into Python (at an ICB's year: 42,663 rows and most of the XLSX's memory).
    first_contact = Subquery(
        Contact.objects.filter(case=OuterRef("case"), attempted_only=False).order_by("at").values("at")[:1]
    )
    whole_days = Func(
        F("first") - F("received_at"), template="EXTRACT(DAY FROM %(expressions)s)", output_field=IntegerField()
    )
    waits = (
        referrals.filter(case__isnull=False)
        .annotate(first=first_contact)
        .exclude(first=None)
        .annotate(days=Greatest(whole_days, Value(0)))
        .aggregate(people=Count("id"), median=Median("days"))
    )
    timing = Table(
        "time_to_first_contact",
        "Days from referral to first contact",
        ["Measure", "People", "Median days"],
        kinds={2: "avg"},
        averages_over={2: 1},
    )
    median = waits["median"]
    if median is not None and float(median).is_integer():
        median = int(median)
    timing.rows.append(["Referrals with a first contact", waits["people"], median])

    closed = _cases(scope).filter(status=CaseStatus.CLOSED, closed_on__gte=scope.start, closed_on__lte=scope.end)
    counted = closed.annotate(n=Count("contacts", filter=Q(contacts__attempted_only=False)))
    buckets = counted.aggregate(
        none=Count("id", filter=Q(n=0)),
        few=Count("id", filter=Q(n__gte=1, n__lte=5)),
        target=Count("id", filter=Q(n__gte=6, n__lte=12)),
        many=Count("id", filter=Q(n__gte=13)),
    )
    per_case = Table("contacts_per_case", "Contacts per closed case (the aim is 6 to 12)", ["Contacts", "Cases"])
    per_case.rows += [
        ["None", buckets["none"]],
        ["1 to 5", buckets["few"]],
        ["6 to 12", buckets["target"]],
        ["13 or more", buckets["many"]],
    ]

    contacts = Contact.objects.filter(case__in=_cases(scope), **_in_period("at", scope))
    totals = contacts.aggregate(
        all=Count("id", filter=Q(attempted_only=False)),
        visits=Count("id", filter=Q(method=ContactMethod.HOME_VISIT, attempted_only=False)),
        attempts=Count("id", filter=Q(attempted_only=True)),
    )
    contact_table = Table("contacts", "Contacts in the period", ["Kind", "Number"])
    contact_table.rows += [
        ["Contacts", totals["all"]],
        ["Home visits", totals["visits"]],
        ["Attempts without reaching the person", totals["attempts"]],
    ]

    closures = Table("closures", "Cases closed, by reason", ["Reason", "Cases"])
    for row in closed.values("closure_reason").annotate(n=Count("id")).order_by():
        closures.rows.append(
            [ClosureReason(row["closure_reason"]).label if row["closure_reason"] else "Not given", row["n"]]
        )
    closures.most_first()
    return [by_source, by_reason, decisions, decline_reasons, timing, per_case, contact_table, closures]


# --- Reach and equity ---------------------------------------------------------------------------------------------
def _equity_table(key: str, title: str, rows: Iterable[tuple[str, int, int, int]]) -> Table:
    table = Table(
        key, title, ["Group", "Referrals", "Accepted", "Declined", "Decline rate"], kinds={4: "pct"}, ratios={4: (3, 1)}
    )
    for label, received, accepted, declined in rows:
        table.rows.append([label, received, accepted, declined, None])
    return table


# The four equity breakdowns come from one pass over the period's referrals (GROUPING SETS): each was a scan of
# its own, three of them joined to the client and one to the postcode lookup, ~100 ms apiece at ICB scale cold
# (make bench). GROUPING() says which breakdown a row belongs to: a bit for each column left out of its set.
EQUITY_SETS = {0b0111: "age", 0b1011: "sex", 0b1101: "ethnicity", 0b1110: "decile"}


def equity(scope: Scope) -> list[Table]:
    # Deprivation from the referral's postcode, through the lookup when one is loaded. An anonymised person's
    # postcode is cut to its district (outcomes.privacy); the decile kept on their record counts instead.
    kept_decile = models.Case(
        models.When(case__client__anonymised_at__isnull=False, then=F("case__client__deprivation_decile"))
    )
    referrals = _referrals(scope).values(
        "date_of_birth",
        "received_at",
        "status",
        "postcode",
        sex=F("case__client__sex"),
        ethnicity=F("case__client__ethnic_category"),
        kept_decile=kept_decile,
    )
    groups: dict[str, list[tuple[Any, int, int, int]]] = defaultdict(list)
    counted = _rows_around(
        referrals,
        # Age on the day of referral, in whole years; banded below.
        "SELECT GROUPING(age, sex, ethnicity, decile), age, sex, ethnicity, decile, count(*), "  # nosec B608 - our table's name
        "count(*) FILTER (WHERE status IN ('accepted','closed')), count(*) FILTER (WHERE status = 'declined') "
        "FROM (SELECT date_part('year', age(r.received_at::date, r.date_of_birth))::int AS age, r.sex, "
        "r.ethnicity, coalesce(p.imd_decile, r.kept_decile) AS decile, r.status "
        f"FROM ({{query}}) r LEFT JOIN {PostcodeArea._meta.db_table} p "
        "ON p.postcode = replace(upper(r.postcode), ' ', '')) e "
        "GROUP BY GROUPING SETS ((age), (sex), (ethnicity), (decile)) "
        "ORDER BY 1, 2, 3, 4, 5",
    )
    for grouping, age, sex, ethnicity, decile, *counts in counted:
        key = EQUITY_SETS[grouping]
        value = {"age": age, "sex": sex, "ethnicity": ethnicity, "decile": decile}[key]
        groups[key].append((value, *counts))

    by_age: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for age, *counts in groups["age"]:
        band = next(
            (f"{lo} to {hi}" if hi < 200 else f"{lo} and over" for lo, hi in AGE_BANDS if lo <= age <= hi),
            "Under 18",
        )
        for i, n in enumerate(counts):
            by_age[band][i] += n
    order = [f"{lo} to {hi}" if hi < 200 else f"{lo} and over" for lo, hi in AGE_BANDS]
    age_table = _equity_table(
        "equity_age", "By age band", [(b, *by_age[b]) for b in ["Under 18", *order] if b in by_age]
    )

    def labelled(key: str, labels: dict[str, str]) -> list[tuple[str, int, int, int]]:
        merged: dict[str, list[int]] = {}
        for value, *counts in groups[key]:  # in order of the value, not recorded (NULL) last
            totals = merged.setdefault(labels.get(value, "Not recorded") if value else "Not recorded", [0, 0, 0])
            for i, n in enumerate(counts):
                totals[i] += n
        return [(label, *totals) for label, totals in merged.items()]

    sex_table = _equity_table(
        "equity_sex", "By sex (recorded once a person is accepted)", labelled("sex", dict(Sex.choices))
    )
    ethnic_table = _equity_table(
        "equity_ethnicity",
        "By ethnic category (recorded once a person is accepted)",
        labelled("ethnicity", dict(EthnicCategory.choices)),
    )
    rows = [
        (
            f"Decile {d}" + (" (most deprived)" if d == 1 else " (least deprived)" if d == 10 else "")
            if d
            else "Not known",
            *counts,
        )
        for d, *counts in groups["decile"]
    ]
    decile_table = _equity_table("equity_deprivation", "By deprivation decile of home postcode (IMD 2019)", rows)
    return [age_table, sex_table, ethnic_table, decile_table]


# --- Person outcomes ------------------------------------------------------------------------------------------------
T95 = {
    1: 12.71,
    2: 4.30,
    3: 3.18,
    4: 2.78,
    5: 2.57,
    6: 2.45,
    7: 2.36,
    8: 2.31,
    9: 2.26,
    10: 2.23,
    12: 2.18,
    15: 2.13,
    20: 2.09,
    25: 2.06,
    30: 2.04,
}


def _t95(df: int) -> float:
    """Two-sided 95% critical value of Student's t (a short table; 1.96 from 60 degrees of freedom)."""
    if df >= 60:
        return 1.96
    if df >= 30:
        return 2.00
    key = max(k for k in T95 if k <= df)
    return T95[key]


def _change_row(label: str, agg: dict[str, Any]) -> list[Any]:
    """People with both measures, mean change with its 95% confidence interval, and how many improved by at least
    the meaningful change, from one row's aggregates (``_changes``)."""
    n = agg["n"]
    if not n:
        return [label, 0, None, None, 0, None]
    mean = float(agg["mean"])
    if n > 1:
        half = _t95(n - 1) * float(agg["sd"]) / math.sqrt(n)
        ci = f"{mean - half:.1f} to {mean + half:.1f}"
    else:
        ci = None
    return [label, n, round(mean, 2), ci, agg["improved"], None]


@dataclass(frozen=True)
class _Change:
    """One row of the wellbeing change table: an instrument's score, or one item of an instrument scored item by
    item (ONS4)."""

    label: str
    instrument: Instrument
    item_code: str | None
    meaningful: float
    higher_is_better: bool


def _changes(
    follow_ups: QuerySet[Assessment], baseline: QuerySet[Assessment], rows: list[_Change]
) -> list[dict[str, Any]]:
    """Every row's paired change aggregated in one statement over the period's follow-ups (a statement a row
    before: the four ONS4 items each read the same follow-ups again). Each row's change is NULL on follow-ups of
    other instruments, and where either answer is missing, so COUNT, AVG and STDDEV take only that row's pairs.
    Aggregated by PostgreSQL, so memory stays flat however many people there are. Returns each row's ``n``,
    ``mean``, ``sd`` and ``improved``, in the order of ``rows``."""
    if not rows:
        return []
    pairs = follow_ups.filter(instrument__in={row.instrument.pk for row in rows}).annotate(
        before_answers=Subquery(baseline.values("answers")[:1]),
        before_score=Subquery(baseline.values("score")[:1]),
    )
    aggregates: dict[str, Any] = {}
    for i, row in enumerate(rows):
        if row.item_code is None:
            change_of_row: Any = Cast(F("score") - F("before_score"), FloatField())
        else:
            change_of_row = Cast(KT(f"answers__{row.item_code}"), FloatField()) - Cast(
                KT(f"before_answers__{row.item_code}"), FloatField()
            )
        change = f"r{i}_change"
        pairs = pairs.annotate(**{change: models.Case(models.When(instrument=row.instrument, then=change_of_row))})
        improved = (
            Q(**{f"{change}__gte": row.meaningful})
            if row.higher_is_better
            else Q(**{f"{change}__lte": -row.meaningful})
        )
        aggregates |= {
            f"r{i}_n": Count(change),
            f"r{i}_mean": Avg(change),
            f"r{i}_sd": StdDev(change, sample=True),
            f"r{i}_improved": Count(change, filter=improved),
        }
    totals = pairs.aggregate(**aggregates)
    return [{name: totals[f"r{i}_{name}"] for name in ("n", "mean", "sd", "improved")} for i in range(len(rows))]


def person_outcomes(scope: Scope) -> list[Table]:
    """Paired baseline–follow-up changes per instrument (and per ONS4 item), for follow-ups taken in the period."""
    cases = _cases(scope)
    table = Table(
        "wellbeing_change",
        "Change in wellbeing between baseline and follow-up",
        [
            "Measure",
            "People with both",
            "Mean change",
            "95% confidence interval",
            "Improved meaningfully",
            "Share improved",
        ],
        kinds={2: "avg", 3: "text", 5: "pct"},
        ratios={5: (4, 1)},
        averages_over={2: 1},
        note="Positive changes are increases in the score; for loneliness and anxiety a fall is an improvement.",
    )
    completion = Table(
        "follow_up_completion",
        "Follow-up measures completed",
        ["Measure", "Baselines (cases closed in period)", "Follow-ups", "Completion"],
        kinds={3: "pct"},
        ratios={3: (2, 1)},
    )
    follow_ups = Assessment.objects.filter(
        case__in=cases, timepoint=Timepoint.FOLLOW_UP, taken_on__gte=scope.start, taken_on__lte=scope.end
    )
    baseline = Assessment.objects.filter(
        case=OuterRef("case"), instrument=OuterRef("instrument"), timepoint=Timepoint.BASELINE
    )  # at most one per case and instrument (a unique constraint)
    closed_cases = cases.filter(closed_on__gte=scope.start, closed_on__lte=scope.end)
    instruments = list(Instrument.objects.filter(is_active=True).prefetch_related("items"))
    # Baselines and follow-ups of the cases closed in the period, for every measure in one count (two counts a
    # measure were ~15 ms apiece at ICB scale cold, make bench).
    taken = {
        (row["instrument"], row["timepoint"]): row["n"]
        for row in Assessment.objects.filter(
            case__in=closed_cases,
            instrument__in=instruments,
            timepoint__in=[Timepoint.BASELINE, Timepoint.FOLLOW_UP],
        )
        .values("instrument", "timepoint")
        .annotate(n=Count("id"))
        .order_by()
    }
    rows: list[_Change] = []
    for instrument in instruments:
        meaningful = float(instrument.meaningful_change)
        if instrument.scoring == "separate":
            rows += [
                _Change(
                    f"{instrument.short_name}: {item.code.replace('_', ' ')}",
                    instrument,
                    item.code,
                    meaningful,
                    item.higher_is_better,
                )
                for item in instrument.items.all()
            ]
        else:
            rows.append(_Change(instrument.short_name, instrument, None, meaningful, instrument.higher_is_better))
    changes = _changes(follow_ups, baseline, rows)
    table.rows += [_change_row(row.label, agg) for row, agg in zip(rows, changes, strict=True)]
    for instrument in instruments:
        completion.rows.append(
            [
                instrument.short_name,
                taken.get((instrument.pk, Timepoint.BASELINE), 0),
                taken.get((instrument.pk, Timepoint.FOLLOW_UP), 0),
                None,
            ]
        )
    return [table, completion]


# --- Community -----------------------------------------------------------------------------------------------------
TAKEN_UP = ["attended_first", "attending", "stopped"]


def community(scope: Scope) -> list[Table]:
    connections = Connection.objects.filter(case__in=_cases(scope), **_in_period("created_at", scope))
    by_service = Table(
        "connections_by_service",
        "Connections by community service",
        ["Service", "Connections", "Taken up", "Take-up rate"],
        kinds={3: "pct"},
        ratios={3: (2, 1)},
    )
    for row in (
        connections.values("service__name")
        .annotate(n=Count("id"), taken=Count("id", filter=Q(status__in=TAKEN_UP)))
        .order_by()
    ):
        by_service.rows.append([row["service__name"], row["n"], row["taken"], None])
    by_service.most_first()
    by_category = Table(
        "connections_by_category",
        "Connections by category (a service may have several)",
        ["Category", "Connections", "Taken up", "Take-up rate"],
        kinds={3: "pct"},
        ratios={3: (2, 1)},
    )
    for code, n, taken in _rows_around(
        connections.values("status", category=F("service__categories")),
        "SELECT c, count(*), count(*) FILTER (WHERE status = ANY(%s)) FROM "
        "(SELECT status, unnest(category) AS c FROM ({query}) x) y GROUP BY c",
        before=(TAKEN_UP,),
    ):
        by_category.rows.append([Category(code).label if code in Category.values else code, n, taken, None])
    by_category.most_first()
    needs = DevelopmentNeed.objects.filter(provider__service__in=scope.service_ids, created_at__date__lte=scope.end)
    groups = Table("groups_supported", "Community groups supported", ["Measure", "Number"])
    recorded = Q(created_at__date__gte=scope.start)
    agg = needs.aggregate(
        groups=Count("provider", distinct=True, filter=recorded),
        needs=Count("id", filter=recorded),
        met=Count("id", filter=Q(status=DevelopmentNeed.Status.MET, updated_at__date__gte=scope.start)),
    )
    groups.rows += [
        ["Groups with development needs recorded", agg["groups"]],
        ["Needs recorded", agg["needs"]],
        ["Needs met", agg["met"]],
    ]
    return [by_service, by_category, groups]


# --- System impact -------------------------------------------------------------------------------------------------
def system(scope: Scope) -> list[Table]:
    cases = _cases(scope).filter(closed_on__gte=scope.start, closed_on__lte=scope.end)
    rows = list(SystemUse.objects.filter(case__in=cases).values_list("case_id", "period", "gp_appointments"))
    by_case: dict[Any, dict[str, int]] = defaultdict(dict)
    for case_id, period, n in rows:
        by_case[case_id][period] = n
    pairs = [(v["before"], v["after"]) for v in by_case.values() if "before" in v and "after" in v]
    table = Table(
        "gp_appointments",
        "GP appointments in the 3 months before referral and after closure",
        ["Measure", "People with both", "Mean before", "Mean after", "Mean change"],
        kinds={2: "avg", 3: "avg", 4: "avg"},
        averages_over={2: 1, 3: 1, 4: 1},
    )
    if pairs:
        before = statistics.fmean(p[0] for p in pairs)
        after = statistics.fmean(p[1] for p in pairs)
        table.rows.append(["GP appointments", len(pairs), round(before, 1), round(after, 1), round(after - before, 1)])
    else:
        table.rows.append(["GP appointments", 0, None, None, None])
    return [table]


SECTIONS = [
    ("activity", "Activity", activity),
    ("equity", "Reach and equity", equity),
    ("outcomes", "Person outcomes", person_outcomes),
    ("community", "Community", community),
    ("system", "System impact", system),
]


def scope_parts(scope: Scope) -> tuple[Any, ...]:
    """What, besides the services, tells one report from another (for cache keys)."""
    return (scope.start, scope.end, scope.pcn.pk if scope.pcn else None, scope.practice.pk if scope.practice else None)


def build(
    scope: Scope, *, known_versions: tuple[tuple[str, int], ...] | None = None
) -> list[tuple[str, str, list[Table]]]:
    """Every section. Read from the read replica when one is configured (``linkwork.db_router``), and cached
    until the data of any service in scope (or the shared directory and organisations) changes
    (``outcomes.freshness``): the figures are aggregates, so nothing identifiable is cached. ``known_versions``:
    the scope's data versions if the caller has read them (from the replica) for something else it caches."""
    with db_router.replica_reads():
        return freshness.cached(
            "report",
            lambda: [(key, title, fn(scope)) for key, title, fn in SECTIONS],
            service_ids=scope.service_ids,
            parts=scope_parts(scope),
            code=(sys.modules[__name__],),
            known_versions=known_versions,
        )


def last_quarter(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    quarter_start_month = 3 * ((today.month - 1) // 3) + 1
    this_quarter = today.replace(month=quarter_start_month, day=1)
    end = this_quarter - dt.timedelta(days=1)
    start = end.replace(month=3 * ((end.month - 1) // 3) + 1, day=1)
    return start, end


__all__ = ["SUPPRESSION_RULE", "Scope", "Table", "build", "last_quarter", "suppress_average"]
