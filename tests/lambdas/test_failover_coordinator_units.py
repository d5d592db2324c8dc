"""Failover coordinator building blocks: settings, event parsing, the pure decision, the lock."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime
from typing import Any

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
    db_cluster_response,
    db_instances_response,
    global_cluster_response,
    health_checker,
    log_records,
    manual_event,
    member,
    moto_aws,  # noqa: F401 - fixture
    page_event,
    rds_event,
)
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from drcommon import topology
from drcommon.aws import Deadline
from drcommon.inregion import InRegionView
from drcommon.parallel import Outcome
from drcommon.peerprobe import PeerProbe, ProbeOutcome
from failover_coordinator import observe as observe_module
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
from failover_coordinator.events import (
    PAGE_MAX_AGE_SECONDS,
    Ignored,
    InvalidEvent,
    RdsNotice,
    StalePage,
    parse_event,
)
from failover_coordinator.lock import (
    FailoverLock,
    LockRecord,
    LockState,
    LockUnavailable,
    clear_instructions,
)
from failover_coordinator.observe import Observer
from failover_coordinator.settings import Env, Settings, SettingsError

SETTINGS = Settings.from_env(ENV)

# -- settings ----------------------------------------------------------------------------------


def test_settings_read_every_declared_variable() -> None:
    # GIVEN the stack's environment / WHEN read / THEN every declared variable is used
    assert set(ENV) - {"AWS_REGION"} <= set(Env.settable())
    assert SETTINGS.local.region == DR
    assert SETTINGS.peer.region == PRIMARY
    assert SETTINGS.for_region(PRIMARY).writer_alarm_name == ENV["PEER_WRITER_ALARM_NAME"]
    assert SETTINGS.lock_lease_seconds == 900
    # ... both regions' lock tables: a role change locks in its target region's
    assert SETTINGS.for_region(DR).lock_table_name == ENV["LOCAL_LOCK_TABLE_NAME"]
    assert SETTINGS.for_region(PRIMARY).lock_table_name == ENV["PEER_LOCK_TABLE_NAME"]
    assert SETTINGS.failed_lock_block_seconds == 30 * 60


def test_health_checker_names_are_per_region_and_optional() -> None:
    # GIVEN the stack's environment / WHEN read / THEN each region has its own checker
    assert SETTINGS.for_region(DR).health_checker_function_name == health_checker(DR)
    assert SETTINGS.for_region(PRIMARY).health_checker_function_name == health_checker(PRIMARY)

    # GIVEN them unset or blank / WHEN read / THEN no checker, and no error
    unset = {k: v for k, v in ENV.items() if k != "LOCAL_HEALTH_CHECKER_FUNCTION_NAME"}
    settings = Settings.from_env({**unset, "PEER_HEALTH_CHECKER_FUNCTION_NAME": " "})
    assert settings.for_region(DR).health_checker_function_name is None
    assert settings.for_region(PRIMARY).health_checker_function_name is None


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
        ({"PEER_LOCK_TABLE_NAME": ""}, "PEER_LOCK_TABLE_NAME is required"),
        ({"LOCAL_LOCK_TABLE_NAME": "a b"}, "LOCAL_LOCK_TABLE_NAME='a b' is not a DynamoDB table"),
        ({"FAILED_LOCK_BLOCK_MINUTES": "0"}, "FAILED_LOCK_BLOCK_MINUTES='0' must be between"),
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


NOW = 1_795_000_000.0  # a fixed "now" for the page's freshness


def _page(age: float = 20.0, **detail: object) -> dict[str, object]:
    event = page_event(NOW - age)
    event["detail"] = {**event["detail"], **detail}  # type: ignore[dict-item]
    return event


def test_page_requests_a_failover_to_this_region() -> None:
    # GIVEN a fresh page from the DR peer watch / WHEN parsed / THEN a paged failover to DR
    event = _page()
    assert parse_event(event, SETTINGS, now=NOW) == Request(
        Operation.FAILOVER,
        DR,
        Trigger.PAGE,
        observed_at=event["detail"]["observedAt"],  # type: ignore[index]
    )


@pytest.mark.parametrize(
    "observed_at", ["2026-11-23T01:00:00Z", "2026-11-23T01:00:00.123456+00:00"]
)
def test_page_accepts_both_utc_spellings(observed_at: str) -> None:
    # GIVEN / WHEN / THEN
    now = 1_795_395_630.0  # 2026-11-23T01:00:30Z
    parsed = parse_event(_page(observedAt=observed_at), SETTINGS, now=now)
    assert isinstance(parsed, Request)
    assert parsed.trigger is Trigger.PAGE


@pytest.mark.parametrize(
    ("age", "message"),
    [
        (PAGE_MAX_AGE_SECONDS + 1, "stale page: observed at .*, 301 s ago"),
        (-31.0, "31 s in the future"),
    ],
)
def test_page_out_of_its_freshness_window_is_rejected(age: float, message: str) -> None:
    # GIVEN a page too old (a delayed async delivery) or from a clock far ahead
    # WHEN parsed / THEN rejected as stale, saying why
    with pytest.raises(StalePage, match=message):
        parse_event(_page(age=age), SETTINGS, now=NOW)


@pytest.mark.parametrize("age", [PAGE_MAX_AGE_SECONDS, -30.0, 0.0])
def test_page_at_the_edges_of_its_window_is_accepted(age: float) -> None:
    # GIVEN / WHEN / THEN the window is inclusive
    assert isinstance(parse_event(_page(age=age), SETTINGS, now=NOW), Request)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({**_page(), "dryRun": True}, "unknown key.*dryRun"),
        ({**_page(), "detail-type": "Scheduled Event"}, "detail-type"),
        ({**_page(), "detail": None}, "no 'detail' object"),
        (_page(force=True), "unknown: force"),
        ({**_page(), "detail": {"region": DR, "peerRegion": PRIMARY}}, "missing: observedAt"),
        (_page(region=["us-west-2"]), r"detail.region must be a string"),
        (_page(observedAt=1_795_000_000), r"detail.observedAt must be a string"),
        (_page(region=PRIMARY), "coordinator runs in 'us-west-2'"),
        (_page(region="eu-west-1"), "coordinator runs in 'us-west-2'"),
        (_page(peerRegion=DR), "peer is 'us-east-1'"),
        (_page(peerRegion="eu-west-1"), "peer is 'us-east-1'"),
        (_page(observedAt="yesterday"), "not an ISO-8601 timestamp"),
        (_page(observedAt="2026-11-23T01:00:00"), "must be in UTC"),
        (_page(observedAt="2026-11-23T02:00:00+01:00"), "must be in UTC"),
    ],
)
def test_malformed_page_is_rejected_naming_the_problem(
    event: dict[str, object], message: str
) -> None:
    # GIVEN / WHEN / THEN
    with pytest.raises(InvalidEvent, match=message) as excinfo:
        parse_event(event, SETTINGS, now=NOW)
    assert not isinstance(excinfo.value, StalePage)


# -- observation --------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", [Operation.FAILOVER, Operation.SWITCHOVER])
def test_a_read_that_breaks_is_observed_as_unreachable_never_as_missing_or_absent(
    monkeypatch: pytest.MonkeyPatch, operation: Operation
) -> None:
    # GIVEN the global cluster as usual, and every other read raising something no read
    # handles (a bug, or a response of an unexpected shape)
    snapshot = topology.parse_global_cluster(
        global_cluster_response(
            GID, [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False)]
        )["GlobalClusters"][0]
    )

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("unexpected response shape")

    for read in ("alarm_state", "lag", "target_cluster", "in_region", "fresh_probe"):
        monkeypatch.setattr(Observer, read, broken)
    monkeypatch.setattr(Observer, "global_cluster", lambda self: snapshot)
    clock = FakeClock()
    observer = Observer(SETTINGS, lambda *_, **__: None, clock, Deadline(clock, 1e9))
    # WHEN the coordinator observes for a request of this kind
    with log_records(observe_module.logger) as records:
        seen = observer.observe(Request(operation, DR, Trigger.MANUAL))
    # THEN every broken read is logged as an error with what it raised (a bug to fix, not an
    # AWS answer)
    reads = 6 if operation is Operation.FAILOVER else 4
    assert [(r.getMessage(), r.levelname, r.error) for r in records] == [
        ("read broke", "ERROR", "RuntimeError('unexpected response shape')")
    ] * reads
    # AND each broken alarm reads as UNREACHABLE (which the gates never take as a healthy
    # writer), the lag as unknown with the reason, and the target cluster as not read
    assert (seen.target_probe_alarm, seen.writer_alarm) == (
        AlarmState.UNREACHABLE,
        AlarmState.UNREACHABLE,
    )
    assert seen.lag == LagReading(None, "lag read broke")
    assert seen.target_cluster is None
    # ... and only a failover reads the writer's in-region state and a fresh probe, each
    # broken read standing as "no evidence", never as a healthy answer
    if operation is Operation.FAILOVER:
        assert seen.in_region == InRegionView(error="read broke")
        assert seen.fresh_probe == PeerProbe(ProbeOutcome.UNAVAILABLE, "fresh probe broke", 0.0)
    else:
        assert (seen.in_region, seen.fresh_probe) == (None, None)


def _observe_with(
    monkeypatch: pytest.MonkeyPatch, members: list[dict[str, Any]]
) -> tuple[Observations, list[Any]]:
    """Observe a failover to DR over a topology of `members`, every alarm reading OK, every
    other read answering; returns what was seen and the coordinator's log records."""
    snapshot = topology.parse_global_cluster(
        global_cluster_response(GID, members)["GlobalClusters"][0]
    )
    monkeypatch.setattr(Observer, "global_cluster", lambda self: snapshot)
    monkeypatch.setattr(Observer, "alarm_state", lambda self, region, name: AlarmState.OK)
    monkeypatch.setattr(Observer, "lag", lambda self, region, cluster: LagReading(10.0))

    def target_cluster(self: Observer, target: topology.GlobalMember) -> None:
        assert target is not None, "asked to describe a member that is not there"

    monkeypatch.setattr(Observer, "target_cluster", target_cluster)
    monkeypatch.setattr(Observer, "in_region", lambda self, writer, now: InRegionView())
    monkeypatch.setattr(Observer, "fresh_probe", lambda self, region: None)
    clock = FakeClock()
    observer = Observer(SETTINGS, lambda *_, **__: None, clock, Deadline(clock, 1e9))
    with log_records(observe_module.logger) as records:
        seen = observer.observe(Request(Operation.FAILOVER, DR, Trigger.MANUAL))
    return seen, records


