"""Cost estimate, recovery budget and the checks of the offline plan."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from types import MappingProxyType

import pytest

from drplan import cost as cost_module
from drplan.__main__ import main
from drplan.budget import recovery_budget
from drplan.cost import estimate_cost, load_prices, schedule_seconds
from drplan.harness import PlanRun, run_program
from drplan.review import stack_settings

# Imported before any run: later runs import a fresh copy (the one the program and patches see).
from stack.sizing import SIZING

# The regions teams run global databases in: the price file covers each of them completely.
PRICED_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def test_every_price_names_its_source_and_date():
    prices = load_prices()
    keys = set(prices["global"])
    for table in prices["regions"].values():
        keys |= set(table)
    for key in keys:
        source = prices["sources"].get(key)
        assert source, f"price {key} has no source"
        assert source["source"].startswith("https://")
        assert ISO_DATE.match(source["recorded"]), key
        # A figure read from AWS's price feed says from which feed and as of when.
        if "feed" in source:
            assert source["feed"].startswith("https://") and source["read_from"].startswith(
                "https://"
            )
            assert ISO_DATE.match(source["as_of"]), key


@pytest.mark.parametrize("region", PRICED_REGIONS)
def test_each_region_teams_run_global_databases_in_has_every_price(region):
    # GIVEN us-east-1's table as the reference: every key, every instance class
    prices = load_prices()["regions"]
    reference = prices["us-east-1"]
    table = prices[region]
    # THEN the region prices the same things, each with a number
    assert set(table) == set(reference)
    assert set(table["aurora_instance_hour"]) == set(reference["aurora_instance_hour"])
    for key, value in table.items():
        values = value.values() if isinstance(value, dict) else [value]
        assert all(isinstance(v, int | float) and v >= 0 for v in values), (region, key)


@pytest.mark.usefixtures("served_runs")
def test_a_european_dr_region_is_priced_completely(capsys):
    # WHEN prod plans with its DR region in Ireland, with --check
    exit_code = main(["--stack", "prod", "--config", "drRegion=eu-west-1", "--check"])
    # THEN every line is priced (the check passes) and the headline is a whole total
    captured = capsys.readouterr()
    assert exit_code == 0, captured.err
    assert "unpriced" not in captured.err and "partial" not in captured.out
    assert "eu-west-1" in captured.out


def test_every_registered_resource_is_priced_or_declared_free(plans):
    for stack, sizing in (("dev", "test"), ("prod", "prod")):
        report = estimate_cost(plans[stack], sizing)
        assert report.unpriced == [], stack
        assert report.total() > 0


def test_instances_are_priced_by_class_and_count_in_both_regions(plans):
    prices = load_prices()
    report = estimate_cost(plans["prod"], "prod")
    for region in ("us-east-1", "us-west-2"):
        hourly = prices["regions"][region]["aurora_instance_hour"]["db.r6g.xlarge"]
        assert report.by_item(region)["Aurora db.r6g.xlarge"] == pytest.approx(2 * 730 * hourly)


def test_serverless_instances_are_priced_at_their_clusters_minimum_acu_in_each_region(plans):
    # GIVEN the test sizing: one db.serverless instance per region at a 0.5 ACU minimum
    prices = load_prices()["regions"]
    report = estimate_cost(plans["dev"], "test")
    item = "Aurora Serverless v2 (floor: 0.5 ACU)"
    for region in ("us-east-1", "us-west-2"):
        # THEN each is 0.5 ACU x 730 hours at that region's ACU-hour price, and nothing else
        acu_hour = prices[region]["aurora_serverless_v2_acu_hour"]
        assert report.by_item(region)[item] == pytest.approx(0.5 * 730 * acu_hour)
        assert not [k for k in report.by_item(region) if k.startswith("Aurora db.")]
    assert report.unpriced == []


def test_a_higher_minimum_acu_costs_proportionally_more(plans):
    # GIVEN the dev plan with both clusters' minimum raised from 0.5 to 2 ACU
    run = copy.deepcopy(plans["dev"])
    for cluster in run.of_type("aws:rds/cluster:Cluster"):
        cluster.inputs["serverlessv2ScalingConfiguration"]["minCapacity"] = 2.0
    before, after = estimate_cost(plans["dev"], "test"), estimate_cost(run, "test")
    # THEN the instances cost four times as much, under an item that names the floor
    for region in ("us-east-1", "us-west-2"):
        floor = before.by_item(region)["Aurora Serverless v2 (floor: 0.5 ACU)"]
        assert after.by_item(region)["Aurora Serverless v2 (floor: 2 ACU)"] == pytest.approx(
            4 * floor
        )


def test_a_serverless_instance_whose_cluster_has_no_minimum_is_unpriced_not_free(plans):
    # GIVEN the dev plan with the scaling configuration gone from the primary's cluster
    run = copy.deepcopy(plans["dev"])
    primary = run.outputs["primaryRegion"]
    for cluster in run.of_type("aws:rds/cluster:Cluster"):
        if cluster.region == primary:
            cluster.inputs.pop("serverlessv2ScalingConfiguration")
    report = estimate_cost(run, "test")
    # THEN that instance is listed as unpriced (so `--check` fails), the DR one is still priced
    assert [u for u in report.unpriced if "no registered minimum ACU" in u] == [
        f"aws:rds/clusterInstance:ClusterInstance aurora-dr-db1-use1-dev ({primary}: db.serverless "
        "in a cluster with no registered minimum ACU)"
    ]
    assert "Aurora Serverless v2 (floor: 0.5 ACU)" not in report.by_item(primary)
    assert "Aurora Serverless v2 (floor: 0.5 ACU)" in report.by_item(run.outputs["drRegion"])


def test_secret_replicas_count_as_secrets(plans):
    report = estimate_cost(plans["dev"], "test")
    assert report.by_item("us-east-1")["Secrets Manager secrets"] == pytest.approx(0.40)
    assert report.by_item("us-west-2")["Secrets Manager secrets"] == pytest.approx(0.40)


def _dr_requests(report) -> list[float]:
    return sorted(
        line.quantity
        for line in report.lines
        if line.item == "Lambda requests" and line.region == "us-west-2" and line.quantity > 0.001
    )


def test_lambda_cost_follows_the_registered_schedules_and_ticks(plans):
    # the peer watch's health run once a minute: 43,800 a month, each asking the checker for one
    # health probe (43,800); the DR peer watch ticks every 5 s (prod sizing): 525,600 a month,
    # and each tick asks the checker for one peer probe
    prod = estimate_cost(plans["prod"], "prod")
    assert _dr_requests(prod) == pytest.approx(
        [43_800 / 1e6, 43_800 / 1e6, 525_600 / 1e6, 525_600 / 1e6]
    )
    # the test sizing runs no ticker: the health run and the checker's health probes only
    dev = estimate_cost(plans["dev"], "test")
    assert _dr_requests(dev) == pytest.approx([43_800 / 1e6, 43_800 / 1e6])
    assert not [line for line in dev.lines if line.item.startswith("Step Functions")]


def test_the_ticker_is_priced_per_execution_and_per_gb_second_of_its_minute(plans):
    prices = load_prices()["regions"]["us-west-2"]
    report = estimate_cost(plans["prod"], "prod")
    ticker = [
        line
        for line in report.lines
        if line.region == "us-west-2" and line.item == "Step Functions Express (peer watch ticker)"
    ]
    # one execution a minute, each ticking for 60 s at the billed 64 MB
    assert {line.price_key: line.quantity for line in ticker} == {
        "stepfunctions_express_request_million": pytest.approx(43_800 / 1e6),
        "stepfunctions_express_gb_second": pytest.approx(43_800 * 60 * 64 / 1024),
    }
    assert sum(line.monthly for line in ticker) == pytest.approx(
        0.0438 * prices["stepfunctions_express_request_million"]
        + 43_800 * 60 * 0.0625 * prices["stepfunctions_express_gb_second"]
    )


@pytest.mark.usefixtures("served_runs")
def test_an_unpriced_resource_type_fails_the_check_and_is_named(monkeypatch, capsys):
    # GIVEN a price file that has never heard of KMS keys
    prices = copy.deepcopy(load_prices())
    for table in prices["regions"].values():
        del table["kms_key_month"]
    monkeypatch.setattr(cost_module, "load_prices", lambda path=None: prices)
    # WHEN the plan runs with --check
    exit_code = main(["--stack", "dev", "--check"])
    # THEN it fails and names the keys it could not price
    captured = capsys.readouterr()
    assert exit_code == 1
    assert "unpriced: aws:kms/key:Key aurora-dr-key-use1-dev" in captured.err
    assert "unpriced: aws:kms/key:Key aurora-dr-key-usw2-dev" in captured.err
    # AND the headline says in words that its total leaves those out
    assert "Monthly cost estimate: partial: at least $" in captured.out
    assert "(2 lines unpriced)" in captured.out


def test_a_region_without_prices_is_unpriced_not_free(plans):
    prices = copy.deepcopy(load_prices())
    del prices["regions"]["us-west-2"]
    report = estimate_cost(plans["dev"], "test", prices)
    assert any("us-west-2" in item for item in report.unpriced)


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(24 hours)", 86_400),
        ("rate(2 days)", 172_800),
        ("cron(0 * * * ? *)", None),
    ],
)
def test_schedule_seconds(expression, seconds):
    assert schedule_seconds(expression) == seconds


def _run_with_prod_sizing(**changes) -> PlanRun:
    def patch_sizing() -> None:
        from stack import sizing

        sizing.SIZING = MappingProxyType(
            {**sizing.SIZING, "prod": dataclasses.replace(sizing.SIZING["prod"], **changes)}
        )

    return run_program("prod", before_program=patch_sizing)


def test_a_longer_health_alarm_window_delays_route53_clients_by_one_alarm_period(plans):
    # GIVEN prod as configured, and prod whose health alarms look at one more period
    prod = SIZING["prod"]
    slower = _run_with_prod_sizing(health_evaluation_periods=prod.health_evaluation_periods + 1)
    # WHEN both are modeled
    before, after = recovery_budget(plans["prod"]), recovery_budget(slower)
    # THEN the new writer's alarm needs one more good period to clear: Route 53 clients wait one
    # period longer; clients of the global writer endpoint do not wait for our alarms at all
    period = prod.alarm_period_seconds
    assert after.unplanned.route53 is not None and before.unplanned.route53 is not None
    dns_before, dns_after = before.unplanned.route53.phases[-1], after.unplanned.route53.phases[-1]
    assert dns_after.seconds - dns_before.seconds == period
    assert after.unplanned.route53.seconds - before.unplanned.route53.seconds == pytest.approx(
        period
    )
    assert after.unplanned.seconds == pytest.approx(before.unplanned.seconds)


@pytest.mark.parametrize(
    ("knob", "change", "label"),
    [
        ("peer_probe_cadence_seconds", 5, "next peer probe starts (worst case: one cadence)"),
        ("confirmation_window_seconds", 10, "failed probes span the confirmation window"),
    ],
)
def test_a_sizing_knob_moves_the_registered_budget_by_exactly_its_step(plans, knob, change, label):
    # GIVEN prod, and prod with one detection knob of its sizing raised (the window stays a
    # whole number of cadences)
    slower = _run_with_prod_sizing(**{knob: getattr(SIZING["prod"], knob) + change})
    before, after = recovery_budget(plans["prod"]), recovery_budget(slower)
    # THEN exactly that step of the detection moves, by exactly the change, for both paths
    moved = [
        (a.label, b.seconds - a.seconds)
        for a, b in zip(
            before.unplanned.phases[0].parts, after.unplanned.phases[0].parts, strict=True
        )
        if a.seconds != b.seconds
    ]
    assert moved == [(label, change)]
    assert after.unplanned.seconds - before.unplanned.seconds == pytest.approx(change)
    assert after.unplanned.route53.seconds - before.unplanned.route53.seconds == pytest.approx(
        change
    )


def test_the_poll_interval_moves_only_the_route53_clients_path(plans):
    slower = _run_with_prod_sizing(failover_poll_seconds=SIZING["prod"].failover_poll_seconds + 3)
    before, after = recovery_budget(plans["prod"]), recovery_budget(slower)
    assert after.unplanned.route53.seconds - before.unplanned.route53.seconds == pytest.approx(3)
    assert after.planned.route53.seconds - before.planned.route53.seconds == pytest.approx(3)
    assert after.unplanned.seconds == pytest.approx(before.unplanned.seconds)


def test_detection_falls_back_to_the_alarm_path_without_the_peer_watch_page(plans):
    # GIVEN the prod run with the DR peer watch's page to the coordinator removed
    plan = copy.deepcopy(plans["prod"])
    for fn in plan.of_type("aws:lambda/function:Function"):
        if fn.inputs["handler"].startswith("peer_watch."):
            fn.inputs["environment"]["variables"].pop("COORDINATOR_FUNCTION_NAME")
    # WHEN modeled
    paged, unpaged = recovery_budget(plans["prod"]), recovery_budget(plan)
    # THEN detection waits for the probe alarm: its datapoints x period after the next probe
    prod = SIZING["prod"]
    alarm_wait = prod.health_datapoints_to_alarm * prod.alarm_period_seconds
    assert unpaged.unplanned.phases[0].seconds == prod.health_check_rate_minutes * 60 + alarm_wait
    assert unpaged.unplanned.seconds > paged.unplanned.seconds
    assert unpaged.unplanned.automatic  # the alarm rule still triggers the coordinator


def test_the_test_stack_without_a_ticker_is_detected_by_its_probe_alarm_within_its_target(plans):
    # GIVEN the dev run: the test sizing registers no peer watch ticker
    test = SIZING["test"]
    assert not test.peer_watch_ticker
    budget = recovery_budget(plans["dev"])
    # THEN detection is the next scheduled probe plus the probe alarm's datapoints, said so
    detection = budget.unplanned.phases[0]
    alarm_wait = test.health_datapoints_to_alarm * test.alarm_period_seconds
    assert detection.seconds == test.health_check_rate_minutes * 60 + alarm_wait
    assert any("no peer watch ticks in the DR region" in note for note in budget.unplanned.notes)
    # AND the coordinator is still woken automatically, within the test stack's target
    assert budget.unplanned.automatic
    assert budget.unplanned.seconds <= test.rto_target_seconds


def test_the_stacks_meet_their_recovery_objectives(plans):
    prod, dev = recovery_budget(plans["prod"]), recovery_budget(plans["dev"])
    # global writer endpoint clients: prod unplanned within 2 minutes, a switchover within one
    assert prod.unplanned.seconds <= 120
    assert prod.planned.seconds <= 60
    assert dev.unplanned.seconds <= 300
    # and each within the target its own stack configuration sets (what `--check` holds it to)
    for stack, run in plans.items():
        target = stack_settings(stack).rto_target_seconds
        assert recovery_budget(run).unplanned.seconds <= target, stack


def test_rto_parts_say_where_each_number_comes_from(plans):
    budget = recovery_budget(plans["prod"])
    paths = [budget.unplanned, budget.planned, budget.unplanned.route53, budget.planned.route53]
    for path in paths:
        assert path is not None
        for phase in path.phases:
            for part in phase.parts:
                assert part.origin.startswith(("registered:", "assumption:", "by definition"))
    assert budget.unplanned.automatic


def test_rpo_statement_reads_the_alarms_and_the_coordinator_gate(plans):
    rpo = recovery_budget(plans["prod"]).rpo
    assert rpo.managed_rpo_seconds is None
    assert set(rpo.rpo_lag_alarm_ms.values()) == {SIZING["prod"].rpo_lag_threshold_ms}
    assert set(rpo.coordinator_lag_gate_ms.values()) == {SIZING["prod"].failover_lag_budget_ms}


def test_rpo_statement_reads_a_managed_rpo_from_the_registered_parameter_group():
    # GIVEN prod with a sizing that asks Aurora to bound the RPO at 30 s
    rpo = recovery_budget(_run_with_prod_sizing(managed_rpo_seconds=30)).rpo
    # THEN the plan reads `rds.global_db_rpo` from the cluster parameter group it registers
    assert rpo.managed_rpo_seconds == 30


@pytest.mark.usefixtures("served_runs")
def test_markdown_renders_tables(capsys):
    assert main(["--stack", "dev", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# aurora-dr plan: stack `dev`")
    assert "| region | item | per month |" in out
    assert "| phase | step | time | from |" in out
    assert "## Checks" in out


@pytest.mark.usefixtures("served_runs")
def test_compare_shows_both_stacks_side_by_side(capsys):
    assert main(["--stack", "dev", "--compare", "prod"]) == 0
    out = capsys.readouterr().out
    assert "dev (test)" in out and "prod (prod)" in out
    assert "cost total / month" in out and "unplanned RTO" in out


@pytest.mark.usefixtures("served_runs")
def test_json_carries_cost_and_budget(capsys):
    assert main(["--stack", "prod", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["cost"]["total"] > 1000
    # the headline is the global writer endpoint's; Route 53 clients beside it
    unplanned, planned = document["budget"]["unplanned"], document["budget"]["planned"]
    assert 0 < unplanned["seconds"] < unplanned["route53"]["seconds"]
    assert 0 < planned["seconds"] < planned["route53"]["seconds"]
    assert unplanned["route53"]["route53"] is None
    assert document["rto_target_seconds"] == 120


@pytest.mark.usefixtures("served_runs")
def test_the_readme_tables_are_the_tools_current_output():
    from drplan import readme

    assert readme.current_block() == readme.generated_block(), (
        "README.md's cost/recovery tables are stale: run `venv/bin/python -m drplan.readme`"
    )


def test_the_compliance_endpoints_are_priced_per_az_hour_in_both_regions(plans, compliant_prod):
    # GIVEN prod as it is and with complianceEndpoints=true (six more endpoints per VPC)
    default = estimate_cost(plans["prod"], "prod")
    compliant = estimate_cost(compliant_prod, "prod")
    prices = load_prices()
    # THEN every new endpoint is priced, none is skipped
    assert compliant.unpriced == []
    # AND they add 6 endpoints x 3 AZs x 730 h x the AZ-hour price in each of the stack's regions
    for region in ("us-east-1", "us-west-2"):
        table = prices["regions"][region]
        added = compliant.by_item(region)["Interface VPC endpoints"] - default.by_item(region).get(
            "Interface VPC endpoints", 0.0
        )
        expected = 6 * 3 * prices["hours_per_month"] * table["interface_endpoint_az_hour"]
        assert added == pytest.approx(expected), region
    assert compliant.total() - default.total() == pytest.approx(262.80)
