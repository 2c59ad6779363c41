# The two commands of the README: `make demo` and `make test`. Everything lands in ./.venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	@touch $(STAMP)

install: $(STAMP)

## The main job on embedded SQLite (first command of the quick start).
demo: $(STAMP)
	$(BIN)/battrace code check 001PB01ABC1234FC70000001 001PB01FC70000001RP 1M8GDM9AXKP042788 91350100M000100Y43 91110000100000000D || true
	$(BIN)/battrace code explain 001PB01ABC1234FC70000001

## The whole test suite (second command of the quick start; .ci/run calls it).
test: $(STAMP)
	$(BIN)/pytest

## Static checks: ruff, mypy (strict on the pure core), import-linter.
lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

## Every benchmark at small scale (use SCALE=medium|large for more).
bench: $(STAMP)
	$(BIN)/python -m battrace.bench --scale $(or $(SCALE),small)

clean:
	rm -rf $(VENV) build dist src/*.egg-info
