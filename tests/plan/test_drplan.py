"""The offline plan: what a platform engineer runs and reads."""

from __future__ import annotations

import json

import pytest

from drplan.__main__ import main


@pytest.mark.usefixtures("served_runs")
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_prints_both_regions_the_peering_and_the_outputs(stack, capsys):
    # WHEN the plan of a stack is printed
    assert main(["--stack", stack]) == 0
    out = capsys.readouterr().out
    # THEN it names both regions, the VPCs, subnets, peering and accepter, and the outputs
    assert "-- us-east-1" in out and "-- us-west-2" in out
    assert "ec2:VpcPeeringConnection" in out and "ec2:VpcPeeringConnectionAccepter" in out
    assert f"aurora-dr-vpc-use1-{stack}" in out and f"aurora-dr-vpc-usw2-{stack}" in out
    assert "== Stack outputs" in out and "peeringConnectionId" in out


@pytest.mark.usefixtures("served_runs")
def test_json_plan_counts_what_the_issue_promises(capsys):
    assert main(["--stack", "dev", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)["inventory"]
    totals = plan["totals"]
    assert totals["aws:ec2/vpc:Vpc"] == 2
    assert totals["aws:ec2/subnet:Subnet"] == 6
    assert totals["aws:ec2/vpcPeeringConnection:VpcPeeringConnection"] == 1
    assert totals["aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"] == 1
    routes = [
        component["counts"].get("aws:ec2/route:Route", 0)
        for region in ("us-east-1", "us-west-2")
        for component in plan["regions"][region].values()
    ]
    assert sum(routes) >= 4


def test_bad_configuration_exits_non_zero_with_the_message_and_no_traceback(capsys):
    assert main(["--stack", "dev", "--config", "drRegion=us-east-1"]) == 2
    captured = capsys.readouterr()
    assert "primaryRegion and drRegion are both 'us-east-1'" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_unknown_stack_names_the_stacks_that_exist(capsys):
    assert main(["--stack", "staging"]) == 2
    err = capsys.readouterr().err
    assert "no stack 'staging'" in err and "dev" in err and "prod" in err
