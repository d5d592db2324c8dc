"""Aurora decisions: parameters, parameter-group family, instance zones, maintenance windows."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# --- properties (hypothesis) -------------------------------------------------------------------
# Windows within one day (start before end), as every sizing's are; see `windows_overlap`.
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
daily_spans = st.tuples(
    st.integers(min_value=0, max_value=24 * 60 - 2), st.integers(min_value=1, max_value=24 * 60 - 1)
).filter(lambda span: span[0] < span[1])


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def minutes_of(span: tuple[int, int]) -> set[int]:
    """The minutes of the day a window covers, one by one (the reference)."""
    return set(range(span[0], span[1]))


@given(backup=daily_spans, maintenance=daily_spans, day=st.sampled_from(DAYS))
def test_windows_overlap_exactly_when_they_share_a_minute_of_the_day(backup, maintenance, day):
    # GIVEN a daily backup window and a weekly maintenance window on any day
    backup_window = f"{clock(backup[0])}-{clock(backup[1])}"
    maintenance_window = f"{day}:{clock(maintenance[0])}-{day}:{clock(maintenance[1])}"
    # WHEN RDS's overlap rule is checked
    overlap = aurora.windows_overlap(backup_window, maintenance_window)
    # THEN it says overlap exactly when the two windows share a minute of the day
    assert overlap is bool(minutes_of(backup) & minutes_of(maintenance))
    # AND swapping which window is which does not change the answer
    swapped = aurora.windows_overlap(
        f"{clock(maintenance[0])}-{clock(maintenance[1])}",
        f"{day}:{clock(backup[0])}-{day}:{clock(backup[1])}",
    )
    assert swapped is overlap
