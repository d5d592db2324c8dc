"""Network: one region's private, isolated VPC for Aurora and the VPC-attached Lambda functions."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.security_rules import declare_rule
from decisions.aurora import ENGINE
from decisions.functions import endpoint_services_for
from decisions.iam import assume_role_policy, flow_log_delivery_policy
from decisions.network import (
    SECURITY_GROUPS,
    VPC_RULES,
    GroupRole,
    Zone,
    choose_zones,
    interface_endpoint_services,
    subnet_cidrs,
)
from stack.config import NetworkSettings
from stack.naming import Namer
from stack.regions import Region
from stack.sizing import Sizing

# VPC Flow Logs' finest aggregation interval (seconds): records reach the log group within a minute.
FLOW_LOG_AGGREGATION_SECONDS = 60


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of `Network`."""

    region: Region
    namer: Namer
    sizing: Sizing
    """AZ count, how many AZs the endpoints spread over, flow-log retention."""
    kms_key_arn: pulumi.Input[str]
    """The region's key: encrypts the flow-log group."""
    settings: NetworkSettings
    """The engine version the database instances in these subnets run (their zones must offer
    it) and whether the VPC carries the compliance endpoints."""


class Network(pulumi.ComponentResource):
    """VPC with DNS support, one private isolated subnet per AZ, a route table, security groups for
    the database, the Lambdas and the endpoints, a rule-less default security group, flow logs to a
    KMS-encrypted log group and the interface endpoints its VPC-attached functions call (no S3
    gateway: no function in the VPC writes S3 any more). No NAT or internet gateway: nothing here
    can reach, or be reached from, the internet."""

    security_groups: dict[GroupRole, aws.ec2.SecurityGroup]
    """The db, lambda and endpoints groups (`decisions.network.SECURITY_GROUPS`)."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:Network", name, None, opts)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self, provider=args.region.provider)
        self.region = args.region
        self.cidr = args.region.vpc_cidr
        self._vpc_and_subnets()
        self._route_table()
        self._security_groups()
        self._flow_logs()
        self._endpoints()
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "subnetIds": self.subnet_ids,
                "dbSecurityGroupId": self.db_security_group.id,
                "lambdaSecurityGroupId": self.lambda_security_group.id,
            }
        )

    def exports(self) -> dict[str, pulumi.Output[str]]:
        """Stack outputs: `primaryVpcId` / `drVpcId`."""
        return {f"{self.region.role}VpcId": self.vpc.id}

    @property
    def db_security_group(self) -> aws.ec2.SecurityGroup:
        """The group of the Aurora instances."""
        return self.security_groups["db"]

    @property
    def lambda_security_group(self) -> aws.ec2.SecurityGroup:
        """The group of the VPC-attached functions."""
        return self.security_groups["lambda"]

    @property
    def endpoint_security_group(self) -> aws.ec2.SecurityGroup:
        """The group of the interface endpoints."""
        return self.security_groups["endpoints"]

    def _named(self, *parts: str) -> str:
        return self._args.namer.regional(self.region.name, *parts)

    def _vpc_and_subnets(self) -> None:
        name, az_count = self._name, self._args.sizing.az_count
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=self.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": self._named("vpc")},
            opts=self._child,
        )
        self.endpoint_services = interface_endpoint_services(
            endpoint_services_for(self.region.role), self._args.settings.compliance_endpoints
        )
        self.availability_zones = self._usable_zones()
        self.subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": self._named("private", zone[-1]), "Tier": "private-isolated"},
                opts=self._child,
            )
            for zone, cidr in zip(
                self.availability_zones, subnet_cidrs(self.cidr, az_count), strict=True
            )
        ]
        self.subnet_ids = [subnet.id for subnet in self.subnets]

    def _usable_zones(self) -> list[str]:
        """The sizing's number of zones where every service placed in the subnets runs: each
        interface endpoint service and the database instance class (`choose_zones`). Not every
        service runs in every zone ("The VPC endpoint service com.amazonaws.us-east-1.lambda does
        not support the availability zone of the subnet", awslabs/aws-orbit-workbench#320).
        Catalogue lookups only (what AWS offers in the region), never lookups of existing
        resources, so the stack still deploys into an empty account."""
        sizing = self._args.sizing
        invoke = pulumi.InvokeOptions(parent=self, provider=self.region.provider)
        zones = aws.get_availability_zones(state="available", opts=invoke)
        support: dict[str, list[str]] = {
            f"{service} endpoint": list(
                aws.ec2.get_vpc_endpoint_service(
                    service=service, service_type="Interface", opts=invoke
                ).availability_zones
            )
            for service in self.endpoint_services
        }
        # `preferred_instance_classes` picks one of several matching offerings (e.g. per storage
        # type) instead of failing with "multiple RDS DB Instance Classes ... match".
        orderable = aws.rds.get_orderable_db_instance(
            engine=ENGINE,
            engine_version=self._args.settings.engine_version,
            instance_class=sizing.instance_class,
            preferred_instance_classes=[sizing.instance_class],
            supports_global_databases=True,
            opts=invoke,
        )
        support[f"Aurora {sizing.instance_class}"] = list(orderable.availability_zones)
        catalogue = [Zone(n, i) for n, i in zip(zones.names, zones.zone_ids, strict=True)]
        return choose_zones(self.region.name, catalogue, support, sizing.az_count)

    def _route_table(self) -> None:
        # One route table is enough without a NAT gateway (every AZ routes the same way). The
        # VPC's main table gets the same peer routes (PeeredVpcs) so a subnet added later and
        # left on the main table still reaches the peer region.
        name = self._name
        self.route_table = aws.ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=self.vpc.id,
            tags={"Name": self._named("private-rt")},
            opts=self._child,
        )
        for zone, subnet in zip(self.availability_zones, self.subnets, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rt-{zone}",
                subnet_id=subnet.id,
                route_table_id=self.route_table.id,
                opts=self._child,
            )
        self.route_table_ids: list[pulumi.Output[str]] = [
            self.route_table.id,
            self.vpc.default_route_table_id,
        ]

    def _security_groups(self) -> None:
        # AWS creates a default security group that allows all traffic between its members;
        # adopting it with no rules strips them (Security Hub EC2.2).
        aws.ec2.DefaultSecurityGroup(
            f"{self._name}-default-sg",
            vpc_id=self.vpc.id,
            tags={"Name": self._named("default-sg-locked")},
            opts=self._child,
        )
        # Rules are separate resources, so PeeredVpcs adds its own. A security group created by
        # the provider has its default allow-all egress removed.
        self.security_groups = {
            role: aws.ec2.SecurityGroup(
                f"{self._name}-{role}-sg",
                name=self._named(role),
                description=f"aurora-dr: {holds}",
                vpc_id=self.vpc.id,
                tags={"Name": self._named(role)},
                opts=self._child,
            )
            for role, holds in SECURITY_GROUPS.items()
        }
        self._rules = {
            spec: declare_rule(f"{self._name}-{spec.key}", spec, self.security_groups, self._child)
            for spec in VPC_RULES
        }

    def rules_of(self, role: GroupRole) -> list[pulumi.CustomResource]:
        """The rules inside this VPC that let traffic in or out of the `role` group (e.g. what a
        VPC-attached function's ENIs need before it can reach the database and the endpoints)."""
        return [rule for spec, rule in self._rules.items() if role in (spec.group, spec.other)]

    def _flow_logs(self) -> None:
        name = self._name
        self.flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/aws/vpc/flow-logs/{self._named('vpc')}",
            retention_in_days=self._args.sizing.flow_log_retention_days,
            kms_key_id=self._args.kms_key_arn,
            opts=self._child,
        )
        flow_log_role = aws.iam.Role(
            f"{name}-flow-logs-role",
            name=self._named("flow-logs"),
            assume_role_policy=json.dumps(assume_role_policy("vpc-flow-logs.amazonaws.com")),
            opts=self._child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=flow_log_role.id,
            policy=self.flow_log_group.arn.apply(
                lambda arn: json.dumps(flow_log_delivery_policy(arn))
            ),
            opts=self._child,
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=flow_log_role.arn,
            max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
            tags={"Name": self._named("flow-log")},
            opts=self._child,
        )

    def _endpoints(self) -> None:
        # Without a NAT gateway, every AWS API the VPC-attached functions of this region call
        # needs an interface endpoint (and the compliance endpoints when asked for); they sit in
        # the first `endpoint_az_count` subnets.
        endpoint_subnet_ids = self.subnet_ids[: self._args.sizing.endpoint_az_count]
        self.endpoints = {
            service: aws.ec2.VpcEndpoint(
                f"{self._name}-endpoint-{service}",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{self.region.name}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=endpoint_subnet_ids,
                security_group_ids=[self.endpoint_security_group.id],
                tags={"Name": self._named("endpoint", service)},
                opts=self._child,
            )
            for service in self.endpoint_services
        }
