"""Pure builders of IAM and KMS policy documents (dicts; callers `json.dumps` them).

Kept apart from the components so the statements can be tested, and read, as data: the region
keys' policy, the alert topics' policy, the flow-log role, the backup buckets' policy and their
replication and snapshot-export roles, AWS Backup's role, and each DR function's least-privilege
policy, built from plain ARNs (`StackArns`). Every statement whose resource is `"*"` names an AWS
API that supports no resource scoping (`UNSCOPED_ACTIONS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.drcommon.contract import BACKUP_BUCKET, VERIFIER_RESOURCES

Policy = dict[str, Any]
Statement = dict[str, Any]

HEALTH_NAMESPACE_CONDITION_KEY = "cloudwatch:namespace"
# Actions that AWS evaluates against `"*"` only (no resource-level permissions), with why.
UNSCOPED_ACTIONS: Mapping[str, str] = {
    "ec2:CreateNetworkInterface": "Lambda VPC networking: ENIs are created by the service",
    "ec2:DescribeNetworkInterfaces": "Describe* calls have no resource-level permissions",
    "ec2:DeleteNetworkInterface": "Lambda VPC networking: ENIs are deleted by the service",
    "ec2:AssignPrivateIpAddresses": "Lambda VPC networking",
    "ec2:UnassignPrivateIpAddresses": "Lambda VPC networking",
    "cloudwatch:PutMetricData": "no resource type; limited by the cloudwatch:namespace condition",
    "cloudwatch:GetMetricData": "no resource type",
    "cloudwatch:ListMetrics": "no resource type",
    "secretsmanager:GetRandomPassword": "no resource type",
    # The Service Authorization Reference lists only the event-subscription type (`es`) for it:
    # nothing that scopes reading a cluster's events to that cluster.
    "rds:DescribeEvents": "no resource type that scopes event reads to a cluster",
    # Granted on "*" by AWS's and the community's export procedures alike; a statement scoped
    # to a snapshot ARN would never match an action without resource types. Who the export
    # writes as is limited by iam:PassRole on the one export role.
    "rds:StartExportTask": "snapshot export: not scoped to resources here (see above)",
    "rds:DescribeExportTasks": "Describe* calls have no resource-level permissions",
}

# Services that publish into the alert topics, so use the region keys (CloudWatch alarms, EventBridge, RDS events).
TOPIC_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com", "events.rds.amazonaws.com")
KMS_DATA_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)


def policy_document(*statements: Statement) -> Policy:
    """An IAM policy document with the given statements."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def assume_role_policy(service: str) -> Policy:
    """Trust policy letting one AWS service principal assume a role."""
    return policy_document(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }
    )


def region_key_policy(*, partition: str, account_id: str, region: str) -> Policy:
    """Key policy of a region's customer-managed key.

    The account root keeps administration (so IAM policies can grant use and the key can never be
    orphaned); RDS, Secrets Manager, DynamoDB, S3 and AWS Backup use the key on behalf of this
    account's principals through `kms:ViaService`; CloudWatch Logs, and the services that publish to encrypted SNS topics
    (CloudWatch alarms, EventBridge, RDS event notifications), use it as service principals.
    """
    return policy_document(
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        _services_on_behalf_of_the_account(account_id, region),
        _cloudwatch_logs_of_the_account(partition, account_id, region),
        {
            "Sid": "PublishersToEncryptedSnsTopics",
            "Effect": "Allow",
            "Principal": {"Service": list(TOPIC_PUBLISHERS)},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    )


def _services_on_behalf_of_the_account(account_id: str, region: str) -> Statement:
    return {
        "Sid": "AwsServicesOnBehalfOfThisAccountInThisRegion",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": [*KMS_DATA_ACTIONS, "kms:CreateGrant", "kms:ListGrants"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": account_id,
                "kms:ViaService": [
                    f"rds.{region}.amazonaws.com",
                    f"secretsmanager.{region}.amazonaws.com",
                    f"dynamodb.{region}.amazonaws.com",
                    # The backup buckets' default encryption, their replicas and the snapshot
                    # exports; AWS Backup's vaults.
                    f"s3.{region}.amazonaws.com",
                    f"backup.{region}.amazonaws.com",
                ],
            }
        },
    }


