"""Fixtures of the post-deploy checks (see `deployed.py` for when they skip and when they fail)."""

from __future__ import annotations

import pytest

from tests.integration.deployed import Aws, DeployedStack, load_deployed_stack


@pytest.fixture(scope="session")
def deployed() -> DeployedStack:
    """The stack under test, or a skip saying which precondition is missing."""
    return load_deployed_stack()


@pytest.fixture(scope="session")
def aws(deployed: DeployedStack) -> Aws:
    """AWS clients (depends on `deployed` so that every test skips for the same reason)."""
    return Aws()
