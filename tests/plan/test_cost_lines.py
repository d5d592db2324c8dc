"""The cost estimate's lines as `python -m drplan --format json` prints them, and what the plan
says about a line it cannot price.

The markdown tables show each item's monthly sum only; the JSON carries every line with its
quantity, its unit and its price key, and `--check` prints every unpriced line by name. A wrong
unit or an unnamed unpriced line misleads whoever checks the estimate against AWS's price pages.
"""

from __future__ import annotations

import copy
import dataclasses

import pytest

from drplan.cost import estimate_cost, load_prices
from drplan.ticker import tickers

DR = "us-west-2"
# Each price key and the unit its quantity is stated in: the unit its price is quoted in.
UNIT_BY_PRICE_KEY = {
    "alarm_standard_month": {"alarms"},
    "aurora_instance_hour": {"instance-hours"},
    "aurora_io_million": {"million I/Os (assumed)"},
    "aurora_replicated_write_io_million": {"million I/Os (assumed)"},
    "aurora_serverless_v2_acu_hour": {"ACU-hours at the minimum"},
    "aurora_storage_gb_month": {"GB-month (assumed)", "GB-month (restored volume)"},
    "custom_metric_month": {"metrics"},
    "dashboard_month": {"dashboards"},
    "dynamodb_write_request_million": {"million writes (assumed)"},
    "interface_endpoint_az_hour": {"endpoint-AZ-hours"},
    "kms_key_month": {"keys"},
    "lambda_arm_gb_second": {"GB-seconds"},
    "lambda_request_million": {"million requests"},
    "logs_ingest_gb": {"GB ingested (assumed)"},
    "logs_storage_gb_month": {"GB-month (assumed)"},
    "route53_health_check_month": {"checks"},
    "route53_zone_month": {"zones"},
    "secret_month": {"secrets", "secrets (replica)"},
    "sns_publish_million": {"million publishes (assumed)"},
    "stepfunctions_express_gb_second": {"GB-seconds"},
    "stepfunctions_express_request_million": {"million executions"},
}
# Priced by drplan.backup_cost (its own tests pin those lines).
BACKUP_PRICE_KEYS = {
    "aurora_backup_storage_gb_month",
    "aurora_snapshot_export_gb",
    "backup_cross_region_copy_gb",
    "s3_put_request_thousand",
    "s3_standard_gb_month",
}


@pytest.mark.parametrize(("stack", "sizing"), [("dev", "test"), ("prod", "prod")])
def test_each_line_states_its_quantity_in_the_unit_its_price_is_quoted_in(plans, stack, sizing):
    report = estimate_cost(plans[stack], sizing)
    units: dict[str, set[str]] = {}
    for line in report.lines:
        if line.price_key not in BACKUP_PRICE_KEYS:
            units.setdefault(line.price_key, set()).add(line.unit)
    for key, stated in units.items():
        assert stated <= UNIT_BY_PRICE_KEY[key], key


def test_lambda_requests_are_counted_in_millions_exactly(plans):
    # The DR health checker of prod: one peer probe per 5 s tick (525,600 a month) and one health
    # probe per health run (43,800). Exact, not approximately: a million is 1e6.
    report = estimate_cost(plans["prod"], "prod")
    requests = {
        line.quantity
        for line in report.lines
        if line.region == DR
        and line.price_key == "lambda_request_million"
        and line.quantity > 0.001
    }
    assert requests == {43_800 / 1e6, 525_600 / 1e6}


def _unpriced_in_dr(plans, stack: str, sizing: str, region: str = DR) -> list[str]:
    """The unpriced lines of `stack` with a price file that has no prices for `region` (the DR
    region unless told)."""
    prices = copy.deepcopy(load_prices())
    del prices["regions"][region]
    report = estimate_cost(plans[stack], sizing, prices)
    assert all(f"({region}: " in item for item in report.unpriced)
    return report.unpriced


def test_an_unpriced_primary_secret_is_named_by_its_own_region(plans):
    # The master secret lives in the primary region; its DR replica is a line of its own.
    assert (
        "aws:secretsmanager/secret:Secret aurora-dr-master-prod (us-east-1: no 'secret_month' "
        "price)"
    ) in _unpriced_in_dr(plans, "prod", "prod", region="us-east-1")


