"""Physical names and tags: the one place that decides what things are called in AWS.

Every physical name is `aurora-dr-<what>[-<region code>]-<suffix>`, so two stacks never collide in
one account and every resource can be traced back to its stack. Names of global services (IAM,
Route 53) carry a region code when one exists per region.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from stack.config import PROJECT, StackSettings

MANAGED_BY = "pulumi"
_REGION_PARTS = re.compile(r"^([a-z]{2})(?:-gov)?-([a-z]+)-(\d)$")
_DIRECTIONS = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


def region_code(region: str) -> str:
    """Short, stable code of an AWS region for names: us-east-1 -> use1, eu-central-1 -> euc1."""
    match = _REGION_PARTS.match(region)
    if match is None:
        raise ValueError(f"not an AWS region name: {region!r}")
    geo, direction, number = match.groups()
    return f"{geo}{_DIRECTIONS.get(direction, direction[:2])}{number}"


@dataclass(frozen=True)
class Namer:
    """Names and tags of one stack, built once from its settings and handed to every component."""

    suffix: str
    """The stack's environmentSuffix: it ends every physical name."""
    tags: Mapping[str, str]
    """The tags every resource carries, applied as the region providers' default tags."""

    @classmethod
    def from_settings(cls, settings: StackSettings) -> Namer:
        """The stack's namer: its suffix, and the tags its configuration asks for."""
        tags = {
            "Environment": settings.tags.environment,
            "Repository": settings.tags.repository,
            "Author": settings.tags.author,
            "PRNumber": settings.tags.pr_number,
            "Team": settings.tags.team,
            "Project": PROJECT,
            "ManagedBy": MANAGED_BY,
        }
        return cls(suffix=settings.environment_suffix, tags=MappingProxyType(tags))

    def name(self, *parts: str) -> str:
        """`aurora-dr-<parts...>-<suffix>`: the physical name of a resource the stack has once."""
        return "-".join((PROJECT, *parts, self.suffix))

    def regional(self, region: str, *parts: str) -> str:
        """`aurora-dr-<parts...>-<region code>-<suffix>`: a resource that exists once per region
        (`region` is the AWS region name)."""
        return self.name(*parts, region_code(region))
