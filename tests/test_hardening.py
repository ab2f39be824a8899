"""Web hardening: headers and cookies in production, no open redirect, CSRF on every form, error pages that give
nothing away, uploads checked and never stored, and rate limits on the public forms."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import Resolver404, path, resolve, reverse

from clients.models import Client as Person
from community import forms as community_forms
from community import services as community_services
from community.models import CommunityService
from linkwork.urls import handler500  # noqa: F401  (handler500 for this URLconf)
from linkwork.urls import urlpatterns as site_urlpatterns
from referrals import services as referral_services
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.conftest import World, current_totp, login, totp_device
from tests.factories import PASSWORD
from tests.test_community import GOOD, HEADER
from tests.test_referral_views import form_data
from tests.workers import database_url

ROOT = Path(__file__).resolve().parent.parent
HOST = "linkwork.example.nhs.uk"


# --- Production headers and cookies -----------------------------------------------------------------------------
# Production settings are fixed when the settings module is imported, so they are probed in a process of their own,
# against the test database.
PROBE = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
from linkwork.accounts.models import User

def seen(response):
    return {
        "status": response.status_code,
        "headers": dict(response.headers),
        "cookies": {name: {**dict(m), "value": bool(m.value)} for name, m in response.cookies.items()},
    }

out = {}
browser = Client(HTTP_HOST=sys.argv[1])
# Static files are not collected here (test_deployment.py checks that they collect): plain static URLs.
unhashed = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=unhashed):
    out["page"] = seen(browser.get("/accounts/login/", secure=True))
    out["plain_http"] = seen(browser.get("/accounts/login/"))
    browser.force_login(User.objects.get(email=sys.argv[2]), backend="django.contrib.auth.backends.ModelBackend")
    out["signed_in"] = seen(browser.get("/accounts/keepalive/", secure=True))
print(json.dumps(out))
"""


@pytest.fixture
def production(world: World) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        LINKWORK_ENVIRONMENT="production",
        SECRET_KEY="k" * 20 + "-production-secret-key-that-is-long-enough-9",
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="linkwork.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, HOST, world.link_worker.email],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_page_in_production_sends_every_security_header(production: dict) -> None:
    page = production["page"]
    assert page["status"] == 200
    headers = page["headers"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    csp = _directives(headers["Content-Security-Policy"])
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive] and "'unsafe-eval'" not in csp[directive]
    assert csp["script-src"][0] == "'self'"
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["form-action"] == ["'self'"]
    # plain HTTP is sent to HTTPS
    assert production["plain_http"]["status"] == 301
    assert production["plain_http"]["headers"]["Location"] == f"https://{HOST}/accounts/login/"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_session_and_csrf_cookies_are_secure_http_only_same_site_and_host_only(production: dict) -> None:
    csrf = production["page"]["cookies"]["__Host-csrftoken"]
    session = production["signed_in"]["cookies"]["__Host-sessionid"]
    for cookie in (csrf, session):
        assert cookie["value"]
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/" and not cookie["domain"]
    assert session["max-age"] == "" and session["expires"] == "", "the session ends when the browser closes"


# --- No open redirect ---------------------------------------------------------------------------------------------
OFF_SITE = ["https://evil.example/", "//evil.example", "/\\evil.example", "https:///evil.example", "http:evil.example"]


def _stays_on_site(chain: list[tuple[str, int]]) -> None:
    for url, _ in chain:
        assert url.startswith("/") and not url.startswith(("//", "/\\")), f"sent off-site to {url}"
        assert "evil.example" not in url.split("?")[0]


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_in_never_sends_anyone_off_site(client, world: World, target: str) -> None:
    device = totp_device(world.link_worker)
    response = client.post(
        f"{reverse('accounts:login')}?next={target}",
        {"username": world.link_worker.email, "password": PASSWORD, "next": target},
        follow=True,
    )
    _stays_on_site(response.redirect_chain)
    assert response.redirect_chain[0][0] == "/"
    verify = response.redirect_chain[-1][0]
    assert verify.startswith(reverse("accounts:two_factor_verify"))
    response = client.post(f"{reverse('accounts:two_factor_verify')}?next={target}", {"code": current_totp(device)})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/", follow=True).redirect_chain[-1][0] == reverse("clients:caseload")


