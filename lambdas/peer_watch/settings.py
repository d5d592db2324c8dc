"""Environment of the peer watch: every variable it reads, validated once.

The variables are `drcommon.contract.WatchEnv`'s; the stack sets them from the sizing (cadence,
window, in-region excuse) and the contract (the remote call budget). "Local" is the region the
watch runs in (`AWS_REGION`); the writer it watches is the one in the peer region.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from drcommon import envconfig
from drcommon.contract import PEER_PROBE_INVOKE_ALLOWANCE_SECONDS, RemoteCallBudget
from drcommon.contract import WatchEnv as Env
from drcommon.envconfig import SettingsError

__all__ = ["Settings", "SettingsError"]

DEFAULT_CADENCE_SECONDS = 10.0
DEFAULT_WINDOW_SECONDS = 20.0
DEFAULT_EXECUTION_SECONDS = 60.0  # one execution of the ticker a minute
DEFAULT_PEER_PROBE_TIMEOUT_SECONDS = 4.0 + PEER_PROBE_INVOKE_ALLOWANCE_SECONDS
# The checker's default run budget and Lambda's part of the invoke.
DEFAULT_HEALTH_PROBE_TIMEOUT_SECONDS = 12.0 + PEER_PROBE_INVOKE_ALLOWANCE_SECONDS
DEFAULT_IN_REGION_EXCUSE_SECONDS = 60.0


@dataclass(frozen=True)
class Settings:
    """Everything the peer watch reads from its environment."""

    local_region: str
    peer_region: str
    environment: str
    global_cluster_id: str
    health_checker_function_name: str
    coordinator_function_name: str
    cadence_seconds: float
    window_seconds: float
    execution_seconds: float
    peer_probe_timeout_seconds: float
    health_probe_timeout_seconds: float
    in_region_excuse_seconds: float
    remote: RemoteCallBudget

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raises `SettingsError` naming the bad variable."""
        env = os.environ if env is None else env
        local_region, peer_region = envconfig.region_pair(env, Env.AWS_REGION, Env.PEER_REGION)
        cadence = envconfig.number(env, Env.PROBE_CADENCE_SECONDS, DEFAULT_CADENCE_SECONDS, 1, 60)
        window = envconfig.number(
            env, Env.CONFIRMATION_WINDOW_SECONDS, DEFAULT_WINDOW_SECONDS, 1, 240
        )
        if window < cadence:
            # One cadence of failures is one failed probe: never evidence enough.
            raise SettingsError(
                f"environment variable {Env.CONFIRMATION_WINDOW_SECONDS}={window:g} must be at "
                f"least {Env.PROBE_CADENCE_SECONDS} ({cadence:g}): a loss needs two failed probes"
            )
        return cls(
            local_region=local_region,
            peer_region=peer_region,
            environment=envconfig.required(env, Env.ENVIRONMENT_SUFFIX),
            global_cluster_id=envconfig.required(env, Env.GLOBAL_CLUSTER_ID),
            health_checker_function_name=envconfig.required(env, Env.HEALTH_CHECKER_FUNCTION_NAME),
            coordinator_function_name=envconfig.required(env, Env.COORDINATOR_FUNCTION_NAME),
            cadence_seconds=cadence,
            window_seconds=window,
            execution_seconds=envconfig.number(
                env, Env.EXECUTION_SECONDS, DEFAULT_EXECUTION_SECONDS, 10, 120
            ),
            peer_probe_timeout_seconds=envconfig.number(
                env, Env.PEER_PROBE_TIMEOUT_SECONDS, DEFAULT_PEER_PROBE_TIMEOUT_SECONDS, 0.5, 25
            ),
            health_probe_timeout_seconds=envconfig.number(
                env,
                Env.HEALTH_PROBE_TIMEOUT_SECONDS,
                DEFAULT_HEALTH_PROBE_TIMEOUT_SECONDS,
                0.5,
                25,
            ),
            in_region_excuse_seconds=envconfig.number(
                env, Env.IN_REGION_FAILOVER_EXCUSE_SECONDS, DEFAULT_IN_REGION_EXCUSE_SECONDS, 0, 120
            ),
            remote=envconfig.remote_budget(
                env,
                Env.REMOTE_CONNECT_TIMEOUT_SECONDS,
                Env.REMOTE_READ_TIMEOUT_SECONDS,
                Env.REMOTE_MAX_ATTEMPTS,
            ),
        )
