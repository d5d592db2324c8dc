"""PeeredVpcs: cross-region VPC peering between the primary and the DR network."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.network import Network
from components.security_rules import declare_rule
from decisions.network import PEER_RULES
from stack.naming import Namer
from stack.roles import DR, PRIMARY, Pair, Role

# AWS's names for the two ends of a peering: the primary region requests, the DR region accepts.
# They are part of the logical names (so of the URNs) of everything declared per side.
SIDES: dict[Role, str] = {PRIMARY: "requester", DR: "accepter"}


@dataclass(frozen=True)
class PeeredVpcsArgs:
    """Inputs of `PeeredVpcs`."""

    namer: Namer
    networks: Pair[Network]
    """Both regions' networks; each is reached through its own region's provider."""


class PeeredVpcs(pulumi.ComponentResource):
    """Requester + auto-accepting accepter, remote DNS resolution on both sides (so each region
    resolves the other's RDS endpoints to private addresses), a route to the peer CIDR in every
    route table of both VPCs, PostgreSQL between the regions' database and Lambda groups, and
    HTTPS from each region's functions to the other region's API endpoints."""

    def __init__(
        self, name: str, args: PeeredVpcsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:PeeredVpcs", name, None, opts)
        self._name, self._networks = name, args.networks
        self._connect(args.namer.name("peering"))
        self._enable_remote_dns()
        for role, network in args.networks.items():
            self._route_to_peer(role, network)
            self._open_to_peer(role, network)
        self.connection_id = self.accepter.id
        self.register_outputs({"peeringConnectionId": self.accepter.id})

    def exports(self) -> dict[str, pulumi.Output[str]]:
        """Stack outputs: `peeringConnectionId`."""
        return {"peeringConnectionId": self.connection_id}

    def _side_opts(self, role: Role) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._networks[role].region.provider)

    def _active_side_opts(self, role: Role) -> pulumi.ResourceOptions:
        # Options and routes can only be set on an active connection.
        return self._side_opts(role).merge(pulumi.ResourceOptions(depends_on=[self.accepter]))

    def _connect(self, peering_name: str) -> None:
        requester, accepter = self._networks
        self.connection = aws.ec2.VpcPeeringConnection(
            f"{self._name}-connection",
            vpc_id=requester.vpc.id,
            peer_vpc_id=accepter.vpc.id,
            peer_region=accepter.region.name,
            # Cross-region peering cannot be accepted by the requester: the accepter does it.
            auto_accept=False,
            tags={"Name": peering_name, "Side": SIDES[PRIMARY]},
            opts=self._side_opts(PRIMARY),
        )
        self.accepter = aws.ec2.VpcPeeringConnectionAccepter(
            f"{self._name}-accepter",
            vpc_peering_connection_id=self.connection.id,
            auto_accept=True,
            tags={"Name": peering_name, "Side": SIDES[DR]},
            opts=self._side_opts(DR),
        )

    def _enable_remote_dns(self) -> None:
        # For a cross-region peering each side sets its own options, from its own region.
        aws.ec2.PeeringConnectionOptions(
            f"{self._name}-{SIDES[PRIMARY]}-options",
            vpc_peering_connection_id=self.accepter.id,
            requester=aws.ec2.PeeringConnectionOptionsRequesterArgs(
                allow_remote_vpc_dns_resolution=True
            ),
            opts=self._active_side_opts(PRIMARY),
        )
        aws.ec2.PeeringConnectionOptions(
            f"{self._name}-{SIDES[DR]}-options",
            vpc_peering_connection_id=self.accepter.id,
            accepter=aws.ec2.PeeringConnectionOptionsAccepterArgs(
                allow_remote_vpc_dns_resolution=True
            ),
            opts=self._active_side_opts(DR),
        )

    def _route_to_peer(self, role: Role, network: Network) -> None:
        """A route to the peer VPC in every route table of this side's VPC."""
        peer_cidr = self._networks.peer_of(role).cidr
        for index, route_table_id in enumerate(network.route_table_ids):
            aws.ec2.Route(
                f"{self._name}-{SIDES[role]}-peer-route-{index}",
                route_table_id=route_table_id,
                destination_cidr_block=peer_cidr,
                vpc_peering_connection_id=self.accepter.id,
                opts=self._active_side_opts(role),
            )

    def _open_to_peer(self, role: Role, network: Network) -> None:
        """This side's rules to and from the peer VPC (`decisions.network.PEER_RULES`)."""
        peer_cidr = self._networks.peer_of(role).cidr
        for spec in PEER_RULES:
            declare_rule(
                f"{self._name}-{SIDES[role]}-{spec.key}",
                spec,
                network.security_groups,
                self._side_opts(role),
                peer_cidr=peer_cidr,
            )
