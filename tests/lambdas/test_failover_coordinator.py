"""Failover coordinator: the decision table end to end, plus races, failures and bad events.

Each scenario row is GIVEN (topology, alarms, lag, lock) / WHEN (an event) / THEN (status, the
mutating AWS calls made, the functions invoked, SNS messages, page flag). RDS answers come from
Stubbers with real request shapes; everything else is moto, with the lag metrics published and
read back as AWS may answer (both metrics, both dimension sets, several datapoints, no order).

A row with a `rival` races the other region's coordinator on the same request: the rival has
observed and decided before the coordinator under test takes its lock, and is let go at the
moment the row names (`Rival` in aws_fixtures).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_fixtures import (  # noqa: F401 - fixture
    DR,
    DR_CLUSTER,
    ENV,
    GID,
    HEALTH_RUN_PAYLOAD,
    LOCK_TABLE,
    LOCK_TABLES,
    PRIMARY,
    REPLICATION_LAG,
    RPO_LAG,
    LagSeries,
    Rival,
    World,
    alarm_event,
    client,
    drainer,
    failing_over,
    health_checker,
    health_run,
    manual_event,
    moto_aws,
    page_event,
    peer_answer,
    probe_alarm,
    rds_event,
    topology,
    writer_alarm,
)
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.response import StreamingBody

from drcommon import contract
from failover_coordinator import actions, handler
from failover_coordinator.events import InvalidEvent
from failover_coordinator.settings import Settings

FAILOVER_DONE = {"PutItem", "FailoverGlobalCluster", "UpdateItem", "Invoke", "Publish"}
# After a role change towards DR: probe the new writer's region, then drain the old writer's.
PROBE_THEN_DRAIN = (health_run(DR), drainer(PRIMARY))
Event = dict[str, Any] | Callable[[float], dict[str, Any]]
# DB cluster events in category `failover`, as DescribeEvents words them (RDS-EVENT-0073, -0072,
# -0071; Aurora User Guide, "Amazon RDS event categories and event messages for Aurora").
STARTED_CROSS_AZ = "Started cross AZ failover to DB instance: aurora-dr-dev-primary-2."
STARTED_SAME_AZ = "Started same AZ failover to DB instance: aurora-dr-dev-primary-2."
COMPLETED = "Completed failover to DB instance: aurora-dr-dev-primary-2."


def fresh_page(now: float) -> dict[str, Any]:
    """The DR peer watch's page, sent 20 s before the coordinator handles it."""
    return page_event(now - 20)


def stale_page(now: float) -> dict[str, Any]:
    """A page delivered late (e.g. held in the async queue): 301 s old."""
    return page_event(now - 301)


def _event(sc_event: Event, world: World) -> dict[str, Any]:
    """Events that carry a timestamp are built against the world's clock."""
    return sc_event(world.clock.time()) if callable(sc_event) else sc_event


# An `ExpiresAt` no test clock reaches: a lease that is still live.
LIVE_LEASE_EXPIRY = 4_102_444_800  # 2100-01-01T00:00:00Z
# The failed-lock block of the test environment (FAILED_LOCK_BLOCK_MINUTES=30), and lock ages
# just inside and just past it.
BLOCK_SECONDS = 30 * 60
YOUNG = BLOCK_SECONDS - 60
EXPIRED = BLOCK_SECONDS + 60
FAILED_LOCK = {"State": "failed", "Owner": "earlier", "Operation": "failover", "TargetRegion": DR}
UNCONFIRMED_LOCK = {**FAILED_LOCK, "State": "unconfirmed"}


def clear_command(region: str) -> str:
    """The command every page about a blocking lock in `region`'s table carries."""
    key = '{"LockId":{"S":"' + GID + '"}}'  # as the AWS CLI reads it
    return f"aws dynamodb delete-item --region {region} --table-name {LOCK_TABLES[region]} --key '{key}'"


SWITCHOVER_DONE = frozenset(
    {"PutItem", "SwitchoverGlobalCluster", "UpdateItem", "Invoke", "Publish"}
)


@dataclass(frozen=True)
class Scenario:
    """One row of the decision table."""

    name: str
    event: Event
    # "rejected": the event raises `InvalidEvent` (matching `expect_detail`) before any AWS call.
    expect_status: str
    expect_mutations: frozenset[str]
    # GIVEN
    writer_region: str = PRIMARY
    failover_state: dict[str, Any] | None = None
    target_sync: str | None = "connected"  # the secondary's SynchronizationStatus
    target_status: str = "available"
    target_instances: tuple[str, ...] = ("available",)
    dr_probe: str = "OK"  # probe alarm in the DR (target) region
    primary_writer: str = "OK"  # writer alarm in the primary region
    primary_api_unreachable: bool = False
    lag_ms: float | None = 800  # one AuroraGlobalDBRPOLag datapoint, 30 s old
    lag_series: tuple[LagSeries, ...] = ()
    lock: dict[str, Any] | None = None
    lock_age_seconds: float | None = None  # the lock item's `UpdatedAt`, this long ago
    lock_region: str = DR  # the table the lock item is in (and `expect_lock_state` is read from)
    # the primary cluster's status and failover events `(message, seconds ago)`, as its region's
    # RDS API shows them to a failover's in-region read
    primary_status: str = "available"
    primary_events: tuple[tuple[str, float], ...] = ()
    # the DR health checker's answer to the coordinator's fresh probe (None: moto's echo, which
    # is no usable answer: the probe counts as not run)
    fresh_probe: dict[str, Any] | None = None
    # the role change, when the decision proceeds: None, "ok", "throttle_then_ok", or RDS
    # answering InvalidGlobalClusterStateFault, the topology then read again showing:
    # "error" nothing changed, "rejected_target_writer" the target writing,
    # "rejected_other_running" another switchover running
    role_change: str | None = None
    operation: str = "failover"
    polls_in_progress: int = 2
    completes: bool = True
    timeout: float = 300.0
    observes: bool = True
    describes_target: bool = True  # False: only the topology is read (RDS events)
    # The other region's coordinator, handling the same event, let go "while_ours_waits" (we
    # hold the lock, waiting for RDS), or after ours finished and released it, its re-read of
    # the topology under the lock "fresh" (the new writer) or "stale" (the old one).
    rival: str | None = None
    # THEN
    expect_invokes: tuple[str, ...] = ()
    expect_sns: int = 1
    expect_page: bool = False
    expect_lock_state: str | None = None
    expect_detail: str | None = None  # a regular expression the result's detail contains
    expect_lag_ms: float | None = None  # the lag reading the lag gate judged
    # `Result.lock`: a dry run's description of the lock, or how an RDS event resolved it
    expect_lock_report: str | None = None
    # the region whose lock the result and its page say how to clear
    expect_clear_lock: str | None = None
    expect_override: str | None = None  # a regular expression `lockOverride` matches
    expect_role_change_calls: int | None = None  # failover + switchover calls, both coordinators
    expect_rival_status: str | None = None
    expect_rival_sns: int = 0  # messages on the rival's (primary) topic
    extra: dict[str, Any] = field(default_factory=dict)


