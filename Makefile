# Two entry points for a fresh machine with only python3:
#   make demo   runs the demo on the local Transcribe test bed
#   make test   runs the whole suite (ruff, mypy --strict on src and benchmarks, pytest, the docs build,
#               the wheel installed and used from a fresh venv)
# Each builds .venv on first use and reinstalls when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit docs wheel-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The demo needs the local test bed and the live progress line, [local,cli], not the
# test and docs tools of [dev]. Its install has a stamp of its own: a venv made by
# `make demo` still gets [dev] from `make test`, and the reverse installs [local,cli]
# (which [dev] holds already: quick).
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[local,cli]"
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/transcribe-poller demo

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests examples benchmarks mkdocs_hooks.py
	$(BIN)/ruff format --check src tests examples benchmarks mkdocs_hooks.py

typecheck: $(VENV)/.installed
	$(BIN)/mypy --strict src benchmarks

unit: $(VENV)/.installed
	$(BIN)/pytest -q

# The documentation site, built as CI builds it: --strict fails on any warning (a
# broken link, a docstring mkdocstrings cannot read); nothing is fetched.
docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The wheel as a user gets it, installed into a fresh venv outside the repository:
# see .ci/wheel_check.sh.
wheel-check: $(VENV)/.installed
	PYTHON=$(abspath $(BIN)/python) .ci/wheel_check.sh

test: lint typecheck unit docs wheel-check

clean:
	rm -rf $(VENV)
