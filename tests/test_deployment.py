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
    """By Django's settings, or by gunicorn's (gunicorn.conf.py: WEB_CONCURRENCY)."""
    sources = (ROOT / "linkwork" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    read = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', sources))
    env = _compose()["x-app"]["environment"]
    unread = sorted(name for name in env if name not in read)
    assert unread == []
    assert env["LINKWORK_ENVIRONMENT"] == "production"


def test_the_image_runs_as_an_unprivileged_user_and_collects_static_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER linkwork" in dockerfile
    assert "collectstatic" in dockerfile
    assert "--require-hashes requirements.txt" in dockerfile


def _gunicorn_settings(*extra: str, **env: str) -> dict[str, str]:
    """What gunicorn itself makes of gunicorn.conf.py, started from the project folder as the image starts it."""
    import os
    import subprocess
    import sys

    environ = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "GUNICORN_BIND")} | env
    printed = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config", *extra, "linkwork.wsgi"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return dict(re.findall(r"^(\w+)\s+= (.*)$", printed, re.MULTILINE))


def test_gunicorn_serves_with_sync_workers_two_per_cpu_unless_told() -> None:
    """The image, compose and make bench all start gunicorn from the project folder, so they all get these."""
    import os

    settings = _gunicorn_settings()
    assert settings["worker_class"] == "sync"
    assert settings["threads"] == "1"
    assert settings["workers"] == str(2 * len(os.sched_getaffinity(0)))
    assert settings["bind"] == "['0.0.0.0:8000']"
    assert _gunicorn_settings(WEB_CONCURRENCY="7")["workers"] == "7"
    assert _gunicorn_settings("--workers=2", WEB_CONCURRENCY="7")["workers"] == "2"  # the command line wins


def test_the_image_and_compose_leave_gunicorns_settings_to_its_config() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    command = _compose()["services"]["web"]["command"]
    for options in (dockerfile.split("CMD", 1)[1], " ".join(command)):
        assert "--workers" not in options and "--worker-class" not in options and "--threads" not in options
    assert _compose()["x-app"]["environment"]["WEB_CONCURRENCY"] == "${WEB_CONCURRENCY:-3}"


def test_the_load_balancer_buffers_for_the_sync_workers() -> None:
    """A sync worker serves one request start to finish: Caddy takes in bodies and answers whole, so a slow
    connection holds the proxy, not a worker. Its request buffer must hold the largest upload."""
    from django.conf import settings

    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    request_mb = int(re.search(r"^\s*request_buffers (\d+)MB$", caddyfile, re.MULTILINE).group(1))
    assert request_mb * 1024 * 1024 > settings.LINKWORK_MAX_UPLOAD_BYTES
    assert re.search(r"^\s*response_buffers \d+MB$", caddyfile, re.MULTILINE)


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


# --- Scaling out (docs/scaling.md) ----------------------------------------------------------------------------
def _replicas(service: dict) -> int:
    return int(service.get("deploy", {}).get("replicas", 1))


def _option(command: list[str], name: str) -> str | None:
    """The value of ``-Q default,urgent`` or ``--concurrency=4`` in a command line."""
    for i, arg in enumerate(command):
        if arg == name:
            return command[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _celery(services: dict, kind: str) -> dict[str, dict]:
    return {
        name: s
        for name, s in services.items()
        if s.get("command", [])[:3] == ["celery", "-A", "linkwork"] and s["command"][3] == kind
    }


def test_several_web_replicas_run_behind_a_load_balancer() -> None:
    services = _compose()["services"]
    web, proxy = services["web"], services["proxy"]
    assert _replicas(web) >= 2
    assert "ports" not in web, "replicas cannot share a host port: the proxy publishes the site"
    assert proxy["image"].startswith("caddy:")
    assert proxy["ports"] == ["8000:8080"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert ":8080 {" in caddyfile
    assert "dynamic a web 8000" in caddyfile  # every replica, looked up again as they come and go
    assert "lb_policy round_robin" in caddyfile


def test_the_web_health_check_names_a_host_the_site_answers_to() -> None:
    """Django refuses a request for any host not in ALLOWED_HOSTS (400), so the check must send one."""
    test = _compose()["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    compile(test[3], "healthcheck", "exec")
    assert "ALLOWED_HOSTS" in test[3] and "'Host'" in test[3] and "/healthz" in test[3]


def test_workers_are_split_by_queue_and_every_queue_is_consumed() -> None:
    from linkwork.celery import QUEUES

    workers = _celery(_compose()["services"], "worker")
    queues = {name: _option(s["command"], "-Q") for name, s in workers.items()}
    assert queues == {"worker-urgent": "urgent", "worker": "default,urgent", "worker-bulk": "bulk"}
    consumed = {q for value in queues.values() for q in value.split(",")}
    assert consumed == set(QUEUES)
    # Home visit alerts always have a worker of their own, even while one restarts.
    assert _replicas(workers["worker-urgent"]) >= 2
    hostnames = [_option(s["command"], "--hostname") for s in workers.values()]
    assert all(hostnames) and len(set(hostnames)) == len(hostnames)
    assert not any("--beat" in s["command"] or "-B" in s["command"] for s in workers.values())


def test_exactly_one_beat() -> None:
    services = _compose()["services"]
    beats = _celery(services, "beat")
    assert list(beats) == ["beat"]
    assert _replicas(beats["beat"]) == 1


def test_the_scaled_out_deployment_stays_within_postgresqls_connections() -> None:
    """Each gunicorn process and each Celery pool process holds at most one connection to the primary (to the
    replica too, for reports, when there is one): together well under PostgreSQL's default of 100."""
    services = _compose()["services"]
    web = services["web"]
    total = _replicas(web) * int(_option(web["command"], "--workers") or 1)
    for worker in _celery(services, "worker").values():
        total += _replicas(worker) * int(_option(worker["command"], "--concurrency") or 1)
    assert total <= 50, f"{total} connections: put pgbouncer in front of PostgreSQL (docs/scaling.md)"


def test_gunicorn_workers_freeze_their_loaded_objects_out_of_the_garbage_collectors_sight() -> None:
    """Once the app is loaded, and again after the first requests (which load the URLs and templates): the
    full collections that walked every loaded object paused a request for 100 ms about every 60 requests."""
    import gc
    import runpy
    from types import SimpleNamespace

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    worker = SimpleNamespace(nr=0)
    try:
        gc.unfreeze()
        config["post_worker_init"](worker)
        after_init = gc.get_freeze_count()
        assert after_init > 1000
        gc.unfreeze()
        for nr in range(1, config["FREEZE_AFTER_REQUESTS"]):
            worker.nr = nr
            config["post_request"](worker, None, {}, None)
        assert gc.get_freeze_count() == 0  # not on every request: a freeze costs a full collection
        worker.nr = config["FREEZE_AFTER_REQUESTS"]
        config["post_request"](worker, None, {}, None)
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
