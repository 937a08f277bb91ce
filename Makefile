# Two entry points for a fresh machine with only python3:
#   make demo   runs the demo on the local Transcribe test bed
#   make test   runs the whole suite (ruff, mypy --strict on src, pytest)
# Each builds .venv on first use and reinstalls when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/transcribe-poller demo

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples

typecheck: $(VENV)/.installed
	$(BIN)/mypy --strict src

unit: $(VENV)/.installed
	$(BIN)/pytest -q

test: lint typecheck unit

clean:
	rm -rf $(VENV)