SCENARIOS = [
    Scenario(
        name="healthy_alarm_back_to_ok_is_ignored",
        event=alarm_event("OK"),
        observes=False,
        expect_status="ignored",
        expect_mutations=frozenset(),
        expect_sns=0,
    ),
    Scenario(
        name="healthy_both_vantage_points_ok_no_op",
        event=alarm_event(),
        expect_status="no_action",
        expect_mutations=frozenset({"Publish"}),
    ),
    Scenario(
        name="primary_down_lag_within_budget_fails_over",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lag_ms=800,
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        expect_lag_ms=800,
    ),
    Scenario(
        name="primary_down_lag_over_budget_refuses_and_pages",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lag_ms=90_000,
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
        expect_detail="replication lag 90000 ms, budget 5000 ms: failing over could lose",
        expect_lag_ms=90_000,
    ),
    Scenario(
        name="primary_down_lag_unknown_refuses_and_pages",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lag_ms=None,
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
        expect_detail=r"replication lag unknown \(no datapoints\)",
    ),
    # -- the lag gate: the worse of both metrics, each from its newest datapoint ---------------
    Scenario(
        name="lag_gate_reads_the_replication_lag_when_it_is_the_worse",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lag_ms=None,
        lag_series=(
            LagSeries(RPO_LAG, ((150, 900), (90, 700), (30, 800))),
            LagSeries(REPLICATION_LAG, ((150, 1_200), (90, 1_000), (30, 90_000))),
        ),
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
        expect_lag_ms=90_000,
    ),
    Scenario(
        name="lag_gate_reads_the_rpo_lag_when_it_is_the_worse",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lag_ms=None,
        lag_series=(
            LagSeries(RPO_LAG, ((150, 900), (90, 700), (30, 90_000))),
            LagSeries(REPLICATION_LAG, ((150, 1_200), (90, 1_000), (30, 700))),
        ),
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
        expect_lag_ms=90_000,
    ),
    Scenario(
        name="lag_gate_reads_the_newest_datapoints_not_an_earlier_spike",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lag_ms=None,
        lag_series=(
            LagSeries(
                RPO_LAG, ((270, 90_000), (210, 70_000), (150, 40_000), (90, 20_000), (30, 800))
            ),
            LagSeries(REPLICATION_LAG, ((270, 9_000), (150, 6_000), (30, 1_200))),
        ),
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        expect_lag_ms=1_200,
    ),
    Scenario(
        name="lag_gate_refuses_when_only_the_newest_datapoint_is_over_budget",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lag_ms=None,
        lag_series=(
            LagSeries(RPO_LAG, ((270, 500), (210, 400), (150, 600), (90, 700), (30, 60_000))),
            LagSeries(REPLICATION_LAG, ((150, 300), (90, 200), (30, 400))),
        ),
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
        expect_lag_ms=60_000,
    ),
    Scenario(
        name="lag_gate_discovers_a_dimension_set_with_the_source_region",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lag_ms=None,
        lag_series=(
            LagSeries(RPO_LAG, ((150, 2_000), (30, 900), (90, 1_500)), source_region_only=True),
        ),
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        expect_lag_ms=900,
    ),
    Scenario(
        name="only_dr_vantage_point_unhealthy_no_action",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="OK",
        expect_status="no_action",
        expect_mutations=frozenset({"Publish"}),
    ),
    Scenario(
        name="only_primary_vantage_point_unhealthy_no_action",
        event=manual_event("failover"),
        dr_probe="OK",
        primary_writer="ALARM",
        expect_status="no_action",
        expect_mutations=frozenset({"Publish"}),
    ),
    Scenario(
        name="failover_already_in_progress_no_action",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        failover_state=failing_over(DR),
        expect_status="no_action",
        expect_mutations=frozenset({"Publish"}),
    ),
    Scenario(
        name="target_already_writer_no_op",
        event=manual_event("failover", PRIMARY),
        expect_status="no_action",
        expect_mutations=frozenset({"Publish"}),
    ),
    Scenario(
        name="target_without_available_instance_refuses",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        target_instances=("modifying",),
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
    ),
    # -- the sync gate: `force` passes it for an unplanned failover only -----------------------
    Scenario(
        name="out_of_sync_target_refuses_an_alarm_failover",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        target_sync="pending-resync",
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
        expect_detail="synchronization status is pending-resync",
    ),
    Scenario(
        name="forced_failover_passes_an_out_of_sync_target",
        event=manual_event("failover", force=True),
        dr_probe="ALARM",
        primary_writer="ALARM",
        target_sync="pending-resync",
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    Scenario(
        name="forced_switchover_never_passes_an_out_of_sync_target",
        event=manual_event("switchover", force=True),
        operation="switchover",
        target_sync="pending-resync",
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
        expect_detail="synchronization status is pending-resync",
    ),
    Scenario(
        name="planned_switchover",
        event=manual_event("switchover"),
        role_change="ok",
        operation="switchover",
        expect_status="completed",
        expect_mutations=frozenset(
            {"PutItem", "SwitchoverGlobalCluster", "UpdateItem", "Invoke", "Publish"}
        ),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    Scenario(
        name="switchover_with_unhealthy_writer_refuses",
        event=manual_event("switchover"),
        primary_writer="ALARM",
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
    ),
    Scenario(
        name="dry_run_reports_and_mutates_nothing",
        event=manual_event("failover", dry_run=True),
        dr_probe="ALARM",
        primary_writer="ALARM",
        expect_status="dry_run",
        expect_mutations=frozenset(),
        expect_sns=0,
        expect_lock_report="free",
        extra={"verdict": "proceed"},
    ),
    Scenario(
        name="dry_run_describes_a_live_lease_as_held",
        event=manual_event("failover", dry_run=True),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lock={
            "State": "in_progress",
            "Owner": "live-invocation",
            "Operation": "failover",
            "TargetRegion": DR,
            "ExpiresAt": LIVE_LEASE_EXPIRY,
        },
        expect_status="dry_run",
        expect_mutations=frozenset(),
        expect_sns=0,
        expect_lock_state="in_progress",
        expect_lock_report=f"lock {GID} is in_progress (owner live-invocation, failover to {DR}): "
        "no detail",
    ),
    Scenario(
        name="dry_run_describes_an_expired_lease_as_stale",
        event=manual_event("failover", dry_run=True),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lock={
            "State": "in_progress",
            "Owner": "crashed-invocation",
            "Operation": "failover",
            "TargetRegion": DR,
            "ExpiresAt": 1,
        },
        expect_status="dry_run",
        expect_mutations=frozenset(),
        expect_sns=0,
        expect_lock_report=f"stale lease (free): lock {GID} is in_progress (owner "
        f"crashed-invocation, failover to {DR}): no detail",
    ),
    Scenario(
        name="misspelt_dry_run_key_is_rejected_during_an_outage",
        event={"action": "failover", "targetRegion": DR, "dryrun": True},
        dr_probe="ALARM",
        primary_writer="ALARM",
        observes=False,
        expect_status="rejected",
        expect_mutations=frozenset(),
        expect_sns=0,
        expect_detail=r"unknown key\(s\) dryrun in manual request",
    ),
    Scenario(
        name="api_throttling_is_retried",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        role_change="throttle_then_ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    Scenario(
        name="failure_mid_way_is_reported_and_recorded",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        role_change="error",
        expect_status="failed",
        expect_mutations=frozenset({"PutItem", "FailoverGlobalCluster", "UpdateItem", "Publish"}),
        expect_page=True,
        expect_lock_state="failed",
        expect_detail="failover request failed: InvalidGlobalClusterStateFault",
        expect_clear_lock=DR,
    ),
    # -- a rejected role change is judged against the topology, read again -------------------
    Scenario(
        name="rejected_call_after_another_succeeded_is_no_action",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        role_change="rejected_target_writer",
        expect_status="no_action",
        expect_mutations=frozenset({"PutItem", "FailoverGlobalCluster", "UpdateItem", "Publish"}),
        expect_lock_state="completed",
        expect_detail="InvalidGlobalClusterStateFault.*the target already holds the writer role",
    ),
    Scenario(
        name="rejected_page_failover_after_another_succeeded_is_quiet",
        event=fresh_page,
        primary_writer="ALARM",
        role_change="rejected_target_writer",
        expect_status="no_action",
        expect_mutations=frozenset({"PutItem", "FailoverGlobalCluster", "UpdateItem"}),
        expect_sns=0,
        expect_lock_state="completed",
    ),
    Scenario(
        name="rejected_call_while_another_change_runs_is_superseded",
        event=manual_event("switchover"),
        operation="switchover",
        role_change="rejected_other_running",
        expect_status="superseded",
        expect_mutations=frozenset({"PutItem", "SwitchoverGlobalCluster", "UpdateItem", "Publish"}),
        expect_lock_state="completed",
        expect_detail="another global switching-over is running",
    ),
    Scenario(
        name="primary_region_api_unreachable_counts_as_unhealthy",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_api_unreachable=True,
        role_change="ok",
        expect_status="completed",
        # The old writer's region is dead: no drain attempt; the new writer is still probed.
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=(health_run(DR),),
        expect_lock_state="completed",
    ),
    Scenario(
        name="manual_force_overrides_lag_budget",
        event=manual_event("failover", force=True),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lag_ms=90_000,
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    Scenario(
        name="stale_lease_is_taken_over",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lock={
            "State": "in_progress",
            "Owner": "crashed-invocation",
            "Operation": "failover",
            "TargetRegion": DR,
            "ExpiresAt": 1,
        },
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    # -- a failed attempt's lock: blocks unforced requests for a bounded time, never force --
    Scenario(
        name="failed_lock_younger_than_the_bound_blocks_an_outage_failover",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lock=FAILED_LOCK,
        lock_age_seconds=YOUNG,
        expect_status="blocked",
        # The conditional put is attempted and refused by DynamoDB.
        expect_mutations=frozenset({"PutItem", "Publish"}),
        expect_page=True,
        expect_lock_state="failed",
        expect_detail="blocks unforced requests until",
        expect_clear_lock=DR,
    ),
    Scenario(
        name="failed_lock_older_than_the_bound_no_longer_blocks_an_outage_failover",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lock=FAILED_LOCK,
        lock_age_seconds=EXPIRED,
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        expect_override="^overrode an expired failed lock: lock aurora-dr-dev is failed",
    ),
    Scenario(
        name="unconfirmed_lock_older_than_the_bound_no_longer_blocks_a_page",
        event=fresh_page,
        primary_writer="ALARM",
        lock=UNCONFIRMED_LOCK,
        lock_age_seconds=EXPIRED,
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        expect_override="^overrode an expired unconfirmed lock",
    ),
    Scenario(
        name="failed_lock_blocks_an_unforced_manual_failover_too",
        event=manual_event("failover"),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lock=FAILED_LOCK,
        lock_age_seconds=YOUNG,
        expect_status="blocked",
        expect_mutations=frozenset({"PutItem", "Publish"}),
        expect_page=True,
        expect_lock_state="failed",
        expect_clear_lock=DR,
    ),
    Scenario(
        name="force_takes_over_a_failed_attempt",
        event=manual_event("failover", force=True),
        dr_probe="ALARM",
        primary_writer="ALARM",
        lock=FAILED_LOCK,
        lock_age_seconds=60,
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        expect_override="^forced over the failed lock",
    ),
    Scenario(
        name="forced_switchover_acts_over_a_young_unconfirmed_lock",
        event=manual_event("switchover", force=True),
        operation="switchover",
        lock=UNCONFIRMED_LOCK,
        lock_age_seconds=60,
        role_change="ok",
        expect_status="completed",
        expect_mutations=SWITCHOVER_DONE,
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        expect_override="^forced over the unconfirmed lock",
    ),
    Scenario(
        name="completion_not_seen_in_time_is_unconfirmed",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        role_change="ok",
        timeout=60.0,  # 40 s of waiting after the reserve: 4 polls 10 s apart
        polls_in_progress=4,
        completes=False,
        expect_status="unconfirmed",
        expect_mutations=frozenset({"PutItem", "FailoverGlobalCluster", "UpdateItem", "Publish"}),
        expect_page=True,
        expect_lock_state="unconfirmed",
        expect_clear_lock=DR,
    ),
    # -- the health checker's page: the DR vantage point is the page itself -----------------
    Scenario(
        name="page_with_primary_writer_alarm_fails_over",
        event=fresh_page,
        dr_probe="OK",  # the probe alarm has not collected its datapoints yet
        primary_writer="ALARM",
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    Scenario(
        name="page_with_primary_api_unreachable_fails_over",
        event=fresh_page,
        dr_probe="OK",
        primary_api_unreachable=True,
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=(health_run(DR),),
        expect_lock_state="completed",
    ),
    Scenario(
        name="page_with_primary_writer_ok_no_action",
        event=fresh_page,
        dr_probe="OK",
        primary_writer="OK",
        expect_status="no_action",
        expect_mutations=frozenset(),
        # a page that needs no human is logged and counted, not mailed
        expect_sns=0,
    ),
    Scenario(
        name="page_with_primary_writer_insufficient_data_no_action",
        event=fresh_page,
        dr_probe="ALARM",
        primary_writer="INSUFFICIENT_DATA",
        expect_status="no_action",
        expect_mutations=frozenset(),
        # a page that needs no human is logged and counted, not mailed
        expect_sns=0,
    ),
    Scenario(
        name="stale_page_is_ignored",
        event=stale_page,
        dr_probe="ALARM",
        primary_writer="ALARM",
        observes=False,
        expect_status="ignored",
        expect_mutations=frozenset(),
        expect_sns=0,
    ),
    Scenario(
        name="page_while_already_writer_no_op",
        event=fresh_page,
        writer_region=DR,
        primary_writer="ALARM",
        expect_status="no_action",
        expect_mutations=frozenset(),
        # a page that needs no human is logged and counted, not mailed
        expect_sns=0,
    ),
    Scenario(
        name="page_during_a_running_failover_no_action",
        event=fresh_page,
        primary_writer="ALARM",
        failover_state=failing_over(DR),
        expect_status="no_action",
        expect_mutations=frozenset(),
        # a page that needs no human is logged and counted, not mailed
        expect_sns=0,
    ),
    Scenario(
        name="page_lag_over_budget_refuses_and_pages",
        event=fresh_page,
        primary_writer="ALARM",
        lag_ms=90_000,
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_page=True,
    ),
    Scenario(
        name="page_blocked_by_a_failed_attempt",
        event=fresh_page,
        primary_writer="ALARM",
        lock=FAILED_LOCK,
        lock_age_seconds=YOUNG,
        expect_status="blocked",
        expect_mutations=frozenset({"PutItem", "Publish"}),
        expect_page=True,
        expect_lock_state="failed",
        expect_clear_lock=DR,
    ),
    # -- an in-region failover of the primary is not a lost region -----------------------------
    Scenario(
        name="page_during_an_in_region_failover_of_the_primary_no_action",
        event=fresh_page,
        primary_writer="ALARM",
        primary_status="failing-over",
        expect_status="no_action",
        expect_mutations=frozenset(),
        expect_sns=0,
        expect_detail=r"in-region failover running for 0 s \(seen by its status failing-over\)",
    ),
    Scenario(
        name="alarm_during_an_open_in_region_failover_event_no_action",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        primary_events=((STARTED_CROSS_AZ, 25),),
        expect_status="no_action",
        expect_mutations=frozenset({"Publish"}),
        expect_detail=r"in-region failover running for 25 s \(seen by its start event\)",
    ),
    Scenario(
        name="in_region_failover_longer_than_aurora_restores_service_fails_over",
        event=fresh_page,
        primary_writer="ALARM",
        primary_events=((STARTED_CROSS_AZ, 90),),
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    Scenario(
        name="completed_in_region_failover_excuses_nothing",
        event=fresh_page,
        primary_writer="ALARM",
        primary_events=((STARTED_SAME_AZ, 40), (COMPLETED, 15)),
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    Scenario(
        name="forced_manual_failover_passes_an_in_region_failover",
        event=manual_event("failover", force=True),
        dr_probe="ALARM",
        primary_writer="ALARM",
        primary_status="failing-over",
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    # -- the writer is probed once more, right before acting ---------------------------------
    Scenario(
        name="page_after_the_primary_recovered_is_refused_and_says_why",
        event=fresh_page,
        primary_writer="ALARM",  # the alarm still remembers the outage
        fresh_probe=peer_answer(ok=True, writer=True),
        expect_status="refused",
        expect_mutations=frozenset(),
        expect_sns=0,  # nobody needs to act on a writer that is back
        expect_detail=r"the writer recovered: a fresh probe from us-west-2 found it answering .* "
        r"after the page was raised \(trigger observed at .*\); not failing over",
    ),
    Scenario(
        name="alarm_after_the_primary_recovered_is_refused_and_reported",
        event=alarm_event(),
        dr_probe="ALARM",
        primary_writer="ALARM",
        fresh_probe=peer_answer(ok=True, writer=True),
        expect_status="refused",
        expect_mutations=frozenset({"Publish"}),
        expect_detail="the writer recovered",
    ),
    Scenario(
        name="forced_manual_failover_passes_a_recovered_writer",
        event=manual_event("failover", force=True),
        dr_probe="ALARM",
        primary_writer="ALARM",
        fresh_probe=peer_answer(ok=True, writer=True),
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    Scenario(
        name="fresh_probe_that_fails_confirms_the_loss",
        event=fresh_page,
        primary_writer="ALARM",
        fresh_probe=peer_answer(ok=False, error="timeout: timed out"),
        role_change="ok",
        expect_status="completed",
        expect_mutations=frozenset(FAILOVER_DONE),
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
    ),
    # -- the probe goes to the *new* writer's region -----------------------------------------
    Scenario(
        name="switchover_back_to_primary_probes_the_primary_checker",
        event=manual_event("switchover", PRIMARY),
        writer_region=DR,
        role_change="ok",
        operation="switchover",
        expect_status="completed",
        expect_mutations=SWITCHOVER_DONE,
        expect_invokes=(health_run(PRIMARY), drainer(DR)),
        # ... and locks in the target region's table, not in its own
        lock_region=PRIMARY,
        expect_lock_state="completed",
    ),
    Scenario(
        name="switchover_to_the_peer_is_blocked_by_the_peer_tables_failed_lock",
        event=manual_event("switchover", PRIMARY),
        writer_region=DR,
        operation="switchover",
        lock=FAILED_LOCK,
        lock_age_seconds=YOUNG,
        lock_region=PRIMARY,
        expect_status="blocked",
        expect_mutations=frozenset({"PutItem", "Publish"}),
        expect_page=True,
        expect_lock_state="failed",
        expect_clear_lock=PRIMARY,
    ),
    # -- both regions' coordinators handle the same switchover at once -----------------------
    Scenario(
        name="two_coordinators_racing_one_switchover_make_one_role_change",
        event=manual_event("switchover"),
        operation="switchover",
        role_change="ok",
        rival="while_ours_waits",
        expect_status="completed",
        expect_mutations=SWITCHOVER_DONE,
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        expect_role_change_calls=1,
        # the rival finds our live lease in the target region's table: not a failure
        expect_rival_status="blocked",
    ),
    Scenario(
        name="rival_taking_the_released_lock_sees_the_new_writer_and_does_nothing",
        event=manual_event("switchover"),
        operation="switchover",
        role_change="ok",
        rival="fresh",
        expect_status="completed",
        expect_mutations=SWITCHOVER_DONE,
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        expect_role_change_calls=1,
        expect_rival_status="no_action",
    ),
    Scenario(
        name="rival_with_a_stale_view_is_rejected_after_our_success_and_does_nothing",
        event=manual_event("switchover"),
        operation="switchover",
        role_change="ok",
        rival="stale",
        expect_status="completed",
        expect_mutations=SWITCHOVER_DONE,
        expect_invokes=PROBE_THEN_DRAIN,
        expect_lock_state="completed",
        # ours, and the rival's that RDS rejected
        expect_role_change_calls=2,
        expect_rival_status="no_action",
        expect_rival_sns=1,
    ),
    # -- RDS events about our own cluster resolve an unconfirmed attempt ----------------------
    Scenario(
        name="rds_failure_event_marks_an_unconfirmed_lock_failed",
        event=rds_event("RDS-EVENT-0239", message="Global failover to DB cluster failed."),
        describes_target=False,
        lock={
            "State": "unconfirmed",
            "Owner": "req-0",
            "Operation": "failover",
            "TargetRegion": DR,
        },
        expect_status="recorded",
        expect_mutations=frozenset({"UpdateItem", "Publish"}),
        expect_page=True,
        expect_lock_state="failed",
        expect_lock_report="failed",
        expect_clear_lock=DR,
    ),
    Scenario(
        name="rds_completion_event_marks_an_unconfirmed_lock_completed",
        event=rds_event("RDS-EVENT-0238"),
        writer_region=DR,
        describes_target=False,
        lock={
            "State": "unconfirmed",
            "Owner": "req-0",
            "Operation": "failover",
            "TargetRegion": DR,
        },
        expect_status="recorded",
        expect_mutations=frozenset({"UpdateItem", "Publish"}),
        expect_lock_state="completed",
        expect_lock_report="completed",
    ),
]


def _over_an_expired_failed_lock(sc: Scenario) -> Scenario:
    """`sc`, a gate's refusal or no-action, with a failed lock older than the bound: the lock
    expiring never weakens a gate (the decision comes first, the lock is not even tried)."""
    return dataclasses.replace(
        sc,
        name=f"{sc.name}__over_an_expired_failed_lock",
        lock=FAILED_LOCK,
        lock_age_seconds=EXPIRED,
        expect_lock_state="failed",
    )


# Each gate that refuses, or holds back for want of a second vantage point, again over an
# expired failed lock (the lag-reading rows are variations of one refusal).
STAYS_REFUSED = (
    "primary_down_lag_over_budget_refuses_and_pages",
    "primary_down_lag_unknown_refuses_and_pages",
    "only_dr_vantage_point_unhealthy_no_action",
    "only_primary_vantage_point_unhealthy_no_action",
    "target_without_available_instance_refuses",
    "out_of_sync_target_refuses_an_alarm_failover",
    "forced_switchover_never_passes_an_out_of_sync_target",
    "switchover_with_unhealthy_writer_refuses",
    "page_with_primary_writer_ok_no_action",
    "page_with_primary_writer_insufficient_data_no_action",
    "page_lag_over_budget_refuses_and_pages",
)


def scenario(name: str) -> Scenario:
    """The row of the decision table called `name`."""
    (found,) = [s for s in SCENARIOS if s.name == name]
    return found


SCENARIOS += [_over_an_expired_failed_lock(scenario(name)) for name in STAYS_REFUSED]


def _given(world: World, sc: Scenario) -> None:
    world.set_alarm(probe_alarm(DR), DR, sc.dr_probe)
    world.set_alarm(writer_alarm(PRIMARY), PRIMARY, sc.primary_writer)
    if sc.primary_api_unreachable:
        world.make_unreachable("cloudwatch", PRIMARY)
        world.make_unreachable("rds", PRIMARY)
    if sc.fresh_probe is not None:
        world.answer_peer_probe(sc.fresh_probe)
    if sc.lag_ms is not None:
        world.put_lag(sc.lag_ms)
    for series in sc.lag_series:
        world.put_lag_series(series)
    if sc.lock is not None:
        updated = {}
        if sc.lock_age_seconds is not None:
            updated["UpdatedAt"] = world.clock.time() - sc.lock_age_seconds
        world.put_lock(sc.lock_region, **sc.lock, **updated)
    if not sc.observes:
        return
    # Alarms and pages always ask for a failover to the coordinator's own region (DR).
    target = sc.event.get("targetRegion", DR) if isinstance(sc.event, dict) else DR
    if sc.rival is not None:
        # The rival observes first (in the primary region), before ours takes its lock.
        world.expect_topology(topology(sc.writer_region), PRIMARY)
        world.expect_cluster(target)
    world.expect_topology(topology(sc.writer_region, sc.failover_state, sync=sc.target_sync))
    if not sc.describes_target:
        return
    world.expect_cluster(target, sc.target_status, sc.target_instances)
    # A failover away from the primary also reads the primary's in-region failover state.
    action = sc.event.get("action", "failover") if isinstance(sc.event, dict) else "failover"
    reads_in_region = action == "failover" and sc.writer_region == PRIMARY != target
    if reads_in_region and not sc.primary_api_unreachable:
        world.expect_in_region(PRIMARY, sc.primary_status, sc.primary_events)
    if sc.role_change is None:
        return
    world.expect_topology(topology(sc.writer_region))  # re-read under the lock
    if sc.role_change == "throttle_then_ok":
        world.expect_role_change_error(sc.operation, "Throttling", target)
    if sc.role_change in REJECTED_THEN_READ:
        world.expect_role_change_error(sc.operation, "InvalidGlobalClusterStateFault", target)
        world.expect_topology(REJECTED_THEN_READ[sc.role_change](target))
        return
    world.expect_role_change(sc.operation, target)
    world.expect_wait(sc.polls_in_progress, completes=sc.completes, target=target)
    _given_rival_after_ours(world, sc, target)


# What the topology shows when read again after RDS rejected the role change.
REJECTED_THEN_READ: dict[str, Callable[[str], dict[str, Any]]] = {
    "error": lambda target: topology(PRIMARY if target == DR else DR),
    "rejected_target_writer": lambda target: topology(target),
    "rejected_other_running": lambda target: topology(
        PRIMARY, failing_over(target, "switching-over")
    ),
}


def _given_rival_after_ours(world: World, sc: Scenario, target: str) -> None:
    """What the rival reads once it has taken the lock ours released."""
    if sc.rival == "fresh":
        world.expect_topology(topology(target), PRIMARY)
    if sc.rival == "stale":
        world.expect_topology(topology(sc.writer_region), PRIMARY)  # under the lock: stale
        world.expect_role_change_error(sc.operation, "InvalidGlobalClusterStateFault", target)
        world.expect_topology(topology(target), PRIMARY)  # read again after the rejection


def _start_rival(world: World, sc: Scenario, event: dict[str, Any]) -> Rival | None:
    """The other region's coordinator on the same event, held before its lock (None: no race).
    Let go when ours first waits for RDS (holding the lock), or after ours finished."""
    if sc.rival is None:
        return None
    rival = Rival(world, event).start()
    if sc.rival == "while_ours_waits":
        world.clock.on_sleep.append(rival.release)
    return rival


@pytest.mark.usefixtures("moto_aws")
@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_decision_table(sc: Scenario) -> None:
    # GIVEN the world of the scenario
    world = World().build()
    _given(world, sc)

    event = _event(sc.event, world)
    rival = _start_rival(world, sc, event)

    # WHEN the coordinator handles the event
    if sc.expect_status == "rejected":
        with pytest.raises(InvalidEvent, match=sc.expect_detail):
            world.run(event, timeout=sc.timeout)
        # THEN nothing at all was called
        assert world.factory.calls == []
        assert world.messages() == []
        return
    result = world.run(event, timeout=sc.timeout)
    rival_result = rival.release() if rival is not None else None

    # THEN the outcome, the mutating calls, the notifications and the lock match the table
    assert result.status == sc.expect_status, result.detail
    assert world.factory.mutations() == sc.expect_mutations
    assert world.factory.invoked() == list(sc.expect_invokes)
    messages = world.messages()
    assert len(messages) == sc.expect_sns
    assert result.page is sc.expect_page
    if messages:
        assert messages[0]["status"] == sc.expect_status
        assert messages[0]["page"] is sc.expect_page
        assert "total_ms" in messages[0]["durationsMs"]
    if sc.expect_lock_state is not None:
        assert world.lock_item(sc.lock_region)["State"] == sc.expect_lock_state
    if sc.expect_detail is not None:
        assert re.search(sc.expect_detail, result.detail), result.detail
    if sc.expect_lag_ms is not None:
        assert result.decision is not None
        (gate,) = [c for c in result.decision.checks if c.name == "lag_within_budget"]
        assert gate.detail.startswith(f"replication lag {sc.expect_lag_ms:.0f} ms"), gate.detail
    if sc.expect_lock_report is not None:
        assert result.lock == sc.expect_lock_report
    if "verdict" in sc.extra:
        assert result.decision is not None
        assert result.decision.verdict.value == sc.extra["verdict"]
    _then_lock_pages(sc, result, messages)
    _then_rival(world, sc, rival_result)
    world.assert_all_stubs_used()


def _then_lock_pages(sc: Scenario, result: Any, messages: list[dict[str, Any]]) -> None:
    """A page about a blocking lock says how to clear it; an override of one says so."""
    if sc.expect_clear_lock is not None:
        command = clear_command(sc.expect_clear_lock)
        assert result.clear_lock is not None and command in result.clear_lock
        assert command in messages[0]["clearLock"]
        assert "python -m drctl unlock" in messages[0]["clearLock"]
    else:
        assert result.clear_lock is None
    if sc.expect_override is not None:
        assert result.lock_override is not None
        assert re.search(sc.expect_override, result.lock_override), result.lock_override
        assert [m["lockOverride"] for m in messages] == [result.lock_override] * len(messages)
    else:
        assert result.lock_override is None


def _then_rival(world: World, sc: Scenario, rival_result: Any) -> None:
    """How many role changes were asked for, and what the rival made of the race."""
    if sc.expect_role_change_calls is not None:
        operations = world.factory.operations()
        calls = operations.count("SwitchoverGlobalCluster") + operations.count(
            "FailoverGlobalCluster"
        )
        assert calls == sc.expect_role_change_calls
    if sc.rival is None:
        return
    assert rival_result.status == sc.expect_rival_status, rival_result.detail
    assert rival_result.page is False
    assert len(world.messages(PRIMARY)) == sc.expect_rival_sns
    for region in (PRIMARY, DR):
        item = world.lock_item(region)
        assert item is None or item["State"] not in ("failed", "unconfirmed"), region


@pytest.mark.usefixtures("moto_aws")
def test_throttled_failover_call_is_sent_twice_with_backoff() -> None:
    # GIVEN a primary outage and an RDS API that throttles the first failover request
    world = World().build()
    _given(world, scenario("api_throttling_is_retried"))

    # WHEN the coordinator fails over
    result = world.run(alarm_event())

    # THEN the request was retried after a backoff sleep and the failover completed
    assert result.status == "completed"
    assert world.factory.operations().count("FailoverGlobalCluster") == 2
    assert world.clock.sleeps[0] == 1.0  # the backoff, then the poll interval
    assert result.durations_ms["role_change_ms"] > 0


@pytest.mark.usefixtures("moto_aws")
def test_completed_failover_reports_decision_durations_and_drain() -> None:
    # GIVEN a primary outage with a small lag
    world = World().build()
    sc = scenario("primary_down_lag_within_budget_fails_over")
    _given(world, sc)

    # WHEN the coordinator fails over
    result = world.run(sc.event)

    # THEN the summary carries the checks, the measured durations and the drain of the old writer
    (message,) = world.messages()
    assert message["decision"]["verdict"] == "proceed"
    assert {c["name"] for c in message["decision"]["checks"]} >= {
        "writer_unhealthy_twice",
        "lag_within_budget",
    }
    assert message["durationsMs"]["role_change_ms"] == pytest.approx(20_000)  # 2 polls x 10 s
    assert message["drain"]["ok"] is True
    assert '"region": "us-east-1"' in message["drain"]["detail"]
    assert {p.name for p in result.metrics()} >= {"FailoverCompleted", "RoleChangeDuration"}


@pytest.mark.usefixtures("moto_aws")
def test_second_concurrent_invocation_is_blocked_by_the_lock() -> None:
    # GIVEN a primary outage and a first invocation that is waiting for the failover to finish
    world = World().build()
    world.set_alarm(probe_alarm(DR), DR, "ALARM")
    world.set_alarm(writer_alarm(PRIMARY), PRIMARY, "ALARM")
    world.put_lag(500)
    world.expect_topology(topology())
    world.expect_cluster(DR)
    world.expect_in_region()
    world.expect_topology(topology())
    world.expect_role_change("failover")
    world.expect_topology(topology(PRIMARY, failing_over(DR)))  # first poll, then it sleeps
    # The second invocation still sees an idle topology (the race the lock exists for).
    world.expect_topology(topology())
    world.expect_cluster(DR)
    world.expect_in_region()
    world.expect_topology(topology(DR))  # the first invocation's next poll: done
    second: list[Any] = []

    def second_invocation() -> None:
        if not second:
            second.append(world.run(alarm_event(), request_id="req-2"))

    world.clock.on_sleep.append(second_invocation)

    # WHEN the second invocation runs while the first one sleeps between polls
    first = world.run(alarm_event(), request_id="req-1")

    # THEN only the first failed over; the second was blocked without notifying
    assert first.status == "completed"
    assert second[0].status == "blocked"
    assert "owner req-1" in second[0].detail
    assert world.factory.operations().count("FailoverGlobalCluster") == 1
    assert [m["status"] for m in world.messages()] == ["completed"]
    world.assert_all_stubs_used()


@pytest.mark.usefixtures("moto_aws")
def test_failure_mid_way_is_not_repeated_by_the_next_trigger() -> None:
    # GIVEN a failover that the RDS API rejected mid-way
    world = World().build()
    sc = scenario("failure_mid_way_is_reported_and_recorded")
    _given(world, sc)
    first = world.run(sc.event)
    assert first.status == "failed"
    assert not first.ok
    world.messages()

    # WHEN the alarm fires again (the topology still shows the old writer)
    world.expect_topology(topology())
    world.expect_cluster(DR)
    world.expect_in_region()
    again = world.run(alarm_event(), request_id="req-2")

    # THEN the failover is not attempted again: the failed lock blocks it and pages, saying how
    # to clear it
    assert again.status == "blocked"
    assert world.factory.operations().count("FailoverGlobalCluster") == 1
    (message,) = world.messages()
    assert message["page"] is True
    assert "failed" in message["lock"]
    assert clear_command(DR) in message["clearLock"]
    assert world.lock_item()["Owner"] == "req-1"
    world.assert_all_stubs_used()

    # WHEN the outage is still there once the block has run out (nobody cleared the lock)
    world.clock.advance(BLOCK_SECONDS + 1)
    world.put_lag(500)
    _outage_failover(world)
    later = world.run(alarm_event(), request_id="req-3")

    # THEN the automatic failover proceeds, and says it overrode the expired failed lock
    assert later.status == "completed", later.detail
    assert later.lock_override is not None
    assert later.lock_override.startswith("overrode an expired failed lock: lock aurora-dr-dev")
    assert "owner req-1" in later.lock_override
    assert world.lock_item()["State"] == "completed"
    world.assert_all_stubs_used()


def _outage_failover(world: World, target: str = DR) -> None:
    """Queue the RDS answers of an unplanned failover towards `target` that completes."""
    writer = PRIMARY if target == DR else DR
    world.expect_topology(topology(writer), target)
    world.expect_cluster(target)
    world.expect_topology(topology(writer), target)
    world.expect_role_change("failover", target)
    world.expect_wait(1, completes=True, target=target)


@pytest.mark.usefixtures("moto_aws")
def test_a_race_leaves_nothing_that_blocks_a_later_outage_failing_back() -> None:
    # GIVEN both coordinators raced one switchover to DR (the rival's call rejected after ours)
    world = World().build()
    race = scenario("rival_with_a_stale_view_is_rejected_after_our_success_and_does_nothing")
    _given(world, race)
    rival = Rival(world, race.event).start()
    assert world.run(race.event).status == "completed"
    assert rival.release().status == "no_action"
    world.assert_all_stubs_used()

    # WHEN, a day later, the DR region (now the writer) is lost, seen from the primary region
    world.clock.advance(86_400)
    world.set_alarm(probe_alarm(PRIMARY), PRIMARY, "ALARM")
    world.set_alarm(writer_alarm(DR), DR, "ALARM")
    world.put_lag(500, PRIMARY)
    _outage_failover(world, target=PRIMARY)
    back = world.run(alarm_event(region=PRIMARY), region=PRIMARY, request_id="req-later")

    # THEN the primary region's coordinator fails over back automatically: no lock stands in
    # the way, in either region's table
    assert back.status == "completed", back.detail
    assert back.lock_override is None
    assert world.factory.operations().count("FailoverGlobalCluster") == 1
    assert world.lock_item(PRIMARY)["State"] == "completed"
    assert world.lock_item(DR)["State"] == "completed"
    world.assert_all_stubs_used()


@pytest.mark.usefixtures("moto_aws")
def test_rds_event_is_recorded_and_never_triggers_a_failover() -> None:
    # GIVEN an earlier failover whose completion was not seen in time
    world = World().build()
    world.put_lock(State="unconfirmed", Owner="req-1", Operation="failover", TargetRegion=DR)
    world.expect_topology(topology(DR))

    # WHEN RDS reports the global failover as finished
    result = world.run(rds_event("RDS-EVENT-0185"))

    # THEN it is notified, the lock is resolved, and no RDS mutation happened
    assert result.status == "recorded"
    assert world.factory.mutations() == {"UpdateItem", "Publish"}
    assert world.lock_item()["State"] == "completed"
    (message,) = world.messages()
    assert message["rdsEventId"] == "RDS-EVENT-0185"
    world.assert_all_stubs_used()


@pytest.mark.usefixtures("moto_aws")
def test_rds_event_for_another_cluster_leaves_the_lock_alone() -> None:
    # GIVEN an unconfirmed lock
    world = World().build()
    world.put_lock(State="unconfirmed", Owner="req-1", Operation="failover", TargetRegion=DR)
    world.expect_topology(topology())

    # WHEN an RDS failure event about some other cluster arrives
    result = world.run(rds_event("RDS-EVENT-0239", source_id="someone-elses-cluster"))

    # THEN it is only notified (paging: a failed failover), the lock is untouched
    assert result.status == "recorded"
    assert result.page is True
    assert world.factory.mutations() == {"Publish"}
    assert world.lock_item()["State"] == "unconfirmed"


BAD_EVENTS = [
    pytest.param("not a dict", "event must be a JSON object, got str", id="not_an_object"),
    pytest.param({}, "unrecognised event: expected an EventBridge alarm", id="empty"),
    pytest.param(
        {"source": "aws.ec2", "detail": {}},
        "unsupported event source 'aws.ec2'",
        id="unknown_source",
    ),
    pytest.param(
        {"action": "promote", "targetRegion": DR},
        "action must be 'switchover' or 'failover', got 'promote'",
        id="unknown_action",
    ),
    pytest.param(
        {"action": "failover", "targetRegion": "eu-west-1"},
        "targetRegion must be one of .*, got 'eu-west-1'",
        id="foreign_region",
    ),
    pytest.param(
        {"action": "failover", "targetRegion": DR, "dryrun": True},
        r"unknown key\(s\) dryrun in manual request",
        id="misspelt_key",
    ),
    pytest.param(
        {"action": "failover", "targetRegion": DR, "dryRun": "yes"},
        "dryRun must be a JSON boolean, got 'yes'",
        id="string_bool",
    ),
    pytest.param(
        alarm_event(name="someone-elses-alarm"),
        "alarm 'someone-elses-alarm' is not this coordinator's trigger alarm",
        id="foreign_alarm",
    ),
    pytest.param(
        {**alarm_event(), "detail-type": "Scheduled Event"},
        "unsupported CloudWatch event detail-type 'Scheduled Event'",
        id="wrong_detail_type",
    ),
    pytest.param(
        {**alarm_event(), "detail": {"alarmName": probe_alarm(DR)}},
        "alarm event has no detail.state.value",
        id="no_state",
    ),
    pytest.param(
        {"source": "aws.rds", "detail-type": "RDS DB Cluster Event"},
        "EventBridge event has no 'detail' object",
        id="rds_no_detail",
    ),
    # Pages: rejected on their shape or regions, whatever their timestamp.
    pytest.param(
        {**page_event(0), "id": "x"},
        r"unknown key\(s\) id in peer-watch page",
        id="page_extra_key",
    ),
    pytest.param(
        {**page_event(0), "detail-type": "Peer Writer Lost"},
        "unsupported peer-watch page detail-type 'Peer Writer Lost'",
        id="page_detail_type",
    ),
    pytest.param(
        page_event(0, region=PRIMARY, peer_region=DR),
        f"page from the peer watch in '{PRIMARY}', but the coordinator runs in '{DR}'",
        id="page_from_other_region",
    ),
    pytest.param(
        {**page_event(0), "detail": "down"},
        "EventBridge event has no 'detail' object",
        id="page_detail_not_object",
    ),
]


@pytest.mark.usefixtures("moto_aws")
@pytest.mark.parametrize(("event", "message"), BAD_EVENTS)
def test_malformed_or_unknown_event_is_rejected_without_any_aws_call(
    event: Any, message: str
) -> None:
    # GIVEN a healthy world
    world = World().build(drainers=False)

    # WHEN a malformed or unknown event arrives / THEN the error says what is wrong
    with pytest.raises(InvalidEvent, match=message):
        world.run(event)

    # ... and no AWS call at all was made
    assert world.factory.calls == []


@pytest.mark.usefixtures("moto_aws")
def test_handler_runs_end_to_end_and_emits_metrics(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the handler wired to the test world through its module-level seams
    world = World().build()
    _given(world, scenario("primary_down_lag_within_budget_fails_over"))
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "CLIENT_FACTORY", world.factory)
    monkeypatch.setattr(handler, "CLOCK", world.clock)

    # WHEN EventBridge invokes the function
    out = handler.lambda_handler(alarm_event(), world.context())

    # THEN it returns the JSON summary and flushes EMF metrics for the environment
    assert out["status"] == "completed"
    assert out["ok"] is True
    assert out["decision"]["targetArn"].endswith(f":cluster:{DR_CLUSTER}")
    emitted = capsys.readouterr().out
    assert '"FailoverCompleted"' in emitted
    assert '"PostPromotionProbeDuration"' in emitted
    assert '"Environment": "dev"' in emitted or '"Environment":"dev"' in emitted


@pytest.mark.usefixtures("moto_aws")
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_handler_rejects_a_bad_event_before_touching_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the handler with a recording client factory
    world = World().build(drainers=False)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "CLIENT_FACTORY", world.factory)
    monkeypatch.setattr(handler, "CLOCK", world.clock)

    # WHEN a request names an unknown action
    with pytest.raises(InvalidEvent, match="action must be"):
        handler.lambda_handler({"action": "nuke", "targetRegion": DR}, world.context())

    # THEN nothing was called
    assert world.factory.calls == []


@pytest.mark.usefixtures("moto_aws")
def test_state_is_re_read_under_the_lock_before_acting() -> None:
    # GIVEN a primary outage, but another actor starts a failover right after we observed
    world = World().build()
    world.set_alarm(probe_alarm(DR), DR, "ALARM")
    world.set_alarm(writer_alarm(PRIMARY), PRIMARY, "ALARM")
    world.put_lag(500)
    world.expect_topology(topology())
    world.expect_cluster(DR)
    world.expect_in_region()
    world.expect_topology(topology(PRIMARY, failing_over(DR)))  # the re-read under the lock

    # WHEN the coordinator runs
    result = world.run(alarm_event())

    # THEN it does not start a second operation and frees the lock
    assert result.status == "no_action"
    assert "FailoverGlobalCluster" not in world.factory.operations()
    assert world.lock_item()["State"] == "completed"
    world.assert_all_stubs_used()


@pytest.mark.usefixtures("moto_aws")
def test_no_lock_table_means_no_failover() -> None:
    # GIVEN a primary outage but the lock table is missing (a wiring fault)
    world = World().build()
    client("dynamodb", DR).delete_table(TableName=LOCK_TABLE)
    world.set_alarm(probe_alarm(DR), DR, "ALARM")
    world.set_alarm(writer_alarm(PRIMARY), PRIMARY, "ALARM")
    world.put_lag(500)
    world.expect_topology(topology())
    world.expect_cluster(DR)
    world.expect_in_region()

    # WHEN the coordinator runs
    result = world.run(alarm_event())

    # THEN it refuses to act without the lock, and pages
    assert result.status == "failed"
    assert "could not take the failover lock" in result.detail
    assert world.factory.mutations() == {"PutItem", "Publish"}
    assert world.messages()[0]["page"] is True


# -- the health checker's page ------------------------------------------------------------------


@pytest.mark.usefixtures("moto_aws")
def test_page_is_reported_with_its_trigger_and_observation_time() -> None:
    # GIVEN a primary outage seen by the primary's own writer alarm, the DR probe alarm still OK
    world = World().build()
    sc = scenario("page_with_primary_writer_alarm_fails_over")
    _given(world, sc)
    event = fresh_page(world.clock.time())

    # WHEN the DR peer watch pages the coordinator
    result = world.run(event)

    # THEN the failover ran, and the summary says it was a page, seen when, and why it counted
    assert result.status == "completed"
    (message,) = world.messages()
    assert message["request"]["trigger"] == "page"
    assert message["request"]["observedAt"] == event["detail"]["observedAt"]
    (gate,) = [c for c in message["decision"]["checks"] if c["name"] == "writer_unhealthy_twice"]
    assert gate["passed"] is True
    assert "probe alarm in us-west-2: OK (paged by the peer watch" in gate["detail"]
    world.assert_all_stubs_used()


@pytest.mark.usefixtures("moto_aws")
def test_stale_page_says_why_and_touches_nothing() -> None:
    # GIVEN a page that waited in the async queue for more than five minutes
    world = World().build()

    # WHEN it is finally delivered
    result = world.run(stale_page(world.clock.time()))

    # THEN it is ignored with the reason, before any AWS call, and nobody is mailed
    assert result.status == "ignored"
    assert re.search(r"stale page: observed at .*, 301 s ago", result.detail)
    assert world.factory.calls == []


# -- probing the new writer right after the promotion -------------------------------------------


def _primary_outage(world: World, *, polls: int = 2) -> None:
    """GIVEN both vantage points see the primary writer down; the failover completes."""
    world.set_alarm(probe_alarm(DR), DR, "ALARM")
    world.set_alarm(writer_alarm(PRIMARY), PRIMARY, "ALARM")
    world.put_lag(500)
    world.expect_topology(topology())
    world.expect_cluster(DR)
    world.expect_in_region()
    world.expect_topology(topology())
    world.expect_role_change("failover")
    world.expect_wait(polls, completes=True)


def _lambda_configs(world: World, region: str) -> list[Any]:
    return [c for service, r, c in world.factory.configs if service == "lambda" and r == region]


@pytest.mark.usefixtures("moto_aws")
def test_completed_failover_probes_the_new_writer_once_before_draining() -> None:
    # GIVEN a primary outage, and a health checker that takes 4 s to run
    world = World().build()
    _primary_outage(world)
    world.factory("lambda", DR).meta.events.register(
        "before-call.lambda.Invoke", lambda **_: world.clock.advance(4.0)
    )
    world.factory.configs.clear()

    # WHEN the coordinator fails over
    result = world.run(alarm_event())

    # THEN the DR health checker ran exactly once, synchronously with an empty event, after the
    # role change was confirmed and before the old writer was drained
    assert result.status == "completed"
    requests = world.factory.requests
    confirming_poll = max(i for i, r in enumerate(requests) if r[2] == "DescribeGlobalClusters")
    post_promotion = [
        i
        for i, r in enumerate(requests)
        if r[2] == "Invoke" and r[3]["Payload"] == HEALTH_RUN_PAYLOAD
    ]
    assert post_promotion and min(post_promotion) > confirming_poll
    assert world.factory.invoked() == [health_run(DR), drainer(PRIMARY)]
    (probe_call,) = [
        params
        for service, region, op, params in world.factory.requests
        if op == "Invoke" and region == DR and params["Payload"] == HEALTH_RUN_PAYLOAD
    ]
    assert probe_call == {
        "FunctionName": health_run(DR),
        "InvocationType": "RequestResponse",
        "Payload": HEALTH_RUN_PAYLOAD,
    }
    # ... through a one-attempt client whose read timeout is the 25 s cap (after the decision's
    # fresh probe, which has its own)
    fresh, config = _lambda_configs(world, DR)
    assert fresh.read_timeout == world.settings.peer_probe_timeout_seconds
    assert config.read_timeout == 25.0
    assert config.retries["total_max_attempts"] == 1
    # ... and it is reported, timed and turned into a metric like the drain
    assert result.probe is not None and result.probe.ok
    assert result.durations_ms["probe_ms"] == pytest.approx(4000)
    (message,) = world.messages()
    assert message["probe"] == {"ok": True, "detail": '{"health": "run"}', "seconds": 4.0}
    assert message["durationsMs"]["probe_ms"] == 4000.0
    points = {p.name: p.value for p in result.metrics()}
    assert points["PostPromotionProbeDuration"] == pytest.approx(4000)
    world.assert_all_stubs_used()


@pytest.mark.usefixtures("moto_aws")
def test_probe_budget_fits_the_remaining_lambda_time() -> None:
    # GIVEN a 60 s function: 40 s after the reserve, 20 s of which the role change takes
    world = World().build()
    _primary_outage(world)

    # WHEN the coordinator fails over
    result = world.run(alarm_event(), timeout=60.0)

    # THEN the probe's client read timeout is what is left (20 s), not the 25 s cap
    assert result.status == "completed"
    _fresh, config = _lambda_configs(world, DR)
    assert config.read_timeout == pytest.approx(20.0)
    assert config.connect_timeout == 3.0


@pytest.mark.usefixtures("moto_aws")
def test_no_time_left_skips_the_probe_and_still_completes() -> None:
    # GIVEN a function whose time (after the reserve) runs out as the role change completes
    world = World().build()
    _primary_outage(world)

    # WHEN the coordinator fails over with 20.5 s of budget: 20 s of waiting, 0.5 s left
    result = world.run(alarm_event(), timeout=40.5)

    # THEN nothing is invoked, the skip is reported, the failover is still completed
    assert result.status == "completed"
    assert world.factory.invoked() == []
    assert result.probe is not None
    assert result.probe.ok is False
    assert result.probe.detail.startswith("skipped")
    assert world.lock_item()["State"] == "completed"


def _failed_fresh_probe(stubber: Any) -> None:
    """The decision's fresh probe (the first invoke): the primary writer does not answer."""
    body = json.dumps(peer_answer(ok=False, error="timed out")).encode()
    stubber.add_response(
        "invoke",
        {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))},
        {
            "FunctionName": health_checker(DR),
            "InvocationType": "RequestResponse",
            "Payload": json.dumps(contract.PEER_PROBE_EVENT).encode(),
        },
    )


def _function_error(world: World) -> None:
    stubber = world.factory.stubbed("lambda", DR)
    _failed_fresh_probe(stubber)
    body = b'{"errorMessage": "no CA bundle", "errorType": "SettingsError"}'
    stubber.add_response(
        "invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": StreamingBody(io.BytesIO(body), len(body)),
        },
        {
            "FunctionName": health_run(DR),
            "InvocationType": "RequestResponse",
            "Payload": HEALTH_RUN_PAYLOAD,
        },
    )


def _api_error(world: World) -> None:
    stubber = world.factory.stubbed("lambda", DR)
    _failed_fresh_probe(stubber)
    stubber.add_client_error(
        "invoke",
        service_error_code="ResourceNotFoundException",
        service_message="Function not found",
        http_status_code=404,
    )


def _read_timeout(world: World) -> None:
    def time_out(request: Any, **_: Any) -> None:
        if request.body != HEALTH_RUN_PAYLOAD:
            return  # the decision's fresh probe: moto answers it
        world.clock.advance(25.0)
        raise ReadTimeoutError(endpoint_url=request.url)

    lambda_dr = world.factory.new_client("lambda", DR)
    lambda_dr.meta.events.register_first("before-send.lambda.Invoke", time_out)
    world.factory.overrides[("lambda", DR)] = lambda_dr


@pytest.mark.usefixtures("moto_aws")
@pytest.mark.parametrize(
    ("break_checker", "expect_detail"),
    [
        pytest.param(_function_error, "health run reported Unhandled", id="function_error"),
        pytest.param(_api_error, "ResourceNotFoundException", id="api_error"),
        pytest.param(_read_timeout, "Read timeout", id="read_timeout"),
    ],
)
def test_failed_probe_is_reported_and_never_fails_the_failover(
    break_checker: Callable[[World], None], expect_detail: str
) -> None:
    # GIVEN a primary outage and a DR health checker that fails
    world = World().build()
    _primary_outage(world)
    break_checker(world)

    # WHEN the coordinator fails over
    result = world.run(alarm_event())

    # THEN the failover is completed and the old writer drained; the probe failure is reported
    assert result.status == "completed"
    assert result.ok
    assert world.lock_item()["State"] == "completed"
    assert world.factory.invoked() == [health_run(DR), drainer(PRIMARY)]
    (message,) = world.messages()
    assert message["ok"] is True
    assert message["probe"]["ok"] is False
    assert expect_detail in message["probe"]["detail"]
    assert message["drain"]["ok"] is True
    assert "probe_ms" in message["durationsMs"]


@pytest.mark.usefixtures("moto_aws")
def test_without_health_checker_names_nothing_is_probed() -> None:
    # GIVEN a stack that does not wire the health checkers' and health runs' names
    env = {k: v for k, v in ENV.items() if "HEALTH_CHECKER" not in k and "HEALTH_RUN" not in k}
    world = World(settings=Settings.from_env(env)).build()
    _primary_outage(world)

    # WHEN the coordinator fails over
    result = world.run(alarm_event())

    # THEN only the drainer is invoked, and the summary has no probe
    assert result.status == "completed"
    assert world.factory.invoked() == [drainer(PRIMARY)]
    (message,) = world.messages()
    assert "probe" not in message
    assert "probe_ms" not in message["durationsMs"]
    assert "PostPromotionProbeDuration" not in {p.name for p in result.metrics()}


@pytest.mark.usefixtures("moto_aws")
def test_unexpected_probe_error_does_not_fail_a_completed_failover(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a primary outage, and a probe that breaks in a way nobody anticipated
    world = World().build()
    _primary_outage(world)

    def broken(*_: Any, **__: Any) -> None:
        raise KeyError("Payload")

    monkeypatch.setattr(actions, "probe_new_writer", broken)

    # WHEN the coordinator fails over
    result = world.run(alarm_event())

    # THEN the role change stays completed (not "failed" on the lock), the drain still runs
    assert result.status == "completed"
    assert world.lock_item()["State"] == "completed"
    assert result.probe is not None and not result.probe.ok
    assert "probe error" in result.probe.detail
    assert world.factory.invoked() == [drainer(PRIMARY)]


# -- a black-holed primary region: the decision stays within its modeled budget ---------------


def registered_timing(plan: Any) -> dict[str, str]:
    """The DR coordinator's registered call budgets and probe timeout, from a stack's plan."""
    from lambdas.drcommon.contract import CoordinatorEnv

    (coordinator,) = [
        f
        for f in plan.of_type("aws:lambda/function:Function")
        if f.region == DR and f.inputs["handler"].startswith("failover_coordinator.")
    ]
    variables = coordinator.inputs["environment"]["variables"]
    names = (
        CoordinatorEnv.PEER_PROBE_TIMEOUT_SECONDS,
        CoordinatorEnv.REMOTE_CONNECT_TIMEOUT_SECONDS,
        CoordinatorEnv.REMOTE_READ_TIMEOUT_SECONDS,
        CoordinatorEnv.REMOTE_MAX_ATTEMPTS,
    )
    return {str(name): variables[name] for name in names}


def _black_hole(world: World, service: str, region: str, join: Any, started: float) -> None:
    """Every `service` call in `region` connects and then hears nothing until its timeouts, as
    many attempts as the client may make (botocore's longest backoff between them)."""
    from drcommon.contract import worst_case_call_seconds

    hung = world.factory.new_client(service, region)

    def hang(request: Any, **_: Any) -> None:
        config = world.factory.last_config(service, region)
        attempts = config.retries["total_max_attempts"]
        join.wait(timeout=5)
        seconds = worst_case_call_seconds(config.connect_timeout, config.read_timeout, attempts)
        world.clock.advance_to(started + seconds)
        raise ConnectTimeoutError(endpoint_url=request.url)

    hung.meta.events.register_first(f"before-send.{service}", hang)
    world.factory.overrides[(service, region)] = hung
    if service == "rds":
        world.rds.pop(region, None)  # no Stubber answers there any more


def _failover_world(settings: Settings) -> World:
    """A world whose DR coordinator, once it decides, fails over in one poll."""
    world = World(settings=settings).build()
    world.set_alarm(probe_alarm(DR), DR, "OK")
    world.put_lag(500)
    world.expect_topology(topology())
    world.expect_cluster(DR)
    world.expect_topology(topology())
    world.expect_role_change("failover")
    world.expect_wait(1, completes=True)
    return world


@pytest.mark.usefixtures("moto_aws")
def test_a_black_holed_primary_api_still_decides_within_the_modeled_decision_budget(plans):
    import threading

    from drcommon.contract import worst_case_call_seconds
    from drplan.budget import recovery_budget

    # GIVEN the DR coordinator with prod's registered call budgets, a page from the DR watch,
    # and a primary region whose APIs hang until each call's timeout; the fresh probe of the
    # primary writer times out at its own registered timeout. The three start together (the
    # barrier holds each until all three have started: read in turn, they never would).
    settings = Settings.from_env({**ENV, **registered_timing(plans["prod"])})
    world = _failover_world(settings)
    join, started = threading.Barrier(3), world.clock.monotonic()
    _black_hole(world, "cloudwatch", PRIMARY, join, started)
    _black_hole(world, "rds", PRIMARY, join, started)
    probe_timeout = settings.peer_probe_timeout_seconds

    def fresh_probe_times_out(params: dict[str, Any], **_: Any) -> Any:
        if json.loads(params["body"]) != contract.PEER_PROBE_EVENT:
            return None
        join.wait(timeout=5)
        world.clock.advance_to(started + probe_timeout)
        raise ReadTimeoutError(endpoint_url=params["url"])

    world.factory("lambda", DR).meta.events.register_first(
        "before-call.lambda.Invoke", fresh_probe_times_out
    )

    # WHEN the page arrives
    result = world.run(fresh_page(world.clock.time()))

    # THEN the failover is decided (an unanswering region is evidence, not a reason to stop)
    assert result.status == "completed", result.detail
    assert not join.broken
    # ... every client into the primary region had the registered remote budget
    for service in ("cloudwatch", "rds"):
        config = world.factory.last_config(service, PRIMARY)
        assert (config.connect_timeout, config.read_timeout) == (
            settings.remote.connect_timeout_seconds,
            settings.remote.read_timeout_seconds,
        )
        assert config.retries["total_max_attempts"] == settings.remote.max_attempts
    # ... after the slowest of the three reads, not their sum
    decided = result.durations_ms["decision_ms"] / 1000
    remote = worst_case_call_seconds(
        settings.remote.connect_timeout_seconds,
        settings.remote.read_timeout_seconds,
        settings.remote.max_attempts,
    )
    assert decided == pytest.approx(max(remote, probe_timeout))
    # ... within what the plan models for prod's decision (the page's delivery aside)
    decision = recovery_budget(plans["prod"]).unplanned.phases[1]
    modeled = sum(p.seconds for p in decision.parts if "pages the coordinator" not in p.label)
    assert decided <= modeled
