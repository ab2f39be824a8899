# Linkwork: `make run` to try it, `make test` to check it. Everything installs into .venv from the
# hash-locked requirements files; PostgreSQL is embedded when DATABASE_URL is unset.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
UV := python3 -m uv
PYTEST_ARGS ?=

.PHONY: help install run test lint audit migrations-check browser-deps bench assets lock clean
.DEFAULT_GOAL := help

help:
	@echo "make run     install, start PostgreSQL (embedded unless DATABASE_URL), migrate, seed, serve on :8000"
	@echo "make test    install, lint (ruff, bandit), check migrations, run the whole test suite (browser tests included)"
	@echo "make audit   check the locked dependencies for known vulnerabilities (needs the internet)"
	@echo "make bench   the performance benchmark at ICB scale (slow: seeds its own databases once; not in make test)"
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
	$(VENV)/bin/bandit -q -c pyproject.toml -r linkwork clients community referrals outcomes

# Known vulnerabilities in the locked dependencies. Needs the internet (the vulnerability database), so it is not
# part of make test; run it where the internet is reachable (see docs/security.md). --strict fails if any package
# could not be checked, rather than reporting "no known vulnerabilities" for packages it never looked up.
audit: install
	$(VENV)/bin/pip-audit -r requirements.txt --require-hashes --disable-pip --progress-spinner off --strict

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

# The performance benchmark (issue #10; not part of make test). Seeds BENCH_DATABASE_URL (default linkwork_bench)
# at BENCH_SCALE (default 10: an ICB) and BENCH_SMALL_DATABASE_URL (linkwork_bench_small) at BENCH_SMALL_SCALE
# (default 1) once, serves with gunicorn in production settings, loads every page with wrk (from Debian) and
# writes benchmarks/results/<date>.{json,md} and the README's Performance table. BENCH_ARGS passes options on
# (see python -m scripts.bench.run --help), e.g. BENCH_ARGS="--seconds 5 --only case,triage".
BENCH_ARGS ?=
bench: install
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(PY) -m scripts.bench.run $(BENCH_ARGS)

assets:
	npm ci --no-audit --no-fund
	npm run build

lock:
	$(UV) pip compile pyproject.toml --generate-hashes --python-version 3.11 --no-header --no-annotate -o requirements.txt
	$(UV) pip compile pyproject.toml --group dev --generate-hashes --python-version 3.11 --no-header --no-annotate -o requirements-dev.txt

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
