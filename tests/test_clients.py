"""Clients: the record, case lifecycle, contacts, what matters, the versioned plan and home visits."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat, timezone

from clients import selectors, services
from clients.forms import AlertForm
from clients.models import CaseStatus, Contact, PlanVersion
from community.models import PostcodeArea
from linkwork.accounts.access import forget_kept_access
from linkwork.audit.models import AuditEvent
from linkwork.forms import kept
from tests import factories
from tests.conftest import SESSION_QUERIES, World, contact_data, login


@pytest.fixture
def case(world: World):
    return factories.ActiveCaseFactory(
        client__service=world.service,
        link_worker=world.link_worker,
        client__given_name="Nora",
        client__family_name="Ní Bhriain",
        client__address="1 Mill Lane",
    )


def at(days_ago: int = 0, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(timezone.localdate() - dt.timedelta(days=days_ago), dt.time(hour)))


# --- Services -------------------------------------------------------------------------------------------------
def test_attempts_are_shown_but_not_counted(world: World, case) -> None:
    services.contact_log(case=case, by=world.link_worker, at=at(2), method="phone", duration_minutes=20)
    services.contact_log(case=case, by=world.link_worker, at=at(1), method="phone", attempted_only=True)
    assert services.contacts_counted(case) == 1
    assert case.contacts.count() == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"at": timezone.now() + dt.timedelta(days=1)}, "today or in the past"),
        ({"at": at(60)}, "after the referral was accepted"),
        ({"follow_up_on": timezone.localdate() - dt.timedelta(days=5)}, "follow-up date must be after"),
    ],
)
def test_impossible_contacts_are_refused(world: World, case, fields: dict, message: str) -> None:
    data = {"at": at(1), "method": "phone", "duration_minutes": 30, **fields}
    with pytest.raises(ValidationError, match=message):
        services.contact_log(case=case, by=world.link_worker, **data)
    assert not Contact.objects.exists()


def test_a_closed_case_takes_no_contacts(world: World) -> None:
    closed = factories.ClosedCaseFactory(client__service=world.service, link_worker=world.link_worker)
    with pytest.raises(ValidationError, match="closed"):
        services.contact_log(case=closed, by=world.link_worker, at=at(1), method="phone", duration_minutes=5)


def test_pause_resume_extend_and_reassign(world: World, case) -> None:
    case = services.case_pause(case=case, by=world.link_worker, reason="In hospital", on=timezone.localdate())
    assert (case.status, case.paused_reason) == (CaseStatus.PAUSED, "In hospital")
    with pytest.raises(ValidationError):
        services.case_pause(case=case, by=world.link_worker, reason="Again", on=timezone.localdate())
    case = services.case_resume(case=case, by=world.link_worker)
    assert case.status == CaseStatus.ACTIVE and case.paused_on is None
    end = case.window_end
    case = services.case_extend(case=case, by=world.link_worker, weeks=4, reason="Waiting for a housing decision")
    assert case.window_end == end + dt.timedelta(weeks=4)
    with pytest.raises(ValidationError):
        services.case_extend(case=case, by=world.link_worker, weeks=40, reason="Too long")
    case = services.case_reassign(case=case, by=world.manager, to=world.colleague, reason="Caseload balance")
    assert case.link_worker == world.colleague
    assignment = case.assignments.get()
    assert (assignment.from_worker, assignment.to_worker, assignment.by) == (
        world.link_worker,
        world.colleague,
        world.manager,
    )
    for wrong in (world.supervisor, world.other_link_worker):
        with pytest.raises(ValidationError, match="link worker in this service"):
            services.case_reassign(case=case, by=world.manager, to=wrong, reason="x")


def test_a_stale_save_of_the_record_is_refused(world: World, case) -> None:
    client = case.client
    services.client_update(client=client, by=world.link_worker, expected_version=1, preferred_name="Nonie")
    with pytest.raises(services.ConcurrentEdit, match="Someone else changed this record"):
        services.client_update(client=client, by=world.colleague, expected_version=1, preferred_name="Nor")
    client.refresh_from_db()
    assert (client.preferred_name, client.version) == ("Nonie", 2)


def test_consent_changes_are_dated(world: World, case) -> None:
    client = services.client_update(
        client=case.client, by=world.link_worker, expected_version=1, share_with_gp="summary"
    )
    assert client.consent_recorded_at is not None


def test_the_postcode_sets_the_deprivation_decile_when_a_lookup_is_loaded(world: World, case) -> None:
    PostcodeArea.objects.create(postcode="LS14AP", lsoa_code="E01011365", imd_decile=2)
    client = services.client_update(client=case.client, by=world.link_worker, expected_version=1, postcode="LS1 4AP")
    assert (client.deprivation_decile, client.lsoa_code) == (2, "E01011365")
    client = services.client_update(client=client, by=world.link_worker, expected_version=2, postcode="ZZ9 9ZZ")
    assert client.deprivation_decile is None


def test_plans_keep_every_version_and_say_what_changed(world: World, case) -> None:
    first = services.plan_save(
        case=case,
        by=world.link_worker,
        expected_version=0,
        review_on=None,
        goals=[{"goal": "Get out of the house twice a week", "status": "not_started"}],
    )
    second = services.plan_save(
        case=case,
        by=world.link_worker,
        expected_version=1,
        review_on=None,
        goals=[
            {
                "goal": "Get out of the house twice a week",
                "status": "in_progress",
                "actions": [{"what": "Try the Wednesday walk", "who": "Nora"}],
            },
            {"goal": "Sort out the gas bill", "status": "not_started"},
        ],
    )
    assert PlanVersion.objects.count() == 2
    first.refresh_from_db()
    assert first.goals == [
        {"goal": "Get out of the house twice a week", "status": "not_started", "progress": "", "actions": []}
    ]
    changes = services.plan_changes(first, second)
    assert "Goal added: Sort out the gas bill" in changes
    assert "Get out of the house twice a week: Not started → In progress" in changes
    assert "Get out of the house twice a week: action added: Try the Wednesday walk" in changes
    with pytest.raises(services.ConcurrentEdit, match="plan"):
        services.plan_save(
            case=case,
            by=world.colleague,
            expected_version=1,
            review_on=None,
            goals=[{"goal": "Stale", "status": "not_started"}],
        )
    with pytest.raises(ValidationError, match="at least one goal"):
        services.plan_save(case=case, by=world.colleague, expected_version=2, review_on=None, goals=[{"goal": " "}])


def test_what_matters_is_saved_once_and_guarded(world: World, case) -> None:
    record = services.what_matters_save(case=case, by=world.link_worker, expected_version=0, what_matters="My garden")
    with pytest.raises(services.ConcurrentEdit):
        services.what_matters_save(case=case, by=world.colleague, expected_version=0, what_matters="Other")
    record = services.what_matters_save(case=case, by=world.colleague, expected_version=1, worries="Money")
    assert (record.what_matters, record.worries, record.version) == ("My garden", "Money", 2)


def test_a_home_visit_checks_in_and_out_and_becomes_a_contact(world: World, case) -> None:
    visit = services.home_visit_schedule(
        case=case, by=world.link_worker, planned_start=timezone.now(), expected_minutes=45
    )
    with pytest.raises(ValidationError, match="Check in before"):
        services.home_visit_check_out(visit=visit, by=world.link_worker)
    visit = services.home_visit_check_in(visit=visit, by=world.link_worker)
    with pytest.raises(ValidationError, match="already checked in"):
        services.home_visit_check_in(visit=visit, by=world.link_worker)
    visit = services.home_visit_check_out(visit=visit, by=world.link_worker, notes="All well")
    assert visit.contact.method == "home_visit"
    assert visit.contact.notes == "All well"
    assert services.contacts_counted(case) == 1


# --- Selectors ------------------------------------------------------------------------------------------------
def test_caseload_filters(world: World) -> None:
    def make(**kwargs):
        return factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker, **kwargs)

    seen = make()
    factories.ContactFactory(case=seen, at=at(2))
    overdue = make()  # started 20 days ago, never seen
    ending = make(window_end=timezone.localdate() + dt.timedelta(days=5))
    factories.ContactFactory(case=ending, at=at(1))
    paused = factories.PausedCaseFactory(client__service=world.service, link_worker=world.link_worker)

    def ids(show: str) -> set:
        return {
            c["id"] for c in selectors.caseload_for(user=world.link_worker, filters=selectors.CaseloadFilter(show=show))
        }

    assert ids("") == {seen.pk, overdue.pk, ending.pk, paused.pk}
    assert ids("overdue") == {overdue.pk}
    assert ids("ending") == {ending.pk}
    assert ids("paused") == {paused.pk}


def test_caseload_lines_are_the_caseload_querys_rows_read_afresh_each_time(world: World) -> None:
    """caseload_lines keeps the query's SQL a process (linkwork.compiled), never its rows."""
    case = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
    factories.ActiveCaseFactory(client__service=world.service, link_worker=world.link_worker)
    factories.PausedCaseFactory(client__service=world.service, link_worker=world.link_worker)
    for show in ("", "overdue", "ending", "paused"):
        for sort in ("window", "last_contact", "name"):
            filters = selectors.CaseloadFilter(show=show, sort=sort)
            for _ in range(2):  # compiled, then kept
                lines = selectors.caseload_lines(user=world.link_worker, filters=filters)
                assert lines == list(selectors.caseload_for(user=world.link_worker, filters=filters))
    factories.ContactFactory(case=case, at=at(1), follow_up_on=timezone.localdate() + dt.timedelta(days=3))
    line = next(c for c in selectors.caseload_lines(user=world.link_worker) if c["id"] == case.pk)
    assert line["contact_count"] == 1 and line["next_follow_up"] == timezone.localdate() + dt.timedelta(days=3)
    assert selectors.caseload_lines(user=world.colleague) == []  # another link worker's caseload, not this one's


