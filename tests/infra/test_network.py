"""Network and PeeredVpcs, checked on what the dev and prod stacks register."""

from __future__ import annotations

import ipaddress

import pytest

from drplan.harness import PlanRun, ProgramFailed, Registration, ZoneCatalogue, run_program
from tests.infra.queries import (
    EGRESS_RULE,
    INGRESS_RULE,
    ROUTE,
    cidr_rules,
    key_arns_by_region,
    peer_cidr,
    port_range,
    region_roles,
    route_tables_of,
    security_group,
    vpc_in,
)

INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
PEERING_OPTIONS = "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions"


def test_every_route_table_of_both_vpcs_routes_the_peer_cidr_through_the_peering(plan: PlanRun):
    # GIVEN the two VPCs and the peering connection the stack creates
    roles = region_roles(plan)
    (accepter,) = plan.of_type(ACCEPTER)
    for role, peer_role in (("primary", "dr"), ("dr", "primary")):
        vpc, peer_vpc = vpc_in(plan, roles[role]), vpc_in(plan, roles[peer_role])
        tables = route_tables_of(plan, vpc)
        # WHEN we collect the routes to the peer's CIDR
        peer_routes = {
            r.inputs["routeTableId"]: r
            for r in plan.of_type(ROUTE)
            if r.inputs.get("destinationCidrBlock") == peer_vpc.inputs["cidrBlock"]
        }
        # THEN every route table of the VPC has one, through the peering, in the VPC's region
        assert len(tables) >= 2
        for table in tables:
            assert table in peer_routes, f"route table {table} of {role} misses the peer route"
            route = peer_routes[table]
            assert route.inputs["vpcPeeringConnectionId"] == accepter.id
            assert route.region == roles[role]


def test_subnets_are_associated_with_a_table_that_routes_the_peer(plan: PlanRun):
    roles = region_roles(plan)
    associations = plan.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    routed_tables = {r.inputs["routeTableId"] for r in plan.of_type(ROUTE)}
    subnets = plan.of_type("aws:ec2/subnet:Subnet")
    for subnet in subnets:
        tables = {
            a.inputs["routeTableId"] for a in associations if a.inputs["subnetId"] == subnet.id
        }
        assert len(tables) == 1, f"subnet {subnet.name} has {len(tables)} route tables"
        assert tables <= routed_tables
    assert {s.region for s in subnets} == set(roles.values())


def test_peering_is_requested_from_primary_and_accepted_in_dr_with_remote_dns(plan: PlanRun):
    roles = region_roles(plan)
    (connection,) = plan.of_type(PEERING)
    (accepter,) = plan.of_type(ACCEPTER)
    assert connection.region == roles["primary"]
    assert connection.inputs["peerRegion"] == roles["dr"]
    assert connection.inputs["vpcId"] == vpc_in(plan, roles["primary"]).id
    assert connection.inputs["peerVpcId"] == vpc_in(plan, roles["dr"]).id
    assert accepter.region == roles["dr"]
    assert accepter.inputs["autoAccept"] is True
    assert accepter.inputs["vpcPeeringConnectionId"] == connection.id
    options = {o.region: o.inputs for o in plan.of_type(PEERING_OPTIONS)}
    assert options[roles["primary"]]["requester"]["allowRemoteVpcDnsResolution"] is True
    assert options[roles["dr"]]["accepter"]["allowRemoteVpcDnsResolution"] is True


