# doorstep — developer entry points.
#
#   make run        install the locked environment (.venv) and serve the demo:
#                   migrates the SQLite DB var/doorstep.db, loads the demo data and
#                   serves on http://127.0.0.1:${DOORSTEP_PORT:-8000} (DOORSTEP_ENV=development:
#                   without it doorstep behaves as production and refuses demo data)
#   make test       the whole suite (tests/unit, integration, e2e, browser) with pytest;
#                   extra pytest arguments via PYTEST_ARGS, e.g.
#                       make test PYTEST_ARGS='tests/unit -x -k booking'
#                   Without DOORSTEP_TEST_PG_URL (and outside CI) the PostgreSQL tests
#                   are left out and only SQLite is exercised.
#   make test-pg    same, against a throwaway PostgreSQL 15 cluster
#                   (scripts/pg-test-cluster; needs Debian's postgresql package,
#                   installed by the script when run as root)
#   make lint       ruff check, ruff format --check, mypy, and the layer contracts
#                   (lint-imports; [tool.importlinter] in pyproject.toml)
#   make sync       just create/update .venv from uv.lock
#
# The command-line tool: `uv run doorstep --help` (e.g. `uv run doorstep serve --demo`).
# Browser tests drive Debian's chromium (`apt-get install chromium fonts-noto-cjk`);
# they are skipped locally when it is missing and fail in CI.
# uv is installed with pip when missing. CI runs `bash .ci/run`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTEST_ARGS ?=
# uv from PATH, or the copy pip installed into the current python3.
UV = $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)
UV_RUN = $(UV) run --frozen

.PHONY: help ensure-uv sync run test test-pg lint

help:
	@sed -n '1,/^$$/p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

ensure-uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || { \
		echo "installing uv with pip" >&2; \
		python3 -m pip install --quiet uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv; }

sync: ensure-uv
	$(UV) sync --frozen

# The demo is development: published demo passwords, the development secret, loopback only.
run: sync
	DOORSTEP_ENV=$${DOORSTEP_ENV:-development} $(UV_RUN) doorstep serve --demo

test: sync
	@rc=0; $(UV_RUN) pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$rc

test-pg: sync
	@dir=$$(mktemp -d "$${TMPDIR:-/tmp}/doorstep-pg.XXXXXX"); \
	trap 'scripts/pg-test-cluster stop "$$dir"' EXIT; \
	trap 'exit 130' INT TERM; \
	url=$$(scripts/pg-test-cluster start "$$dir"); \
	echo "DOORSTEP_TEST_PG_URL=$$url"; \
	rc=0; DOORSTEP_TEST_PG_URL="$$url" $(UV_RUN) pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-pg: pytest collected no tests (exit 5)" >&2; fi; \
	exit $$rc

lint: sync
	$(UV_RUN) ruff check . && $(UV_RUN) ruff format --check . && $(UV_RUN) mypy \
		&& $(UV_RUN) lint-imports --no-cache
