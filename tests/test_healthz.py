from __future__ import annotations

from django.test import override_settings


def test_it_reports_database_and_broker_ok(client, db) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_it_reports_an_unreachable_broker_as_503(client, db) -> None:
    from linkwork.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
            response = client.get("/healthz")
    finally:
        app.conf.broker_url = old
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"
    assert response.json()["database"] == "ok"


def test_it_reveals_no_data_and_is_not_cached(client, db) -> None:
    response = client.get("/healthz")
    assert set(response.json()) == {"status", "database", "broker"}
    assert "no-cache" in response["Cache-Control"]
