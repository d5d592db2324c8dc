"""Environment of the failover coordinator: every variable it reads, validated once.

The coordinator is deployed in both regions with the same code. "Local" is the region it runs in
(`AWS_REGION`, set by the Lambda runtime), "peer" is the other one. Which of the two currently
holds the writer role is never configured: it is read from `describe_global_clusters`.

Alarm vocabulary (both alarms exist in both regions, built from `drcommon.contract`):
* probe alarm  - on `PeerWriterAvailable`: "the global writer is unreachable from this region";
* writer alarm - on `WriterAvailable`: "this region's cluster is the writer and accepts writes".

The health checkers' function names are optional: when set, the coordinator invokes the new
writer region's checker right after a completed role change, so `WriterAvailable` (which Route 53
follows through the writer alarm) is published at once instead of at the next scheduled minute.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drcommon import envconfig
from drcommon.contract import (
    PEER_PROBE_INVOKE_ALLOWANCE_SECONDS,
    REMOTE_CALL_BUDGET,
    RemoteCallBudget,
)
from drcommon.contract import CoordinatorEnv as Env
from drcommon.envconfig import SettingsError

# The variable names and which are required are the contract's (the stack sets them from there).
# These two lists serve the stack's wiring test (tests/infra/test_dr_automation.py).

DEFAULT_LAG_LOOKBACK_SECONDS = 600
# The lease outlives the 300 s function timeout, so a crashed run's lock frees itself only after
# that run is certainly dead.
DEFAULT_LOCK_LEASE_SECONDS = 900
# The stack sets it from the sizing (`failed_lock_block_minutes`, where the value is reasoned).
DEFAULT_FAILED_LOCK_BLOCK_MINUTES = 30
DEFAULT_POLL_INTERVAL_SECONDS = 10.0
# The drainer waits its grace period (default 5 s), logs in and terminates: 30 s covers it.
DEFAULT_DRAIN_TIMEOUT_SECONDS = 30.0
# The health checker's probe timeout (its default, 4 s) plus Lambda's part of the invoke.
DEFAULT_PEER_PROBE_TIMEOUT_SECONDS = 4.0 + PEER_PROBE_INVOKE_ALLOWANCE_SECONDS
# Aurora's in-region failover figure (stack/sizing.py, `in_region_failover_excuse_seconds`).
DEFAULT_IN_REGION_EXCUSE_SECONDS = 60.0

_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


@dataclass(frozen=True)
class RegionSettings:
    """Names of the coordinator's counterparts in one region."""

    region: str
    probe_alarm_name: str
    writer_alarm_name: str
    drainer_function_name: str
    # The failover lock of a role change towards this region lives in this table.
    lock_table_name: str
    # Asked for a fresh peer probe before a failover; None: not wired.
    health_checker_function_name: str | None = None
    # Its health run (the peer watch's) runs right after this region's cluster is promoted;
    # None: not wired, no run.
    health_run_function_name: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the coordinator reads from its environment."""

    global_cluster_id: str
    environment: str
    local: RegionSettings
    peer: RegionSettings
    sns_topic_arn: str
    lag_budget_ms: float
    lag_lookback_seconds: int
    lock_lease_seconds: int
    failed_lock_block_seconds: int
    poll_interval_seconds: float
    drain_timeout_seconds: float
    peer_probe_timeout_seconds: float = DEFAULT_PEER_PROBE_TIMEOUT_SECONDS
    in_region_excuse_seconds: float = DEFAULT_IN_REGION_EXCUSE_SECONDS
    remote: RemoteCallBudget = REMOTE_CALL_BUDGET
    """The budget of every call into the peer region (the one that may be lost)."""

    @property
    def regions(self) -> tuple[str, str]:
        """(local, peer)."""
        return (self.local.region, self.peer.region)

    def for_region(self, region: str) -> RegionSettings:
        """The per-region names for `region` (local or peer)."""
        if region == self.local.region:
            return self.local
        if region == self.peer.region:
            return self.peer
        raise KeyError(f"{region} is neither the local ({self.local.region}) nor the peer region")

    def other_region(self, region: str) -> str:
        """The region of the pair that is not `region`."""
        return self.peer.region if region == self.local.region else self.local.region

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raises `SettingsError` naming the bad variable."""
        env = os.environ if env is None else env
        local_region, peer_region = envconfig.region_pair(env, Env.AWS_REGION, Env.PEER_REGION)
        topic = envconfig.required(env, Env.SNS_TOPIC_ARN)
        if not _SNS_ARN.match(topic):
            raise SettingsError(
                f"environment variable {Env.SNS_TOPIC_ARN}={topic!r} is not an SNS topic ARN"
            )
        if envconfig.optional(env, Env.LAG_BUDGET_MS) is None:
            raise SettingsError(f"environment variable {Env.LAG_BUDGET_MS} is required but not set")
        return cls(
            global_cluster_id=envconfig.required(env, Env.GLOBAL_CLUSTER_ID),
            environment=envconfig.required(env, Env.ENVIRONMENT_SUFFIX),
            local=RegionSettings(
                region=local_region,
                probe_alarm_name=envconfig.required(env, Env.LOCAL_PROBE_ALARM_NAME),
                writer_alarm_name=envconfig.required(env, Env.LOCAL_WRITER_ALARM_NAME),
                drainer_function_name=envconfig.required(env, Env.LOCAL_DRAINER_FUNCTION_NAME),
                lock_table_name=_table_name(env, Env.LOCAL_LOCK_TABLE_NAME),
                health_checker_function_name=envconfig.optional(
                    env, Env.LOCAL_HEALTH_CHECKER_FUNCTION_NAME
                ),
                health_run_function_name=envconfig.optional(
                    env, Env.LOCAL_HEALTH_RUN_FUNCTION_NAME
                ),
            ),
            peer=RegionSettings(
                region=peer_region,
                probe_alarm_name=envconfig.required(env, Env.PEER_PROBE_ALARM_NAME),
                writer_alarm_name=envconfig.required(env, Env.PEER_WRITER_ALARM_NAME),
                drainer_function_name=envconfig.required(env, Env.PEER_DRAINER_FUNCTION_NAME),
                lock_table_name=_table_name(env, Env.PEER_LOCK_TABLE_NAME),
                health_checker_function_name=envconfig.optional(
                    env, Env.PEER_HEALTH_CHECKER_FUNCTION_NAME
                ),
                health_run_function_name=envconfig.optional(env, Env.PEER_HEALTH_RUN_FUNCTION_NAME),
            ),
            sns_topic_arn=topic,
            lag_budget_ms=envconfig.number(env, Env.LAG_BUDGET_MS, 0.0, 0.0, 86_400_000.0),
            lag_lookback_seconds=envconfig.integer(
                env, Env.LAG_LOOKBACK_SECONDS, DEFAULT_LAG_LOOKBACK_SECONDS, 60, 86_400
            ),
            lock_lease_seconds=envconfig.integer(
                env, Env.LOCK_LEASE_SECONDS, DEFAULT_LOCK_LEASE_SECONDS, 360, 86_400
            ),
            failed_lock_block_seconds=60
            * envconfig.integer(
                env, Env.FAILED_LOCK_BLOCK_MINUTES, DEFAULT_FAILED_LOCK_BLOCK_MINUTES, 1, 10_080
            ),
            poll_interval_seconds=envconfig.number(
                env, Env.POLL_INTERVAL_SECONDS, DEFAULT_POLL_INTERVAL_SECONDS, 1.0, 60.0
            ),
            drain_timeout_seconds=envconfig.number(
                env, Env.DRAIN_TIMEOUT_SECONDS, DEFAULT_DRAIN_TIMEOUT_SECONDS, 1.0, 60.0
            ),
            **_peer_reads(env),
        )


def _table_name(env: Mapping[str, str], name: str) -> str:
    """A required DynamoDB table name."""
    table = envconfig.required(env, name)
    if not _TABLE_NAME.match(table):
        raise SettingsError(f"environment variable {name}={table!r} is not a DynamoDB table name")
    return table


def _peer_reads(env: Mapping[str, str]) -> dict[str, Any]:
    """How the coordinator reads the peer region before failing over: the fresh probe's timeout,
    the in-region failover excuse and the budget of every call into that region."""
    return {
        "peer_probe_timeout_seconds": envconfig.number(
            env, Env.PEER_PROBE_TIMEOUT_SECONDS, DEFAULT_PEER_PROBE_TIMEOUT_SECONDS, 0.5, 25
        ),
        "in_region_excuse_seconds": envconfig.number(
            env, Env.IN_REGION_FAILOVER_EXCUSE_SECONDS, DEFAULT_IN_REGION_EXCUSE_SECONDS, 0, 120
        ),
        "remote": envconfig.remote_budget(
            env,
            Env.REMOTE_CONNECT_TIMEOUT_SECONDS,
            Env.REMOTE_READ_TIMEOUT_SECONDS,
            Env.REMOTE_MAX_ATTEMPTS,
        ),
    }
