"""The dashboard's body: what an on-call engineer looks at first, one column per region.

Rows, top to bottom, in the order on-call asks: is the global database replicating within its
RPO, does each region's health checker vouch for its cluster, is the writer committing and how
many connect, are the backups fresh and verified, and what did the failover automation do. Every
metric of our own comes from the contract (`lambdas/drcommon/contract.py`); the RDS metrics are
AWS's. Plain data, tested without Pulumi.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from decisions.alarms import RDS_NAMESPACE
from decisions.functions import FUNCTIONS_BY_KEY
from lambdas.drcommon import contract
from stack.roles import Role

# CloudWatch dashboards are 24 units wide; every widget is 6 units high.
DASHBOARD_WIDTH = 24
WIDGET_HEIGHT = 6
# One-minute points for what moves by the minute; the verifier reports once a day and the
# coordinator rarely, so their rows sum or take the extreme over an hour.
MINUTE_SECONDS = 60
HOUR_SECONDS = 3_600
COORDINATOR = "failover_coordinator"
VERIFIER = "backup_verifier"
# Aurora's instance-level "CommitThroughput": "The average number of commit operations per
# second" (Aurora MySQL and Aurora PostgreSQL; Aurora User Guide, instance-level metrics for
# Amazon Aurora). Replication lag metrics: only a secondary emits them.
RDS_LAG_METRICS = ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag")
COORDINATOR_HISTORY = (
    contract.CoordinatorOutcome.FAILOVER_STARTED,
    contract.CoordinatorOutcome.FAILOVER_COMPLETED,
    contract.CoordinatorOutcome.FAILOVER_FAILED,
    contract.CoordinatorOutcome.FAILOVER_REFUSED,
    contract.CoordinatorOutcome.FAILOVER_BLOCKED,
    contract.CoordinatorOutcome.RDS_GLOBAL_FAILOVER_EVENTS,
)
BACKUP_RESULTS = (
    contract.VERIFICATION_SUCCEEDED,
    contract.SNAPSHOT_FRESH,
    contract.COPY_SUCCEEDED,
    contract.RESTORE_SUCCEEDED,
    contract.EXPORT_STARTED,
)

Metric = list[str]
"""One CloudWatch metric line: namespace, name, then dimension name/value pairs."""


@dataclass(frozen=True)
class DashboardColumn:
    """One region on the dashboard: its role, its member cluster and instances."""

    region: str
    role: Role
    cluster_id: str
    instance_ids: Sequence[str]


@dataclass(frozen=True)
class DashboardRow:
    """One row: a widget per region whose `metrics` are not empty."""

    title: str
    stat: str
    period: int
    metrics: Callable[[DashboardColumn], list[Metric]]


def _rds_instances(metric: str) -> Callable[[DashboardColumn], list[Metric]]:
    return lambda column: [
        [RDS_NAMESPACE, metric, "DBInstanceIdentifier", i] for i in column.instance_ids
    ]


def _health(availability: bool, environment: str, peers: dict[str, str]):
    def metrics(column: DashboardColumn) -> list[Metric]:
        return [
            [
                contract.NAMESPACE,
                metric.name,
                *_pairs(
                    contract.dimensions(
                        environment, peers[column.region] if metric.peer else column.region
                    )
                ),
            ]
            for metric in contract.ALL_METRICS
            if metric.availability == availability
        ]

    return metrics


def _automation(service: str, names: Sequence[str], environment: str):
    """The function's metrics in the regions it runs in (none elsewhere)."""

    def metrics(column: DashboardColumn) -> list[Metric]:
        if column.role not in FUNCTIONS_BY_KEY[service].roles:
            return []
        dimensions = _pairs(contract.automation_dimensions(environment, service))
        return [[contract.AUTOMATION_NAMESPACE, name, *dimensions] for name in names]

    return metrics


def _pairs(dimensions: dict[str, str]) -> list[str]:
    return [part for pair in dimensions.items() for part in pair]


def dashboard_rows(
    environment: str, regions: Sequence[DashboardColumn], serverless: bool = False
) -> list[DashboardRow]:
    """The rows, in on-call order (see the module docstring); with `serverless` instances, a
    row of their capacity (`ServerlessDatabaseCapacity`, ACUs) after CPU."""
    names = [column.region for column in regions]
    peers = {r: next((o for o in names if o != r), r) for r in names}
    capacity = DashboardRow(
        "Serverless capacity (ACU)",
        "Maximum",
        MINUTE_SECONDS,
        _rds_instances("ServerlessDatabaseCapacity"),
    )
    return [
        DashboardRow(
            "Global replication / RPO lag (ms)",
            "Maximum",
            MINUTE_SECONDS,
            lambda c: [
                [RDS_NAMESPACE, m, "DBClusterIdentifier", c.cluster_id] for m in RDS_LAG_METRICS
            ],
        ),
        DashboardRow(
            "Health (1 = healthy)", "Minimum", MINUTE_SECONDS, _health(True, environment, peers)
        ),
        DashboardRow(
            "Heartbeat lag / probe latency (ms)",
            "Maximum",
            MINUTE_SECONDS,
            _health(False, environment, peers),
        ),
        DashboardRow(
            "Commits per second", "Average", MINUTE_SECONDS, _rds_instances("CommitThroughput")
        ),
        DashboardRow(
            "Database connections", "Maximum", MINUTE_SECONDS, _rds_instances("DatabaseConnections")
        ),
        DashboardRow(
            "CPU utilisation (%)", "Maximum", MINUTE_SECONDS, _rds_instances("CPUUtilization")
        ),
        *([capacity] if serverless else []),
        DashboardRow(
            "Backup verification (1 = passed)",
            "Minimum",
            HOUR_SECONDS,
            _automation(VERIFIER, BACKUP_RESULTS, environment),
        ),
        DashboardRow(
            "Newest snapshot age (s)",
            "Maximum",
            HOUR_SECONDS,
            _automation(VERIFIER, (contract.SNAPSHOT_AGE_SECONDS,), environment),
        ),
        DashboardRow(
            "Failover history (coordinator outcomes, RDS global-failover events)",
            "Sum",
            HOUR_SECONDS,
            _automation(COORDINATOR, COORDINATOR_HISTORY, environment),
        ),
    ]


def dashboard_body(
    environment: str, regions: Sequence[DashboardColumn], serverless: bool = False
) -> dict[str, Any]:
    """Dashboard JSON: one column per region, one row per `dashboard_rows` entry; a region
    where a row has nothing to show (the verifier runs in one region) leaves its cell empty."""
    width = DASHBOARD_WIDTH // max(1, len(regions))
    widgets: list[dict[str, Any]] = []
    for row_index, row in enumerate(dashboard_rows(environment, regions, serverless)):
        for column_index, column in enumerate(regions):
            metrics = row.metrics(column)
            if not metrics:
                continue
            widgets.append(
                {
                    "type": "metric",
                    "x": column_index * width,
                    "y": row_index * WIDGET_HEIGHT,
                    "width": width,
                    "height": WIDGET_HEIGHT,
                    "properties": {
                        "title": f"{row.title} - {column.region}",
                        "region": column.region,
                        "stat": row.stat,
                        "period": row.period,
                        "view": "timeSeries",
                        "metrics": metrics,
                    },
                }
            )
    return {"widgets": widgets}
