# The two commands a new user needs (README): `make plan` and `make test`. Both create ./venv
# themselves; nothing needs AWS credentials or the Pulumi CLI.
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STACK ?= dev
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar on
# What is installed in ./venv: the plan's set (requirements-plan.txt: the program's runtime, the
# plan's libraries), then, for `make test`, the test tools on top (requirements-dev.txt).
PLAN_STAMP := $(VENV)/.installed-plan
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: plan test typecheck collect mutate lint format layer clean

$(BIN)/python:
	@echo "make: creating ./venv with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)

$(PLAN_STAMP): $(BIN)/python requirements.txt requirements-plan.txt
	@echo "make: installing what the plan needs into ./venv (requirements-plan.txt; the first time"
	@echo "      takes a minute or two, most of it the Pulumi AWS provider's SDK)"
	$(PIP_INSTALL) -r requirements-plan.txt
	touch $@

$(DEV_STAMP): $(PLAN_STAMP) requirements-dev.txt lambdas/requirements-layer.txt \
		policy/requirements.txt
	@echo "make: installing the test tools into ./venv (requirements-dev.txt)"
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

## plan: offline plan of the dev stack (STACK=prod for the other one)
plan: $(PLAN_STAMP)
	$(BIN)/python -m drplan --stack $(STACK)

## test: lint, format, type and workflow checks, and every test, the policy pack's too (installs,
## then starts, a throw-away PostgreSQL 16: scripts/ensure-postgres.sh)
test: $(DEV_STAMP)
	scripts/ensure-postgres.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint
	$(MAKE) --no-print-directory -j2 --output-sync=target typecheck collect
	$(PYTEST) -q

# pytest rewrites each test module's asserts before importing it: about 4 s of the 7 s a worker
# spends collecting. It keeps the result as bytecode for the next run, unless
# PYTHONDONTWRITEBYTECODE is set (some images set it), so the tests run without it. The bytecode
# goes to the __pycache__ folders, which git ignores and the Lambda archives leave out.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest

## collect: collect the tests once, in one process, so the test run finds them rewritten and
## compiled (`make test` does it on the core mypy leaves idle: ~7 s of each worker's start, once)
collect: $(DEV_STAMP)
	$(PYTEST) -qq --collect-only -n 0 -p no:cacheprovider

## typecheck: mypy over the program, drplan and scripts (pyproject [tool.mypy]), then over the
## Lambda packages. Those import the shared contract as `drcommon.contract`, the program as
## `lambdas.drcommon.contract`, so they get a run of their own with `lambdas` as the root, on the
## runtime's Python (3.12).
typecheck: $(DEV_STAMP)
	$(BIN)/mypy
	MYPYPATH=lambdas $(BIN)/mypy --python-version 3.12 -p drcommon -p failover_coordinator \
		-p connection_drainer -p health_checker -p peer_watch -p secret_rotation -p backup_verifier

$(VENV)/mutate-stamp: $(DEV_STAMP) requirements-mutate.txt
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
layer: $(PLAN_STAMP)
	$(BIN)/python scripts/build_layer.py $(if $(CA_BUNDLE),--ca-bundle $(CA_BUNDLE))

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(BIN)/actionlint

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build mutants \
		tests/postgres/node_modules
