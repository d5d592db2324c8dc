"""Pure specifications of what `Monitoring` watches: alarms, RDS event subscriptions and the
EventBridge pattern for failover events (the dashboard's body is `decisions.dashboard`).

Health alarms are built from the shared health-metric contract (`lambdas/drcommon/contract.py`),
never from repeated metric names. Values may be Pulumi inputs (cluster and instance identifiers);
everything else here is plain data, tested without Pulumi.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdas.drcommon import contract
from stack.sizing import Sizing

RDS_NAMESPACE = "AWS/RDS"
LAMBDA_NAMESPACE = "AWS/Lambda"
GREATER = "GreaterThanThreshold"
LESS = "LessThanThreshold"

# CloudWatch's limits on what one alarm looks at (PutMetricAlarm, Period and EvaluationPeriods):
# "An alarm's total current evaluation period can be no longer than seven days, so `Period`
# multiplied by `EvaluationPeriods` can't be more than 604,800 seconds. For alarms with a period
# of less than one hour (3,600 seconds), the total evaluation period can't be longer than one day
# (86,400 seconds)." A period of a minute or more must be a multiple of 60 ("Valid values are
# 10, 20, 30, and any multiple of 60").
MAX_EVALUATION_SECONDS = 604_800
MAX_SUB_HOUR_EVALUATION_SECONDS = 86_400
HOUR_SECONDS = 3_600

# RDS event categories to subscribe to. RDS event subscriptions have no global-cluster source
# type: a global failover arrives as a db-cluster event (category `global-failover`).
# Security Hub FSBP asks for subscriptions with these source types and categories (control pages
# under docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html): RDS.19
# `DBCluster: ["maintenance","failure"]`, RDS.20 `DBInstance: ["maintenance","configuration
# change","failure"]`, RDS.21 `DBParameterGroup: ["configuration change"]`, RDS.22
# `DBSecurityGroup: ["configuration change","failure"]`.
CLUSTER_EVENT_CATEGORIES = (
    "global-failover",
    "failover",
    "failure",
    "notification",
    "maintenance",
)
INSTANCE_EVENT_CATEGORIES = (
    "availability",
    "failure",
    "failover",
    "low storage",
    "maintenance",
    "configuration change",
)
PARAMETER_GROUP_EVENT_CATEGORIES = ("configuration change",)
SECURITY_GROUP_EVENT_CATEGORIES = ("configuration change", "failure")


@dataclass(frozen=True)
class AccountEventSubscription:
    """An RDS event subscription for every source of one type in the region (no source ids)."""

    key: str
    """Ends the subscription's logical and physical names."""
    source_type: str
    categories: tuple[str, ...]
    why: str


# Not scoped to the stack's own sources: the controls' pass conditions name only the source type
# and the categories. `db-security-group` is the legacy (EC2-Classic) DB security group: the
# stack has none (its instances use VPC security groups), so that subscription exists for RDS.22
# and stays silent.
ACCOUNT_EVENT_SUBSCRIPTIONS = (
    AccountEventSubscription(
        "parameter-group-events",
        "db-parameter-group",
        PARAMETER_GROUP_EVENT_CATEGORIES,
        "a changed DB parameter group (Security Hub RDS.21)",
    ),
    AccountEventSubscription(
        "security-group-events",
        "db-security-group",
        SECURITY_GROUP_EVENT_CATEGORIES,
        "a changed or failed legacy DB security group (Security Hub RDS.22)",
    ),
)
# Managed failover / switchover finished, unplanned failover completed / failed, write path
# blocked / unblocked on the old primary (RDS-EVENT-0185, 0238, 0239, 0390, 0391).
FAILOVER_EVENT_IDS = (
    "RDS-EVENT-0185",
    "RDS-EVENT-0238",
    "RDS-EVENT-0239",
    "RDS-EVENT-0390",
    "RDS-EVENT-0391",
)


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch alarm, before it is declared."""

    key: str
    """Short stable id, part of the alarm's name (e.g. `cpu-db1`)."""
    namespace: str
    metric_name: str
    dimensions: Mapping[str, Any]
    statistic: str
    comparison: str
    threshold: float
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str
    description: str
    health_metric: str | None = None
    """Name of the contract metric for health alarms (FailoverDns looks them up by it)."""


def _rds_alarm(
    sizing: Sizing,
    key: str,
    metric: str,
    dimensions: Mapping[str, Any],
    comparison: str,
    threshold: float,
    description: str,
    statistic: str = "Maximum",
) -> AlarmSpec:
    return AlarmSpec(
        key=key,
        namespace=RDS_NAMESPACE,
        metric_name=metric,
        dimensions=dimensions,
        statistic=statistic,
        comparison=comparison,
        threshold=threshold,
        period=sizing.alarm_period_seconds,
        evaluation_periods=sizing.alarm_evaluation_periods,
        datapoints_to_alarm=sizing.alarm_datapoints_to_alarm,
        treat_missing_data="notBreaching",
        description=description,
    )


