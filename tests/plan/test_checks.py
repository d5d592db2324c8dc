"""What `python -m drplan --check` fails on: an unpriced resource, an RTO above the stack's target,
an unplanned failover that waits for an operator. Each gate on its own, at the exit code and the
message a pull request shows, on modified copies of the shared runs (no program run of its own).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math

import pytest

from drplan.__main__ import main
from drplan.budget import recovery_budget
from drplan.cost import estimate_cost, load_prices
from drplan.harness import PlanRun
from drplan.review import review, stack_settings

# A type the price file has never heard of (neither priced nor declared free).
UNKNOWN_TYPE = "aws:redshift/cluster:Cluster"
UNKNOWN_NAME = "aurora-dr-mystery-dev"
UNKNOWN_UNPRICED = f"{UNKNOWN_TYPE} {UNKNOWN_NAME} (us-east-1: type not in the price file)"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
FUNCTION = "aws:lambda/function:Function"


def with_unknown_resource(run: PlanRun) -> PlanRun:
    """`run` plus one resource of `UNKNOWN_TYPE` in us-east-1 (the shared run is left alone)."""
    template = next(r for r in run.resources if r.region == "us-east-1")
    mystery = dataclasses.replace(
        template,
        urn=f"urn:pulumi:{run.stack}::aurora-dr::{UNKNOWN_TYPE}::mystery",
        type=UNKNOWN_TYPE,
        name="mystery",
        inputs={"name": UNKNOWN_NAME},
        outputs={},
        id="mystery-id",
        dependencies=[],
        property_dependencies={},
    )
    return dataclasses.replace(run, registrations=[*run.registrations, mystery])


def dr_function(run: PlanRun, key: str):
    """The DR region's function `key` (e.g. `health_checker`)."""
    dr = run.outputs["drRegion"]
    return next(
        f
        for f in run.of_type(FUNCTION)
        if f.region == dr and f.inputs["handler"].startswith(f"{key}.")
    )


def without_automatic_trigger(run: PlanRun) -> PlanRun:
    """A copy of `run` in which nothing starts the DR coordinator on a lost primary: the DR peer
    watch does not page it, and no rule routes the DR probe alarm to it."""
    changed = copy.deepcopy(run)
    watch = dr_function(changed, "peer_watch")
    del watch.inputs["environment"]["variables"]["COORDINATOR_FUNCTION_NAME"]
    coordinator_arn = dr_function(changed, "failover_coordinator").outputs["arn"]
    alarm_rules = {
        r.inputs["name"]
        for r in changed.of_type(EVENT_RULE)
        if json.loads(r.inputs.get("eventPattern", "{}")).get("source") == ["aws.cloudwatch"]
    }
    changed.registrations = [
        r
        for r in changed.registrations
        if not (
            r.type == EVENT_TARGET
            and r.inputs["rule"] in alarm_rules
            and r.inputs["arn"] == coordinator_arn
        )
    ]
    return changed


def with_dr_confirmation_window(run: PlanRun, seconds: int) -> PlanRun:
    """A copy of `run` whose DR peer watch confirms a loss over `seconds`."""
    changed = copy.deepcopy(run)
    variables = dr_function(changed, "peer_watch").inputs["environment"]["variables"]
    variables["CONFIRMATION_WINDOW_SECONDS"] = str(seconds)
    return changed


# -- an unknown resource type ---------------------------------------------------------------------


def test_an_unknown_resource_type_is_reported_unpriced_not_skipped(plans):
    # GIVEN the dev run plus one resource of a type the price file does not know
    assert UNKNOWN_TYPE not in load_prices()["no_charge"]
    run = with_unknown_resource(plans["dev"])
    # WHEN it is priced
    report, plain = estimate_cost(run, "test"), estimate_cost(plans["dev"], "test")
    # THEN it is listed as unpriced by type and physical name, and nothing else changes
    assert report.unpriced == [UNKNOWN_UNPRICED]
    assert plain.unpriced == []
    assert report.total() == pytest.approx(plain.total())
    # AND the review fails on it, and on nothing else
    assert review(run).failures == [f"unpriced: {UNKNOWN_UNPRICED}"]


