"""The permission matrix: which role may do what, on which organisation's data, for every URL of the project.

It is data, not code that grants anything: the views decide (through ``linkwork.accounts.access`` and each app's
``*_for_user`` selectors), and ``tests/test_permission_matrix.py`` requests every URL as every persona and checks
the answer is the one written here. A URL without an entry fails that test, so nothing new goes out unreviewed.
``docs/permissions.md`` is rendered from this file (``python -m linkwork.accounts.permissions``).

Personas (the world built by the test; "our" service is Riverside, every object belongs to it):

    anonymous          not signed in
    agency_link        not signed in, holding a live agency referral link (everyone else tries a revoked one)
    nobody             signed in, no role anywhere
    referrer           GP practice staff, the practice refers to our service and made our referral
    agency_referrer    agency staff with an account; their agency refers to our service but did not make it
    commissioner       ICB staff commissioning our service: aggregate reports only
    admin              site admin (a membership, not Django staff)
    link_worker        our link worker, assigned the case, owner of the visit, reminder and supervision
    colleague          another link worker of our service (covers cases; not their visit or supervision)
    other_link_worker  link worker of another service: our records answer 404, never 403
    supervisor         GP supervising our service: reads clinical records, decides safeguarding, writes no case
    manager            our service manager: everything the link worker may do, plus running the service

At a glance (every rule, for every persona, is in docs/permissions.md):

    rule                      who may                                      another service  other roles
    CLINICAL_READ             our link workers, supervisor and manager     404              403
    CLINICAL_WRITE, TRIAGE    our link workers and manager                 404              403 (supervisor too)
    OWN_VISIT                 the link worker making the visit             404              403
    SERVICE_STAFF             staff of any service, their own data only    (their own)      403
    SUPERVISORS_AND_MANAGERS  our supervisor and manager                   403              403
    SERVICE_MANAGERS          our manager                                  403              403
    REFERRERS                 practice and agency staff                    -                403
    PRACTICE_STAFF            GP practice staff, their own practice        -                403
    REPORT_VIEWERS            service staff and commissioners              (their own)      403
    SITE_ADMINS               site admins                                  -                403
    PUBLIC                    anyone                                       -                -
    Signed out, every page that is not public sends people to sign in.

Answers: 200 page, 204 no content, 302 the view's own redirect, ``login`` a redirect to the sign-in page,
403 refused (the person may know the thing exists), 404 not found (another organisation's record: its existence
is not revealed), 405 wrong method. For POSTs, ``allowed`` means the access checks pass (what comes back then
depends on the data sent).

How to add a URL: give it an entry in ``MATRIX`` under its namespaced name, using one of the rules below (or a
new, named rule if none says what the page does). POST-only views use ``post_only(RULE)`` when ``require_POST``
comes first, ``login_then_post_only(RULE)`` when the sign-in or role check does. If the URL's arguments have new
names, say which test object fills them in ``URL_OBJECTS`` (``tests/test_permission_matrix.py``), adding the
object to ``build`` there if it is a new kind. Then regenerate the document:
``python -m linkwork.accounts.permissions > docs/permissions.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# --- Personas and answers ------------------------------------------------------------------------------------------
SIGNED_OUT = ("anonymous", "agency_link")
PERSONAS: tuple[str, ...] = (
    *SIGNED_OUT,
    "nobody",
    "referrer",
    "agency_referrer",
    "commissioner",
    "admin",
    "link_worker",
    "colleague",
    "other_link_worker",
    "supervisor",
    "manager",
)

Answer = int | str
OK = 200
NO_CONTENT = 204
REDIRECT = 302
LOGIN = "login"
FORBIDDEN = 403
NOT_FOUND = 404
NOT_ALLOWED = 405
UNAUTHORISED = 401
ALLOWED = "allowed"
REFUSALS: frozenset[Answer] = frozenset({LOGIN, UNAUTHORISED, FORBIDDEN, NOT_FOUND, NOT_ALLOWED})


@dataclass(frozen=True)
class Rule:
    """A named set of answers, one per persona."""

    name: str
    meaning: str
    answers: Mapping[str, Answer]


def rule(name: str, meaning: str, *, signed_out: Answer = LOGIN, signed_in: Answer = FORBIDDEN, **only: Answer) -> Rule:
    """Answers for every persona: ``signed_out`` for the two without an account, ``signed_in`` for everyone else,
    except the personas named."""
    unknown = set(only) - set(PERSONAS)
    if unknown:
        raise ValueError(f"unknown personas: {sorted(unknown)}")
    answers = {p: only.get(p, signed_out if p in SIGNED_OUT else signed_in) for p in PERSONAS}
    return Rule(name, meaning, answers)


def as_post(base: Rule) -> Rule:
    """The same people, for a POST: where the GET rule answers 200, the POST is ``allowed``."""
    return Rule(f"{base.name} (POST)", base.meaning, {p: ALLOWED if a == OK else a for p, a in base.answers.items()})


@dataclass(frozen=True)
class Entry:
    """One URL: who gets what on GET, and (when it differs from "refused as on GET") on POST.

    ``query`` is added to the URL; ``{name}`` placeholders are filled with the test's objects' ids."""

    get: Rule
    post: Rule | None = None
    query: str = ""
    note: str = ""

    def post_answers(self) -> dict[str, Answer]:
        """What a POST with an empty body must answer, for the personas the test POSTs as: those refused on GET
        (unless ``post`` says otherwise) and everyone ``post`` names."""
        if self.post is not None:
            return dict(self.post.answers)
        return {p: a for p, a in self.get.answers.items() if a in REFUSALS}


# --- The rules ------------------------------------------------------------------------------------------------------
_SERVICE_STAFF = {"link_worker": OK, "colleague": OK, "other_link_worker": OK, "supervisor": OK, "manager": OK}
_OUR_READERS = {"link_worker": OK, "colleague": OK, "supervisor": OK, "manager": OK, "other_link_worker": NOT_FOUND}
_OUR_WRITERS = {"link_worker": OK, "colleague": OK, "manager": OK, "other_link_worker": NOT_FOUND}

PUBLIC = rule("PUBLIC", "Anyone, signed in or not", signed_out=OK, signed_in=OK)
PUBLIC_REDIRECT = rule(
    "PUBLIC_REDIRECT",
    "Anyone; sends them on (nothing to show without a submission)",
    signed_out=REDIRECT,
    signed_in=REDIRECT,
)
SIGN_IN_PAGE = rule("SIGN_IN_PAGE", "The sign-in form; signed-in people go home", signed_out=OK, signed_in=REDIRECT)
SIGNED_IN = rule("SIGNED_IN", "Anyone signed in, about themselves only", signed_in=OK)
SIGNED_IN_REDIRECT = rule("SIGNED_IN_REDIRECT", "Anyone signed in; the view sends them on", signed_in=REDIRECT)
KEEPALIVE = rule("KEEPALIVE", "Anyone signed in; renews the idle timer and says nothing", signed_in=NO_CONTENT)
HOME = rule("HOME", "Each role to its home page; no role at all is told so", signed_in=REDIRECT, nobody=FORBIDDEN)
SITE_ADMINS = rule("SITE_ADMINS", "Site admins only", admin=OK)
NOBODY_GETS = rule("NOT_ALLOWED", "Wrong method for everyone", signed_out=NOT_ALLOWED, signed_in=NOT_ALLOWED)

OWN_REMINDER = rule(
    "OWN_REMINDER", "The link worker's own reminder; anyone else's is not found", signed_in=NOT_FOUND, link_worker=OK
)
SERVICE_SETTINGS = rule(
    "SERVICE_SETTINGS",
    "Our service's settings: its manager changes them, its other staff are refused, outsiders get 404",
    signed_in=NOT_FOUND,
    link_worker=FORBIDDEN,
    colleague=FORBIDDEN,
    supervisor=FORBIDDEN,
    manager=OK,
)

SERVICE_STAFF = rule("SERVICE_STAFF", "Staff of any service, each seeing their own service's data", **_SERVICE_STAFF)
CLINICAL_READ = rule(
    "CLINICAL_READ", "Identifiable records of our service: its staff read; another service gets 404", **_OUR_READERS
)
CLINICAL_WRITE = rule(
    "CLINICAL_WRITE",
    "Changing our service's records: its link workers and manager; the supervisor only reads (403)",
    **_OUR_WRITERS,
)
TRIAGE = rule(
    "TRIAGE",
    "Triage decisions on our service's referrals: its link workers and manager; the supervisor only reads (403)",
    **_OUR_WRITERS,
)
OWN_VISIT = rule(
    "OWN_VISIT",
    "A home visit's check-in page: only the link worker making the visit",
    link_worker=OK,
    other_link_worker=NOT_FOUND,
)
SERVICE_MANAGERS = rule("SERVICE_MANAGERS", "Service managers, for their own service", manager=OK)
TRIAGE_STAFF = rule(
    "TRIAGE_STAFF",
    "Link workers and managers of any service (recording a referral into their own)",
    link_worker=OK,
    colleague=OK,
    other_link_worker=OK,
    manager=OK,
)
REFERRERS = rule("REFERRERS", "Practice and agency staff", referrer=OK, agency_referrer=OK)
PRACTICE_STAFF = rule(
    "PRACTICE_STAFF",
    "GP practice staff, for their own practice's referrals (coded events for the GP record); agency staff refused",
    referrer=OK,
)
OWN_ORGANISATION_REFERRAL = rule(
    "OWN_ORGANISATION_REFERRAL",
    "A referral made by the referrer's own organisation; other organisations' are not found",
    referrer=OK,
    agency_referrer=NOT_FOUND,
)
AGENCY_LINK = rule(
    "AGENCY_LINK",
    "Whoever holds a live agency link; a revoked or guessed one is not found",
    signed_out=NOT_FOUND,
    signed_in=NOT_FOUND,
    agency_link=OK,
)

DIRECTORY_READ = rule(
    "DIRECTORY_READ",
    "Our service's community directory entries: its staff; another service gets 404",
    **_OUR_READERS,
)
DIRECTORY_WRITE = rule(
    "DIRECTORY_WRITE",
    "Maintaining our directory: its link workers and manager; the supervisor is refused",
    **_OUR_WRITERS,
)
DIRECTORY_FORM_REDIRECT = rule(
    "DIRECTORY_FORM_REDIRECT",
    "A directory form that lives on another page: GET sends maintainers back to it",
    link_worker=REDIRECT,
    colleague=REDIRECT,
    manager=REDIRECT,
    other_link_worker=NOT_FOUND,
)
DIRECTORY_MAINTAINERS = rule(
    "DIRECTORY_MAINTAINERS",
    "Link workers and managers of any service, for their own directory",
    link_worker=OK,
    colleague=OK,
    other_link_worker=OK,
    manager=OK,
)
OPPORTUNITY_ADD = rule(
    "OPPORTUNITY_ADD",
    "Adding an opportunity: link workers and managers; the supervisor reads the list only",
    link_worker=ALLOWED,
    colleague=ALLOWED,
    other_link_worker=ALLOWED,
    manager=ALLOWED,
)

REPORT_VIEWERS = rule(
    "REPORT_VIEWERS",
    "Outcome reports: service staff (their service) and commissioners (aggregate, suppressed)",
    commissioner=OK,
    **_SERVICE_STAFF,
)
SUPERVISORS_AND_MANAGERS = rule(
    "SUPERVISORS_AND_MANAGERS", "Supervisors and managers of our service", supervisor=OK, manager=OK
)
SUPERVISORS = rule("SUPERVISORS", "Supervisors of our service; the manager is refused", supervisor=OK)
LINK_WORKERS = rule(
    "LINK_WORKERS", "Link workers, about themselves", link_worker=OK, colleague=OK, other_link_worker=OK
)
OWN_SUPERVISION = rule(
    "OWN_SUPERVISION",
    "A supervision session: the link worker it was with, our supervisors and managers; colleagues get 404",
    link_worker=OK,
    supervisor=OK,
    manager=OK,
    colleague=NOT_FOUND,
    other_link_worker=NOT_FOUND,
)
SUPERVISION_ACTION = rule(
    "SUPERVISION_ACTION",
    "Marking an agreed action done: its owner and our supervisors; the manager may read it only",
    link_worker=ALLOWED,
    supervisor=ALLOWED,
    manager=FORBIDDEN,
    colleague=NOT_FOUND,
    other_link_worker=NOT_FOUND,
)
SAFEGUARDING_DECISION = rule(
    "SAFEGUARDING_DECISION",
    "Deciding on a safeguarding concern: our supervisors; the manager may read it only",
    supervisor=ALLOWED,
    manager=FORBIDDEN,
)
READ_ONLY_API = rule(
    "READ_ONLY_API", "The open data API refuses every write", signed_out=NOT_ALLOWED, signed_in=NOT_ALLOWED
)
API_KEY = rule(
    "API_KEY",
    "The FHIR API: an API key, never a session; anyone without a key, signed in or not, gets 401",
    signed_out=UNAUTHORISED,
    signed_in=UNAUTHORISED,
)
SIGNED_IN_POST = rule("SIGNED_IN_POST", "Anyone signed in, about themselves only", signed_in=ALLOWED)


def post_only(base: Rule, **kwargs: str) -> Entry:
    """A view that only accepts POST (``require_POST`` outermost): every GET is 405, whoever asks."""
    return Entry(get=NOBODY_GETS, post=as_post(base), **kwargs)


def login_then_post_only(base: Rule, **kwargs: str) -> Entry:
    """``login_required`` (or ``role_required``) outside ``require_POST``: signed-out people go to sign in first,
    and those who pass the role check get 405 on GET."""
    get = Rule(
        f"{base.name} (GET 405)", base.meaning, {p: NOT_ALLOWED if a == OK else a for p, a in base.answers.items()}
    )
    return Entry(get=get, post=as_post(base), **kwargs)


# --- The matrix -----------------------------------------------------------------------------------------------------
MATRIX: dict[str, Entry] = {
    # The site
    "home": Entry(HOME),
    "healthz": Entry(PUBLIC, note="JSON; reveals no data"),
    "accessibility": Entry(PUBLIC),
    "privacy": Entry(PUBLIC),
    # Accounts
    "accounts:login": Entry(SIGN_IN_PAGE),
    "accounts:logout": Entry(NOBODY_GETS, post=rule("SIGN_OUT", "Anyone", signed_out=ALLOWED, signed_in=ALLOWED)),
    "accounts:profile": Entry(SIGNED_IN),
    "accounts:password_change": Entry(SIGNED_IN),
    "accounts:password_change_done": Entry(SIGNED_IN),
    "accounts:password_reset": Entry(PUBLIC),
    "accounts:password_reset_done": Entry(PUBLIC),
    "accounts:password_reset_confirm": Entry(PUBLIC, note="an invalid link shows the 'link not valid' page"),
    "accounts:password_reset_complete": Entry(PUBLIC),
    "accounts:admin_home": Entry(SITE_ADMINS),
    "accounts:keepalive": Entry(KEEPALIVE),
    "accounts:two_factor_setup": Entry(SIGNED_IN),
    "accounts:two_factor_verify": Entry(SIGNED_IN_REDIRECT, note="already verified: sent on"),
    "accounts:backup_codes": login_then_post_only(SIGNED_IN),
    "accounts:sign_out_everywhere": login_then_post_only(SIGNED_IN),
    "accounts:admin_user_action": login_then_post_only(SITE_ADMINS),
    # Notifications and reminders
    "notifications:inbox": Entry(SIGNED_IN),
    "notifications:open": post_only(SIGNED_IN, note="someone else's notification is ignored: back to the inbox"),
    "notifications:done": post_only(OWN_REMINDER),
    "notifications:snooze": Entry(OWN_REMINDER),
    "notifications:preferences": Entry(SIGNED_IN),
    "notifications:settings": Entry(SERVICE_SETTINGS),
    # Clients and cases
    "clients:caseload": Entry(SERVICE_STAFF),
    "clients:search": Entry(SERVICE_STAFF, query="q=xss"),
    "clients:client": Entry(CLINICAL_READ),
    "clients:client_edit": Entry(CLINICAL_WRITE),
    "clients:alert_add": post_only(CLINICAL_WRITE),
    "clients:alert_resolve": post_only(CLINICAL_WRITE),
    "clients:case": Entry(CLINICAL_READ),
    "clients:contact_new": Entry(CLINICAL_WRITE),
    "clients:what_matters": Entry(CLINICAL_WRITE),
    "clients:pause": Entry(CLINICAL_WRITE),
    "clients:resume": post_only(CLINICAL_WRITE),
    "clients:extend": Entry(CLINICAL_WRITE),
    "clients:reassign": Entry(SERVICE_MANAGERS),
    "clients:plan_edit": Entry(CLINICAL_WRITE),
    "clients:plan_history": Entry(CLINICAL_READ),
    "clients:plan_print": Entry(CLINICAL_READ),
    "clients:visit_new": Entry(CLINICAL_WRITE),
    "clients:find_service": Entry(CLINICAL_WRITE),
    "clients:connect": post_only(CLINICAL_WRITE),
    "clients:connection": Entry(CLINICAL_WRITE),
    "clients:visit": Entry(OWN_VISIT),
    "clients:check_in": post_only(OWN_VISIT),
    "clients:check_out": post_only(OWN_VISIT),
    "clients:case_supervision": Entry(CLINICAL_READ),
    "clients:flag_raise": Entry(CLINICAL_WRITE),
    "clients:concern_raise": Entry(CLINICAL_WRITE),
    # Referrals
    "referrals:new": Entry(REFERRERS),
    "referrals:record": Entry(TRIAGE_STAFF),
    "referrals:mine": Entry(REFERRERS),
    "referrals:sent": Entry(OWN_ORGANISATION_REFERRAL),
    "referrals:queue": Entry(SERVICE_STAFF),
    "referrals:links": Entry(SERVICE_MANAGERS),
    "referrals:revoke_link": post_only(SERVICE_MANAGERS),
    # API keys for GP and agency systems (referrals/api_client_views.py)
    "api_keys:list": Entry(SERVICE_MANAGERS, post=as_post(SERVICE_MANAGERS)),
    "api_keys:revoke": post_only(SERVICE_MANAGERS),
    # The FHIR API (referrals/api_views.py): keys, not sessions; the wrong method first, then the key
    "fhir:bundle": Entry(NOBODY_GETS, post=API_KEY, note="POST a FHIR Bundle"),
    "fhir:service_request": Entry(NOBODY_GETS, post=API_KEY, note="POST a FHIR ServiceRequest"),
    "fhir:task": Entry(API_KEY, post=NOBODY_GETS, note="a referral's progress as a FHIR Task"),
    "fhir:procedures": Entry(API_KEY, post=NOBODY_GETS, note="coded events: referrals accepted"),
    "fhir:observations": Entry(API_KEY, post=NOBODY_GETS, note="coded events: social prescribing declined"),
    "referrals:detail": Entry(CLINICAL_READ),
    "referrals:accept": post_only(TRIAGE),
    "referrals:decline": post_only(TRIAGE),
    "referrals:redirect": post_only(TRIAGE),
    "referrals:close": post_only(TRIAGE),
    # Coded events for the GP record (SNOMED CT), for the practice to record and mark recorded
    "referrals:coded_events": Entry(PRACTICE_STAFF, post=as_post(PRACTICE_STAFF), note="POST marks ticked events"),
    "referrals:coded_events_csv": Entry(PRACTICE_STAFF, note="CSV of the events waiting to be recorded"),
    # Public referral forms
    "refer:agency": Entry(AGENCY_LINK),
    "refer:self": Entry(PUBLIC, note="only for a service that takes self-referrals; 404 otherwise"),
    "refer:thanks": Entry(PUBLIC_REDIRECT),
    # Community directory
    "community:directory": Entry(SERVICE_STAFF),
    "community:service": Entry(DIRECTORY_READ),
    "community:service_edit": Entry(DIRECTORY_WRITE),
    "community:qa": Entry(DIRECTORY_FORM_REDIRECT),
    "community:provider_new": Entry(DIRECTORY_MAINTAINERS),
    "community:provider": Entry(DIRECTORY_READ),
    "community:service_new": Entry(DIRECTORY_WRITE),
    "community:need_add": Entry(DIRECTORY_FORM_REDIRECT),
    "community:need_update": Entry(DIRECTORY_WRITE),
    "community:feedback_add": Entry(DIRECTORY_FORM_REDIRECT),
    "community:import": Entry(SERVICE_MANAGERS),
    "community:import_template": Entry(DIRECTORY_MAINTAINERS),
    "community:opportunities": Entry(SERVICE_STAFF, post=OPPORTUNITY_ADD),
    # Open Referral UK API (open data: published directory entries only)
    "openreferral:index": Entry(PUBLIC, post=READ_ONLY_API),
    "openreferral:services": Entry(PUBLIC, post=READ_ONLY_API),
    "openreferral:service": Entry(PUBLIC, post=READ_ONLY_API),
    "openreferral:service_at_locations": Entry(PUBLIC, post=READ_ONLY_API),
    "openreferral:service_at_location": Entry(PUBLIC, post=READ_ONLY_API),
    "openreferral:taxonomies": Entry(PUBLIC, post=READ_ONLY_API),
    "openreferral:taxonomy": Entry(PUBLIC, post=READ_ONLY_API),
    "openreferral:taxonomy_terms": Entry(PUBLIC, post=READ_ONLY_API),
    "openreferral:taxonomy_term": Entry(PUBLIC, post=READ_ONLY_API),
    # The API's description (linkwork.api): the OpenAPI document and the page rendered from it; no data in either
    "api_schema": Entry(PUBLIC, post=READ_ONLY_API, note="the OpenAPI document, JSON"),
    "api_docs": Entry(PUBLIC, post=READ_ONLY_API, note="the API documentation page"),
    # Outcomes
    "outcomes:dashboard": Entry(SUPERVISORS_AND_MANAGERS),
    "outcomes:reports": Entry(REPORT_VIEWERS),
    "outcomes:demand": Entry(SERVICE_STAFF),
    # Supervision
    "supervision:mine": Entry(LINK_WORKERS),
    "supervision:cases": Entry(SUPERVISORS_AND_MANAGERS, query="measure=active&worker={link_worker}"),
    "supervision:worker": Entry(SUPERVISORS_AND_MANAGERS),
    "supervision:session_new": Entry(SUPERVISORS),
    "supervision:session": Entry(OWN_SUPERVISION),
    "supervision:action_done": post_only(SUPERVISION_ACTION),
    "supervision:concern": Entry(SUPERVISORS_AND_MANAGERS, post=SAFEGUARDING_DECISION),
    # Wellbeing measures
    "measures:choose": Entry(CLINICAL_WRITE),
    "measures:record": Entry(CLINICAL_WRITE),
    "measures:system_use": Entry(CLINICAL_WRITE),
    # Audit trail: who looked at a person's record, and what a member of staff did (managers of the service)
    "audit:users": Entry(SERVICE_MANAGERS),
    "audit:user": Entry(SERVICE_MANAGERS),
    "audit:user_export": Entry(SERVICE_MANAGERS),
    "person_audit:events": Entry(SERVICE_MANAGERS),
    "person_audit:export": Entry(SERVICE_MANAGERS),
    # Data protection: subject access export and erasure on request (managers of the person's service)
    "privacy:person": Entry(SERVICE_MANAGERS),
    "privacy:export": post_only(SERVICE_MANAGERS),
    "privacy:erase": Entry(SERVICE_MANAGERS),
}


# --- The document ---------------------------------------------------------------------------------------------------
def _cell(answer: Answer | None) -> str:
    return "" if answer is None else str(answer)


def render_markdown() -> str:
    """docs/permissions.md: the rules (who gets what), then each URL with its rules."""
    rules: dict[str, Rule] = {}
    for entry in MATRIX.values():
        for r in (entry.get, entry.post):
            if r is not None:
                rules.setdefault(r.name, r)
    head = "| rule | meaning | " + " | ".join(PERSONAS) + " |"
    lines = [
        "# Permission matrix",
        "",
        "Generated from `linkwork/accounts/permissions.py` by `python -m linkwork.accounts.permissions`; do not edit",
        "by hand. `tests/test_permission_matrix.py` requests every URL as every persona and checks these answers.",
        "",
        "Answers: 200 page, 204 no content, 302 the view's own redirect, `login` sent to sign in, 403 refused,",
        "404 not found (another organisation's record), 405 wrong method, `allowed` the POST passes the access checks.",
        "Every record in the test belongs to *our* service; `other_link_worker` works for another one.",
        "",
        "## Rules",
        "",
        head,
        "|" + "---|" * (len(PERSONAS) + 2),
    ]
    for name in sorted(rules):
        r = rules[name]
        lines.append(f"| {name} | {r.meaning} | " + " | ".join(_cell(r.answers[p]) for p in PERSONAS) + " |")
    lines += ["", "## URLs", "", "| URL name | GET | POST | note |", "|---|---|---|---|"]
    for name, entry in MATRIX.items():
        post = entry.post.name if entry.post is not None else "as GET for those refused"
        query = f" (`?{entry.query}`)" if entry.query else ""
        lines.append(f"| `{name}`{query} | {entry.get.name} | {post} | {entry.note} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