def test_search_by_name_nhs_number_or_reference_within_my_service(world: World, case) -> None:
    referral = factories.AcceptedReferralFactory(service=world.service, case=case)
    factories.ClientFactory(service=world.other_service, given_name="Nora", family_name="Elsewhere")
    for query in (
        "nora",
        "Ní Bh",
        case.client.nhs_number,
        f"{case.client.nhs_number[:3]} {case.client.nhs_number[3:6]} {case.client.nhs_number[6:]}",
        referral.reference,
    ):
        assert selectors.search_clients(user=world.link_worker, query=query) == [case.client], query
    assert selectors.search_clients(user=world.referrer, query="nora") == []


# --- Views: who may do what --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("link_worker", 200),
        ("colleague", 200),
        ("supervisor", 200),
        ("manager", 200),
        ("other_link_worker", 404),
        ("referrer", 403),
        ("agency_referrer", 403),
        ("commissioner", 403),
        ("admin", 403),
        ("nobody", 403),
    ],
)
def test_case_and_client_pages_answer_each_role(client, world: World, case, persona: str, status: int) -> None:
    login(client, getattr(world, persona))
    assert client.get(reverse("clients:case", args=[case.pk])).status_code == status
    assert client.get(reverse("clients:client", args=[case.client.pk])).status_code == status


