"""PeeredVpcs: cross-region VPC peering between the primary and the DR network."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network import HTTPS_PORT, POSTGRES_PORT, Network
from stack.naming import physical_name


@dataclass(frozen=True)
class PeeredVpcsArgs:
    """Inputs of `PeeredVpcs`. The requester side is the primary region, the accepter the DR."""

    environment_suffix: str
    requester: Network
    requester_region: str
    requester_provider: aws.Provider
    accepter: Network
    accepter_region: str
    accepter_provider: aws.Provider


class PeeredVpcs(pulumi.ComponentResource):
    """Requester + auto-accepting accepter, remote DNS resolution on both sides (so each region
    resolves the other's RDS endpoints to private addresses), a route to the peer CIDR in every
    route table of both VPCs, PostgreSQL between the regions' database and Lambda groups, and
    HTTPS from each region's functions to the other region's API endpoints."""

    def __init__(
        self, name: str, args: PeeredVpcsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:PeeredVpcs", name, None, opts)
        requester_opts = pulumi.ResourceOptions(parent=self, provider=args.requester_provider)
        accepter_opts = pulumi.ResourceOptions(parent=self, provider=args.accepter_provider)
        peering_name = physical_name(args.environment_suffix, "peering")

        self.connection = aws.ec2.VpcPeeringConnection(
            f"{name}-connection",
            vpc_id=args.requester.vpc.id,
            peer_vpc_id=args.accepter.vpc.id,
            peer_region=args.accepter_region,
            # Cross-region peering cannot be accepted by the requester: the accepter does it.
            auto_accept=False,
            tags={"Name": peering_name, "Side": "requester"},
            opts=requester_opts,
        )
        self.accepter = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accepter",
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags={"Name": peering_name, "Side": "accepter"},
            opts=accepter_opts,
        )
        # Options can only be set on an active connection, and for a cross-region peering each
        # side only from its own region.
        active = pulumi.ResourceOptions(depends_on=[self.accepter])
        aws.ec2.PeeringConnectionOptions(
            f"{name}-requester-options",
            vpc_peering_connection_id=self.accepter.id,
            requester=aws.ec2.PeeringConnectionOptionsRequesterArgs(
                allow_remote_vpc_dns_resolution=True
            ),
            opts=requester_opts.merge(active),
        )
        aws.ec2.PeeringConnectionOptions(
            f"{name}-accepter-options",
            vpc_peering_connection_id=self.accepter.id,
            accepter=aws.ec2.PeeringConnectionOptionsAccepterArgs(
                allow_remote_vpc_dns_resolution=True
            ),
            opts=accepter_opts.merge(active),
        )

        sides = (
            ("requester", args.requester, args.accepter, requester_opts),
            ("accepter", args.accepter, args.requester, accepter_opts),
        )
        for side, local, peer, side_opts in sides:
            for index, route_table_id in enumerate(local.route_table_ids):
                aws.ec2.Route(
                    f"{name}-{side}-peer-route-{index}",
                    route_table_id=route_table_id,
                    destination_cidr_block=peer.cidr,
                    vpc_peering_connection_id=self.accepter.id,
                    opts=side_opts.merge(active),
                )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{side}-db-from-peer",
                security_group_id=local.db_security_group.id,
                cidr_ipv4=peer.cidr,
                ip_protocol="tcp",
                from_port=POSTGRES_PORT,
                to_port=POSTGRES_PORT,
                description=f"PostgreSQL from the peer region's VPC ({peer.cidr}) over peering",
                opts=side_opts,
            )
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{side}-lambda-to-peer-db",
                security_group_id=local.lambda_security_group.id,
                cidr_ipv4=peer.cidr,
                ip_protocol="tcp",
                from_port=POSTGRES_PORT,
                to_port=POSTGRES_PORT,
                description=f"PostgreSQL to the peer region's VPC ({peer.cidr}): health probes",
                opts=side_opts,
            )
            # Without NAT, the peer region's RDS API is reached through the peer VPC's interface
            # endpoint (its endpoint-specific DNS name) over the peering: rotation after a
            # switchover, and the backup verifier's snapshot listing.
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{side}-endpoints-from-peer",
                security_group_id=local.endpoint_security_group.id,
                cidr_ipv4=peer.cidr,
                ip_protocol="tcp",
                from_port=HTTPS_PORT,
                to_port=HTTPS_PORT,
                description=f"HTTPS from the peer region's VPC ({peer.cidr}) to the AWS API endpoints",
                opts=side_opts,
            )
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{side}-lambda-to-peer-endpoints",
                security_group_id=local.lambda_security_group.id,
                cidr_ipv4=peer.cidr,
                ip_protocol="tcp",
                from_port=HTTPS_PORT,
                to_port=HTTPS_PORT,
                description=f"HTTPS to the peer region's API endpoints ({peer.cidr}) over peering",
                opts=side_opts,
            )

        self.connection_id = self.accepter.id
        self.register_outputs({"peeringConnectionId": self.accepter.id})
