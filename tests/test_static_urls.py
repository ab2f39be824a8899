"""Production's static files storage keeps each file's URL once worked out (linkwork.staticfiles): the URLs must
be the ones the manifest gives, and a file the manifest lacks must still be refused every time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import override_settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

from linkwork.staticfiles import KeptManifestStaticFilesStorage


def _storage(root: Path, paths: dict[str, str]) -> KeptManifestStaticFilesStorage:
    for hashed in paths.values():
        (root / hashed).parent.mkdir(parents=True, exist_ok=True)
        (root / hashed).write_text("body { }")
    manifest = {"paths": paths, "version": "1.1", "hash": "0123456789ab"}
    (root / "staticfiles.json").write_text(json.dumps(manifest))
    return KeptManifestStaticFilesStorage(location=str(root), base_url="/static/")


@override_settings(DEBUG=False)
def test_the_urls_are_the_manifests_hashed_names_every_time(tmp_path: Path) -> None:
    paths = {"css/linkwork.css": "css/linkwork.5d41402abc4b.css", "js/a b.mjs": "js/a b.9f0e1d2c3b4a.mjs"}
    storage = _storage(tmp_path, paths)
    plain = CompressedManifestStaticFilesStorage(location=str(tmp_path), base_url="/static/")
    for _ in range(3):
        assert storage.url("css/linkwork.css") == "/static/css/linkwork.5d41402abc4b.css"
        for name in paths:
            assert storage.url(name) == plain.url(name)
    assert storage.url("css/linkwork.css", force=True) == plain.url("css/linkwork.css", force=True)


@override_settings(DEBUG=False)
def test_a_file_the_manifest_lacks_is_refused_every_time_and_never_kept(tmp_path: Path) -> None:
    storage = _storage(tmp_path, {"css/linkwork.css": "css/linkwork.5d41402abc4b.css"})
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/missing.css")
    assert "css/missing.css" not in storage._kept_urls


def test_production_serves_static_files_through_it() -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}}
    env.update(
        LINKWORK_ENVIRONMENT="production",
        SECRET_KEY="k" * 20 + "-production-secret-key-that-is-long-enough-9",
        ALLOWED_HOSTS="linkwork.example.nhs.uk",
        DJANGO_SETTINGS_MODULE="linkwork.settings",
    )
    # Production settings insist on a database URL; only the settings are loaded here, nothing connects. Under a
    # bare `make test` (embedded PostgreSQL) none is set.
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/linkwork_settings_only")
    code = "import django; django.setup(); from django.conf import settings; print(settings.STORAGES['staticfiles'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "linkwork.staticfiles.KeptManifestStaticFilesStorage" in result.stdout