def cluster_alarm_specs(sizing: Sizing, cluster_id: Any) -> list[AlarmSpec]:
    """Replication and RPO lag of this region's cluster. Only a secondary emits them, and roles
    swap after a switchover, so both clusters carry both alarms (missing data is normal)."""
    dimensions = {"DBClusterIdentifier": cluster_id}
    return [
        _rds_alarm(
            sizing,
            "replication-lag",
            "AuroraGlobalDBReplicationLag",
            dimensions,
            GREATER,
            sizing.replication_lag_threshold_ms,
            "Global database replication lag into this region's cluster is above budget.",
        ),
        _rds_alarm(
            sizing,
            "rpo-lag",
            "AuroraGlobalDBRPOLag",
            dimensions,
            GREATER,
            sizing.rpo_lag_threshold_ms,
            "Recovery point lag of this region's cluster is above budget: a failover now "
            "would lose more than the RPO allows.",
        ),
    ]


def instance_alarm_specs(sizing: Sizing, label: str, instance_id: Any) -> list[AlarmSpec]:
    """Capacity (CPU and memory, or ACU on db.serverless), local storage, connections and
    transaction-ID age of one instance."""
    dimensions = {"DBInstanceIdentifier": instance_id}
    return [
        *_capacity_alarm_specs(sizing, label, dimensions),
        _rds_alarm(
            sizing,
            f"free-local-storage-{label}",
            "FreeLocalStorage",
            dimensions,
            LESS,
            sizing.free_local_storage_threshold_bytes,
            "Free local (temporary) storage is low.",
            statistic="Minimum",
        ),
        _rds_alarm(
            sizing,
            f"connections-{label}",
            "DatabaseConnections",
            dimensions,
            GREATER,
            sizing.connections_threshold,
            "Database connections are near the limit.",
        ),
        _rds_alarm(
            sizing,
            f"transaction-ids-{label}",
            "MaximumUsedTransactionIDs",
            dimensions,
            GREATER,
            sizing.max_used_transaction_ids_threshold,
            "Transaction IDs are ageing towards wraparound: vacuum is falling behind.",
        ),
    ]


def _capacity_alarm_specs(
    sizing: Sizing, label: str, dimensions: Mapping[str, Any]
) -> list[AlarmSpec]:
    """CPU and freeable memory for a fixed class; ACU use and capacity for db.serverless.

    A serverless instance's CPU and memory follow its capacity, so thresholds meant for a fixed
    class say nothing there (0.5 ACU is about 1 GiB in all). Its own metrics (Aurora User Guide,
    "Important Amazon CloudWatch metrics for Aurora Serverless v2"): `ACUUtilization`, "the
    value of the `ServerlessDatabaseCapacity` metric divided by the maximum ACU value of the DB
    cluster" (near 100 %: the maximum is too low), and `ServerlessDatabaseCapacity`, the
    instance's current capacity in ACUs (what it is billed for).
    """
    if sizing.serverless is not None:
        return [
            _rds_alarm(
                sizing,
                f"acu-utilization-{label}",
                "ACUUtilization",
                dimensions,
                GREATER,
                sizing.acu_utilization_threshold_percent,
                f"Capacity is near the cluster's maximum of {sizing.serverless.max_acu:g} ACU: "
                "the instance cannot scale further (raise the maximum or lower the load).",
                statistic="Average",
            ),
            _rds_alarm(
                sizing,
                f"serverless-capacity-{label}",
                "ServerlessDatabaseCapacity",
                dimensions,
                GREATER,
                sizing.serverless_capacity_threshold_acu,
                f"Capacity is held above {sizing.serverless_capacity_threshold_acu:g} ACU: the "
                f"instance is billed well above its {sizing.serverless.min_acu:g} ACU floor.",
                statistic="Average",
            ),
        ]
    return [
        _rds_alarm(
            sizing,
            f"cpu-{label}",
            "CPUUtilization",
            dimensions,
            GREATER,
            sizing.cpu_threshold_percent,
            "CPU utilisation is high.",
            statistic="Average",
        ),
        _rds_alarm(
            sizing,
            f"freeable-memory-{label}",
            "FreeableMemory",
            dimensions,
            LESS,
            sizing.freeable_memory_threshold_bytes,
            "Freeable memory is low.",
            statistic="Minimum",
        ),
    ]


