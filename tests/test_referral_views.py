"""Referral pages for every role, with bad input, double submits and the public forms."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clients.models import Case
from linkwork.accounts.access import forget_kept_access
from linkwork.audit.models import Action, AuditEvent
from referrals import services
from referrals.models import AgencyLink, Channel, Referral, ReferralStatus
from referrals.views import intake
from tests import factories
from tests.conftest import PERSONAS, World, login


def form_data(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "idempotency_key": str(uuid.uuid4()),
        "given_name": "Siobhán",
        "family_name": "O'Brien",
        "date_of_birth_day": "15",
        "date_of_birth_month": "3",
        "date_of_birth_year": "1948",
        "nhs_number": "999 000 0026",
        "address": "1 Mill Lane\nRiverside",
        "postcode": "ls1 4ap",
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
    data.update(overrides)
    return data


@pytest.fixture(autouse=True)
def _clear_rate_limits() -> None:
    cache.clear()


# --- Who may see what ------------------------------------------------------------------------------------
GET_PAGES: dict[str, set[str]] = {
    "referrals:new": {"referrer", "agency_referrer"},
    "referrals:record": {"link_worker", "other_link_worker", "manager"},
    "referrals:mine": {"referrer", "agency_referrer"},
    "referrals:queue": {"link_worker", "other_link_worker", "supervisor", "manager"},
    "referrals:links": {"manager"},
}


@pytest.mark.parametrize("page", GET_PAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_page_answers_each_role(client, world: World, page: str, persona: str) -> None:
    login(client, getattr(world, persona))
    assert client.get(reverse(page)).status_code == (200 if persona in GET_PAGES[page] else 403)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("link_worker", 200),
        ("supervisor", 200),
        ("manager", 200),
        ("other_link_worker", 404),
        ("referrer", 403),
        ("commissioner", 403),
        ("admin", 403),
        ("nobody", 403),
    ],
)
def test_the_triage_page_is_for_the_service_only(client, world: World, persona: str, status: int) -> None:
    referral = factories.NewReferralFactory(service=world.service, source_organisation=world.practice)
    login(client, getattr(world, persona))
    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("referrer", 200), ("agency_referrer", 404), ("link_worker", 403), ("commissioner", 403)],
)
def test_a_referrer_sees_only_their_own_organisations_referral(client, world: World, persona: str, status: int) -> None:
    referral = factories.NewReferralFactory(service=world.service, source_organisation=world.practice)
    login(client, getattr(world, persona))
    assert client.get(reverse("referrals:sent", args=[referral.pk])).status_code == status


def test_viewing_a_referral_is_audited(client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service)
    login(client, world.supervisor)
    client.get(reverse("referrals:detail", args=[referral.pk]))
    event = AuditEvent.objects.get(action=Action.VIEW, object_id=str(referral.pk))
    assert event.actor == world.supervisor


# --- The practice referral form --------------------------------------------------------------------------
def test_a_receptionist_refers_someone(client, world: World) -> None:
    login(client, world.referrer)
    response = client.post(reverse("referrals:new"), form_data(), follow=True)
    referral = Referral.objects.get()
    assert response.redirect_chain[-1][0] == reverse("referrals:sent", args=[referral.pk])
    assert f"Referral sent. The reference is {referral.reference}" in response.text
    assert "What happens next" in response.text
    assert referral.source_organisation == world.practice
    assert referral.referred_by == world.referrer
    assert referral.service == world.service
    assert referral.channel == Channel.STAFF
    assert referral.nhs_number == "9990000026"
    assert referral.postcode == "LS1 4AP"
    assert referral.reasons == ["loneliness", "bereavement"]


def _form_part(html: str) -> str:
    """The referral form of a page, with the values that differ on every request (CSRF token, idempotency key)
    taken out."""
    form = html[html.index("<form") : html.index("</form>")]
    form = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', form)
    return re.sub(r'name="idempotency_key" value="[^"]+"', 'name="idempotency_key" value=""', form)


def test_the_blank_referral_form_drawn_once_is_the_form_the_template_draws(client, world: World, settings) -> None:
    """The page keeps a drawing of the blank form per set of routes (referrals.views.intake); under DEBUG the
    template draws it every time. Both must give the same form, whatever the referrer may refer to."""
    intake._blank_forms.clear()
    for routes in ("one", "two"):
        if routes == "two":
            world.practice.services.add(world.other_service)  # two routes: the form asks which service
        login(client, world.referrer)
        kept = client.get(reverse("referrals:new")).text
        settings.DEBUG = True
        drawn = client.get(reverse("referrals:new")).text
        settings.DEBUG = False
        assert _form_part(kept) == _form_part(drawn)
        assert ("Which service are you referring to?" in kept) == (routes == "two")
    assert len(intake._blank_forms) == 2


def test_every_blank_referral_form_gets_its_own_idempotency_key_and_a_working_token(world: World) -> None:
    csrf_client = Client(enforce_csrf_checks=True)
    login(csrf_client, world.referrer)
    keys, tokens = [], []
    for _ in range(2):
        html = csrf_client.get(reverse("referrals:new")).text
        keys.append(re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1))
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1))
    assert keys[0] != keys[1]
    assert str(intake.KEY_SLOT) not in keys and intake.CSRF_SLOT not in tokens
    data = form_data(idempotency_key=keys[1], csrfmiddlewaretoken=tokens[1])
    response = csrf_client.post(reverse("referrals:new"), data)
    assert response.status_code == 302
    assert str(Referral.objects.get().idempotency_key) == keys[1]


def test_a_double_submission_creates_one_referral(client, world: World) -> None:
    login(client, world.referrer)
    data = form_data()
    client.post(reverse("referrals:new"), data)
    response = client.post(reverse("referrals:new"), data, follow=True)
    assert Referral.objects.count() == 1
    assert "This referral was already sent" in response.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nhs_number": "943 476 5918"}, "This is not a valid NHS number"),
        ({"nhs_number": "12345"}, "NHS number must be 10 digits"),
        ({"nhs_number": ""}, "Enter the person&#x27;s NHS number"),
        ({"date_of_birth_year": "2999"}, "Date of birth must be in the past"),
        ({"date_of_birth_day": "31", "date_of_birth_month": "2"}, "Date of birth must be a real date"),
        ({"date_of_birth_month": ""}, "Date of birth must include a month"),
        ({"given_name": "<script>alert(1)</script>"}, "First name must only include letters"),
        ({"family_name": "Smith2"}, "Last name must only include letters"),
        ({"postcode": "NOT A POSTCODE"}, "Enter a real postcode"),
        ({"phone": "call me"}, "Enter a phone number"),
        ({"reasons": []}, "Select at least one reason for referral"),
        ({"reasons": ["other"]}, "Say what the other reason is"),
        ({"hopes": "x" * 1001}, "What the person hopes for must be 1000 characters or fewer"),
        ({"interpreter_needed": "on"}, "Enter the language they need an interpreter for"),
        ({"contact_preference": "email"}, "Enter an email address, or choose another way to contact them"),
        ({"consent_given": ""}, "You can only refer someone who has agreed to it"),
    ],
)
def test_bad_input_gets_a_clear_message_and_keeps_what_was_typed(
    client, world: World, overrides: dict, message: str
) -> None:
    login(client, world.referrer)
    response = client.post(reverse("referrals:new"), form_data(**overrides))
    assert response.status_code == 400
    page = response.text
    assert "There is a problem" in page
    assert message in page
    assert "To meet people again</textarea>" in page or "hopes" in overrides
    assert 'value="07700 900982"' in page or "phone" in overrides
    assert Referral.objects.count() == 0


def test_names_from_any_alphabet_are_welcome(client, world: World) -> None:
    login(client, world.referrer)
    client.post(reverse("referrals:new"), form_data(given_name="Nguyễn Thị", family_name="Ní Bhriain-Smith"))
    referral = Referral.objects.get()
    assert (referral.given_name, referral.family_name) == ("Nguyễn Thị", "Ní Bhriain-Smith")


def test_html_in_free_text_is_stored_as_typed_and_shown_escaped(client, world: World) -> None:
    login(client, world.referrer)
    client.post(reverse("referrals:new"), form_data(hopes="<script>alert('x')</script> & more"))
    referral = Referral.objects.get()
    assert referral.hopes == "<script>alert('x')</script> & more"
    login(client, world.link_worker)
    page = client.get(reverse("referrals:detail", args=[referral.pk])).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page


def test_extra_post_fields_are_ignored(client, world: World) -> None:
    login(client, world.referrer)
    client.post(reverse("referrals:new"), form_data(status="accepted", service=str(world.other_service.pk)))
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.NEW
    assert referral.service == world.service


def test_the_form_says_where_urgent_needs_go(client, world: World) -> None:
    login(client, world.referrer)
    page = client.get(reverse("referrals:new")).text
    assert "call 999 or NHS 111" in page
    assert "safeguarding" in page


# --- Triage -----------------------------------------------------------------------------------------------
def test_the_queue_shows_waiting_referrals_with_flags(client, world: World) -> None:
    factories.NewReferralFactory(
        service=world.service, given_name="Risa", risk_information="Dog", interpreter_needed=True, language="Polish"
    )
    factories.NewReferralFactory(service=world.other_service, given_name="Elsewhere")
    login(client, world.link_worker)
    page = client.get(reverse("referrals:queue")).text
    assert "Risa" in page
    assert "Risk information" in page
    assert "Interpreter: Polish" in page
    assert "Elsewhere" not in page


def test_the_queue_is_read_afresh_each_time_it_is_opened(client, world: World) -> None:
    """The queue's SQL is kept a process (linkwork.compiled), its rows never are: a referral that arrives, one
    triaged and a possible duplicate show at the next look."""
    first = factories.NewReferralFactory(service=world.service, given_name="Aled", family_name="First")
    login(client, world.link_worker)
    page = client.get(reverse("referrals:queue")).text
    assert "Aled First" in page and "Possible duplicate" not in page
    factories.NewReferralFactory(
        service=world.service, given_name="aled", family_name="first", date_of_birth=first.date_of_birth
    )
    Referral.objects.filter(pk=first.pk).update(
        status="declined", decline_reason="not_eligible", decided_at=timezone.now()
    )
    factories.NewReferralFactory(service=world.service, given_name="Bea", family_name="Second")
    factories.NewReferralFactory(
        service=world.service, given_name="aled", family_name="FIRST", date_of_birth=first.date_of_birth
    )
    response = client.get(reverse("referrals:queue"))
    assert response.context["total"] == 3
    assert "Bea Second" in response.text and response.text.count("Possible duplicate") == 2
    assert first.reference not in response.text


# The queue's lines as the template loop wrote them, before queue_rows_html wrote them in Python.
OLD_QUEUE_LOOP = """    {% for row in rows %}{% with r=row.referral %}
    <tr role="row" class="nhsuk-table__row">
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Reference </span><a href="{% url 'referrals:detail' r.pk %}">{{ r.reference }}</a></td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Person </span>{{ r.person_name }}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">From </span>{{ r.source_organisation.name|default:r.get_channel_display }}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Waiting </span>{% if row.overdue %}<strong class="nhsuk-tag nhsuk-tag--red">{{ row.waiting_working_days }} working day{{ row.waiting_working_days|pluralize }}</strong>{% else %}{{ row.waiting_working_days }} working day{{ row.waiting_working_days|pluralize }}{% endif %}</td>
      <td role="cell" class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Flags </span>
        {% if r.possible_duplicate %}<strong class="nhsuk-tag nhsuk-tag--orange">Possible duplicate</strong> {% endif %}
        {% if r.risk_information %}<strong class="nhsuk-tag nhsuk-tag--red">Risk information</strong> {% endif %}
        {% if r.interpreter_needed %}<strong class="nhsuk-tag nhsuk-tag--purple">Interpreter: {{ r.language }}</strong>{% endif %}
        {% if not r.possible_duplicate and not r.risk_information and not r.interpreter_needed %}None{% endif %}
      </td>
    </tr>
    {% endwith %}{% endfor %}