def test_a_writer_in_a_region_the_stack_does_not_know_has_no_alarm_to_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the global cluster's writer in a third region (a member added by hand)
    seen, records = _observe_with(
        monkeypatch,
        [member("eu-west-1", "x", writer=True), member(DR, "d", writer=False)],
    )
    # THEN its alarm is MISSING, never UNREACHABLE (which would count as "the writer is
    # unhealthy"), nothing broke, and its in-region state is not read
    assert seen.writer_alarm is AlarmState.MISSING
    assert (seen.in_region, seen.fresh_probe) == (None, None)
    assert records == []


def test_without_a_member_in_the_target_region_nothing_of_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a global cluster with no member in DR
    seen, records = _observe_with(monkeypatch, [member(PRIMARY, "p", writer=True)])
    # THEN no target cluster and no lag reading (the target gate refuses first), and nothing
    # broke on the way
    assert seen.target_cluster is None
    assert seen.lag == LagReading(None)
    assert seen.writer_alarm is AlarmState.OK
    assert records == []


def test_the_in_region_read_looks_back_twice_the_excuse_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the writer's cluster, and the excuse Aurora gets for an in-region failover
    snapshot = topology.parse_global_cluster(
        global_cluster_response(
            GID, [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False)]
        )["GlobalClusters"][0]
    )
    asked: list[dict[str, object]] = []
    monkeypatch.setattr(
        observe_module.inregion,
        "read_in_region",
        lambda client, cluster_id, **kwargs: asked.append({"cluster": cluster_id, **kwargs}),
    )
    clock = FakeClock()
    observer = Observer(SETTINGS, lambda *_, **__: None, clock, Deadline(clock, 1e9))
    # WHEN it reads the writer's in-region failover state
    assert snapshot.writer is not None
    observer.in_region(snapshot.writer, now=5000.0)
    # THEN its failover events are read back over twice the excuse window, so a failover that
    # began within the window is seen together with its start
    assert asked == [
        {"cluster": "p", "now": 5000.0, "lookback_seconds": 2 * SETTINGS.in_region_excuse_seconds}
    ]
    assert SETTINGS.in_region_excuse_seconds > 1  # so that 2x and 3x, or x/2, differ


