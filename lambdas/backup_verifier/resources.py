"""The verifier's side effects on RDS: copy, restore, tear down, sweep.

Every wait polls with the injected clock and stops at the deadline; every resource created is
tagged (`snapshots.resource_tags`) and named `<prefix>-<environment>-...` so that the sweep of a
later run removes whatever a crashed or timed-out run left behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backup_verifier import SERVICE
from backup_verifier.probe import ProbeResult, RestoredCluster, RestoreProbe
from backup_verifier.settings import Settings
from backup_verifier.snapshots import Snapshot, is_ours, older_than, resource_tags
from drcommon.aws import Clock, Deadline
from drcommon.observability import get_logger

logger = get_logger(SERVICE)

AVAILABLE = "available"
AWS_ERRORS = (ClientError, BotoCoreError)


@dataclass(frozen=True)
class Step:
    """Outcome of one step: ok, failed, timed_out or skipped."""

    status: str
    detail: str
    identifier: str | None = None

    @property
    def ok(self) -> bool:
        """True when the step succeeded."""
        return self.status == "ok"


def wait_until(
    check: Callable[[], tuple[bool, str]],
    *,
    clock: Clock,
    deadline: Deadline,
    interval: float,
) -> tuple[bool, str]:
    """Call `check` until it returns (True, state) or the deadline is near; (done, last state)."""
    while True:
        try:
            done, state = check()
        except AWS_ERRORS as exc:
            # A failed poll is not a failed resource: keep polling until the deadline.
            done, state = False, f"poll failed: {exc}"
        if done:
            return True, state
        if deadline.remaining() <= interval:
            return False, state
        clock.sleep(interval)


def copy_to_region(
    rds: Any,
    snapshot: Snapshot,
    *,
    source_region: str,
    target_id: str,
    settings: Settings,
    clock: Clock,
    deadline: Deadline,
) -> Step:
    """Copy `snapshot` from `source_region` into this region (client `rds`), then wait for it.

    `SourceRegion` makes boto3 presign the request for the source region. `KmsKeyId` is always
    this region's key: "To copy an encrypted DB cluster snapshot to another Amazon Web Services
    Region, you must set KmsKeyId to the Amazon Web Services KMS key identifier you want to use
    to encrypt the copy of the DB cluster snapshot in the destination Amazon Web Services
    Region" (RDS API reference, CopyDBClusterSnapshot, KmsKeyId), and the stack encrypts every
    cluster.
    """
    try:
        rds.copy_db_cluster_snapshot(
            SourceDBClusterSnapshotIdentifier=snapshot.arn,
            TargetDBClusterSnapshotIdentifier=target_id,
            SourceRegion=source_region,
            KmsKeyId=settings.kms_key_id,
            CopyTags=False,
            Tags=resource_tags(settings.environment),
        )
    except AWS_ERRORS as exc:
        return Step("failed", f"copy of {snapshot.identifier} failed: {exc}", target_id)

    def copied() -> tuple[bool, str]:
        items = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=target_id)[
            "DBClusterSnapshots"
        ]
        status = items[0].get("Status", "unknown") if items else "missing"
        return status == AVAILABLE, status

    done, state = wait_until(
        copied, clock=clock, deadline=deadline, interval=settings.poll_interval_seconds
    )
    if not done:
        return Step("timed_out", f"copy {target_id} still {state} at the deadline", target_id)
    return Step("ok", f"copied {snapshot.identifier} -> {target_id}", target_id)


@dataclass
class RestoreOutcome:
    """What the restore test did."""

    restore: Step
    probe: ProbeResult | None = None
    teardown: Step = field(default_factory=lambda: Step("skipped", "nothing created"))


def restore_and_probe(
    rds: Any,
    *,
    snapshot_ref: str,
    snapshot: Snapshot,
    cluster_id: str,
    settings: Settings,
    clock: Clock,
    deadline: Deadline,
    probe: RestoreProbe,
) -> RestoreOutcome:
    """Restore `snapshot_ref` into a throw-away cluster + instance, probe it, delete both."""
    instance_id = f"{cluster_id}-1"
    tags = resource_tags(settings.environment)
    created: list[str] = []
    outcome = RestoreOutcome(Step("failed", "not started", cluster_id))
    try:
        restore_kwargs: dict[str, Any] = {
            "DBClusterIdentifier": cluster_id,
            "SnapshotIdentifier": snapshot_ref,
            "Engine": snapshot.engine,
            "DBSubnetGroupName": settings.restore_subnet_group,
            "VpcSecurityGroupIds": list(settings.restore_security_group_ids),
            "DeletionProtection": False,
            "CopyTagsToSnapshot": False,
            "KmsKeyId": settings.kms_key_id,
            "Tags": tags,
        }
        if snapshot.engine_version:
            restore_kwargs["EngineVersion"] = snapshot.engine_version
        rds.restore_db_cluster_from_snapshot(**restore_kwargs)
        created.append("cluster")
        rds.create_db_instance(
            DBInstanceIdentifier=instance_id,
            DBClusterIdentifier=cluster_id,
            Engine=snapshot.engine,
            DBInstanceClass=settings.restore_instance_class,
            PubliclyAccessible=False,
            Tags=tags,
        )
        created.append("instance")
        target = _wait_restored(rds, cluster_id, instance_id, settings, clock, deadline)
        if target.status != AVAILABLE or target.instance_status != AVAILABLE:
            outcome.restore = Step(
                "timed_out",
                f"cluster {target.status}, instance {target.instance_status} at the deadline",
                cluster_id,
            )
        else:
            outcome.restore = Step("ok", f"restored {snapshot_ref} as {cluster_id}", cluster_id)
            outcome.probe = probe(target)
    except AWS_ERRORS as exc:
        outcome.restore = Step("failed", f"restore failed: {exc}", cluster_id)
    finally:
        outcome.teardown = _teardown(rds, cluster_id, instance_id, created)
    return outcome


def _wait_restored(
    rds: Any,
    cluster_id: str,
    instance_id: str,
    settings: Settings,
    clock: Clock,
    deadline: Deadline,
) -> RestoredCluster:
    latest: dict[str, Any] = {}

    def ready() -> tuple[bool, str]:
        cluster = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
        instance = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"][0]
        latest.update(cluster=cluster, instance=instance)
        cluster_status = cluster.get("Status", "unknown")
        instance_status = instance.get("DBInstanceStatus", "unknown")
        done = cluster_status == AVAILABLE and instance_status == AVAILABLE
        return done, f"cluster {cluster_status}, instance {instance_status}"

    wait_until(ready, clock=clock, deadline=deadline, interval=settings.poll_interval_seconds)
    cluster = latest.get("cluster", {})
    instance = latest.get("instance", {})
    return RestoredCluster(
        cluster_id=cluster_id,
        instance_id=instance_id,
        region=settings.region,
        status=cluster.get("Status", "unknown"),
        instance_status=instance.get("DBInstanceStatus", "unknown"),
        endpoint=cluster.get("Endpoint"),
        port=cluster.get("Port"),
    )


def _teardown(rds: Any, cluster_id: str, instance_id: str, created: list[str]) -> Step:
    """Delete what this run created (no final snapshot); failures are left to the sweep."""
    if not created:
        return Step("skipped", "nothing created")
    problems = []
    if "instance" in created:
        try:
            _delete_instance(rds, instance_id)
        except AWS_ERRORS as exc:
            problems.append(f"instance {instance_id}: {exc}")
    try:
        # Deleting the cluster is accepted once its instances are being deleted.
        _delete_cluster(rds, cluster_id)
    except AWS_ERRORS as exc:
        problems.append(f"cluster {cluster_id}: {exc}")
    if problems:
        logger.warning("teardown incomplete, left to the sweep", extra={"problems": problems})
        return Step("failed", "; ".join(problems), cluster_id)
    return Step("ok", f"deleted {instance_id} and {cluster_id}", cluster_id)


@dataclass
class SweepResult:
    """What the sweep deleted and what it could not."""

    deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _delete_instance(rds: Any, instance_id: str) -> None:
    rds.delete_db_instance(
        DBInstanceIdentifier=instance_id, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
    )


def _delete_cluster(rds: Any, cluster_id: str) -> None:
    rds.delete_db_cluster(DBClusterIdentifier=cluster_id, SkipFinalSnapshot=True)


def _delete_snapshot(rds: Any, snapshot_id: str) -> None:
    rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=snapshot_id)


@dataclass(frozen=True)
class _Sweepable:
    """One kind of resource the sweep looks for: how to list it, read it and delete it."""

    label: str
    operation: str  # the describe_* paginator
    items: str  # the list in each page
    identifier: str
    created: str
    status: str
    delete: Callable[[Any, str], None]
    filters: Mapping[str, str] = field(default_factory=dict)


# Instances first, so their clusters become deletable; only manual snapshots are ever ours.
_SWEPT: tuple[_Sweepable, ...] = (
    _Sweepable(
        label="instance",
        operation="describe_db_instances",
        items="DBInstances",
        identifier="DBInstanceIdentifier",
        created="InstanceCreateTime",
        status="DBInstanceStatus",
        delete=_delete_instance,
    ),
    _Sweepable(
        label="cluster",
        operation="describe_db_clusters",
        items="DBClusters",
        identifier="DBClusterIdentifier",
        created="ClusterCreateTime",
        status="Status",
        delete=_delete_cluster,
    ),
    _Sweepable(
        label="snapshot",
        operation="describe_db_cluster_snapshots",
        items="DBClusterSnapshots",
        identifier="DBClusterSnapshotIdentifier",
        created="SnapshotCreateTime",
        status="Status",
        delete=_delete_snapshot,
        filters={"SnapshotType": "manual"},
    ),
)


def sweep(rds: Any, settings: Settings, now: datetime) -> SweepResult:
    """Delete our instances, clusters and snapshots older than `SWEEP_AFTER_HOURS`.

    Instances go first so their clusters become deletable; a cluster whose instances are still
    deleting is retried by the next run.
    """
    result = SweepResult()
    try:
        for kind in _SWEPT:
            for page in rds.get_paginator(kind.operation).paginate(**kind.filters):
                for item in page.get(kind.items, []):
                    if _sweepable(item, kind, settings, now):
                        _attempt_delete(rds, kind, item[kind.identifier], result)
    except AWS_ERRORS as exc:
        result.errors.append(f"listing failed: {exc}")
    return result


def _sweepable(
    item: Mapping[str, Any], kind: _Sweepable, settings: Settings, now: datetime
) -> bool:
    """Ours (tags and name), older than the sweep age, and not already being deleted."""
    return (
        is_ours(
            item[kind.identifier],
            item.get("TagList"),
            stem=settings.name_stem,
            environment=settings.environment,
        )
        and older_than(item.get(kind.created), now, settings.sweep_after_hours)
        and item.get(kind.status, "") != "deleting"
    )


def _attempt_delete(rds: Any, kind: _Sweepable, identifier: str, result: SweepResult) -> None:
    label = f"{kind.label} {identifier}"
    try:
        kind.delete(rds, identifier)
    except AWS_ERRORS as exc:
        result.errors.append(f"{label}: {exc}")
    else:
        result.deleted.append(label)
