"""Benchmark data (``seed_demo --scale N``, issue #10): the numbers asked for, data that hangs together the way a
real service's does, and pages that work on it. Run at scale 0.01 (2,500 contacts) so it takes seconds; the
timings at scale 1 and 10 are measured by hand (README)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import nhs_number
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.urls import reverse
from django.utils import timezone

from clients.models import Case, CaseStatus, Client, Connection, Contact
from community.models import CommunityService, PostcodeArea, ServiceStatus
from linkwork.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from linkwork.audit.models import AuditEvent
from linkwork.notifications.models import Notification, Reminder
from outcomes.demo_scale import BENCH_DOMAIN, BENCHMARK, targets_for
from outcomes.models import Assessment
from referrals.models import Referral, ReferralStatus
from referrals.services import next_reference
from tests import factories
from tests.conftest import login

SCALE = 0.01


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", scale=SCALE, stdout=out, **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "services": Organisation.objects.filter(kind=OrganisationKind.SERVICE).count(),
        "link_workers": Membership.objects.filter(role=Role.LINK_WORKER).count(),
        "clients": Client.objects.count(),
        "cases": Case.objects.count(),
        "contacts": Contact.objects.count(),
        "assessments": Assessment.objects.count(),
        "community_services": CommunityService.objects.count(),
        "connections": Connection.objects.count(),
        "reminders": Reminder.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


def bench_user(prefix: str) -> User:
    return User.objects.get(email=f"{prefix}@{BENCH_DOMAIN}")


def test_the_scale_multiplies_the_benchmark_numbers() -> None:
    assert vars(targets_for(10)) == BENCHMARK
    one = targets_for(1)
    assert (one.services, one.link_workers, one.clients, one.cases, one.contacts) == (1, 30, 20_000, 25_000, 250_000)
    assert (one.assessments, one.community_services, one.connections, one.reminders, one.audit_events) == (
        40_000,
        500,
        30_000,
        3_000,
        200_000,
    )
    tiny = targets_for(SCALE)
    assert (tiny.services, tiny.link_workers, tiny.clients, tiny.contacts) == (
        1,
        2,
        200,
        2_500,
    )  # 2 link workers at least
    with pytest.raises(ValueError):
        targets_for(0)


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """Benchmark data made once for the read-only tests of the class, and rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = seed(seed=11)
        yield output
        transaction.set_rollback(True)


