"""Configuration of the secret rotation function, read from its environment.

The infrastructure wires the variables in `REQUIRED_ENV_VARS` (and may set `OPTIONAL_ENV_VARS`).
The secret itself comes from the rotation event, never from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from drcommon import envconfig
from drcommon.db import ENV_CA_BUNDLE
from drcommon.envconfig import SettingsError

ENV_LOCAL_REGION = "LOCAL_REGION"  # the primary secret's region (where this function runs)
ENV_GLOBAL_CLUSTER_ID = "GLOBAL_CLUSTER_IDENTIFIER"
ENV_PASSWORD_LENGTH = "PASSWORD_LENGTH"  # noqa: S105 - default 32
ENV_CONNECT_TIMEOUT = "CONNECT_TIMEOUT_SECONDS"  # database connect/read timeout, default 5
# Optional JSON {"<region>": "<https URL>"}: RDS API endpoint per region. The writer may be in the
# other region, and a VPC without NAT reaches that region's RDS API only through an interface
# endpoint over the peering (endpoint-specific DNS name); unset means the public regional endpoint.
ENV_RDS_ENDPOINT_URLS = "RDS_ENDPOINT_URLS"

REQUIRED_ENV_VARS = (ENV_LOCAL_REGION, ENV_GLOBAL_CLUSTER_ID)
OPTIONAL_ENV_VARS = (ENV_PASSWORD_LENGTH, ENV_CONNECT_TIMEOUT, ENV_RDS_ENDPOINT_URLS, ENV_CA_BUNDLE)

DEFAULT_PASSWORD_LENGTH = 32
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0

__all__ = ["Settings", "SettingsError"]


@dataclass(frozen=True)
class Settings:
    """Everything the rotation needs besides AWS clients and the event."""

    local_region: str
    global_cluster_id: str
    password_length: int = DEFAULT_PASSWORD_LENGTH
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    rds_endpoint_urls: dict[str, str] = field(default_factory=dict)
    ca_bundle: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raises SettingsError naming the variable."""
        env = os.environ if environ is None else environ
        urls = envconfig.string_map(env, ENV_RDS_ENDPOINT_URLS)
        for region, url in urls.items():
            if not url.startswith("https://"):
                raise SettingsError(f"{ENV_RDS_ENDPOINT_URLS}[{region!r}] must be an https:// URL")
        return cls(
            local_region=envconfig.region(env, ENV_LOCAL_REGION),
            global_cluster_id=envconfig.required(env, ENV_GLOBAL_CLUSTER_ID),
            # Aurora PostgreSQL accepts master passwords of 8..99 characters.
            password_length=envconfig.integer(
                env, ENV_PASSWORD_LENGTH, DEFAULT_PASSWORD_LENGTH, 16, 99
            ),
            connect_timeout_seconds=envconfig.number(
                env, ENV_CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT_SECONDS, 0.5, 30.0
            ),
            rds_endpoint_urls=urls,
            ca_bundle=envconfig.optional(env, ENV_CA_BUNDLE),
        )
