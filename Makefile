# Cobro: the two commands a person needs are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
export COBRO_DATA_DIR ?= var
PG_URL ?= postgres://postgres@127.0.0.1:5432/cobro

.PHONY: run test test-fast test-sqlite test-postgres test-e2e bench lint messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

## Run Cobro with the demo organization on SQLite at http://127.0.0.1:8000
run: $(VENV)/.installed
	$(BIN)/cobro demo
	$(BIN)/cobro runserver 127.0.0.1:8000 --noreload

## Every test: unit and integration on SQLite, integration on PostgreSQL, then the browser tests
test: $(VENV)/.installed-test
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -m "not e2e" -n 2
	COBRO_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -m "dbtest and not e2e" -n 2
	$(BIN)/python -m pytest -m e2e

test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not e2e" -n 2

test-postgres: $(VENV)/.installed-test
	COBRO_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -m "dbtest and not e2e" -n 2

test-e2e: $(VENV)/.installed-test
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -m e2e

## Benchmarks (print figures against BENCHMARKS.md; SIZE=S|M|L)
SIZE ?= S
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py --size $(SIZE)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

## Recompile the translation catalogs after editing the .po files
messages: $(VENV)/.installed
	cd src/cobro && ../../$(BIN)/cobro compilemessages

clean:
	rm -rf $(VENV) var
