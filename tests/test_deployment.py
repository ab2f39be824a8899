"""docker-compose.yml matches the settings: every variable it sets is one the settings read, and the
services a production deployment needs are all there."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_production_service() -> None:
    services = _compose()["services"]
    assert {"db", "redis", "web", "worker", "beat", "mailpit", "migrate"} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "linkwork", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "linkwork", "beat"]


def test_every_variable_compose_sets_is_read_by_the_settings() -> None:
    settings_source = (ROOT / "linkwork" / "settings.py").read_text()
    read = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', settings_source))
    env = _compose()["x-app"]["environment"]
    unread = sorted(name for name in env if name not in read)
    assert unread == []
    assert env["LINKWORK_ENVIRONMENT"] == "production"


def test_the_image_runs_as_an_unprivileged_user_and_collects_static_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER linkwork" in dockerfile
    assert "collectstatic" in dockerfile
    assert "--require-hashes requirements.txt" in dockerfile
