"""The function table: placement and schedules."""

from __future__ import annotations

import pytest

from decisions.functions import endpoint_services_for, rate_expression


def test_endpoint_services_cover_the_functions_of_each_region():
    expected = ("lambda", "monitoring", "rds", "secretsmanager")
    assert endpoint_services_for("primary") == expected
    # the backup verifier (DR only) publishes a failed run's report to the region's topic
    assert endpoint_services_for("dr") == (*expected, "sns")


@pytest.mark.parametrize(
    ("value", "unit", "expected"), [(1, "minute", "rate(1 minute)"), (24, "hour", "rate(24 hours)")]
)
def test_rate_expressions(value, unit, expected):
    assert rate_expression(value, unit) == expected
