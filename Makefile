# Cobro: the two commands a person needs are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
export COBRO_DATA_DIR ?= var
PG_URL ?= postgres://postgres@127.0.0.1:5432/cobro

.PHONY: lock run test test-clock test-fast test-sqlite test-postgres test-e2e bench lint messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Every version comes from the lock files in requirements/ (with hashes): a fresh install is the tested
# install. `make lock` regenerates them from pyproject.toml; commit the result on its own.
$(VENV)/.installed: $(BIN)/python requirements/base.txt pyproject.toml
	$(BIN)/pip install -q --require-hashes -r requirements/base.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Translation catalogs: the .mo files are built from the .po sources (not kept in git).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard src/cobro/*/locale/*/LC_MESSAGES/django.po))
%.mo: %.po $(VENV)/.installed
	$(BIN)/python scripts/compile_messages.py $<

$(VENV)/.installed-test: $(VENV)/.installed requirements/test.txt
	$(BIN)/pip install -q --require-hashes -r requirements/test.txt
	touch $@

## Regenerate the pinned, hashed requirements from pyproject.toml (a deliberate upgrade: commit it alone)
lock: $(BIN)/python
	$(BIN)/pip install -q pip-tools
	$(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --extra test -o requirements/test.txt pyproject.toml
	$(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe -c requirements/test.txt -o requirements/base.txt pyproject.toml

## Run Cobro with the demo organization on SQLite at http://127.0.0.1:8000, web server and worker (Ctrl-C stops both)
run: $(VENV)/.installed $(MO_FILES)
	$(BIN)/cobro run 127.0.0.1:8000

## Every test: unit and integration on SQLite, integration on PostgreSQL, then the browser tests
test: $(VENV)/.installed-test $(MO_FILES)
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -m "not e2e" -n 2
	COBRO_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -m "dbtest and not e2e" -n 2
	$(BIN)/python -m pytest -m e2e

## The tests again with the clock moved to other dates (a test that passes only this week is a defect)
CLOCK_DATES ?= 2027-03-01 2028-02-29 2030-12-31
test-clock: $(VENV)/.installed-test $(MO_FILES)
	for d in $(CLOCK_DATES); do echo "clock moved to $$d"; COBRO_TEST_CLOCK=$$d $(BIN)/python -m pytest -m "not e2e" -n 2 || exit 1; done

test-fast: $(VENV)/.installed-test $(MO_FILES)
	$(BIN)/python -m pytest -m "not e2e" -n 2

test-postgres: $(VENV)/.installed-test $(MO_FILES)
	COBRO_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -m "dbtest and not e2e" -n 2

test-e2e: $(VENV)/.installed-test $(MO_FILES)
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
	$(BIN)/python scripts/compile_messages.py

clean:
	rm -rf $(VENV) var
