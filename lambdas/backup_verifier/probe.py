"""How a restored cluster is judged usable: a pluggable probe.

* `availability_probe` (default): the restored cluster and its instance reached `available`.
  Needs nothing but the RDS API.
* `CheckerProbe` (when the region's health checker is configured): the VPC-attached checker
  logs in over verified TLS with the stack's credentials, which it reads itself, and checks the
  application schema came back with the data (`health_checker.restore`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from drcommon import contract

AVAILABLE = "available"


@dataclass(frozen=True)
class RestoredCluster:
    """The throw-away cluster a probe is pointed at."""

    cluster_id: str
    instance_id: str
    region: str
    status: str
    instance_status: str
    endpoint: str | None
    port: int | None


@dataclass(frozen=True)
class ProbeResult:
    """A probe's verdict."""

    ok: bool
    detail: str


class RestoreProbe(Protocol):
    """Anything that can judge a restored cluster."""

    def __call__(self, target: RestoredCluster) -> ProbeResult:
        """Return whether `target` is usable, and why."""
        ...


def availability_probe(target: RestoredCluster) -> ProbeResult:
    """The restored cluster and its instance both reached `available`."""
    ok = target.status == AVAILABLE and target.instance_status == AVAILABLE
    return ProbeResult(
        ok, f"cluster {target.status}, instance {target.instance_status} ({target.cluster_id})"
    )


@dataclass
class CheckerProbe:
    """Ask the region's VPC-attached health checker to log in to the restored cluster.

    The verifier runs outside the VPC and cannot reach the restored cluster; the checker can,
    and reads the stack's credentials itself: the request names only the host and port
    (`contract.RESTORE_PROBE_KEY`). `invoke(payload)` invokes the checker synchronously and
    returns `(function_error, body)`.
    """

    invoke: Callable[[bytes], tuple[str | None, str]]

    def __call__(self, target: RestoredCluster) -> ProbeResult:
        """The checker's verdict on `target` (a failed or malformed answer is a failed probe)."""
        if not target.endpoint or not target.port:
            return ProbeResult(False, f"restored cluster {target.cluster_id} has no endpoint")
        request = {contract.RESTORE_PROBE_KEY: {"host": target.endpoint, "port": target.port}}
        try:
            function_error, body = self.invoke(json.dumps(request).encode())
        except (ClientError, BotoCoreError) as exc:
            return ProbeResult(False, f"health checker not reachable: {exc}")
        if function_error:
            return ProbeResult(False, f"health checker reported {function_error}: {body[:300]}")
        try:
            answer = json.loads(body)
        except json.JSONDecodeError:
            answer = None
        if (
            not isinstance(answer, dict)
            or set(answer) != contract.RESTORE_PROBE_RESULT_KEYS
            or not isinstance(answer["ok"], bool)
        ):
            return ProbeResult(False, f"unexpected answer from the health checker: {body[:300]}")
        return ProbeResult(answer["ok"], str(answer["detail"]))


def checker_probe(lambda_client: Any, function_name: str) -> CheckerProbe:
    """A `CheckerProbe` invoking `function_name` with `lambda_client` (RequestResponse)."""

    def invoke(payload: bytes) -> tuple[str | None, str]:
        response = lambda_client.invoke(
            FunctionName=function_name, InvocationType="RequestResponse", Payload=payload
        )
        body = response["Payload"].read().decode("utf-8", "replace")
        return response.get("FunctionError"), body

    return CheckerProbe(invoke=invoke)
