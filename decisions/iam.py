"""Pure builders of IAM and KMS policy documents (dicts; callers `json.dumps` them).

Kept apart from the components so the statements can be tested, and read, as data: the region
keys' policy, the alert topics' policy, the flow-log role, and each DR function's least-privilege
policy, built from plain ARNs (`StackArns`). Every statement whose resource is `"*"` names an AWS
API that supports no resource scoping (`UNSCOPED_ACTIONS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.drcommon.contract import VERIFIER_RESOURCES

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
    orphaned); RDS, Secrets Manager and DynamoDB use the key on behalf of this account's principals through
    `kms:ViaService`; CloudWatch Logs, and the services that publish to encrypted SNS topics
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
    lock_table_arns: Sequence[str] = ()
    """Both regions' lock tables: a role change is locked in its target region's."""


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
    return [
        statement(["secretsmanager:GetSecretValue"], [_secret_here(arns)]),
        statement(["kms:Decrypt"], [arns.local_key_arn]),
        statement(["rds:DescribeGlobalClusters"], [arns.global_cluster_arn]),
        statement(
            ["cloudwatch:PutMetricData"],
            "*",
            Condition={"StringEquals": {HEALTH_NAMESPACE_CONDITION_KEY: arns.metric_namespace}},
        ),
    ]


def _peer_watch(arns: StackArns) -> list[Statement]:
    return [
        # The roles, and the peer cluster's status and in-region failover events.
        statement(["rds:DescribeGlobalClusters"], [arns.global_cluster_arn]),
        statement(["rds:DescribeDBClusters"], list(arns.cluster_arns)),
        statement(["rds:DescribeEvents"], "*"),
        # The local health checker's peer probe; the page to the local coordinator.
        statement(["lambda:InvokeFunction"], [*arns.health_checker_arns, arns.coordinator_arn]),
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
        statement(["rds:DescribeGlobalClusters"], [arns.global_cluster_arn]),
        statement(["rds:DescribeDBClusters"], list(arns.cluster_arns)),
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
        # Drain the old writer; probe the writer once more before acting, and the new one right
        # after promotion.
        statement(["lambda:InvokeFunction"], [*arns.drainer_arns, *arns.health_checker_arns]),
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
        statement(["secretsmanager:GetSecretValue"], [_secret_here(arns)]),
    ]


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
