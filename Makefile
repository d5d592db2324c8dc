# The two commands a new user needs (README): `make plan` and `make test`. Both create ./venv
# themselves; nothing needs AWS credentials or the Pulumi CLI.
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STACK ?= dev

.PHONY: plan test typecheck mutate lint format layer clean

$(BIN)/activate-stamp: requirements.txt requirements-dev.txt lambdas/requirements-layer.txt \
		policy/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## plan: offline plan of the dev stack (STACK=prod for the other one)
plan: $(BIN)/activate-stamp
	$(BIN)/python -m drplan --stack $(STACK)

## test: lint, format, type and workflow checks, and every test, the policy pack's too (installs,
## then starts, a throw-away PostgreSQL 16: scripts/ensure-postgres.sh)
test: $(BIN)/activate-stamp
	scripts/ensure-postgres.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(BIN)/actionlint
	$(BIN)/python -m pytest -q

## typecheck: mypy over the program, drplan and scripts (pyproject [tool.mypy]), then over the
## Lambda packages. Those import the shared contract as `drcommon.contract`, the program as
## `lambdas.drcommon.contract`, so they get a run of their own with `lambdas` as the root, on the
## runtime's Python (3.12).
typecheck: $(BIN)/activate-stamp
	$(BIN)/mypy
	MYPYPATH=lambdas $(BIN)/mypy --python-version 3.12 -p drcommon -p failover_coordinator \
		-p connection_drainer -p health_checker -p peer_watch -p secret_rotation -p backup_verifier

$(VENV)/mutate-stamp: $(BIN)/activate-stamp requirements-mutate.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-mutate.txt
	touch $@

## mutate: mutation testing of the decision modules with mutmut (hours on 2 cores, so not in CI),
## then killed / total / % per module and every mutant not killed. Settings: pyproject
## [tool.mutmut]. Starts afresh each time: mutmut keeps a survivor's verdict even after a test
## that kills it was added. MUTANTS='stack.config.x_parse_settings__mutmut_*' re-runs only those
## mutants on top of the last run (mutmut names, globs allowed), e.g. after adding a test.
mutate: $(VENV)/mutate-stamp
	scripts/ensure-postgres.sh
	$(if $(MUTANTS),,rm -rf mutants)
	$(BIN)/python scripts/mutmut_cli.py run $(foreach name,$(MUTANTS),'$(name)')
	$(BIN)/python scripts/mutmut_cli.py results --all true | $(BIN)/python scripts/mutation_score.py

## layer: build build/lambda-layer.zip (pinned arm64/py3.12 wheels, drcommon, RDS CA bundle);
## needed before `pulumi preview`/`pulumi up`. CA_BUNDLE=path uses a local copy of the bundle.
layer: $(BIN)/activate-stamp
	$(BIN)/python scripts/build_layer.py $(if $(CA_BUNDLE),--ca-bundle $(CA_BUNDLE))

lint: $(BIN)/activate-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(BIN)/actionlint

format: $(BIN)/activate-stamp
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build mutants
