"""Pure decisions of `DrAutomation`: where each DR function runs, how big it is, what it may call.

The function table follows DESIGN §6. IAM statements are built here as data from plain ARNs so
they can be read and tested without Pulumi; every statement whose resource is `"*"` names the AWS
API that supports no resource scoping (`UNSCOPED_ACTIONS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
PRIMARY, DR = "primary", "dr"
HEALTH_NAMESPACE_CONDITION_KEY = "cloudwatch:namespace"
VERIFY_RESOURCE_PREFIX = "aurora-dr-verify"
VERIFY_PURPOSE_TAG = "aurora-dr:purpose"
VERIFY_PURPOSE_VALUE = "backup-verification"
LOCK_TABLE_HASH_KEY = "LockId"
LOCK_TABLE_TTL_ATTRIBUTE = "ExpiresAt"

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
}


@dataclass(frozen=True)
class FunctionSpec:
    """One DR function: package, size, placement and network needs."""

    key: str
    """Package folder under lambdas/; the handler is `<key>.handler.lambda_handler`."""
    short_name: str
    """Used in physical names: aurora-dr-<short_name>-<region code>-<suffix>."""
    timeout_seconds: int
    memory_mb: int
    roles: tuple[str, ...]
    """Regions by role ("primary", "dr") the function is deployed in."""
    vpc: bool
    """Attached to the private subnets (it opens database connections)."""
    endpoint_services: tuple[str, ...] = ()
    """Interface VPC endpoints its AWS calls need in its own VPC (no NAT gateway)."""
    reserved_concurrency: int | None = None
    max_async_retries: int = 2

    @property
    def handler(self) -> str:
        """The Lambda handler string."""
        return f"{self.key}.handler.lambda_handler"


FUNCTIONS: tuple[FunctionSpec, ...] = (
    # Not attached to a VPC: it opens no database connection and must reach the *other*
    # region's APIs (alarms, drainer) and RDS when the primary region's network is gone. This is
    # the one deliberate exception to "Lambda functions should be in a VPC".
    FunctionSpec(
        key="failover_coordinator",
        short_name="coordinator",
        timeout_seconds=300,
        memory_mb=512,
        roles=(PRIMARY, DR),
        vpc=False,
        reserved_concurrency=1,
        # A failed failover is reported, never repeated blindly by Lambda's async retries.
        max_async_retries=0,
    ),
    FunctionSpec(
        key="connection_drainer",
        short_name="drainer",
        timeout_seconds=60,
        memory_mb=256,
        roles=(PRIMARY, DR),
        vpc=True,
        endpoint_services=("secretsmanager",),
    ),
    FunctionSpec(
        key="health_checker",
        short_name="health-checker",
        timeout_seconds=30,
        memory_mb=256,
        roles=(PRIMARY, DR),
        vpc=True,
        # `lambda`: a failed peer-writer probe pages the coordinator at once (RTO).
        endpoint_services=("secretsmanager", "rds", "monitoring", "lambda"),
        # A missed minute is replaced by the next scheduled run.
        max_async_retries=0,
    ),
    FunctionSpec(
        key="secret_rotation",
        short_name="secret-rotation",
        timeout_seconds=300,
        memory_mb=512,
        roles=(PRIMARY,),
        vpc=True,
        endpoint_services=("secretsmanager", "rds"),
    ),
    FunctionSpec(
        key="backup_verifier",
        short_name="backup-verifier",
        timeout_seconds=900,
        memory_mb=1024,
        roles=(DR,),
        vpc=True,
        endpoint_services=("rds", "secretsmanager"),
    ),
)
FUNCTIONS_BY_KEY: Mapping[str, FunctionSpec] = {f.key: f for f in FUNCTIONS}


def endpoint_services_for(role: str) -> tuple[str, ...]:
    """Interface endpoints a region's VPC needs for the functions placed there (sorted)."""
    return tuple(
        sorted({s for f in FUNCTIONS if role in f.roles and f.vpc for s in f.endpoint_services})
    )


def functions_in(role: str) -> list[FunctionSpec]:
    """The functions deployed in the region with this role."""
    return [f for f in FUNCTIONS if role in f.roles]


def rate_expression(value: int, unit: str) -> str:
    """EventBridge rate expression: `rate(1 minute)`, `rate(24 hours)`."""
    if value < 1:
        raise ValueError(f"a schedule rate must be at least 1 {unit}, got {value}")
    return f"rate({value} {unit if value == 1 else unit + 's'})"


def function_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """ARN of a Lambda function by name (known before the function exists, which breaks the
    cycle between the health checker paging the coordinator and the coordinator probing it)."""
    return f"arn:{partition}:lambda:{region}:{account_id}:function:{name}"


def replica_arn(arn: str, region: str) -> str:
    """ARN of a Secrets Manager replica: the primary secret's ARN in another region."""
    parts = arn.split(":")
    parts[3] = region
    return ":".join(parts)


def alarm_state_change_pattern(alarm_arn: str) -> dict[str, Any]:
    """EventBridge pattern: this alarm entered ALARM."""
    return {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "resources": [alarm_arn],
        "detail": {"state": {"value": ["ALARM"]}},
    }


