"""Configuration of the connection drainer, read from its environment.

The variables are `drcommon.contract.DrainerEnv`'s; the stack sets them from there.
The two cluster endpoints are the only hosts the drainer will ever log in to: an event names one of
them (or its region), so an event can never send the master credentials to an arbitrary host.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from drcommon import envconfig
from drcommon.contract import DrainerEnv as Env
from drcommon.db import Endpoint
from drcommon.envconfig import SettingsError

# The variable names and which are required are the contract's (the stack sets them from there).
# These lists serve the stack's wiring test (tests/infra/test_dr_automation.py).

DEFAULT_GRACE_PERIOD_SECONDS = 5.0
# The function's timeout is 60 s: leave room for login, listing and terminating.
MAX_GRACE_PERIOD_SECONDS = 40.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
# RDS's own management sessions: terminating them is never ours to do (and is refused anyway).
ALWAYS_PROTECTED_USERS = frozenset({"rdsadmin"})

__all__ = ["MAX_GRACE_PERIOD_SECONDS", "Settings", "SettingsError"]


@dataclass(frozen=True)
class Settings:
    """Everything the drainer needs besides AWS clients and the secret's value."""

    local_region: str
    peer_region: str
    cluster_endpoint: Endpoint
    peer_cluster_endpoint: Endpoint
    secret_id: str
    grace_period_seconds: float = DEFAULT_GRACE_PERIOD_SECONDS
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    protected_users: frozenset[str] = ALWAYS_PROTECTED_USERS
    ca_bundle: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raises SettingsError naming the variable."""
        env = os.environ if environ is None else environ
        local_region, peer_region = envconfig.region_pair(env, Env.LOCAL_REGION, Env.PEER_REGION)
        return cls(
            local_region=local_region,
            peer_region=peer_region,
            cluster_endpoint=envconfig.endpoint(env, Env.CLUSTER_ENDPOINT),
            peer_cluster_endpoint=envconfig.endpoint(env, Env.PEER_CLUSTER_ENDPOINT),
            secret_id=envconfig.required(env, Env.DB_SECRET_ID),
            grace_period_seconds=envconfig.number(
                env,
                Env.DRAIN_GRACE_PERIOD_SECONDS,
                DEFAULT_GRACE_PERIOD_SECONDS,
                0.0,
                MAX_GRACE_PERIOD_SECONDS,
            ),
            connect_timeout_seconds=envconfig.number(
                env, Env.CONNECT_TIMEOUT_SECONDS, DEFAULT_CONNECT_TIMEOUT_SECONDS, 0.5, 15.0
            ),
            protected_users=ALWAYS_PROTECTED_USERS
            | frozenset(envconfig.name_list(env, Env.PROTECTED_USERS)),
            ca_bundle=envconfig.optional(env, Env.DB_CA_BUNDLE),
        )

    def endpoint_for_region(self, region: str) -> Endpoint | None:
        """The configured cluster endpoint of `region`, or None for an unknown region."""
        return {
            self.local_region: self.cluster_endpoint,
            self.peer_region: self.peer_cluster_endpoint,
        }.get(region)

    def region_for_endpoint(self, endpoint: Endpoint) -> str | None:
        """The region whose configured endpoint is `endpoint` (host match, any case), or None."""
        for region, known in (
            (self.local_region, self.cluster_endpoint),
            (self.peer_region, self.peer_cluster_endpoint),
        ):
            if known.host.lower() == endpoint.host.lower() and endpoint.port in (None, known.port):
                return region
        return None
