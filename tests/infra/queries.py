"""Questions the infra tests ask of a `PlanRun`, phrased in AWS terms."""

from __future__ import annotations

from drplan.harness import PlanRun, Registration

VPC = "aws:ec2/vpc:Vpc"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
KMS_KEY = "aws:kms/key:Key"


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
