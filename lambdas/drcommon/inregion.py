"""Is the writer's cluster in an in-region failover? Aurora replacing its writer inside the region.

Aurora restores service after an in-region failover "typically ... in less than 60 seconds, and
often less than 30 seconds" (Aurora User Guide, "High availability for Amazon Aurora"). Probes of
the writer fail meanwhile, exactly as they do when the region is lost; failing over the global
database for it would trade half a minute of unavailability for data loss and a role swap. So the
peer watch and the coordinator look, when the writer region's API answers, for the two signs AWS
gives ("Viewing DB cluster status"; "Amazon RDS event categories and event messages for
Aurora", DB cluster events, category `failover`):

* the cluster's `Status` is `failing-over`;
* an RDS-EVENT-0072 ("Started same AZ failover to DB instance") or RDS-EVENT-0073 ("Started
  cross AZ failover to DB instance") with no RDS-EVENT-0071 ("Completed failover to DB
  instance") or RDS-EVENT-0069 ("Cluster failover failed") after it.

`DescribeEvents` returns each event's message, not its id: the events are matched by the
messages of that table. An in-region failover excuses failed probes for a bounded time only
(`judge`): one that takes longer than Aurora's own figure is no longer an in-region failover to
wait for. A region whose API does not answer shows nothing, and excuses nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FAILING_OVER = "failing-over"
EVENT_CATEGORY = "failover"
SOURCE_TYPE = "db-cluster"
# Message prefixes of the DB cluster events, as DescribeEvents returns them.
STARTED_MESSAGES = ("Started same AZ failover", "Started cross AZ failover")  # 0072, 0073
ENDED_MESSAGES = ("Completed failover", "Cluster failover failed")  # 0071, 0069


@dataclass(frozen=True)
class InRegionView:
    """What the writer region's RDS API said about the writer's cluster (nothing when it did not
    answer: `error`)."""

    status: str | None = None
    started_at: float | None = None
    """Epoch seconds of the newest failover start event not followed by its end, if any."""
    error: str | None = None

    @property
    def answered(self) -> bool:
        """The region's API answered both reads."""
        return self.error is None


@dataclass(frozen=True)
class InRegionVerdict:
    """Whether an in-region failover excuses the writer's failed probes now, and why."""

    excused: bool
    detail: str
    since: float | None = None
    """When the failover was first known to run (epoch seconds): its start event, or the first
    time its status was seen (kept by a caller that watches across ticks)."""


def _event_time(event: Mapping[str, Any]) -> float:
    date = event["Date"]
    return date.timestamp() if isinstance(date, dt.datetime) else float(date)


def open_failover_start(events: Sequence[Mapping[str, Any]]) -> float | None:
    """Epoch seconds of the newest in-region failover start with no end after it, else None."""
    starts = [
        _event_time(e) for e in events if str(e.get("Message", "")).startswith(STARTED_MESSAGES)
    ]
    if not starts:
        return None
    newest = max(starts)
    ended = any(
        _event_time(e) >= newest
        for e in events
        if str(e.get("Message", "")).startswith(ENDED_MESSAGES)
    )
    return None if ended else newest


def read_in_region(
    rds: Any, cluster_id: str, *, now: float, lookback_seconds: float
) -> InRegionView:
    """The cluster's status, then its open failover, through `rds` (a client in the writer's
    region, with the remote call budget); never raises.

    One read after the other, and the second only when the first answered: a region whose API
    does not answer costs one call's budget, not two.
    """
    try:
        clusters = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    except Exception as exc:
        return InRegionView(error=f"describe_db_clusters: {exc}")
    status = clusters[0].get("Status") if clusters else None
    start = dt.datetime.fromtimestamp(now - lookback_seconds, tz=dt.UTC)
    try:
        events = rds.describe_events(
            SourceIdentifier=cluster_id,
            SourceType=SOURCE_TYPE,
            StartTime=start,
            EventCategories=[EVENT_CATEGORY],
        ).get("Events", [])
    except Exception as exc:
        return InRegionView(status=status, error=f"describe_events: {exc}")
    return InRegionView(status=status, started_at=open_failover_start(events))


def judge(
    view: InRegionView, *, now: float, excuse_seconds: float, first_seen: float | None = None
) -> InRegionVerdict:
    """Whether `view` excuses failed probes at `now`: an in-region failover that started (or,
    known only by its status, was first seen: `first_seen`, else now) at most `excuse_seconds`
    ago."""
    if not view.answered:
        return InRegionVerdict(
            False,
            f"the writer region's RDS API did not answer ({view.error}): no in-region "
            "failover can be seen",
        )
    if view.started_at is not None:
        since, how = view.started_at, "its start event"
    elif view.status == FAILING_OVER:
        since, how = (first_seen if first_seen is not None else now), "its status failing-over"
    else:
        return InRegionVerdict(False, f"no in-region failover (cluster status {view.status})")
    age = now - since
    if age <= excuse_seconds:
        return InRegionVerdict(
            True,
            f"in-region failover running for {age:.0f} s (seen by {how}): Aurora restores "
            f"service in-region within {excuse_seconds:.0f} s",
            since,
        )
    return InRegionVerdict(
        False,
        f"in-region failover running for {age:.0f} s (seen by {how}), longer than the "
        f"{excuse_seconds:.0f} s it may excuse",
        since,
    )
