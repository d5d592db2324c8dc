"""Whole-stack runs, driven by the real Pulumi.<stack>.yaml files, shared by the whole suite.

Each run is a plain data snapshot (`PlanRun`), so one run per stack and test process serves every
test module (the infra tests and the plan tests alike). The runs are shared: treat them as
read-only, and build a modified copy (`copy.deepcopy`, or a new `PlanRun` with a new list of
registrations) when a test needs a different stack.
"""

from __future__ import annotations

import pytest

from drplan.harness import PlanRun, run_program

STACKS = ("dev", "prod")


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
