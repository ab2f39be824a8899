"""The user and the two-factor device of every signed-in request are read with SQL compiled once a process
(linkwork.by_pk): they must be the very rows the ORM gives, and the session's device must still count only if it
is that user's and confirmed."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from linkwork.accounts.models import User
from linkwork.by_pk import fetch_by_pk
from tests.conftest import World, login, totp_device


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_a_user_read_by_primary_key_is_the_row_the_orm_reads(world: World) -> None:
    world.link_worker.refresh_from_db()
    for key in (world.link_worker.pk, str(world.link_worker.pk)):
        user = User.objects.get(pk=key)
        orm = User.objects.filter(pk=world.link_worker.pk).get()
        assert type(user) is User and _fields(user) == _fields(orm)
        assert (user._state.adding, user._state.db) == (False, "default")
    assert User.objects.get(id=world.link_worker.pk) == world.link_worker


def test_a_user_read_by_primary_key_saves_as_an_update(world: World) -> None:
    user = User.objects.get(pk=world.link_worker.pk)
    user.full_name = "Renamed Person"
    user.save()
    assert User.objects.filter(full_name="Renamed Person").count() == 1
    assert User.objects.count() == User.objects.filter(pk__in=User.objects.values("pk")).count()


def test_a_missing_or_malformed_key_fails_as_the_orm_does(db) -> None:
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=uuid.uuid4())
    with pytest.raises(ValidationError):
        User.objects.get(pk="not-a-uuid")
    with pytest.raises(ValidationError):
        User.objects.filter(pk="not-a-uuid").get()


def test_other_lookups_still_go_through_the_orm(world: World) -> None:
    assert User.objects.get(email=world.link_worker.email) == world.link_worker
    assert User.objects.get(pk=world.link_worker.pk, is_active=True) == world.link_worker
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=world.link_worker.pk, is_active=False)


def test_devices_read_by_primary_key_are_the_rows_the_orm_reads(world: World) -> None:
    totp = totp_device(world.link_worker)
    static = StaticDevice.objects.create(user=world.link_worker, name="backup", confirmed=True)
    for device in (totp, static):
        read = fetch_by_pk(type(device), str(device.pk), using="default")
        assert _fields(read) == _fields(type(device).objects.get(pk=device.pk))
    with pytest.raises(TOTPDevice.DoesNotExist):
        fetch_by_pk(TOTPDevice, 10**9, using="default")


def test_a_signed_in_page_reads_the_user_and_the_device_once_each(client, world: World) -> None:
    login(client, world.link_worker)
    client.get(reverse("clients:caseload"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("clients:caseload"))
    assert response.status_code == 200 and response.wsgi_request.user.is_verified()
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum(q.startswith('SELECT "accounts_user"."password"') for q in sql) == 1, sql
    assert sum(q.startswith('SELECT "otp_totp_totpdevice"."id"') for q in sql) == 1, sql


def _session_device(client, persistent_id: str) -> None:
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = persistent_id
    session.save()


def _asked_for_code(client) -> bool:
    response = client.get(reverse("clients:caseload"))
    two_factor = (reverse("accounts:two_factor_verify"), reverse("accounts:two_factor_setup"))
    return response.status_code == 302 and response["Location"].startswith(two_factor)


def test_a_device_of_someone_else_in_the_session_does_not_verify(client, world: World) -> None:
    login(client, world.link_worker)
    _session_device(client, totp_device(world.colleague).persistent_id)
    assert _asked_for_code(client)
    assert DEVICE_ID_SESSION_KEY not in client.session  # django-otp drops it, as before


def test_an_unconfirmed_deleted_or_made_up_device_does_not_verify(client, world: World) -> None:
    device = totp_device(world.link_worker)
    login(client, world.link_worker, verified=False)
    _session_device(client, device.persistent_id)
    assert client.get(reverse("clients:caseload")).status_code == 200
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=False)
    assert _asked_for_code(client)
    for made_up in (
        f"otp_totp.totpdevice/{device.pk + 1000}",
        "otp_totp.totpdevice/abc",
        "accounts.user/1",
        "nosuchapp.device/1",
        "garbage",
    ):
        _session_device(client, made_up)
        assert _asked_for_code(client), made_up
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    _session_device(client, device.persistent_id)
    assert client.get(reverse("clients:caseload")).status_code == 200
    TOTPDevice.objects.filter(pk=device.pk).delete()
    assert _asked_for_code(client)
    assert TOTPDevice.objects.filter(user=world.link_worker).count() == 0


def test_a_deactivated_user_or_a_changed_password_ends_the_session(client, world: World) -> None:
    login(client, world.link_worker)
    assert client.get(reverse("clients:caseload")).status_code == 200
    user = User.objects.get(pk=world.link_worker.pk)
    user.set_password("a-completely-new-passphrase-42")
    user.save()
    response = client.get(reverse("clients:caseload"))
    assert response.status_code == 302 and response["Location"].startswith(reverse(settings.LOGIN_URL))
    login(client, world.link_worker)
    User.objects.filter(pk=world.link_worker.pk).update(is_active=False)
    response = client.get(reverse("clients:caseload"))
    assert response.status_code == 302 and response["Location"].startswith(reverse(settings.LOGIN_URL))
