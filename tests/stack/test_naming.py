"""Physical names: region codes and the tightest AWS name limits."""

from __future__ import annotations

import pytest

from stack.config import MAX_SUFFIX_LENGTH
from stack.naming import physical_name, region_code, regional_name


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
