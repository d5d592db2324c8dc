"""Configuration of the secret rotation function, read from its environment.

The variables are `drcommon.contract.RotationEnv`'s; the stack sets them from there.
The secret itself comes from the rotation event, never from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from drcommon import envconfig
from drcommon.contract import RotationEnv as Env
from drcommon.envconfig import SettingsError

# The variable names and which are required are the contract's (the stack sets them from there).
# These lists serve the stack's wiring test (tests/infra/test_dr_automation.py).

DEFAULT_PASSWORD_LENGTH = 32
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0

__all__ = ["Settings", "SettingsError"]


@dataclass(frozen=True)
class Settings:
    """Everything the rotation needs besides AWS clients and the event."""

    local_region: str
    password_length: int = DEFAULT_PASSWORD_LENGTH
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    ca_bundle: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raises SettingsError naming the variable."""
        env = os.environ if environ is None else environ
        return cls(
            local_region=envconfig.region(env, Env.LOCAL_REGION),
            # Aurora PostgreSQL accepts master passwords of 8..99 characters.
            password_length=envconfig.integer(
                env, Env.PASSWORD_LENGTH, DEFAULT_PASSWORD_LENGTH, 16, 99
            ),
            connect_timeout_seconds=envconfig.number(
                env, Env.CONNECT_TIMEOUT_SECONDS, DEFAULT_CONNECT_TIMEOUT_SECONDS, 0.5, 30.0
            ),
            ca_bundle=envconfig.optional(env, Env.DB_CA_BUNDLE),
        )