@pytest.mark.parametrize(("stack", "sizing"), [("dev", "test"), ("prod", "prod")])
def test_a_region_without_prices_lists_every_line_of_that_region_unpriced(plans, stack, sizing):
    # GIVEN the estimate with every price, and one with none for the DR region
    priced = estimate_cost(plans[stack], sizing)
    unpriced = _unpriced_in_dr(plans, stack, sizing)
    # THEN each line the DR region had is listed instead, under its price key
    expected = sorted(line.price_key for line in priced.lines if line.region == DR)
    listed = sorted(item.split("no '", 1)[1].split("'", 1)[0] for item in unpriced)
    assert listed == expected


@pytest.mark.parametrize(
    ("stack", "sizing", "line"),
    [
        (
            "prod",
            "prod",
            "aws:kms/key:Key aurora-dr-key-usw2-prod (us-west-2: no 'kms_key_month' price)",
        ),
        (
            "prod",
            "prod",
            "aws:rds/clusterInstance:ClusterInstance aurora-dr-db1-usw2-prod (us-west-2: no "
            "'aurora_instance_hour' price for db.r6g.xlarge)",
        ),
        (
            "dev",
            "test",
            "aws:rds/clusterInstance:ClusterInstance aurora-dr-db1-usw2-dev (us-west-2: no "
            "'aurora_serverless_v2_acu_hour' price)",
        ),
        (
            "prod",
            "prod",
            "aws:secretsmanager/secret:Secret aurora-dr-master-prod replica (us-west-2: no "
            "'secret_month' price)",
        ),
        (
            "prod",
            "prod",
            "aws:ec2/vpcEndpoint:VpcEndpoint aurora-dr-endpoint-secretsmanager-usw2-prod "
            "(us-west-2: no 'interface_endpoint_az_hour' price)",
        ),
        (
            "prod",
            "prod",
            "aws:sns/topic:Topic aurora-dr-alerts-usw2-prod (us-west-2: no 'sns_publish_million' "
            "price)",
        ),
        (
            "prod",
            "prod",
            "aws:dynamodb/table:Table aurora-dr-failover-lock-usw2-prod (us-west-2: no "
            "'dynamodb_write_request_million' price)",
        ),
        (
            "prod",
            "prod",
            "aws:sfn/stateMachine:StateMachine aurora-dr-peer-watch-ticker-usw2-prod (us-west-2: "
            "no 'stepfunctions_express_request_million' price)",
        ),
        (
            "prod",
            "prod",
            "aws:sfn/stateMachine:StateMachine aurora-dr-peer-watch-ticker-usw2-prod (us-west-2: "
            "no 'stepfunctions_express_gb_second' price)",
        ),
        (
            "prod",
            "prod",
            "aws:lambda/function:Function aurora-dr-health-checker-usw2-prod (peer probes) "
            "(us-west-2: no 'lambda_arm_gb_second' price)",
        ),
        (
            "prod",
            "prod",
            "aws:lambda/function:Function aurora-dr-health-checker-usw2-prod (us-west-2: no "
            "'lambda_request_million' price)",
        ),
        (
            "prod",
            "prod",
            "aws:lambda/function:Function aurora-dr-peer-watch-usw2-prod (health run) "
            "(us-west-2: no 'lambda_request_million' price)",
        ),
        (
            "prod",
            "prod",
            "aws:lambda/function:Function aurora-dr-peer-watch-usw2-prod (us-west-2: no "
            "'lambda_arm_gb_second' price)",
        ),
        (
            "prod",
            "prod",
            "I/O of aurora-dr-cluster-usw2-prod (us-west-2: no 'aurora_io_million' price)",
        ),
        (
            "prod",
            "prod",
            "replication into aurora-dr-cluster-usw2-prod (us-west-2: no "
            "'aurora_replicated_write_io_million' price)",
        ),
        (
            "prod",
            "prod",
            "storage of aurora-dr-cluster-usw2-prod (us-west-2: no 'aurora_storage_gb_month' "
            "price)",
        ),
        (
            "prod",
            "prod",
            "database logs of aurora-dr-cluster-usw2-prod (us-west-2: no 'logs_ingest_gb' price)",
        ),
        ("prod", "prod", "flow logs (us-west-2: no 'logs_ingest_gb' price)"),
        (
            "prod",
            "prod",
            "logs of aurora-dr-coordinator-usw2-prod (us-west-2: no 'logs_ingest_gb' price)",
        ),
        ("prod", "prod", "log storage (us-west-2: no 'logs_storage_gb_month' price)"),
        ("prod", "prod", "health metrics (us-west-2: no 'custom_metric_month' price)"),
    ],
)
def test_an_unpriced_line_names_its_resource_its_price_and_its_variant(plans, stack, sizing, line):
    # GIVEN no prices for the DR region / THEN `--check` can name what it could not price: the
    # resource (and which of its uses), the missing price key and, for a per-class price, the
    # class
    assert line in _unpriced_in_dr(plans, stack, sizing)


