"""RTO and RPO measured from heartbeat rows (pure).

Inputs: every row the heartbeat writer saw acknowledged (sequence number, time of the
acknowledgement), the sequence numbers the table holds after the drill, and one window per
direction: from the moment drctl asked the coordinator for the role change until it answered (the
drill keeps writing for a settling time after that, so that writes are seen to resume). Per direction:

* write unavailability = the longest stretch without an acknowledged commit that overlaps the
  window: from the last commit before it to the first commit after it. The writer ticks once a
  second, so the figure is at most one tick longer than the true outage; a window after which no
  commit came is reported as unmeasured (`None`), never as zero;
* rows lost = acknowledged rows missing from the table afterwards, counted in the direction whose
  window ends first after the row was acknowledged (the rows after the last window count there);
  RPO seconds = the span of the lost rows plus one tick.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

TICK_SECONDS = 1.0


@dataclass(frozen=True)
class Commit:
    """A heartbeat row whose commit was acknowledged at `at` (epoch seconds)."""

    seq: int
    at: float


@dataclass(frozen=True)
class Window:
    """Where one role change happened: `started` (request sent) to `ended` (settled)."""

    direction: str
    started: float
    ended: float


@dataclass(frozen=True)
class DirectionMeasurement:
    """What one direction measured."""

    direction: str
    last_commit_before: float | None
    first_commit_after: float | None
    unavailable_seconds: float | None
    rows_lost: int
    lost_seqs: tuple[int, ...]
    rpo_seconds: float


def _longest_gap(commits: list[Commit], window: Window) -> tuple[Commit | None, Commit | None]:
    """The consecutive pair of commits with the longest gap overlapping the window."""
    before = [c for c in commits if c.at <= window.started]
    inside = [c for c in commits if window.started < c.at < window.ended]
    after = [c for c in commits if c.at >= window.ended]
    chain = before[-1:] + inside + after[:1]
    if not after:
        # Writes never resumed after the window: the outage has no measured end.
        return (chain[-1] if chain else None), None
    if not before:
        return None, chain[0]
    pairs = list(itertools.pairwise(chain))
    return max(pairs, key=lambda pair: pair[1].at - pair[0].at)


def _lost(commits: Iterable[Commit], present: set[int], low: float, high: float) -> list[Commit]:
    return [c for c in commits if low < c.at <= high and c.seq not in present]


def measure(
    commits: Iterable[Commit], present: Iterable[int], windows: list[Window]
) -> list[DirectionMeasurement]:
    """One measurement per window, in order (windows must not overlap)."""
    ordered = sorted(commits, key=lambda c: c.at)
    stored = set(present)
    results = []
    low = float("-inf")
    for index, window in enumerate(windows):
        high = window.ended if index < len(windows) - 1 else float("inf")
        lost = _lost(ordered, stored, low, high)
        low = high
        first, last = _longest_gap(ordered, window)
        unavailable = None if first is None or last is None else last.at - first.at
        rpo = (lost[-1].at - lost[0].at + TICK_SECONDS) if lost else 0.0
        results.append(
            DirectionMeasurement(
                direction=window.direction,
                last_commit_before=first.at if first else None,
                first_commit_after=last.at if last else None,
                unavailable_seconds=unavailable,
                rows_lost=len(lost),
                lost_seqs=tuple(c.seq for c in lost),
                rpo_seconds=rpo,
            )
        )
    return results


def commits_from_batches(batches: Iterable[dict]) -> list[Commit]:
    """The acknowledged rows of the heartbeat writer's answers (`drill write`)."""
    return [
        Commit(int(row["seq"]), float(row["at"]))
        for batch in batches
        for row in batch.get("committed", [])
    ]
