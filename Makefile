# Every target installs what it needs from the project's own files.
# The Python env lives in .venv/ and is created from uv.lock with the machine's Python.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8
UV := $(VENV)/bin/uv
SYNCED := $(VENV)/.synced
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never

.PHONY: help venv check test unit demo chromium servers axe clean bench bench-fleet bench-scale dist

help:
	@echo "make demo   - sandbox Keycloak + Duo emulator + bridge, with a walked login"
	@echo "make test   - lint, type-check and the whole test suite (real Keycloak, real browser)"
	@echo "make bench  - login time, bridge capacity, Duo round trips and a load run (not in test)"
	@echo "make bench-scale - 10 to 1,000 clients as organizations and as realms on production Keycloak: apply, plan, logins, memory"
	@echo "make dist   - the wheel, the sdist and the release jar (supported Keycloak range in its manifest)"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(UV): $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(SYNCED): $(UV) uv.lock pyproject.toml
	$(UV) sync --locked --python $(VENV)/bin/python
	@touch $(SYNCED)

venv: $(SYNCED)

# Debian's chromium, for the Playwright tests; installed with apt when missing.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "chromium missing: installing Debian's chromium with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; \
	fi

# Debian's PostgreSQL server and HAProxy, for the production-mode and cluster tests
# (tests/production); installed with apt when missing. The tests start their own, as an
# unprivileged user and on free ports; nothing is enabled as a system service.
servers:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null 2>&1 || missing="$$missing haproxy"; \
	if [ -n "$$missing" ]; then \
	  echo "missing:$$missing; installing Debian's packages with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

# axe-core from the npm registry (pinned in tests/accessibility), for the accessibility checks.
AXE := tests/accessibility/node_modules/axe-core/axe.min.js
$(AXE): tests/accessibility/package.json tests/accessibility/package-lock.json
	npm ci --prefix tests/accessibility --no-audit --no-fund --loglevel=error
	@touch $(AXE)

axe: $(AXE)

check: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: check chromium servers $(AXE)
	rm -f .coverage .coverage.*
	$(VENV)/bin/coverage run -m pytest $(PYTEST_ARGS)
	$(VENV)/bin/coverage combine -q
	$(VENV)/bin/coverage report

unit: venv
	$(VENV)/bin/pytest -m "not keycloak and not production" $(PYTEST_ARGS)

# A benchmark, not a test: its own sandbox on free ports; prints figures, last line JSON.
bench: venv
	$(VENV)/bin/python -m bench

bench-fleet: venv
	$(VENV)/bin/python -m bench.fleet

# Production-mode Keycloak on PostgreSQL (hence `servers`), grown to 1,000 client realms;
# about an hour, stopping early (and saying so) past --budget-minutes. BENCH_SCALE_ARGS
# passes options, e.g. BENCH_SCALE_ARGS="--sizes 10,100 --rounds 5".
bench-scale: venv servers
	$(VENV)/bin/python -m bench.scale $(BENCH_SCALE_ARGS)

# The wheel and sdist, and the extension jar compiled against the oldest tested Keycloak
# (fetched from Maven Central, cached); its manifest names that release and the range.
dist: venv
	rm -rf dist
	$(UV) build --out-dir dist
	$(VENV)/bin/keycloak-duo-bridge extension release --output-dir dist
	@unzip -p dist/keycloak-duo-bridge-extension-*.jar META-INF/MANIFEST.MF

demo: venv
	$(VENV)/bin/keycloak-duo-bridge demo --walk

clean:
	rm -rf $(VENV) .coverage .coverage.* build dist