def _snapshot() -> topology.GlobalClusterSnapshot:
    return topology.parse_global_cluster(
        global_cluster_response(
            GID, [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False)]
        )["GlobalClusters"][0]
    )


@pytest.mark.parametrize(("left", "waited"), [(30.0, 30.0), (0.25, 1.0)])
def test_the_reads_wait_what_is_left_of_the_run_but_at_least_a_second(
    monkeypatch: pytest.MonkeyPatch, left: float, waited: float
) -> None:
    # GIVEN `left` seconds of the run's budget
    timeouts: list[float] = []

    def gather(tasks: dict[str, object], *, timeout_seconds: float) -> dict[str, Outcome]:
        timeouts.append(timeout_seconds)
        return {name: Outcome(value=None) for name in tasks}

    monkeypatch.setattr(observe_module, "gather", gather)
    monkeypatch.setattr(Observer, "global_cluster", lambda self: _snapshot())
    clock = FakeClock()
    observer = Observer(
        SETTINGS, lambda *_, **__: None, clock, Deadline(clock, clock.monotonic() + left)
    )
    # WHEN the coordinator observes
    observer.observe(Request(Operation.FAILOVER, DR, Trigger.MANUAL))
    # THEN its concurrent reads get what is left, and never less than a second: a read still
    # running then counts as broken, which no gate takes for a healthy answer
    assert timeouts == [waited]


def _throttled_then_answered(region: str) -> Any:
    """An RDS client in `region` that is throttled once, then describes cluster `d`."""
    rds = client("rds", region)
    stubber = Stubber(rds)
    stubber.add_client_error(
        "describe_db_clusters", service_error_code="Throttling", http_status_code=400
    )
    stubber.add_response(
        "describe_db_clusters", db_cluster_response(region, "d", "available", ["d1"])
    )
    stubber.add_response("describe_db_instances", db_instances_response("d", {"d1": "available"}))
    stubber.activate()
    return rds


def test_a_throttled_target_cluster_read_is_retried_on_the_injected_clock_and_logged() -> None:
    # GIVEN the target cluster's region throttling the first read
    rds = _throttled_then_answered(DR)
    clock = FakeClock()
    observer = Observer(SETTINGS, lambda *_, **__: rds, clock, Deadline(clock, 1e9))
    snapshot = _snapshot()
    target = snapshot.member_in(DR)
    assert target is not None
    # WHEN the coordinator reads it
    with log_records(observe_module.logger) as records:
        status = observer.target_cluster(target)
    # THEN it waited the first backoff on its own clock, said so, and read the cluster there
    assert clock.sleeps == [1.0]
    assert [(r.getMessage(), r.operation) for r in records] == [
        ("throttled, retrying", "describe_db_clusters")
    ]
    assert status is not None
    assert (status.identifier, status.region, status.status) == ("d", DR, "available")


