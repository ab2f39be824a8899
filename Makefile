# Linkwork: `make run` to try it, `make test` to check it. Everything installs into .venv from the
# hash-locked requirements files; PostgreSQL is embedded when DATABASE_URL is unset.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
UV := python3 -m uv
PYTEST_ARGS ?=

.PHONY: help install run test lint migrations-check browser-deps assets lock clean
.DEFAULT_GOAL := help

help:
	@echo "make run     install, start PostgreSQL (embedded unless DATABASE_URL), migrate, seed, serve on :8000"
	@echo "make test    install, lint, check migrations, run the whole test suite (browser tests included)"
	@echo "make assets  rebuild static/ from the NHS.UK frontend (needs node; the built files are committed)"
	@echo "make lock    re-lock requirements*.txt with hashes after changing pyproject.toml"

$(VENV)/.installed: requirements-dev.txt
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	$(UV) venv --quiet --allow-existing --python python3 $(VENV)
	$(UV) pip sync --quiet --python $(PY) --require-hashes requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) scripts/run_local.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

test: install lint migrations-check
	$(VENV)/bin/pytest --create-db -n auto $(PYTEST_ARGS)

# Debian packages: Chromium for the browser tests (Playwright's own browser download does not work here), and
# Pango, HarfBuzz and fonts for WeasyPrint's PDFs.
SYSTEM_PACKAGES := chromium libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
browser-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

assets:
	npm ci --no-audit --no-fund
	npm run build

lock:
	$(UV) pip compile pyproject.toml --generate-hashes --python-version 3.11 --no-header --no-annotate -o requirements.txt
	$(UV) pip compile pyproject.toml --group dev --generate-hashes --python-version 3.11 --no-header --no-annotate -o requirements-dev.txt

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
