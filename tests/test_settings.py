"""Settings fail loudly on bad values, and production mode passes Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k" * 20 + "-production-secret-key-that-is-long-enough-9"


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('ok')"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "linkwork.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _production(**overrides: str) -> dict[str, str]:
    env = {
        "LINKWORK_ENVIRONMENT": "production",
        "SECRET_KEY": GOOD_KEY,
        "ALLOWED_HOSTS": "linkwork.example.nhs.uk",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linkwork"),
    }
    env.update(overrides)
    return env


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY must be set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS must be set"),
        ("DATABASE_URL", "DATABASE_URL must be set"),
    ],
)
def test_production_refuses_to_start_without_a_required_setting(missing: str, message: str) -> None:
    result = _import_settings(**_production(**{missing: ""}))
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_a_weak_secret_key() -> None:
    result = _import_settings(**_production(SECRET_KEY="short"))
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_production_refuses_debug() -> None:
    result = _import_settings(**_production(DEBUG="true"))
    assert result.returncode != 0
    assert "DEBUG must be off in production" in result.stderr


def test_production_refuses_to_turn_two_factor_authentication_off() -> None:
    result = _import_settings(**_production(LINKWORK_TWO_FACTOR_REQUIRED="false"))
    assert result.returncode != 0
    assert "LINKWORK_TWO_FACTOR_REQUIRED cannot be turned off in production" in result.stderr


def test_an_unknown_environment_is_refused() -> None:
    result = _import_settings(LINKWORK_ENVIRONMENT="staging")
    assert result.returncode != 0
    assert "LINKWORK_ENVIRONMENT must be" in result.stderr


def test_a_database_other_than_postgresql_is_refused() -> None:
    result = _import_settings(DATABASE_URL="sqlite:///tmp/linkwork.db")
    assert result.returncode != 0
    assert "must point at PostgreSQL" in result.stderr


def test_a_malformed_number_is_refused() -> None:
    result = _import_settings(CONN_MAX_AGE="sixty")
    assert result.returncode != 0
    assert "ValueError" in result.stderr or "invalid literal" in result.stderr


def test_production_passes_the_deployment_checks() -> None:
    # the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE, which a deployment must not
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {**inherited, **_production(), "DJANGO_SETTINGS_MODULE": "linkwork.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_dates_are_stored_in_utc_and_shown_in_london_time(settings) -> None:
    import datetime as dt

    from django.template import Context, Template
    from django.utils import timezone

    assert settings.USE_TZ is True
    moment = dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC)  # already 2 July in London (BST)
    with timezone.override("Europe/London"):
        rendered = Template("{{ moment|date }}").render(Context({"moment": moment}))
    assert rendered == "2 Jul 2026"


@pytest.mark.parametrize(
    ("redis_url", "engine"),
    [("redis://127.0.0.1:6379/0", "cached_db"), ("", "db")],
)
def test_sessions_are_cached_in_redis_only_when_redis_is_configured(redis_url: str, engine: str) -> None:
    """With Redis, sessions are read from it and kept in PostgreSQL; without it, in PostgreSQL alone (a memory
    cache in each process would let a signed-out session live on in the others)."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.SESSION_ENGINE)",
        ],
        cwd=ROOT,
        env={**env, **_production(REDIS_URL=redis_url), "DJANGO_SETTINGS_MODULE": "linkwork.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"django.contrib.sessions.backends.{engine}"