def test_a_target_cluster_read_is_not_retried_past_the_runs_deadline() -> None:
    # GIVEN throttling, and less time left than the first backoff
    rds = _throttled_then_answered(DR)
    clock = FakeClock()
    observer = Observer(
        SETTINGS, lambda *_, **__: rds, clock, Deadline(clock, clock.monotonic() + 0.5)
    )
    target = _snapshot().member_in(DR)
    assert target is not None
    # WHEN the coordinator reads it
    with log_records(observe_module.logger) as records:
        status = observer.target_cluster(target)
    # THEN it gives up at once: the target reads as not read (the gate then refuses), and the
    # log says why
    assert status is None
    assert clock.sleeps == []
    ((record,),) = [[r for r in records if r.getMessage() == "target cluster unreadable"]]
    assert "Throttling" in record.error


ALARM_READ = {"AlarmNames": ["writer-alarm"], "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}


def _cloudwatch_answering(*answers: dict[str, object] | str) -> Any:
    """A CloudWatch client in DR whose DescribeAlarms calls, each for exactly `ALARM_READ`,
    get `answers` in turn (an error code for a throttled call)."""
    cloudwatch = client("cloudwatch", DR)
    stubber = Stubber(cloudwatch)
    for answer in answers:
        if isinstance(answer, str):
            stubber.add_client_error(
                "describe_alarms", service_error_code=answer, expected_params=ALARM_READ
            )
        else:
            stubber.add_response("describe_alarms", answer, ALARM_READ)
    stubber.activate()
    return cloudwatch


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        ({"MetricAlarms": [{"AlarmName": "writer-alarm", "StateValue": "ALARM"}]}, "ALARM"),
        ({"CompositeAlarms": [{"AlarmName": "writer-alarm", "StateValue": "OK"}]}, "OK"),
        (
            {
                "MetricAlarms": [],
                "CompositeAlarms": [{"AlarmName": "writer-alarm", "StateValue": "ALARM"}],
            },
            "ALARM",
        ),
        ({"MetricAlarms": [{"AlarmName": "writer-alarm", "StateValue": "WEIRD"}]}, "MISSING"),
    ],
)
def test_an_alarm_is_read_as_a_metric_or_a_composite_alarm(
    answer: dict[str, object], state: str
) -> None:
    # GIVEN CloudWatch answering with the alarm as one kind or the other (AWS leaves out the
    # list of a kind it was not asked for or has none of)
    cloudwatch = _cloudwatch_answering(answer)
    clock = FakeClock()
    observer = Observer(SETTINGS, lambda *_, **__: cloudwatch, clock, Deadline(clock, 1e9))
    # WHEN the coordinator reads it, asking for both kinds by name
    # THEN its state is the answer's; a state CloudWatch does not document is no evidence
    assert observer.alarm_state(DR, "writer-alarm") is AlarmState(state)


def test_an_alarm_that_is_not_there_is_missing_and_logged_as_a_wiring_fault() -> None:
    # GIVEN no alarm of that name in the region
    cloudwatch = _cloudwatch_answering({"MetricAlarms": [], "CompositeAlarms": []})
    clock = FakeClock()
    observer = Observer(SETTINGS, lambda *_, **__: cloudwatch, clock, Deadline(clock, 1e9))
    # WHEN the coordinator reads it
    with log_records(observe_module.logger) as records:
        state = observer.alarm_state(DR, "writer-alarm")
    # THEN MISSING (never evidence), and the log names the region and the alarm
    assert state is AlarmState.MISSING
    assert [(r.getMessage(), r.levelname, r.region, r.alarm) for r in records] == [
        ("alarm not found", "ERROR", DR, "writer-alarm")
    ]


def test_a_throttled_alarm_read_is_retried_on_the_injected_clock_and_logged() -> None:
    # GIVEN the region's CloudWatch throttling the first read
    cloudwatch = _cloudwatch_answering(
        "Throttling", {"MetricAlarms": [{"AlarmName": "writer-alarm", "StateValue": "OK"}]}
    )
    clock = FakeClock()
    observer = Observer(SETTINGS, lambda *_, **__: cloudwatch, clock, Deadline(clock, 1e9))
    # WHEN the coordinator reads the alarm
    with log_records(observe_module.logger) as records:
        state = observer.alarm_state(DR, "writer-alarm")
    # THEN it waited the first backoff on its own clock, said so, and read the state
    assert state is AlarmState.OK
    assert clock.sleeps == [1.0]
    assert [(r.getMessage(), r.operation) for r in records] == [
        ("throttled, retrying", "describe_alarms")
    ]


