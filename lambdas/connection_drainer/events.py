"""The drainer's event schema and its validation.

```
{
  "region": "us-west-2",            # exactly one of "region" / "endpoint": which cluster to drain;
  "endpoint": "<cluster endpoint>", #   must be one of the two configured cluster endpoints
  "gracePeriodSeconds": 0,          # optional, 0..40, default DRAIN_GRACE_PERIOD_SECONDS
  "databases": ["appdb"],           # optional: only sessions connected to these databases
  "users": ["app"],                 # optional: only sessions of these roles
  "dryRun": false                   # optional: report what would be terminated, terminate nothing
}
```
Unknown keys are rejected (a typo such as "database" must not silently widen the drain).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connection_drainer.settings import MAX_GRACE_PERIOD_SECONDS, Settings
from drcommon.db import Endpoint

ALLOWED_KEYS = frozenset(
    {"region", "endpoint", "gracePeriodSeconds", "databases", "users", "dryRun"}
)


class EventError(ValueError):
    """The event does not match the drainer's schema."""


@dataclass(frozen=True)
class DrainRequest:
    """A validated drain request."""

    region: str
    endpoint: Endpoint
    grace_period_seconds: float
    databases: frozenset[str] | None = None
    users: frozenset[str] | None = None
    dry_run: bool = False


def _names(event: dict[str, Any], key: str) -> frozenset[str] | None:
    if key not in event:
        return None
    value = event[key]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item.strip() for item in value)
    ):
        raise EventError(f"'{key}' must be a non-empty list of non-empty strings")
    return frozenset(item.strip() for item in value)


def _by_region(region: Any, settings: Settings) -> tuple[str, Endpoint]:
    """The region named by the event and its configured cluster endpoint."""
    endpoint = settings.endpoint_for_region(region) if isinstance(region, str) else None
    if endpoint is None:
        raise EventError(
            f"'region' must be {settings.local_region!r} or {settings.peer_region!r}, "
            f"got {region!r}"
        )
    return region, endpoint


def _by_endpoint(text: Any, settings: Settings) -> tuple[str, Endpoint]:
    """The configured cluster endpoint the event names (any case, port optional), and its
    region: the configured one is used, never the event's spelling of it."""
    try:
        named = Endpoint.parse(text)
    except ValueError as exc:
        raise EventError(f"'endpoint': {exc}") from None
    region = settings.region_for_endpoint(named)
    endpoint = settings.endpoint_for_region(region) if region is not None else None
    if region is None or endpoint is None:
        raise EventError(
            f"'endpoint' {str(named)!r} is not one of the configured cluster endpoints"
        )
    return region, endpoint


def parse_event(event: Any, settings: Settings) -> DrainRequest:
    """Validate `event` against the schema above; raises EventError with the reason."""
    if not isinstance(event, dict):
        raise EventError(f"event must be a JSON object, got {type(event).__name__}")
    unknown = sorted(set(event) - ALLOWED_KEYS)
    if unknown:
        raise EventError(f"unknown event key(s) {unknown}; allowed: {sorted(ALLOWED_KEYS)}")
    if ("region" in event) == ("endpoint" in event):
        raise EventError("exactly one of 'region' or 'endpoint' is required")

    if "region" in event:
        region, endpoint = _by_region(event["region"], settings)
    else:
        region, endpoint = _by_endpoint(event["endpoint"], settings)

    grace = event.get("gracePeriodSeconds", settings.grace_period_seconds)
    if isinstance(grace, bool) or not isinstance(grace, int | float):
        raise EventError("'gracePeriodSeconds' must be a number")
    if not 0 <= grace <= MAX_GRACE_PERIOD_SECONDS:
        raise EventError(f"'gracePeriodSeconds' must be between 0 and {MAX_GRACE_PERIOD_SECONDS:g}")

    dry_run = event.get("dryRun", False)
    if not isinstance(dry_run, bool):
        raise EventError("'dryRun' must be true or false")

    return DrainRequest(
        region=region,
        endpoint=endpoint,
        grace_period_seconds=float(grace),
        databases=_names(event, "databases"),
        users=_names(event, "users"),
        dry_run=dry_run,
    )
