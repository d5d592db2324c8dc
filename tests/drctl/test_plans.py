"""What each state-changing command asks the coordinator for, and what it refuses (pure).

`test_role_changes.py` drives the commands through moto; here every plan, refusal and summary is
pinned word for word: an operator acts on them mid-incident.
"""

from __future__ import annotations

from functools import partial

import pytest

from drctl.outputs import StackOutputs
from drctl.plans import (
    Plan,
    Refusal,
    describe_outcome,
    outcome_ok,
    plan_failback,
    plan_failover,
    plan_switchover,
)
from lambdas.drcommon.topology import FailoverState, GlobalClusterSnapshot, GlobalMember

PRIMARY, DR, ELSEWHERE = "us-east-1", "us-west-2", "eu-west-1"
OUTPUTS = StackOutputs(PRIMARY, DR, "aurora-dr-global-dev", "dev", {}, {}, {}, {})


def member(region: str, *, writer: bool, sync: str | None = None) -> GlobalMember:
    arn = f"arn:aws:rds:{region}:123456789012:cluster:c-{region}"
    return GlobalMember(arn, region, f"c-{region}", writer, sync, ())


def snapshot(*members: GlobalMember, failover: FailoverState | None = None):
    return GlobalClusterSnapshot("aurora-dr-global-dev", None, "available", members, failover)


# The primary writes; DR is in sync.
STEADY = snapshot(member(PRIMARY, writer=True), member(DR, writer=False, sync="connected"))
# After a failover: DR writes, the old primary is rejoining.
FAILED_OVER = snapshot(
    member(PRIMARY, writer=False, sync="pending-resync"), member(DR, writer=True)
)
REJOINED = snapshot(member(PRIMARY, writer=False, sync="connected"), member(DR, writer=True))
SWITCHING = snapshot(
    *STEADY.members, failover=FailoverState("switching-over", "arn:p", "arn:d", False)
)
failover = partial(plan_failover, allow_data_loss=True, force=False, dry_run=False)