def test_an_alarm_read_is_not_retried_past_the_deadline_and_counts_as_unreachable() -> None:
    # GIVEN throttling, and less time left than the first backoff
    cloudwatch = _cloudwatch_answering("Throttling")
    clock = FakeClock()
    observer = Observer(
        SETTINGS, lambda *_, **__: cloudwatch, clock, Deadline(clock, clock.monotonic() + 0.5)
    )
    # WHEN the coordinator reads the alarm
    with log_records(observe_module.logger) as records:
        state = observer.alarm_state(DR, "writer-alarm")
    # THEN at once UNREACHABLE (a region whose API does not answer is a region in trouble),
    # with the region, the alarm and the error in the log
    assert state is AlarmState.UNREACHABLE
    assert clock.sleeps == []
    ((record,),) = [records]
    assert record.getMessage() == "alarm unreadable, counting the region as unhealthy"
    assert (record.levelname, record.region, record.alarm) == ("WARNING", DR, "writer-alarm")
    assert "Throttling" in record.error


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


PAGE = Request(Operation.FAILOVER, DR, Trigger.PAGE, observed_at="2026-11-23T01:00:00+00:00")


@pytest.mark.parametrize(
    ("request_", "probe", "writer", "verdict"),
    [
        # The page is the DR vantage point: the DR probe alarm need not have fired yet ...
        (PAGE, AlarmState.OK, AlarmState.ALARM, Verdict.PROCEED),
        (PAGE, AlarmState.INSUFFICIENT_DATA, AlarmState.UNREACHABLE, Verdict.PROCEED),
        (PAGE, AlarmState.ALARM, AlarmState.ALARM, Verdict.PROCEED),
        # ... but the primary's own vantage point is still required.
        (PAGE, AlarmState.OK, AlarmState.OK, Verdict.NO_ACTION),
        (PAGE, AlarmState.ALARM, AlarmState.OK, Verdict.NO_ACTION),
        (PAGE, AlarmState.OK, AlarmState.INSUFFICIENT_DATA, Verdict.NO_ACTION),
        (PAGE, AlarmState.OK, AlarmState.MISSING, Verdict.NO_ACTION),
        # The same readings without a page: the alarm trigger needs the DR probe alarm.
        (FAILOVER, AlarmState.OK, AlarmState.ALARM, Verdict.NO_ACTION),
        (FAILOVER, AlarmState.INSUFFICIENT_DATA, AlarmState.UNREACHABLE, Verdict.NO_ACTION),
    ],
)
def test_page_is_the_target_vantage_point_and_only_that(
    request_: Request, probe: AlarmState, writer: AlarmState, verdict: Verdict
) -> None:
    # GIVEN the readings / WHEN deciding / THEN the page replaces the target's alarm, nothing else
    decision = decide(request_, _obs(target_probe_alarm=probe, writer_alarm=writer), POLICY)
    assert decision.verdict is verdict
    gate = next(c for c in decision.checks if c.name == "writer_unhealthy_twice")
    assert ("paged by the peer watch in us-west-2" in gate.detail) is (request_ is PAGE)


def test_page_keeps_every_other_gate() -> None:
    # GIVEN a page and an unhealthy primary, with one other gate failing each time
    in_progress = topology.parse_global_cluster(
        global_cluster_response(
            GID,
            [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False)],
            failover_state={
                "Status": "failing-over",
                "FromDbClusterArn": cluster_arn(PRIMARY, "p"),
                "ToDbClusterArn": cluster_arn(DR, "d"),
            },
        )["GlobalClusters"][0]
    )
    already_writer = topology.parse_global_cluster(
        global_cluster_response(
            GID, [member(PRIMARY, "p", writer=False), member(DR, "d", writer=True)]
        )["GlobalClusters"][0]
    )
    base = {"target_probe_alarm": AlarmState.OK, "writer_alarm": AlarmState.ALARM}
    cases = {
        "no_failover_in_progress": (_obs(**base, topology=in_progress), Verdict.NO_ACTION),
        "target_not_writer": (_obs(**base, topology=already_writer), Verdict.NO_ACTION),
        "target_available": (_obs(**base, target_cluster=None), Verdict.REFUSED),
        "lag_within_budget": (_obs(**base, lag=LagReading(5001)), Verdict.REFUSED),
    }

    # WHEN deciding / THEN that gate stops the page
    for gate, (obs, verdict) in cases.items():
        decision = decide(PAGE, obs, POLICY)
        assert (decision.verdict, decision.checks[-1].name) == (verdict, gate)
        assert not decision.checks[-1].passed


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


BLOCK_SECONDS = 1800


def _eventually_consistent_reads_miss_the_last_write(params: dict[str, Any], **_: Any) -> Any:
    # moto answers every read from the latest write. DynamoDB does so only for a strongly
    # consistent read; an eventually consistent one "might not reflect the results of a recently
    # completed write operation" (DynamoDB Developer Guide, "Read consistency"). The double
    # answers such a read as the worst case AWS allows: the item is not there yet.
    if json.loads(params["body"]).get("ConsistentRead") is True:
        return None
    return AWSResponse(params["url"], 200, {}, None), {}


