"""Typed reads of Lambda environment variables with errors that name the variable.

Each function's `settings.py` lists the variables it reads as module-level constants and builds a
frozen `Settings` from them with these helpers. Environment variables carry identifiers only
(names, ARNs, endpoints, regions, thresholds), never secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from drcommon.contract import REMOTE_CALL_BUDGET, RemoteCallBudget
from drcommon.db import Endpoint

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class SettingsError(ValueError):
    """A required environment variable is missing or malformed."""


def required(env: Mapping[str, str], name: str) -> str:
    """The stripped value of `name`; raises SettingsError when unset or blank."""
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required but not set")
    return value


def optional(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """The stripped value of `name`, or `default` when unset or blank."""
    value = env.get(name, "").strip()
    return value or default


def region(env: Mapping[str, str], name: str) -> str:
    """A required AWS region name such as `us-east-1`."""
    value = required(env, name)
    if not _REGION.match(value):
        raise SettingsError(f"environment variable {name}={value!r} is not an AWS region name")
    return value


def region_pair(env: Mapping[str, str], local_name: str, peer_name: str) -> tuple[str, str]:
    """(local, peer): the region the function runs in and the other region of the global
    database, both required, both region names, and different from each other."""
    local = region(env, local_name)
    peer = region(env, peer_name)
    if peer == local:
        raise SettingsError(
            f"environment variable {peer_name}={peer!r} must differ from {local_name} "
            "(the function's own region)"
        )
    return local, peer


def endpoint(env: Mapping[str, str], name: str) -> Endpoint:
    """A required database endpoint, `host` or `host:port`."""
    value = required(env, name)
    try:
        return Endpoint.parse(value)
    except ValueError as exc:
        raise SettingsError(f"environment variable {name}: {exc}") from None


def number(
    env: Mapping[str, str],
    name: str,
    default: float,
    minimum: float,
    maximum: float,
) -> float:
    """An optional number in [minimum, maximum] (default when unset)."""
    text = optional(env, name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"environment variable {name}={text!r} is not a number") from None
    if not minimum <= value <= maximum:
        raise SettingsError(
            f"environment variable {name}={text!r} must be between {minimum:g} and {maximum:g}"
        )
    return value


def integer(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    """An optional integer in [minimum, maximum] (default when unset)."""
    value = number(env, name, default, minimum, maximum)
    if value != int(value):
        raise SettingsError(f"environment variable {name} must be an integer")
    return int(value)


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def flag(env: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    """An optional true/false (`1/0`, `true/false`, `yes/no`, `on/off`, any case; `default`
    when unset)."""
    text = (optional(env, name) or str(default)).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"environment variable {name}={text!r} must be true or false")


def name_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """An optional comma-separated list of names (empty tuple when unset)."""
    text = optional(env, name) or ""
    return tuple(item.strip() for item in text.split(",") if item.strip())


def string_map(env: Mapping[str, str], name: str) -> dict[str, str]:
    """An optional JSON object of string -> string (empty when unset)."""
    text = optional(env, name)
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise SettingsError(f"environment variable {name} is not valid JSON") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SettingsError(f"environment variable {name} must be a JSON object of strings")
    return value


def remote_budget(
    env: Mapping[str, str], connect_name: str, read_name: str, attempts_name: str
) -> RemoteCallBudget:
    """The budget of calls into the other region from three optional variables (connect and
    read timeouts in seconds, attempts), `contract.REMOTE_CALL_BUDGET`'s values by default."""
    default = REMOTE_CALL_BUDGET
    return RemoteCallBudget(
        connect_timeout_seconds=number(env, connect_name, default.connect_timeout_seconds, 0.1, 10),
        read_timeout_seconds=number(env, read_name, default.read_timeout_seconds, 0.1, 30),
        max_attempts=integer(env, attempts_name, default.max_attempts, 1, 3),
    )
