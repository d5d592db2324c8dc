"""The dashboard body: what on-call looks for first, per region, from metrics that exist."""

from __future__ import annotations

import json

from decisions.alarms import RDS_NAMESPACE
from decisions.dashboard import DashboardColumn, dashboard_body
from drplan.harness import PlanRun
from lambdas.drcommon import contract
from stack.roles import DR, PRIMARY
from tests.infra.queries import region_roles

COLUMNS = [
    DashboardColumn("us-east-1", PRIMARY, "cluster-use1", ["db1-use1", "db2-use1"]),
    DashboardColumn("us-west-2", DR, "cluster-usw2", ["db1-usw2"]),
]
# What each of our namespaces holds, from the contract (AWS/RDS metrics are AWS's).
CONTRACT_METRICS = {
    contract.NAMESPACE: {m.name for m in contract.ALL_METRICS},
    contract.AUTOMATION_NAMESPACE: {
        contract.VERIFICATION_SUCCEEDED,
        contract.SNAPSHOT_AGE_SECONDS,
        contract.SNAPSHOT_FRESH,
        contract.COPY_SUCCEEDED,
        contract.RESTORE_SUCCEEDED,
        contract.EXPORT_STARTED,
        contract.REPORT_STORED,
        *contract.CoordinatorOutcome,
    },
}


def widgets_by_region(body: dict) -> dict[str, dict[str, list[list[str]]]]:
    """region -> metric name -> the metric lines that show it."""
    found: dict[str, dict[str, list[list[str]]]] = {}
    for widget in body["widgets"]:
        region = widget["properties"]["region"]
        for line in widget["properties"]["metrics"]:
            found.setdefault(region, {}).setdefault(line[1], []).append(line)
    return found


def test_each_region_shows_lag_commits_connections_health_and_failover_history():
    shown = widgets_by_region(dashboard_body("prod", COLUMNS))
    for column in COLUMNS:
        metrics = shown[column.region]
        # THEN the lag of this region's cluster (only a secondary emits it; roles swap)
        for lag in ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag"):
            assert metrics[lag] == [[RDS_NAMESPACE, lag, "DBClusterIdentifier", column.cluster_id]]
        # AND commits and connections of every instance of the region
        for metric in ("CommitThroughput", "DatabaseConnections"):
            assert sorted(line[3] for line in metrics[metric]) == sorted(column.instance_ids)
        # AND every health metric, this region's checker's, with the contract's dimensions
        for metric in contract.ALL_METRICS:
            cluster_region = (
                next(c.region for c in COLUMNS if c is not column) if metric.peer else column.region
            )
            dims = contract.dimensions("prod", cluster_region)
            assert metrics[metric.name] == [
                [contract.NAMESPACE, metric.name, *[p for kv in dims.items() for p in kv]]
            ]
        # AND the coordinator's outcomes (it runs in both regions), RDS events among them
        for outcome in (
            contract.CoordinatorOutcome.FAILOVER_STARTED,
            contract.CoordinatorOutcome.FAILOVER_REFUSED,
            contract.CoordinatorOutcome.RDS_GLOBAL_FAILOVER_EVENTS,
        ):
            (line,) = metrics[outcome]
            assert line[2:] == ["Environment", "prod", "service", "failover_coordinator"]


def test_backup_status_and_age_are_shown_where_the_verifier_runs_and_only_there():
    shown = widgets_by_region(dashboard_body("prod", COLUMNS))
    dr_region = COLUMNS[1].region
    for metric in (contract.VERIFICATION_SUCCEEDED, contract.SNAPSHOT_AGE_SECONDS):
        (line,) = shown[dr_region][metric]
        assert line[2:] == ["Environment", "prod", "service", "backup_verifier"]
        assert metric not in shown[COLUMNS[0].region], "the primary region has no verifier"


def test_every_metric_of_ours_is_in_the_contract_and_widgets_do_not_overlap():
    body = dashboard_body("prod", COLUMNS)
    cells = set()
    for widget in body["widgets"]:
        for namespace, name, *_ in widget["properties"]["metrics"]:
            if namespace != RDS_NAMESPACE:
                assert name in CONTRACT_METRICS[namespace], f"{namespace}/{name}"
        cell = (widget["x"], widget["y"])
        assert cell not in cells, f"two widgets at {cell}"
        cells.add(cell)
        assert widget["x"] + widget["width"] <= 24


def test_the_deployed_dashboard_has_both_regions_with_their_own_clusters(plan: PlanRun):
    (dashboard,) = plan.of_type("aws:cloudwatch/dashboard:Dashboard")
    shown = widgets_by_region(json.loads(dashboard.inputs["dashboardBody"]))
    clusters = {c.region: c.id for c in plan.of_type("aws:rds/cluster:Cluster")}
    assert set(shown) == set(region_roles(plan).values()) == set(clusters)
    for region, metrics in shown.items():
        assert metrics["AuroraGlobalDBRPOLag"][0][3] == clusters[region]
    assert contract.VERIFICATION_SUCCEEDED in shown[region_roles(plan)["dr"]]


def test_serverless_capacity_gets_a_row_only_when_the_instances_are_serverless(plans):
    # GIVEN the same columns with provisioned and with serverless instances
    provisioned = widgets_by_region(dashboard_body("prod", COLUMNS))
    serverless = widgets_by_region(dashboard_body("prod", COLUMNS, serverless=True))
    for column in COLUMNS:
        assert "ServerlessDatabaseCapacity" not in provisioned[column.region]
        lines = serverless[column.region]["ServerlessDatabaseCapacity"]
        assert sorted(line[3] for line in lines) == sorted(column.instance_ids)
    # AND the stacks get the row as their sizing says (dev runs db.serverless, prod does not)
    for stack, expected in (("dev", True), ("prod", False)):
        (dashboard,) = plans[stack].of_type("aws:cloudwatch/dashboard:Dashboard")
        body = json.loads(dashboard.inputs["dashboardBody"])
        shown = {m for ms in widgets_by_region(body).values() for m in ms}
        assert ("ServerlessDatabaseCapacity" in shown) is expected, stack