def _with_endpoint_inputs(run, **inputs):
    """`run` with the DR interface endpoint's inputs changed (the stacks register no gateway
    endpoint, and always give an interface endpoint its subnets)."""
    registrations = [
        dataclasses.replace(r, inputs={**r.inputs, **inputs})
        if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint" and r.region == DR
        else r
        for r in run.registrations
    ]
    return dataclasses.replace(run, registrations=registrations)


def _endpoint_lines(report):
    return [
        (line.item, line.quantity, line.unit, line.price_key)
        for line in report.lines
        if line.region == DR and "endpoint" in line.price_key
    ]


def test_a_gateway_endpoint_is_priced_as_one_endpoint_not_per_az_hour(plans):
    run = _with_endpoint_inputs(plans["prod"], vpcEndpointType="Gateway")
    report = estimate_cost(run, "prod")
    assert _endpoint_lines(report) == [
        ("Gateway VPC endpoints", 1, "endpoints", "gateway_endpoint")
    ]


def test_an_unpriced_gateway_endpoint_is_named(plans):
    run = _with_endpoint_inputs(plans["prod"], vpcEndpointType="Gateway")
    prices = copy.deepcopy(load_prices())
    del prices["regions"][DR]
    assert (
        "aws:ec2/vpcEndpoint:VpcEndpoint aurora-dr-endpoint-secretsmanager-usw2-prod "
        "(us-west-2: no 'gateway_endpoint' price)"
    ) in estimate_cost(run, "prod", prices).unpriced


def test_an_interface_endpoint_without_subnets_is_priced_in_one_az(plans):
    run = _with_endpoint_inputs(plans["prod"], subnetIds=None)
    hours = load_prices()["hours_per_month"]
    assert _endpoint_lines(estimate_cost(run, "prod")) == [
        ("Interface VPC endpoints", hours, "endpoint-AZ-hours", "interface_endpoint_az_hour")
    ]


def test_the_rotation_function_runs_four_steps_a_month(plans):
    # createSecret, setSecret, testSecret, finishSecret: one rotation a month, no schedule
    report = estimate_cost(plans["prod"], "prod")
    assert 4 / 1e6 in {
        line.quantity
        for line in report.lines
        if line.region == "us-east-1" and line.price_key == "lambda_request_million"
    }


def test_a_sizing_without_usage_assumptions_prices_no_usage_and_says_so(plans):
    report = estimate_cost(plans["prod"], "nosuch")
    assert "usage (no usage assumptions for sizing 'nosuch')" in report.unpriced
    assumed = {
        (line.item, line.quantity)
        for line in report.lines
        if line.item in ("DynamoDB (lock table)", "SNS")
    }
    assert assumed == {("DynamoDB (lock table)", 0), ("SNS", 0)}


def test_a_state_machine_nothing_starts_costs_nothing(plans):
    # GIVEN prod's ticker with an ARN no schedule starts (a state machine left idle)
    run = plans["prod"]
    registrations = [
        dataclasses.replace(r, outputs={**r.outputs, "arn": f"{r.outputs['arn']}-idle"})
        if r.type == "aws:sfn/stateMachine:StateMachine"
        else r
        for r in run.registrations
    ]
    report = estimate_cost(dataclasses.replace(run, registrations=registrations), "prod")
    # THEN it is still listed, with no executions and no GB-seconds
    assert {
        (line.price_key, line.quantity)
        for line in report.lines
        if line.item == "Step Functions Express (peer watch ticker)"
    } == {("stepfunctions_express_request_million", 0.0), ("stepfunctions_express_gb_second", 0.0)}


