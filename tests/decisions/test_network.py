"""Network maths: subnet CIDRs and the choice of availability zones."""

from __future__ import annotations

import ipaddress

import pytest

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
