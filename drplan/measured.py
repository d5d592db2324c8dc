"""Modeled vs last measured: the plan's recovery figures beside a `drctl drill` results file.

The file is the JSON artifact `python -m drctl drill` writes (schema version 1); each direction
of the drill is shown with the scenario it exercised, the figure this plan models for that
scenario now, and what the drill measured (write unavailability, rows lost).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from drplan.budget import RecoveryBudget

SCHEMA_VERSION = 1


class ResultsError(ValueError):
    """The results file cannot be read or is not a drill's results."""


@dataclass(frozen=True)
class Comparison:
    """One direction of a drill beside the model."""

    direction: str
    scenario: str
    modeled_seconds: float
    measured_seconds: float | None
    rows_lost: int

    @property
    def within_model(self) -> bool | None:
        """Whether the measured unavailability stayed within the modeled figure (None: unmeasured)."""
        return (
            None if self.measured_seconds is None else self.measured_seconds <= self.modeled_seconds
        )


def load_results(path: str) -> dict[str, Any]:
    """The drill's results document; raises `ResultsError` naming the problem."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsError(f"cannot read --results {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"--results {path} is not JSON (line {exc.lineno})") from None
    if not isinstance(document, dict) or document.get("schemaVersion") != SCHEMA_VERSION:
        raise ResultsError(
            f"--results {path} is not a drctl drill results file (schema {SCHEMA_VERSION})"
        )
    return document


def compare(budget: RecoveryBudget, document: dict[str, Any]) -> list[Comparison]:
    """Each direction of the drill beside the modeled seconds of its scenario."""
    modeled = {"planned": budget.planned.seconds, "unplanned": budget.unplanned.seconds}
    return [
        Comparison(
            direction=d["direction"],
            scenario=d["scenario"],
            modeled_seconds=modeled[d["scenario"]],
            measured_seconds=d["measuredUnavailableSeconds"],
            rows_lost=int(d["rowsLost"]),
        )
        for d in document.get("directions", [])
    ]


def _seconds(value: float | None) -> str:
    return "unmeasured" if value is None else f"{value:.1f} s"


def to_text(document: dict[str, Any], rows: list[Comparison]) -> str:
    """A plain table (also the markdown one, with pipes)."""
    lines = [
        f"modeled vs last measured (drill {document.get('runId')} on {document.get('stack')}"
        f"{', ABORTED' if document.get('aborted') else ''})",
        f"  {'direction':<28} {'scenario':<10} {'modeled':>10} {'measured':>12} {'rows lost':>10}",
    ]
    for r in rows:
        lines.append(
            f"  {r.direction:<28} {r.scenario:<10} {_seconds(r.modeled_seconds):>10} "
            f"{_seconds(r.measured_seconds):>12} {r.rows_lost:>10}"
        )
    return "\n".join(lines) + "\n"


def to_markdown(document: dict[str, Any], rows: list[Comparison]) -> str:
    """A markdown section."""
    lines = [
        f"\n### Modeled vs last measured (drill `{document.get('runId')}`)\n",
        "| direction | scenario | modeled | measured | rows lost |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r.direction} | {r.scenario} | {_seconds(r.modeled_seconds)} | "
        f"{_seconds(r.measured_seconds)} | {r.rows_lost} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def to_json(document: dict[str, Any], rows: list[Comparison]) -> dict[str, Any]:
    """The `measured` member of the plan's JSON."""
    return {
        "runId": document.get("runId"),
        "aborted": document.get("aborted"),
        "directions": [asdict(r) | {"withinModel": r.within_model} for r in rows],
    }
