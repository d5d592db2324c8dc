"""`drctl status`'s judgement and its two renderings, on observations built by hand (pure).

`test_status.py` drives the command through moto; here every field of the report is pinned, so
a changed word, column or key fails: operators read the text under stress and scripts parse the
JSON (`--json`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from drctl.lockview import LockView
from drctl.observe import Failed, LastDecision, Observed
from drctl.outputs import StackOutputs
from drctl.status import assess, render
from lambdas.drcommon.topology import FailoverState, GlobalClusterSnapshot, GlobalMember

PRIMARY, DR = "us-east-1", "us-west-2"
NOW = dt.datetime(2026, 12, 2, 12, 0, 0, tzinfo=dt.UTC)
OUTPUTS = StackOutputs(PRIMARY, DR, "aurora-dr-global-dev", "dev", {}, {}, {}, {})


def member(region: str, *, writer: bool, sync: str | None) -> GlobalMember:
    arn = f"arn:aws:rds:{region}:123456789012:cluster:c-{region}"
    return GlobalMember(arn, region, f"c-{region}", writer, sync, ())


def snapshot(*members: GlobalMember, failover: FailoverState | None = None):
    return GlobalClusterSnapshot("aurora-dr-global-dev", None, "available", members, failover)


def lock(state: str, detail: str, expires_in: int | None = None) -> LockView:
    """A lock item in DR written a minute ago by request `req-1`."""
    now = int(NOW.timestamp())
    return LockView(
        region=DR,
        table="lock-usw2",
        lock_id="global",
        state=state,
        owner="req-1",
        operation="failover",
        target_region=DR,
        acquired_at=now - 120,
        updated_at=now - 60,
        expires_at=None if expires_in is None else now + expires_in,
        detail=detail,
        raw={},
    )


def lock_dict(state: str, detail: str, problem: str | None) -> dict[str, Any]:
    return {
        "region": DR,
        "table": "lock-usw2",
        "state": state,
        "owner": "req-1",
        "operation": "failover",
        "targetRegion": DR,
        "ageSeconds": 60.0,
        "expiresAt": None,
        "detail": detail,
        "problem": problem,
    }


HEALTHY = Observed(
    now=NOW,
    topology=snapshot(
        member(PRIMARY, writer=True, sync=None), member(DR, writer=False, sync="connected")
    ),
    lag_ms={DR: {"AuroraGlobalDBReplicationLag": 850.0, "AuroraGlobalDBRPOLag": 1200.4}},
    locks={PRIMARY: None, DR: lock("completed", "done")},
    decisions={PRIMARY: None, DR: LastDecision("completed", NOW - dt.timedelta(hours=2))},
    checker_seen={PRIMARY: NOW - dt.timedelta(seconds=40), DR: NOW - dt.timedelta(seconds=70)},
    subscribers={
        PRIMARY: ["email:ops@example.com", "https:hooks.example.com"],
        DR: ["email:ops@example.com"],
    },
)
# Everything that can go wrong at once, each read failing or alarming in one region.
TROUBLED = Observed(
    now=NOW,
    topology=snapshot(
        member(PRIMARY, writer=False, sync="pending-resync"),
        member(DR, writer=True, sync=None),
        failover=FailoverState("switching-over", "arn:p", "arn:d", False),
    ),
    lag_ms={PRIMARY: Failed("AccessDenied")},
    locks={PRIMARY: Failed("ResourceNotFoundException"), DR: lock("failed", "promotion timed out")},
    decisions={
        PRIMARY: Failed("Throttling"),
        DR: LastDecision("refused", NOW - dt.timedelta(minutes=5)),
    },
    checker_seen={PRIMARY: Failed("EndpointConnectionError"), DR: None},
    subscribers={PRIMARY: Failed("AuthorizationError"), DR: []},
)
TROUBLED_ATTENTION = [
    "the lag metrics of us-east-1 could not be read: AccessDenied",
    "us-east-1 is not in sync (pending-resync): a switchover to it waits, a failover to it loses "
    "data",
    "the writer is us-west-2, not the configured primary us-east-1: fail back (`drctl failback`) "
    "once it has rejoined and is in sync",
    "a global switching-over is under way: watch it finish",
    "the lock table in us-east-1 could not be read",
    "lock in us-west-2 is failed: promotion timed out (`drctl unlock` clears it)",
    "the coordinator in us-west-2 last refused a request",
    "the health metrics of us-east-1 could not be read",
    "the health checker in us-west-2 has not reported for 5 minutes",
    "the alert topic in us-west-2 has no confirmed subscriber",
]


def test_a_healthy_pair_reads_as_nothing_to_do():
    assert render(assess(HEALTHY, OUTPUTS)) == "\n".join(
        [
            "global cluster aurora-dr-global-dev",
            "  writer region: us-east-1 (configured primary us-east-1)",
            "  failover in progress: no",
            "  members:",
            "    us-east-1       writer    c-us-east-1  sync -  replication lag -  RPO lag -",
            "    us-west-2       secondary c-us-west-2  sync connected  replication lag 850 ms  "
            "RPO lag 1200 ms",
            "  lock:",
            "    us-east-1       free (no item)",
            "    us-west-2       completed by req-1 (failover to us-west-2), 60 s old: done",
            "  last coordinator decision:",
            "    us-east-1       none in the last 24 h",
            "    us-west-2       completed at 2026-12-02T10:00:00Z",
            "  health checker:",
            "    us-east-1       reporting (last 11:59:20Z)",
            "    us-west-2       reporting (last 11:58:50Z)",
            "  alert subscribers:",
            "    us-east-1       email:ops@example.com, https:hooks.example.com",
            "    us-west-2       email:ops@example.com",
            "nothing needs a human",
        ]
    )


def test_a_healthy_pair_as_json():
    assert assess(HEALTHY, OUTPUTS).to_dict() == {
        "globalClusterId": "aurora-dr-global-dev",
        "writerRegion": PRIMARY,
        "configuredPrimaryRegion": PRIMARY,
        "failoverInProgress": None,
        "members": [
            {
                "region": PRIMARY,
                "cluster_id": "c-us-east-1",
                "role": "writer",
                "synchronization": None,
                "replication_lag_ms": None,
                "rpo_lag_ms": None,
            },
            {
                "region": DR,
                "cluster_id": "c-us-west-2",
                "role": "secondary",
                "synchronization": "connected",
                "replication_lag_ms": 850.0,
                "rpo_lag_ms": 1200.4,
            },
        ],
        "locks": {PRIMARY: None, DR: lock_dict("completed", "done", None)},
        "lastDecision": {
            PRIMARY: "none in the last 24 h",
            DR: "completed at 2026-12-02T10:00:00Z",
        },
        "healthCheckers": {
            PRIMARY: "reporting (last 11:59:20Z)",
            DR: "reporting (last 11:58:50Z)",
        },
        "alertSubscribers": {
            PRIMARY: ["email:ops@example.com", "https:hooks.example.com"],
            DR: ["email:ops@example.com"],
        },
        "needsHuman": False,
        "attention": [],
    }


def test_every_trouble_is_shown_and_listed_for_a_human_in_order():
    assert render(assess(TROUBLED, OUTPUTS)) == "\n".join(
        [
            "global cluster aurora-dr-global-dev",
            "  writer region: us-west-2 (configured primary us-east-1)",
            "  failover in progress: switching-over from arn:p to arn:d",
            "  members:",
            "    us-east-1       secondary c-us-east-1  sync pending-resync  replication lag -  "
            "RPO lag -",
            "    us-west-2       writer    c-us-west-2  sync -  replication lag -  RPO lag -",
            "  lock:",
            "    us-east-1       unreadable: ResourceNotFoundException",
            "    us-west-2       failed by req-1 (failover to us-west-2), 60 s old: promotion "
            "timed out",
            "  last coordinator decision:",
            "    us-east-1       unreadable: Throttling",
            "    us-west-2       refused at 2026-12-02T11:55:00Z",
            "  health checker:",
            "    us-east-1       unreadable: EndpointConnectionError",
            "    us-west-2       NOT reporting",
            "  alert subscribers:",
            "    us-east-1       unreadable: AuthorizationError",
            "    us-west-2       NONE",
            "NEEDS A HUMAN:",
            *(f"  - {item}" for item in TROUBLED_ATTENTION),
        ]
    )


def test_every_trouble_as_json():
    document = assess(TROUBLED, OUTPUTS).to_dict()
    assert document["writerRegion"] == DR
    assert document["failoverInProgress"] == "switching-over from arn:p to arn:d"
    assert [m["role"] for m in document["members"]] == ["secondary", "writer"]
    assert document["locks"] == {
        PRIMARY: {"error": "ResourceNotFoundException"},
        DR: lock_dict(
            "failed", "promotion timed out", "lock in us-west-2 is failed: promotion timed out"
        ),
    }
    assert document["alertSubscribers"] == {PRIMARY: "unreadable: AuthorizationError", DR: []}
    assert (document["needsHuman"], document["attention"]) == (True, TROUBLED_ATTENTION)


@pytest.mark.parametrize(
    ("topology", "members", "attention"),
    [
        (
            Failed("both regions unreachable"),
            [],
            ["the global cluster could not be read in either region: both regions unreachable"],
        ),
        (
            snapshot(
                member(PRIMARY, writer=False, sync="connected"), member(DR, writer=False, sync=None)
            ),
            [
                "    us-east-1       secondary c-us-east-1  sync connected  replication lag -  "
                "RPO lag -",
                "    us-west-2       secondary c-us-west-2  sync -  replication lag -  RPO lag -",
            ],
            ["no member holds the writer role"],
        ),
    ],
    ids=["unreadable", "no-writer"],
)
def test_without_a_known_writer_the_region_is_unknown_and_a_human_is_asked(
    topology, members, attention
):
    report = assess(Observed(now=NOW, topology=topology), OUTPUTS)
    assert render(report) == "\n".join(
        [
            "global cluster aurora-dr-global-dev",
            "  writer region: UNKNOWN (configured primary us-east-1)",
            "  failover in progress: no",
            "  members:",
            *members,
            "  lock:",
            "  last coordinator decision:",
            "  health checker:",
            "  alert subscribers:",
            "NEEDS A HUMAN:",
            *(f"  - {item}" for item in attention),
        ]
    )
    assert (report.writer_region, report.to_dict()["needsHuman"]) == (None, True)


@pytest.mark.parametrize(
    ("expires_in", "attention"),
    [
        (30, []),
        (
            -1,
            ["lock in us-west-2 is a stale in_progress lease of req-1 (`drctl unlock` clears it)"],
        ),
    ],
    ids=["live-lease", "expired-lease"],
)
def test_an_in_progress_lease_needs_a_human_only_once_it_has_expired(expires_in, attention):
    # GIVEN the healthy pair with a role change's lease in DR, live or expired at NOW
    seen = dataclasses.replace(
        HEALTHY, locks={DR: lock("in_progress", "promoting", expires_in=expires_in)}
    )
    # THEN only the expired one is for a human (a live one is a role change running now)
    assert assess(seen, OUTPUTS).attention == attention
