"""Each role's home page, and every page refusing the roles it is not for."""

from __future__ import annotations

import pytest
from django.urls import reverse

from linkwork.accounts.access import forget_kept_access
from linkwork.accounts.models import Role
from tests import factories
from tests.conftest import PERSONAS, SESSION_QUERIES, World, login

# page -> personas allowed (200); everyone else signed in gets 403, anonymous goes to the login page.
PAGES: dict[str, set[str]] = {
    "clients:caseload": {"link_worker", "other_link_worker", "supervisor", "manager"},
    "referrals:mine": {"referrer", "agency_referrer"},
    "community:directory": {"link_worker", "other_link_worker", "supervisor", "manager"},
    "outcomes:dashboard": {"supervisor", "manager"},
    "outcomes:reports": {"commissioner", "manager", "supervisor", "link_worker", "other_link_worker"},
    "accounts:admin_home": {"admin"},
    "accounts:profile": set(PERSONAS),
}

HOMES = {
    "link_worker": "clients:caseload",
    "referrer": "referrals:mine",
    "agency_referrer": "referrals:mine",
    "supervisor": "outcomes:dashboard",
    "manager": "outcomes:dashboard",
    "commissioner": "outcomes:reports",
    "admin": "accounts:admin_home",
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_answers_each_role_as_the_matrix_says(client, world: World, page: str, persona: str) -> None:
    login(client, getattr(world, persona))
    response = client.get(reverse(page))
    assert response.status_code == (200 if persona in PAGES[page] else 403)


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_anonymous_users_to_sign_in(client, db, page: str) -> None:
    url = reverse(page)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.parametrize(("persona", "home"), HOMES.items())
def test_it_sends_each_role_to_its_home_page(client, world: World, persona: str, home: str) -> None:
    login(client, getattr(world, persona))
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse(home)
    assert response.status_code == 200


def test_it_explains_when_an_account_has_no_role(client, world: World) -> None:
    login(client, world.nobody)
    response = client.get("/")
    assert response.status_code == 403
    assert "Your account has no role yet" in response.text


def test_it_shows_navigation_for_every_role_a_user_holds(client, world: World) -> None:
    factories.MembershipFactory(user=world.link_worker, organisation=world.service, role=Role.SUPERVISOR)
    login(client, world.link_worker)
    page = client.get(reverse("clients:caseload")).text
    assert "My caseload" in page
    assert "Caseload dashboard" in page
    assert "Users and organisations" not in page


def test_the_navigation_follows_a_change_of_role_at_the_next_page(client, world: World) -> None:
    """The navigation is built once a process per set of roles: a role given or taken away must still show at
    the next page, and people with the same roles share it."""
    login(client, world.link_worker)
    assert "Caseload dashboard" not in client.get(reverse("clients:caseload")).text
    membership = factories.MembershipFactory(user=world.link_worker, organisation=world.service, role=Role.SUPERVISOR)
    page = client.get(reverse("clients:caseload")).text
    assert "Caseload dashboard" in page and f'href="{reverse("outcomes:dashboard")}"' in page
    membership.delete()
    assert "Caseload dashboard" not in client.get(reverse("clients:caseload")).text
    login(client, world.colleague)  # another link worker: the same links
    assert "My caseload" in client.get(reverse("clients:caseload")).text


def test_the_header_and_footer_links_are_the_routes_they_name(client, world: World) -> None:
    login(client, world.link_worker)
    page = client.get(reverse("clients:caseload")).text
    for name in ("home", "accounts:profile", "notifications:inbox", "accessibility", "privacy"):
        assert f'href="{reverse(name)}"' in page, name
    assert f'action="{reverse("accounts:logout")}"' in page
    assert f'data-keepalive-url="{reverse("accounts:keepalive")}"' in page
    assert f'data-signin-url="{reverse("accounts:login")}"' in page


def _case_in_my_service(world: World, given: str, family: str, *, worker=None, factory=None):  # noqa: ANN001, ANN202
    return (factory or factories.ActiveCaseFactory)(
        client__service=world.service,
        link_worker=worker or world.link_worker,
        client__given_name=given,
        client__family_name=family,
    )


def test_the_caseload_shows_only_my_open_cases_with_contact_counts(client, world: World) -> None:
    mine = _case_in_my_service(world, "Nora", "Ní Bhriain")
    for _ in range(3):
        factories.ContactFactory(case=mine)
    factories.ContactFactory(case=mine, attempted_only=True)  # does not count toward 6–12
    _case_in_my_service(world, "Colin", "Colleague", worker=world.colleague)
    _case_in_my_service(world, "Clara", "Closed", factory=factories.ClosedCaseFactory)
    login(client, world.link_worker)
    page = client.get(reverse("clients:caseload")).text
    assert "Nora Ní Bhriain" in page
    assert "contact 3 of 6–12" in page
    assert "Colin Colleague" not in page
    assert "Clara Closed" not in page


def test_each_caseload_line_says_status_contact_gap_next_step_and_window(client, world: World) -> None:
    """The caseload lines are worked out in Python (for speed): they must still say what the page always said."""
    import datetime as dt

    from django.utils import timezone

    from clients.models import AlertKind, ClientAlert

    today = timezone.localdate()
    seen = factories.ActiveCaseFactory(
        client__service=world.service,
        link_worker=world.link_worker,
        client__given_name="Seen",
        client__family_name="Lately",
        window_end=dt.date(2031, 1, 9),
    )
    factories.ContactFactory(
        case=seen, at=timezone.now() - dt.timedelta(days=1, hours=1), follow_up_on=dt.date(2030, 3, 4)
    )
    ClientAlert.objects.create(client=seen.client, kind=AlertKind.LONE_WORKER, raised_by=world.link_worker)
    ClientAlert.objects.create(
        client=seen.client, kind=AlertKind.NO_PHONE, raised_by=world.link_worker, resolved_at=timezone.now()
    )
    overdue = factories.ActiveCaseFactory(
        client__service=world.service, link_worker=world.link_worker, client__family_name="Overdue"
    )
    factories.PausedCaseFactory(client__service=world.service, link_worker=world.link_worker)
    factories.ActiveCaseFactory(
        client__service=world.service,
        link_worker=world.link_worker,
        start_date=today - dt.timedelta(weeks=20),
        window_end=today - dt.timedelta(days=1),
    )
    login(client, world.link_worker)
    page = client.get(reverse("clients:caseload")).text
    assert page.count('class="nhsuk-table__row"') == 4
    assert f'<a href="{reverse("clients:case", args=[seen.pk])}">Seen Lately</a>' in page
    assert f'<a href="{reverse("clients:case", args=[overdue.pk])}">' in page
    assert page.count("Risk to lone workers") == 1
    assert "Do not contact by phone" not in page  # resolved
    assert "1 day ago" in page and "days ago" not in page
    assert "None yet" in page  # never contacted
    assert "4 Mar 2030" in page and "ends 9 Jan 2031" in page
    weeks = (dt.date(2031, 1, 9) - today).days // 7
    assert f"{weeks} weeks left" in page and "0 weeks left" in page
    for tag, label in (("green", "Active"), ("orange", "Contact overdue"), ("grey", "Paused"), ("red", "Window ended")):
        assert f'<strong class="nhsuk-tag nhsuk-tag--{tag}">{label}</strong>' in page


def test_caseload_lines_escape_what_people_typed(client, world: World) -> None:
    """The lines are written in Python, not by the template's autoescaping: a name must still come out as text."""
    _case_in_my_service(world, '<script>alert("x")</script>', "O'Brien & Sons")
    login(client, world.link_worker)
    page = client.get(reverse("clients:caseload")).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#x27;Brien &amp; Sons</a>" in page


def test_my_referrals_shows_my_organisation_only_and_the_local_title(client, world: World) -> None:
    factories.AcceptedReferralFactory(
        service=world.service, source_organisation=world.practice, given_name="Ours", family_name="Accepted"
    )
    factories.NewReferralFactory(
        service=world.service, source_organisation=world.agency, given_name="Theirs", family_name="Agency"
    )
    login(client, world.referrer)
    page = client.get(reverse("referrals:mine")).text
    assert "Ours Accepted" in page
    assert "Accepted" in page
    assert "Theirs Agency" not in page
    assert "Community connector" in page  # the service's own name for a link worker


def test_the_dashboard_counts_cases_per_link_worker_in_my_service_only(client, world: World) -> None:
    factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
    factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
    factories.ActiveCaseFactory(client__service=world.other_service, link_worker=world.other_link_worker)
    factories.NewReferralFactory(service=world.service)
    login(client, world.supervisor)
    response = client.get(reverse("outcomes:dashboard"))
    rows = {r.name: r for r in response.context["board"].rows}
    assert rows["Amira Khan"].active == 2
    assert rows["Amira Khan"].no_contact_14 == 2  # started 20 days ago, never seen
    assert "Olive Other" not in rows
    assert response.context["board"].waiting_referrals == 1


def test_the_caseload_query_count_does_not_grow_with_the_caseload(client, world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count_queries() -> int:

        forget_kept_access()  # counted as a user's first request in a process
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("clients:caseload")).status_code == 200
        return len(ctx.captured_queries)

    login(client, world.link_worker)
    for _ in range(3):
        factories.ContactFactory(
            case=factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
        )
    small = count_queries()
    for _ in range(20):
        factories.ContactFactory(
            case=factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
        )
    # user, two-factor device, memberships (a link worker's organisation is the service), caseload with counts, open
    # alerts, audit insert, unread notifications, and the session where Redis does not hold it (it is not written:
    # renewed less than a minute ago)
    assert count_queries() == small <= 7 + SESSION_QUERIES


def test_the_local_link_worker_title_is_shown_on_the_profile(client, world: World) -> None:
    login(client, world.link_worker)
    page = client.get(reverse("accounts:profile")).text
    assert "Community connector at Riverside Social Prescribing" in page


def test_unknown_pages_get_a_helpful_404(client, world: World) -> None:
    login(client, world.link_worker)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "belong to a service you do not work in" in response.text


def test_a_refusal_explains_itself(client, world: World) -> None:
    login(client, world.referrer)
    response = client.get(reverse("clients:caseload"))
    assert response.status_code == 403
    assert "You do not have access to this page" in response.text


def test_pages_with_forms_drawn_in_python_carry_one_csrf_token_that_works(client, world: World) -> None:
    """The referral form, the reminders page's buttons and a case's directory cards are drawn in Python; their
    forms and the layout's sign-out form share the page's one masked token (as ``{% csrf_token %}`` forms do),
    and that token is accepted."""
    import re

    from django.test import Client

    from linkwork.notifications.models import Notification

    def tokens(page: str) -> set[str]:
        return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page))

    referrer = Client(enforce_csrf_checks=True)
    login(referrer, world.referrer)
    form = referrer.get(reverse("referrals:new")).text
    assert len(tokens(form)) == 1 and form.count('name="csrfmiddlewaretoken"') == 2
    signed_out = referrer.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": tokens(form).pop()})
    assert signed_out.status_code == 302

    worker = Client(enforce_csrf_checks=True)
    login(worker, world.link_worker)
    Notification.objects.create(user=world.link_worker, title="Referral accepted", link="/caseload/")
    inbox = worker.get(reverse("notifications:inbox")).text
    assert len(tokens(inbox)) == 1 and inbox.count('name="csrfmiddlewaretoken"') >= 2
    case = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
    service = factories.CommunityServiceFactory(provider__service=world.service, name="Wednesday walk")
    cards = worker.get(reverse("clients:find_service", args=[case.pk]) + "?q=walk").text
    assert len(tokens(cards)) == 1 and "Suggest to" in cards
    connected = worker.post(
        reverse("clients:connect", args=[case.pk, service.pk]), {"csrfmiddlewaretoken": tokens(cards).pop()}
    )
    assert connected.status_code == 302
