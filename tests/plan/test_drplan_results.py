"""`drplan --results FILE`: the modeled recovery beside what the last drill measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drplan import __main__ as drplan_cli
from drplan import measured
from drplan.budget import recovery_budget
from drplan.harness import PlanRun


def results_file(tmp_path: Path) -> Path:
    document = {
        "schemaVersion": 1,
        "stack": "dev",
        "runId": "abc123",
        "aborted": None,
        "directions": [
            {
                "direction": "us-east-1 -> us-west-2",
                "scenario": "planned",
                "measuredUnavailableSeconds": 27.5,
                "rowsLost": 0,
            },
            {
                "direction": "us-west-2 -> us-east-1",
                "scenario": "planned",
                "measuredUnavailableSeconds": None,
                "rowsLost": 2,
            },
        ],
    }
    path = tmp_path / "drill.json"
    path.write_text(json.dumps(document))
    return path


def test_json_shows_each_direction_beside_the_modeled_figure(
    tmp_path: Path, plans: dict[str, PlanRun], capsys: pytest.CaptureFixture[str]
) -> None:
    modeled = recovery_budget(plans["dev"]).planned.seconds
    assert (
        drplan_cli.main(
            ["--stack", "dev", "--format", "json", "--results", str(results_file(tmp_path))]
        )
        == 0
    )
    measured = json.loads(capsys.readouterr().out)["measured"]
    there, back = measured["directions"]
    assert (there["modeled_seconds"], there["measured_seconds"], there["withinModel"]) == (
        modeled,
        27.5,
        modeled >= 27.5,
    )
    assert (back["measured_seconds"], back["withinModel"], back["rows_lost"]) == (None, None, 2)


def test_text_shows_modeled_vs_last_measured(tmp_path: Path, plans: dict[str, PlanRun]) -> None:
    document = measured.load_results(str(results_file(tmp_path)))
    budget = recovery_budget(plans["dev"])
    text = measured.to_text(document, measured.compare(budget, document))
    assert "modeled vs last measured (drill abc123 on dev)" in text
    assert f"{budget.planned.seconds:.1f} s" in text and "27.5 s" in text and "unmeasured" in text


def test_a_file_that_is_not_drill_results_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"cost": 1}))
    assert drplan_cli.main(["--stack", "dev", "--results", str(path)]) == drplan_cli.EXIT_BAD_INPUT
    assert "not a drctl drill results file" in capsys.readouterr().err