@pytest.mark.parametrize("target", OFF_SITE)
def test_signing_out_never_sends_anyone_off_site(client, world: World, target: str) -> None:
    login(client, world.link_worker)
    response = client.post(f"{reverse('accounts:logout')}?next={target}", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


def test_a_next_page_on_this_site_is_still_honoured(client, world: World) -> None:
    device = totp_device(world.link_worker)
    target = reverse("notifications:inbox")
    response = client.post(
        f"{reverse('accounts:login')}?next={target}",
        {"username": world.link_worker.email, "password": PASSWORD, "next": target},
    )
    assert response["Location"] == target
    response = client.post(f"{reverse('accounts:two_factor_verify')}?next={target}", {"code": current_totp(device)})
    assert response["Location"] == target


# --- CSRF --------------------------------------------------------------------------------------------------------
@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def test_the_public_referral_forms_refuse_a_post_without_its_token(csrf_client: Client, world: World) -> None:
    _, token = referral_services.agency_link_create(service=world.service, agency_name="Foodbank", by=world.manager)
    for url in (reverse("refer:self", args=[world.service.pk]), reverse("refer:agency", args=[token])):
        assert csrf_client.get(url).status_code == 200
        response = csrf_client.post(url, _agency_referral())
        assert response.status_code == 403, url
        assert "This form could not be sent" in response.text and "Nothing was saved" in response.text
        assert "CSRF" not in response.text, "the page explains; the reason is for the logs"
    assert not Referral.objects.exists()


def test_signing_in_needs_the_token(csrf_client: Client, world: World) -> None:
    response = csrf_client.post(reverse("accounts:login"), {"username": world.link_worker.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in csrf_client.session


def test_staff_forms_refuse_a_post_without_its_token(csrf_client: Client, world: World) -> None:
    referral = factories.NewReferralFactory(service=world.service)
    login(csrf_client, world.link_worker)
    response = csrf_client.post(reverse("referrals:accept", args=[referral.pk]), {"assignee": str(world.colleague.pk)})
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.NEW

    login(csrf_client, world.manager)
    upload = SimpleUploadedFile("services.csv", f"{HEADER}\n{GOOD}\n".encode(), content_type="text/csv")
    assert csrf_client.post(reverse("community:import"), {"file": upload}).status_code == 403
    assert not CommunityService.objects.exists()

    # with the token from the page, the same form works
    login(csrf_client, world.link_worker)
    token = csrf_client.get(reverse("referrals:detail", args=[referral.pk])).context["csrf_token"]
    response = csrf_client.post(
        reverse("referrals:accept", args=[referral.pk]),
        {"assignee": str(world.colleague.pk), "csrfmiddlewaretoken": str(token)},
    )
    assert response.status_code == 302


# --- Error pages --------------------------------------------------------------------------------------------------
def _fails_with_sql(request: HttpRequest) -> HttpResponse:
    with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: the test's transaction lives on
        cursor.execute("SELECT nhs_number FROM table_that_does_not_exist WHERE given_name = 'Siobhan'")
    return HttpResponse("unreachable")


urlpatterns = [path("fails/", _fails_with_sql), *site_urlpatterns]


@pytest.mark.urls("tests.test_hardening")
def test_an_error_shows_the_error_page_with_no_traceback_or_sql(world: World, settings) -> None:
    settings.DEBUG = False
    browser = Client(raise_request_exception=False)
    login(browser, world.link_worker)
    response = browser.get("/fails/")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text
    for leak in ("Traceback", "SELECT", "table_that_does_not_exist", "Siobhan", "ProgrammingError", "psycopg"):
        assert leak not in response.text


def test_a_missing_page_gives_nothing_away(client, world: World, settings) -> None:
    settings.DEBUG = False
    login(client, world.link_worker)
    response = client.get("/caseload/no-such-page/")
    assert response.status_code == 404
    assert "Using the URLconf" not in response.text and "django-admin" not in response.text


# --- Uploads ----------------------------------------------------------------------------------------------------
def _import(client, upload: SimpleUploadedFile):
    return client.post(reverse("community:import"), {"file": upload})


def test_an_upload_over_the_limit_is_refused_with_a_clear_message(client, world: World, settings) -> None:
    settings.LINKWORK_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    login(client, world.manager)
    big = f"{HEADER}\n" + f"{GOOD}\n" * (3 * 1024 * 1024 // len(GOOD))
    response = _import(client, SimpleUploadedFile("services.csv", big.encode(), content_type="text/csv"))
    assert response.status_code == 400
    assert "The file must be smaller than 2 MB" in response.text
    assert not CommunityService.objects.exists()


def test_the_upload_limit_stops_reading_the_file_into_memory_or_disk(rf, settings) -> None:
    """The handler drops a file as soon as it passes the limit: nothing larger reaches the form."""
    from django.core.files.uploadhandler import SkipFile

    from linkwork.uploads import SizeLimitUploadHandler

    settings.LINKWORK_MAX_UPLOAD_BYTES = 100
    request = rf.post("/")
    handler = SizeLimitUploadHandler(request)
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x" * 60, 60)
    assert request.upload_too_large is True


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("services.pdf", b"%PDF-1.7", "The file must be a CSV or an Excel .xlsx file"),
        ("services.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV file saved as UTF-8 text"),
        ("services.csv", "Organisation,Name\nCaf\xe9,Walk\n".encode("cp1252"), "This is not a CSV file saved as UTF-8"),
        ("services.xlsx", b"Organisation,Name\nA,B\n", "This is not an Excel .xlsx file"),
    ],
)
def test_a_file_whose_content_is_not_what_its_name_says_is_refused(
    client, world: World, name: str, content: bytes, message: str
) -> None:
    login(client, world.manager)
    response = _import(client, SimpleUploadedFile(name, content))
    assert response.status_code == 400
    assert message in response.text
    assert "There is a problem" in response.text


def test_a_spreadsheet_that_unpacks_to_a_huge_size_is_refused(client, world: World, monkeypatch) -> None:
    monkeypatch.setattr(community_forms, "MAX_XLSX_UNPACKED_BYTES", 1024 * 1024)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (2 * 1024 * 1024))  # 2 MB unpacked, 2 KB packed
    assert len(bomb.getvalue()) < 10_000
    login(client, world.manager)
    response = _import(client, SimpleUploadedFile("services.xlsx", bomb.getvalue()))
    assert response.status_code == 400
    assert "This spreadsheet is too large" in response.text


def test_a_file_with_too_many_rows_is_refused_without_reading_it_all(client, world: World, monkeypatch) -> None:
    monkeypatch.setattr(community_services, "MAX_IMPORT_ROWS", 3)
    login(client, world.manager)
    rows = "".join(f"{GOOD.replace('Health walk', f'Walk {n}')}\n" for n in range(50))
    response = _import(client, SimpleUploadedFile("services.csv", f"{HEADER}\n{rows}".encode()))
    assert response.status_code == 400
    assert "more than 3 rows" in response.text
    assert not CommunityService.objects.exists()
    assert len(community_services.read_rows(filename="x.csv", content=f"{HEADER}\n{rows}".encode())) == 4


def test_uploads_are_never_stored_where_a_url_could_reach_them(client, world: World, tmp_path, settings) -> None:
    file_fields = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]
    assert file_fields == []
    assert settings.MEDIA_URL in ("", "/")
    with pytest.raises(Resolver404):
        resolve("/media/services.csv")
    # the import reads the file and drops it: nothing is written where it was uploaded to
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # force the temporary-file path
    login(client, world.manager)
    response = _import(client, SimpleUploadedFile("services.csv", f"{HEADER}\n{GOOD}\n".encode()))
    assert response.status_code == 302
    assert CommunityService.objects.count() == 1
    assert list(tmp_path.iterdir()) == []


