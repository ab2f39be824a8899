"""factory_boy factories, with state-named subclasses."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from clients.models import Case, CaseStatus, Client, Contact, ContactMethod
from community.models import CommunityService, Provider
from linkwork.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from linkwork.nhs import synthetic_nhs_number
from referrals.models import Referral, ReferralStatus
from referrals.services import next_reference

PASSWORD = "correct-horse-battery-staple"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Social Prescribing Service {n}")
    kind = OrganisationKind.SERVICE


class PracticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Practice {n}")
    kind = OrganisationKind.PRACTICE
    ods_code = factory.Sequence(lambda n: f"Z{n:05d}")

    @factory.post_generation
    def services(self, create: bool, extracted: list[Organisation] | None, **kwargs: object) -> None:
        if create and extracted:
            self.services.add(*extracted)


class AgencyFactory(PracticeFactory):
    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = OrganisationKind.AGENCY
    ods_code = ""


class CommissionerOrgFactory(PracticeFactory):
    name = factory.Sequence(lambda n: f"Integrated Care Board {n}")
    kind = OrganisationKind.COMMISSIONER
    ods_code = ""


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.nhs.uk")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(ServiceFactory)
    role = Role.LINK_WORKER


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    service = factory.SubFactory(ServiceFactory)
    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = dt.date(1960, 5, 17)
    nhs_number = factory.LazyFunction(synthetic_nhs_number)
    postcode = "LS1 4AP"


class ActiveCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    client = factory.SubFactory(ClientFactory)
    service = factory.SelfAttribute("client.service")
    link_worker = None
    status = CaseStatus.ACTIVE
    start_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=20))
    window_end = factory.LazyAttribute(lambda o: o.start_date + dt.timedelta(weeks=13))


class PausedCaseFactory(ActiveCaseFactory):
    status = CaseStatus.PAUSED


class ClosedCaseFactory(ActiveCaseFactory):
    status = CaseStatus.CLOSED
    closed_on = factory.LazyFunction(timezone.localdate)
    closure_reason = "goals_met"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    case = factory.SubFactory(ActiveCaseFactory)
    at = factory.LazyFunction(timezone.now)
    method = ContactMethod.PHONE
    duration_minutes = 30
    recorded_by = factory.SelfAttribute("case.link_worker")


class NewReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    reference = factory.LazyFunction(next_reference)
    service = factory.SubFactory(ServiceFactory)
    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = dt.date(1950, 1, 2)
    nhs_number = factory.LazyFunction(synthetic_nhs_number)
    postcode = "LS1 4AP"
    reasons = factory.LazyFunction(lambda: ["loneliness"])
    consent_given = True
    status = ReferralStatus.NEW
    received_at = factory.LazyFunction(timezone.now)


class AcceptedReferralFactory(NewReferralFactory):
    status = ReferralStatus.ACCEPTED
    decided_at = factory.LazyFunction(timezone.now)
    snomed_code = "871731000000106"
    case = factory.SubFactory(
        ActiveCaseFactory,
        client__service=factory.SelfAttribute("...service"),
        client__given_name=factory.SelfAttribute("...given_name"),
        client__family_name=factory.SelfAttribute("...family_name"),
    )


class DeclinedReferralFactory(NewReferralFactory):
    status = ReferralStatus.DECLINED
    decided_at = factory.LazyFunction(timezone.now)
    decline_reason = "not_eligible"
    snomed_code = "871711000000103"


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Community group {n}")


class CommunityServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommunityService

    provider = factory.SubFactory(ProviderFactory)
    name = factory.Sequence(lambda n: f"Activity {n}")
    categories = factory.LazyFunction(lambda: ["befriending"])
    description = "A friendly group."
    safeguarding_policy_seen = True
    insurance_seen = True
    dbs_check = "done"
    last_checked_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))


class UncheckedServiceFactory(CommunityServiceFactory):
    safeguarding_policy_seen = False
    insurance_seen = False
    dbs_check = "missing"
    last_checked_on = None
