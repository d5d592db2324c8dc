"""The drill's RTO/RPO arithmetic on literal rows (the SQL path is in
tests/lambdas/test_health_checker_drill.py)."""

from __future__ import annotations

import threading

import pytest

from drctl import drill
from drctl.measure import Commit, Window, commits_from_batches, measure


def every_second(first: int, last: int, *, skip: range = range(0)) -> list[Commit]:
    return [Commit(seq, float(seq)) for seq in range(first, last + 1) if seq not in skip]


def test_each_direction_measures_its_own_gap_and_its_own_losses() -> None:
    commits = every_second(0, 100, skip=range(21, 29))
    commits = [c for c in commits if not 61 <= c.seq <= 63]
    stored = {c.seq for c in commits} - {19, 20, 58}
    windows = [Window("a -> b", 20.5, 40.0), Window("b -> a", 60.5, 80.0)]

    there, back = measure(commits, stored, windows)

    assert (there.last_commit_before, there.first_commit_after, there.unavailable_seconds) == (
        20.0,
        29.0,
        9.0,
    )
    assert (there.rows_lost, there.lost_seqs, there.rpo_seconds) == (2, (19, 20), 2.0)
    assert (back.last_commit_before, back.first_commit_after, back.unavailable_seconds) == (
        60.0,
        64.0,
        4.0,
    )
    assert (back.rows_lost, back.lost_seqs, back.rpo_seconds) == (1, (58,), 1.0)


def test_the_outage_is_the_longest_gap_not_the_first_one_in_the_window() -> None:
    # the drain and the switchover call start well before writes stop
    commits = every_second(0, 60, skip=range(24, 31))
    (result,) = measure(commits, {c.seq for c in commits}, [Window("a -> b", 15.5, 45.0)])
    assert (result.last_commit_before, result.first_commit_after) == (23.0, 31.0)
    assert result.unavailable_seconds == 8.0


def test_writes_that_never_resumed_are_unmeasured_not_zero() -> None:
    commits = every_second(0, 20)
    (result,) = measure(commits, {c.seq for c in commits}, [Window("a -> b", 20.5, 40.0)])
    assert result.unavailable_seconds is None
    assert result.last_commit_before == 20.0 and result.first_commit_after is None


def test_no_outage_is_one_tick() -> None:
    commits = every_second(0, 50)
    (result,) = measure(commits, {c.seq for c in commits}, [Window("a -> b", 20.5, 40.0)])
    assert result.unavailable_seconds == 1.0 and result.rows_lost == 0
    assert result.rpo_seconds == 0.0  # nothing lost: no data-loss window, not one tick


def commits_at(*times: float) -> list[Commit]:
    return [Commit(seq, at) for seq, at in enumerate(times)]


def _one(commits: list[Commit], window: Window):
    (result,) = measure(commits, {c.seq for c in commits}, [window])
    return result


def test_a_commit_acknowledged_as_the_request_is_sent_is_the_last_before_it() -> None:
    result = _one(commits_at(1, 2, 3, 4, 5, 9, 10), Window("a -> b", 5.0, 9.0))
    assert (result.last_commit_before, result.first_commit_after) == (5.0, 9.0)
    assert result.unavailable_seconds == 4.0


@pytest.mark.parametrize(
    ("times", "window", "outage"),
    [
        # a long gap that ended before the request was sent (0 -> 3) is not this outage
        ((0, 3, 4, 5, 6), Window("a -> b", 3.5, 5.0), (3.0, 4.0)),
        # nor is one that begins after writes resumed (5 -> 9)
        ((3, 5, 9), Window("a -> b", 3.5, 4.5), (3.0, 5.0)),
    ],
    ids=["gap-before-the-window", "gap-after-the-window"],
)
def test_only_the_gaps_that_overlap_the_window_count(times, window, outage) -> None:
    result = _one(commits_at(*times), window)
    assert (result.last_commit_before, result.first_commit_after) == outage


def test_without_any_commit_the_outage_is_unmeasured() -> None:
    result = _one([], Window("a -> b", 3.0, 4.0))
    assert (result.last_commit_before, result.first_commit_after) == (None, None)
    assert (result.unavailable_seconds, result.rows_lost, result.rpo_seconds) == (None, 0, 0.0)


def test_writes_that_began_inside_the_window_have_no_last_commit_before_it() -> None:
    result = _one(commits_at(1, 2, 4), Window("a -> b", 0.0, 3.0))
    assert (result.last_commit_before, result.first_commit_after) == (None, 1.0)
    assert result.unavailable_seconds is None


def test_a_lost_row_counts_in_the_direction_whose_window_ends_first_after_it() -> None:
    # GIVEN two role changes, and lost rows acknowledged exactly as the first one settled and
    # after the last one
    commits = every_second(0, 100)
    stored = {c.seq for c in commits} - {40, 41, 95}
    windows = [Window("a -> b", 20.5, 40.0), Window("b -> a", 60.5, 80.0)]
    # WHEN measured
    there, back = measure(commits, stored, windows)
    # THEN the row at 40 s is the first direction's; 41 s and 95 s (after the last window) are
    # the second's
    assert (there.lost_seqs, there.rpo_seconds) == ((40,), 1.0)
    assert (back.lost_seqs, back.rpo_seconds) == ((41, 95), 55.0)


def test_a_batch_without_committed_rows_adds_none() -> None:
    batches = [{"committed": [{"seq": "1", "at": "10.5"}]}, {"error": "timeout"}, {}]
    assert commits_from_batches(batches) == [Commit(1, 10.5)]


def test_the_heartbeat_writer_is_invoked_back_to_back_with_a_continuing_sequence() -> None:
    stop = threading.Event()
    seen: list[dict] = []

    def invoke(event: dict) -> dict:
        seen.append(event)
        if len(seen) == 3:
            stop.set()
        return {"nextSeq": event["firstSeq"] + 20, "committed": [], "failed": []}

    batches, errors = drill.run_batches(invoke, "run-1", stop)
    assert [e["firstSeq"] for e in seen] == [0, 20, 40]
    assert all(e["drill"] == "write" and e["runId"] == "run-1" for e in seen)
    assert len(batches) == 3 and errors == []


def test_the_heartbeat_writer_gives_up_after_repeated_invocation_errors() -> None:
    calls: list[dict] = []

    def invoke(event: dict) -> dict:
        calls.append(event)
        raise TimeoutError("read timeout")

    batches, errors = drill.run_batches(invoke, "run-1", threading.Event())
    assert len(calls) == drill.MAX_BATCH_ERRORS and batches == []
    assert errors == ["TimeoutError: read timeout"] * drill.MAX_BATCH_ERRORS


@pytest.mark.parametrize(
    ("writer", "sync", "reason"),
    [
        ("us-west-2", "connected", "the writer must be the configured primary"),
        ("us-east-1", "pending-resync", "must be a connected"),
    ],
)
def test_a_drill_starts_only_from_the_configured_topology(
    writer: str, sync: str, reason: str
) -> None:
    from drctl.outputs import parse_outputs
    from lambdas.drcommon.topology import parse_global_cluster
    from tests.drctl.conftest import stack_outputs
    from tests.lambdas.aws_fixtures import topology

    snapshot = parse_global_cluster(topology(writer, sync=sync)["GlobalClusters"][0])
    found = drill.check_ready(snapshot, parse_outputs(stack_outputs()))
    assert found is not None and reason in found