def test_opening_a_colleagues_case_is_audited_as_such(client, world: World, case) -> None:
    login(client, world.colleague)
    client.get(reverse("clients:case", args=[case.pk]))
    event = AuditEvent.objects.get(object_id=str(case.pk))
    assert event.actor == world.colleague and "not their own" in event.summary


WRITE_PAGES = ["contact_new", "what_matters", "plan_edit", "pause", "extend", "visit_new"]


@pytest.mark.parametrize("page", WRITE_PAGES)
def test_write_pages_refuse_read_only_and_outsiders(client, world: World, case, page: str) -> None:
    url = reverse(f"clients:{page}", args=[case.pk])
    assert client.get(url).status_code == 302  # anonymous: to sign in
    for persona, status in [("supervisor", 403), ("commissioner", 403), ("referrer", 403), ("other_link_worker", 404)]:
        login(client, getattr(world, persona))
        assert client.get(url).status_code == status, persona
        assert client.post(url, {}).status_code == status, persona
    login(client, world.colleague)
    assert client.get(url).status_code == 200


def test_only_managers_reassign(client, world: World, case) -> None:
    url = reverse("clients:reassign", args=[case.pk])
    login(client, world.link_worker)
    assert client.get(url).status_code == 403
    login(client, world.manager)
    response = client.post(url, {"to": str(world.colleague.pk), "reason": ""})
    assert response.status_code == 400 and "Say why the case is reassigned" in response.text
    client.post(url, {"to": str(world.colleague.pk), "reason": "Leave"})
    case.refresh_from_db()
    assert case.link_worker == world.colleague


def test_resume_is_post_only(client, world: World, case) -> None:
    login(client, world.link_worker)
    assert client.get(reverse("clients:resume", args=[case.pk])).status_code == 405