"""  # noqa: E501


def test_the_queue_lines_written_in_python_are_the_lines_the_template_wrote(world: World) -> None:
    from django.template import Context, Template

    from referrals.selectors import QueueRow
    from referrals.views.triage import queue_rows_html

    def referral(**fields) -> Referral:
        made = Referral(
            reference=fields.pop("reference", "SP-2026-00042"),
            given_name=fields.pop("given_name", "Siobhán"),
            family_name=fields.pop("family_name", "O'Brien"),
            channel=fields.pop("channel", Channel.STAFF),
            source_organisation=fields.pop("source_organisation", world.practice),
            risk_information=fields.pop("risk_information", ""),
            interpreter_needed=fields.pop("interpreter_needed", False),
            language=fields.pop("language", ""),
        )
        made.possible_duplicate = fields.pop("possible_duplicate", False)
        return made

    rows = [
        QueueRow(referral(), 1, False),
        QueueRow(referral(given_name="<script>alert(1)</script>", family_name='"Quoted" & Co'), 0, False),
        QueueRow(referral(source_organisation=None, channel=Channel.SELF), 7, True),
        QueueRow(
            referral(possible_duplicate=True, risk_information="Dog", interpreter_needed=True, language="<b>Urdu"),
            2,
            True,
        ),
        QueueRow(referral(interpreter_needed=True, language="Polish"), 12, False),
    ]

    def squeezed(html: str) -> str:
        return " ".join(html.split())

    old = Template(OLD_QUEUE_LOOP).render(Context({"rows": rows}))
    new = queue_rows_html(rows)
    assert squeezed(new) == squeezed(old)
    assert "<script>" not in new and "&lt;script&gt;" in new


def test_a_long_queue_is_shown_fifty_at_a_time_oldest_first_with_its_total(client, world: World) -> None:
    """A backlog (a service closed over a holiday) must not make one page of every referral: the page's work
    and its queries stay the same whatever the queue's length."""
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    start = timezone.now() - dt.timedelta(days=30)
    for i in range(53):
        factories.NewReferralFactory(
            service=world.service, given_name=f"Person{i:02d}", received_at=start + dt.timedelta(hours=i)
        )
    login(client, world.link_worker)
    forget_kept_access()
    with CaptureQueriesContext(connection) as first_page:
        page = client.get(reverse("referrals:queue")).text
    assert "53 referrals waiting, oldest first" in page
    assert page.count('class="nhsuk-table__row"') == 50
    assert "Person00" in page and "Person49" in page and "Person50" not in page
    assert "Showing 1 to 50 of 53." in page
    assert 'aria-label="Pages of the triage queue"' in page and "?page=2" in page
    forget_kept_access()
    with CaptureQueriesContext(connection) as second_page:
        last = client.get(reverse("referrals:queue"), {"page": "2"}).text
    assert last.count('class="nhsuk-table__row"') == 3
    assert "Person50" in last and "Person52" in last and "Person49" not in last
    assert "Showing 51 to 53 of 53." in last
    assert len(second_page.captured_queries) == len(first_page.captured_queries)
    nonsense = client.get(reverse("referrals:queue"), {"page": "<script>"})
    assert nonsense.status_code == 200 and "Person00" in nonsense.text  # the first page, not an error


