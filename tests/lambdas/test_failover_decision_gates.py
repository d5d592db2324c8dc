"""The coordinator's pure decision, one row per gate: which gate stops a request, with which
verdict, whether a human is paged, and the exact reason the page and the stored summary carry.

The Scenario table in `test_failover_coordinator.py` drives the whole handler; this table pins
what an operator reads: the failing gate's name and detail, the gates that passed before it (in
order, each with its detail), and the ARNs the summary names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_fixtures import DR, GID, PRIMARY, cluster_arn, global_cluster_response, member

from drcommon import topology
from drcommon.inregion import InRegionView
from drcommon.peerprobe import PeerProbe, ProbeOutcome
from failover_coordinator.decision import (
    AlarmState,
    Check,
    LagReading,
    Observations,
    Operation,
    Policy,
    Request,
    Trigger,
    Verdict,
    decide,
)

P_ARN, D_ARN = cluster_arn(PRIMARY, "p"), cluster_arn(DR, "d")
NOW = 1_800_000_000.0
POLICY = Policy(lag_budget_ms=5000, in_region_excuse_seconds=60)
FAILOVER = Request(Operation.FAILOVER, DR, Trigger.ALARM)
SWITCHOVER = Request(Operation.SWITCHOVER, DR, Trigger.MANUAL)
BOTH_ALARMING = f"probe alarm in {DR}: ALARM; writer alarm in {PRIMARY}: ALARM"
BOTH_OK = f"probe alarm in {DR}: OK; writer alarm in {PRIMARY}: OK"


def snapshot(members: list[dict[str, Any]], **extra: Any) -> topology.GlobalClusterSnapshot:
    """The global cluster as `describe_global_clusters` would show it."""
    response = global_cluster_response(GID, members, **extra)
    return topology.parse_global_cluster(response["GlobalClusters"][0])


TWO_MEMBERS = [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False)]
HEALTHY_TARGET = topology.ClusterStatus(
    "d", D_ARN, DR, "available", (topology.InstanceStatus("d-1", "available", True),)
)


def observations(**changes: Any) -> Observations:
    """A writer lost from both vantage points, a healthy in-sync target, lag 1000 ms."""
    base = Observations(
        topology=snapshot(TWO_MEMBERS),
        target_cluster=HEALTHY_TARGET,
        target_probe_alarm=AlarmState.ALARM,
        writer_alarm=AlarmState.ALARM,
        lag=LagReading(1000),
        observed_at=NOW,
    )
    return dataclasses.replace(base, **changes)


# The gates' passing details for the baseline observations, in order.
COMMON_PASSED = (
    Check("no_failover_in_progress", True, "global cluster idle"),
    Check("target_member", True, D_ARN),
    Check("target_not_writer", True, f"writer is {P_ARN}"),
    Check("writer_known", True, P_ARN),
    Check("target_available", True, "d available, 1 available instance(s)"),
    Check("target_in_sync", True, "synchronization status connected"),
)
FAILOVER_PASSED = (
    *COMMON_PASSED,
    Check("writer_unhealthy_twice", True, BOTH_ALARMING),
    Check("writer_not_failing_over_in_region", True, "in-region failover state not read"),
    Check(
        "writer_still_lost",
        True,
        "no fresh probe (no health checker configured in the target region)",
    ),
    Check("lag_within_budget", True, "replication lag 1000 ms, budget 5000 ms"),
)


@dataclass(frozen=True)
class Stop:
    """One row: a request and what it sees, and the gate that must stop it."""

    name: str
    request: Request
    changes: dict[str, Any] = field(default_factory=dict)
    verdict: Verdict = Verdict.REFUSED
    page: bool = True
    gate: str = ""
    reason: str = ""
    source_arn: str | None = P_ARN
    target_arn: str | None = D_ARN


STOPS = (
    Stop(
        "a role change already running",
        FAILOVER,
        {
            "topology": snapshot(
                TWO_MEMBERS,
                failover_state={
                    "Status": "failing-over",
                    "FromDbClusterArn": P_ARN,
                    "ToDbClusterArn": D_ARN,
                    "IsDataLossAllowed": True,
                },
            )
        },
        Verdict.NO_ACTION,
        False,
        "no_failover_in_progress",
        f"a global failing-over is already running ({P_ARN} -> {D_ARN}); not starting another",
    ),
    Stop(
        "no member in the target region",
        FAILOVER,
        {"topology": snapshot([member(PRIMARY, "p", writer=True)])},
        Verdict.REFUSED,
        True,
        "target_member",
        f"global cluster {GID} has no member in {DR}",
        target_arn=None,
    ),
    Stop(
        "the target already writes",
        FAILOVER,
        {"topology": snapshot([member(PRIMARY, "p", writer=False), member(DR, "d", writer=True)])},
        Verdict.NO_ACTION,
        False,
        "target_not_writer",
        f"d in {DR} already holds the writer role",
        source_arn=D_ARN,
    ),
    Stop(
        "no writer at all",
        FAILOVER,
        {"topology": snapshot([member(PRIMARY, "p", writer=False), member(DR, "d", writer=False)])},
        Verdict.REFUSED,
        True,
        "writer_known",
        f"global cluster {GID} reports no writer member; needs an operator (a detached cluster "
        "may have to be promoted with RemoveFromGlobalCluster)",
        source_arn=None,
    ),
    Stop(
        "the target cluster not described",
        FAILOVER,
        {"target_cluster": None},
        Verdict.REFUSED,
        True,
        "target_available",
        "target cluster d could not be described",
    ),
    Stop(
        "the target without an available instance",
        FAILOVER,
        {
            "target_cluster": dataclasses.replace(
                HEALTHY_TARGET,
                status="modifying",
                instances=(topology.InstanceStatus("d-1", "rebooting", True),),
            )
        },
        Verdict.REFUSED,
        True,
        "target_available",
        "target cluster d is modifying with 0 available instance(s)",
    ),
    Stop(
        "the target out of sync",
        SWITCHOVER,
        {
            "topology": snapshot(
                [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False, sync="pending")]
            )
        },
        Verdict.REFUSED,
        True,
        "target_in_sync",
        "target d synchronization status is pending",
    ),
    Stop(
        "one vantage point only",
        FAILOVER,
        {"writer_alarm": AlarmState.OK},
        Verdict.NO_ACTION,
        False,
        "writer_unhealthy_twice",
        "the writer is not unhealthy from both vantage points "
        f"(probe alarm in {DR}: ALARM; writer alarm in {PRIMARY}: OK); not failing over",
    ),
    Stop(
        "Aurora failing over in-region",
        FAILOVER,
        {"in_region": InRegionView(status="available", started_at=NOW - 20)},
        Verdict.NO_ACTION,
        False,
        "writer_not_failing_over_in_region",
        f"p in {PRIMARY}: in-region failover running for 20 s (seen by its start event): Aurora "
        "restores service in-region within 60 s; not failing the global database over",
    ),
    Stop(
        "the writer answers again",
        FAILOVER,
        {"fresh_probe": PeerProbe(ProbeOutcome.WRITER, "answered SELECT 1 as writer", 0.2)},
        Verdict.REFUSED,
        False,
        "writer_still_lost",
        f"the writer recovered: a fresh probe from {DR} found it answering (answered SELECT 1 "
        "as writer) after the alarm was raised; not failing over",
    ),
    Stop(
        "lag over the budget",
        FAILOVER,
        {"lag": LagReading(5001)},
        Verdict.REFUSED,
        True,
        "lag_within_budget",
        "replication lag 5001 ms, budget 5000 ms: failing over could lose more data than "
        "allowed; an operator must decide (re-run with force)",
    ),
    Stop(
        "lag unknown",
        FAILOVER,
        {"lag": LagReading(None)},
        Verdict.REFUSED,
        True,
        "lag_within_budget",
        "replication lag unknown (no datapoints), budget 5000 ms: failing over could lose more "
        "data than allowed; an operator must decide (re-run with force)",
    ),
    Stop(
        "a switchover from an unhealthy writer",
        SWITCHOVER,
        {"target_probe_alarm": AlarmState.OK},
        Verdict.REFUSED,
        True,
        "writer_healthy",
        "a switchover needs a healthy writer "
        f"(probe alarm in {DR}: OK; writer alarm in {PRIMARY}: ALARM); use a failover instead",
    ),
)


@pytest.mark.parametrize("row", STOPS, ids=[row.name for row in STOPS])
def test_each_gate_stops_with_its_verdict_page_and_reason(row: Stop) -> None:
    # GIVEN the request and what the coordinator saw / WHEN it decides
    decision = decide(row.request, observations(**row.changes), POLICY)

    # THEN the row's gate stops it, with the reason the page and the summary carry
    assert (decision.verdict, decision.page, decision.operation) == (row.verdict, row.page, None)
    *passed, stopped = decision.checks
    assert stopped == Check(row.gate, False, row.reason)
    assert decision.reason == row.reason
    # ... every gate before it passed, in the documented order, and none after it ran
    order = FAILOVER_PASSED if row.request.operation is Operation.FAILOVER else COMMON_PASSED
    assert [c.name for c in passed] == [c.name for c in order[: len(passed)]]
    assert all(c.passed for c in passed)
    assert decision.source_arn == row.source_arn and decision.target_arn == row.target_arn


def test_a_failover_that_passes_every_gate_records_each_with_its_detail() -> None:
    # GIVEN a writer lost from both vantage points / WHEN deciding / THEN proceed, and the
    # summary lists every gate in order with what it saw
    decision = decide(FAILOVER, observations(), POLICY)
    assert decision.verdict is Verdict.PROCEED and decision.page is False
    assert decision.operation is Operation.FAILOVER
    assert decision.checks == FAILOVER_PASSED
    assert decision.reason == f"failover p ({PRIMARY}) -> d ({DR})"
    assert (decision.source_arn, decision.target_arn) == (P_ARN, D_ARN)


def test_a_switchover_that_passes_every_gate_records_each_with_its_detail() -> None:
    # GIVEN a healthy writer / WHEN an operator switches over / THEN proceed with seven checks
    healthy = observations(target_probe_alarm=AlarmState.OK, writer_alarm=AlarmState.OK)
    decision = decide(SWITCHOVER, healthy, POLICY)
    assert decision.verdict is Verdict.PROCEED and decision.operation is Operation.SWITCHOVER
    assert decision.checks == (*COMMON_PASSED, Check("writer_healthy", True, BOTH_OK))
    assert decision.reason == f"switchover p ({PRIMARY}) -> d ({DR})"


@pytest.mark.parametrize(
    ("changes", "gate", "detail"),
    [
        (
            {"writer_alarm": AlarmState.OK},
            "writer_unhealthy_twice",
            f"probe alarm in {DR}: ALARM; writer alarm in {PRIMARY}: OK (forced)",
        ),
        (
            {"in_region": InRegionView(status="failing-over")},
            "writer_not_failing_over_in_region",
            "in-region failover running for 0 s (seen by its status failing-over): Aurora "
            "restores service in-region within 60 s (forced)",
        ),
        (
            {"fresh_probe": PeerProbe(ProbeOutcome.WRITER, "writer", 0.1)},
            "writer_still_lost",
            f"the writer recovered: a fresh probe from {DR} found it answering (writer) after "
            "the manual was raised (forced)",
        ),
        (
            {"lag": LagReading(9000)},
            "lag_within_budget",
            "replication lag 9000 ms, budget 5000 ms (forced)",
        ),
    ],
)
def test_a_forced_manual_failover_passes_a_gate_and_says_it_was_forced(
    changes: dict[str, Any], gate: str, detail: str
) -> None:
    # GIVEN an operator's forced failover against one gate's evidence / WHEN deciding
    forced = Request(Operation.FAILOVER, DR, Trigger.MANUAL, force=True)
    decision = decide(forced, observations(**changes), POLICY)

    # THEN it proceeds, and the summary keeps what the gate saw, marked forced
    assert decision.verdict is Verdict.PROCEED
    assert Check(gate, True, detail) in decision.checks


def test_a_page_names_the_peer_watch_and_when_it_saw_the_loss() -> None:
    # GIVEN a page from the peer watch while the probe alarm has not fired yet
    page = Request(Operation.FAILOVER, DR, Trigger.PAGE, observed_at="2027-01-01T00:00:00Z")
    decision = decide(page, observations(target_probe_alarm=AlarmState.OK), POLICY)

    # THEN the vantage gate passes on the page, and says so
    assert decision.verdict is Verdict.PROCEED
    assert (
        Check(
            "writer_unhealthy_twice",
            True,
            f"probe alarm in {DR}: OK (paged by the peer watch in {DR} at 2027-01-01T00:00:00Z: "
            f"counts as unhealthy); writer alarm in {PRIMARY}: ALARM",
        )
        in decision.checks
    )


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        (
            {"in_region": InRegionView(status="available")},
            Check(
                "writer_not_failing_over_in_region",
                True,
                "no in-region failover (cluster status available)",
            ),
        ),
        (
            {"fresh_probe": PeerProbe(ProbeOutcome.FAILED, "timed out after 2 s", 2.0)},
            Check("writer_still_lost", True, f"fresh probe from {DR}: failed: timed out after 2 s"),
        ),
    ],
)
def test_evidence_that_confirms_the_loss_is_recorded_with_what_was_seen(
    changes: dict[str, Any], check: Check
) -> None:
    # GIVEN the writer region's API shows no in-region failover / a fresh probe fails again
    decision = decide(FAILOVER, observations(**changes), POLICY)
    # THEN the failover proceeds, and the summary says what the gate read
    assert decision.verdict is Verdict.PROCEED
    assert check in decision.checks


def test_a_forced_failover_to_an_out_of_sync_target_and_an_unreported_status_are_recorded() -> None:
    # GIVEN a forced manual failover to a target that is resyncing / THEN it says forced
    pending = snapshot(
        [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False, sync="pending")]
    )
    forced = Request(Operation.FAILOVER, DR, Trigger.MANUAL, force=True)
    decision = decide(forced, observations(topology=pending), POLICY)
    assert Check("target_in_sync", True, "target d synchronization status is pending (forced)") in (
        decision.checks
    )
    # GIVEN a target whose status AWS does not report / THEN it passes, saying so
    unreported = snapshot(
        [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False, sync=None)]
    )
    decision = decide(FAILOVER, observations(topology=unreported), POLICY)
    assert Check("target_in_sync", True, "synchronization status not reported") in decision.checks


def test_a_page_without_its_time_names_the_peer_watch_only() -> None:
    page = Request(Operation.FAILOVER, DR, Trigger.PAGE)
    decision = decide(page, observations(target_probe_alarm=AlarmState.OK), POLICY)
    assert (
        Check(
            "writer_unhealthy_twice",
            True,
            f"probe alarm in {DR}: OK (paged by the peer watch in {DR}: counts as unhealthy); "
            f"writer alarm in {PRIMARY}: ALARM",
        )
        in decision.checks
    )


def test_a_page_refused_because_the_writer_recovered_says_when_the_loss_was_seen() -> None:
    # GIVEN a page from the peer watch, and a fresh probe that finds the writer answering again
    page = Request(Operation.FAILOVER, DR, Trigger.PAGE, observed_at="2027-01-01T00:00:00Z")
    answering = PeerProbe(ProbeOutcome.WRITER, "answered SELECT 1 as writer", 0.2)
    # WHEN deciding
    decision = decide(page, observations(fresh_probe=answering), POLICY)
    # THEN refused without a page, and the operator reads when the loss was seen and when the
    # writer answered again
    assert (decision.verdict, decision.page) == (Verdict.REFUSED, False)
    assert decision.reason == (
        f"the writer recovered: a fresh probe from {DR} found it answering (answered SELECT 1 as "
        "writer) after the page was raised (trigger observed at 2027-01-01T00:00:00Z); not "
        "failing over"
    )
