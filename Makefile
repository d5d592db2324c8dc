# The two commands a new user needs (README): `make plan` and `make test`. Both create ./venv
# themselves; nothing needs AWS credentials or the Pulumi CLI.
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STACK ?= dev

.PHONY: plan test lint format clean

$(BIN)/activate-stamp: requirements.txt requirements-dev.txt lambdas/requirements-layer.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## plan: offline plan of the dev stack (STACK=prod for the other one)
plan: $(BIN)/activate-stamp
	$(BIN)/python -m drplan --stack $(STACK)

## test: lint, format check and every test (starts a throw-away PostgreSQL 15 as `postgres`)
test: $(BIN)/activate-stamp
	scripts/ensure-postgres.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: $(BIN)/activate-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/activate-stamp
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
