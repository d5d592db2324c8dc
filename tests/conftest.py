"""Whole-stack runs, driven by the real Pulumi.<stack>.yaml files, shared by the whole suite.

Each run is a plain data snapshot (`PlanRun`), so one run per stack and test process serves every
test module (the infra tests and the plan tests alike). The runs are shared: treat them as
read-only, and build a modified copy (`copy.deepcopy`, or a new `PlanRun` with a new list of
registrations) when a test needs a different stack.
"""

from __future__ import annotations

import gc

import pytest

from drplan.harness import PlanRun, run_program

STACKS = ("dev", "prod")
# Garbage is collected between tests, every this many tests of a process (see
# `pytest_collection_finish`): often enough to keep a worker under ~0.5 GB, rarely enough that
# collecting costs little.
COLLECT_GARBAGE_EVERY = 100
_tests_since_collection = [0]


@pytest.fixture(scope="session")
def plans() -> dict[str, PlanRun]:
    """GIVEN the dev and prod stacks as their config files declare them."""
    return {stack: run_program(stack) for stack in STACKS}


@pytest.fixture(params=STACKS)
def plan(request: pytest.FixtureRequest, plans: dict[str, PlanRun]) -> PlanRun:
    """Each stack in turn."""
    return plans[request.param]


@pytest.fixture(scope="session")
def compliant_prod() -> PlanRun:
    """GIVEN the prod stack with complianceEndpoints=true (Security Hub's EC2 endpoint controls)."""
    return run_program("prod", {"complianceEndpoints": "true"})


def pytest_collection_finish(session: pytest.Session) -> None:
    """Collect garbage between tests, not during them. Once the tests are collected, a process
    holds millions of long-lived objects (the Pulumi AWS SDK, botocore's models, moto), and
    each automatic full collection walks them all again: with it on, a whole-stack run took
    ~2.5 s instead of ~1.2 s, and the suite a quarter more time. So what is alive now is
    frozen (never scanned again), automatic collection is off, and `pytest_runtest_teardown`
    collects every `COLLECT_GARBAGE_EVERY` tests, freezing what survives."""
    gc.collect()
    gc.freeze()
    gc.disable()


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Collects garbage every `COLLECT_GARBAGE_EVERY` tests (see `pytest_collection_finish`)."""
    _tests_since_collection[0] += 1
    if _tests_since_collection[0] >= COLLECT_GARBAGE_EVERY:
        _tests_since_collection[0] = 0
        gc.collect()
        gc.freeze()
