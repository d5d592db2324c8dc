"""Post-deploy: both regions' health runs (the peer watch asking its region's health checker for
the SQL probes) see one healthy writer and a secondary keeping up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from drcommon import contract
from tests.integration.deployed import (
    HEALTH_CHECKER_READ_TIMEOUT,
    Aws,
    DeployedStack,
    poll,
    unavailable,
    writer_of,
)

LAG_READ_ATTEMPTS = 4
LAG_READ_INTERVAL_SECONDS = 5.0
REPLICATION_LAG_WINDOW_MINUTES = 10


@dataclass(frozen=True)
class HealthRun:
    """One health-check round: the writer region first, then the secondary."""

    writer_region: str
    secondary_region: str
    secondary_cluster_id: str
    reports: dict[str, dict[str, Any]]  # region -> the health run's report


@pytest.fixture(scope="module")
def health(deployed: DeployedStack, aws: Aws) -> HealthRun:
    """GIVEN the writer as RDS reports it WHEN each region's health run runs once, writer first
    (its heartbeat is the row the secondary then reads back as replication lag)."""
    snapshot = aws.global_cluster(deployed)
    writer = writer_of(snapshot)
    (secondary_region,) = set(deployed.regions) - {writer.region}
    secondary = snapshot.member_in(secondary_region)
    assert secondary is not None, f"the global cluster has no member in {secondary_region}"

    def check(region: str) -> dict[str, Any]:
        arn = deployed.function_arn("peer_watch", region)
        return aws.invoke(arn, contract.HEALTH_RUN_EVENT, read_timeout=HEALTH_CHECKER_READ_TIMEOUT)

    reports = {writer.region: check(writer.region)}
    # The first beat of a fresh stack needs a moment to replicate; a few bounded re-reads only.
    reports[secondary.region] = poll(
        lambda: check(secondary.region),
        lambda report: report["values"].get(contract.HEARTBEAT_LAG.name) is not None,
        attempts=LAG_READ_ATTEMPTS,
        interval=LAG_READ_INTERVAL_SECONDS,
    )
    return HealthRun(writer.region, secondary.region, secondary.cluster_id, reports)


def test_every_probe_of_both_regions_succeeded(health: HealthRun):
    """THEN neither region reports a probe, credential or topology error."""
    for region, report in health.reports.items():
        assert report["errors"] == {}, f"health checker in {region}: {report}"


def test_both_regions_see_the_same_writer_and_it_accepts_writes(health: HealthRun):
    """THEN both checkers name the writer RDS names, only the writer region's WriterAvailable is 1,
    and the writer is reachable from the secondary (PeerWriterAvailable, the failover trigger)."""
    for region, report in health.reports.items():
        values = report["values"]
        assert report["writerRegion"] == health.writer_region, f"{region}: {report}"
        expected_writer = 1 if region == health.writer_region else 0
        assert values[contract.WRITER_AVAILABLE.name] == expected_writer, f"{region}: {report}"
        assert values[contract.READER_AVAILABLE.name] == 1, f"{region}: {report}"
        assert values[contract.PEER_WRITER_AVAILABLE.name] == 1, f"{region}: {report}"


def test_heartbeat_lag_is_under_the_alarm_threshold(health: HealthRun, deployed: DeployedStack):
    """THEN the heartbeat lag each region read is below the sizing's HeartbeatLag alarm threshold."""
    threshold = deployed.sizing.heartbeat_lag_threshold_ms
    for region, report in health.reports.items():
        lag = report["values"].get(contract.HEARTBEAT_LAG.name)
        assert lag is not None, f"{region} read no heartbeat: {report}"
        assert lag <= threshold, f"{region}: heartbeat lag {lag:.0f} ms > {threshold} ms"


def test_replication_lag_is_under_the_alarm_threshold(
    health: HealthRun, deployed: DeployedStack, aws: Aws
):
    """GIVEN the secondary cluster's AuroraGlobalDBReplicationLag over the last minutes, as its
    alarm reads it WHEN the newest datapoint is taken THEN it is below the sizing's threshold."""
    cloudwatch = aws.client("cloudwatch", health.secondary_region)
    now = dt.datetime.now(dt.UTC)
    datapoints = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="AuroraGlobalDBReplicationLag",
        Dimensions=[{"Name": "DBClusterIdentifier", "Value": health.secondary_cluster_id}],
        StartTime=now - dt.timedelta(minutes=REPLICATION_LAG_WINDOW_MINUTES),
        EndTime=now,
        Period=deployed.sizing.alarm_period_seconds,
        Statistics=["Maximum"],
    )["Datapoints"]
    if not datapoints:
        # The alarm treats missing data as not breaching; so does this check, visibly (a skip),
        # except after a deploy, where a secondary that emits no lag is itself a failure.
        unavailable(
            f"no AuroraGlobalDBReplicationLag datapoints for {health.secondary_cluster_id} in "
            f"the last {REPLICATION_LAG_WINDOW_MINUTES} minutes"
        )
    newest = max(datapoints, key=lambda point: point["Timestamp"])
    threshold = deployed.sizing.replication_lag_threshold_ms
    assert newest["Maximum"] <= threshold, (
        f"replication lag into {health.secondary_region}: {newest['Maximum']:.0f} ms at "
        f"{newest['Timestamp']} > {threshold} ms"
    )