def test_each_database_security_group_admits_postgres_from_the_peer_cidr(plan: PlanRun):
    roles = region_roles(plan)
    for role, peer_role in (("primary", "dr"), ("dr", "primary")):
        db_group = security_group(plan, roles[role], "db")
        peer_cidr = vpc_in(plan, roles[peer_role]).inputs["cidrBlock"]
        rules = [
            r
            for r in plan.of_type(INGRESS_RULE)
            if r.inputs["securityGroupId"] == db_group.id and r.inputs.get("cidrIpv4") == peer_cidr
        ]
        assert len(rules) == 1, f"{role} database SG must admit the peer CIDR once"
        rule = rules[0].inputs
        assert (rule["ipProtocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 5432, 5432)
        assert rule["description"]


def test_no_endpoint_security_group_admits_the_peer_cidr(plan: PlanRun):
    # GIVEN each region's interface-endpoint group: no VPC-attached function calls the peer
    # region's APIs any more (the functions that do run outside the VPC)
    roles = region_roles(plan)
    for role in ("primary", "dr"):
        group = security_group(plan, roles[role], "endpoints")
        # WHEN we collect its ingress rules from the peer VPC's CIDR
        rules = cidr_rules(plan, INGRESS_RULE, group, peer_cidr(plan, role))
        # THEN there are none: the endpoints take HTTPS from this VPC's functions only
        assert rules == [], f"{role} endpoint SG admits the peer CIDR"


def test_each_lambda_security_group_may_reach_the_peer_database_cidr(plan: PlanRun):
    # GIVEN each region's Lambda group: the health checker's cross-region probe connects to the
    # peer cluster; no API of the peer region is reached over the peering
    roles = region_roles(plan)
    for role in ("primary", "dr"):
        group = security_group(plan, roles[role], "lambda")
        cidr = peer_cidr(plan, role)
        # WHEN we collect its egress rules to the peer VPC's CIDR
        rules = cidr_rules(plan, EGRESS_RULE, group, cidr)
        # THEN PostgreSQL (the probe) leaves for it, nothing else
        assert sorted(port_range(r) for r in rules) == [("tcp", 5432, 5432)], (
            f"{role} Lambda SG egress to the peer CIDR {cidr}"
        )
        assert {r.region for r in rules} == {roles[role]}


def test_every_rule_has_a_description_and_nothing_is_open_to_the_internet(plan: PlanRun):
    rules = plan.of_type(INGRESS_RULE) + plan.of_type(EGRESS_RULE)
    assert rules
    for rule in rules:
        assert rule.inputs.get("description"), f"{rule.name} has no description"
        assert rule.inputs.get("cidrIpv4") != "0.0.0.0/0", f"{rule.name} is open to the world"
        assert rule.inputs.get("ipProtocol") != "-1", f"{rule.name} allows every protocol"
    for group in plan.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert "ingress" not in group.inputs and "egress" not in group.inputs


def test_three_private_subnets_in_three_distinct_azs_per_region(plan: PlanRun):
    for region in region_roles(plan).values():
        vpc = vpc_in(plan, region)
        subnets = [s for s in plan.of_type("aws:ec2/subnet:Subnet") if s.region == region]
        assert len(subnets) == 3
        zones = {s.inputs["availabilityZone"] for s in subnets}
        assert len(zones) == 3 and all(z.startswith(region) for z in zones)
        network = ipaddress.ip_network(vpc.inputs["cidrBlock"])
        blocks = [ipaddress.ip_network(s.inputs["cidrBlock"]) for s in subnets]
        assert all(b.subnet_of(network) for b in blocks)
        assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
        assert all(s.inputs.get("mapPublicIpOnLaunch") is False for s in subnets)
        assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True


def test_no_path_to_the_internet(plan: PlanRun):
    forbidden = {
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
        "aws:ec2/eip:Eip",
    }
    assert not [r.type for r in plan.resources if r.type in forbidden]
    for route in plan.of_type(ROUTE):
        assert route.inputs.get("vpcPeeringConnectionId"), f"{route.name} leaves the peering"
        assert route.inputs["destinationCidrBlock"] != "0.0.0.0/0"


def test_default_security_groups_are_adopted_with_no_rules(plan: PlanRun):
    defaults = plan.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    vpcs = {vpc_in(plan, r).id for r in region_roles(plan).values()}
    assert {d.inputs["vpcId"] for d in defaults} == vpcs
    for group in defaults:
        assert not group.inputs.get("ingress") and not group.inputs.get("egress")


def test_flow_logs_go_to_a_log_group_encrypted_with_the_regions_own_key(plan: PlanRun):
    keys = key_arns_by_region(plan)
    log_groups = {g.outputs["arn"]: g for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup")}
    flow_logs = plan.of_type("aws:ec2/flowLog:FlowLog")
    assert {f.region for f in flow_logs} == set(region_roles(plan).values())
    for flow_log in flow_logs:
        assert flow_log.inputs["vpcId"] == vpc_in(plan, flow_log.region).id
        assert flow_log.inputs["trafficType"] == "ALL"
        group = log_groups[flow_log.inputs["logDestination"]]
        assert group.region == flow_log.region
        assert group.inputs["kmsKeyId"] == keys[flow_log.region]
        assert group.inputs["retentionInDays"] >= 1


def interface_endpoints(run: PlanRun) -> list[Registration]:
    """The VPC endpoints of type Interface (the S3 gateway endpoint has no subnets or groups)."""
    return [
        e
        for e in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.inputs["vpcEndpointType"] == "Interface"
    ]


def test_interface_endpoints_sit_in_the_stacks_subnets_behind_the_endpoint_group(plan: PlanRun):
    for region in region_roles(plan).values():
        endpoints = [e for e in interface_endpoints(plan) if e.region == region]
        subnets = {s.id for s in plan.of_type("aws:ec2/subnet:Subnet") if s.region == region}
        group = security_group(plan, region, "endpoints")
        # Secrets Manager only: the VPC-attached functions call no other API
        assert {e.inputs["serviceName"] for e in endpoints} == {
            f"com.amazonaws.{region}.secretsmanager"
        }
        for endpoint in endpoints:
            assert endpoint.inputs["privateDnsEnabled"] is True
            assert set(endpoint.inputs["subnetIds"]) <= subnets
            assert endpoint.inputs["securityGroupIds"] == [group.id]


def test_prod_spreads_endpoints_over_every_az_and_dev_uses_one(plans: dict[str, PlanRun]):
    spreads = {
        stack: {len(e.inputs["subnetIds"]) for e in interface_endpoints(plan)}
        for stack, plan in plans.items()
    }
    assert spreads == {"dev": {1}, "prod": {3}}


def test_keys_rotate_and_live_in_both_regions(plan: PlanRun):
    keys = plan.of_type("aws:kms/key:Key")
    assert {k.region for k in keys} == set(region_roles(plan).values())
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True
        assert 7 <= key.inputs["deletionWindowInDays"] <= 30


SUBNET = "aws:ec2/subnet:Subnet"


def zones_in(run: PlanRun, type_: str, region: str) -> set[str]:
    """Zones of the `type_` resources (subnets or instances) in a region."""
    return {r.inputs["availabilityZone"] for r in run.of_type(type_) if r.region == region}


def test_a_zone_a_service_does_not_offer_is_left_out_by_every_placement():
    # GIVEN a fresh account where the secretsmanager interface endpoint does not run in
    # us-east-1b (as AWS says of other services: "The VPC endpoint service
    # com.amazonaws.us-east-1.lambda does not support the availability zone of the subnet")
    catalogue = ZoneCatalogue(missing={("us-east-1", "secretsmanager"): frozenset({"us-east-1b"})})
    # WHEN the prod stack is planned
    run = run_program("prod", catalogue=catalogue)
    # THEN the primary's subnets, instances and endpoints avoid that zone, in name order
    assert zones_in(run, SUBNET, "us-east-1") == {"us-east-1a", "us-east-1c", "us-east-1d"}
    assert zones_in(run, INSTANCE, "us-east-1") <= {"us-east-1a", "us-east-1c", "us-east-1d"}
    subnets = {s.id: s.inputs["availabilityZone"] for s in run.of_type(SUBNET)}
    for endpoint in interface_endpoints(run):
        assert "us-east-1b" not in {subnets[i] for i in endpoint.inputs["subnetIds"]}
    # AND the DR region, where everything runs everywhere, keeps the first three zones by name
    assert zones_in(run, SUBNET, "us-west-2") == {"us-west-2a", "us-west-2b", "us-west-2c"}


def test_zones_are_asked_of_each_regions_catalogue(plan: PlanRun):
    # GIVEN the lookups the program made: catalogue data, through each region's provider
    for region in region_roles(plan).values():
        asked = {token for token, where in plan.invokes if where == region}
        assert {
            "aws:index/getAvailabilityZones:getAvailabilityZones",
            "aws:ec2/getVpcEndpointService:getVpcEndpointService",
            "aws:rds/getOrderableDbInstance:getOrderableDbInstance",
        } <= asked, region


def test_a_region_without_three_usable_zones_stops_the_program_before_any_database():
    # GIVEN a DR region where the instance class and the secretsmanager endpoint each miss a zone
    catalogue = ZoneCatalogue(
        missing={
            ("us-west-2", "rds:db.serverless"): frozenset({"us-west-2a", "us-west-2b"}),
            ("us-west-2", "secretsmanager"): frozenset({"us-west-2c"}),
        }
    )
    # WHEN the dev stack is planned THEN it stops, naming the region, the services and their zones
    with pytest.raises(ProgramFailed) as failed:
        run_program("dev", catalogue=catalogue)
    message = str(failed.value)
    assert "us-west-2 offers 1 availability zone(s)" in message and "needs 3" in message
    assert "Aurora db.serverless: us-west-2c (usw2-az3), us-west-2d (usw2-az2)" in message
    assert "secretsmanager endpoint: us-west-2a (usw2-az4), us-west-2b (usw2-az1), us-west-2d" in (
        message
    )
    assert not [r for r in failed.value.registrations if r.type.startswith("aws:rds/")]


COMPLIANCE_SERVICES = {"ec2", "ecr.api", "ecr.dkr", "ssm", "ssm-contacts", "ssm-incidents"}


def endpoint_services(run: PlanRun, region: str) -> dict[str, object]:
    """Short service name -> the VPC endpoint registration, in one region."""
    prefix = f"com.amazonaws.{region}."
    return {
        e.inputs["serviceName"].removeprefix(prefix): e
        for e in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if e.region == region
    }


def test_compliance_endpoints_are_off_by_default(plan: PlanRun):
    for region in region_roles(plan).values():
        assert not COMPLIANCE_SERVICES & set(endpoint_services(plan, region))


def test_compliance_endpoints_put_the_six_fsbp_endpoints_in_every_endpoint_az_of_both_vpcs(
    plans: dict[str, PlanRun], compliant_prod: PlanRun
):
    # GIVEN prod with complianceEndpoints=true (Security Hub EC2.10/55/56/57/58/60)
    run = compliant_prod
    for region in region_roles(run).values():
        endpoints = endpoint_services(run, region)
        group = security_group(run, region, "endpoints")
        subnets = {s.id for s in run.of_type("aws:ec2/subnet:Subnet") if s.region == region}
        # THEN each VPC has all six, in every subnet (prod spreads endpoints over every AZ),
        # behind the existing endpoint group, with private DNS
        assert set(endpoints) >= COMPLIANCE_SERVICES, region
        for service in COMPLIANCE_SERVICES:
            endpoint = endpoints[service]
            assert endpoint.inputs["vpcEndpointType"] == "Interface"
            assert set(endpoint.inputs["subnetIds"]) == subnets
            assert endpoint.inputs["securityGroupIds"] == [group.id]
            assert endpoint.inputs["privateDnsEnabled"] is True
    # AND nothing else changes: the default stack's resources are all still there, same URNs
    assert {r.urn for r in plans["prod"].registrations} <= {r.urn for r in run.registrations}


def test_no_vpc_has_an_s3_gateway_nor_a_route_to_s3(plan: PlanRun):
    # GIVEN each VPC: the only function that writes S3 (the backup verifier) runs outside it
    for region in region_roles(plan).values():
        gateways = [
            e
            for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
            if e.region == region and e.inputs["vpcEndpointType"] == "Gateway"
        ]
        # THEN no gateway endpoint, and the functions' group reaches no prefix list
        assert gateways == []
        lambda_group = security_group(plan, region, "lambda")
        assert not [
            r
            for r in plan.of_type(EGRESS_RULE)
            if r.inputs["securityGroupId"] == lambda_group.id and r.inputs.get("prefixListId")
        ]
