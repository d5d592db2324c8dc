"""The snapshot export step: when an export is due, and the StartExportTask call it makes.

moto's `start_export_task` accepts any bucket, role and key, so the call shape is checked with a
Stubber holding the exact parameters AWS needs: the snapshot's own region's bucket (AWS: "The S3
bucket to export to must be in the same AWS Region as the snapshot") and key, the export role,
the exports prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_fixtures import ACCOUNT, DR, PRIMARY, TestClientFactory
from botocore.stub import Stubber

from backup_verifier import export
from backup_verifier.settings import ExportSettings, Settings
from backup_verifier.snapshots import Snapshot

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
STEM = "aurora-dr-verify-dev"
TASK_ID = f"{STEM}-20260610120000"
BUCKETS = {PRIMARY: "aurora-dr-backups-use1-dev", DR: "aurora-dr-backups-usw2-dev"}
KEYS = {
    PRIMARY: f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/primary",
    DR: f"arn:aws:kms:{DR}:{ACCOUNT}:key/dr",
}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/aurora-dr-snapshot-export-dev"
EXPORT = ExportSettings(every_days=7, role_arn=ROLE_ARN, buckets=BUCKETS, kms_keys=KEYS)
SNAPSHOT = Snapshot(
    identifier="rds:aurora-dr-dev-primary-2026-06-10-03-10",
    arn=f"arn:aws:rds:{PRIMARY}:{ACCOUNT}:cluster-snapshot:rds:aurora-dr-dev-primary-2026-06-10-03-10",
    cluster_id="aurora-dr-dev-primary",
    created=NOW - timedelta(hours=9),
    status="available",
    snapshot_type="automated",
    engine="aurora-postgresql",
    engine_version="16.6",
    kms_key_id=KEYS[PRIMARY],
)
START_PARAMS = {
    "ExportTaskIdentifier": TASK_ID,
    "SourceArn": SNAPSHOT.arn,
    "S3BucketName": BUCKETS[PRIMARY],
    "S3Prefix": "snapshot-exports",
    "IamRoleArn": ROLE_ARN,
    "KmsKeyId": KEYS[PRIMARY],
}


def previous(
    identifier: str, status: str, days_ago: float, cause: str = "", source: str = ""
) -> dict[str, Any]:
    """One `ExportTasks` element as DescribeExportTasks returns it."""
    task: dict[str, Any] = {
        "ExportTaskIdentifier": identifier,
        "Status": status,
        "TaskStartTime": NOW - timedelta(days=days_ago),
        "S3Bucket": BUCKETS[PRIMARY],
        "SourceArn": source or f"{SNAPSHOT.arn}-older",
    }
    if cause:
        task["FailureCause"] = cause
    return task


@dataclass(frozen=True)
class Scenario:
    """The exports RDS lists for the bucket, and what the step must do."""

    name: str
    tasks: tuple[dict[str, Any], ...]
    starts: bool
    status: str
    detail: str


SCENARIOS = (
    Scenario("first export", (), True, "ok", "started export"),
    Scenario(
        "last one is recent",
        (previous(f"{STEM}-20260608120000", "COMPLETE", 2),),
        False,
        "skipped",
        "the next is due 7 days after it",
    ),
    Scenario(
        "last one still runs",
        (previous(f"{STEM}-20260530120000", "IN_PROGRESS", 11),),
        False,
        "skipped",
        "is still IN_PROGRESS",
    ),
    Scenario(
        "last one is due",
        (
            previous(f"{STEM}-20260520120000", "COMPLETE", 21),
            previous(f"{STEM}-20260602120000", "COMPLETE", 8),
        ),
        True,
        "ok",
        "started export",
    ),
    Scenario(
        "last one failed",
        (previous(f"{STEM}-20260609120000", "FAILED", 1, "S3 access denied"),),
        True,
        "failed",
        f"the last export {STEM}-20260609120000 FAILED: S3 access denied; started export",
    ),
    Scenario(
        # the copy arrives less often than the export cadence: exported once, not twice
        "last one, long ago, holds this very snapshot",
        (previous(f"{STEM}-20260520120000", "COMPLETE", 21, source=SNAPSHOT.arn),),
        False,
        "skipped",
        "already holds this snapshot",
    ),
    Scenario(
        "last one of this snapshot failed",
        (previous(f"{STEM}-20260520120000", "FAILED", 21, "S3 access denied", SNAPSHOT.arn),),
        True,
        "failed",
        "FAILED: S3 access denied; started export",
    ),
    Scenario(
        "someone else's recent export",
        (previous("manual-export-1", "COMPLETE", 1),),
        True,
        "ok",
        "started export",
    ),
)


def export_in_primary(factory: TestClientFactory) -> Any:
    """The export step for the writer's snapshot in the primary region, with the test's fixed
    export settings, task id and clock."""
    return export.export_snapshot(
        factory("rds", PRIMARY),
        SNAPSHOT,
        region=PRIMARY,
        export=EXPORT,
        stem=STEM,
        task_id=TASK_ID,
        now=NOW,
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_an_export_starts_only_when_due_in_the_snapshots_region(scenario: Scenario) -> None:
    # GIVEN the writer's region's RDS API listing the bucket's exports
    factory = TestClientFactory()
    stub: Stubber = factory.stubbed("rds", PRIMARY)
    stub.add_response(
        "describe_export_tasks",
        {"ExportTasks": list(scenario.tasks)},
        {"Filters": [{"Name": "s3-bucket", "Values": [BUCKETS[PRIMARY]]}]},
    )
    if scenario.starts:
        stub.add_response(
            "start_export_task",
            {"ExportTaskIdentifier": TASK_ID, "Status": "STARTING"},
            START_PARAMS,
        )

    # WHEN the step runs for the writer's snapshot
    step = export_in_primary(factory)

    # THEN it starts an export with exactly the writer region's bucket and key, or skips
    assert step.status == scenario.status
    assert scenario.detail in step.detail
    stub.assert_no_pending_responses()


def test_an_export_refused_by_rds_is_a_failed_step_not_an_exception() -> None:
    # GIVEN RDS refusing the export (the role lacks a permission)
    factory = TestClientFactory()
    stub = factory.stubbed("rds", PRIMARY)
    stub.add_response("describe_export_tasks", {"ExportTasks": []})
    stub.add_client_error(
        "start_export_task",
        service_error_code="IamRoleMissingPermissions",
        service_message="The IAM role is missing permissions",
        http_status_code=400,
    )

    # WHEN the step runs / THEN it fails and says why
    step = export_in_primary(factory)
    assert step.status == "failed"
    assert "IamRoleMissingPermissions" in step.detail


BASE_ENV = {
    "AWS_REGION": DR,
    "PEER_REGION": PRIMARY,
    "GLOBAL_CLUSTER_ID": "aurora-dr-dev",
    "ENVIRONMENT_SUFFIX": "dev",
    "SNS_TOPIC_ARN": f"arn:aws:sns:{DR}:{ACCOUNT}:aurora-dr-alerts-usw2-dev",
    "DR_KMS_KEY_ID": KEYS[DR],
    "SNAPSHOT_EXPORT_EVERY_DAYS": "7",
    "SNAPSHOT_EXPORT_ROLE_ARN": ROLE_ARN,
    "SNAPSHOT_EXPORT_BUCKETS": '{"us-east-1": "aurora-dr-backups-use1-dev", '
    '"us-west-2": "aurora-dr-backups-usw2-dev"}',
    "SNAPSHOT_EXPORT_KMS_KEYS": f'{{"us-east-1": "{KEYS[PRIMARY]}", "us-west-2": "{KEYS[DR]}"}}',
}


def test_export_settings_are_read_whole() -> None:
    settings = Settings.from_env(BASE_ENV)
    assert settings.export == EXPORT


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SNAPSHOT_EXPORT_ROLE_ARN": ""}, "SNAPSHOT_EXPORT_ROLE_ARN must be a role ARN"),
        (
            {"SNAPSHOT_EXPORT_BUCKETS": '{"us-west-2": "aurora-dr-backups-usw2-dev"}'},
            "SNAPSHOT_EXPORT_BUCKETS needs the bucket of us-east-1",
        ),
        (
            {
                "SNAPSHOT_EXPORT_KMS_KEYS": f'{{"us-east-1": "{KEYS[DR]}", "us-west-2": "{KEYS[DR]}"}}'
            },
            "SNAPSHOT_EXPORT_KMS_KEYS needs a key ARN of us-east-1",
        ),
        ({"SNAPSHOT_EXPORT_EVERY_DAYS": "0"}, "SNAPSHOT_EXPORT_EVERY_DAYS='0' must be between"),
        ({"REPORT_BUCKET": "Not_A_Bucket"}, "REPORT_BUCKET='Not_A_Bucket' is not an S3 bucket"),
    ],
)
def test_export_settings_name_the_bad_variable(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env({**BASE_ENV, **overrides})
