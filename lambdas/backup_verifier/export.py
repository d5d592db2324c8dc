"""The snapshot export: a copy of the data outside RDS, as Parquet files in S3.

At most one export every `SNAPSHOT_EXPORT_EVERY_DAYS`, and never twice of the same snapshot, of
the snapshot this run just verified in the verifier's region, into that region's backup bucket
("The S3 bucket to export to must be in the same AWS Region as the snapshot", Aurora user guide),
encrypted with that region's key. The exports stay there: the replication of the primary bucket
covers the reports only, so the data is stored once outside RDS, in the region that survives.

When the previous export is due is read from RDS itself (`DescribeExportTasks` on the bucket):
the verifier keeps no state. An export runs for a long time after this run has returned; its
outcome is read by the next run, which reports a failed export and starts a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from backup_verifier.resources import AWS_ERRORS, Step
from backup_verifier.settings import ExportSettings
from backup_verifier.snapshots import Snapshot
from drcommon.contract import BACKUP_BUCKET

# Statuses of an export task that has not finished (DescribeExportTasks: STARTING, IN_PROGRESS,
# CANCELING; then COMPLETE, FAILED or CANCELED).
UNFINISHED = frozenset({"STARTING", "IN_PROGRESS", "CANCELING"})
FAILED = frozenset({"FAILED", "CANCELED"})
# The export's files go under `<prefix>/<export task id>/`.
S3_PREFIX = BACKUP_BUCKET.snapshot_exports.rstrip("/")


@dataclass(frozen=True)
class PreviousExport:
    """The newest export task of this stack into the bucket."""

    identifier: str
    status: str
    started: datetime | None
    failure: str
    source_arn: str = ""

    @classmethod
    def from_api(cls, task: dict[str, Any]) -> PreviousExport:
        """From one `ExportTasks` element."""
        return cls(
            identifier=task["ExportTaskIdentifier"],
            status=str(task.get("Status", "")).upper(),
            started=task.get("TaskStartTime"),
            failure=task.get("FailureCause") or "no cause given",
            source_arn=task.get("SourceArn") or "",
        )


def previous_export(rds: Any, bucket: str, stem: str) -> PreviousExport | None:
    """The newest export task into `bucket` whose identifier starts with `<stem>-` (ours)."""
    tasks = [
        PreviousExport.from_api(task)
        for page in rds.get_paginator("describe_export_tasks").paginate(
            Filters=[{"Name": "s3-bucket", "Values": [bucket]}]
        )
        for task in page.get("ExportTasks", [])
        if str(task.get("ExportTaskIdentifier", "")).startswith(f"{stem}-")
    ]
    return max(tasks, key=lambda t: t.started or datetime.min.replace(tzinfo=UTC), default=None)


def _not_due(
    previous: PreviousExport | None, every_days: int, now: datetime, source_arn: str
) -> Step | None:
    """A skip when the previous export is unfinished, recent enough, or of this very snapshot
    (a copy that arrives less often than the export cadence is exported once), else None."""
    if previous is None:
        return None
    if previous.status in UNFINISHED:
        return Step("skipped", f"export {previous.identifier} is still {previous.status}")
    if previous.source_arn == source_arn and previous.status not in FAILED:
        return Step(
            "skipped",
            f"export {previous.identifier} already holds this snapshot",
            previous.identifier,
        )
    recent = previous.started is not None and now - previous.started < timedelta(days=every_days)
    if recent and previous.status not in FAILED:
        return Step(
            "skipped",
            f"export {previous.identifier} started {previous.started:%Y-%m-%d %H:%M} UTC, "
            f"the next is due {every_days} days after it",
            previous.identifier,
        )
    return None


def export_snapshot(
    rds: Any,
    snapshot: Snapshot,
    *,
    region: str,
    export: ExportSettings,
    stem: str,
    task_id: str,
    now: datetime,
) -> Step:
    """Start the export of `snapshot` (in `region`, client `rds`) unless one is not due; a
    failed previous export makes the step fail (the run reports it) after starting anew."""
    bucket, key = export.buckets[region], export.kms_keys[region]
    try:
        previous = previous_export(rds, bucket, stem)
        skip = _not_due(previous, export.every_days, now, snapshot.arn)
        if skip is not None:
            return skip
        rds.start_export_task(
            ExportTaskIdentifier=task_id,
            SourceArn=snapshot.arn,
            S3BucketName=bucket,
            S3Prefix=S3_PREFIX,
            IamRoleArn=export.role_arn,
            KmsKeyId=key,
        )
    except AWS_ERRORS as exc:
        return Step("failed", f"export of {snapshot.identifier} failed to start: {exc}", task_id)
    started = f"started export {task_id} of {snapshot.identifier} to s3://{bucket}/{S3_PREFIX}/"
    if previous is not None and previous.status in FAILED:
        detail = f"the last export {previous.identifier} {previous.status}: {previous.failure}"
        return Step("failed", f"{detail}; {started}", task_id)
    return Step("ok", started, task_id)
