# Two commands for a newcomer: `make demo` and `make test`. Each builds .venv from
# pyproject.toml the first time (and again when pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,aws]'
	touch $(STAMP)

## demo: the emulator and a device login against it, on the built-in defaults.
demo: $(STAMP)
	$(PY) -m ssooidc_jupyter.demo

## test: every test (lint, types, unit, integration, notebooks, browser).
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

pytest: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## bench: the figures of docs/performance.md, ours beside botocore (BENCH_ARGS="--quick --json out.json").
bench: $(STAMP)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
