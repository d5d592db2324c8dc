"""Aurora decisions: parameters, parameter-group family, instance zones, maintenance windows."""

from __future__ import annotations

import dataclasses

import pytest

from decisions import aurora
from stack.sizing import SIZING


def test_managed_rpo_is_set_when_the_sizing_asks_for_it():
    base = SIZING["test"]
    assert "rds.global_db_rpo" not in {p.name for p in aurora.cluster_parameters(base)}
    bounded = dataclasses.replace(base, managed_rpo_seconds=30)
    values = {p.name: p.value for p in aurora.cluster_parameters(bounded)}
    assert values["rds.global_db_rpo"] == "30"


@pytest.mark.parametrize(
    ("version", "family"), [("16.6", "aurora-postgresql16"), ("15.10", "aurora-postgresql15")]
)
def test_parameter_group_family(version, family):
    assert aurora.parameter_group_family(version) == family


def test_instance_zones_round_robin():
    assert aurora.instance_zones(["a", "b", "c"], 2) == ["a", "b"]
    assert aurora.instance_zones(["a", "b"], 3) == ["a", "b", "a"]


@pytest.mark.parametrize(
    ("backup", "maintenance", "overlap"),
    [
        ("03:00-04:00", "sun:05:00-sun:06:00", False),
        ("03:00-04:00", "sun:03:30-sun:04:30", True),
    ],
)
def test_windows_overlap(backup, maintenance, overlap):
    assert aurora.windows_overlap(backup, maintenance) is overlap
