"""Reads only: what AWS says about the stack right now (thin IO, no judgement).

Each read that fails is kept as the error it raised, so `status` still shows everything else
(a lost region must not hide the surviving one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from drctl.clients import ClientFactory
from drctl.lockview import LockView, parse_lock
from drctl.outputs import StackOutputs
from lambdas.drcommon import contract
from lambdas.drcommon.topology import GlobalClusterSnapshot, TopologyError, describe_global_cluster
from stack.config import AlertSubscriber

T = TypeVar("T")
# The global-database lag metrics (AWS/RDS, per DB cluster; published by the secondary).
LAG_METRICS = ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag")
LAG_LOOKBACK = dt.timedelta(minutes=10)
# A health checker runs every minute: no WriterAvailable datapoint for 5 minutes is silence.
CHECKER_LOOKBACK = dt.timedelta(minutes=5)
# The coordinator's last decision: its outcome metrics (one per invocation) over a day.
DECISION_LOOKBACK = dt.timedelta(hours=24)
DECISION_PERIOD_SECONDS = 300
DECISION_METRICS = {
    "FailoverCompleted": "completed",
    "FailoverFailed": "failed",
    "FailoverRefused": "refused",
    "FailoverBlocked": "blocked",
    "FailoverSuperseded": "superseded",
}
READ_ERRORS = (ClientError, BotoCoreError, TopologyError)


@dataclass(frozen=True)
class Failed:
    """A read that raised."""

    error: str


@dataclass(frozen=True)
class LastDecision:
    """The newest non-zero coordinator outcome metric in a region."""

    outcome: str
    at: dt.datetime


@dataclass
class Observed:
    """Everything `status` read, by region where it is regional."""

    now: dt.datetime
    topology: GlobalClusterSnapshot | Failed
    lag_ms: dict[str, dict[str, float | None] | Failed] = field(default_factory=dict)
    locks: dict[str, LockView | Failed | None] = field(default_factory=dict)
    decisions: dict[str, LastDecision | Failed | None] = field(default_factory=dict)
    checker_seen: dict[str, dt.datetime | Failed | None] = field(default_factory=dict)
    subscribers: dict[str, list[str] | Failed] = field(default_factory=dict)


def attempt(read: Callable[[], T]) -> T | Failed:
    """`read()`, or the error it raised."""
    try:
        return read()
    except READ_ERRORS as exc:
        return Failed(f"{type(exc).__name__}: {exc}")


def read_topology(factory: ClientFactory, outputs: StackOutputs) -> GlobalClusterSnapshot | Failed:
    """The global cluster, read in the configured primary region, else in the DR region."""
    result: GlobalClusterSnapshot | Failed = Failed("not read")
    for region in outputs.regions:
        result = attempt(
            partial(describe_global_cluster, factory("rds", region), outputs.global_cluster_id)
        )
        if not isinstance(result, Failed):
            return result
    return result


def read_lock(factory: ClientFactory, outputs: StackOutputs, region: str) -> LockView | None:
    """The lock item in `region`'s table (strongly consistent), None when there is none."""
    table = outputs.lock_tables[region]
    item = (
        factory("dynamodb", region)
        .get_item(
            TableName=table,
            Key={contract.LOCK_TABLE.partition_key: {"S": outputs.global_cluster_id}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return parse_lock(item, region=region, table=table) if item else None


def _latest(
    cloudwatch: Any,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    start: dt.datetime,
    end: dt.datetime,
    period: int,
    statistic: str,
) -> list[dict[str, Any]]:
    response = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=start,
        EndTime=end,
        Period=period,
        Statistics=[statistic],
    )
    return sorted(response.get("Datapoints", []), key=lambda p: p["Timestamp"])


def read_lag(cloudwatch: Any, cluster_id: str, now: dt.datetime) -> dict[str, float | None]:
    """The newest value of each global-database lag metric of `cluster_id` (ms, None: none)."""
    lags: dict[str, float | None] = {}
    for metric in LAG_METRICS:
        points = _latest(
            cloudwatch,
            "AWS/RDS",
            metric,
            {"DBClusterIdentifier": cluster_id},
            now - LAG_LOOKBACK,
            now,
            60,
            "Maximum",
        )
        lags[metric] = float(points[-1]["Maximum"]) if points else None
    return lags


def read_checker(
    cloudwatch: Any, outputs: StackOutputs, region: str, now: dt.datetime
) -> dt.datetime | None:
    """When the region's health checker last published `WriterAvailable` (None: not lately)."""
    points = _latest(
        cloudwatch,
        contract.NAMESPACE,
        contract.WRITER_AVAILABLE.name,
        contract.dimensions(outputs.environment, region),
        now - CHECKER_LOOKBACK,
        now,
        60,
        "SampleCount",
    )
    return points[-1]["Timestamp"] if points else None


def read_decision(cloudwatch: Any, outputs: StackOutputs, now: dt.datetime) -> LastDecision | None:
    """The newest coordinator outcome in the region over the last day (its metrics)."""
    newest: LastDecision | None = None
    dimensions = contract.automation_dimensions(outputs.environment, "failover_coordinator")
    for metric, outcome in DECISION_METRICS.items():
        points = _latest(
            cloudwatch,
            contract.AUTOMATION_NAMESPACE,
            metric,
            dimensions,
            now - DECISION_LOOKBACK,
            now,
            DECISION_PERIOD_SECONDS,
            "Sum",
        )
        fired = [p["Timestamp"] for p in points if p["Sum"] > 0]
        if fired and (newest is None or fired[-1] > newest.at):
            newest = LastDecision(outcome, fired[-1])
    return newest


def read_subscribers(sns: Any, topic_arn: str) -> list[str]:
    """The confirmed subscriptions of the alert topic, shown as the stack outputs show them: an
    email address whole, an HTTPS endpoint by its host only (an incident tool's URL path often
    carries its integration key, which must not reach a terminal or a `--json` file)."""
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn).get("Subscriptions", [])
    return [
        AlertSubscriber(s["Protocol"], s["Endpoint"]).shown
        for s in subscriptions
        if s.get("SubscriptionArn", "").startswith("arn:")
    ]


def observe(factory: ClientFactory, outputs: StackOutputs, now: dt.datetime) -> Observed:
    """Every read `status` shows."""
    seen = Observed(now=now, topology=read_topology(factory, outputs))
    for region in outputs.regions:
        cloudwatch = factory("cloudwatch", region)
        seen.locks[region] = attempt(partial(read_lock, factory, outputs, region))
        seen.decisions[region] = attempt(partial(read_decision, cloudwatch, outputs, now))
        seen.checker_seen[region] = attempt(partial(read_checker, cloudwatch, outputs, region, now))
        if region in outputs.alert_topics:
            topic = outputs.alert_topics[region]
            seen.subscribers[region] = attempt(
                partial(read_subscribers, factory("sns", region), topic)
            )
    if not isinstance(seen.topology, Failed):
        for member in seen.topology.members:
            cloudwatch = factory("cloudwatch", member.region)
            seen.lag_ms[member.region] = attempt(
                partial(read_lag, cloudwatch, member.cluster_id, now)
            )
    return seen
