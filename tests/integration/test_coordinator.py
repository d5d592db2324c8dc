"""Post-deploy: the failover coordinator's dry runs decide correctly and change nothing."""

from __future__ import annotations

from typing import Any

from tests.integration.deployed import (
    COORDINATOR_READ_TIMEOUT,
    Aws,
    DeployedStack,
    writer_of,
)


def dry_run(deployed: DeployedStack, aws: Aws, action: str) -> tuple[str, dict[str, Any]]:
    """GIVEN the writer as RDS reports it WHEN the coordinator of the *other* region (where an
    alarm-triggered failover would run) is asked for a dry-run `action` to its own region THEN
    the writer and the global cluster's state are unchanged afterwards; returns (target, answer).
    """
    before = writer_of(aws.global_cluster(deployed))
    (target,) = set(deployed.regions) - {before.region}
    request = {"action": action, "targetRegion": target, "dryRun": True, "force": False}
    answer = aws.invoke(
        deployed.function_arn("failover_coordinator", target),
        request,
        read_timeout=COORDINATOR_READ_TIMEOUT,
    )
    after = writer_of(aws.global_cluster(deployed))
    assert after.arn == before.arn, f"the writer moved during a dry run: {answer}"
    # A dry run takes no lock and starts nothing: no role change, no drain.
    assert answer["status"] == "dry_run" and answer["ok"] is True, answer
    assert answer["request"] == {
        "operation": action,
        "targetRegion": target,
        "trigger": "manual",
        "dryRun": True,
        "force": False,
    }, answer
    assert "role_change_ms" not in answer["durationsMs"] and "drain" not in answer, answer
    return target, answer


def failed_checks(answer: dict[str, Any]) -> list[str]:
    """Names of the decision's gates that did not pass."""
    return [check["name"] for check in answer["decision"]["checks"] if not check["passed"]]


def test_a_dry_run_failover_with_a_healthy_writer_is_a_no_op(deployed: DeployedStack, aws: Aws):
    """THEN the verdict is no_action, stopped only by the two-vantage-point gate: the writer is
    not unhealthy from both regions, so an unplanned failover must not happen."""
    _, answer = dry_run(deployed, aws, "failover")
    assert answer["decision"]["verdict"] == "no_action", answer
    assert failed_checks(answer) == ["writer_unhealthy_twice"], answer


def test_a_dry_run_switchover_would_be_allowed(deployed: DeployedStack, aws: Aws):
    """THEN a planned switchover passes every gate (target available and in sync, writer healthy):
    the DR region is ready to take the writer role, and the dry run still changed nothing."""
    target, answer = dry_run(deployed, aws, "switchover")
    decision = answer["decision"]
    assert decision["verdict"] == "proceed", answer
    assert failed_checks(answer) == [], answer
    assert decision["targetArn"].split(":")[3] == target, answer