@pytest.mark.usefixtures("seeded")
class TestBenchmarkData:
    def test_it_makes_the_numbers_of_the_formula(self, db, seeded) -> None:
        assert counts() == vars(targets_for(SCALE))
        for table in ("Contact", "AuditEvent", "Client", "Case"):
            assert f" {table}" in seeded  # progress and timings per table
        assert f"linkworker1.s01@{BENCH_DOMAIN}" in seeded

    def test_every_contact_is_in_the_service_of_its_case_client_and_link_worker(self, db) -> None:
        service_of_worker = dict(
            Membership.objects.filter(role=Role.LINK_WORKER).values_list("user_id", "organisation_id")
        )
        rows = Contact.objects.values_list("recorded_by_id", "case__service_id", "case__client__service_id")
        assert rows
        for recorded_by, case_service, client_service in rows:
            assert case_service == client_service == service_of_worker[recorded_by]
        for worker, service in Case.objects.values_list("link_worker_id", "service_id"):
            assert service_of_worker[worker] == service

    def test_nhs_numbers_are_valid_test_numbers_one_per_person(self, db) -> None:
        numbers = list(Client.objects.values_list("nhs_number", flat=True))
        assert len(set(numbers)) == len(numbers)
        for number in [*numbers, *Referral.objects.values_list("nhs_number", flat=True)]:
            assert number.startswith("999") and nhs_number.is_valid(number), number

    def test_ten_years_of_mostly_closed_cases_and_a_tenth_open(self, db) -> None:
        today = timezone.localdate()
        cases = Case.objects.all()
        assert cases.filter(status__in=[CaseStatus.ACTIVE, CaseStatus.PAUSED]).count() == round(cases.count() / 10)
        assert cases.filter(status=CaseStatus.PAUSED).exists()
        assert not cases.filter(start_date__gt=today).exists()
        assert cases.order_by("start_date").first().start_date < today - dt.timedelta(days=365 * 8)
        assert not cases.filter(status=CaseStatus.CLOSED).filter(Q(closed_on__gt=today) | Q(closure_reason="")).exists()
        assert not cases.exclude(status=CaseStatus.PAUSED).filter(paused_on__isnull=False).exists()
        assert not Contact.objects.filter(at__gt=timezone.now()).exists()
        # Contacts fall within their case, from its start to its closure.
        assert not Contact.objects.filter(at__date__lt=F("case__start_date")).exists()
        assert not Contact.objects.filter(at__date__gt=F("case__closed_on")).exists()

    def test_open_cases_have_recent_contacts(self, db) -> None:
        today = timezone.localdate()
        active = (
            Case.objects.filter(status=CaseStatus.ACTIVE, start_date__lte=today - dt.timedelta(days=7))
            .annotate(last=Max("contacts__at", filter=Q(contacts__attempted_only=False)))
            .values_list("last", flat=True)
        )
        assert active and all(last is not None for last in active)
        ages = [(today - timezone.localtime(last).date()).days for last in active]
        assert max(ages) <= 45
        assert sum(age <= 14 for age in ages) >= 0.75 * len(ages)

    def test_every_case_came_from_a_referral_and_some_wait_for_triage(self, db) -> None:
        assert not Case.objects.annotate(n=Count("referrals")).exclude(n=1).exists()
        open_cases = Q(case__status__in=[CaseStatus.ACTIVE, CaseStatus.PAUSED])
        assert not Referral.objects.filter(open_cases).exclude(status=ReferralStatus.ACCEPTED).exists()
        assert (
            not Referral.objects.filter(case__status=CaseStatus.CLOSED).exclude(status=ReferralStatus.CLOSED).exists()
        )
        assert Referral.objects.filter(status=ReferralStatus.DECLINED, case=None).exists()
        assert Referral.objects.filter(status=ReferralStatus.NEW, case=None).exists()
        # References came from the sequence: the next one made by the app does not collide.
        number = int(next_reference().rsplit("-", 1)[1])
        assert number > max(int(r.rsplit("-", 1)[1]) for r in Referral.objects.values_list("reference", flat=True))

    def test_reminders_have_notifications_and_the_directory_has_places(self, db) -> None:
        assert Notification.objects.count() == Reminder.objects.count()
        assert Reminder.objects.filter(status="open").exists()
        services = CommunityService.objects.all()
        assert not services.filter(latitude__isnull=True).exists()
        assert (
            PostcodeArea.objects.filter(latitude__isnull=False).count()
            >= Client.objects.values("postcode").distinct().count() // 2
        )
        # The generated search vector is the database's own: text search finds services by name.
        name = services.filter(status=ServiceStatus.ACTIVE).first().name
        assert services.filter(search_vector=name.split()[0]).exists()

    def test_the_main_pages_work_on_it(self, db, client) -> None:
        worker = bench_user("linkworker1.s01")
        case = Case.objects.filter(link_worker=worker, status=CaseStatus.ACTIVE).select_related("client").first()
        login(client, worker)
        page = client.get(reverse("clients:caseload"))
        assert page.status_code == 200 and case.client.family_name in page.content.decode()
        page = client.get(reverse("clients:case", args=[case.pk]))
        assert page.status_code == 200 and case.client.given_name in page.content.decode()
        waiting = Referral.objects.filter(status=ReferralStatus.NEW).first()
        page = client.get(reverse("referrals:queue"))
        assert page.status_code == 200 and waiting.reference in page.content.decode()
        assert client.get(reverse("referrals:detail", args=[waiting.pk])).status_code == 200
        assert client.get(reverse("clients:client", args=[case.client_id])).status_code == 200
        assert client.get(reverse("notifications:inbox")).status_code == 200

        listed = (
            CommunityService.objects.filter(status=ServiceStatus.ACTIVE)
            .exclude(schedules=None)
            .prefetch_related("schedules")
            .first()
        )
        query = {
            "q": listed.name.split()[0],
            "categories": listed.categories[0],
            "day": listed.schedules.all()[0].byday[0],
            "postcode": case.client.postcode,
            "within_km": 50,
        }
        page = client.get(reverse("community:directory"), query)
        html = page.content.decode()
        assert page.status_code == 200 and listed.name in html and "km away" in html

        for who in ("supervisor1.s01", "manager1.s01"):
            login(client, bench_user(who))
            assert client.get(reverse("outcomes:dashboard")).status_code == 200
            assert client.get(reverse("outcomes:reports")).status_code == 200
        login(client, bench_user("commissioner1"))
        page = client.get(reverse("outcomes:reports"))
        assert page.status_code == 200

    def test_it_refuses_to_run_twice(self, db) -> None:
        before = Contact.objects.count()
        with pytest.raises(CommandError, match="already has benchmark data"):
            seed()
        assert Contact.objects.count() == before


def test_it_refuses_a_database_with_real_data_unless_forced(db) -> None:
    factories.ClientFactory()
    with pytest.raises(CommandError, match="--force"):
        seed()
    assert not User.objects.filter(email__endswith=BENCH_DOMAIN).exists()
    seed(force=True)
    assert Contact.objects.count() == targets_for(SCALE).contacts


def test_it_is_the_same_data_for_the_same_seed(db) -> None:
    def fingerprint() -> list[tuple]:
        return list(
            Client.objects.order_by("id").values_list("id", "given_name", "family_name", "nhs_number", "date_of_birth")
        ) + list(Case.objects.order_by("id").values_list("id", "start_date", "status").annotate(n=Count("contacts")))

    prints = []
    for _ in range(2):
        with transaction.atomic():
            seed(seed=5)
            prints.append(fingerprint())
            transaction.set_rollback(True)
    assert prints[0] == prints[1] and len(prints[0]) == 450
