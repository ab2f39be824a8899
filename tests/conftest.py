"""Personas for every role, on real PostgreSQL.

`service` is "our" social prescribing service; `other_service` is another service in the same
deployment, whose data our people must never reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from linkwork.accounts.models import Organisation, Role, User
from tests import factories


@pytest.fixture(autouse=True)
def _cache_per_test_process(settings):
    """A local-memory cache per test process: rate-limit counters of parallel test processes (pytest-xdist)
    must not add up in the one Redis, and clearing it must not wipe another process's keys."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> None:
    # Each PBKDF2 login costs about a second; tests do not need the real cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    service: Organisation
    other_service: Organisation
    practice: Organisation
    agency: Organisation
    commissioner_org: Organisation
    link_worker: User
    colleague: User
    other_link_worker: User
    referrer: User
    agency_referrer: User
    supervisor: User
    manager: User
    commissioner: User
    admin: User
    nobody: User


def _person(email: str, name: str, org: Organisation | None, role: str | None) -> User:
    user = factories.UserFactory(email=email, full_name=name)
    if org is not None and role is not None:
        factories.MembershipFactory(user=user, organisation=org, role=role)
    return user


@pytest.fixture
def world(db: None) -> World:
    service = factories.ServiceFactory(name="Riverside Social Prescribing", link_worker_title="Community connector")
    other = factories.ServiceFactory(name="Hillside Social Prescribing")
    practice = factories.PracticeFactory(name="Riverside Surgery", services=[service])
    agency = factories.AgencyFactory(name="Riverside Housing", services=[service])
    commissioner_org = factories.CommissionerOrgFactory(name="Riverside ICB", services=[service])
    return World(
        service=service,
        other_service=other,
        practice=practice,
        agency=agency,
        commissioner_org=commissioner_org,
        link_worker=_person("lw@example.nhs.uk", "Amira Khan", service, Role.LINK_WORKER),
        colleague=_person("colleague@example.nhs.uk", "Tom Evans", service, Role.LINK_WORKER),
        other_link_worker=_person("other@example.nhs.uk", "Olive Other", other, Role.LINK_WORKER),
        referrer=_person("reception@example.nhs.uk", "Sally Brown", practice, Role.REFERRER),
        agency_referrer=_person("agency@example.org", "Dev Patel", agency, Role.REFERRER),
        supervisor=_person("gp@example.nhs.uk", "Dr Helen O'Neill", service, Role.SUPERVISOR),
        manager=_person("manager@example.nhs.uk", "Grace Okafor", service, Role.SERVICE_MANAGER),
        commissioner=_person("icb@example.nhs.uk", "Peter Lewis", commissioner_org, Role.COMMISSIONER),
        admin=_person("admin@example.nhs.uk", "Sam Admin", service, Role.SITE_ADMIN),
        nobody=_person("nobody@example.nhs.uk", "No Role", None, None),
    )


PERSONAS = [
    "link_worker",
    "other_link_worker",
    "referrer",
    "agency_referrer",
    "supervisor",
    "manager",
    "commissioner",
    "admin",
    "nobody",
]


def login(client: HttpClient, user: User) -> HttpClient:
    # Name the backend: django-axes's own backend comes first and cannot restore a user from a session.
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def eager_celery():
    """Run queued tasks in-process, straight away (the real worker is tested in test_celery.py)."""
    from linkwork.celery import app

    app.conf.task_always_eager = True
    try:
        yield app
    finally:
        app.conf.task_always_eager = False