def _cloudwatch_logs_of_the_account(partition: str, account_id: str, region: str) -> Statement:
    return {
        "Sid": "CloudWatchLogsOfThisAccountAndRegion",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": list(KMS_DATA_ACTIONS),
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                )
            }
        },
    }


def topic_publish_policy(topic_arn: str, account_id: str) -> Policy:
    """Topic policy of an alert topic: the publishing AWS services, on behalf of this account."""
    return policy_document(
        {
            "Sid": "AwsServicesOfThisAccountPublish",
            "Effect": "Allow",
            "Principal": {"Service": list(TOPIC_PUBLISHERS)},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def flow_log_delivery_policy(log_group_arn: str) -> Policy:
    """What VPC Flow Logs needs to write into one log group the stack created (and nothing else:
    no CreateLogGroup, no account-wide DescribeLogGroups)."""
    return policy_document(
        {
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
    )


# --- the backup buckets -------------------------------------------------------------------------


def tls_only_bucket_policy(bucket_arn: str) -> Policy:
    """Bucket policy that denies every request made without TLS, to the bucket and its objects
    (Security Hub S3.5: "policies that require all requests (`Action: S3:*`) to only accept
    transmission of data over HTTPS ... indicated by the condition key `aws:SecureTransport`")."""
    return policy_document(
        {
            "Sid": "DenyRequestsWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


@dataclass(frozen=True)
class ReplicationEnds:
    """The two ends of the backup buckets' replication: bucket ARN, key ARN and region each."""

    source_bucket_arn: str
    source_key_arn: str
    source_region: str
    destination_bucket_arn: str
    destination_key_arn: str
    destination_region: str


def _s3_encryption_context(bucket_arn: str) -> dict[str, list[str]]:
    # With S3 Bucket Keys the encryption context is the bucket's ARN ("If you use SSE-KMS with
    # an S3 Bucket Key enabled, you must use the bucket ARN as the encryption context", S3 user
    # guide, replication-config-for-kms-objects); an object written without one carries its own
    # ARN. Both, and only this bucket's.
    return {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]}


def replication_policy(ends: ReplicationEnds) -> Policy:
    """What S3 needs, as the replication role, to copy every object version (SSE-KMS included)
    from the source bucket into the destination bucket, re-encrypted with the destination key.

    The S3 actions are those of the provider's replication example (pulumi-aws
    `s3.BucketReplicationConfig`); the KMS statements follow the S3 user guide's example for
    KMS-encrypted objects: `kms:Decrypt` on the source key and `kms:Encrypt` on the destination
    key, each only through S3 in that key's region and for that bucket. `kms:GenerateDataKey` is
    added under the same conditions: a replica keeps its S3 Bucket Key ("the replica object
    maintains its S3 Bucket Key encryption settings", bucket-key.html), and a bucket key is a data
    key KMS generates (not shown in the guide's example; remove it if AWS confirms Encrypt alone
    suffices).
    """
    source, destination = ends.source_bucket_arn, ends.destination_bucket_arn
    return policy_document(
        statement(["s3:GetReplicationConfiguration", "s3:ListBucket"], [source]),
        statement(
            [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
            ],
            [f"{source}/*"],
        ),
        statement(
            ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            [f"{destination}/*"],
        ),
        statement(
            ["kms:Decrypt"],
            [ends.source_key_arn],
            Condition={
                "StringEquals": {"kms:ViaService": f"s3.{ends.source_region}.amazonaws.com"},
                "StringLike": _s3_encryption_context(source),
            },
        ),
        statement(
            ["kms:Encrypt", "kms:GenerateDataKey"],
            [ends.destination_key_arn],
            Condition={
                "StringEquals": {"kms:ViaService": f"s3.{ends.destination_region}.amazonaws.com"},
                "StringLike": _s3_encryption_context(destination),
            },
        ),
    )


def snapshot_export_policy(bucket_arns: Sequence[str], key_arns: Sequence[str]) -> Policy:
    """The snapshot-export role (assumed by `export.rds.amazonaws.com`): the S3 actions the
    StartExportTask reference lists ("s3:PutObject* s3:GetObject* s3:ListBucket s3:DeleteObject*
    s3:GetBucketLocation"), objects only under the exports prefix of the backup buckets, and the
    region keys those objects are written under (SSE-KMS: a data key per object, and Decrypt
    for multipart uploads). The export is written into the snapshot's own region ("The S3
    bucket to export to must be in the same AWS Region as the snapshot", Aurora user guide), so
    both regions' buckets and keys are listed: the writer, whose snapshot is exported, moves."""
    exports = BACKUP_BUCKET.snapshot_exports
    return policy_document(
        statement(["s3:ListBucket", "s3:GetBucketLocation"], list(bucket_arns)),
        statement(
            ["s3:PutObject*", "s3:GetObject*", "s3:DeleteObject*"],
            [f"{arn}/{exports}*" for arn in bucket_arns],
        ),
        statement(
            ["kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
            list(key_arns),
        ),
    )


def aws_backup_service_policy_arn(partition: str) -> str:
    """AWS's managed policy for the role AWS Backup assumes to create and copy backups
    (`arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup`, AWS Managed
    Policy reference), in the stack's partition."""
    return f"arn:{partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"


# --- the DR functions --------------------------------------------------------------------------


def statement(actions: Iterable[str], resources: Sequence[str] | str, **extra: Any) -> Statement:
    """An Allow statement with sorted actions."""
    resource: Sequence[str] | str = resources if isinstance(resources, str) else list(resources)
    return {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": resource, **extra}


@dataclass(frozen=True)
class StackArns:
    """Plain ARNs and names one function's policy is scoped to (resolved Pulumi outputs)."""

    partition: str
    account_id: str
    region: str
    """The function's own region."""
    peer_region: str
    environment: str
    """The stack's environmentSuffix (the verifier's restore-test resources carry it)."""
    metric_namespace: str
    """The health metrics' namespace (the only one the health checker may publish to)."""
    global_cluster_arn: str
    cluster_arns: Sequence[str]
    """Both member clusters."""
    secret_arn: str
    """The primary secret; its replica in the peer region is derived."""
    local_key_arn: str
    """The function's own region's key (its log group, its topic, the secret replica there)."""
    peer_key_arn: str
    log_group_arn: str
    topic_arn: str
    """The region's alert topic: summaries and failed asynchronous invocations."""
    alarm_arns: Sequence[str] = ()
    drainer_arns: Sequence[str] = ()
    health_checker_arns: Sequence[str] = ()
    coordinator_arn: str = ""
    health_run_arns: Sequence[str] = ()
    """The peer watches whose health run the coordinator runs after a promotion."""
    lock_table_arns: Sequence[str] = ()
    """Both regions' lock tables: a role change is locked in its target region's."""
    report_bucket_arn: str = ""
    """The backup bucket of the function's region (the verifier stores its reports there)."""
    export_role_arn: str = ""
    """The snapshot-export role the verifier passes to RDS ("" when the sizing exports none)."""
    backup_vault_arn: str = ""
    """The AWS Backup vault of the function's region ("" without AWS Backup): the verifier reads
    and restores the writer's recovery points in it."""


def replica_arn(arn: str, region: str) -> str:
    """ARN of a Secrets Manager replica: the primary secret's ARN in another region."""
    parts = arn.split(":")
    parts[3] = region
    return ":".join(parts)


def _rds(arns: StackArns, region: str, resource: str) -> str:
    return f"arn:{arns.partition}:rds:{region}:{arns.account_id}:{resource}"


def _secret_here(arns: StackArns) -> str:
    return replica_arn(arns.secret_arn, arns.region)


def base_statements(arns: StackArns, vpc: bool) -> list[Statement]:
    """Logs into the function's own group, failed asynchronous invocations to its region's
    (encrypted) topic, and VPC networking for attached functions."""
    statements = [
        statement(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{arns.log_group_arn}:*"]),
        statement(["sns:Publish"], [arns.topic_arn]),
        statement(["kms:Decrypt", "kms:GenerateDataKey*"], [arns.local_key_arn]),
    ]
    if vpc:
        statements.append(
            statement(
                [
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "*",
            )
        )
    return statements


# Keys by use: readers decrypt the secret copy of their own region, rotation writes the primary
# secret (in its own region), and only the verifier copies snapshots between both regions' keys.


def _health_checker(arns: StackArns) -> list[Statement]:
    # The secret, nothing else: the roles and the metrics are the peer watch's health run's.
    return [
        statement(["secretsmanager:GetSecretValue"], [_secret_here(arns)]),
        statement(["kms:Decrypt"], [arns.local_key_arn]),
    ]


def _peer_watch(arns: StackArns) -> list[Statement]:
    return [
        # The roles, and the peer cluster's status and in-region failover events.
        statement(["rds:DescribeGlobalClusters"], [arns.global_cluster_arn]),
        statement(["rds:DescribeDBClusters"], list(arns.cluster_arns)),
        statement(["rds:DescribeEvents"], "*"),
        # The local health checker's probes; the page to the local coordinator.
        statement(["lambda:InvokeFunction"], [*arns.health_checker_arns, arns.coordinator_arn]),
        # The health run publishes the health metrics, in their namespace only.
        statement(
            ["cloudwatch:PutMetricData"],
            "*",
            Condition={"StringEquals": {HEALTH_NAMESPACE_CONDITION_KEY: arns.metric_namespace}},
        ),
    ]


def _connection_drainer(arns: StackArns) -> list[Statement]:
    return [
        statement(["secretsmanager:GetSecretValue"], [_secret_here(arns)]),
        statement(["kms:Decrypt"], [arns.local_key_arn]),
    ]


def _secret_rotation(arns: StackArns) -> list[Statement]:
    return [
        statement(
            [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            [arns.secret_arn],
        ),
        statement(["secretsmanager:GetRandomPassword"], "*"),
        statement(["kms:Decrypt", "kms:GenerateDataKey*"], [arns.local_key_arn]),
    ]


def _failover_coordinator(arns: StackArns) -> list[Statement]:
    return [
        statement(["rds:DescribeGlobalClusters"], [arns.global_cluster_arn]),
        statement(["rds:DescribeDBClusters"], list(arns.cluster_arns)),
        statement(
            ["rds:DescribeDBInstances"],
            [_rds(arns, region, "db:*") for region in (arns.region, arns.peer_region)],
        ),
        # Only this stack's global cluster and its own member clusters can be failed over.
        statement(
            ["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"],
            [arns.global_cluster_arn, *arns.cluster_arns],
        ),
        # The writer cluster's in-region failover events, before failing the global one over.
        statement(["rds:DescribeEvents"], "*"),
        statement(["cloudwatch:DescribeAlarms"], list(arns.alarm_arns)),
        statement(["cloudwatch:ListMetrics", "cloudwatch:GetMetricData"], "*"),
        # The lock of a role change lives in its target region's table, whichever coordinator
        # runs it.
        statement(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            list(arns.lock_table_arns),
        ),
        # Drain the old writer; probe the writer once more before acting, and run the new
        # writer region's health run right after promotion.
        statement(
            ["lambda:InvokeFunction"],
            [*arns.drainer_arns, *arns.health_checker_arns, *arns.health_run_arns],
        ),
    ]


def _backup_verifier(arns: StackArns) -> list[Statement]:
    # Restore tests create, and may only delete, `<prefix>-<environment>-*` resources that carry
    # the verifier's purpose tag.
    stem = f"{VERIFIER_RESOURCES.prefix}-{arns.environment}"
    owned = {
        "StringEquals": {
            f"aws:ResourceTag/{VERIFIER_RESOURCES.purpose_tag}": VERIFIER_RESOURCES.purpose
        }
    }
    here, peer = arns.region, arns.peer_region
    restore_test = [
        _rds(arns, here, f"cluster:{stem}-*"),
        _rds(arns, here, f"db:{stem}-*"),
        _rds(arns, here, f"cluster-snapshot:{stem}-*"),
    ]
    return [
        statement(["rds:DescribeGlobalClusters"], [arns.global_cluster_arn]),
        statement(
            ["rds:DescribeDBClusters", "rds:DescribeDBClusterSnapshots"],
            [
                *arns.cluster_arns,
                _rds(arns, here, f"cluster:{stem}-*"),
                *(_rds(arns, r, "cluster-snapshot:*") for r in (here, peer)),
            ],
        ),
        statement(["rds:DescribeDBInstances"], [_rds(arns, here, "db:*")]),
        statement(
            ["rds:CopyDBClusterSnapshot"],
            [
                *(_rds(arns, r, "cluster-snapshot:rds:*") for r in (here, peer)),
                _rds(arns, here, f"cluster-snapshot:{stem}-*"),
            ],
        ),
        statement(
            ["rds:RestoreDBClusterFromSnapshot", "rds:CreateDBInstance", "rds:AddTagsToResource"],
            [
                *restore_test,
                _rds(arns, here, "subgrp:*"),
                _rds(arns, here, "cluster-pg:*"),
                _rds(arns, here, "pg:*"),
            ],
        ),
        statement(
            ["rds:DeleteDBInstance", "rds:DeleteDBCluster", "rds:DeleteDBClusterSnapshot"],
            restore_test,
            Condition=owned,
        ),
        statement(
            ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey*"],
            [arns.local_key_arn, arns.peer_key_arn],
        ),
        *_verifier_reports_and_exports(arns),
    ]


def _verifier_reports_and_exports(arns: StackArns) -> list[Statement]:
    """Ask its region's health checker for the restore probe, when the sizing restores; put its
    reports (nothing else) into its region's bucket; start and list snapshot exports
    as the export role, when the sizing exports. The KMS statement above covers the caller's
    `kms:CreateGrant`/`kms:DescribeKey` on the export key (StartExportTask reference) and the
    data key of each report."""
    statements: list[Statement] = []
    if arns.health_checker_arns:
        # The restore test's SQL probe, by the region's health checker.
        statements.append(statement(["lambda:InvokeFunction"], list(arns.health_checker_arns)))
    if arns.backup_vault_arn:
        # Listing is scoped to the vault (the backupVault resource type of the action); the
        # recovery points are RDS cluster snapshots named `awsbackup:...` ("Snapshots that were
        # created with AWS Backup have names with awsbackup:job-AWS-Backup-job-number", Aurora
        # user guide, Using AWS Backup): restored and exported like the verifier's own.
        statements += [
            statement(["backup:ListRecoveryPointsByBackupVault"], [arns.backup_vault_arn]),
            statement(
                ["rds:RestoreDBClusterFromSnapshot"],
                [_rds(arns, arns.region, "cluster-snapshot:awsbackup:*")],
            ),
        ]
    if arns.report_bucket_arn:
        reports = f"{arns.report_bucket_arn}/{BACKUP_BUCKET.verification_reports}*"
        statements.append(statement(["s3:PutObject"], [reports]))
    if arns.export_role_arn:
        statements += [
            statement(["rds:StartExportTask", "rds:DescribeExportTasks"], "*"),
            statement(["iam:PassRole"], [arns.export_role_arn]),
        ]
    return statements


FUNCTION_STATEMENTS: Mapping[str, Callable[[StackArns], list[Statement]]] = {
    "health_checker": _health_checker,
    "peer_watch": _peer_watch,
    "connection_drainer": _connection_drainer,
    "secret_rotation": _secret_rotation,
    "failover_coordinator": _failover_coordinator,
    "backup_verifier": _backup_verifier,
}
"""Least-privilege statements of each function (besides `base_statements`), by function key."""


def function_statements(key: str, arns: StackArns) -> list[Statement]:
    """The statements of one function besides `base_statements`."""
    if key not in FUNCTION_STATEMENTS:
        raise KeyError(f"no IAM statements for function {key!r}")
    return FUNCTION_STATEMENTS[key](arns)


def policy_for(key: str, arns: StackArns, vpc: bool) -> Policy:
    """The whole inline policy document of one function's role."""
    return policy_document(*base_statements(arns, vpc), *function_statements(key, arns))


# --- the peer watch's ticker ---------------------------------------------------------------------


def ticker_role_policy(watch_arn: str) -> Policy:
    """What the ticker state machine may do: invoke the peer watch (its one task)."""
    return policy_document(statement(["lambda:InvokeFunction"], [watch_arn]))


def ticker_start_policy(state_machine_arn: str) -> Policy:
    """What the schedule's EventBridge target role may do: start the ticker's executions."""
    return policy_document(statement(["states:StartExecution"], [state_machine_arn]))