def test_a_link_worker_accepts_and_assigns(client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service)
    login(client, world.link_worker)
    response = client.post(
        reverse("referrals:accept", args=[referral.pk]), {"assignee": str(world.colleague.pk)}, follow=True
    )
    assert f"Referral {referral.reference} accepted and assigned to Tom Evans" in response.text
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.case.link_worker == world.colleague


def test_accepting_without_an_assignee_explains(client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service)
    login(client, world.link_worker)
    response = client.post(reverse("referrals:accept", args=[referral.pk]), {"assignee": ""})
    assert response.status_code == 400
    assert "Choose who will support this person" in response.text
    assert Case.objects.count() == 0


def test_accepting_an_already_accepted_referral_gets_a_clear_message(client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service)
    services.referral_accept(referral=referral, by=world.colleague, assignee=world.colleague)
    login(client, world.link_worker)
    response = client.post(
        reverse("referrals:accept", args=[referral.pk]), {"assignee": str(world.link_worker.pk)}, follow=True
    )
    assert "This referral has already been accepted by Tom Evans" in response.text
    assert Case.objects.count() == 1


def test_a_duplicate_can_be_merged_into_the_open_case(client, world: World) -> None:
    case = factories.ActiveCaseFactory(
        client__service=world.service, client__nhs_number="9990000026", link_worker=world.colleague
    )
    referral = factories.NewReferralFactory(service=world.service, nhs_number="9990000026")
    login(client, world.link_worker)
    page = client.get(reverse("referrals:detail", args=[referral.pk])).text
    assert "Possible duplicate" in page
    client.post(reverse("referrals:accept", args=[referral.pk]), {"case": str(case.pk)})
    referral.refresh_from_db()
    assert referral.case == case
    assert Case.objects.count() == 1


