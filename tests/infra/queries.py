"""Questions the infra tests ask of a `PlanRun`, phrased in AWS terms."""

from __future__ import annotations

import json

from drplan.harness import PlanRun, Registration

VPC = "aws:ec2/vpc:Vpc"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def region_roles(plan: PlanRun) -> dict[str, str]:
    """{"primary": region, "dr": region} from the stack outputs."""
    return {"primary": plan.outputs["primaryRegion"], "dr": plan.outputs["drRegion"]}


def vpc_in(plan: PlanRun, region: str) -> Registration:
    """The one VPC of a region."""
    vpcs = [v for v in plan.of_type(VPC) if v.region == region]
    assert len(vpcs) == 1, f"expected one VPC in {region}, found {len(vpcs)}"
    return vpcs[0]


def route_tables_of(plan: PlanRun, vpc: Registration) -> set[str]:
    """Ids of every route table of a VPC: those the stack creates and the VPC's main table."""
    created = {t.id for t in plan.of_type(ROUTE_TABLE) if t.inputs["vpcId"] == vpc.id}
    return created | {vpc.outputs["defaultRouteTableId"]}


def key_arns_by_region(plan: PlanRun) -> dict[str, str]:
    """Region -> ARN of the stack's KMS key in that region."""
    return {k.region: k.outputs["arn"] for k in plan.of_type(KMS_KEY)}


def security_group(plan: PlanRun, region: str, role: str) -> Registration:
    """The stack's security group for `role` (db, lambda, endpoints) in a region."""
    matches = [
        g
        for g in plan.of_type(SECURITY_GROUP)
        if g.region == region and g.name.endswith(f"-{role}-sg")
    ]
    assert len(matches) == 1, f"expected one {role} security group in {region}"
    return matches[0]


def peer_cidr(plan: PlanRun, role: str) -> str:
    """CIDR of the VPC on the other side of the peering from `role` (primary or dr)."""
    peer_role = "dr" if role == "primary" else "primary"
    return vpc_in(plan, region_roles(plan)[peer_role]).inputs["cidrBlock"]


def cidr_rules(plan: PlanRun, rule_type: str, group: Registration, cidr: str) -> list[Registration]:
    """Rules of `rule_type` (INGRESS_RULE or EGRESS_RULE) on `group` whose other side is `cidr`."""
    return [
        r
        for r in plan.of_type(rule_type)
        if r.inputs["securityGroupId"] == group.id and r.inputs.get("cidrIpv4") == cidr
    ]


def port_range(rule: Registration) -> tuple[str, int, int]:
    """(protocol, from port, to port) of a security group rule."""
    inputs = rule.inputs
    return inputs["ipProtocol"], int(inputs["fromPort"]), int(inputs["toPort"])


def log_group_named(plan: PlanRun, name: str) -> Registration:
    """The stack's CloudWatch log group with this physical name."""
    matches = [g for g in plan.of_type(LOG_GROUP) if g.inputs.get("name") == name]
    assert len(matches) == 1, f"expected one log group {name!r}, found {len(matches)}"
    return matches[0]


def provider_default_tags(provider: Registration) -> dict[str, str]:
    """The default tags of an explicit provider (they arrive as JSON text under the mocks)."""
    default_tags = provider.inputs["defaultTags"]
    parsed = json.loads(default_tags) if isinstance(default_tags, str) else default_tags
    return parsed["tags"]
