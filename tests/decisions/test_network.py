"""Network maths: subnet CIDRs and the choice of availability zones."""

from __future__ import annotations

import ipaddress
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decisions import network


@pytest.mark.parametrize(
    ("vpc", "count", "expected"),
    [
        ("10.0.0.0/16", 3, ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]),
        ("10.1.0.0/16", 2, ["10.1.0.0/17", "10.1.128.0/17"]),
        ("192.168.10.0/24", 3, ["192.168.10.0/26", "192.168.10.64/26", "192.168.10.128/26"]),
        ("172.16.0.0/20", 4, ["172.16.0.0/22", "172.16.4.0/22", "172.16.8.0/22", "172.16.12.0/22"]),
    ],
)
def test_subnet_cidrs_split_the_vpc_without_overlap(vpc, count, expected):
    assert network.subnet_cidrs(vpc, count) == expected
    blocks = [ipaddress.ip_network(b) for b in expected]
    assert all(b.subnet_of(ipaddress.ip_network(vpc)) for b in blocks)


def test_subnet_cidrs_refuse_a_range_too_small():
    with pytest.raises(ValueError, match="too small"):
        network.subnet_cidrs("10.0.0.0/27", 3)


def test_choose_azs_is_stable_and_refuses_small_regions():
    assert network.choose_azs(["us-east-1c", "us-east-1a", "us-east-1b"], 2) == [
        "us-east-1a",
        "us-east-1b",
    ]
    with pytest.raises(ValueError, match="offers 2 availability zone"):
        network.choose_azs(["x-1a", "x-1b"], 3)


# --- properties (hypothesis) -------------------------------------------------------------------

vpc_ranges = st.builds(
    lambda address, prefix: ipaddress.ip_network((address, prefix), strict=False),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=8, max_value=network.MAX_SUBNET_PREFIX),
)


@given(vpc=vpc_ranges, count=st.integers(min_value=1, max_value=64))
def test_subnets_are_disjoint_equal_blocks_inside_the_vpc_or_refused_below_a_slash_28(vpc, count):
    # GIVEN any IPv4 range and a number of subnets
    prefix = vpc.prefixlen + math.ceil(math.log2(count))
    if prefix > network.MAX_SUBNET_PREFIX:
        # THEN a range that cannot hold `count` subnets of at least /28 is refused
        with pytest.raises(ValueError, match=f"{vpc} is too small for {count} subnets"):
            network.subnet_cidrs(str(vpc), count)
        return
    # WHEN it is split
    blocks = [ipaddress.ip_network(b) for b in network.subnet_cidrs(str(vpc), count)]
    # THEN there are `count` blocks of one size, each inside the range, no two overlapping,
    # from the start of the range (the rest stays free for later tiers)
    assert len(blocks) == count
    assert {b.prefixlen for b in blocks} == {prefix}
    assert all(b.subnet_of(vpc) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    assert blocks[0].network_address == vpc.network_address


zone_names = st.lists(st.sampled_from([f"us-east-1{letter}" for letter in "abcdef"]), max_size=12)


@given(available=zone_names, count=st.integers(min_value=1, max_value=6))
def test_the_first_zones_by_name_are_chosen_or_the_region_is_refused(available, count):
    # GIVEN the zones a region reports (in any order, possibly repeated) and the sizing's count
    distinct = sorted(set(available))
    if len(distinct) < count:
        # THEN a region with too few zones is refused, naming how many it offers
        with pytest.raises(ValueError, match=f"offers {len(distinct)} availability zone"):
            network.choose_azs(available, count)
        return
    # WHEN zones are chosen
    chosen = network.choose_azs(available, count)
    # THEN they are `count` distinct zones of the region, sorted, the first ones by name
    assert chosen == sorted(chosen) and len(set(chosen)) == len(chosen) == count
    assert set(chosen) <= set(available)
    assert chosen == distinct[:count]
    # AND the order the region reports them in does not change the choice
    assert network.choose_azs(list(reversed(available)), count) == chosen
