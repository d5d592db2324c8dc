"""Read everything the decision needs, turning partial failures into explicit observations.

Reads only (no mutation; the fresh probe is a read too: the health checker publishes nothing for
it). The global cluster topology is read first, in the coordinator's own region, which is alive
by construction; everything else is then read at once (`drcommon.parallel.gather`), each read
in the region it describes, so the decision costs its slowest read, not their sum. Every call
into the other region (the one that may be lost) has the remote call budget (connect 1 s, read
2 s, 2 attempts by default), and a region whose API does not answer becomes
`AlarmState.UNREACHABLE` or an unanswered `InRegionView` rather than an exception, because "the
primary region's API is down" is evidence for the decision, not a reason to give up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drcommon import inregion, topology
from drcommon.aws import ClientFactory, Clock, Deadline, remote_config, retry_throttled
from drcommon.inregion import InRegionView
from drcommon.observability import get_logger
from drcommon.parallel import Outcome, gather
from drcommon.peerprobe import PeerProbe, ProbeOutcome, request_peer_probe
from failover_coordinator import SERVICE
from failover_coordinator.decision import (
    AlarmState,
    LagReading,
    Observations,
    Operation,
    Request,
)
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

    def client(self, service: str, region: str) -> Any:
        """A client for `service` in `region`: the remote call budget outside the local region."""
        if region == self.settings.local.region:
            return self.factory(service, region)
        return self.factory(service, region, config=remote_config(self.settings.remote))

    def observe(self, request: Request) -> Observations:
        """Everything `decide()` needs for `request`: the topology, then the rest at once."""
        topo = self.global_cluster()
        now = self.clock.time()
        reads = self._reads(request, topo, now)
        outcomes = gather(reads, timeout_seconds=max(1.0, self.deadline.remaining()))
        return Observations(
            topology=topo,
            target_cluster=_value(outcomes["target_cluster"], None),
            target_probe_alarm=_value(outcomes["probe_alarm"], AlarmState.UNREACHABLE),
            writer_alarm=_value(outcomes["writer_alarm"], AlarmState.UNREACHABLE),
            lag=_value(outcomes["lag"], LagReading(None, "lag read broke")),
            in_region=_value(outcomes.get("in_region"), InRegionView(error="read broke")),
            fresh_probe=_value(
                outcomes.get("fresh_probe"),
                PeerProbe(ProbeOutcome.UNAVAILABLE, "fresh probe broke", 0.0),
            ),
            observed_at=now,
        )

    def _reads(
        self, request: Request, topo: topology.GlobalClusterSnapshot, now: float
    ) -> dict[str, Callable[[], Any]]:
        """The reads `observe` runs concurrently; a failover also reads the writer's in-region
        failover state and asks for a fresh probe of it."""
        target = topo.member_in(request.target_region)
        writer = topo.writer
        known_writer = writer is not None and writer.region in self.settings.regions
        probe_alarm = self.settings.for_region(request.target_region).probe_alarm_name
        reads: dict[str, Callable[[], Any]] = {
            "target_cluster": lambda: self.target_cluster(target) if target else None,
            "probe_alarm": lambda: self.alarm_state(request.target_region, probe_alarm),
            "writer_alarm": lambda: (
                self.alarm_state(
                    writer.region, self.settings.for_region(writer.region).writer_alarm_name
                )
                if writer is not None and known_writer
                else AlarmState.MISSING
            ),
            "lag": lambda: (
                self.lag(request.target_region, target.cluster_id) if target else LagReading(None)
            ),
        }
        if request.operation is Operation.FAILOVER and writer is not None and known_writer:
            reads["in_region"] = lambda: self.in_region(writer, now)
            reads["fresh_probe"] = lambda: self.fresh_probe(request.target_region)
        return reads

    def in_region(self, writer: topology.GlobalMember, now: float) -> InRegionView:
        """The writer cluster's in-region failover state, read in its region."""
        return inregion.read_in_region(
            self.client("rds", writer.region),
            writer.cluster_id,
            now=now,
            lookback_seconds=2 * self.settings.in_region_excuse_seconds,
        )

    def fresh_probe(self, region: str) -> PeerProbe | None:
        """A peer probe by `region`'s health checker, now (None: no checker configured there)."""
        function_name = self.settings.for_region(region).health_checker_function_name
        if not function_name:
            return None
        return request_peer_probe(
            self.factory,
            region=region,
            function_name=function_name,
            timeout_seconds=self.settings.peer_probe_timeout_seconds,
            clock=self.clock,
        )

    def target_cluster(self, member: topology.GlobalMember) -> topology.ClusterStatus | None:
        """The target cluster's status, or None when it cannot be read (the gate then refuses)."""
        rds = self.client("rds", member.region)
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
        cloudwatch = self.client("cloudwatch", region)
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
        cloudwatch = self.client("cloudwatch", region)
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


def _value(outcome: Outcome | None, fallback: Any) -> Any:
    """A read's value, or `fallback` when it broke (each read handles its AWS errors itself)."""
    if outcome is None:
        return None
    if not outcome.ok:
        logger.error("read broke", extra={"error": repr(outcome.error)})
        return fallback
    return outcome.value


def _log_retry(operation: str) -> Callable[[BaseException, float], None]:
    """A `retry_throttled` callback that logs each retry of `operation`."""

    def log(exc: BaseException, delay: float) -> None:
        logger.warning(
            "throttled, retrying", extra={"operation": operation, "delay": delay, "error": str(exc)}
        )

    return log
