"""Read everything the decision needs, turning partial failures into explicit observations.

Reads only (no mutation). The global cluster topology is read in the coordinator's own region,
which is alive by construction; the other reads go to the region they describe, and a region
whose API does not answer becomes `AlarmState.UNREACHABLE` rather than an exception, because
"the primary region's API is down" is evidence for the decision, not a reason to give up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drcommon import topology
from drcommon.aws import ClientFactory, Clock, Deadline, retry_throttled
from drcommon.observability import get_logger
from failover_coordinator import SERVICE
from failover_coordinator.decision import AlarmState, LagReading, Observations, Request
from failover_coordinator.settings import Settings

logger = get_logger(SERVICE)

RDS_NAMESPACE = "AWS/RDS"
LAG_METRICS = ("AuroraGlobalDBRPOLag", "AuroraGlobalDBReplicationLag")
LAG_PERIOD_SECONDS = 60


@dataclass
class Observer:
    """Reads topology, cluster status, alarms and lag through clients from `factory`."""

    settings: Settings
    factory: ClientFactory
    clock: Clock
    deadline: Deadline

    def global_cluster(self) -> topology.GlobalClusterSnapshot:
        """The global cluster as seen from the coordinator's own region (throttling retried)."""
        rds = self.factory("rds", self.settings.local.region)
        return retry_throttled(
            lambda: topology.describe_global_cluster(rds, self.settings.global_cluster_id),
            clock=self.clock,
            deadline=self.deadline,
            on_retry=_log_retry("describe_global_clusters"),
        )

    def observe(self, request: Request) -> Observations:
        """Everything `decide()` needs for `request`."""
        topo = self.global_cluster()
        target = topo.member_in(request.target_region)
        writer = topo.writer
        target_cluster = self.target_cluster(target) if target else None
        probe = self.alarm_state(
            request.target_region,
            self.settings.for_region(request.target_region).probe_alarm_name,
        )
        if writer is None or writer.region not in self.settings.regions:
            writer_alarm = AlarmState.MISSING
        else:
            writer_alarm = self.alarm_state(
                writer.region, self.settings.for_region(writer.region).writer_alarm_name
            )
        lag = self.lag(request.target_region, target.cluster_id) if target else LagReading(None)
        return Observations(
            topology=topo,
            target_cluster=target_cluster,
            target_probe_alarm=probe,
            writer_alarm=writer_alarm,
            lag=lag,
        )

    def target_cluster(self, member: topology.GlobalMember) -> topology.ClusterStatus | None:
        """The target cluster's status, or None when it cannot be read (the gate then refuses)."""
        rds = self.factory("rds", member.region)
        try:
            return retry_throttled(
                lambda: topology.describe_cluster(rds, member.cluster_id, region=member.region),
                clock=self.clock,
                deadline=self.deadline,
                on_retry=_log_retry("describe_db_clusters"),
            )
        except (ClientError, BotoCoreError, topology.TopologyError) as exc:
            logger.warning("target cluster unreadable", extra={"error": str(exc)})
            return None

    def alarm_state(self, region: str, alarm_name: str) -> AlarmState:
        """The state of `alarm_name` in `region`; an unreachable API is `UNREACHABLE`."""
        cloudwatch = self.factory("cloudwatch", region)
        try:
            response = retry_throttled(
                lambda: cloudwatch.describe_alarms(
                    AlarmNames=[alarm_name], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
                ),
                clock=self.clock,
                deadline=self.deadline,
                on_retry=_log_retry("describe_alarms"),
            )
        except (BotoCoreError, ClientError) as exc:
            # Connection failures and 5xx after botocore's bounded retries: the region's control
            # plane is not answering, which is itself a symptom of a regional outage.
            logger.warning(
                "alarm unreadable, counting the region as unhealthy",
                extra={"region": region, "alarm": alarm_name, "error": str(exc)},
            )
            return AlarmState.UNREACHABLE
        alarms = response.get("MetricAlarms", []) + response.get("CompositeAlarms", [])
        if not alarms:
            logger.error("alarm not found", extra={"region": region, "alarm": alarm_name})
            return AlarmState.MISSING
        try:
            return AlarmState(alarms[0]["StateValue"])
        except ValueError:
            return AlarmState.MISSING

    def lag(self, region: str, cluster_id: str) -> LagReading:
        """Worst of the latest `AuroraGlobalDBRPOLag` / `...ReplicationLag` datapoints.

        The metrics are emitted in the secondary's region. The dimension sets are discovered
        with `list_metrics` (filtered on `DBClusterIdentifier`) rather than hard-coded, so an
        extra dimension on AWS's side cannot silently turn every reading into "no data".
        A lookback of several minutes matters when the primary just died: the last datapoints
        before the outage are the best estimate of what a failover would lose.
        """
        cloudwatch = self.factory("cloudwatch", region)
        try:
            queries = self._lag_queries(cloudwatch, cluster_id)
            if not queries:
                return LagReading(None, "no lag metrics published for the target cluster")
            now = datetime.fromtimestamp(self.clock.time(), tz=UTC)
            start = now - timedelta(seconds=self.settings.lag_lookback_seconds)
            # One period past "now" so the newest (partial) minute is inside the window.
            end = now + timedelta(seconds=LAG_PERIOD_SECONDS)
            response = retry_throttled(
                lambda: cloudwatch.get_metric_data(
                    MetricDataQueries=queries,
                    StartTime=start,
                    EndTime=end,
                    ScanBy="TimestampDescending",
                ),
                clock=self.clock,
                deadline=self.deadline,
                on_retry=_log_retry("get_metric_data"),
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("lag unreadable", extra={"region": region, "error": str(exc)})
            return LagReading(None, f"lag unreadable: {exc}")
        labels = {q["Id"]: q["Label"] for q in queries}
        latest: list[tuple[float, str]] = []
        for result in response.get("MetricDataResults", []):
            values = result.get("Values", [])
            timestamps = result.get("Timestamps", [])
            if not values:
                continue
            # Newest datapoint of each series (not relying on the response order).
            newest = max(zip(timestamps, values, strict=False), default=(None, values[0]))[1]
            latest.append((float(newest), labels.get(result["Id"], result["Id"])))
        if not latest:
            return LagReading(None, "no lag datapoints in the lookback window")
        worst = max(latest)
        return LagReading(worst[0], worst[1])

    def _lag_queries(self, cloudwatch: Any, cluster_id: str) -> list[dict[str, Any]]:
        queries: list[dict[str, Any]] = []
        for metric_name in LAG_METRICS:
            paginator = cloudwatch.get_paginator("list_metrics")
            pages = paginator.paginate(
                Namespace=RDS_NAMESPACE,
                MetricName=metric_name,
                Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster_id}],
            )
            for page in pages:
                for metric in page.get("Metrics", []):
                    queries.append(
                        {
                            "Id": f"m{len(queries)}",
                            "Label": metric_name,
                            "MetricStat": {
                                "Metric": {
                                    "Namespace": RDS_NAMESPACE,
                                    "MetricName": metric_name,
                                    "Dimensions": metric.get("Dimensions", []),
                                },
                                "Period": LAG_PERIOD_SECONDS,
                                "Stat": "Maximum",
                            },
                            "ReturnData": True,
                        }
                    )
        return queries


def _log_retry(operation: str) -> Callable[[BaseException, float], None]:
    """A `retry_throttled` callback that logs each retry of `operation`."""

    def log(exc: BaseException, delay: float) -> None:
        logger.warning(
            "throttled, retrying", extra={"operation": operation, "delay": delay, "error": str(exc)}
        )

    return log
