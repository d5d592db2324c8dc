"""Who is the writer right now: the Aurora global cluster's runtime topology.

Membership and roles are runtime state (a switchover or failover swaps them), so every function
that needs "the primary" asks `describe_global_clusters` instead of trusting stack configuration.
This module turns the API's answers into small typed snapshots; parsing is pure and separate from
the calls so it can be tested on literal responses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

# FailoverState.Status values; the key is absent when no failover or switchover is under way.
FAILOVER_STATUSES = frozenset({"pending", "failing-over", "switching-over", "cancelling"})

AVAILABLE = "available"


class TopologyError(RuntimeError):
    """The topology could not be read or does not have the expected shape."""


class GlobalClusterNotFound(TopologyError):
    """No global cluster with the requested identifier is visible from this region."""


class ClusterNotFound(TopologyError):
    """No DB cluster with the requested identifier exists in the region asked."""


@dataclass(frozen=True)
class Arn:
    """The parts of an ARN the DR code uses."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def resource_id(self) -> str:
        """The identifier after the resource type (`cluster:<id>` -> `<id>`)."""
        return self.resource.split(":", 1)[1] if ":" in self.resource else self.resource


def parse_arn(arn: str) -> Arn:
    """Split `arn:partition:service:region:account:resource` (the resource may contain `:`)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise TopologyError(f"not an ARN: {arn!r}")
    return Arn(
        partition=parts[1], service=parts[2], region=parts[3], account=parts[4], resource=parts[5]
    )


@dataclass(frozen=True)
class FailoverState:
    """A failover or switchover the global cluster is running (from `FailoverState`)."""

    status: str
    from_arn: str | None
    to_arn: str | None
    is_data_loss_allowed: bool | None


@dataclass(frozen=True)
class GlobalMember:
    """One regional cluster of the global cluster."""

    arn: str
    region: str
    cluster_id: str
    is_writer: bool
    synchronization_status: str | None
    readers: tuple[str, ...]


@dataclass(frozen=True)
class GlobalClusterSnapshot:
    """The global cluster as `describe_global_clusters` reported it at one moment."""

    identifier: str
    arn: str | None
    status: str
    members: tuple[GlobalMember, ...]
    failover_state: FailoverState | None

    @property
    def writer(self) -> GlobalMember | None:
        """The member holding the writer role (None when no member claims it)."""
        return next((m for m in self.members if m.is_writer), None)

    @property
    def failover_in_progress(self) -> bool:
        """True while a failover/switchover runs (or is being cancelled)."""
        return self.failover_state is not None

    def member_in(self, region: str) -> GlobalMember | None:
        """The member cluster in `region`, if any."""
        return next((m for m in self.members if m.region == region), None)

    def member_by_arn(self, arn: str) -> GlobalMember | None:
        """The member with cluster ARN `arn`, if any."""
        return next((m for m in self.members if m.arn == arn), None)

    def is_settled_with_writer(self, target_arn: str) -> bool:
        """True when no failover runs and `target_arn` holds the writer role: the end state."""
        member = self.member_by_arn(target_arn)
        return self.failover_state is None and member is not None and member.is_writer


def parse_global_cluster(raw: Mapping[str, Any]) -> GlobalClusterSnapshot:
    """Build a snapshot from one element of `describe_global_clusters()["GlobalClusters"]`."""
    members = []
    for item in raw.get("GlobalClusterMembers", []):
        arn = item["DBClusterArn"]
        parsed = parse_arn(arn)
        members.append(
            GlobalMember(
                arn=arn,
                region=parsed.region,
                cluster_id=parsed.resource_id,
                is_writer=bool(item.get("IsWriter", False)),
                synchronization_status=item.get("SynchronizationStatus"),
                readers=tuple(item.get("Readers", [])),
            )
        )
    state = raw.get("FailoverState")
    failover_state = None
    # An empty or status-less FailoverState is treated as idle: the API omits the key when idle,
    # and acting on a half-parsed state would be worse than re-reading it on the next poll.
    if state and state.get("Status"):
        failover_state = FailoverState(
            status=state["Status"],
            from_arn=state.get("FromDbClusterArn"),
            to_arn=state.get("ToDbClusterArn"),
            is_data_loss_allowed=state.get("IsDataLossAllowed"),
        )
    return GlobalClusterSnapshot(
        identifier=raw["GlobalClusterIdentifier"],
        arn=raw.get("GlobalClusterArn"),
        status=raw.get("Status", "unknown"),
        members=tuple(members),
        failover_state=failover_state,
    )


def describe_global_cluster(rds: Any, global_cluster_id: str) -> GlobalClusterSnapshot:
    """Read the global cluster `global_cluster_id` through `rds` (any member region works).

    The identifier is also filtered client-side: moto ignores the request filter, and a
    defensive check costs nothing against a real API that honours it.
    """
    try:
        response = rds.describe_global_clusters(GlobalClusterIdentifier=global_cluster_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "GlobalClusterNotFoundFault":
            raise GlobalClusterNotFound(global_cluster_id) from exc
        raise
    wanted = global_cluster_id.lower()
    for raw in response.get("GlobalClusters", []):
        if str(raw.get("GlobalClusterIdentifier", "")).lower() == wanted:
            return parse_global_cluster(raw)
    raise GlobalClusterNotFound(global_cluster_id)


@dataclass(frozen=True)
class InstanceStatus:
    """One DB instance of a regional cluster."""

    identifier: str
    status: str
    is_cluster_writer: bool


@dataclass(frozen=True)
class ClusterStatus:
    """A regional cluster's own status and its instances' availability."""

    identifier: str
    arn: str | None
    region: str
    status: str
    instances: tuple[InstanceStatus, ...]

    @property
    def available_instances(self) -> int:
        """How many instances report `available`."""
        return sum(1 for i in self.instances if i.status == AVAILABLE)

    @property
    def is_available(self) -> bool:
        """The cluster is `available` and can serve: at least one available instance."""
        return self.status == AVAILABLE and self.available_instances >= 1


def parse_cluster_status(
    cluster: Mapping[str, Any], instances: list[Mapping[str, Any]], region: str
) -> ClusterStatus:
    """Combine a `DBClusters` element with the cluster's `DBInstances` elements."""
    statuses = {i["DBInstanceIdentifier"]: i.get("DBInstanceStatus", "unknown") for i in instances}
    members = [
        InstanceStatus(
            identifier=m["DBInstanceIdentifier"],
            # A member the instance listing did not return is not known to be available.
            status=statuses.get(m["DBInstanceIdentifier"], "unknown"),
            is_cluster_writer=bool(m.get("IsClusterWriter", False)),
        )
        for m in cluster.get("DBClusterMembers", [])
    ]
    return ClusterStatus(
        identifier=cluster["DBClusterIdentifier"],
        arn=cluster.get("DBClusterArn"),
        region=region,
        status=cluster.get("Status", "unknown"),
        instances=tuple(members),
    )


def describe_cluster(rds: Any, cluster_id: str, *, region: str) -> ClusterStatus:
    """Read cluster `cluster_id` and its instances through `rds` (a client in `region`)."""
    try:
        clusters = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "DBClusterNotFoundFault":
            raise ClusterNotFound(f"{cluster_id} in {region}") from exc
        raise
    if not clusters:
        raise ClusterNotFound(f"{cluster_id} in {region}")
    instances: list[Mapping[str, Any]] = []
    paginator = rds.get_paginator("describe_db_instances")
    for page in paginator.paginate(Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}]):
        instances.extend(page.get("DBInstances", []))
    return parse_cluster_status(clusters[0], instances, region)