# --- IAM -----------------------------------------------------------------------------------------


def statement(actions: Iterable[str], resources: Sequence[str] | str, **extra: Any) -> dict:
    """An Allow statement with sorted actions."""
    resource: Sequence[str] | str = resources if isinstance(resources, str) else list(resources)
    return {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": resource, **extra}


@dataclass(frozen=True)
class StackArns:
    """Plain ARNs and names the policies are scoped to (resolved Pulumi outputs)."""

    partition: str
    account_id: str
    region: str
    peer_region: str
    global_cluster_arn: str
    cluster_arns: Sequence[str]
    """Both member clusters."""
    local_cluster_arn: str
    secret_arn: str
    """The primary secret; its replica in the peer region is derived."""
    primary_region: str
    local_key_arn: str
    """The function's own region's key (its log group, its topic, the secret replica there)."""
    key_arns: Sequence[str]
    """KMS keys the function's data calls need."""
    log_group_arn: str
    topic_arn: str
    """The region's alert topic: summaries and failed asynchronous invocations."""
    alarm_arns: Sequence[str] = ()
    drainer_arns: Sequence[str] = ()
    health_checker_arns: Sequence[str] = ()
    coordinator_arn: str = ""
    lock_table_arn: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


def _rds(arns: StackArns, region: str, resource: str) -> str:
    return f"arn:{arns.partition}:rds:{region}:{arns.account_id}:{resource}"


def _secret_here(arns: StackArns) -> str:
    return replica_arn(arns.secret_arn, arns.region)


def base_statements(arns: StackArns, vpc: bool) -> list[dict]:
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


def function_statements(key: str, arns: StackArns) -> list[dict]:
    """Least-privilege statements of one function (besides `base_statements`)."""
    kms_use = ["kms:Decrypt", "kms:GenerateDataKey*"]
    if key == "health_checker":
        return [
            statement(["secretsmanager:GetSecretValue"], [_secret_here(arns)]),
            statement(["kms:Decrypt"], list(arns.key_arns)),
            statement(["rds:DescribeGlobalClusters"], [arns.global_cluster_arn]),
            # Page this region's coordinator when the peer writer is lost.
            statement(["lambda:InvokeFunction"], [arns.coordinator_arn]),
            statement(
                ["cloudwatch:PutMetricData"],
                "*",
                Condition={
                    "StringEquals": {HEALTH_NAMESPACE_CONDITION_KEY: arns.extra["namespace"]}
                },
            ),
        ]
    if key == "connection_drainer":
        return [
            statement(["secretsmanager:GetSecretValue"], [_secret_here(arns)]),
            statement(["kms:Decrypt"], list(arns.key_arns)),
        ]
    if key == "secret_rotation":
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
            statement(kms_use, list(arns.key_arns)),
            statement(["rds:DescribeGlobalClusters"], [arns.global_cluster_arn]),
            statement(["rds:DescribeDBClusters"], list(arns.cluster_arns)),
        ]
    if key == "failover_coordinator":
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
            statement(["cloudwatch:DescribeAlarms"], list(arns.alarm_arns)),
            statement(["cloudwatch:ListMetrics", "cloudwatch:GetMetricData"], "*"),
            statement(
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                [arns.lock_table_arn],
            ),
            # Drain the old writer; probe the new one right after promotion.
            statement(["lambda:InvokeFunction"], [*arns.drainer_arns, *arns.health_checker_arns]),
        ]
    if key == "backup_verifier":
        stem = f"{VERIFY_RESOURCE_PREFIX}-{arns.extra['environment']}"
        owned = {"StringEquals": {f"aws:ResourceTag/{VERIFY_PURPOSE_TAG}": VERIFY_PURPOSE_VALUE}}
        here, peer = arns.region, arns.peer_region
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
                [
                    "rds:RestoreDBClusterFromSnapshot",
                    "rds:CreateDBInstance",
                    "rds:AddTagsToResource",
                ],
                [
                    _rds(arns, here, f"cluster:{stem}-*"),
                    _rds(arns, here, f"db:{stem}-*"),
                    _rds(arns, here, f"cluster-snapshot:{stem}-*"),
                    _rds(arns, here, "subgrp:*"),
                    _rds(arns, here, "cluster-pg:*"),
                    _rds(arns, here, "pg:*"),
                ],
            ),
            statement(
                ["rds:DeleteDBInstance", "rds:DeleteDBCluster", "rds:DeleteDBClusterSnapshot"],
                [
                    _rds(arns, here, f"cluster:{stem}-*"),
                    _rds(arns, here, f"db:{stem}-*"),
                    _rds(arns, here, f"cluster-snapshot:{stem}-*"),
                ],
                Condition=owned,
            ),
            statement(
                ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey*"],
                list(arns.key_arns),
            ),
            statement(["secretsmanager:GetSecretValue"], [_secret_here(arns)]),
        ]
    raise KeyError(f"no IAM statements for function {key!r}")


def policy_for(key: str, arns: StackArns, vpc: bool) -> dict:
    """The whole inline policy document of one function's role."""
    return {
        "Version": "2012-10-17",
        "Statement": base_statements(arns, vpc) + function_statements(key, arns),
    }
