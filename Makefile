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

.PHONY: demo test lint lint-ts test-ts labextension hub-proxy typecheck pytest versions bench clean

# package.json holds the version (the metadata the install writes), so it reinstalls too.
$(STAMP): pyproject.toml package.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,integration,aws,versions]'
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

## test: every test (lint, types, unit, integration, notebooks, browser), then the quick tests
## on every CPython and on the floors of pyproject.toml.
test: $(STAMP) lint lint-ts test-ts typecheck pytest versions

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

## lint-ts: ESLint and Prettier on the TypeScript and CSS, and tsc against the oldest
## JupyterLab packages package.json accepts (4.0.0: .ci/tsc-oldest.sh).
lint-ts: $(NODE_STAMP)
	$(NPM) run lint:check
	bash .ci/tsc-oldest.sh

## test-ts: the frontend's unit tests (jest: src/__tests__/), among them the link check's
## table shared with Python (src/__tests__/safe_link_cases.json).
test-ts: $(NODE_STAMP)
	$(NPM) test

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

# Two workers (pytest-xdist), a file's tests on one of them: most tests wait on sockets,
# kernels and browsers rather than on a core. PYTEST_WORKERS=0 runs them in this process.
PYTEST_WORKERS ?= 2

pytest: $(STAMP) $(LABEXTENSION) $(HUB_PROXY)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

## versions: noxfile.py's sessions, in parallel: the quick tests on CPython 3.10 to 3.13 and
## with the lowest versions pyproject.toml allows (plus the extension in the oldest JupyterLab).
## Each session's output is shown whole when it ends; any failure fails the target. A Python
## missing on the machine is skipped, except with CI set (then it fails).
## The Python of .venv already ran every test (make pytest): its quick session is left out.
MAIN_PYTHON := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
NOX_SESSIONS := $(filter-out quick-$(MAIN_PYTHON),quick-3.10 quick-3.11 quick-3.12 quick-3.13) lowest
VERSIONS_JOBS ?= 4

versions: $(STAMP) $(LABEXTENSION)
	$(MAKE) --no-print-directory -j$(VERSIONS_JOBS) --output-sync=target $(NOX_SESSIONS:%=nox-%)

nox-%: $(STAMP)
	UV_PYTHON_DOWNLOADS=never $(VENV)/bin/nox --no-color -s $*

## bench: the figures of docs/performance.md, ours beside botocore (BENCH_ARGS="--quick --json out.json").
bench: $(STAMP)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .nox .pytest_cache .mypy_cache .ruff_cache node_modules .hub-proxy lib tsconfig.tsbuildinfo \
		ssooidc_jupyter/labextension
