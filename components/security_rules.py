"""Declaring one security-group rule from a `decisions.network.RuleSpec` (shared by `Network`,
for the rules inside a VPC, and `PeeredVpcs`, for the rules across the peering)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from decisions.network import INGRESS, PEER_VPC, GroupRole, RuleSpec


def declare_rule(
    logical_name: str,
    spec: RuleSpec,
    groups: Mapping[GroupRole, aws.ec2.SecurityGroup],
    opts: pulumi.ResourceOptions,
    peer_cidr: str | None = None,
) -> pulumi.CustomResource:
    """The TCP rule of `spec` on `groups[spec.group]`; its other side is `groups[spec.other]`, or
    `peer_cidr` for a rule to or from the peer VPC. Each rule is a resource of its own (with its
    description), so components can add theirs without fighting over an inline rule list."""
    if spec.other is PEER_VPC and peer_cidr is None:
        raise ValueError(f"rule {spec.key} faces the peer VPC: give its CIDR")
    kind = (
        aws.vpc.SecurityGroupIngressRule
        if spec.direction == INGRESS
        else aws.vpc.SecurityGroupEgressRule
    )
    return kind(
        logical_name,
        security_group_id=groups[spec.group].id,
        referenced_security_group_id=None if spec.other is None else groups[spec.other].id,
        cidr_ipv4=peer_cidr if spec.other is None else None,
        ip_protocol="tcp",
        from_port=spec.port,
        to_port=spec.port,
        description=spec.description.format(peer_cidr=peer_cidr),
        opts=opts,
    )
