"""Physical names: region codes and the tightest AWS name limits."""

from __future__ import annotations

import pytest

from stack.config import MAX_SUFFIX_LENGTH, parse_settings
from stack.naming import Namer, region_code


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
    longest = Namer.from_settings(parse_settings({"environmentSuffix": "s" * MAX_SUFFIX_LENGTH}))
    assert len(longest.regional("ap-southeast-2", "failover-coordinator")) <= 64
    assert len(longest.regional("ap-southeast-2", "secondary")) <= 63
    dev = Namer.from_settings(parse_settings({"environmentSuffix": "dev"}))
    assert dev.name("global") == "aurora-dr-global-dev"
