"""The AWS Backup copy in this region's vault: the one cross-region copy when the stack has
AWS Backup (prod).

The writer's region's plan copies its recovery points into this region's vault; the verifier
checks that the newest one is recent enough for the copy rule's cadence, restores it and
exports it, instead of making (and paying for) a second cross-region copy of its own.

`ListRecoveryPointsByBackupVault` filters by the backed-up resource (`ByResourceArn`) and type
(`ByResourceType`, "`Aurora` for Amazon Aurora"; AWS Backup API reference). An Aurora recovery
point is an RDS cluster snapshot: "Snapshots managed by AWS Backup are considered manual DB
cluster snapshots" (Aurora user guide, "Using AWS Backup"), so RDS restores and exports it by
its ARN like any other snapshot ("You can export all types of DB snapshots—including manual
snapshots, automated system snapshots, and snapshots created by AWS Backup", RDS user guide,
export snapshots to S3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backup_verifier.snapshots import Snapshot

AURORA = "Aurora"
COMPLETED = "COMPLETED"


def snapshot_of(point: Mapping[str, Any], engine: Snapshot) -> Snapshot:
    """The RDS snapshot a recovery point is; engine and version are those of the writer's
    snapshot (a recovery point does not carry them)."""
    arn = point["RecoveryPointArn"]
    return Snapshot(
        identifier=arn.split(":cluster-snapshot:", 1)[-1],
        arn=arn,
        cluster_id=str(point.get("ResourceArn", "")).rsplit(":", 1)[-1],
        created=point.get("CreationDate"),
        status="available" if point.get("Status") == COMPLETED else str(point.get("Status")),
        snapshot_type="awsbackup",
        engine=engine.engine,
        engine_version=engine.engine_version,
        kms_key_id=point.get("EncryptionKeyArn"),
    )


def newest_copy(backup: Any, vault: str, cluster_arn: str, engine: Snapshot) -> Snapshot | None:
    """The newest completed recovery point of `cluster_arn` in `vault` (None: there is none)."""
    points = [
        point
        for page in backup.get_paginator("list_recovery_points_by_backup_vault").paginate(
            BackupVaultName=vault, ByResourceArn=cluster_arn, ByResourceType=AURORA
        )
        for point in page.get("RecoveryPoints", [])
        if point.get("Status") == COMPLETED and point.get("CreationDate") is not None
    ]
    newest = max(points, key=lambda p: p["CreationDate"], default=None)
    return None if newest is None else snapshot_of(newest, engine)
