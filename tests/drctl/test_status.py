"""`drctl status` against moto and a stubbed global cluster, driven through `main`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from drctl import cli
from tests.drctl.conftest import NOW, World, report_health
from tests.lambdas.aws_fixtures import (
    CLUSTERS,
    DR,
    GID,
    LOCK_TABLES,
    PRIMARY,
    client,
    failing_over,
    topology,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", [None, *cli.EXAMPLES])
def test_every_command_has_help_with_an_example(
    command: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as leaving:
        cli.main([command, "--help"] if command else ["--help"])
    assert leaving.value.code == 0
    text = capsys.readouterr().out
    assert "example" in text and "python -m drctl" in text and "lambda:InvokeFunction" in text


def test_python_m_drctl_help_runs_in_a_fresh_interpreter() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "drctl", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "switchover" in done.stdout and "unlock" in done.stdout


def put_lag(metric: str, value: float) -> None:
    """The DR (secondary) cluster's global-database lag, as AWS/RDS publishes it there."""
    client("cloudwatch", DR).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": CLUSTERS[DR]}],
                "Timestamp": dt.datetime.fromtimestamp(NOW - 120, dt.UTC),
                "Value": value,
                "Unit": "Milliseconds",
            }
        ],
    )


def test_status_prints_the_writer_region_and_each_member(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    put_lag("AuroraGlobalDBReplicationLag", 850.0)
    put_lag("AuroraGlobalDBRPOLag", 1200.0)
    code = world.run("status")
    out = capsys.readouterr().out
    assert f"writer region: {PRIMARY}" in out
    assert f"{PRIMARY:<15} writer    {CLUSTERS[PRIMARY]}" in out
    assert (
        f"{DR:<15} secondary {CLUSTERS[DR]}  sync connected  replication lag 850 ms  RPO lag 1200 ms"
        in out
    )
    assert "email:oncall@example.com" in out
    assert code == 0, out


def test_status_shows_an_https_subscriber_by_its_host_only(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an incident tool subscribed with its integration key in the URL's path
    sns = client("sns", DR)
    topic = sns.list_topics()["Topics"][0]["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="https", Endpoint="https://events.example.com/int/KEY-123"
    )
    # WHEN an operator asks for the status (text and JSON) / THEN the key is in neither
    world.run("status")
    text = capsys.readouterr().out
    world.run("status", "--json")
    document = capsys.readouterr().out
    assert "https://events.example.com/..." in text and "https://events.example.com/..." in document
    assert "KEY-123" not in text + document


def test_status_json_is_for_machines(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.run("status", "--json")
    document = json.loads(capsys.readouterr().out)
    assert document["writerRegion"] == PRIMARY
    assert [(m["region"], m["role"]) for m in document["members"]] == [
        (PRIMARY, "writer"),
        (DR, "secondary"),
    ]
    assert document["needsHuman"] is False


def _failed_lock(world: World) -> None:
    client("dynamodb", DR).put_item(
        TableName=LOCK_TABLES[DR],
        Item={
            "LockId": {"S": GID},
            "State": {"S": "failed"},
            "Owner": {"S": "req-1"},
            "Operation": {"S": "failover"},
            "TargetRegion": {"S": DR},
            "UpdatedAt": {"N": str(int(NOW - 600))},
            "Detail": {"S": "RDS refused"},
        },
    )


def _silent_dr_checker(world: World) -> None:
    world.time = NOW + 600  # the last datapoints are 11 minutes old now
    report_health(PRIMARY, at=world.time - 60)


SITUATIONS = {
    "failover in progress": (
        lambda w: setattr(w, "topology_response", topology(PRIMARY, failing_over())),
        "a global failing-over is under way",
    ),
    "writer moved": (
        lambda w: setattr(w, "topology_response", topology(DR)),
        f"the writer is {DR}, not the configured primary",
    ),
    "secondary behind": (
        lambda w: setattr(w, "topology_response", topology(sync="pending-resync")),
        "is not in sync (pending-resync)",
    ),
    "failed lock": (_failed_lock, "lock in us-west-2 is failed: RDS refused"),
    "silent checker": (_silent_dr_checker, f"the health checker in {DR} has not reported"),
}


@pytest.mark.parametrize("situation", SITUATIONS)
def test_status_exits_1_and_says_what_needs_a_human(
    situation: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    arrange, expected = SITUATIONS[situation]
    arrange(world)
    code = world.run("status")
    out = capsys.readouterr().out
    assert code == 1
    assert "NEEDS A HUMAN" in out and expected in out


def test_drctl_reads_the_outputs_the_program_exports(plans) -> None:
    from drctl.outputs import parse_outputs

    for stack, run in plans.items():
        outputs = parse_outputs(run.outputs)
        primary, dr = outputs.regions
        assert set(outputs.lock_tables) == {primary, dr}, stack
        assert outputs.function_arn("failover_coordinator", dr).split(":")[3] == dr
        assert outputs.function_arn("health_checker", dr).split(":")[3] == dr
        assert set(outputs.backup_buckets) == {primary, dr} and set(outputs.alert_topics) == {
            primary,
            dr,
        }
        assert outputs.environment == run.outputs["environmentSuffix"]
