"""The client's address behind our proxies: lock-out, rate limits and the audit trail see the person, not the
load balancer, and a client cannot choose its own address."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from linkwork.audit.models import Action, AuditEvent
from linkwork.proxy import forwarded_client
from tests.conftest import World, login


@pytest.mark.parametrize(
    ("forwarded", "trusted", "expected"),
    [
        ("", 2, "10.0.0.9"),  # no header: the socket's address
        ("203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),  # TLS proxy added the client, Caddy added the TLS proxy
        ("6.6.6.6, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),  # a forged entry on the left is ignored
        ("203.0.113.7", 2, "10.0.0.9"),  # fewer hops than proxies: not from our proxies
        ("203.0.113.7, 10.0.0.2", 0, "10.0.0.9"),  # no proxies trusted
        ("not-an-address, 10.0.0.2", 2, "10.0.0.9"),
        ("2001:db8::1, 10.0.0.2", 2, "2001:db8::1"),
    ],
)
def test_the_client_address_is_the_one_our_outermost_proxy_saw(forwarded: str, trusted: int, expected: str) -> None:
    assert forwarded_client("10.0.0.9", forwarded, trusted) == expected


def test_the_audit_trail_records_the_person_behind_the_proxies(world: World, settings) -> None:
    settings.LINKWORK_TRUSTED_PROXIES = 2
    client = login(HttpClient(), world.link_worker)
    response = client.get(
        reverse("clients:caseload"), REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.2"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.filter(actor=world.link_worker, action=Action.VIEW).latest("at")
    assert event.ip_address == "203.0.113.7"


def test_the_lock_out_counts_each_person_behind_the_proxies_separately(client, world: World, settings) -> None:
    settings.LINKWORK_TRUSTED_PROXIES = 1
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        client.post(
            reverse("accounts:login"),
            {"username": f"guess{n}@example.nhs.uk", "password": "x"},
            REMOTE_ADDR="172.18.0.5",
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    someone_else = client.post(
        reverse("accounts:login"),
        {"username": "lw@example.nhs.uk", "password": "wrong"},
        REMOTE_ADDR="172.18.0.5",
        HTTP_X_FORWARDED_FOR="203.0.113.7",
    )
    assert "Enter a correct email address and password" in someone_else.text  # not locked out with the guesser
    guesser = client.post(
        reverse("accounts:login"),
        {"username": "guess9@example.nhs.uk", "password": "x"},
        REMOTE_ADDR="172.18.0.5",
        HTTP_X_FORWARDED_FOR="198.51.100.66",
    )
    assert guesser.status_code == 429
