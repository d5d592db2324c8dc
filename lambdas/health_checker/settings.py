"""Configuration of the health checker, read once per invocation from its environment.

The variables are `drcommon.contract.HealthCheckerEnv`'s; the stack sets them from there. All
values are identifiers or thresholds; the database password is read from Secrets Manager at run
time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from drcommon import envconfig
from drcommon.contract import HealthCheckerEnv as Env
from drcommon.db import Endpoint
from drcommon.envconfig import SettingsError

# The variable names and which are required are the contract's (the stack sets them from there).
# These lists serve the stack's wiring test (tests/infra/test_dr_automation.py).

DEFAULT_PROBE_TIMEOUT_SECONDS = 4.0
DEFAULT_RUN_BUDGET_SECONDS = 12.0

_SUFFIX = re.compile(r"^[a-z0-9][a-z0-9-]*$")

__all__ = ["Settings", "SettingsError"]


@dataclass(frozen=True)
class Settings:
    """Everything the health checker needs besides AWS clients and the secret's value."""

    environment: str
    local_region: str
    peer_region: str
    secret_id: str
    cluster_endpoint: Endpoint
    reader_endpoint: Endpoint
    peer_cluster_endpoint: Endpoint
    probe_timeout_seconds: float = DEFAULT_PROBE_TIMEOUT_SECONDS
    run_budget_seconds: float = DEFAULT_RUN_BUDGET_SECONDS
    ca_bundle: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raises SettingsError naming the variable."""
        env = os.environ if environ is None else environ
        environment = envconfig.required(env, Env.ENVIRONMENT_SUFFIX)
        if not _SUFFIX.match(environment):
            raise SettingsError(
                f"environment variable {Env.ENVIRONMENT_SUFFIX}={environment!r} must be lowercase "
                "letters, digits and '-'"
            )
        local_region, peer_region = envconfig.region_pair(env, Env.LOCAL_REGION, Env.PEER_REGION)
        return cls(
            environment=environment,
            local_region=local_region,
            peer_region=peer_region,
            secret_id=envconfig.required(env, Env.DB_SECRET_ID),
            cluster_endpoint=envconfig.endpoint(env, Env.CLUSTER_ENDPOINT),
            reader_endpoint=envconfig.endpoint(env, Env.READER_ENDPOINT),
            peer_cluster_endpoint=envconfig.endpoint(env, Env.PEER_CLUSTER_ENDPOINT),
            probe_timeout_seconds=envconfig.number(
                env, Env.PROBE_TIMEOUT_SECONDS, DEFAULT_PROBE_TIMEOUT_SECONDS, 0.1, 10.0
            ),
            run_budget_seconds=envconfig.number(
                env, Env.RUN_BUDGET_SECONDS, DEFAULT_RUN_BUDGET_SECONDS, 0.1, 20.0
            ),
            ca_bundle=envconfig.optional(env, Env.DB_CA_BUNDLE),
        )
