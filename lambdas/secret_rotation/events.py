"""The Secrets Manager rotation event: `{"SecretId", "ClientRequestToken", "Step"}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Step names, not secrets (hence the S105 waivers).
CREATE_SECRET = "createSecret"  # noqa: S105
SET_SECRET = "setSecret"  # noqa: S105
TEST_SECRET = "testSecret"  # noqa: S105
FINISH_SECRET = "finishSecret"  # noqa: S105
STEPS = (CREATE_SECRET, SET_SECRET, TEST_SECRET, FINISH_SECRET)


class EventError(ValueError):
    """The event is not a Secrets Manager rotation event."""


@dataclass(frozen=True)
class RotationEvent:
    """A validated rotation request."""

    secret_id: str
    token: str
    step: str


def parse_event(event: Any) -> RotationEvent:
    """Validate the rotation event; raises EventError naming the offending field.

    Extra keys are tolerated (Secrets Manager may add fields); the three required ones are not.
    """
    if not isinstance(event, dict):
        raise EventError(f"rotation event must be a JSON object, got {type(event).__name__}")
    missing = [key for key in ("SecretId", "ClientRequestToken", "Step") if key not in event]
    if missing:
        raise EventError(
            f"not a Secrets Manager rotation event: missing {', '.join(missing)} "
            "(expected SecretId, ClientRequestToken, Step)"
        )
    secret_id, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if not isinstance(secret_id, str) or not secret_id.strip():
        raise EventError("'SecretId' must be a non-empty string")
    # Secrets Manager's ClientRequestToken is 32..64 characters.
    if not isinstance(token, str) or not 32 <= len(token) <= 64:
        raise EventError("'ClientRequestToken' must be a string of 32 to 64 characters")
    if step not in STEPS:
        raise EventError(f"'Step' must be one of {list(STEPS)}, got {step!r}")
    return RotationEvent(secret_id=secret_id, token=token, step=step)
