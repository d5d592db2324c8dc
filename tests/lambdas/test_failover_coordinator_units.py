"""Failover coordinator building blocks: settings, event parsing, the pure decision, the lock."""

from __future__ import annotations

import dataclasses

import pytest
from aws_fixtures import (
    DR,
    ENV,
    GID,
    LOCK_TABLE,
    PRIMARY,
    FakeClock,
    alarm_event,
    client,
    cluster_arn,
    global_cluster_response,
    manual_event,
    member,
    moto_aws,  # noqa: F401 - fixture
    rds_event,
)

from drcommon import topology
from failover_coordinator.decision import (
    AlarmState,
    LagReading,
    Observations,
    Operation,
    Policy,
    Request,
    Trigger,
    Verdict,
    decide,
)
from failover_coordinator.events import Ignored, RdsNotice, parse_event
from failover_coordinator.lock import FailoverLock, LockState, LockUnavailable
from failover_coordinator.settings import ENV_VARS, Settings, SettingsError

SETTINGS = Settings.from_env(ENV)

# -- settings ----------------------------------------------------------------------------------


def test_settings_read_every_declared_variable() -> None:
    # GIVEN the stack's environment / WHEN read / THEN every declared variable is used
    assert set(ENV) - {"AWS_REGION"} <= set(ENV_VARS)
    assert SETTINGS.local.region == DR
    assert SETTINGS.peer.region == PRIMARY
    assert SETTINGS.for_region(PRIMARY).writer_alarm_name == ENV["PEER_WRITER_ALARM_NAME"]
    assert SETTINGS.lock_lease_seconds == 900


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"GLOBAL_CLUSTER_ID": ""}, "GLOBAL_CLUSTER_ID is required"),
        ({"LAG_BUDGET_MS": ""}, "LAG_BUDGET_MS is required"),
        ({"LAG_BUDGET_MS": "fast"}, "LAG_BUDGET_MS='fast' is not a number"),
        ({"PEER_REGION": DR}, "must differ"),
        ({"PEER_REGION": "mars-1"}, "PEER_REGION='mars-1' is not an AWS region"),
        ({"SNS_TOPIC_ARN": "alerts"}, "SNS_TOPIC_ARN='alerts' is not an SNS topic ARN"),
        ({"LOCK_LEASE_SECONDS": "60"}, "LOCK_LEASE_SECONDS='60' must be between"),
        ({"LOCAL_PROBE_ALARM_NAME": " "}, "LOCAL_PROBE_ALARM_NAME is required"),
    ],
)
def test_settings_name_the_bad_variable(overrides: dict[str, str], message: str) -> None:
    # GIVEN one missing or malformed variable / WHEN read / THEN the error names it
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**ENV, **overrides})


# -- events ------------------------------------------------------------------------------------


def test_alarm_in_alarm_state_requests_a_failover_to_this_region() -> None:
    # GIVEN / WHEN the probe alarm fires / THEN an alarm-triggered failover to the DR region
    assert parse_event(alarm_event(), SETTINGS) == Request(Operation.FAILOVER, DR, Trigger.ALARM)


@pytest.mark.parametrize("state", ["OK", "INSUFFICIENT_DATA"])
def test_alarm_leaving_alarm_is_ignored(state: str) -> None:
    # GIVEN / WHEN / THEN
    assert isinstance(parse_event(alarm_event(state), SETTINGS), Ignored)


def test_manual_request_is_parsed_with_its_flags() -> None:
    # GIVEN / WHEN an operator asks for a forced dry-run switchover / THEN the flags are kept
    parsed = parse_event(manual_event("switchover", PRIMARY, dry_run=True, force=True), SETTINGS)
    assert parsed == Request(Operation.SWITCHOVER, PRIMARY, Trigger.MANUAL, True, True)


def test_manual_request_defaults_are_safe() -> None:
    # GIVEN / WHEN flags are omitted / THEN not forced
    parsed = parse_event({"action": "failover", "targetRegion": DR}, SETTINGS)
    assert isinstance(parsed, Request)
    assert parsed.force is False
    assert parsed.dry_run is False