def health_alarm_specs(
    sizing: Sizing, environment: str, region: str, peer_region: str
) -> list[AlarmSpec]:
    """One alarm per contract metric published by this region's health checker.

    Availability alarms use the `Minimum` statistic (a basic statistic, standard resolution: what
    Route 53 CLOUDWATCH_METRIC health checks require) and treat missing data as breaching: a
    region whose checker is silent is a region we cannot vouch for.
    """
    thresholds = {
        contract.PROBE_LATENCY.name: sizing.probe_latency_threshold_ms,
        contract.HEARTBEAT_LAG.name: sizing.heartbeat_lag_threshold_ms,
    }
    specs = []
    for metric in contract.ALL_METRICS:
        cluster_region = peer_region if metric.peer else region
        if metric.availability:
            statistic, comparison, threshold, missing = "Minimum", LESS, 1.0, "breaching"
        else:
            statistic, comparison, missing = "Maximum", GREATER, "notBreaching"
            threshold = float(thresholds[metric.name])
        specs.append(
            AlarmSpec(
                key=_kebab(metric.name),
                namespace=contract.NAMESPACE,
                metric_name=metric.name,
                dimensions=contract.dimensions(environment, cluster_region),
                statistic=statistic,
                comparison=comparison,
                threshold=threshold,
                period=sizing.alarm_period_seconds,
                evaluation_periods=sizing.health_evaluation_periods,
                datapoints_to_alarm=sizing.health_datapoints_to_alarm,
                treat_missing_data=missing,
                description=metric.description,
                health_metric=metric.name,
            )
        )
    return specs


def function_error_alarm_spec(sizing: Sizing, label: str, function_name: Any) -> AlarmSpec:
    """Any error of a DR function in one period raises its alarm: these functions run rarely
    and matter most exactly when something else is already wrong."""
    return AlarmSpec(
        key=f"{label}-errors",
        namespace=LAMBDA_NAMESPACE,
        metric_name="Errors",
        dimensions={"FunctionName": function_name},
        statistic="Sum",
        comparison=GREATER,
        threshold=0,
        period=sizing.alarm_period_seconds,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        description=f"The {label} function failed.",
    )


def backup_verification_alarm_spec(sizing: Sizing, environment: str, service: str) -> AlarmSpec:
    """The backup verifier's own result: no successful verification reported in the last
    `backup_verify_rate_hours` + `backup_report_slack_hours` raises it. `service` is the
    verifier's package name, which its metrics carry as a dimension.

    One datapoint per run (`VerificationSucceeded`, 1 or 0); `Minimum` below 1 means a run in
    the window failed; missing data is breaching, because a verifier that stops running leaves
    the backups as unverified as one that fails. The period spans one schedule interval plus the
    slack, so a healthy daily run is always inside it; the alarm clears once the failed run's
    datapoint has left the window.
    """
    period = (sizing.backup_verify_rate_hours + sizing.backup_report_slack_hours) * HOUR_SECONDS
    _check_evaluation_window(period, evaluation_periods=1)
    return AlarmSpec(
        key="backup-not-verified",
        namespace=contract.AUTOMATION_NAMESPACE,
        metric_name=contract.VERIFICATION_SUCCEEDED,
        dimensions=contract.automation_dimensions(environment, service),
        statistic="Minimum",
        comparison=LESS,
        threshold=1.0,
        period=period,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        treat_missing_data="breaching",
        description=(
            f"No successful backup verification in the last {period // HOUR_SECONDS} h: the "
            "newest automated snapshot is stale or could not be copied or restored, or the "
            "verifier stopped running. A failed run's report on this topic says which."
        ),
    )


def _check_evaluation_window(period: int, evaluation_periods: int) -> None:
    """Raise `ValueError` when CloudWatch would reject the alarm's period or window."""
    window = period * evaluation_periods
    limit = MAX_EVALUATION_SECONDS if period >= HOUR_SECONDS else MAX_SUB_HOUR_EVALUATION_SECONDS
    if period < 60 or period % 60 or window > limit:
        raise ValueError(
            f"an alarm period of {period} s x {evaluation_periods} is not accepted by CloudWatch: "
            f"the period must be a multiple of 60 s and the window at most {limit} s"
        )


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def failover_event_pattern() -> dict[str, Any]:
    """EventBridge pattern for RDS global-failover / switchover / failover events."""
    return {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Cluster Event"],
        "detail": {"EventID": list(FAILOVER_EVENT_IDS)},
    }


def detection_seconds(spec: AlarmSpec) -> int:
    """Time from the first bad datapoint until the alarm fires (period x datapoints)."""
    return spec.period * spec.datapoints_to_alarm
