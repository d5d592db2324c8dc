"""The function table: placement and schedules."""

from __future__ import annotations

import pytest

from decisions.functions import FUNCTIONS, endpoint_services_for, rate_expression


def test_only_secretsmanager_is_an_interface_endpoint_in_either_region():
    # the VPC-attached functions (health checker, drainer, rotation) read the secret and speak
    # SQL; every other API call is made by a function outside the VPC
    assert endpoint_services_for("primary") == ("secretsmanager",)
    assert endpoint_services_for("dr") == ("secretsmanager",)


def test_only_the_functions_that_speak_sql_are_in_the_vpc():
    attached = {f.key for f in FUNCTIONS if f.vpc}
    assert attached == {"health_checker", "connection_drainer", "secret_rotation"}
    # and a function outside the VPC declares no endpoint it would not use
    assert all(not f.endpoint_services for f in FUNCTIONS if not f.vpc)


@pytest.mark.parametrize(
    ("value", "unit", "expected"), [(1, "minute", "rate(1 minute)"), (24, "hour", "rate(24 hours)")]
)
def test_rate_expressions(value, unit, expected):
    assert rate_expression(value, unit) == expected
