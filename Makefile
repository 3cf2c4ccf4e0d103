# Two commands for a newcomer: `make demo` and `make test`. Each builds .venv from
# pyproject.toml the first time (and again when pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make demo` installs only what the demo runs (the `demo` extra), under a stamp of its own:
# a later `make test` still installs the test extra.
DEMO_STAMP := $(VENV)/.installed-demo
# JupyterLab's port for `make demo PORT=9999` (a free one instead when busy);
# `make demo DEMO_VERBOSE=1` shows the server's log instead of writing it to a file.
PORT ?= 8888

NPM ?= npm
NODE_STAMP := node_modules/.package-lock.json
LABEXTENSION := ssooidc_jupyter/labextension/package.json
# configurable-http-proxy (npm) for the real JupyterHub of tests/browser/test_jupyterhub_real.py,
# in a prefix of its own so that `npm ci` (which empties node_modules/) leaves it alone.
HUB_PROXY := .hub-proxy/node_modules/.bin/configurable-http-proxy

.PHONY: demo test lint lint-ts labextension hub-proxy typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,aws]'
	touch $(STAMP)

# A venv that `make test` installed from this pyproject.toml has the demo's packages already.
$(DEMO_STAMP): pyproject.toml
	@if [ $(STAMP) -nt pyproject.toml ]; then \
		echo "$(VENV) has the test extra, which holds the demo's packages"; \
	else \
		set -ex; \
		$(PYTHON) -m venv $(VENV); \
		$(PY) -m pip install --quiet --upgrade pip; \
		$(PY) -m pip install --quiet -e '.[demo]'; \
	fi
	touch $(DEMO_STAMP)

## demo: the emulator and JupyterLab with the quickstart notebook (PORT=8888, DEMO_VERBOSE=1).
demo: $(DEMO_STAMP)
	$(PY) -m ssooidc_jupyter.demo --port $(PORT)

## test: every test (lint, types, unit, integration, notebooks, browser).
test: $(STAMP) lint lint-ts typecheck pytest

# The frontend's npm dependencies, from package-lock.json (Node from the machine).
$(NODE_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund

# The prebuilt JupyterLab extension (the wheel's build hook does the same).
$(LABEXTENSION): $(STAMP) $(NODE_STAMP) $(wildcard src/*.ts style/*) package.json tsconfig.json
	PATH="$(abspath $(VENV))/bin:$$PATH" $(NPM) run build:prod

labextension: $(LABEXTENSION)

$(HUB_PROXY):
	$(NPM) install --prefix .hub-proxy --no-save --no-package-lock --no-audit --no-fund \
		'configurable-http-proxy@^5'

hub-proxy: $(HUB_PROXY)

## lint-ts: ESLint and Prettier on the TypeScript and CSS.
lint-ts: $(NODE_STAMP)
	$(NPM) run lint:check

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

pytest: $(STAMP) $(LABEXTENSION) $(HUB_PROXY)
	$(PY) -m pytest $(PYTEST_ARGS)

## bench: the figures of docs/performance.md, ours beside botocore (BENCH_ARGS="--quick --json out.json").
bench: $(STAMP)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules .hub-proxy lib tsconfig.tsbuildinfo \
		ssooidc_jupyter/labextension