CASES = [
    (
        "switchover to DR",
        lambda: plan_switchover(STEADY, OUTPUTS, DR, dry_run=True),
        Plan("switchover", DR, True, False, "planned switchover us-east-1 -> us-west-2"),
    ),
    (
        "switchover with no writer names no source",
        lambda: plan_switchover(
            snapshot(member(PRIMARY, writer=False), member(DR, writer=False)),
            OUTPUTS,
            DR,
            dry_run=False,
        ),
        Plan("switchover", DR, False, False, "planned switchover ? -> us-west-2"),
    ),
    (
        "switchover to a region outside the pair",
        lambda: plan_switchover(STEADY, OUTPUTS, ELSEWHERE, dry_run=False),
        Refusal("--to must be one of us-east-1, us-west-2, got 'eu-west-1'"),
    ),
    (
        "switchover while one runs",
        lambda: plan_switchover(SWITCHING, OUTPUTS, DR, dry_run=False),
        Refusal("a global switching-over is already under way: wait for it (drctl status)"),
    ),
    (
        "switchover to a region with no member",
        lambda: plan_switchover(snapshot(member(PRIMARY, writer=True)), OUTPUTS, DR, dry_run=False),
        Refusal("us-west-2 has no member cluster in aurora-dr-global-dev"),
    ),
    (
        "switchover to the writer",
        lambda: plan_switchover(STEADY, OUTPUTS, PRIMARY, dry_run=False),
        Refusal("us-east-1 already holds the writer role", nothing_to_do=True),
    ),
    (
        "failover without --allow-data-loss",
        lambda: plan_failover(
            STEADY, OUTPUTS, DR, allow_data_loss=False, force=False, dry_run=False
        ),
        Refusal(
            "a failover may lose the writes not yet replicated to us-west-2: say so with "
            "--allow-data-loss (for a healthy writer, use switchover)"
        ),
    ),
    (
        "failover",
        lambda: failover(STEADY, OUTPUTS, DR),
        Plan("failover", DR, False, False, "UNPLANNED failover to us-west-2"),
    ),
    (
        "forced failover, dry run",
        lambda: plan_failover(STEADY, OUTPUTS, DR, allow_data_loss=True, force=True, dry_run=True),
        Plan(
            "failover",
            DR,
            True,
            True,
            "UNPLANNED failover to us-west-2 (forced past the coordinator's health, lag and "
            "sync gates)",
        ),
    ),
    (
        "failover to the writer",
        lambda: failover(STEADY, OUTPUTS, PRIMARY),
        Refusal("us-east-1 already holds the writer role", nothing_to_do=True),
    ),
    (
        "failover while one runs",
        lambda: failover(SWITCHING, OUTPUTS, DR),
        Refusal("a global switching-over is already under way: wait for it (drctl status)"),
    ),
    (
        "failback before the old primary is in sync",
        lambda: plan_failback(FAILED_OVER, OUTPUTS, dry_run=False),
        Refusal(
            "the configured primary us-east-1 is not in sync yet (synchronization status "
            "pending-resync): fail back once it reports connected"
        ),
    ),
    (
        "failback with no status reported",
        lambda: plan_failback(
            snapshot(member(PRIMARY, writer=False), member(DR, writer=True)), OUTPUTS, dry_run=False
        ),
        Refusal(
            "the configured primary us-east-1 is not in sync yet (synchronization status not "
            "reported): fail back once it reports connected"
        ),
    ),
    (
        "failback once rejoined",
        lambda: plan_failback(REJOINED, OUTPUTS, dry_run=True),
        Plan("switchover", PRIMARY, True, False, "planned switchover us-west-2 -> us-east-1"),
    ),
    (
        "failback when the primary writes already",
        lambda: plan_failback(STEADY, OUTPUTS, dry_run=False),
        Refusal("us-east-1 already holds the writer role", nothing_to_do=True),
    ),
    (
        "failback while one runs",
        lambda: plan_failback(SWITCHING, OUTPUTS, dry_run=False),
        Refusal("a global switching-over is already under way: wait for it (drctl status)"),
    ),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_command_plans_or_refuses_with_its_reason(make, expected):
    assert make() == expected


def test_a_plan_is_the_coordinators_manual_event():
    plan = Plan("failover", DR, True, True, "summary")
    assert plan.event() == {"action": "failover", "targetRegion": DR, "dryRun": True, "force": True}


REAL = Plan("switchover", DR, False, False, "s")
DRY = Plan("switchover", DR, True, False, "s")


@pytest.mark.parametrize(
    ("result", "plan", "ok"),
    [
        ({"status": "completed"}, REAL, True),
        ({"status": "refused"}, REAL, False),
        ({"status": "dry_run", "decision": {"verdict": "proceed"}}, REAL, False),
        ({"status": "dry_run", "decision": {"verdict": "proceed"}}, DRY, True),
        ({"status": "dry_run", "decision": {"verdict": "refuse"}}, DRY, False),
        ({"status": "dry_run", "decision": None}, DRY, False),
        ({"status": "completed"}, DRY, False),
        ("completed", REAL, False),
        (None, DRY, False),
    ],
)
def test_only_a_completed_request_or_a_proceeding_dry_run_is_ok(result, plan, ok):
    assert outcome_ok(result, plan) is ok


def test_the_coordinators_answer_lists_each_check_and_the_lock_to_clear():
    answer = {
        "status": "refused",
        "detail": "a gate failed",
        "decision": {
            "checks": [
                {"name": "writer_down", "passed": True, "detail": "3 probes failed"},
                {"name": "lag", "passed": False, "detail": "lag 9000 ms over 5000 ms"},
            ]
        },
        "clearLock": "drctl unlock --region us-west-2",
    }
    assert describe_outcome(answer) == "\n".join(
        [
            "coordinator: refused: a gate failed",
            "  ok  writer_down: 3 probes failed",
            "  NO  lag: lag 9000 ms over 5000 ms",
            "  drctl unlock --region us-west-2",
        ]
    )


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        ({"status": "completed", "detail": "done"}, "coordinator: completed: done"),
        (
            {"status": "completed", "detail": "done", "decision": None},
            "coordinator: completed: done",
        ),
        (["not", "a", "dict"], "unexpected answer from the coordinator: ['not', 'a', 'dict']"),
    ],
)
def test_an_answer_without_checks_is_one_line(answer, text):
    assert describe_outcome(answer) == text
