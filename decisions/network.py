"""Pure network arithmetic for `Network`: subnet CIDRs and availability-zone choice."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence


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
    if new_prefix > 28:
        raise ValueError(f"{vpc_cidr} is too small for {count} subnets (AWS minimum is /28)")
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
