"""The health-metric contract shared by the health checker Lambda and the infrastructure.

The health checker publishes these metrics every minute in its own region; `Monitoring` builds its
alarms and dashboard from them and `FailoverDns` hangs its Route 53 health checks on those alarms.
This module is the only place where the namespace, metric names and dimension names are spelled:
it is imported by the Pulumi program (as `lambdas.drcommon.contract`) and shipped in the Lambda
layer (as `drcommon.contract`). Keep it free of third-party imports for that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

NAMESPACE = "AuroraDR/Health"

# Dimensions carried by every health metric. `Environment` is the stack's environmentSuffix, so two
# stacks in one account never share a time series. `ClusterRegion` is the region of the cluster
# that was probed (the checker's own region, or the peer region for the peer probe); the metric is
# always published in the checker's own region.
DIMENSION_ENVIRONMENT = "Environment"
DIMENSION_CLUSTER_REGION = "ClusterRegion"


class Unit(StrEnum):
    """CloudWatch units used by the contract."""

    COUNT = "Count"
    MILLISECONDS = "Milliseconds"


@dataclass(frozen=True)
class HealthMetric:
    """One metric of the contract.

    `availability` metrics are 0/1 gauges: alarms on them treat missing data as breaching,
    because a silent region is an unhealthy region. `peer` metrics describe the *other* region's
    cluster, probed over the VPC peering.
    """

    name: str
    unit: Unit
    description: str
    availability: bool
    peer: bool = False


WRITER_AVAILABLE = HealthMetric(
    name="WriterAvailable",
    unit=Unit.COUNT,
    description=(
        "1 when this region's cluster is the global writer and committed a write probe "
        "(heartbeat upsert) within the probe timeout, else 0."
    ),
    availability=True,
)
READER_AVAILABLE = HealthMetric(
    name="ReaderAvailable",
    unit=Unit.COUNT,
    description="1 when this region's reader endpoint accepts a TLS login and answers SELECT 1.",
    availability=True,
)
PEER_WRITER_AVAILABLE = HealthMetric(
    name="PeerWriterAvailable",
    unit=Unit.COUNT,
    description=(
        "1 when the global writer is not lost as seen from this region: when the peer region "
        "holds the writer role (or the role cannot be read), its cluster endpoint, probed over "
        "the peering, accepts a TLS login and answers SELECT 1 as a writer; when this region "
        "holds the writer role there is no peer writer to lose and the value is 1. In the DR "
        "region this is 'the primary writer is reachable from the DR region'."
    ),
    availability=True,
    peer=True,
)
PROBE_LATENCY = HealthMetric(
    name="ProbeLatency",
    unit=Unit.MILLISECONDS,
    description="Wall time of this region's writer-or-reader probe: connect, TLS login, query.",
    availability=False,
)
HEARTBEAT_LAG = HealthMetric(
    name="HeartbeatLag",
    unit=Unit.MILLISECONDS,
    description=(
        "Age of the newest heartbeat row read on this region's cluster: on the writer the write "
        "round trip, on a secondary the observed replication lag."
    ),
    availability=False,
)

ALL_METRICS: tuple[HealthMetric, ...] = (
    WRITER_AVAILABLE,
    READER_AVAILABLE,
    PEER_WRITER_AVAILABLE,
    PROBE_LATENCY,
    HEARTBEAT_LAG,
)

# Table the health checker upserts on the writer and reads on every cluster.
HEARTBEAT_TABLE = "aurora_dr_heartbeat"


# The page a health checker sends its region's coordinator when the peer writer stops answering
# (health_checker/page.py sends it, failover_coordinator/events.py accepts it).
PAGE_SOURCE = "aurora-dr.health-checker"
PAGE_DETAIL_TYPE = "Peer Writer Unreachable"


def dimensions(environment: str, cluster_region: str) -> dict[str, str]:
    """The dimension set of every contract metric, as a name -> value mapping."""
    return {DIMENSION_ENVIRONMENT: environment, DIMENSION_CLUSTER_REGION: cluster_region}
