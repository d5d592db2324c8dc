"""switchover, failover, failback: one manual request to the target region's coordinator."""

from __future__ import annotations

import pytest

from failover_coordinator.decision import Request
from tests.drctl.conftest import World
from tests.lambdas.aws_fixtures import DR, PRIMARY, topology


def test_switchover_goes_through_the_target_regions_coordinator(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code = world.run("switchover", "--to", DR, "--yes")
    assert code == 0, capsys.readouterr()
    assert world.coordinator_events() == [
        (DR, {"action": "switchover", "targetRegion": DR, "dryRun": False, "force": False})
    ]
    assert ("rds", PRIMARY) in world.calls and not any(s == "dynamodb" for s, _ in world.calls)


def test_a_coordinator_refusal_is_exit_1_with_its_gates(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(region: str, request: Request) -> dict:
        checks = [{"name": "writer_healthy", "passed": False, "detail": "writer alarm in ALARM"}]
        return {
            "status": "refused",
            "detail": "primary unhealthy",
            "decision": {"verdict": "refused", "checks": checks},
        }

    world.coordinator = refuse
    code = world.run("switchover", "--to", DR, "--yes")
    out = capsys.readouterr().out
    assert code == 1
    assert "coordinator: refused: primary unhealthy" in out and "NO  writer_healthy" in out


def test_switchover_asks_first_and_does_nothing_without_a_yes(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.answers = ["no"]
    code = world.run("switchover", "--to", DR)
    assert code == 2
    assert world.coordinator_events() == []
    assert "not confirmed" in capsys.readouterr().err


def test_dry_run_asks_the_coordinator_for_its_decision_only(world: World) -> None:
    world.coordinator = lambda region, request: {
        "status": "dry_run",
        "detail": "",
        "decision": {"verdict": "proceed", "checks": []},
    }
    assert world.run("switchover", "--to", DR, "--dry-run") == 0
    assert world.coordinator_events() == [
        (DR, {"action": "switchover", "targetRegion": DR, "dryRun": True, "force": False})
    ]


def test_switchover_to_the_writer_is_nothing_to_do(world: World) -> None:
    assert world.run("switchover", "--to", PRIMARY, "--yes") == 0
    assert world.coordinator_events() == []


def test_failover_without_allow_data_loss_refuses_before_any_aws_call(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code = world.run("failover", "--to", DR, "--yes")
    assert code == 2
    assert world.calls == []
    assert "--allow-data-loss" in capsys.readouterr().err


@pytest.mark.parametrize("force", [False, True])
def test_failover_goes_through_the_target_regions_coordinator(world: World, force: bool) -> None:
    extra = ["--force"] if force else []
    assert world.run("failover", "--to", DR, "--allow-data-loss", "--yes", *extra) == 0
    assert world.coordinator_events() == [
        (DR, {"action": "failover", "targetRegion": DR, "dryRun": False, "force": force})
    ]


def test_failback_switches_over_to_the_configured_primary_once_in_sync(world: World) -> None:
    world.topology_response = topology(DR)
    assert world.run("failback", "--yes") == 0
    assert world.coordinator_events() == [
        (
            PRIMARY,
            {"action": "switchover", "targetRegion": PRIMARY, "dryRun": False, "force": False},
        )
    ]


@pytest.mark.parametrize("sync", ["pending-resync", None])
def test_failback_waits_until_the_primary_is_in_sync(
    world: World, sync: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    world.topology_response = topology(DR, sync=sync)
    assert world.run("failback", "--yes") == 2
    assert world.coordinator_events() == []
    assert "not in sync yet" in capsys.readouterr().err


def test_no_role_change_while_one_is_running(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.lambdas.aws_fixtures import failing_over

    world.topology_response = topology(PRIMARY, failing_over())
    assert world.run("switchover", "--to", DR, "--yes") == 2
    assert world.coordinator_events() == []


def test_a_dry_run_the_coordinator_would_not_proceed_with_is_exit_1(world: World) -> None:
    checks = [{"name": "target_in_sync", "passed": False, "detail": "pending-resync"}]
    world.coordinator = lambda region, request: {
        "status": "dry_run",
        "detail": "",
        "decision": {"verdict": "refused", "checks": checks},
    }
    assert world.run("switchover", "--to", DR, "--dry-run") == 1
