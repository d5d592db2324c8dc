"""Pure decisions: subnet maths, AZ choice, names and the sizing table."""

from __future__ import annotations

import ipaddress
from dataclasses import fields

import pytest

import netmath
import sizing
from config import MAX_SUFFIX_LENGTH
from naming import physical_name, region_code, regional_name


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
    assert netmath.subnet_cidrs(vpc, count) == expected
    blocks = [ipaddress.ip_network(b) for b in expected]
    assert all(b.subnet_of(ipaddress.ip_network(vpc)) for b in blocks)


def test_subnet_cidrs_refuse_a_range_too_small():
    with pytest.raises(ValueError, match="too small"):
        netmath.subnet_cidrs("10.0.0.0/27", 3)


def test_choose_azs_is_stable_and_refuses_small_regions():
    assert netmath.choose_azs(["us-east-1c", "us-east-1a", "us-east-1b"], 2) == [
        "us-east-1a",
        "us-east-1b",
    ]
    with pytest.raises(ValueError, match="offers 2 availability zone"):
        netmath.choose_azs(["x-1a", "x-1b"], 3)


@pytest.mark.parametrize(
    ("region", "code"),
    [
        ("us-east-1", "use1"),
        ("us-west-2", "usw2"),
        ("eu-central-1", "euc1"),
        ("ap-southeast-2", "apse2"),
    ],
)
def test_region_codes(region, code):
    assert region_code(region) == code


def test_the_longest_names_fit_the_tightest_aws_limits():
    # IAM role and Lambda function names: 64 characters, with the longest function name and a
    # region code. RDS identifiers: 63.
    suffix = "s" * MAX_SUFFIX_LENGTH
    assert len(regional_name(suffix, "ap-southeast-2", "failover-coordinator")) <= 64
    assert len(regional_name(suffix, "ap-southeast-2", "secondary")) <= 63
    assert physical_name("dev", "global") == "aurora-dr-global-dev"


def test_test_and_prod_sizing_share_every_field_and_differ_where_they_must():
    test, prod = sizing.SIZING["test"], sizing.SIZING["prod"]
    assert {f.name for f in fields(test)} == {f.name for f in fields(prod)}
    assert test.instances_per_region == 1 and prod.instances_per_region >= 2
    assert not test.deletion_protection and prod.deletion_protection
    assert test.endpoint_az_count == 1 and prod.endpoint_az_count == prod.az_count
    assert prod.flow_log_retention_days >= 365
    assert test.secret_recovery_window_days == 0


@pytest.mark.parametrize("name", sorted(sizing.SIZING))
def test_every_sizing_uses_values_aws_accepts(name):
    entry = sizing.SIZING[name]
    assert sizing.is_global_database_class(entry.instance_class)
    assert entry.az_count >= 2 and 1 <= entry.endpoint_az_count <= entry.az_count
    assert 7 <= entry.kms_deletion_window_days <= 30
    assert 1 <= entry.backup_retention_days <= 35
    assert entry.monitoring_interval_seconds in (0, 1, 5, 10, 15, 30, 60)
    assert entry.managed_rpo_seconds is None or entry.managed_rpo_seconds >= 20
    assert entry.dns_ttl_seconds <= 60
    assert entry.alarm_period_seconds >= 60
    retention_values = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096}
    assert entry.flow_log_retention_days in retention_values
    assert entry.log_retention_days in retention_values
    assert entry.health_datapoints_to_alarm <= entry.health_evaluation_periods
    # a secondary's heartbeat is up to one schedule interval old before any replication lag
    assert entry.heartbeat_lag_threshold_ms > entry.health_check_rate_minutes * 60_000


@pytest.mark.parametrize(
    ("instance_class", "accepted"),
    [
        ("db.r6g.large", True),
        ("db.r7g.2xlarge", True),
        ("db.serverless", True),
        ("db.t4g.medium", False),
        ("db.t3.medium", False),
        ("db.r4.large", False),
    ],
)
def test_global_database_instance_classes(instance_class, accepted):
    assert sizing.is_global_database_class(instance_class) is accepted
