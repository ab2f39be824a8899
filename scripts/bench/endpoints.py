"""What the benchmark measures: each page, who asks for it, what it must answer, and its budget (issue #10).

Built in ``django_side prepare`` from the objects picked in the seeded database, then passed around as JSON, so
wrk (through gunicorn) and the in-process query counter ask for exactly the same thing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

# Replaced by a fresh UUID in every request (by bench.lua under wrk, by django_side in-process): the referral
# form's idempotency key must differ each time or every POST after the first is "already sent".
UNIQUE = "BENCHUUID"
# Contacts logged by the benchmark carry this note, so the run can delete them afterwards.
CONTACT_NOTE = "Benchmark contact: deleted after the run"

PAGE_BUDGET_MS = 150.0  # p95, 8 concurrent users, benchmark scale
SEARCH_BUDGET_MS = 50.0
XLSX_BUDGET_MS = 10_000.0
QUERY_BUDGET = 10  # "where possible"; never growing with the data
FLOOR_RATIO_BUDGET = 3.0
REMINDER_SCAN_BUDGET_MS = 5_000.0


@dataclass(frozen=True)
class Endpoint:
    key: str
    title: str
    persona: str | None  # None: anonymous
    paths: tuple[str, ...]  # requests take these in turn (a POST spread over several cases)
    method: str = "GET"
    form: dict[str, Any] = field(default_factory=dict)
    expect: int = 200
    expect_location: str = ""  # for a redirect: where it must go (so a redirect to the login page fails)
    budget_ms: float = PAGE_BUDGET_MS
    download: bool = False  # timed one after another instead of under wrk
    # A yardstick for the other pages, not one of issue #10's: measured like them, never judged against a budget.
    reference: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Endpoint:
        return cls(**{**data, "paths": tuple(data["paths"])})


@dataclass(frozen=True)
class Picked:
    """Objects chosen from the seeded database (see ``django_side.pick``), as URL paths and form values."""

    case: str  # the busy link worker's open case with the most contacts
    client: str
    other_cases: tuple[str, ...]  # more of their open cases, for logging contacts
    route: str  # "<organisation pk>:<service pk>" of the referrer's practice
    postcode: str
    search_text: str
    categories: tuple[str, ...]


def contact_form(today: dt.date) -> dict[str, str]:
    yesterday = today - dt.timedelta(days=1)
    return {
        "date_day": str(yesterday.day),
        "date_month": str(yesterday.month),
        "date_year": str(yesterday.year),
        "time": "09:30",
        "method": "phone",
        "duration_minutes": "30",
        "notes": CONTACT_NOTE,
        "next_step": "",
        "follow_up_on_day": "",
        "follow_up_on_month": "",
        "follow_up_on_year": "",
    }


def referral_form(route: str) -> dict[str, Any]:
    return {
        "idempotency_key": UNIQUE,
        "route": route,
        "given_name": "Siobhán",
        "family_name": "O'Brien",
        "date_of_birth_day": "15",
        "date_of_birth_month": "3",
        "date_of_birth_year": "1948",
        "nhs_number": "999 000 0026",
        "address": "1 Mill Lane\nRiverside",
        "postcode": "LS1 4AP",
        "phone": "07700 900982",
        "email": "",
        "contact_preference": "phone",
        "contact_times": "Mornings",
        "language": "",
        "accessibility_needs": "",
        "reasons": ["loneliness", "bereavement"],
        "reason_other": "",
        "hopes": "To meet people again",
        "risk_information": "",
        "consent_given": "on",
    }


def build(picked: Picked, *, reverse: Any, today: dt.date) -> list[Endpoint]:
    """The pages of issue #10, in the order they are measured: reads first, then the two writes (so the
    triage queue is measured before the benchmark's own referrals join it)."""
    search = {
        "q": picked.search_text,
        "categories": list(picked.categories),
        "postcode": picked.postcode,
        "within_km": "25",
    }
    case_path = reverse("clients:case", args=[picked.case])
    return [
        Endpoint("login", "Sign-in page", None, (reverse("accounts:login"),)),
        # What every signed-in page costs before its own work: a page with no data of its own, in the layout.
        Endpoint(
            "signed_in_empty",
            "Privacy notice, signed in (reference: no data of its own)",
            "link_worker",
            (reverse("privacy"),),
            reference=True,
        ),
        Endpoint("caseload", "Link worker caseload (home)", "link_worker", (reverse("clients:caseload"),)),
        Endpoint("client", "Client record", "link_worker", (reverse("clients:client", args=[picked.client]),)),
        Endpoint("case", "Case timeline", "link_worker", (case_path,)),
        Endpoint("referral_form", "Referral form", "referrer", (reverse("referrals:new"),)),
        Endpoint("triage", "Triage queue", "link_worker", (reverse("referrals:queue"),)),
        Endpoint("inbox", "Reminders and notifications", "link_worker", (reverse("notifications:inbox"),)),
        Endpoint(
            "directory_search",
            "Directory search (text, categories, distance)",
            "link_worker",
            (reverse("community:directory") + "?" + urlencode(search, doseq=True),),
            budget_ms=SEARCH_BUDGET_MS,
        ),
        Endpoint("oruk_services", "Open Referral UK /services", None, (reverse("openreferral:services"),)),
        Endpoint("dashboard", "Supervisor dashboard", "supervisor", (reverse("outcomes:dashboard"),)),
        Endpoint("report", "Commissioner report page", "commissioner", (reverse("outcomes:reports"),)),
        Endpoint(
            "contact_post",
            "Log a contact (POST)",
            "link_worker",
            tuple(reverse("clients:contact_new", args=[c]) for c in picked.other_cases),
            method="POST",
            form=contact_form(today),
            expect=302,
            expect_location="/caseload/cases/",
        ),
        Endpoint(
            "referral_post",
            "Referral form (POST)",
            "referrer",
            (reverse("referrals:new"),),
            method="POST",
            form=referral_form(picked.route),
            expect=302,
            expect_location="/referrals/sent/",
        ),
        Endpoint(
            "report_xlsx",
            "Report XLSX, a year, whole ICB",
            "commissioner",
            (reverse("outcomes:reports") + "?period=last_12_months&format=xlsx",),
            budget_ms=XLSX_BUDGET_MS,
            download=True,
        ),
    ]