def test_check_fails_on_an_unknown_resource_type_and_names_it(served_runs, capsys, monkeypatch):
    served_runs["dev"] = with_unknown_resource(served_runs["dev"])
    monkeypatch.setenv("COLUMNS", "200")  # the unpriced line whole, not wrapped
    # WHEN the plan runs with --check
    exit_code = main(["--stack", "dev", "--check"])
    # THEN it exits 1 with the resource named, and the text report lists it as unpriced
    captured = capsys.readouterr()
    assert exit_code == 1
    assert captured.err == f"drplan --check: dev: unpriced: {UNKNOWN_UNPRICED}\n"
    assert "-- Unpriced (not in the price file)" in captured.out
    assert f"- {UNKNOWN_UNPRICED}" in captured.out
    # AND without --check the same plan is only a report
    assert main(["--stack", "dev"]) == 0


def test_check_passes_the_stacks_as_configured(served_runs, capsys):
    # GIVEN dev and prod as their config files declare them: every gate passes
    for stack in served_runs:
        assert main(["--stack", stack, "--check"]) == 0, stack
        assert capsys.readouterr().err == ""


# -- the RTO target -------------------------------------------------------------------------------


@pytest.mark.parametrize(("margin", "fails"), [(0, False), (1, False), (-1, True)])
def test_the_rto_check_fails_only_above_the_target(plans, margin, fails):
    # GIVEN prod's modeled RTO and a target at the next whole second, above it or below it
    modeled = recovery_budget(plans["prod"]).unplanned.seconds
    target = math.ceil(modeled) + margin
    # WHEN the review holds the run to that target
    failures = review(plans["prod"], {"rtoTargetSeconds": str(target)}).failures
    # THEN only a modeled RTO above the target fails, with both numbers in the message
    expected = [
        f"modeled unplanned RTO {modeled:.0f} s (global writer endpoint clients) exceeds "
        f"rtoTargetSeconds {target} s"
    ]
    assert failures == (expected if fails else [])


def test_check_fails_when_the_modeled_rto_exceeds_the_stacks_target(served_runs, capsys):
    # GIVEN prod whose DR peer watch confirms a loss over 2 minutes instead of 20 s
    as_configured = recovery_budget(served_runs["prod"]).unplanned.seconds
    slower = with_dr_confirmation_window(served_runs["prod"], 120)
    served_runs["prod"] = slower
    modeled = recovery_budget(slower).unplanned.seconds
    # (the window is 100 s longer; the rest of the path is unchanged)
    assert modeled == pytest.approx(as_configured + 100)
    target = stack_settings("prod").rto_target_seconds
    assert modeled > target
    # WHEN the plan runs with --check
    exit_code = main(["--stack", "prod", "--check"])
    # THEN it exits 1 and says by how much, and that is the only failure
    assert exit_code == 1
    assert capsys.readouterr().err == (
        f"drplan --check: prod: modeled unplanned RTO {modeled:.0f} s (global writer endpoint "
        f"clients) exceeds rtoTargetSeconds {target} s\n"
    )


# -- automatic recovery ---------------------------------------------------------------------------


def test_the_review_fails_when_recovery_waits_for_an_operator(plans):
    # GIVEN dev in which nothing starts the DR coordinator
    manual = without_automatic_trigger(plans["dev"])
    budget = recovery_budget(manual).unplanned
    # THEN the model says so, and the review fails on that alone (held to a target the alarm
    # path meets, so that only the missing trigger fails it)
    assert budget.automatic is False
    assert budget.seconds <= 600
    assert review(manual, {"rtoTargetSeconds": "600"}).failures == [
        "unplanned failover is not automatic: no rule routes the DR probe alarm to the DR "
        "coordinator and no peer watch pages it: recovery waits for an operator"
    ]
    # AND the unchanged run is automatic
    assert recovery_budget(plans["dev"]).unplanned.automatic is True


def test_check_fails_when_recovery_is_not_automatic(served_runs, capsys):
    served_runs["dev"] = without_automatic_trigger(served_runs["dev"])
    exit_code = main(["--stack", "dev", "--check"])
    captured = capsys.readouterr()
    assert exit_code == 1
    # (the alarm path is also slower than dev's target: that fails too, on its own line)
    assert captured.err.splitlines()[0] == (
        "drplan --check: dev: unplanned failover is not automatic: no rule routes the DR probe "
        "alarm to the DR coordinator and no peer watch pages it: recovery waits for an operator"
    )
    assert "(MANUAL)" in captured.out