def test_declining_needs_a_reason(client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service)
    login(client, world.link_worker)
    response = client.post(reverse("referrals:decline", args=[referral.pk]), {"reason": "", "note": "kept"})
    assert response.status_code == 400
    assert "Select why the referral is declined" in response.text
    assert "kept</textarea>" in response.text
    client.post(reverse("referrals:decline", args=[referral.pk]), {"reason": "person_declined", "note": ""})
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DECLINED


def test_redirect_to_another_service(client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service)
    login(client, world.manager)
    client.post(reverse("referrals:redirect", args=[referral.pk]), {"service": str(world.other_service.pk)})
    referral.refresh_from_db()
    assert referral.service == world.other_service


def test_closing_the_case_sends_the_summary_to_the_referrer(client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service, source_organisation=world.practice)
    services.referral_accept(referral=referral, by=world.link_worker, assignee=world.link_worker)
    referral.refresh_from_db()
    referral.case.client.share_with_gp = "summary"  # the person agreed to a summary going back
    referral.case.client.save(update_fields=["share_with_gp"])
    login(client, world.link_worker)
    response = client.post(reverse("referrals:close", args=[referral.pk]), {"reason": "goals_met", "summary": ""})
    assert response.status_code == 400
    assert "Write a short outcome summary for the GP record" in response.text
    client.post(reverse("referrals:close", args=[referral.pk]), {"reason": "goals_met", "summary": "Joined the choir."})
    login(client, world.referrer)
    page = client.get(reverse("referrals:sent", args=[referral.pk])).text
    assert "Joined the choir." in page
    assert "Closed" in page


