"""Physical names and tags: the one place that decides what things are called in AWS.

Every physical name is `aurora-dr-<what>[-<region code>]-<suffix>`, so two stacks never collide in
one account and every resource can be traced back to its stack. Names of global services (IAM,
Route 53) carry a region code when one exists per region.
"""

from __future__ import annotations

import re

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


def physical_name(suffix: str, *parts: str) -> str:
    """`aurora-dr-<parts...>-<suffix>`: the physical name of one resource."""
    return "-".join((PROJECT, *parts, suffix))


def regional_name(suffix: str, region: str, *parts: str) -> str:
    """Physical name of a resource that exists once per region."""
    return physical_name(suffix, *parts, region_code(region))


def stack_tags(settings: StackSettings) -> dict[str, str]:
    """The tags every resource carries (DESIGN §3), applied as provider default tags."""
    return {
        "Environment": settings.tags.environment,
        "Repository": settings.tags.repository,
        "Author": settings.tags.author,
        "PRNumber": settings.tags.pr_number,
        "Team": settings.tags.team,
        "Project": PROJECT,
        "ManagedBy": MANAGED_BY,
    }
