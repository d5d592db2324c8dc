"""`drctl drill` end to end through `main`: both role changes go through the coordinators, the
heartbeat rows give the measured figures, and the results land in a file, CloudWatch and S3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drctl import cli, drill
from failover_coordinator.decision import Request
from tests.drctl.conftest import BUCKETS, World, completed
from tests.lambdas.aws_fixtures import DR, PRIMARY, client, topology

SWITCHOVER_SECONDS = 25.0  # how long each coordinator invocation takes on the fake clock
# Seconds after the request during which no commit is acknowledged, per target region.
OUTAGE = {DR: (3.0, 9.0), PRIMARY: (2.0, 6.0)}
LOST = {12}  # an acknowledged heartbeat row missing afterwards


class FakeHeartbeat:
    """Writes a row every second of the fake clock, except during the outages."""

    def __init__(self, world: World) -> None:
        self.world = world

    def start(self) -> None:
        self.started = self.world.time

    def writing(self) -> bool:
        return getattr(self.world, "heartbeat_writing", True)

    def committed(self) -> int:
        return getattr(self.world, "heartbeat_committed", 10)

    def stop(self) -> tuple[list[dict[str, Any]], list[str]]:
        rows, seq, at = [], 0, self.started
        while at < self.world.time:
            if not any(s + a <= at < s + b for s, (a, b) in self.world.role_changes):
                rows.append({"seq": seq, "at": at})
            seq, at = seq + 1, at + 1.0
        self.world.stored = [r["seq"] for r in rows if r["seq"] not in LOST]
        return [{"nextSeq": seq, "committed": rows, "failed": []}], []


@pytest.fixture
def drilling(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    world.role_changes = []  # type: ignore[attr-defined]

    def coordinator(region: str, request: Request) -> dict:
        world.role_changes.append((world.time, OUTAGE[region]))  # type: ignore[attr-defined]
        world.time += SWITCHOVER_SECONDS
        world.topology_response = topology(region)
        return completed(region, request)

    def advance(seconds: float) -> None:
        world.time += seconds

    world.coordinator = coordinator
    world.checker = lambda payload: {"runId": payload["runId"], "seqs": world.stored}  # type: ignore[attr-defined]
    monkeypatch.setattr(cli.RUNTIME, "sleep", advance)
    monkeypatch.setattr(drill, "Heartbeat", lambda invoke, run_id: FakeHeartbeat(world))
    return world


def test_drill_switches_over_and_back_and_reports_measured_beside_modeled(
    drilling: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "drill.json"
    code = drilling.run("drill", "--stack", "dev", "--yes", "--results", str(results))
    out = capsys.readouterr().out
    assert code == 0, out
    assert [(r, e["action"], e["force"]) for r, e in drilling.coordinator_events()] == [
        (DR, "switchover", False),
        (PRIMARY, "switchover", False),
    ]
    document = json.loads(results.read_text())
    there, back = document["directions"]
    assert there["direction"] == f"{PRIMARY} -> {DR}" and back["direction"] == f"{DR} -> {PRIMARY}"
    # 6 s without commits, measured from the commit before to the one after: 7 s at 1 s ticks
    assert (there["measuredUnavailableSeconds"], back["measuredUnavailableSeconds"]) == (7.0, 5.0)
    assert (there["rowsLost"], there["lostSeqs"], back["rowsLost"]) == (1, [12], 0)
    assert there["modeledSeconds"] == 30.0 and there["scenario"] == "planned"
    assert f"{PRIMARY} -> {DR}" in out and "7.0 s" in out and "30.0 s" in out
    # AND the results are kept in the DR region: metrics and the backup bucket
    metrics = client("cloudwatch", DR).list_metrics(Namespace="AuroraDR/Drill")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"WriteUnavailableSeconds", "RowsLost"}
    keys = [
        o["Key"] for o in client("s3", DR).list_objects_v2(Bucket=BUCKETS[DR]).get("Contents", [])
    ]
    assert len(keys) == 1 and keys[0].startswith("drill-reports/") and document["runId"] in keys[0]


def test_an_unplanned_drill_fails_over_with_force_then_switches_back_once_in_sync(
    drilling: World, tmp_path: Path
) -> None:
    results = tmp_path / "drill.json"
    assert (
        drilling.run("drill", "--stack", "dev", "--unplanned", "--yes", "--results", str(results))
        == 0
    )
    assert [(r, e["action"], e["force"]) for r, e in drilling.coordinator_events()] == [
        (DR, "failover", True),
        (PRIMARY, "switchover", False),
    ]
    document = json.loads(results.read_text())
    assert [d["scenario"] for d in document["directions"]] == ["unplanned", "planned"]
    assert document["directions"][0]["modeledSeconds"] == 90.0


def test_an_unplanned_drill_on_the_prod_sizing_needs_i_know(
    drilling: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert drilling.run("drill", "--stack", "prod", "--unplanned", "--yes") == 2
    assert "--i-know" in capsys.readouterr().err
    assert drilling.invocations == []


def test_a_drill_stops_when_a_role_change_is_not_completed(
    drilling: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drilling.coordinator = lambda region, request: {
        "status": "refused",
        "detail": "lag over budget",
    }
    results = tmp_path / "drill.json"
    assert drilling.run("drill", "--stack", "dev", "--yes", "--results", str(results)) == 1
    assert len(drilling.coordinator_events()) == 1
    document = json.loads(results.read_text())
    assert "lag over budget" in document["aborted"] and document["directions"] == []
    assert "ABORTED" in capsys.readouterr().out


def test_an_aborted_drill_keeps_the_direction_it_measured(drilling: World, tmp_path: Path) -> None:
    answers = iter([None, {"status": "failed", "detail": "RDS refused"}])

    def second_refused(region: str, request: Request) -> dict:
        answer = next(answers)
        if answer is None:
            drilling.role_changes.append((drilling.time, OUTAGE[region]))  # type: ignore[attr-defined]
            drilling.time += SWITCHOVER_SECONDS
            drilling.topology_response = topology(region)
            return completed(region, request)
        return answer

    drilling.coordinator = second_refused
    results = tmp_path / "drill.json"
    assert drilling.run("drill", "--stack", "dev", "--yes", "--results", str(results)) == 1
    document = json.loads(results.read_text())
    assert "RDS refused" in document["aborted"]
    assert [d["measuredUnavailableSeconds"] for d in document["directions"]] == [7.0]


def test_no_role_change_without_a_heartbeat_writer(drilling: World, tmp_path: Path) -> None:
    drilling.heartbeat_writing = False  # type: ignore[attr-defined]
    results = tmp_path / "drill.json"
    assert drilling.run("drill", "--stack", "dev", "--yes", "--results", str(results)) == 1
    assert drilling.coordinator_events() == []
    assert "heartbeat writer stopped" in json.loads(results.read_text())["aborted"]


def test_aws_errors_are_reported_without_a_traceback(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.exceptions import ClientError

    def busy(region: str, request: Request) -> dict:
        error = {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}
        raise ClientError(error, "Invoke")

    world.coordinator = busy
    assert world.run("switchover", "--to", DR, "--yes") == 1
    assert "TooManyRequestsException" in capsys.readouterr().err


def test_the_modeled_figures_are_drplans_budget_for_the_stack(plans) -> None:
    from drctl.commands import modeled_seconds
    from drplan.budget import recovery_budget

    budget = recovery_budget(plans["dev"])
    assert modeled_seconds("dev") == {
        "planned": budget.planned.seconds,
        "unplanned": budget.unplanned.seconds,
    }


def test_no_role_change_before_the_heartbeat_writer_has_committed_a_row(
    drilling: World, tmp_path: Path
) -> None:
    drilling.heartbeat_committed = 0  # type: ignore[attr-defined]  # e.g. TLS to the endpoint fails
    results = tmp_path / "drill.json"
    assert drilling.run("drill", "--stack", "dev", "--yes", "--results", str(results)) == 1
    assert drilling.coordinator_events() == []
    assert "committed no row" in json.loads(results.read_text())["aborted"]
