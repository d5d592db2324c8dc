"""RegionKey: a region's customer-managed KMS key, handed to every component that encrypts."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from decisions.iam import region_key_policy
from stack.naming import regional_name


@dataclass(frozen=True)
class RegionKeyArgs:
    """Inputs of `RegionKey`."""

    environment_suffix: str
    region: str
    account_id: str
    partition: str
    deletion_window_days: int
    protect: bool
    """Pulumi `protect` on the key (prod): losing it makes every encrypted byte unreadable."""


class RegionKey(pulumi.ComponentResource):
    """Customer-managed key of one region: rotation on, an alias carrying the stack suffix, and a
    key policy for RDS, Secrets Manager, CloudWatch Logs and the publishers to encrypted SNS."""

    key: aws.kms.Key
    alias: aws.kms.Alias

    def __init__(
        self, name: str, args: RegionKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:RegionKey", name, None, opts)
        physical = regional_name(args.environment_suffix, args.region, "key")
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"aurora-dr {args.environment_suffix} data key for {args.region}",
            enable_key_rotation=True,
            deletion_window_in_days=args.deletion_window_days,
            policy=json.dumps(
                region_key_policy(
                    partition=args.partition, account_id=args.account_id, region=args.region
                )
            ),
            tags={"Name": physical},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{physical}",
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.key.arn, "alias": self.alias.name})
