# fedi-town: `make run` serves a demo instance, `make test` runs every check.
# Both set everything up on a fresh machine (virtualenv, packages, migrations).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SRC    := fedi_town tests $(wildcard bench)

.PHONY: run test lint imports format typecheck pytest bench reliability clean install install-prod node-deps browser deploy-tools screenshots

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# A production install (docs/self-hosting.md): a virtualenv at PREFIX holding fedi-town and
# what it needs to run, no dev tools, not editable (the checkout can change or go; run this
# again to upgrade). Then PREFIX/bin/fedi-town is the command deploy/*.service run.
PREFIX ?= /opt/fedi-town

install-prod:
	@test -x $(PREFIX)/bin/python || $(PYTHON) -m venv $(PREFIX)
	$(PREFIX)/bin/python -m pip install --quiet --upgrade pip
	$(PREFIX)/bin/python -m pip install --quiet .
	@echo "installed: $(PREFIX)/bin/fedi-town"

run: install
	$(BIN)/fedi-town serve --demo

lint: imports
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)

# The layer contracts of pyproject.toml ([tool.importlinter]).
imports: install
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format $(SRC)
	$(BIN)/ruff check --fix $(SRC)

typecheck: install
	$(BIN)/mypy fedi_town

# Node packages of the Fedify interop peer: `npm ci` only when its package-lock.json changed.
node-deps: install
	$(BIN)/python -m tests.interop.harness

# Debian's chromium (and an emoji font for screenshots) for the browser tests: the poster page
# and the owner's web app (tests/read/test_poster_browser.py, tests/webapp/, tests/interop/).
browser:
	@{ command -v chromium >/dev/null 2>&1 && test -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf; } || { apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; } || echo "note: chromium is not installed; the browser tests fail until it is"

# Debian's caddy, nginx and systemd-analyze, to check deploy/ (tests/deploy/). Services that
# a fresh install starts are stopped and disabled again: this machine only checks configs.
deploy-tools:
	@command -v systemd-analyze >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq systemd >/dev/null; } || echo "note: systemd-analyze is not installed; tests/deploy fail under CI, skip elsewhere"
	@command -v caddy >/dev/null 2>&1 || { { apt-get update -qq && apt-get install -y -qq caddy >/dev/null; } && { systemctl disable --now caddy >/dev/null 2>&1 || true; }; } || echo "note: caddy is not installed; tests/deploy fail under CI, skip elsewhere"
	@{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 || { { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; } && { systemctl disable --now nginx >/dev/null 2>&1 || true; }; } || echo "note: nginx is not installed; tests/deploy fail under CI, skip elsewhere"

# The app's screenshots kept in docs/screenshots, taken again by the browser tests.
screenshots: install node-deps browser
	FEDI_TOWN_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q -k "sqlite" tests/webapp tests/interop/test_fedify_owner_app.py

# Four processes (pytest-xdist), a test file each at a time: the suite waits on real servers,
# databases and browsers more than it computes. Files are handed out slowest first
# (tests/conftest.py, SLOW_FIRST; --no-loadscope-reorder keeps that order), so no long file
# is left to finish alone at the end. PostgreSQL tests borrow a migrated schema from a pool
# (tests/conftest.py) rather than migrating a new one each.
PYTEST_WORKERS ?= 4

pytest: install node-deps browser deploy-tools
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25

test: lint typecheck pytest

bench: install node-deps
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk >/dev/null 2>&1 || echo "note: wrk is not installed; bench/read_path.py uses its asyncio client"
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

# docs/reliability.md's figures: the hostile and fault suites, then a 3-minute soak (~10 min).
# RELIABILITY_ARGS="--soak-quick" for a 30-second soak, or "--soak-json FILE" to reuse one.
RELIABILITY_ARGS ?= --soak

reliability: install
	$(BIN)/python -m bench.reliability $(RELIABILITY_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache tests/interop/fedify-peer/node_modules