def _lambda_pairs(report) -> list[tuple[float, float]]:
    """(invocations, GB-seconds) of each use of a function: its requests line and the compute
    line the estimate adds right after it."""
    pairs = []
    for requests, compute in zip(report.lines, report.lines[1:], strict=False):
        if (requests.price_key, compute.price_key) == (
            "lambda_request_million",
            "lambda_arm_gb_second",
        ):
            pairs.append((requests.quantity * 1e6, compute.quantity))
    return pairs


def test_a_function_without_memory_or_assumed_duration_is_billed_128_mb_for_1_s(plans):
    # GIVEN prod with no function registering its memory, and a sizing with no durations
    run = plans["prod"]
    registrations = [
        dataclasses.replace(r, inputs={k: v for k, v in r.inputs.items() if k != "memorySize"})
        if r.type == "aws:lambda/function:Function"
        else r
        for r in run.registrations
    ]
    prices = copy.deepcopy(load_prices())
    prices["usage_assumptions"]["prod"]["lambda_average_duration_seconds"] = {}
    report = estimate_cost(dataclasses.replace(run, registrations=registrations), "prod", prices)
    # THEN every use (peer probes, health runs, ticks, schedules) is Lambda's default memory,
    # 128 MB, for one second an invocation
    pairs = [(n, gb_s) for n, gb_s in _lambda_pairs(report) if n > 0]
    assert len(pairs) >= 6
    assert all(gb_s == pytest.approx(n * 1 * 128 / 1024) for n, gb_s in pairs), pairs


def test_only_the_health_checkers_are_billed_peer_probes(plans):
    # GIVEN no DR prices: every DR use is then listed by name
    unpriced = _unpriced_in_dr(plans, "prod", "prod")
    peer_probes = [item for item in unpriced if "(peer probes)" in item]
    # THEN the DR health checker's requests and compute, and nothing else
    assert [item.split(" (", 1)[0] for item in peer_probes] == [
        "aws:lambda/function:Function aurora-dr-health-checker-usw2-prod"
    ] * 2


def test_the_lock_table_and_the_ticker_are_counted_in_millions_exactly(plans):
    # The lock table's assumed writes, and the ticker's executions: one per schedule interval.
    run = plans["prod"]
    report = estimate_cost(run, "prod")
    writes = load_prices()["usage_assumptions"]["prod"]["lock_table_writes_per_month"]
    (ticker,) = [t for t in tickers(run) if t.region == DR]
    quantities = {
        (line.region, line.price_key): line.quantity
        for line in report.lines
        if line.price_key
        in ("dynamodb_write_request_million", "stepfunctions_express_request_million")
    }
    assert quantities[(DR, "dynamodb_write_request_million")] == writes / 1e6
    assert quantities[(DR, "stepfunctions_express_request_million")] == (
        ticker.executions_per_month / 1e6
    )


def test_a_flat_price_asked_for_a_class_is_unpriced_not_a_crash(plans):
    # GIVEN a price file that gives DR one instance-hour price instead of one per class
    prices = copy.deepcopy(load_prices())
    prices["regions"][DR]["aurora_instance_hour"] = 0.5
    report = estimate_cost(plans["prod"], "prod", prices)
    # THEN the instances of DR are listed unpriced, with the class the price file lacks
    assert (
        "aws:rds/clusterInstance:ClusterInstance aurora-dr-db1-usw2-prod (us-west-2: no "
        "'aurora_instance_hour' price for db.r6g.xlarge)"
    ) in report.unpriced


@pytest.mark.parametrize(("stack", "sizing"), [("dev", "test"), ("prod", "prod")])
def test_route53_is_priced_once_as_a_global_service(plans, stack, sizing):
    # Route 53 has one price list, not one per region: its zones and health checks are priced
    # under `global`, whatever provider registered them.
    report = estimate_cost(plans[stack], sizing)
    route53 = [line for line in report.lines if line.price_key.startswith("route53_")]
    assert route53 and {line.region for line in route53} == {"global"}