# --- Rate limits --------------------------------------------------------------------------------------------------
def _agency_referral() -> dict:
    return form_data(
        nhs_number="", referrer_name="Dev Patel", referrer_organisation_name="FB", referrer_email="d@fb.example"
    )


def test_the_agency_link_is_rate_limited_per_address_with_a_clear_page(client, world: World) -> None:
    _, token = referral_services.agency_link_create(service=world.service, agency_name="Foodbank", by=world.manager)
    url = reverse("refer:agency", args=[token])
    for _ in range(10):
        assert client.post(url, _agency_referral()).status_code == 302
    response = client.post(url, _agency_referral())
    assert response.status_code == 429
    assert "Too many referrals sent" in response.text and "phone the social prescribing service" in response.text
    assert response["Retry-After"] == "3600"
    assert Referral.objects.count() == 10
    # someone else, elsewhere, is not held up
    assert client.post(url, _agency_referral(), REMOTE_ADDR="192.0.2.99").status_code == 302


def test_the_self_referral_form_is_rate_limited_with_a_clear_page(client, world: World) -> None:
    url = reverse("refer:self", args=[world.service.pk])
    for _ in range(10):
        client.post(url, form_data(nhs_number=""))
    response = client.post(url, form_data(nhs_number=""))
    assert response.status_code == 429
    assert "Too many referrals sent" in response.text
    assert response["Retry-After"] == "3600"
    assert Person.objects.count() == 0 and Referral.objects.count() == 10


def test_guessing_agency_links_is_rate_limited(client, world: World) -> None:
    for n in range(120):
        client.get(reverse("refer:agency", args=[f"guess-{n}"]))
    assert client.get(reverse("refer:agency", args=["guess-final"])).status_code == 429