# --- Views: logging a contact -------------------------------------------------------------------------------------
def test_logging_a_contact_counts_it(client, world: World, case) -> None:
    login(client, world.link_worker)
    response = client.post(reverse("clients:contact_new", args=[case.pk]), contact_data(), follow=True)
    assert "Contact 1 of 6 to 12 logged" in response.text
    assert "Contact 1 of 6–12" in response.text
    assert "Talked about the garden" in response.text


def test_logging_a_contact_reads_only_the_cases_state_not_the_persons_record(client, world: World, case) -> None:
    """The POST a link worker makes after each call: the case's status and dates for the checks, the contact, its
    audit row and the count for the message; neither the person's record nor the worker's or service's rows."""
    login(client, world.link_worker)
    client.get(reverse("clients:caseload"))  # signed in and working: memberships already kept by the process
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("clients:contact_new", args=[case.pk]), contact_data())
    assert response.status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any('"clients_client"' in sql for sql in statements)
    (read,) = [sql for sql in statements if sql.startswith('SELECT "clients_case"')]
    assert "JOIN" not in read
    # session (where Redis does not hold it), user, two-factor device, the case, the contact, the audit row, the
    # count (savepoints of the service's transaction aside)
    assert len([sql for sql in statements if "SAVEPOINT" not in sql]) == 6 + SESSION_QUERIES
    # One transaction, the request's (a savepoint inside the test's own): the contact and its audit row are saved
    # together, with no savepoint of the service's as well (two round trips more)
    assert len([sql for sql in statements if sql.startswith("SAVEPOINT")]) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"date_year": "2999"}, "must be today or in the past"),
        ({"time": "25:99"}, "Enter a time like 09:30 or 14:30"),
        ({"method": ""}, "Select how the contact happened"),
        ({"duration_minutes": "abc"}, "Duration must be a number of minutes"),
        ({"duration_minutes": ""}, "Enter how long the contact took"),
        ({"notes": "x" * 5001}, "Notes must be 5000 characters or fewer"),
    ],
)
def test_bad_contacts_are_explained_and_the_notes_kept(
    client, world: World, case, overrides: dict, message: str
) -> None:
    login(client, world.link_worker)
    response = client.post(reverse("clients:contact_new", args=[case.pk]), contact_data(**overrides))
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert message in response.text
    assert "Talked about the garden</textarea>" in response.text or "notes" in overrides
    assert "Contacts so far: 0 of 6 to 12." in response.text  # the page shown again has the case's count
    assert not Contact.objects.exists()


def test_notes_are_escaped(client, world: World, case) -> None:
    factories.ContactFactory(case=case, notes="<script>alert(1)</script>")
    login(client, world.link_worker)
    page = client.get(reverse("clients:case", args=[case.pk])).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_second_editor_is_refused_and_keeps_their_text(client, world: World, case) -> None:
    url = reverse("clients:what_matters", args=[case.pk])
    login(client, world.link_worker)
    client.post(
        url,
        {
            "version": "0",
            "what_matters": "Being near my grandchildren",
            "strengths": "",
            "worries": "",
            "want_to_change": "",
        },
    )
    login(client, world.colleague)
    response = client.post(
        url,
        {
            "version": "0",
            "what_matters": "My words, typed at the same time",
            "strengths": "",
            "worries": "",
            "want_to_change": "",
        },
    )
    assert response.status_code == 400
    assert "Someone else changed this conversation record while you were editing it" in response.text
    assert "My words, typed at the same time</textarea>" in response.text