def _lock(clock: FakeClock) -> FailoverLock:
    dynamodb = client("dynamodb", DR)
    dynamodb.meta.events.register_first(
        "before-call.dynamodb.GetItem", _eventually_consistent_reads_miss_the_last_write
    )
    dynamodb.create_table(
        TableName=LOCK_TABLE,
        KeySchema=[{"AttributeName": "LockId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return FailoverLock(
        dynamodb,
        LOCK_TABLE,
        DR,
        GID,
        clock,
        lease_seconds=900,
        failed_block_seconds=BLOCK_SECONDS,
    )


@pytest.mark.usefixtures("moto_aws")
def test_lock_lifecycle_and_lease_expiry() -> None:
    # GIVEN a free lock
    clock = FakeClock()
    lock = _lock(clock)

    # WHEN a first owner takes it, a second is refused until the lease goes stale
    assert lock.acquire(owner="a", operation="failover", target_region=DR, force=False) is None
    with pytest.raises(LockUnavailable) as excinfo:
        lock.acquire(owner="b", operation="failover", target_region=DR, force=True)
    assert not excinfo.value.blocked_by_failure
    # ... told who holds it, and nothing about a block: a live lease is not a failure
    assert str(excinfo.value) == (
        f"lock {GID} is in_progress (owner a, failover to {DR}): no detail"
    )
    # ... the lease is live up to its last second (900 s), stale only after it
    clock.advance(900)
    with pytest.raises(LockUnavailable):
        lock.acquire(owner="b", operation="failover", target_region=DR, force=True)
    clock.advance(1)
    replaced = lock.acquire(owner="b", operation="failover", target_region=DR, force=False)
    assert replaced is not None and replaced.owner == "a"

    # THEN the stale owner can no longer finish; the live one releases with a record kept
    assert lock.complete("a", "late") is False
    long_detail = "promoted us-west-2; " * 60  # 1,200 characters
    assert lock.complete("b", long_detail) is True
    record = lock.read()
    assert record is not None
    assert record.state is LockState.COMPLETED
    # ... with its detail cut to the lock's bound of 1,000 characters, stamped with the time
    assert record.detail == long_detail[:1000]
    assert record.updated_at == int(clock.time())
    assert record.expires_at is not None and record.expires_at > clock.time() + 6 * 86400


@pytest.mark.usefixtures("moto_aws")
def test_a_taken_lock_records_who_took_it_for_what_and_when() -> None:
    # GIVEN a free lock, then one whose attempt failed (so that force may take it)
    clock = FakeClock(start=1_800_000_000)
    lock = _lock(clock)
    # WHEN a coordinator takes it, unforced / THEN the item says who, what and when, as
    # `drctl unlock` shows it before deleting it
    lock.acquire(owner="coord-1", operation="failover", target_region=DR, force=False)
    raw = lock.dynamodb.get_item(
        TableName=LOCK_TABLE, Key={"LockId": {"S": GID}}, ConsistentRead=True
    )["Item"]
    assert raw == {
        "LockId": {"S": GID},
        "State": {"S": "in_progress"},
        "Owner": {"S": "coord-1"},
        "Operation": {"S": "failover"},
        "TargetRegion": {"S": DR},
        "AcquiredAt": {"N": "1800000000"},
        "UpdatedAt": {"N": "1800000000"},
        "ExpiresAt": {"N": str(1_800_000_000 + 900)},
        "Detail": {"S": ""},
    }
    # WHEN an operator forces a request over the failed attempt / THEN the item says so
    lock.fail("coord-1", "api refused")
    clock.advance(60)
    lock.acquire(owner="operator", operation="switchover", target_region=PRIMARY, force=True)
    assert lock.read() == LockRecord(
        lock_id=GID,
        state=LockState.IN_PROGRESS,
        owner="operator",
        operation="switchover",
        target_region=PRIMARY,
        expires_at=1_800_000_060 + 900,
        detail="forced",
        updated_at=1_800_000_060,
    )


@pytest.mark.usefixtures("moto_aws")
def test_a_refused_acquire_learns_the_holder_from_the_refusal_itself() -> None:
    # GIVEN a lock another coordinator holds
    clock = FakeClock()
    lock = _lock(clock)
    lock.acquire(owner="a", operation="failover", target_region=DR, force=False)
    reads: list[str] = []
    lock.dynamodb.meta.events.register(
        "before-call.dynamodb.GetItem", lambda **_: reads.append("GetItem")
    )
    # WHEN a second one tries / THEN the refused write carries the holder (ALL_OLD on a failed
    # condition): it names it without a second read, which a racing release could change
    with pytest.raises(LockUnavailable, match="owner a"):
        lock.acquire(owner="b", operation="failover", target_region=DR, force=False)
    assert reads == []


class _RefusalWithoutHolder:
    """A lock table whose refused write names no holder (no `Item` on the failed condition),
    and whose strongly consistent read then finds `item` (None: the item is gone)."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        self.item = item
        self.reads: list[dict[str, Any]] = []

    def put_item(self, **_: Any) -> dict[str, Any]:
        error = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "refused"}}
        raise ClientError(error, "PutItem")

    def get_item(self, **params: Any) -> dict[str, Any]:
        self.reads.append(params)
        return {} if self.item is None else {"Item": self.item}


def _failed_item(updated_at: int) -> dict[str, Any]:
    return {
        "LockId": {"S": GID},
        "State": {"S": "failed"},
        "Owner": {"S": "a"},
        "Operation": {"S": "failover"},
        "TargetRegion": {"S": DR},
        "UpdatedAt": {"N": str(updated_at)},
        "Detail": {"S": "api refused"},
    }


@pytest.mark.parametrize("item", [_failed_item(1_800_000_000), None])
def test_a_refusal_without_the_holder_reads_it_consistently(item: dict[str, Any] | None) -> None:
    # GIVEN a refused write that does not say who holds the lock
    table = _RefusalWithoutHolder(item)
    clock = FakeClock(start=1_800_000_060)
    lock = FailoverLock(
        table, LOCK_TABLE, DR, GID, clock, lease_seconds=900, failed_block_seconds=BLOCK_SECONDS
    )
    # WHEN a coordinator tries to take it
    with pytest.raises(LockUnavailable) as excinfo:
        lock.acquire(owner="b", operation="failover", target_region=DR, force=False)
    # THEN it reads the holder, strongly consistent, and names it with its block; an item gone
    # by then is "held" by nobody it can name, with no block to report
    assert table.reads == [
        {"TableName": LOCK_TABLE, "Key": {"LockId": {"S": GID}}, "ConsistentRead": True}
    ]
    if item is None:
        assert (excinfo.value.record, excinfo.value.blocked_until) == (None, None)
        assert str(excinfo.value) == "lock is held"
    else:
        assert excinfo.value.record is not None and excinfo.value.record.owner == "a"
        assert excinfo.value.blocked_until == 1_800_000_000 + BLOCK_SECONDS


@pytest.mark.usefixtures("moto_aws")
def test_failed_lock_blocks_unforced_requests_for_the_bound_only() -> None:
    # GIVEN an attempt that failed
    clock = FakeClock()
    lock = _lock(clock)
    lock.acquire(owner="a", operation="failover", target_region=DR, force=False)
    lock.fail("a", "api refused")
    failed_at = int(clock.time())
    record = lock.read()
    assert record is not None and record.expires_at is None  # no TTL: it is the record

    # WHEN an unforced request comes just inside the bound / THEN blocked, saying until when
    clock.advance(BLOCK_SECONDS - 1)
    with pytest.raises(LockUnavailable, match="blocks unforced requests until") as excinfo:
        lock.acquire(owner="b", operation="failover", target_region=DR, force=False)
    assert excinfo.value.blocked_by_failure
    assert excinfo.value.blocked_until == failed_at + BLOCK_SECONDS

    # WHEN it comes past the bound / THEN it takes the lock, and learns what it replaced
    clock.advance(2)
    replaced = lock.acquire(owner="c", operation="failover", target_region=DR, force=False)
    assert replaced is not None and replaced.state is LockState.FAILED
    assert replaced.detail == "api refused"
    assert lock.read().owner == "c"  # type: ignore[union-attr]


@pytest.mark.usefixtures("moto_aws")
def test_a_blocked_request_is_told_the_end_of_the_block_in_utc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a coordinator whose local time zone is not UTC, and an attempt that failed at
    # 2026-11-23 01:05:00 UTC
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        clock = FakeClock(start=datetime(2026, 11, 23, 1, 5, tzinfo=UTC).timestamp())
        lock = _lock(clock)
        lock.acquire(owner="a", operation="failover", target_region=DR, force=False)
        lock.fail("a", "api refused")
        # WHEN an unforced request comes during the block (1800 s)
        with pytest.raises(LockUnavailable) as excinfo:
            lock.acquire(owner="b", operation="failover", target_region=DR, force=False)
    finally:
        monkeypatch.undo()
        time.tzset()
    # THEN it reads when the block ends, in UTC whatever the local zone
    assert str(excinfo.value).endswith("; blocks unforced requests until 2026-11-23T01:35:00Z")


@pytest.mark.usefixtures("moto_aws")
def test_force_acts_over_a_young_failed_lock_never_over_a_live_lease() -> None:
    # GIVEN an attempt that failed a second ago
    clock = FakeClock()
    lock = _lock(clock)
    lock.acquire(owner="a", operation="failover", target_region=DR, force=False)
    lock.unconfirmed("a", "not seen to finish")
    clock.advance(1)

    # WHEN an operator forces / THEN it takes the lock at once
    replaced = lock.acquire(owner="op", operation="failover", target_region=DR, force=True)
    assert replaced is not None and replaced.state is LockState.UNCONFIRMED

    # ... but force never takes a live lease (that would run two role changes at once)
    with pytest.raises(LockUnavailable) as excinfo:
        lock.acquire(owner="op2", operation="failover", target_region=DR, force=True)
    assert not excinfo.value.blocked_by_failure


@pytest.mark.usefixtures("moto_aws")
def test_a_lock_edited_by_hand_blocks_until_cleared_or_forced() -> None:
    # GIVEN a lock item someone put into an unknown state, a day ago
    clock = FakeClock()
    lock = _lock(clock)
    lock.dynamodb.put_item(
        TableName=LOCK_TABLE,
        Item={
            "LockId": {"S": GID},
            "State": {"S": "paused-by-ops"},
            "UpdatedAt": {"N": str(int(clock.time()) - 86_400)},
        },
    )

    # WHEN an unforced request comes / THEN blocked like a failure, with no expiry
    with pytest.raises(
        LockUnavailable, match=r"; blocks unforced requests until cleared$"
    ) as excinfo:
        lock.acquire(owner="b", operation="failover", target_region=DR, force=False)
    assert excinfo.value.blocked_by_failure
    assert excinfo.value.blocked_until is None
    # ... and a forced one acts over it
    lock.acquire(owner="op", operation="failover", target_region=DR, force=True)


@pytest.mark.usefixtures("moto_aws")
def test_a_lock_item_without_a_state_blocks_like_a_failure() -> None:
    # GIVEN a lock item that carries only its key (written by hand, or by another tool)
    clock = FakeClock()
    lock = _lock(clock)
    lock.dynamodb.put_item(TableName=LOCK_TABLE, Item={"LockId": {"S": GID}})
    # WHEN an unforced request comes / THEN it is blocked until cleared, as an unknown state is
    with pytest.raises(LockUnavailable, match=r"; blocks unforced requests until cleared$") as exc:
        lock.acquire(owner="b", operation="failover", target_region=DR, force=False)
    assert exc.value.blocked_by_failure and exc.value.blocked_until is None
    # ... and it reads as a failed record whose missing attributes are empty, never None
    assert lock.read() == LockRecord(
        lock_id=GID,
        state=LockState.FAILED,
        owner="",
        operation="",
        target_region="",
        expires_at=None,
        detail="",
        updated_at=None,
    )


def test_a_refusal_without_a_record_says_the_lock_is_held() -> None:
    # GIVEN / WHEN the lock was refused but its item could not be read back / THEN plain words
    refusal = LockUnavailable(None)
    assert str(refusal) == "lock is held"
    assert not refusal.blocked_by_failure


@pytest.mark.parametrize(
    ("state", "expires_at", "now", "stale"),
    [
        (LockState.IN_PROGRESS, 1000, 999, False),
        (LockState.IN_PROGRESS, 1000, 1000, False),  # live to its last second
        (LockState.IN_PROGRESS, 1000, 1001, True),
        (LockState.IN_PROGRESS, None, 10**10, False),  # no expiry: never stale
        (LockState.FAILED, 1000, 1001, False),  # only a lease goes stale
    ],
)
def test_a_dry_run_describes_a_lease_as_stale_only_after_its_expiry(
    state: LockState, expires_at: int | None, now: int, stale: bool
) -> None:
    # GIVEN a lock item as read / WHEN a dry run asks whether its holder is gone / THEN
    record = LockRecord(GID, state, "a", "failover", DR, expires_at, "")
    assert record.is_stale(now) is stale


def test_clear_instructions_give_the_exact_command() -> None:
    # GIVEN / WHEN the text every page about a blocking lock carries / THEN it is runnable
    text = clear_instructions("aurora-dr-failover-lock-usw2-dev", DR, GID)
    assert (
        "aws dynamodb delete-item --region us-west-2 --table-name "
        f'aurora-dr-failover-lock-usw2-dev --key \'{{"LockId":{{"S":"{GID}"}}}}\''
    ) in text
    assert "python -m drctl unlock --stack <stack> --region us-west-2" in text
    # ... and says what force does, so nobody clears a record they could act over
    assert text.endswith("; a manual request with force acts over it without clearing it")


@pytest.mark.usefixtures("moto_aws")
def test_unconfirmed_lock_is_resolved_by_an_rds_event_only() -> None:
    # GIVEN an attempt whose completion was not seen
    clock = FakeClock()
    lock = _lock(clock)
    lock.acquire(owner="a", operation="failover", target_region=DR, force=False)
    assert lock.unconfirmed("a", "timed out waiting") is True
    # ... it is kept without expiry: DynamoDB's TTL must not delete the only record of an
    # attempt whose outcome nobody saw
    record = lock.read()
    assert record is not None and record.state is LockState.UNCONFIRMED
    assert record.expires_at is None

    # WHEN the completion event resolves it (twice: the second is a no-op)
    assert lock.resolve_unconfirmed(succeeded=True, detail="RDS-EVENT-0185") is True
    assert lock.resolve_unconfirmed(succeeded=False, detail="late duplicate") is False

    # THEN the lock is free again, and the record expires like any completed attempt's
    record = lock.read()
    assert record is not None and record.state is LockState.COMPLETED
    assert record.expires_at is not None and record.expires_at > clock.time() + 6 * 86400
    lock.acquire(owner="b", operation="switchover", target_region=PRIMARY, force=False)


@pytest.mark.usefixtures("moto_aws")
def test_an_rds_failure_event_keeps_the_unconfirmed_record_as_failed_without_expiry() -> None:
    # GIVEN an attempt whose completion was not seen
    clock = FakeClock()
    lock = _lock(clock)
    lock.acquire(owner="a", operation="failover", target_region=DR, force=False)
    lock.unconfirmed("a", "timed out waiting")

    # WHEN RDS reports that it failed
    assert (
        lock.resolve_unconfirmed(succeeded=False, detail="RDS reported the global failover failed")
        is True
    )

    # THEN it is failed, kept (no TTL) and blocks unforced requests like any failed attempt
    record = lock.read()
    assert record is not None and record.state is LockState.FAILED
    assert record.expires_at is None and record.detail == "RDS reported the global failover failed"
    with pytest.raises(LockUnavailable, match="blocks unforced requests until"):
        lock.acquire(owner="b", operation="failover", target_region=DR, force=False)
