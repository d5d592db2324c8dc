"""The stack's two regions, each a `Region` value built once from the settings.

A component receives the `Region` it declares its resources in and nothing else about it: the
AWS region name, the VPC range, the peer's name and the provider all come with it, so a
forgotten argument cannot put a DR resource in the primary region.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws

from stack.config import StackSettings
from stack.naming import Namer
from stack.roles import DR, PRIMARY, Pair, Role, peer_role


@dataclass(frozen=True)
class Region:
    """One of the stack's regions, by its role."""

    role: Role
    """`primary` or `dr`: the region's role as configured (which one writes is runtime state)."""
    name: str
    """AWS region name, e.g. us-east-1."""
    vpc_cidr: str
    """The range of the region's VPC (disjoint from the peer's: they are peered)."""
    peer_name: str
    """AWS region name of the other region."""
    provider: aws.Provider
    """Every resource of this region is declared through it; it carries the stack's tags."""

    @property
    def peer_role(self) -> Role:
        """The other region's role."""
        return peer_role(self.role)

    def exports(self) -> dict[str, str]:
        """Stack outputs: `primaryRegion` / `drRegion`."""
        return {f"{self.role}Region": self.name}


def declare_regions(settings: StackSettings, namer: Namer) -> Pair[Region]:
    """Both regions, each with its provider (logical name `<role>-region`).

    One explicit provider per region rather than pulumi-aws 7's per-resource `region=`: a
    component receives its region once, through the `Region`, and the tags ride on each
    provider's default tags (the only way to give regions their own default tags, too).
    """
    names = Pair(settings.primary_region, settings.dr_region)
    cidrs = Pair(settings.primary_vpc_cidr, settings.dr_vpc_cidr)

    def declare(role: Role) -> Region:
        provider = aws.Provider(
            f"{role}-region",
            region=names[role],
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(namer.tags)),
        )
        return Region(role, names[role], cidrs[role], names.peer_of(role), provider)

    return Pair(declare(PRIMARY), declare(DR))
