"""Coded events for the GP record: which SNOMED CT codes a practice is to record, for whom, with what text, and
the pages where practice staff see them, download them and mark them recorded."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import ShareWithGP
from linkwork.accounts.access import forget_kept_access
from linkwork.accounts.models import Organisation, Role
from linkwork.audit.models import Action, AuditEvent
from linkwork.nhs import synthetic_nhs_number
from referrals import coded_event_services, services
from referrals.coded_events import CodedEvent, coded_events
from referrals.models import SNOMED_DECLINED, SNOMED_REFERRED, Channel, GPRecording, Referral
from tests import factories
from tests.conftest import World, login

LIST = reverse("referrals:coded_events")
CSV = reverse("referrals:coded_events_csv")


# --- Making referrals the way the service does -----------------------------------------------------------------
def refer(world: World, *, practice: Organisation | None = None, by: Any = None, **person: Any) -> Referral:
    data = {
        "given_name": "Nora",
        "family_name": "Jones",
        "date_of_birth": dt.date(1950, 1, 2),
        "nhs_number": synthetic_nhs_number(),
        "reasons": ["loneliness"],
        "consent_given": True,
        **person,
    }
    referral, _ = services.referral_submit(
        service=world.service,
        data=data,
        channel=Channel.STAFF,
        idempotency_key=uuid.uuid4(),
        referred_by=by or world.referrer,
        source_organisation=practice or world.practice,
    )
    return referral


def accept(world: World, referral: Referral, *, share: str = ShareWithGP.CODES) -> Referral:
    case = services.referral_accept(referral=referral, by=world.manager, assignee=world.link_worker)
    case.client.share_with_gp = share
    case.client.save(update_fields=["share_with_gp"])
    referral.refresh_from_db()
    return referral


def close(world: World, referral: Referral, summary: str = "Joined the Tuesday walking group") -> Referral:
    return services.referral_close(referral=referral, by=world.link_worker, reason="goals_met", summary=summary)


def decline(world: World, referral: Referral, reason: str = "person_declined") -> Referral:
    return services.referral_decline(referral=referral, by=world.link_worker, reason=reason)


def events_of(world: World, **kwargs: Any) -> list[CodedEvent]:
    return coded_events(practice_ids=[world.practice.pk], **kwargs)


def at(day: str) -> Any:
    """Travel to noon UK time on ``day`` (YYYY-MM-DD)."""
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T12:00:00+00:00"), tick=False)


# --- What is listed ----------------------------------------------------------------------------------------------
def test_it_codes_an_accepted_referral_once_and_a_person_declining(world: World) -> None:
    with at("2026-03-02"):
        accepted = accept(world, refer(world, nhs_number="9990000018"))
    with at("2026-03-05"):
        declined = decline(world, refer(world, given_name="Dina", nhs_number="9990000026"))
    with at("2026-03-09"):
        close(world, accepted)  # closing adds no second event: still the one accepted code, dated when accepted

    found = events_of(world)

    assert [(e.reference, e.code, e.event_date) for e in found] == [
        (accepted.reference, SNOMED_REFERRED, dt.date(2026, 3, 2)),
        (declined.reference, SNOMED_DECLINED, dt.date(2026, 3, 5)),
    ]
    first = found[0]
    assert first.display == "Referral to social prescribing service"
    assert found[1].display == "Social prescribing declined"
    assert (first.nhs_number, first.given_name, first.family_name) == ("9990000018", "Nora", "Jones")
    assert first.date_of_birth == dt.date(1950, 1, 2)
    assert (first.practice_id, first.practice_name) == (world.practice.pk, "Riverside Surgery")
    assert first.practice_ods_code == world.practice.ods_code
    assert not first.recorded and first.recorded_at is None


@pytest.mark.parametrize("reason", ["not_eligible", "statutory", "no_contact", "duplicate"])
def test_a_referral_the_service_declined_is_not_the_person_declining(world: World, reason: str) -> None:
    decline(world, refer(world), reason=reason)
    assert events_of(world) == []


def test_new_referrals_and_other_organisations_referrals_are_not_listed(world: World) -> None:
    refer(world)  # waiting for triage
    other_practice = factories.PracticeFactory(name="Hilltop Surgery", services=[world.service])
    accept(world, refer(world, practice=other_practice, nhs_number="9990000026"))
    accept(world, refer(world, practice=world.agency, by=world.agency_referrer, nhs_number="9990000034"))

    assert events_of(world) == []
    assert [e.practice_name for e in coded_events(practice_ids=[other_practice.pk])] == ["Hilltop Surgery"]
    # An agency's referrals never reach a GP record, even if asked for by id.
    assert coded_events(practice_ids=[world.agency.pk]) == []


def test_a_second_referral_merged_into_the_same_episode_is_not_coded_again(world: World) -> None:
    first = accept(world, refer(world))
    second = refer(world)
    services.referral_accept(referral=second, by=world.manager, assignee=None, into_case=first.case)

    assert [e.reference for e in events_of(world)] == [first.reference]


def test_a_new_episode_is_coded_again(world: World) -> None:
    with at("2026-01-05"):
        first = close(world, accept(world, refer(world)))
    with at("2026-06-01"):
        again = accept(world, refer(world))

    assert [e.reference for e in events_of(world)] == [first.reference, again.reference]


def test_the_nhs_number_found_by_the_service_fills_a_gap(world: World) -> None:
    referral = accept(world, refer(world, nhs_number=""))
    referral.case.client.nhs_number = "9990000018"
    referral.case.client.save(update_fields=["nhs_number"])

    assert events_of(world)[0].nhs_number == "9990000018"


def test_since_leaves_out_earlier_events(world: World) -> None:
    with at("2026-03-02"):
        accept(world, refer(world))
    with at("2026-04-10"):
        later = decline(world, refer(world, given_name="Dina"))

    assert [e.reference for e in events_of(world, since=dt.date(2026, 4, 1))] == [later.reference]
    since = dt.datetime(2026, 4, 10, 12, 0, 1, tzinfo=dt.UTC)
    assert events_of(world, since=since) == []


def test_an_anonymised_person_is_not_listed(world: World) -> None:
    referral = accept(world, refer(world))
    referral.case.client.anonymised_at = timezone.now()
    referral.case.client.save(update_fields=["anonymised_at"])

    assert events_of(world) == []


# --- The person's choice about what goes to their GP ------------------------------------------------------------
@pytest.mark.parametrize(
    ("share", "closed", "summary"),
    [
        (ShareWithGP.SUMMARY, True, "Joined the Tuesday walking group"),
        (ShareWithGP.SUMMARY, False, ""),  # support not finished: nothing to summarise yet
        (ShareWithGP.CODES, True, ""),
        (ShareWithGP.NONE, True, ""),  # the code is the outcome: still listed, with no text
    ],
)
def test_the_summary_goes_only_with_consent_and_a_closed_case(world: World, share: str, closed: bool, summary) -> None:
    referral = accept(world, refer(world), share=share)
    if closed:
        close(world, referral)

    (event,) = events_of(world)

    assert event.code == SNOMED_REFERRED
    assert event.summary == summary


def test_a_summary_not_shared_never_reaches_the_page_or_the_file(client, world: World) -> None:
    referral = accept(world, refer(world, nhs_number="9990000018"), share=ShareWithGP.CODES)
    close(world, referral, summary="Private: debts and a bereavement")
    login(client, world.referrer)

    page = client.get(LIST).content.decode()
    download = client.get(CSV).content.decode()

    assert "999 000 0018" in page and "Private" not in page
    assert "9990000018" in download and "Private" not in download


# --- The page --------------------------------------------------------------------------------------------------
def test_the_page_lists_what_to_record(client, world: World) -> None:
    with at("2026-03-02"):
        close(world, accept(world, refer(world, nhs_number="9990000018"), share=ShareWithGP.SUMMARY))
    login(client, world.referrer)

    response = client.get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Coded events for the GP record" in page
    assert "2 March 2026" in page  # the event date
    assert "999 000 0018" in page  # NHS number shown 3 3 4
    assert "Nora Jones" in page
    assert "2 January 1950" in page
    assert SNOMED_REFERRED in page and "Referral to social prescribing service" in page
    assert "Joined the Tuesday walking group" in page
    assert "Downloading does not mark the events as recorded" in page


def test_stored_text_is_shown_escaped(client, world: World) -> None:
    close(world, accept(world, refer(world, family_name="<script>alert(1)</script>"), share=ShareWithGP.SUMMARY))
    login(client, world.referrer)

    page = client.get(LIST).content.decode()

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page


def test_the_home_page_of_practice_staff_links_to_it(client, world: World) -> None:
    login(client, world.referrer)
    assert LIST in client.get(reverse("referrals:mine")).content.decode()
    client.logout()
    login(client, world.agency_referrer)
    assert LIST not in client.get(reverse("referrals:mine")).content.decode()


def test_viewing_is_audited_for_each_person_shown(client, world: World) -> None:
    referral = accept(world, refer(world))
    login(client, world.referrer)

    client.get(LIST)

    summary = AuditEvent.objects.get(object_type="referrals.coded_events")
    assert (summary.action, summary.actor) == (Action.VIEW, world.referrer)
    per_person = AuditEvent.objects.get(object_type="referrals.referral", object_id=str(referral.pk))
    assert per_person.action == Action.VIEW


def test_a_member_of_several_practices_can_choose_one(client, world: World) -> None:
    hilltop = factories.PracticeFactory(name="Hilltop Surgery", services=[world.service])
    factories.MembershipFactory(user=world.referrer, organisation=hilltop, role=Role.REFERRER)
    accept(world, refer(world, given_name="Nora"))
    accept(world, refer(world, practice=hilltop, given_name="Harry", nhs_number="9990000026"))
    login(client, world.referrer)

    both = client.get(LIST).content.decode()
    one = client.get(LIST, {"practice": hilltop.pk}).content.decode()

    assert "Nora Jones" in both and "Harry Jones" in both and "All your practices" in both
    assert "Harry Jones" in one and "Nora Jones" not in one


def test_a_practice_that_is_not_yours_is_not_found(client, world: World) -> None:
    other = factories.PracticeFactory(name="Hilltop Surgery", services=[world.service])
    login(client, world.referrer)

    assert client.get(LIST, {"practice": other.pk}).status_code == 404
    assert client.get(CSV, {"practice": other.pk}).status_code == 404
    assert client.get(LIST, {"practice": "not-a-uuid"}).status_code == 404


# --- Marking events recorded -----------------------------------------------------------------------------------
def test_marking_events_recorded_takes_them_off_the_list(client, world: World) -> None:
    accepted = accept(world, refer(world))
    declined = decline(world, refer(world, given_name="Dina", nhs_number="9990000026"))
    waiting = accept(world, refer(world, given_name="Wanda", nhs_number="9990000034"))
    login(client, world.referrer)

    response = client.post(LIST, {"referral": [accepted.pk, declined.pk]}, follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "2 events marked as recorded in the GP record" in page
    assert "Wanda Jones" in page and "Dina Jones" not in page
    recorded = {(r.referral_id, r.code, r.recorded_by_id) for r in GPRecording.objects.all()}
    assert recorded == {
        (accepted.pk, SNOMED_REFERRED, world.referrer.pk),
        (declined.pk, SNOMED_DECLINED, world.referrer.pk),
    }
    assert [e.reference for e in events_of(world)] == [waiting.reference]
    everything = client.get(LIST, {"show": "all"}).content.decode()
    assert "Dina Jones" in everything and "Recorded" in everything and world.referrer.full_name in everything


def test_a_double_submission_is_harmless(client, world: World) -> None:
    referral = accept(world, refer(world))
    login(client, world.referrer)

    client.post(LIST, {"referral": [referral.pk]})
    response = client.post(LIST, {"referral": [referral.pk]}, follow=True)

    assert response.status_code == 200
    assert "already marked as recorded" in response.content.decode()
    assert GPRecording.objects.count() == 1


def test_nothing_ticked_is_a_clear_error(client, world: World) -> None:
    accept(world, refer(world))
    login(client, world.referrer)

    response = client.post(LIST, {})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Select the events you have recorded in the GP record" in page
    assert "Nora Jones" in page  # the list is still there to tick
    assert not GPRecording.objects.exists()


def test_another_practices_event_cannot_be_marked_and_nothing_is_half_done(client, world: World) -> None:
    ours = accept(world, refer(world))
    hilltop = factories.PracticeFactory(name="Hilltop Surgery", services=[world.service])
    theirs = accept(world, refer(world, practice=hilltop, given_name="Harry", nhs_number="9990000026"))
    login(client, world.referrer)

    response = client.post(f"{LIST}?show=all", {"referral": [ours.pk, theirs.pk]})

    assert response.status_code == 400
    page = response.content.decode()
    assert "not an event for your practice" in page and "nothing was marked" in page
    assert "Harry Jones" not in page
    assert f'value="{ours.pk}" checked' in page  # what was ticked stays ticked
    assert not GPRecording.objects.exists()


def test_a_malformed_id_is_refused(client, world: World) -> None:
    accept(world, refer(world))
    login(client, world.referrer)

    response = client.post(LIST, {"referral": ["1 OR 1=1"]})

    assert response.status_code == 400
    assert "were not recognised" in response.content.decode()
    assert not GPRecording.objects.exists()


def test_marking_is_audited_for_each_person(client, world: World) -> None:
    referral = accept(world, refer(world))
    login(client, world.referrer)

    client.post(LIST, {"referral": [referral.pk]})

    assert AuditEvent.objects.filter(
        action=Action.UPDATE, object_type="referrals.referral", object_id=str(referral.pk), actor=world.referrer
    ).exists()
    assert AuditEvent.objects.filter(action=Action.UPDATE, object_type="referrals.coded_events").exists()


def test_the_service_marks_only_the_practices_own_events(world: World) -> None:
    ours = accept(world, refer(world))
    new = refer(world, given_name="Nina")
    hilltop = factories.PracticeFactory(services=[world.service])
    theirs = accept(world, refer(world, practice=hilltop))

    for wanted in ([ours.pk, theirs.pk], [new.pk], [uuid.uuid4()], []):
        with pytest.raises(ValidationError):
            coded_event_services.gp_recording_mark(
                referral_ids=wanted, practice_ids=[world.practice.pk], by=world.referrer
            )
    assert not GPRecording.objects.exists()
    with pytest.raises(ValidationError):  # the code given must be the event's
        coded_event_services.gp_recording_mark(
            referral_ids=[ours.pk], practice_ids=[world.practice.pk], by=world.referrer, code=SNOMED_DECLINED
        )

    marked = coded_event_services.gp_recording_mark(
        referral_ids=[ours.pk], practice_ids=[world.practice.pk], by=world.referrer, code=SNOMED_REFERRED
    )
    again = coded_event_services.gp_recording_mark(
        referral_ids=[ours.pk], practice_ids=[world.practice.pk], by=world.referrer
    )

    assert (marked, again) == (1, 0)
    (event,) = events_of(world, pending_only=False)
    assert event.recorded and event.recorded_by == world.referrer.full_name


# --- The download ----------------------------------------------------------------------------------------------
def read_csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_download_is_ready_for_a_bulk_import(client, world: World) -> None:
    with at("2026-03-02"):
        referral = accept(world, refer(world, nhs_number="9990000018"), share=ShareWithGP.SUMMARY)
        accepted = close(world, referral, summary="Walks\nweekly")
    with at("2026-03-05"):
        declined = decline(world, refer(world, given_name="Dina", nhs_number="9990000026"))
    login(client, world.referrer)

    response = client.get(CSV)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="coded-events-{world.practice.ods_code}-')
    header, *rows = read_csv(response)
    assert header[:5] == ["NHS number", "Event date", "SNOMED CT concept ID", "Term", "Free text"]
    assert rows == [
        [
            "9990000018",
            "2026-03-02",
            SNOMED_REFERRED,
            "Referral to social prescribing service",
            "Walks weekly",
            "1950-01-02",
            "Jones",
            "Nora",
            world.practice.ods_code,
            accepted.reference,
        ],
        [
            "9990000026",
            "2026-03-05",
            SNOMED_DECLINED,
            "Social prescribing declined",
            "",
            "1950-01-02",
            "Jones",
            "Dina",
            world.practice.ods_code,
            declined.reference,
        ],
    ]


def test_downloading_marks_nothing_and_is_audited(client, world: World) -> None:
    referral = accept(world, refer(world))
    login(client, world.referrer)

    client.get(CSV)

    assert not GPRecording.objects.exists()
    assert [e.reference for e in events_of(world)] == [referral.reference]
    assert AuditEvent.objects.filter(action=Action.EXPORT, object_type="referrals.coded_events").exists()
    assert AuditEvent.objects.filter(action=Action.EXPORT, object_id=str(referral.pk)).exists()


def test_recorded_events_are_not_downloaded_again(client, world: World) -> None:
    referral = accept(world, refer(world))
    login(client, world.referrer)
    client.post(LIST, {"referral": [referral.pk]})

    _, *rows = read_csv(client.get(CSV))

    assert rows == []


def test_the_download_is_formula_safe(client, world: World) -> None:
    referral = accept(world, refer(world, given_name="=1+1", family_name="@SUM(A1)"), share=ShareWithGP.SUMMARY)
    close(world, referral, summary='=HYPERLINK("http://example.com")')
    login(client, world.referrer)

    _, row = read_csv(client.get(CSV))

    assert row[4] == '\'=HYPERLINK("http://example.com")'
    assert row[6:8] == ["'@SUM(A1)", "'=1+1"]


# --- Who may --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "persona", ["link_worker", "supervisor", "manager", "commissioner", "agency_referrer", "admin", "nobody"]
)
def test_only_practice_staff_may(client, world: World, persona: str) -> None:
    referral = accept(world, refer(world))
    login(client, getattr(world, persona))

    assert client.get(LIST).status_code == 403
    assert client.get(CSV).status_code == 403
    assert client.post(LIST, {"referral": [referral.pk]}).status_code == 403
    assert not GPRecording.objects.exists()


def test_signed_out_people_are_sent_to_sign_in(client, world: World) -> None:
    referral = accept(world, refer(world))
    login_url = reverse("accounts:login")

    for response in (client.get(LIST), client.get(CSV), client.post(LIST, {"referral": [referral.pk]})):
        assert response.status_code == 302
        assert response["Location"].startswith(f"{login_url}?next=")
    assert not GPRecording.objects.exists()


def test_another_practices_staff_see_nothing_of_ours(client, world: World) -> None:
    referral = accept(world, refer(world))
    hilltop = factories.PracticeFactory(name="Hilltop Surgery", services=[world.service])
    hilltop_receptionist = factories.UserFactory(email="hilltop@example.nhs.uk")
    factories.MembershipFactory(user=hilltop_receptionist, organisation=hilltop, role=Role.REFERRER)
    login(client, hilltop_receptionist)

    page = client.get(LIST).content.decode()
    _, *rows = read_csv(client.get(CSV))
    marked = client.post(LIST, {"referral": [referral.pk]})

    assert "Nora Jones" not in page and "Nothing is waiting to be recorded" in page
    assert rows == []
    assert marked.status_code == 400
    assert not GPRecording.objects.exists()


# --- Queries --------------------------------------------------------------------------------------------------
def test_the_selector_is_one_query_however_many_events(world: World, django_assert_num_queries) -> None:
    for n in range(3):
        close(world, accept(world, refer(world, given_name=f"N{n}"), share=ShareWithGP.SUMMARY))
        decline(world, refer(world, given_name=f"D{n}"))
    with django_assert_num_queries(1):
        assert len(events_of(world, pending_only=False)) == 6


def _queries_for_list(client: Any) -> int:

    forget_kept_access()  # counted as a user's first request in a process
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    return len(queries)


def test_the_page_query_count_does_not_grow_with_events(client, world: World) -> None:
    """Session, user, two-factor device, memberships (2), count, the page of events, two audit inserts, ...: the
    same at one event as at eight."""
    login(client, world.referrer)
    accept(world, refer(world, given_name="First"))
    one = _queries_for_list(client)
    for n in range(7):
        referral = accept(world, refer(world, given_name=f"More{n}"), share=ShareWithGP.SUMMARY)
        if n % 2:
            close(world, referral)
    decline(world, refer(world, given_name="Declined"))

    assert _queries_for_list(client) == one
