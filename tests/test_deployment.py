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


def test_static_files_collect_in_production_mode(tmp_path: Path) -> None:
    """What the image build runs: hashed, compressed static files, with every reference in the CSS resolvable."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        LINKWORK_ENVIRONMENT="production",
        SECRET_KEY="build-only-build-only-build-only-build-only-build-only",
        ALLOWED_HOSTS="build",
        DATABASE_URL="postgres://build@build/build",
        STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SETTINGS_MODULE="linkwork.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert any((tmp_path / "static" / "css").glob("linkwork.*.css"))
