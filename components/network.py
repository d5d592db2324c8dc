"""Network: one region's private, isolated VPC for Aurora and the VPC-attached Lambda functions."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from decisions.iam import assume_role_policy, flow_log_delivery_policy
from decisions.network import choose_azs, subnet_cidrs
from stack.naming import regional_name

POSTGRES_PORT = 5432
HTTPS_PORT = 443


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of `Network`."""

    environment_suffix: str
    region: str
    vpc_cidr: str
    az_count: int
    endpoint_az_count: int
    """Interface endpoints are placed in the first `endpoint_az_count` subnets."""
    flow_log_retention_days: int
    kms_key_arn: pulumi.Input[str]
    """The region's key: encrypts the flow-log group."""
    endpoint_services: tuple[str, ...]
    """AWS APIs the VPC-attached functions of this region call (`automation.endpoint_services_for`):
    without a NAT gateway each needs an interface endpoint."""


class Network(pulumi.ComponentResource):
    """VPC with DNS support, one private isolated subnet per AZ, a route table, security groups for
    the database, the Lambdas and the endpoints, a rule-less default security group, flow logs to a
    KMS-encrypted log group, and interface endpoints. No NAT or internet gateway: nothing here can
    reach, or be reached from, the internet."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        suffix, region = args.environment_suffix, args.region

        def named(*parts: str) -> str:
            return regional_name(suffix, region, *parts)

        self.cidr = args.vpc_cidr
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": named("vpc")},
            opts=child,
        )

        zones = aws.get_availability_zones(
            state="available", opts=pulumi.InvokeOptions(parent=self)
        ).names
        self.availability_zones = choose_azs(zones, args.az_count)
        self.subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": named("private", zone[-1]), "Tier": "private-isolated"},
                opts=child,
            )
            for zone, cidr in zip(
                self.availability_zones,
                subnet_cidrs(args.vpc_cidr, args.az_count),
                strict=True,
            )
        ]
        self.subnet_ids = [subnet.id for subnet in self.subnets]

        # One route table is enough without a NAT gateway (every AZ routes the same way). The
        # VPC's main table gets the same peer routes (PeeredVpcs) so a subnet added later and
        # left on the main table still reaches the peer region.
        self.route_table = aws.ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=self.vpc.id,
            tags={"Name": named("private-rt")},
            opts=child,
        )
        for zone, subnet in zip(self.availability_zones, self.subnets, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rt-{zone}",
                subnet_id=subnet.id,
                route_table_id=self.route_table.id,
                opts=child,
            )
        self.route_table_ids: list[pulumi.Output[str]] = [
            self.route_table.id,
            self.vpc.default_route_table_id,
        ]

        # AWS creates a default security group that allows all traffic between its members;
        # adopting it with no rules strips them (Security Hub EC2.2).
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            tags={"Name": named("default-sg-locked")},
            opts=child,
        )

        self.db_security_group = self._security_group(
            name, "db", "Aurora PostgreSQL instances", named("db")
        )
        self.lambda_security_group = self._security_group(
            name, "lambda", "VPC-attached DR Lambda functions", named("lambda")
        )
        self.endpoint_security_group = self._security_group(
            name, "endpoints", "Interface VPC endpoints", named("endpoints")
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-db-from-lambda",
            security_group_id=self.db_security_group.id,
            referenced_security_group_id=self.lambda_security_group.id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description="PostgreSQL from the DR Lambda functions of this region",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-lambda-to-db",
            security_group_id=self.lambda_security_group.id,
            referenced_security_group_id=self.db_security_group.id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description="PostgreSQL to the Aurora instances of this region",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-lambda-to-endpoints",
            security_group_id=self.lambda_security_group.id,
            referenced_security_group_id=self.endpoint_security_group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description="HTTPS to the interface VPC endpoints (AWS APIs without NAT)",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-from-lambda",
            security_group_id=self.endpoint_security_group.id,
            referenced_security_group_id=self.lambda_security_group.id,
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description="HTTPS from the DR Lambda functions of this region",
            opts=child,
        )

        self.flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/aws/vpc/flow-logs/{named('vpc')}",
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.kms_key_arn,
            opts=child,
        )
        flow_log_role = aws.iam.Role(
            f"{name}-flow-logs-role",
            name=named("flow-logs"),
            assume_role_policy=json.dumps(assume_role_policy("vpc-flow-logs.amazonaws.com")),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=flow_log_role.id,
            policy=self.flow_log_group.arn.apply(
                lambda arn: json.dumps(flow_log_delivery_policy(arn))
            ),
            opts=child,
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=flow_log_role.arn,
            max_aggregation_interval=60,
            tags={"Name": named("flow-log")},
            opts=child,
        )

        endpoint_subnet_ids = self.subnet_ids[: args.endpoint_az_count]
        self.endpoints = {
            service: aws.ec2.VpcEndpoint(
                f"{name}-endpoint-{service}",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=endpoint_subnet_ids,
                security_group_ids=[self.endpoint_security_group.id],
                tags={"Name": named("endpoint", service)},
                opts=child,
            )
            for service in args.endpoint_services
        }

        self.rds_endpoint_url = (
            self.endpoints["rds"].dns_entries.apply(_first_dns_name).apply(lambda n: f"https://{n}")
            if "rds" in self.endpoints
            else None
        )

        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "subnetIds": self.subnet_ids,
                "dbSecurityGroupId": self.db_security_group.id,
                "lambdaSecurityGroupId": self.lambda_security_group.id,
            }
        )

    def _security_group(
        self, name: str, role: str, description: str, physical_name: str
    ) -> aws.ec2.SecurityGroup:
        # Rules are separate resources (each with its description), so other components can add
        # theirs (PeeredVpcs) without fighting over an inline rule list. A security group created
        # by the provider has its default allow-all egress removed.
        return aws.ec2.SecurityGroup(
            f"{name}-{role}-sg",
            name=physical_name,
            description=f"aurora-dr: {description}",
            vpc_id=self.vpc.id,
            tags={"Name": physical_name},
            opts=pulumi.ResourceOptions(parent=self),
        )


def _first_dns_name(entries) -> str:
    """Endpoint-specific (regional) DNS name of an interface endpoint: resolvable from anywhere,
    so the peer region reaches this endpoint over the peering without private DNS."""
    first = entries[0]
    return first["dns_name"] if isinstance(first, dict) else first.dns_name
