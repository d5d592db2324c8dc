"""Network decisions: subnet CIDRs, the choice of availability zones, and the security groups
with every rule between them and to the peer region, as data (`Network` and `PeeredVpcs`
declare them)."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Collection, Mapping, Sequence
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
# functions to the peer VPC (the health checker probes the peer cluster). No HTTPS across the
# peering: no VPC-attached function calls the peer region's APIs (the functions that do run
# outside the VPC), so neither VPC's endpoints take traffic from the other.
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
)


# Interface endpoints Security Hub FSBP asks every VPC to have (EC2.10 ec2, EC2.55 ecr.api,
# EC2.56 ecr.dkr, EC2.57 ssm, EC2.58 ssm-contacts, EC2.60 ssm-incidents). Nothing in the stack
# calls these APIs, so they are opt-in (`complianceEndpoints`).
COMPLIANCE_ENDPOINT_SERVICES: Mapping[str, str] = {
    "ec2": "EC2.10",
    "ecr.api": "EC2.55",
    "ecr.dkr": "EC2.56",
    "ssm": "EC2.57",
    "ssm-contacts": "EC2.58",
    "ssm-incidents": "EC2.60",
}


def interface_endpoint_services(needed: Sequence[str], compliance: bool) -> tuple[str, ...]:
    """The interface endpoints of one VPC: those its functions call (`needed`), plus the
    compliance endpoints when asked for, sorted and without repeats."""
    extra = tuple(COMPLIANCE_ENDPOINT_SERVICES) if compliance else ()
    return tuple(sorted({*needed, *extra}))


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


@dataclass(frozen=True)
class Zone:
    """One availability zone of a region, as the account sees it."""

    name: str
    """The account's name for it (`us-east-1a`): names map to different physical zones in each
    account, and they are what subnets, instances and URNs carry."""
    zone_id: str
    """The same physical zone in every account (`use1-az1`)."""


class ZoneChoiceError(ValueError):
    """The region cannot offer enough zones where every service the stack places there runs."""


def choose_zones(
    region: str, zones: Sequence[Zone], support: Mapping[str, Collection[str]], count: int
) -> list[str]:
    """Names of the `count` zones the stack's subnets (and so its instances and endpoints) use.

    `support` holds, per service placed in the subnets (an interface endpoint service, the
    database instance class), the zone names its catalogue offers. A zone is usable when every
    service runs in it; the check is made on zone IDs, so it names the same physical zone in any
    account. Among usable zones the choice is the first `count` by *name*: that is the choice the
    stack made before it checked support (the first zones by name), and a subnet's logical name,
    so its URN, carries its zone's name. Choosing by ID order instead would move the subnets, and
    replace the database instances, of every stack whose first zones by name all qualify.

    Raises `ZoneChoiceError` naming the region, each service and the zones it supports.
    """
    by_name = {zone.name: zone for zone in zones}
    offered = {
        service: {by_name[name].zone_id for name in names if name in by_name}
        for service, names in support.items()
    }
    usable_ids = {zone.zone_id for zone in zones}.intersection(*offered.values())
    usable = sorted(zone.name for zone in by_name.values() if zone.zone_id in usable_ids)
    if len(usable) < count:
        raise ZoneChoiceError(_zone_shortage(region, zones, offered, usable, count))
    return usable[:count]


def _zone_shortage(
    region: str,
    zones: Sequence[Zone],
    offered: Mapping[str, set[str]],
    usable: Sequence[str],
    count: int,
) -> str:
    def listed(ids: Collection[str]) -> str:
        named = sorted((z.name, z.zone_id) for z in zones if z.zone_id in ids)
        return ", ".join(f"{name} ({zone_id})" for name, zone_id in named) or "none"

    every = {zone.zone_id for zone in zones}
    services = "; ".join(f"{service}: {listed(ids)}" for service, ids in sorted(offered.items()))
    return (
        f"{region} offers {len(usable)} availability zone(s) where every service the stack "
        f"places in its subnets runs ({', '.join(usable) or 'none'}), the sizing needs {count}. "
        f"Zones of the region: {listed(every)}. Supported per service: {services}. Choose "
        "another region, or a sizing with fewer zones or another instance class."
    )
