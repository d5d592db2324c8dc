"""The AWS account and partition the stack deploys into: looked up, never declared."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stack.regions import Region


@dataclass(frozen=True)
class Account:
    """Account id and partition (`aws`, `aws-cn`, `aws-us-gov`): ARNs and policies need both."""

    id: str
    partition: str


def lookup_account(region: Region) -> Account:
    """The caller's account and partition, asked through `region`'s provider (the credentials
    are the same in both regions, so one region answers for the stack)."""
    options = pulumi.InvokeOptions(provider=region.provider)
    identity = aws.get_caller_identity(opts=options)
    return Account(id=identity.account_id, partition=aws.get_partition(opts=options).partition)
