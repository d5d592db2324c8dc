"""Configuration of the health checker, read once per invocation from its environment.

The infrastructure wires exactly the variables listed in `REQUIRED_ENV_VARS` (and may set those in
`OPTIONAL_ENV_VARS`). All values are identifiers or thresholds; the database password is read from
Secrets Manager at run time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from drcommon import envconfig
from drcommon.db import ENV_CA_BUNDLE, Endpoint
from drcommon.envconfig import SettingsError

ENV_ENVIRONMENT = "ENVIRONMENT_SUFFIX"  # the stack's environmentSuffix: the Environment dimension
ENV_LOCAL_REGION = "LOCAL_REGION"  # region this function runs in and publishes metrics to
ENV_PEER_REGION = "PEER_REGION"  # the other region of the global database
ENV_GLOBAL_CLUSTER_ID = "GLOBAL_CLUSTER_IDENTIFIER"
# Name of the credentials secret (same name in both regions).
ENV_DB_SECRET_ID = "DB_SECRET_ID"  # noqa: S105 - a variable name, not a secret
ENV_CLUSTER_ENDPOINT = "CLUSTER_ENDPOINT"  # this region's cluster (writer) endpoint
ENV_READER_ENDPOINT = "READER_ENDPOINT"  # this region's reader endpoint
ENV_PEER_CLUSTER_ENDPOINT = "PEER_CLUSTER_ENDPOINT"  # the peer region's cluster endpoint
ENV_PROBE_TIMEOUT = "PROBE_TIMEOUT_SECONDS"  # per connect / per socket read, default 4
ENV_RUN_BUDGET = "RUN_BUDGET_SECONDS"  # wall-time budget for all probes of one run, default 12
# This region's failover coordinator, paged at once when the peer writer is lost (optional).
ENV_COORDINATOR_FUNCTION = "COORDINATOR_FUNCTION_NAME"

REQUIRED_ENV_VARS = (
    ENV_ENVIRONMENT,
    ENV_LOCAL_REGION,
    ENV_PEER_REGION,
    ENV_GLOBAL_CLUSTER_ID,
    ENV_DB_SECRET_ID,
    ENV_CLUSTER_ENDPOINT,
    ENV_READER_ENDPOINT,
    ENV_PEER_CLUSTER_ENDPOINT,
)
OPTIONAL_ENV_VARS = (ENV_PROBE_TIMEOUT, ENV_RUN_BUDGET, ENV_CA_BUNDLE, ENV_COORDINATOR_FUNCTION)

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
    global_cluster_id: str
    secret_id: str
    cluster_endpoint: Endpoint
    reader_endpoint: Endpoint
    peer_cluster_endpoint: Endpoint
    probe_timeout_seconds: float = DEFAULT_PROBE_TIMEOUT_SECONDS
    run_budget_seconds: float = DEFAULT_RUN_BUDGET_SECONDS
    ca_bundle: str | None = None
    coordinator_function_name: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raises SettingsError naming the variable."""
        env = os.environ if environ is None else environ
        environment = envconfig.required(env, ENV_ENVIRONMENT)
        if not _SUFFIX.match(environment):
            raise SettingsError(
                f"environment variable {ENV_ENVIRONMENT}={environment!r} must be lowercase "
                "letters, digits and '-'"
            )
        local_region = envconfig.region(env, ENV_LOCAL_REGION)
        peer_region = envconfig.region(env, ENV_PEER_REGION)
        if local_region == peer_region:
            raise SettingsError(
                f"{ENV_LOCAL_REGION} and {ENV_PEER_REGION} must differ (both {local_region!r})"
            )
        return cls(
            environment=environment,
            local_region=local_region,
            peer_region=peer_region,
            global_cluster_id=envconfig.required(env, ENV_GLOBAL_CLUSTER_ID),
            secret_id=envconfig.required(env, ENV_DB_SECRET_ID),
            cluster_endpoint=envconfig.endpoint(env, ENV_CLUSTER_ENDPOINT),
            reader_endpoint=envconfig.endpoint(env, ENV_READER_ENDPOINT),
            peer_cluster_endpoint=envconfig.endpoint(env, ENV_PEER_CLUSTER_ENDPOINT),
            probe_timeout_seconds=envconfig.number(
                env, ENV_PROBE_TIMEOUT, DEFAULT_PROBE_TIMEOUT_SECONDS, 0.1, 10.0
            ),
            run_budget_seconds=envconfig.number(
                env, ENV_RUN_BUDGET, DEFAULT_RUN_BUDGET_SECONDS, 0.1, 20.0
            ),
            ca_bundle=envconfig.optional(env, ENV_CA_BUNDLE),
            coordinator_function_name=envconfig.optional(env, ENV_COORDINATOR_FUNCTION),
        )
