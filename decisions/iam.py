"""Pure builders of IAM and KMS policy documents (dicts; callers `json.dumps` them).

Kept apart from the components so the statements can be tested, and read, as data.
"""

from __future__ import annotations

from typing import Any

Policy = dict[str, Any]

KMS_DATA_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)


def policy_document(*statements: dict[str, Any]) -> Policy:
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
    account_root = f"arn:{partition}:iam::{account_id}:root"
    return policy_document(
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": account_root},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
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
        },
        {
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
        },
        {
            "Sid": "PublishersToEncryptedSnsTopics",
            "Effect": "Allow",
            "Principal": {
                "Service": [
                    "cloudwatch.amazonaws.com",
                    "events.amazonaws.com",
                    "events.rds.amazonaws.com",
                ]
            },
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
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
