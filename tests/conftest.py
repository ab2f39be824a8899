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

# Sessions are read from Redis when it is configured (cached_db) and from PostgreSQL otherwise (make test on a
# bare machine): a page's query count holds this many session reads.
SESSION_QUERIES = 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1


@pytest.fixture(autouse=True)
def _cache_per_test_process(settings):
    """A local-memory cache per test process: rate-limit counters of parallel test processes (pytest-xdist)
    must not add up in the one Redis, and clearing it must not wipe another process's keys."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _data_versions_at_each_statement(request, _django_db_helper):
    """The data-version triggers (outcomes migration 0004) fire at commit, and a test's transaction is rolled
    back, never committed: inside a test they fire at each statement instead, as a committed write would."""
    from django.db import connection

    if not _uses_the_database(request):
        # A run of tests none of which asks for the database (one such file on its own) makes no test database,
        # and the connection is still the one DATABASE_URL names: nothing here may touch it.
        return
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS linkwork_data_version IMMEDIATE")


DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}


def _uses_the_database(request) -> bool:
    return request.node.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES.intersection(request.fixturenames)
    )


def close_connections_to_the_test_databases() -> None:
    """Close every connection this process holds to a test database, so that dropping it cannot fail.

    Django closes only the default alias's connection before it drops the test database. The ``replica`` alias is
    a test mirror of default with a connection of its own, which stays open after a test that used it unless a
    later transactional test closes every connection; with pytest-xdist, whether one does depends on how the tests
    were shared out. So now and then a worker's DROP DATABASE failed ("being accessed by other users"), which
    pytest-django reports as a warning, leaving the database behind. A diagnostic run also once found a second
    wrapper of the default alias, no longer in ``connections``, with its connection open: every wrapper object
    still holding one to a test database is closed too, whichever thread made it."""
    import gc

    from django.db import connections
    from django.db.backends.base.base import BaseDatabaseWrapper

    connections.close_all()
    test_databases = {connections[alias].settings_dict["NAME"] for alias in connections}
    # type(), not isinstance(): isinstance() would evaluate the lazy objects in gc's list (request.csp_nonce...).
    for wrapper in gc.get_objects():
        if not issubclass(type(wrapper), BaseDatabaseWrapper) or wrapper.connection is None:
            continue
        if wrapper.settings_dict.get("NAME") in test_databases:
            wrapper.connection.close()  # the driver's own close: the wrapper may belong to a finished thread


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's, whose teardown drops the test databases, with this process's connections to them closed
    first (``close_connections_to_the_test_databases``)."""
    yield
    close_connections_to_the_test_databases()


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


def make_world() -> World:
    """Our service, another service in the same deployment, and a person for every role."""
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


@pytest.fixture
def world(db: None) -> World:
    return make_world()


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


def login(client: HttpClient, user: User, *, verified: bool = True) -> HttpClient:
    """Sign in as ``user``; by default as someone who has also given their two-factor code (tests of the
    two-factor step itself pass ``verified=False``)."""
    # Name the backend: django-axes's own backend comes first and cannot restore a user from a session.
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if verified:
        from django_otp import DEVICE_ID_SESSION_KEY

        device = totp_device(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def totp_device(user: User):
    """The user's confirmed authenticator-app device (made if they have none)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def current_totp(device) -> str:
    """The code the user's app would show now, with the device ready to accept it again (tests sign in
    more than once in the same 30 seconds; django-otp rightly refuses a code twice)."""
    from django_otp.oath import totp

    device.refresh_from_db()
    device.last_t = -1
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save(update_fields=["last_t", "throttling_failure_count", "throttling_failure_timestamp"])
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


@pytest.fixture
def eager_celery():
    """Run queued tasks in-process, straight away (the real worker is tested in test_celery.py)."""
    from linkwork.celery import app

    app.conf.task_always_eager = True
    try:
        yield app
    finally:
        app.conf.task_always_eager = False


def ensure_reference_data() -> None:
    """The wellbeing measures are rows from a data migration. A transactional test's flush removes them, and
    serialized_rollback does not always bring them back (not on Playwright's connection, for one): load them
    as the migration does, if they are missing."""
    import importlib

    from django.apps import apps

    from outcomes.models import Instrument

    if not Instrument.objects.exists():
        importlib.import_module("outcomes.migrations.0002_load_instruments").forward(apps, None)


def contact_data(**overrides: str) -> dict[str, str]:
    """The contact form as a link worker fills it in: a 30-minute phone call yesterday at 09:30."""
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate() - dt.timedelta(days=1)
    data = {
        "date_day": str(today.day),
        "date_month": str(today.month),
        "date_year": str(today.year),
        "time": "09:30",
        "method": "phone",
        "duration_minutes": "30",
        "notes": "Talked about the garden",
        "next_step": "",
        "follow_up_on_day": "",
        "follow_up_on_month": "",
        "follow_up_on_year": "",
    }
    data.update(overrides)
    return data
