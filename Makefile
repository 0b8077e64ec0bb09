# Two commands on a fresh clone:  `make run`  and  `make test`.
# Everything is installed from uv.lock into .venv; uv itself is pinned and bootstrapped
# into .tools with the machine's python3, so nothing is needed beyond Python >= 3.11.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
NODE_TOOLS := tools/node_modules/.installed
DB ?= $(or $(ACTIONDIR_DB),actiondir.db)
DATA ?= $(or $(ACTIONDIR_DATA),directory_data)

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test test-fast tools import openapi bench screenshots clean

run: $(VENV)/.installed $(DB)  ## serve the API on 127.0.0.1:8000 from the SQLite database
	$(BIN)/actiondir serve --db $(DB)

test: $(VENV)/.installed-test tools  ## run the whole test suite
	$(BIN)/python -m pytest

test-fast: $(VENV)/.installed-test tools  ## run all but the tests marked slow (real servers, schemathesis)
	$(BIN)/python -m pytest -m "not slow" -n auto

# The Node tools the tests run (the spec linter; the Swagger UI release the docs vendor), exactly
# as tools/package-lock.json pins them, install scripts never run. Without npm the tests that need
# them skip (CI sets REQUIRE_NODE_TOOLS=1, which makes that a failure).
tools: $(NODE_TOOLS)

$(NODE_TOOLS): tools/package.json tools/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tools --ignore-scripts --no-audit --no-fund && touch $@; \
	else echo "npm not found: the spec lint and docs-asset tests will skip"; fi

import: $(VENV)/.installed  ## load directory_data/ into the database (refuses to undo unexported approvals)
	$(BIN)/actiondir import --data $(DATA) --db $(DB)

openapi: $(VENV)/.installed  ## regenerate the committed spec in openapi/v1.json
	$(BIN)/actiondir openapi -o openapi/v1.json

bench: $(VENV)/.installed-test $(DB)  ## print throughput and memory figures
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk) || echo "wrk unavailable: bench.py falls back to an httpx load loop"
	$(BIN)/python benchmarks/bench.py --db $(DB) --data $(DATA)

screenshots: $(VENV)/.installed-test  ## photograph the embed widget (light, dark, right to left) into docs/
	$(BIN)/python docs/screenshots.py

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: uv.lock pyproject.toml client/pyproject.toml | $(UV)
	$(UV) sync --locked --inexact --no-default-groups --python $(PYTHON)
	touch $@

$(VENV)/.installed-test: uv.lock pyproject.toml client/pyproject.toml | $(UV)
	$(UV) sync --locked --inexact --group test --python $(PYTHON)
	touch $@ $(VENV)/.installed

# The database is built only when it is missing. Once it exists it is the source of truth
# (curators' approved changes live there): `make import` loads changed data files, and refuses
# to undo approvals that were never exported (`actiondir export` writes them to the files).
# The venv is an order-only prerequisite: reinstalling never makes the database out of date.
$(DB): | $(VENV)/.installed
	$(BIN)/actiondir import --data $(DATA) --db $(DB)

# Removes what `make` installed, never the database: it holds curators' approved changes
# (export them with `actiondir export`, then delete the file yourself if you mean to).
clean:
	rm -rf $(VENV) $(TOOLS) tools/node_modules
