# Set-up and everyday commands. Every target creates the virtual environment
# in .venv first if it is missing or older than pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: setup demo test lint typecheck unit bench lab clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "workbench needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,notebook,sampledata,live]'
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(PY) datasets/sampledata.py glucose
	$(BIN)/workbench run examples/glucose.sql

lint: setup
	$(BIN)/ruff check workbench tests benchmarks datasets
	$(BIN)/ruff format --check workbench tests benchmarks datasets

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

test: lint typecheck unit

bench: setup
	$(PY) benchmarks/run.py

lab: setup
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