ACTIONS = ["accept", "decline", "redirect", "close"]


@pytest.mark.parametrize("action", ACTIONS)
def test_decisions_refuse_the_wrong_people_and_methods(client, world: World, action: str) -> None:
    referral = factories.NewReferralFactory(service=world.service)
    url = reverse(f"referrals:{action}", args=[referral.pk])
    assert client.post(url).status_code == 302  # anonymous: to the login page
    login(client, world.link_worker)
    assert client.get(url).status_code == 405
    login(client, world.other_link_worker)
    assert client.post(url).status_code == 404
    for persona in ("supervisor", "referrer", "commissioner"):
        login(client, getattr(world, persona))
        assert client.post(url).status_code == 403
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW


# --- The loop back --------------------------------------------------------------------------------------
def test_my_referrals_shows_the_named_link_worker_and_first_contact(client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service, source_organisation=world.practice)
    case = services.referral_accept(referral=referral, by=world.link_worker, assignee=world.link_worker)
    factories.ContactFactory(case=case, attempted_only=True)
    login(client, world.referrer)
    page = client.get(reverse("referrals:mine")).text
    assert "Amira Khan" in page
    assert "Accepted" in page
    assert "Not yet" in page  # an attempted contact is not a first contact
    factories.ContactFactory(case=case)
    page = client.get(reverse("referrals:mine")).text
    assert "Not yet" not in page


def test_referrers_never_see_case_notes(client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service, source_organisation=world.practice)
    case = services.referral_accept(referral=referral, by=world.link_worker, assignee=world.link_worker)
    factories.ContactFactory(case=case, notes="Private conversation about debts")
    login(client, world.referrer)
    for url in (reverse("referrals:mine"), reverse("referrals:sent", args=[referral.pk])):
        assert "Private conversation" not in client.get(url).text


