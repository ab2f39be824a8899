"""People, organisations and the roles people hold in them."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from linkwork.by_pk import fetch_by_pk

DEFAULT_LINK_WORKER_TITLE = "Social prescribing link worker"


class OrganisationKind(models.TextChoices):
    SERVICE = "service", "Social prescribing service"
    PRACTICE = "practice", "GP practice"
    PCN = "pcn", "Primary care network"
    AGENCY = "agency", "Referring agency"
    COMMISSIONER = "commissioner", "Commissioner"


class AgencyType(models.TextChoices):
    COUNCIL = "council", "Council or social care"
    HOUSING = "housing", "Housing"
    VCSE = "vcse", "Voluntary or community organisation"
    PHARMACY = "pharmacy", "Pharmacy"
    HOSPITAL = "hospital", "Hospital or discharge team"
    POLICE_FIRE = "police_fire", "Police or fire service"
    JOBCENTRE = "jobcentre", "Jobcentre"
    OTHER = "other", "Other"


ods_code_validator = RegexValidator(r"^[A-Z0-9]{3,6}$", "Enter an ODS code of 3 to 6 capital letters and digits")


class Organisation(models.Model):
    """Any organisation in a deployment. A *service* employs link workers and owns its clients' data;
    practices, agencies and commissioners are linked to the services they refer to or commission."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    ods_code = models.CharField(
        "ODS code", max_length=6, blank=True, validators=[ods_code_validator], help_text="For example A81001"
    )
    agency_type = models.CharField(max_length=20, choices=AgencyType.choices, blank=True)
    pcn = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="member_practices",
        limit_choices_to={"kind": OrganisationKind.PCN},
        verbose_name="primary care network",
    )
    services = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="partners",
        limit_choices_to={"kind": OrganisationKind.SERVICE},
        help_text="The social prescribing services this organisation refers to, belongs to or commissions.",
    )
    link_worker_title = models.CharField(
        max_length=60,
        default=DEFAULT_LINK_WORKER_TITLE,
        help_text="What link workers are called locally, e.g. community connector or wellbeing advisor.",
    )
    support_window_weeks = models.PositiveSmallIntegerField(
        default=13, help_text="Length of a case's support window (about three months by default)."
    )
    self_referral_enabled = models.BooleanField(
        default=True, help_text="Show a public self-referral form for this service."
    )
    triage_alert_working_days = models.PositiveSmallIntegerField(
        default=2, help_text="Highlight referrals waiting for triage longer than this many working days."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ods_code"], condition=~models.Q(ods_code=""), name="organisation_ods_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_service(self) -> bool:
        return self.kind == OrganisationKind.SERVICE


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)

    def get(self, *args: Any, **kwargs: Any) -> User:
        """As QuerySet.get; by primary key alone (how ``ModelBackend.get_user`` reads the user of every signed-in
        request), with the SQL compiled once a process (linkwork.by_pk)."""
        if not args and len(kwargs) == 1 and isinstance(kwargs.get("pk", kwargs.get("id")), uuid.UUID | str):
            return fetch_by_pk(self.model, next(iter(kwargs.values())), using=self.db)
        return super().get(*args, **kwargs)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the Django admin site.")
    date_joined = models.DateTimeField(default=timezone.now)
    session_generation = models.UUIDField(
        default=uuid.uuid4,
        editable=False,
        help_text="Changing it signs the user out of every session (sign out everywhere, deactivation, 2FA reset).",
    )
    access_version = models.BigIntegerField(
        default=0,
        editable=False,
        help_text="Changed by PostgreSQL whenever the user's memberships or organisations change "
        "(migration accounts 0005): what a process keeps of the user's access is keyed on it.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ci")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Sessions carry this hash; it changes with the password *or* the session generation, so rotating the
        generation ends every session the user has, on every device (Django checks it on each request)."""
        return salted_hmac(
            "linkwork.accounts.User.session_auth_hash",
            f"{self.password}|{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def sign_out_everywhere(self) -> None:
        self.session_generation = uuid.uuid4()
        self.save(update_fields=["session_generation"])

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.TextChoices):
    LINK_WORKER = "link_worker", "Link worker"
    REFERRER = "referrer", "Referrer"
    SUPERVISOR = "supervisor", "Supervisor"
    SERVICE_MANAGER = "service_manager", "Service manager"
    COMMISSIONER = "commissioner", "Commissioner"
    SITE_ADMIN = "site_admin", "Site admin"


# Which kinds of organisation each role may be held in.
ROLE_ORGANISATION_KINDS: dict[str, set[str]] = {
    Role.LINK_WORKER: {OrganisationKind.SERVICE},
    Role.SUPERVISOR: {OrganisationKind.SERVICE},
    Role.SERVICE_MANAGER: {OrganisationKind.SERVICE},
    Role.REFERRER: {OrganisationKind.PRACTICE, OrganisationKind.AGENCY, OrganisationKind.PCN},
    Role.COMMISSIONER: {OrganisationKind.COMMISSIONER},
    Role.SITE_ADMIN: set(OrganisationKind.values),
}


class Membership(models.Model):
    """A role a user holds in one organisation. A user may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organisation}"

    @property
    def role_label(self) -> str:
        """The role as people there say it: a link worker carries the service's local title."""
        if self.role == Role.LINK_WORKER:
            return self.organisation.link_worker_title
        return self.get_role_display()

    def clean(self) -> None:
        if self.organisation_id and self.organisation.kind not in ROLE_ORGANISATION_KINDS[self.role]:
            raise ValidationError(
                {
                    "role": f"A {self.get_role_display().lower()} cannot belong to a "
                    f"{self.organisation.get_kind_display().lower()}."
                }
            )


class ApiClient(models.Model):
    """A GP system or other organisation's system that sends referrals through the FHIR API.

    It holds one key, scoped to one referring organisation and one service: it can send that organisation's
    referrals to that service and read back only what it sent. Only a SHA-256 digest of the key is stored (the
    key is 256 random bits, so a fast digest is enough; nothing to salt or stretch); the key itself is shown
    once, when it is made. Revoking is immediate and permanent; a new key is a new client."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=150, help_text="The system, for example 'EMIS at Riverside Surgery'")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="api_clients")
    service = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    prefix = models.CharField(max_length=16, help_text="The start of the key, to recognise it by")
    key_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey("User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey("User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["organisation__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
