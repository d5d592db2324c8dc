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


US_EAST_1 = [
    network.Zone("us-east-1a", "use1-az4"),
    network.Zone("us-east-1b", "use1-az6"),
    network.Zone("us-east-1c", "use1-az1"),
    network.Zone("us-east-1d", "use1-az2"),
    network.Zone("us-east-1e", "use1-az3"),
]
ALL = [zone.name for zone in US_EAST_1]


def test_zones_every_service_supports_are_chosen_first_by_name():
    # GIVEN a lambda endpoint missing from us-east-1b and an instance class missing from 1e
    support = {
        "lambda endpoint": [n for n in ALL if n != "us-east-1b"],
        "Aurora db.r6g.large": ALL[:4],
    }
    # WHEN three zones are chosen
    chosen = network.choose_zones("us-east-1", US_EAST_1, support, 3)
    # THEN neither gap is used and the others are taken in name order (not ID order: 1c is az1)
    assert chosen == ["us-east-1a", "us-east-1c", "us-east-1d"]


def test_with_every_zone_supported_the_choice_is_the_first_zones_by_name():
    # GIVEN full support: the choice every existing stack made (subnet URNs carry the names)
    support = {"rds endpoint": ALL, "Aurora db.r6g.xlarge": list(reversed(ALL))}
    assert network.choose_zones("us-east-1", US_EAST_1, support, 3) == ALL[:3]


def test_support_is_matched_by_zone_id_and_unknown_names_are_ignored():
    # GIVEN a service listing a zone the account does not have (not opted in)
    support = {"ssm endpoint": ["us-east-1a", "us-east-1c", "us-east-1d", "us-east-1-bos-1a"]}
    assert network.choose_zones("us-east-1", US_EAST_1, support, 3) == [
        "us-east-1a",
        "us-east-1c",
        "us-east-1d",
    ]


def test_a_region_without_enough_usable_zones_is_refused_naming_region_services_and_support():
    support = {
        "lambda endpoint": ["us-east-1a", "us-east-1b", "us-east-1c"],
        "Aurora db.r6g.large": ["us-east-1b", "us-east-1c", "us-east-1d"],
    }
    with pytest.raises(network.ZoneChoiceError) as refused:
        network.choose_zones("us-east-1", US_EAST_1, support, 3)
    message = str(refused.value)
    assert message.startswith(
        "us-east-1 offers 2 availability zone(s) where every service the stack places in its "
        "subnets runs (us-east-1b, us-east-1c), the sizing needs 3."
    )
    assert (
        "lambda endpoint: us-east-1a (use1-az4), us-east-1b (use1-az6), us-east-1c (use1-az1)"
        in message
    )
    assert (
        "Aurora db.r6g.large: us-east-1b (use1-az6), us-east-1c (use1-az1), us-east-1d (use1-az2)"
        in message
    )
    assert "Choose another region" in message


def test_compliance_endpoints_are_added_only_when_asked_for():
    assert network.interface_endpoint_services(("rds", "lambda"), False) == ("lambda", "rds")
    assert network.interface_endpoint_services(("rds", "ssm"), True) == (
        "ec2",
        "ecr.api",
        "ecr.dkr",
        "rds",
        "ssm",
        "ssm-contacts",
        "ssm-incidents",
    )


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


zone_sets = st.sets(st.sampled_from(ALL))


@given(
    support=st.dictionaries(st.sampled_from(["lambda", "rds", "ssm", "db"]), zone_sets, max_size=4),
    count=st.integers(min_value=1, max_value=5),
)
def test_chosen_zones_are_supported_by_every_service_and_keep_todays_choice_when_they_can(
    support, count
):
    # GIVEN what each service supports (any subset of the region's zones) and the sizing's count
    usable = sorted(set(ALL).intersection(*support.values()))
    if len(usable) < count:
        # THEN a region with too few usable zones is refused, naming how many it offers
        with pytest.raises(network.ZoneChoiceError, match=f"offers {len(usable)} availability"):
            network.choose_zones("us-east-1", US_EAST_1, support, count)
        return
    # WHEN zones are chosen
    chosen = network.choose_zones("us-east-1", US_EAST_1, support, count)
    # THEN they are `count` distinct zones every service runs in, in name order
    assert len(set(chosen)) == len(chosen) == count and chosen == sorted(chosen)
    assert all(zone in names for zone in chosen for names in support.values())
    # AND when the first zones by name all qualify, the choice is exactly those (no URN moves)
    if set(ALL[:count]) <= set(usable):
        assert chosen == ALL[:count]
    # AND the order the catalogue lists zones in does not change the choice
    shuffled = {service: list(reversed(sorted(names))) for service, names in support.items()}
    assert network.choose_zones("us-east-1", list(reversed(US_EAST_1)), shuffled, count) == chosen