def test_my_referrals_query_count_does_not_grow_with_the_list(client, world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count_queries() -> int:

        forget_kept_access()  # counted as a user's first request in a process
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("referrals:mine")).status_code == 200
        return len(ctx.captured_queries)

    login(client, world.referrer)
    factories.AcceptedReferralFactory(service=world.service, source_organisation=world.practice)
    small = count_queries()
    for _ in range(15):
        factories.AcceptedReferralFactory(service=world.service, source_organisation=world.practice)
    # session, user, two-factor device, memberships + linked services, referrals with first contact and link worker,
    # unread notifications (the session is not written: renewed less than a minute ago)
    assert count_queries() == small <= 7


# --- Public forms ---------------------------------------------------------------------------------------------
def test_an_agency_link_takes_a_referral_and_reads_nothing_back(client, world: World) -> None:
    _, token = services.agency_link_create(service=world.service, agency_name="Riverside Foodbank", by=world.manager)
    url = reverse("refer:agency", args=[token])
    page = client.get(url).text
    assert "Referral from Riverside Foodbank" in page
    data = form_data(
        referrer_name="Dev Patel", referrer_organisation_name="Riverside Foodbank", referrer_email="dev@fb.example"
    )
    response = client.post(url, data, follow=True)
    referral = Referral.objects.get()
    assert referral.channel == Channel.AGENCY_LINK
    assert referral.reference in response.text
    assert "Siobhán" not in response.text and "999 000 0026" not in response.text
    assert AgencyLink.objects.get().use_count == 1


def test_a_revoked_or_wrong_agency_link_explains_itself(client, world: World) -> None:
    link, token = services.agency_link_create(service=world.service, agency_name="Foodbank", by=world.manager)
    services.agency_link_revoke(link=link, by=world.manager)
    for bad in (token, "not-a-token"):
        response = client.get(reverse("refer:agency", args=[bad]))
        assert response.status_code == 404
        assert "This referral link is not active" in response.text
    assert client.post(reverse("refer:agency", args=[token]), form_data()).status_code == 404
    assert Referral.objects.count() == 0


def test_public_forms_are_rate_limited(client, world: World) -> None:
    url = reverse("refer:self", args=[world.service.pk])
    for _ in range(10):
        client.post(url, form_data(nhs_number=""))
    response = client.post(url, form_data(nhs_number=""))
    assert response.status_code == 429
    assert "Too many referrals sent" in response.text
    assert Referral.objects.count() == 10


def test_self_referral_explains_the_service_and_can_be_switched_off(client, world: World) -> None:
    url = reverse("refer:self", args=[world.service.pk])
    page = client.get(url).text
    assert "Social prescribing is free" in page
    response = client.post(url, form_data(nhs_number=""), follow=True)
    assert "Referral sent" in response.text
    assert Referral.objects.get().channel == Channel.SELF
    world.service.self_referral_enabled = False
    world.service.save()
    assert client.get(url).status_code == 404


def test_service_staff_record_a_phone_referral(client, world: World) -> None:
    login(client, world.link_worker)
    data = form_data(channel="phone", referrer_name="Jo Bloggs", referrer_phone="01632 960001")
    response = client.post(reverse("referrals:record"), data)
    referral = Referral.objects.get()
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert referral.channel == Channel.PHONE
    assert referral.recorded_by == world.link_worker
    assert referral.service == world.service


def test_a_manager_makes_and_revokes_an_agency_link(client, world: World) -> None:
    login(client, world.manager)
    page = client.post(reverse("referrals:links"), {"agency_name": "Foodbank", "service": str(world.service.pk)}).text
    link = AgencyLink.objects.get()
    assert "Copy it now: it will not be shown again" in page
    assert "/refer/agency/" in page
    again = client.get(reverse("referrals:links")).text
    assert "/refer/agency/" not in again  # shown once only
    client.post(reverse("referrals:revoke_link", args=[link.pk]))
    link.refresh_from_db()
    assert not link.is_active
    login(client, world.other_link_worker)
    assert client.post(reverse("referrals:revoke_link", args=[link.pk])).status_code == 403
