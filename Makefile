# The two commands a new user needs (README): `make plan` and `make test`. Both create ./venv
# themselves; nothing needs AWS credentials or the Pulumi CLI.
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STACK ?= dev

.PHONY: plan test lint format layer clean

$(BIN)/activate-stamp: requirements.txt requirements-dev.txt lambdas/requirements-layer.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## plan: offline plan of the dev stack (STACK=prod for the other one)
plan: $(BIN)/activate-stamp
	$(BIN)/python -m drplan --stack $(STACK)

## test: lint, format and workflow checks, and every test (starts a throw-away PostgreSQL 15 as `postgres`)
test: $(BIN)/activate-stamp
	scripts/ensure-postgres.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint
	$(BIN)/python -m pytest -q

## layer: build build/lambda-layer.zip (pinned arm64/py3.12 wheels, drcommon, RDS CA bundle);
## needed before `pulumi preview`/`pulumi up`. CA_BUNDLE=path uses a local copy of the bundle.
layer: $(BIN)/activate-stamp
	$(BIN)/python scripts/build_layer.py $(if $(CA_BUNDLE),--ca-bundle $(CA_BUNDLE))

lint: $(BIN)/activate-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint

format: $(BIN)/activate-stamp
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build