def test_the_plan_prints_and_downloads_as_a_pdf(client, world: World, case) -> None:
    services.plan_save(
        case=case,
        by=world.link_worker,
        expected_version=0,
        review_on=None,
        goals=[
            {"goal": "Join the choir", "status": "in_progress", "actions": [{"what": "Go on Tuesday", "who": "Nora"}]}
        ],
    )
    login(client, world.link_worker)
    page = client.get(reverse("clients:plan_print", args=[case.pk])).text
    assert "Nora's plan" in page and "Join the choir" in page and "How to contact your link worker" in page
    response = client.get(reverse("clients:plan_print", args=[case.pk]) + "?format=pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]


def test_the_plan_form_saves_goals_from_the_formset(client, world: World, case) -> None:
    login(client, world.link_worker)
    data = {
        "goals-TOTAL_FORMS": "1",
        "goals-INITIAL_FORMS": "0",
        "goals-MIN_NUM_FORMS": "0",
        "goals-MAX_NUM_FORMS": "12",
        "goals-0-goal": "Get out more",
        "goals-0-status": "in_progress",
        "goals-0-action_1": "Try the walk",
        "goals-0-who_1": "Nora",
        "version": "0",
    }
    client.post(reverse("clients:plan_edit", args=[case.pk]), data)
    version = PlanVersion.objects.get()
    assert version.goals[0]["goal"] == "Get out more"
    assert version.goals[0]["actions"][0] == {"what": "Try the walk", "who": "Nora", "by_when": ""}


def test_check_in_is_only_for_the_visiting_link_worker(client, world: World, case) -> None:
    visit = services.home_visit_schedule(
        case=case, by=world.link_worker, planned_start=timezone.now(), expected_minutes=30
    )
    url = reverse("clients:check_in", args=[visit.pk])
    login(client, world.colleague)
    assert client.post(url).status_code == 403
    login(client, world.other_link_worker)
    assert client.post(url).status_code == 404
    login(client, world.link_worker)
    assert client.get(url).status_code == 405
    client.post(url)
    visit.refresh_from_db()
    assert visit.checked_in_at is not None


def test_alerts_show_on_every_page_of_the_record(client, world: World, case) -> None:
    login(client, world.link_worker)
    client.post(
        reverse("clients:alert_add", args=[case.client.pk]), {"kind": "lone_worker", "detail": "Visit in pairs"}
    )
    for url in (
        reverse("clients:client", args=[case.client.pk]),
        reverse("clients:case", args=[case.pk]),
        reverse("clients:contact_new", args=[case.pk]),
        reverse("clients:plan_edit", args=[case.pk]),
    ):
        page = client.get(url).text
        assert "Risk to lone workers" in page and "Visit in pairs" in page, url


def test_the_client_record_lists_that_clients_episodes_newest_first_with_their_link_workers(
    client, world: World, case
) -> None:
    """The episodes' statement is compiled once a process and asked with each client's id: each record must
    list its own client's cases, and no one else's."""
    earlier = factories.ClosedCaseFactory(
        client=case.client, link_worker=None, start_date=timezone.localdate() - dt.timedelta(days=400)
    )
    someone_else = factories.ActiveCaseFactory(client__service=world.service, link_worker=world.colleague)
    login(client, world.link_worker)

    def episodes(client_pk: object) -> str:
        page = client.get(reverse("clients:client", args=[client_pk])).text
        start = page.index("Episodes of support")
        return page[start : page.index("</ul>", start)]

    listed = episodes(case.client.pk)
    newest = listed.index(f'<a href="{reverse("clients:case", args=[case.pk])}">Active case from')
    oldest = listed.index(f'<a href="{reverse("clients:case", args=[earlier.pk])}">Closed case from')
    assert newest < oldest
    assert f"with {world.link_worker.full_name}</li>" in listed and "with no one</li>" in listed
    assert str(someone_else.pk) not in listed
    theirs = episodes(someone_else.client.pk)
    assert reverse("clients:case", args=[someone_else.pk]) in theirs and f"with {world.colleague.full_name}" in theirs
    assert str(case.pk) not in theirs and str(earlier.pk) not in theirs


def _alert_form_part(html: str) -> str:
    start = html.index("<form", html.index("Add an alert"))
    return html[start : html.index("</form>", start)]


def test_the_kept_blank_alert_form_is_the_form_the_template_draws(client, world: World, case, settings) -> None:
    """The client record keeps the blank "Add an alert" form's drawing (linkwork.forms.kept); under DEBUG the
    template draws it each time. Both must be the same form."""
    kept._kept.clear()
    login(client, world.link_worker)
    url = reverse("clients:client", args=[case.client.pk])
    first, again = client.get(url).text, client.get(url).text
    settings.DEBUG = True
    drawn = client.get(url).text
    settings.DEBUG = False
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert csrf.sub("", _alert_form_part(first)) == csrf.sub("", _alert_form_part(drawn))
    assert csrf.sub("", _alert_form_part(first)) == csrf.sub("", _alert_form_part(again))
    assert 'name="kind"' in _alert_form_part(first) and "Risk to lone workers" in _alert_form_part(first)
    assert list(kept._kept) == [AlertForm]


def test_an_alert_with_a_mistake_is_drawn_with_its_error_not_the_kept_blank_form(client, world: World, case) -> None:
    login(client, world.link_worker)
    client.get(reverse("clients:client", args=[case.client.pk]))  # the blank drawing is kept
    response = client.post(reverse("clients:alert_add", args=[case.client.pk]), {"kind": "", "detail": "Typed"})
    assert response.status_code == 400
    assert "Select the kind of alert" in response.text and "Typed" in response.text
    assert response.text.count('<details class="nhsuk-details" open>') == 1
    assert response.text.startswith("<!DOCTYPE html>") and "<title>Error: " in response.text


def test_a_kept_form_must_not_draw_its_own_form_tag(settings) -> None:
    class Tagged(AlertForm):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.helper.form_tag = True

    class Token(AlertForm):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.helper.disable_csrf = False

    with pytest.raises(ValueError, match="CSRF"):
        kept.blank_form_html(Token)
    with pytest.raises(ValueError, match="CSRF"):
        kept.blank_form_html(Tagged)
    settings.DEBUG = True
    assert kept.blank_form_html(Tagged) is None


def test_a_drawn_form_is_kept_for_its_key_and_drawn_afresh_with_errors(settings) -> None:
    from django import forms as django_forms

    from linkwork.forms import form_helper, kept

    settings.DEBUG = False

    class Pick(django_forms.Form):
        colour = django_forms.ChoiceField(choices=[("r", "Red"), ("g", "Green")])

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.helper = form_helper(method="get")

    fresh = str(kept.drawn_form_html(Pick({"colour": "g"}), key=("g",)))
    assert 'value="g"' in fresh and "selected" in fresh
    assert str(kept.drawn_form_html(Pick({"colour": "g"}), key=("g",))) == fresh  # kept
    assert str(kept.drawn_form_html(Pick(), key=None)) != fresh  # another key, its own drawing
    wrong = str(kept.drawn_form_html(Pick({"colour": "<script>"}), key=("g",)))  # errors: never the kept one
    assert "Select a valid choice" in wrong and "<script>" not in wrong

    class Posted(Pick):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.helper = form_helper()

    with pytest.raises(ValueError):
        kept.drawn_form_html(Posted(), key=None)


def test_editing_the_record_keeps_input_on_error(client, world: World, case) -> None:
    login(client, world.link_worker)
    url = reverse("clients:client_edit", args=[case.client.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "version": "1",
        "given_name": "Nora",
        "family_name": "Ní Bhriain",
        "preferred_name": "Nonie",
        "date_of_birth_day": "17",
        "date_of_birth_month": "5",
        "date_of_birth_year": "1960",
        "nhs_number": "123",
        "postcode": "LS1 4AP",
        "share_with_gp": "codes",
        "consent_to_contact": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert "NHS number must be 10 digits" in response.text
    assert 'value="Nonie"' in response.text


# --- The case page --------------------------------------------------------------------------------------------
def _shown(moment: dt.datetime | dt.date, format: str = "j M Y") -> str:
    """As the template's date filter shows it, in UK time."""
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment)
    return dateformat.format(moment, format)


def test_the_case_page_shows_what_is_recorded_on_the_case(client, world: World, case) -> None:
    today = timezone.localdate()
    referral = factories.AcceptedReferralFactory(service=world.service, case=case)
    contact = factories.ContactFactory(
        case=case,
        at=at(3, hour=14),
        duration_minutes=25,
        notes="Talked about the garden",
        next_step="Call the allotment society",
        follow_up_on=today + dt.timedelta(days=7),
    )
    attempt = factories.ContactFactory(
        case=case, at=at(1), attempted_only=True, duration_minutes=0, recorded_by=world.colleague
    )
    services.what_matters_save(
        case=case, by=world.link_worker, expected_version=0, what_matters="My garden", strengths="Patient"
    )
    goals = [{"goal": "Get out twice a week", "actions": [{"what": "Try the Wednesday walk", "who": "Nora"}]}]
    services.plan_save(case=case, by=world.link_worker, expected_version=0, review_on=None, goals=goals)
    services.plan_save(
        case=case, by=world.colleague, expected_version=1, review_on=today + dt.timedelta(days=30), goals=goals
    )
    walk = factories.CommunityServiceFactory(provider__service=world.service, name="Wednesday walk")
    connected = services.connection_create(case=case, by=world.link_worker, service=walk, status="referred")
    planned = services.home_visit_schedule(
        case=case, by=world.link_worker, planned_start=timezone.now() + dt.timedelta(days=2), expected_minutes=45
    )
    visiting = services.home_visit_check_in(
        visit=services.home_visit_schedule(
            case=case, by=world.link_worker, planned_start=timezone.now(), expected_minutes=45
        ),
        by=world.link_worker,
    )
    login(client, world.link_worker)
    page = client.get(reverse("clients:case", args=[case.pk])).text

    assert f"with {world.link_worker.full_name}" in page
    assert f'Contact 1 of 6–12</p>\n    <p class="nhsuk-card__description">last on {_shown(contact.at)}' in page
    assert f'>{_shown(contact.follow_up_on, "j M")}</p>\n    <p class="nhsuk-card__description">next planned' in page
    # The strip: day 17 and day 19 of a 91-day window, on a 1000-unit axis.
    assert '<circle cx="187" cy="30" r="9" class="lw-timeline__contact"/>' in page
    assert '<circle cx="209" cy="30" r="9" class="lw-timeline__attempt"/>' in page
    assert f"{_shown(attempt.at)} at {_shown(attempt.at, 'H:i')}: Phone <strong" in page
    assert f"recorded by {world.colleague.full_name}" in page
    assert f"{_shown(contact.at)} at 14:00: Phone</h3>" in page
    assert f"25 minutes · recorded by {world.link_worker.full_name}" in page
    assert "Talked about the garden" in page
    assert f"<strong>Next:</strong> Call the allotment society by {_shown(contact.follow_up_on)}" in page
    assert page.index(_shown(attempt.at) + " at") < page.index(_shown(contact.at) + " at 14:00")  # newest first
    assert "My garden" in page and "Patient" in page
    assert (
        f"Version 2, saved {_shown(today)} by {world.colleague.full_name}. "
        f"Next review {_shown(today + dt.timedelta(days=30))}."
    ) in page
    assert 'Get out twice a week<br><span class="nhsuk-body-s">Try the Wednesday walk (Nora)</span>' in page
    assert (
        f'<a href="{reverse("clients:connection", args=[connected.pk])}">Wednesday walk</a> '
        f"({walk.provider.name}): <strong>Referred or introduced</strong>"
    ) in page
    assert f'<a href="{reverse("clients:visit", args=[visiting.pk])}">checked in, not yet out</a>' in page
    assert f'<a href="{reverse("clients:visit", args=[planned.pk])}">planned</a>' in page
    assert f'<a href="{reverse("clients:client", args=[case.client.pk])}">Full record</a>' in page
    for name in ["contact_new", "visit_new", "what_matters", "plan_edit", "plan_history", "pause", "extend"]:
        assert f'href="{reverse(f"clients:{name}", args=[case.pk])}"' in page, name
    assert reverse("clients:reassign", args=[case.pk]) not in page  # for managers
    assert f'href="{reverse("referrals:detail", args=[referral.pk])}">Close the case' in page


def test_the_case_page_of_a_new_case_says_nothing_is_recorded(client, world: World, case) -> None:
    case.link_worker = None
    case.save()
    login(client, world.manager)
    page = client.get(reverse("clients:case", args=[case.pk])).text
    assert "with no one yet" in page
    assert "Contact 0 of 6–12" in page and "no contact yet" in page and "Not planned" in page
    assert "No contacts yet." in page and "<circle" not in page
    assert "Not recorded yet." in page and "No plan yet." in page and "None yet." in page
    assert "Home visits" not in page and "Close the case" not in page
    assert reverse("clients:reassign", args=[case.pk]) in page


# --- Query counts --------------------------------------------------------------------------------------------
def _count(client, url: str) -> int:
    forget_kept_access()  # counted as a user's first request in a process
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_case_page_query_count_does_not_grow_with_what_it_lists(client, world: World, case) -> None:
    login(client, world.link_worker)
    url = reverse("clients:case", args=[case.pk])
    factories.ContactFactory(case=case)
    small = _count(client, url)
    for n in range(25):
        factories.ContactFactory(case=case)
        walk = factories.CommunityServiceFactory(provider__service=world.service)
        services.connection_create(case=case, by=world.link_worker, service=walk)
        services.home_visit_schedule(case=case, by=world.link_worker, planned_start=at(n), expected_minutes=30)
        services.alert_raise(client=case.client, by=world.link_worker, kind="other", detail=f"Alert {n}")
        services.plan_save(
            case=case, by=world.link_worker, expected_version=n, review_on=None, goals=[{"goal": f"Goal {n}"}]
        )
    services.what_matters_save(case=case, by=world.link_worker, expected_version=0, what_matters="The garden")
    # user, two-factor device, memberships (a link worker's organisation is the service), the case with everything
    # its page lists, audit insert, unread notifications, wellbeing measures, and the session where Redis does
    # not hold it
    assert _count(client, url) == small <= 7 + SESSION_QUERIES


# --- Deprivation lookup -----------------------------------------------------------------------------------------
def test_load_deprivation_sets_deciles_and_refuses_bad_files(world: World, case, tmp_path) -> None:
    good = tmp_path / "imd.csv"
    good.write_text("postcode,lsoa_code,imd_decile\nLS1 4AP,E01011365,2\n")
    out = StringIO()
    call_command("load_deprivation", str(good), stdout=out)
    case.client.refresh_from_db()
    assert case.client.deprivation_decile == 2
    assert "updated 1 clients" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("postcode,lsoa_code,imd_decile\nLS1 4AP,E01011365,11\n")
    with pytest.raises(CommandError, match="Line 2"):
        call_command("load_deprivation", str(bad))


# The timeline's list and strip as the template loops wrote them, before case.py wrote them in Python.
OLD_CONTACT_LOOP = """{% for c in contacts %}
  <li class="nhsuk-u-margin-bottom-4">
    <h3 class="nhsuk-heading-s nhsuk-u-margin-bottom-1">{{ c.when }}: {{ c.method }}{% if c.attempted_only %} <strong class="nhsuk-tag nhsuk-tag--grey">Attempt, not counted</strong>{% endif %}</h3>
    <p class="nhsuk-body-s nhsuk-u-margin-bottom-1">{% if c.duration_minutes %}{{ c.duration_minutes }} minutes · {% endif %}recorded by {{ c.recorded_by }}</p>
    {% if c.notes %}<p>{{ c.notes|linebreaksbr }}</p>{% endif %}
    {% if c.next_step or c.follow_up_on %}<p><strong>Next:</strong> {{ c.next_step }}{% if c.follow_up %} by {{ c.follow_up }}{% endif %}</p>{% endif %}
  </li>
  {% empty %}
  <li>No contacts yet.</li>
  {% endfor %}"""  # noqa: E501
OLD_POINTS_LOOP = """{% for p in points %}<circle cx="{{ p.x }}" cy="30" r="9" class="{% if p.contact.attempted_only %}lw-timeline__attempt{% else %}lw-timeline__contact{% endif %}"/>{% endfor %}"""  # noqa: E501


def test_the_timeline_written_in_python_is_what_the_template_loops_wrote() -> None:
    from django.template import Context, Template

    from clients.views.case import contact_items_html, timeline_points_html

    def line(**fields) -> selectors.ContactLine:
        values = {
            "at": timezone.make_aware(dt.datetime(2026, 3, 5, 14, 5)),
            "method": "Phone",
            "attempted_only": False,
            "duration_minutes": 30,
            "notes": "",
            "next_step": "",
            "follow_up_on": None,
            "recorded_by": "Amira Khan",
        }
        return selectors.ContactLine(**(values | fields))

    contacts = [
        line(),
        line(attempted_only=True, duration_minutes=0, method="Text message"),
        line(notes="First line\nSecond <script>alert(1)</script>\r\nThird & last", recorded_by='O\'Brien "Jo"'),
        line(next_step="Call the <b>group</b>", follow_up_on=dt.date(2026, 3, 19)),
        line(follow_up_on=dt.date(2026, 4, 1)),
        line(next_step="Visit", duration_minutes=600),
    ]
    points = [
        selectors.TimelinePoint(c, day, percent) for c, day, percent in zip(contacts, [0, 3, 40], [0, 3.3, 44.44])
    ]

    def squeezed(html: str) -> str:
        return " ".join(html.split())

    for shown in (contacts, []):
        old = Template(OLD_CONTACT_LOOP).render(Context({"contacts": shown}))
        assert squeezed(contact_items_html(shown)) == squeezed(old)
    old_points = Template(OLD_POINTS_LOOP).render(Context({"points": points}))
    assert timeline_points_html(points) == old_points
    assert "<script>" not in contact_items_html(contacts) and "&lt;script&gt;" in contact_items_html(contacts)
