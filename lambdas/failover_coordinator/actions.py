"""The coordinator's side effects: start the role change, wait for it, probe, drain, notify.

Each function does one thing against one client, so the orchestration in `coordinator.py`
reads as the runbook it automates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drcommon import alerts, contract, topology
from drcommon.aws import Clock, Deadline, client_config, retry_throttled
from drcommon.observability import get_logger
from failover_coordinator import SERVICE
from failover_coordinator.decision import Operation

logger = get_logger(SERVICE)

MUTATING_RDS_OPERATIONS = frozenset({"FailoverGlobalCluster", "SwitchoverGlobalCluster"})


def start_role_change(
    rds: Any,
    operation: Operation,
    *,
    global_cluster_id: str,
    target_arn: str,
    clock: Clock,
    deadline: Deadline,
) -> None:
    """Ask RDS to move the writer to `target_arn` (throttling retried until the deadline).

    A failover is `FailoverGlobalCluster(AllowDataLoss=True)` - never combined with
    `Switchover=True`, which the API rejects; a planned move is `SwitchoverGlobalCluster`.
    Call it with a client in the *target* region: that region is alive by construction.
    """
    if operation is Operation.FAILOVER:

        def call() -> Any:
            return rds.failover_global_cluster(
                GlobalClusterIdentifier=global_cluster_id,
                TargetDbClusterIdentifier=target_arn,
                AllowDataLoss=True,
            )
    else:

        def call() -> Any:
            return rds.switchover_global_cluster(
                GlobalClusterIdentifier=global_cluster_id,
                TargetDbClusterIdentifier=target_arn,
            )

    retry_throttled(
        call,
        clock=clock,
        deadline=deadline,
        on_retry=lambda exc, delay: logger.warning(
            "role change throttled, retrying", extra={"delay": delay, "error": str(exc)}
        ),
    )


@dataclass(frozen=True)
class WaitOutcome:
    """How waiting for the role change ended."""

    completed: bool
    polls: int
    seconds: float
    last_state: str


def wait_for_writer(
    rds: Any,
    *,
    global_cluster_id: str,
    target_arn: str,
    clock: Clock,
    deadline: Deadline,
    poll_interval: float,
) -> WaitOutcome:
    """Poll `describe_global_clusters` until no failover runs and `target_arn` is the writer.

    Bounded by `deadline`. A poll that fails (throttling, a transient error) is logged and the
    loop carries on: the role change is RDS's job now, we only watch it.
    """
    started = clock.monotonic()
    polls = 0
    last_state = "not read"
    while True:
        polls += 1
        try:
            snapshot = topology.describe_global_cluster(rds, global_cluster_id)
        except (ClientError, BotoCoreError, topology.TopologyError) as exc:
            last_state = f"poll failed: {exc}"
            logger.warning("global cluster poll failed", extra={"error": str(exc)})
        else:
            if snapshot.is_settled_with_writer(target_arn):
                return WaitOutcome(True, polls, clock.monotonic() - started, "writer moved")
            state = snapshot.failover_state
            last_state = (
                f"{state.status} ({state.from_arn} -> {state.to_arn})"
                if state
                else f"idle, writer {snapshot.writer.arn if snapshot.writer else 'none'}"
            )
        if deadline.remaining() <= poll_interval:
            return WaitOutcome(False, polls, clock.monotonic() - started, last_state)
        clock.sleep(poll_interval)


@dataclass(frozen=True)
class InvokeOutcome:
    """Result of a best-effort synchronous invocation of a helper function (drain, probe)."""

    ok: bool
    detail: str
    seconds: float


def invoke_sync(
    factory: Any,
    *,
    what: str,
    region: str,
    function_name: str,
    payload: bytes,
    timeout_seconds: float,
    clock: Clock,
) -> InvokeOutcome:
    """Invoke `function_name` in `region` synchronously, bounded by `timeout_seconds`.

    Best effort by design: a failure, a function error or a timeout is reported, never raised.
    The client is a one-off with a read timeout of `timeout_seconds` (a synchronous invoke
    answers only when the function returns) and a single attempt: a retry would double the wait,
    and for the drainer could drain twice.
    """
    started = clock.monotonic()
    config = client_config(
        connect_timeout=min(3.0, timeout_seconds), read_timeout=timeout_seconds, max_attempts=1
    )
    try:
        client = factory("lambda", region, config=config)
        response = client.invoke(
            FunctionName=function_name, InvocationType="RequestResponse", Payload=payload
        )
        body = response["Payload"].read().decode("utf-8", "replace")
        if response.get("FunctionError"):
            detail = f"{what} reported {response['FunctionError']}: {body[:500]}"
            return InvokeOutcome(False, detail, clock.monotonic() - started)
        return InvokeOutcome(True, body[:500], clock.monotonic() - started)
    except (ClientError, BotoCoreError) as exc:
        return InvokeOutcome(False, f"{what} not reachable: {exc}", clock.monotonic() - started)


def drain_old_writer(
    factory: Any,
    *,
    region: str,
    function_name: str,
    payload: dict[str, Any],
    timeout_seconds: float,
    clock: Clock,
) -> InvokeOutcome:
    """Invoke the connection drainer in `region` synchronously (see `invoke_sync`)."""
    return invoke_sync(
        factory,
        what="drainer",
        region=region,
        function_name=function_name,
        payload=json.dumps(payload).encode(),
        timeout_seconds=timeout_seconds,
        clock=clock,
    )


def probe_new_writer(
    factory: Any,
    *,
    region: str,
    function_name: str,
    timeout_seconds: float,
    clock: Clock,
) -> InvokeOutcome:
    """Run the health run of the new writer's region now (its peer watch, with
    `contract.HEALTH_RUN_EVENT`: the checker's probes, then the metrics).

    Route 53 follows the new writer through the alarm on its `WriterAvailable` metric, which is
    otherwise published only at the next scheduled minute: probing right after the promotion
    takes up to a minute off the DNS part of the recovery time.
    """
    return invoke_sync(
        factory,
        what="health run",
        region=region,
        function_name=function_name,
        payload=json.dumps(contract.HEALTH_RUN_EVENT).encode(),
        timeout_seconds=timeout_seconds,
        clock=clock,
    )


def notify(sns: Any, topic_arn: str, *, subject: str, summary: dict[str, Any]) -> bool:
    """Publish `summary` (JSON) to the topic; a failure is logged and returned, not raised.

    The notification is how humans learn what happened, but failing to send it must not turn a
    completed failover into an error, nor hide the result the handler returns.
    """
    problem = alerts.publish_summary(sns, topic_arn, subject=subject, summary=summary)
    if problem is not None:
        logger.error("SNS publish failed", extra={"error": problem, "subject": subject})
        return False
    return True
