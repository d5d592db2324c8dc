"""`drctl unlock`: shows the holder and age, then deletes only the item it showed."""

from __future__ import annotations

import pytest

from tests.drctl.conftest import NOW, World
from tests.lambdas.aws_fixtures import DR, GID, LOCK_TABLES, PRIMARY, client


def put_lock(
    state: str,
    *,
    owner: str = "req-1",
    updated: float = NOW - 900,
    expires: float | None = None,
    region: str = DR,
) -> None:
    item = {
        "LockId": {"S": GID},
        "State": {"S": state},
        "Owner": {"S": owner},
        "Operation": {"S": "failover"},
        "TargetRegion": {"S": region},
        "UpdatedAt": {"N": str(int(updated))},
        "Detail": {"S": "RDS refused"},
    }
    if expires is not None:
        item["ExpiresAt"] = {"N": str(int(expires))}
    client("dynamodb", region).put_item(TableName=LOCK_TABLES[region], Item=item)


def lock_item(region: str = DR) -> dict | None:
    return (
        client("dynamodb", region)
        .get_item(TableName=LOCK_TABLES[region], Key={"LockId": {"S": GID}})
        .get("Item")
    )


def test_unlock_shows_holder_and_age_then_clears_a_failed_lock(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    put_lock("failed")
    world.answers = ["yes"]
    assert world.run("unlock") == 0
    out = capsys.readouterr().out
    assert "failed by req-1 (failover to us-west-2), 900 s old: RDS refused" in out
    assert lock_item() is None


def test_unlock_clears_a_stale_lease(world: World) -> None:
    put_lock("in_progress", expires=NOW - 1)
    assert world.run("unlock", "--yes") == 0
    assert lock_item() is None


def test_unlock_refuses_a_live_lease(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    put_lock("in_progress", expires=NOW + 120)
    assert world.run("unlock", "--yes") == 2
    assert "a role change is running right now" in capsys.readouterr().err
    assert lock_item() is not None


def test_unlock_deletes_nothing_when_the_item_changed_after_it_was_shown(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    put_lock("failed")

    def another_attempt_meanwhile(question: str) -> str:
        put_lock("failed", owner="req-2", updated=NOW - 5)
        return "yes"

    world.answers = [another_attempt_meanwhile]
    assert world.run("unlock") == 1
    assert "changed since it was shown" in capsys.readouterr().out
    assert lock_item()["Owner"]["S"] == "req-2"


def test_unlock_without_a_yes_keeps_the_lock(world: World) -> None:
    put_lock("failed")
    assert world.run("unlock") == 2
    assert lock_item() is not None


def test_unlock_asks_which_region_when_both_hold_an_item(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    put_lock("failed")
    put_lock("unconfirmed", region=PRIMARY)
    assert world.run("unlock", "--yes") == 2
    assert "--region" in capsys.readouterr().err
    assert world.run("unlock", "--yes", "--region", PRIMARY) == 0
    assert lock_item(PRIMARY) is None and lock_item(DR) is not None


def test_unlock_with_nothing_to_clear_changes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    put_lock("completed")
    assert world.run("unlock", "--yes") == 0
    assert "no lock to clear" in capsys.readouterr().out
    assert lock_item() is not None


def test_the_coordinators_clear_instructions_name_a_drctl_command_that_parses() -> None:
    import re
    import shlex

    from drctl import cli
    from failover_coordinator.lock import clear_instructions

    text = clear_instructions(LOCK_TABLES[DR], DR, GID)
    command = re.search(r"`python -m drctl ([^`]+)`", text)
    assert command is not None, text
    args = cli.parser().parse_args(shlex.split(command.group(1).replace("<stack>", "dev")))
    assert (args.command, args.stack, args.region) == ("unlock", "dev", DR)