def test_rds_event_becomes_a_notice() -> None:
    # GIVEN / WHEN an RDS global-failover event / THEN a notice with its id and meaning
    notice = parse_event(rds_event("RDS-EVENT-0238"), SETTINGS)
    assert isinstance(notice, RdsNotice)
    assert notice.event_id == "RDS-EVENT-0238"
    assert notice.categories == ("global-failover",)
    assert "unplanned" in notice.meaning


# -- decision (pure) ---------------------------------------------------------------------------


def _obs(**changes: object) -> Observations:
    snapshot = topology.parse_global_cluster(
        global_cluster_response(
            GID, [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False)]
        )["GlobalClusters"][0]
    )
    healthy_target = topology.ClusterStatus(
        "d",
        cluster_arn(DR, "d"),
        DR,
        "available",
        (topology.InstanceStatus("d-1", "available", True),),
    )
    base = Observations(
        topology=snapshot,
        target_cluster=healthy_target,
        target_probe_alarm=AlarmState.ALARM,
        writer_alarm=AlarmState.ALARM,
        lag=LagReading(1000),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


FAILOVER = Request(Operation.FAILOVER, DR, Trigger.ALARM)
POLICY = Policy(lag_budget_ms=5000)


@pytest.mark.parametrize(
    ("probe", "writer", "verdict"),
    [
        (AlarmState.ALARM, AlarmState.ALARM, Verdict.PROCEED),
        (AlarmState.ALARM, AlarmState.UNREACHABLE, Verdict.PROCEED),
        (AlarmState.UNREACHABLE, AlarmState.ALARM, Verdict.PROCEED),
        (AlarmState.ALARM, AlarmState.OK, Verdict.NO_ACTION),
        (AlarmState.OK, AlarmState.ALARM, Verdict.NO_ACTION),
        (AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA, Verdict.NO_ACTION),
        (AlarmState.ALARM, AlarmState.MISSING, Verdict.NO_ACTION),
    ],
)
def test_failover_needs_two_unhealthy_vantage_points(
    probe: AlarmState, writer: AlarmState, verdict: Verdict
) -> None:
    # GIVEN the two readings / WHEN deciding / THEN only two unhealthy readings proceed
    decision = decide(FAILOVER, _obs(target_probe_alarm=probe, writer_alarm=writer), POLICY)
    assert decision.verdict is verdict


def test_alarm_trigger_cannot_be_forced_past_the_vantage_gate() -> None:
    # GIVEN an alarm-triggered request that somehow carries force, one healthy vantage point
    forced_alarm = dataclasses.replace(FAILOVER, force=True)

    # WHEN deciding / THEN no action: only an operator may override that gate
    decision = decide(forced_alarm, _obs(writer_alarm=AlarmState.OK), POLICY)
    assert decision.verdict is Verdict.NO_ACTION


def test_lag_exactly_at_budget_is_within_budget() -> None:
    # GIVEN / WHEN / THEN the budget is inclusive
    assert decide(FAILOVER, _obs(lag=LagReading(5000)), POLICY).verdict is Verdict.PROCEED
    refused = decide(FAILOVER, _obs(lag=LagReading(5001)), POLICY)
    assert refused.verdict is Verdict.REFUSED
    assert refused.page


def test_target_out_of_sync_refuses_unless_forced() -> None:
    # GIVEN a secondary still resynchronising
    snapshot = topology.parse_global_cluster(
        global_cluster_response(
            GID,
            [
                member(PRIMARY, "p", writer=True),
                member(DR, "d", writer=False, sync="pending-resync"),
            ],
        )["GlobalClusters"][0]
    )
    obs = _obs(topology=snapshot)
    manual = Request(Operation.FAILOVER, DR, Trigger.MANUAL)

    # WHEN / THEN refused, unless an operator forces a failover
    assert decide(manual, obs, POLICY).verdict is Verdict.REFUSED
    assert decide(dataclasses.replace(manual, force=True), obs, POLICY).verdict is Verdict.PROCEED


def test_proceed_names_source_and_target() -> None:
    # GIVEN / WHEN a failover proceeds / THEN the decision names both clusters and all gates
    decision = decide(FAILOVER, _obs(), POLICY)
    assert decision.source_arn == cluster_arn(PRIMARY, "p")
    assert decision.target_arn == cluster_arn(DR, "d")
    assert all(check.passed for check in decision.checks)


def test_no_writer_refuses_and_pages() -> None:
    # GIVEN a global cluster with no writer member (e.g. after a detach)
    snapshot = topology.parse_global_cluster(
        global_cluster_response(GID, [member(DR, "d", writer=False)])["GlobalClusters"][0]
    )

    # WHEN / THEN an operator is needed
    decision = decide(FAILOVER, _obs(topology=snapshot), POLICY)
    assert decision.verdict is Verdict.REFUSED
    assert decision.page


# -- lock (moto DynamoDB) ----------------------------------------------------------------------


def _lock(clock: FakeClock) -> FailoverLock:
    dynamodb = client("dynamodb", DR)
    dynamodb.create_table(
        TableName=LOCK_TABLE,
        KeySchema=[{"AttributeName": "LockId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return FailoverLock(dynamodb, LOCK_TABLE, GID, clock, lease_seconds=900)


@pytest.mark.usefixtures("moto_aws")
def test_lock_lifecycle_and_lease_expiry() -> None:
    # GIVEN a free lock
    clock = FakeClock()
    lock = _lock(clock)

    # WHEN a first owner takes it, a second is refused until the lease goes stale
    lock.acquire(owner="a", operation="failover", target_region=DR, force=False)
    with pytest.raises(LockUnavailable) as excinfo:
        lock.acquire(owner="b", operation="failover", target_region=DR, force=True)
    assert not excinfo.value.blocked_by_failure
    clock.advance(901)
    lock.acquire(owner="b", operation="failover", target_region=DR, force=False)

    # THEN the stale owner can no longer finish; the live one releases with a record kept
    assert lock.complete("a", "late") is False
    assert lock.complete("b", "done") is True
    record = lock.read()
    assert record is not None
    assert record.state is LockState.COMPLETED
    assert record.expires_at is not None and record.expires_at > clock.time() + 6 * 86400


@pytest.mark.usefixtures("moto_aws")
def test_failed_lock_blocks_until_forced_and_has_no_ttl() -> None:
    # GIVEN an attempt that failed
    clock = FakeClock()
    lock = _lock(clock)
    lock.acquire(owner="a", operation="failover", target_region=DR, force=False)
    lock.fail("a", "api refused")
    clock.advance(10 * 86400)

    # WHEN another attempt comes, days later / THEN still blocked (no TTL), unless forced
    record = lock.read()
    assert record is not None and record.expires_at is None
    with pytest.raises(LockUnavailable) as excinfo:
        lock.acquire(owner="b", operation="failover", target_region=DR, force=False)
    assert excinfo.value.blocked_by_failure
    lock.acquire(owner="c", operation="failover", target_region=DR, force=True)
    assert lock.read().owner == "c"  # type: ignore[union-attr]


@pytest.mark.usefixtures("moto_aws")
def test_unconfirmed_lock_is_resolved_by_an_rds_event_only() -> None:
    # GIVEN an attempt whose completion was not seen
    clock = FakeClock()
    lock = _lock(clock)
    lock.acquire(owner="a", operation="failover", target_region=DR, force=False)
    lock.unconfirmed("a", "timed out waiting")

    # WHEN the completion event resolves it (twice: the second is a no-op)
    assert lock.resolve_unconfirmed(succeeded=True, detail="RDS-EVENT-0185") is True
    assert lock.resolve_unconfirmed(succeeded=False, detail="late duplicate") is False

    # THEN the lock is free again
    assert lock.read().state is LockState.COMPLETED  # type: ignore[union-attr]
    lock.acquire(owner="b", operation="switchover", target_region=PRIMARY, force=False)
