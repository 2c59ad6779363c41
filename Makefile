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

## The main job on embedded SQLite (first command of the quick start): simulate a province,
## ingest, sign, audit, summarise, then serve the dashboard and API on http://127.0.0.1:8000/.
demo: $(STAMP)
	$(BIN)/battrace demo $(DEMO_ARGS)

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
