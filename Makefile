# Crisis Classroom. Two commands for everyone: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test install install-dev migrate lint format clean prod-smoke two-nodes backup-roundtrip screenshots bench-install load-test

help:
	@echo "make run    set up .venv, migrate, load the unit and demo accounts, serve on http://$(HOST):$(PORT)"
	@echo "make test   install the test tools and run the whole test suite"
	@echo "make lint   ruff, then mypy"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Crisis Classroom needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

# The OpenID Connect provider the sign-in tests start (tests/oidc_provider, npm's oidc-provider).
# Without npm it is left out; those tests then skip (fail under REQUIRE_BROWSER=1, as in CI).
OIDC_PROVIDER := tests/oidc_provider
$(OIDC_PROVIDER)/node_modules/.installed: $(OIDC_PROVIDER)/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the sign-in tests against a real OpenID provider will be skipped"; fi

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev $(OIDC_PROVIDER)/node_modules/.installed

run: export DEBUG ?= True
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_unit
	$(BIN)/python manage.py load_comment_bank
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=True $(BIN)/mypy

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache $(OIDC_PROVIDER)/node_modules

# Production checks (need PostgreSQL on 127.0.0.1:5432; docs/self-hosting.md).
prod-smoke: install
	VENV=$(VENV) bash scripts/prod_smoke.sh

# Two gunicorn nodes on one PostgreSQL and one Redis (needs redis-server; docs/scaling.md).
two-nodes: install
	VENV=$(VENV) bash scripts/two_nodes.sh

# Locust in its own virtualenv: a tool for bench/, not a dependency of the app.
BENCH_VENV ?= .venv-bench
$(BENCH_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	@touch $@
bench-install: $(BENCH_VENV)/.installed

# Pupils writing and teachers marking against gunicorn on PostgreSQL (bench/load_test.sh);
# LOAD_ARGS="--pupils 200 --teachers 5 --duration 60" and so on.
LOAD_ARGS ?=
load-test: install bench-install
	VENV=$(VENV) BENCH_VENV=$(BENCH_VENV) bash bench/load_test.sh $(LOAD_ARGS)

backup-roundtrip: install-dev
	VENV=$(VENV) bash scripts/backup_roundtrip.sh

# The README's pictures: the app served the production way on a throwaway database, demo
# data, then the system Chromium; PNGs into docs/screenshots/ (README "Screenshots").
screenshots: install-dev
	$(BIN)/python scripts/screenshots.py
