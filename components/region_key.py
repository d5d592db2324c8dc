"""RegionKey: a region's customer-managed KMS key, handed to every component that encrypts."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from decisions.iam import region_key_policy
from stack.account import Account
from stack.naming import Namer
from stack.regions import Region
from stack.sizing import Sizing


@dataclass(frozen=True)
class RegionKeyArgs:
    """Inputs of `RegionKey`."""

    region: Region
    namer: Namer
    account: Account
    sizing: Sizing
    """Deletion window, and Pulumi `protect` on the key (prod): losing it makes every encrypted
    byte unreadable."""


class RegionKey(pulumi.ComponentResource):
    """Customer-managed key of one region: rotation on, an alias carrying the stack suffix, and a
    key policy for RDS, Secrets Manager, CloudWatch Logs and the publishers to encrypted SNS."""

    key: aws.kms.Key
    alias: aws.kms.Alias

    def __init__(
        self, name: str, args: RegionKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:RegionKey", name, None, opts)
        region, account = args.region, args.account
        child = pulumi.ResourceOptions(parent=self, provider=region.provider)
        physical = args.namer.regional(region.name, "key")
        self.region = region
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"aurora-dr {args.namer.suffix} data key for {region.name}",
            enable_key_rotation=True,
            deletion_window_in_days=args.sizing.kms_deletion_window_days,
            policy=json.dumps(
                region_key_policy(
                    partition=account.partition, account_id=account.id, region=region.name
                )
            ),
            tags={"Name": physical},
            opts=child.merge(pulumi.ResourceOptions(protect=args.sizing.protect)),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{physical}",
            target_key_id=self.key.key_id,
            opts=child,
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.key.arn, "alias": self.alias.name})

    def exports(self) -> dict[str, pulumi.Output[str]]:
        """Stack outputs: `primaryKmsKeyArn` / `drKmsKeyArn`."""
        return {f"{self.region.role}KmsKeyArn": self.key.arn}
