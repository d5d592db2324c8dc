"""Network decisions: subnet CIDRs, the choice of availability zones, and the security groups
with every rule between them and to the peer region, as data (`Network` and `PeeredVpcs`
declare them)."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from decisions.aurora import POSTGRES_PORT

HTTPS_PORT = 443
# AWS's smallest subnet is a /28.
MAX_SUBNET_PREFIX = 28

GroupRole = Literal["db", "lambda", "endpoints"]
Direction = Literal["ingress", "egress"]
INGRESS: Direction = "ingress"
EGRESS: Direction = "egress"
PEER_VPC: Final = None
"""`RuleSpec.other` of a rule whose other side is the peer region's whole VPC range."""

SECURITY_GROUPS: dict[GroupRole, str] = {
    "db": "Aurora PostgreSQL instances",
    "lambda": "VPC-attached DR Lambda functions",
    "endpoints": "Interface VPC endpoints",
}
"""Each region's security groups, by role, with what they hold."""


@dataclass(frozen=True)
class RuleSpec:
    """One TCP security-group rule on one port, before it is declared."""

    key: str
    """Ends the rule's logical name (`<component>-[<side>-]<key>`), so it is part of its URN."""
    direction: Direction
    group: GroupRole
    """The group the rule belongs to."""
    other: GroupRole | None
    """The other side: another group of the same VPC, or `PEER_VPC` (the peer region's range)."""
    port: int
    description: str
    """May name the peer range as `{peer_cidr}`."""


# Inside one VPC: the functions reach the database and the interface endpoints, nothing else.
VPC_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "db-from-lambda",
        INGRESS,
        "db",
        "lambda",
        POSTGRES_PORT,
        "PostgreSQL from the DR Lambda functions of this region",
    ),
    RuleSpec(
        "lambda-to-db",
        EGRESS,
        "lambda",
        "db",
        POSTGRES_PORT,
        "PostgreSQL to the Aurora instances of this region",
    ),
    RuleSpec(
        "lambda-to-endpoints",
        EGRESS,
        "lambda",
        "endpoints",
        HTTPS_PORT,
        "HTTPS to the interface VPC endpoints (AWS APIs without NAT)",
    ),
    RuleSpec(
        "endpoints-from-lambda",
        INGRESS,
        "endpoints",
        "lambda",
        HTTPS_PORT,
        "HTTPS from the DR Lambda functions of this region",
    ),
)

# Across the peering, on each side: PostgreSQL from the peer VPC to the database, and from the
# functions to the peer VPC (the health checker probes the peer cluster); HTTPS from the peer VPC
# to the endpoints, and from the functions to the peer VPC: without NAT, the peer region's RDS
# API is reached through the peer VPC's interface endpoint (its endpoint-specific DNS name) over
# the peering, for rotation after a switchover and the backup verifier's snapshot listing.
PEER_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "db-from-peer",
        INGRESS,
        "db",
        PEER_VPC,
        POSTGRES_PORT,
        "PostgreSQL from the peer region's VPC ({peer_cidr}) over peering",
    ),
    RuleSpec(
        "lambda-to-peer-db",
        EGRESS,
        "lambda",
        PEER_VPC,
        POSTGRES_PORT,
        "PostgreSQL to the peer region's VPC ({peer_cidr}): health probes",
    ),
    RuleSpec(
        "endpoints-from-peer",
        INGRESS,
        "endpoints",
        PEER_VPC,
        HTTPS_PORT,
        "HTTPS from the peer region's VPC ({peer_cidr}) to the AWS API endpoints",
    ),
    RuleSpec(
        "lambda-to-peer-endpoints",
        EGRESS,
        "lambda",
        PEER_VPC,
        HTTPS_PORT,
        "HTTPS to the peer region's API endpoints ({peer_cidr}) over peering",
    ),
)


def subnet_cidrs(vpc_cidr: str, count: int) -> list[str]:
    """Split `vpc_cidr` into `count` equal subnets, the first `count` of the smallest power-of-two
    split, leaving the rest of the range free for later tiers.

    >>> subnet_cidrs("10.0.0.0/16", 3)
    ['10.0.0.0/18', '10.0.64.0/18', '10.0.128.0/18']
    """
    if count < 1:
        raise ValueError(f"need at least one subnet, got {count}")
    network = ipaddress.ip_network(vpc_cidr, strict=True)
    new_prefix = network.prefixlen + math.ceil(math.log2(count))
    if new_prefix > MAX_SUBNET_PREFIX:
        raise ValueError(
            f"{vpc_cidr} is too small for {count} subnets (AWS minimum is /{MAX_SUBNET_PREFIX})"
        )
    subnets = network.subnets(new_prefix=new_prefix)
    return [str(next(subnets)) for _ in range(count)]


def choose_azs(available: Sequence[str], count: int) -> list[str]:
    """The first `count` distinct zones of `available`, sorted by name so the choice is stable.

    Raises when the region has fewer zones than the sizing asks for.
    """
    zones = sorted(set(available))
    if len(zones) < count:
        raise ValueError(
            f"the region offers {len(zones)} availability zone(s) ({', '.join(zones)}) but the "
            f"sizing asks for {count}: choose a region with {count} zones"
        )
    return zones[:count]
