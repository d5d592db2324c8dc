"""Peer watch: the confirmation table (pure), the ticks of an execution, and one tick end to end.

The table's rows are GIVEN a run of ticks (seconds after the execution started, what the probe
found, the roles, the writer region's in-region view) / THEN the action of each tick. Together
they are the safety properties of the detector: never on one failed probe, never on one vantage
point's gap in evidence, never during an in-region or a global failover, never when this region
is the writer; always once failures span the window.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aws_fixtures import (  # noqa: F401 - fixture
    ACCOUNT,
    CLUSTERS,
    DR,
    GID,
    PRIMARY,
    FakeClock,
    TestClientFactory,
    client,
    failing_over,
    moto_aws,
    peer_answer,
    topology,
)
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from conftest import FakeLambdaContext

from drcommon import contract
from drcommon.contract import WatchEnv, worst_case_call_seconds
from drcommon.inregion import InRegionView
from drcommon.peerprobe import ProbeOutcome
from peer_watch import confirmation, handler, page, watch
from peer_watch.confirmation import Action, Policy, Roles, Tick, WatchState, judge, schedule
from peer_watch.settings import Settings, SettingsError

START = 1_800_000_000.0
POLICY = Policy(
    cadence_seconds=5, window_seconds=20, execution_seconds=60, in_region_excuse_seconds=60
)
PRIMARY_WRITES = Roles(writer_region=PRIMARY, peer_cluster_id=CLUSTERS[PRIMARY])
AVAILABLE = InRegionView(status="available")
FAILING = ProbeOutcome.FAILED


@dataclass(frozen=True)
class At:
    """One tick of a row: `seconds` after the execution started."""

    seconds: float
    probe: ProbeOutcome = FAILING
    roles: Roles | None = PRIMARY_WRITES
    in_region: InRegionView | None = AVAILABLE


def ticks(*seconds: float, **fields: Any) -> tuple[At, ...]:
    return tuple(At(s, **fields) for s in seconds)


def every(first: float, last: float, **fields: Any) -> tuple[At, ...]:
    return ticks(*range(int(first), int(last) + 1, 5), **fields)


@dataclass(frozen=True)
class Row:
    name: str
    ticks: tuple[At, ...]
    expect: tuple[Action, ...]
    expect_reason: str | None = None  # a fragment of the last tick's reason


W, P, H, OK = Action.WAIT, Action.PAGE, Action.HOLD, Action.HEALTHY

ROWS = [
    Row("one_failed_probe_never_pages", ticks(0), (W,), "1 failed probe(s) spanning 0 s"),
    Row("failures_short_of_the_window_wait", every(0, 15), (W, W, W, W)),
    Row(
        "failures_spanning_the_window_page",
        every(0, 20),
        (W, W, W, W, P),
        "peer writer lost: 5 failed probes over 20 s (window 20 s); no in-region failover",
    ),
    Row(
        "a_writer_answer_ends_the_streak",
        (*every(0, 10), At(15, ProbeOutcome.WRITER), *every(20, 40)),
        (W, W, W, OK, W, W, W, W, P),
    ),
    Row(
        "an_unanswering_checker_is_no_evidence_either_way",
        every(0, 25, probe=ProbeOutcome.UNAVAILABLE),
        (H,) * 6,
        "no probe this tick",
    ),
    Row(
        "an_unanswering_checker_neither_ends_nor_extends_a_streak",
        (At(0), At(5, ProbeOutcome.UNAVAILABLE), *every(10, 20)),
        (W, H, W, W, P),
    ),
    Row(
        "a_peer_that_answers_as_a_reader_is_no_writer",
        every(0, 20, probe=ProbeOutcome.NOT_WRITER),
        (W, W, W, W, P),
    ),
    Row(
        "this_region_holds_the_writer_role",
        every(0, 25, roles=Roles(writer_region=DR)),
        (OK,) * 6,
        f"{DR} holds the writer role",
    ),
    Row(
        "during_a_global_failover_the_coordinator_is_not_paged",
        every(0, 25, roles=replace(PRIMARY_WRITES, global_failover="failing-over")),
        (H,) * 6,
        "a global failing-over is running",
    ),
    Row(
        "unreadable_roles_do_not_hide_a_lost_writer",
        every(0, 20, roles=Roles(error="topology unreadable: throttled")),
        (W, W, W, W, P),
    ),
    Row(
        "during_an_in_region_failover_seen_by_its_status_no_page",
        every(0, 85, in_region=InRegionView(status="failing-over")),
        (W,) * 4 + (H,) * 13 + (P,),
        "in-region failover running for 65 s (seen by its status failing-over), longer than",
    ),
    Row(
        "during_an_in_region_failover_seen_by_its_start_event_no_page",
        every(0, 35, in_region=InRegionView(status="available", started_at=START - 30)),
        (W, W, W, W, H, H, H, P),
        "running for 65 s (seen by its start event), longer than the 60 s it may excuse",
    ),
    Row(
        "a_primary_api_that_does_not_answer_excuses_nothing",
        every(0, 20, in_region=InRegionView(error="describe_db_clusters: connect timeout")),
        (W, W, W, W, P),
        "no in-region failover can be seen",
    ),
    Row(
        "paged_once_per_execution",
        every(0, 30),
        (W, W, W, W, P, H, H),
        "coordinator already paged by this execution",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_confirmation_table(row: Row) -> None:
    state = WatchState.start(START)
    actions, reason = [], ""
    for spec in row.ticks:
        tick = Tick(
            at=START + spec.seconds,
            probe=spec.probe,
            probe_detail="probe",
            roles=spec.roles,
            in_region=spec.in_region if state.streak_open else None,
        )
        judgement = judge(state, tick, POLICY, DR)
        actions.append(judgement.action)
        reason, state = judgement.reason, judgement.state
    assert tuple(actions) == row.expect
    if row.expect_reason is not None:
        assert row.expect_reason in reason


def test_one_failed_probe_never_pages_whatever_the_window():
    # GIVEN a watch configured with no window at all (the settings refuse it; the decision does
    # not rely on them)
    no_window = replace(POLICY, window_seconds=0)
    state = WatchState.start(START)
    tick = Tick(START, FAILING, "probe", PRIMARY_WRITES, AVAILABLE)
    # THEN a single failed probe is a suspicion, never a page
    assert judge(state, tick, no_window, DR).action is W


# --- the ticks of one execution ------------------------------------------------------------------


def run_execution(
    outcome_at,
    *,
    started: float = START,
    policy: Policy = POLICY,
    in_region: InRegionView = AVAILABLE,
) -> list[tuple]:
    """Tick one execution to its end: `outcome_at(seconds after START)` is each probe's result.
    Returns `(seconds after START, action)` of every tick."""
    state, log = WatchState.start(started), []
    while True:
        now = state.next_tick_at
        tick = Tick(
            at=now,
            probe=outcome_at(now - START),
            probe_detail="probe",
            roles=PRIMARY_WRITES,
            in_region=in_region if state.streak_open else None,
        )
        judgement = judge(state, tick, policy, DR)
        log.append((now - START, judgement.action))
        state, more = schedule(judgement.state, policy, now)
        if not more:
            return log


def test_a_healthy_execution_ticks_its_minute_at_the_cadence_and_ends():
    log = run_execution(lambda _: ProbeOutcome.WRITER)
    assert [at for at, _ in log] == list(range(0, 60, 5))
    assert {action for _, action in log} == {OK}


def test_the_window_holds_across_the_boundary_between_two_executions():
    # GIVEN the writer is lost 2 s before the last tick of one execution (at 55 s), and the
    # next execution starts at 60 s, knowing nothing of the failures before it
    def lost_from(moment: float):
        return lambda at: FAILING if at >= moment else ProbeOutcome.WRITER

    first = run_execution(lost_from(53))
    second = run_execution(lost_from(53), started=START + 60)
    # THEN the first execution keeps ticking past its minute and pages as soon as the failures
    # span the window (55 s + 20 s), and ends once it has paged
    assert first[-5:] == [(55, W), (60, W), (65, W), (70, W), (75, P)]
    # ... while the second one confirms the loss on its own, a window after its first tick
    assert [(at, a) for at, a in second if a is P] == [(80, P)]


def test_an_execution_never_ticks_past_the_express_limit():
    # GIVEN an in-region failover that would excuse the failures for ten minutes
    policy = replace(POLICY, in_region_excuse_seconds=600)
    log = run_execution(
        lambda _: FAILING, policy=policy, in_region=InRegionView(status="failing-over")
    )
    # THEN the execution holds the streak open, but ends before Express's five minutes
    assert {action for at, action in log if at >= 20} == {H}
    assert max(at for at, _ in log) <= confirmation.LATEST_TICK_SECONDS < 300


def test_a_tick_that_overran_starts_the_next_one_at_once():
    state = WatchState.start(START)
    late = START + 9  # this tick took 9 s with a 5 s cadence
    ahead, more = schedule(state, POLICY, late)
    assert (ahead.next_tick_at, more) == (late, True)


def test_the_state_survives_the_execution_as_json_and_nothing_else_passes():
    state = replace(WatchState.start(START), failing_since=START + 5, failed_probes=2)
    assert WatchState.from_payload(json.loads(json.dumps(state.to_payload()))) == state
    with pytest.raises(ValueError, match="watch state must have exactly the keys"):
        WatchState.from_payload({**state.to_payload(), "extra": 1})
    with pytest.raises(ValueError, match="failing_since must be a number or null"):
        WatchState.from_payload({**state.to_payload(), "failing_since": "soon"})


def test_the_settings_refuse_a_window_shorter_than_one_cadence():
    env = {
        "AWS_REGION": DR,
        "PEER_REGION": PRIMARY,
        "ENVIRONMENT_SUFFIX": "dev",
        "GLOBAL_CLUSTER_ID": GID,
        "HEALTH_CHECKER_FUNCTION_NAME": "checker",
        "COORDINATOR_FUNCTION_NAME": "coordinator",
        WatchEnv.PROBE_CADENCE_SECONDS: "10",
        WatchEnv.CONFIRMATION_WINDOW_SECONDS: "5",
    }
    with pytest.raises(SettingsError, match="CONFIRMATION_WINDOW_SECONDS=5 must be at least"):
        Settings.from_env(env)


# --- one tick end to end (moto Lambda, Stubber RDS, fake clock) ------------------------------------

WATCH_ENV = {
    "AWS_REGION": DR,
    "PEER_REGION": PRIMARY,
    "ENVIRONMENT_SUFFIX": "dev",
    "GLOBAL_CLUSTER_ID": GID,
    "HEALTH_CHECKER_FUNCTION_NAME": "aurora-dr-health-checker-usw2-dev",
    "COORDINATOR_FUNCTION_NAME": "aurora-dr-coordinator-usw2-dev",
    WatchEnv.PROBE_CADENCE_SECONDS: "5",
    WatchEnv.CONFIRMATION_WINDOW_SECONDS: "20",
    WatchEnv.EXECUTION_SECONDS: "60",
    WatchEnv.PEER_PROBE_TIMEOUT_SECONDS: "6",
    WatchEnv.IN_REGION_FAILOVER_EXCUSE_SECONDS: "60",
}
CHECKER, COORDINATOR = (
    WATCH_ENV["HEALTH_CHECKER_FUNCTION_NAME"],
    WATCH_ENV["COORDINATOR_FUNCTION_NAME"],
)


@dataclass
class WatchWorld:
    """The DR peer watch's world: its checker and coordinator in moto, RDS Stubbers, a fake
    clock."""

    clock: FakeClock
    factory: TestClientFactory
    rds: dict[str, Stubber]

    @classmethod
    def build(cls, at: float = START) -> WatchWorld:
        """The world with its clock at `at` (epoch seconds)."""
        factory = TestClientFactory()
        stubs = {r: factory.stubbed("rds", r) for r in (PRIMARY, DR)}
        world = cls(FakeClock(at), factory, stubs)
        role = client("iam", PRIMARY).create_role(RoleName="fn", AssumeRolePolicyDocument="{}")
        for name in (CHECKER, COORDINATOR):
            client("lambda", DR).create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role["Role"]["Arn"],
                Handler="handler.lambda_handler",
                Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            )
        return world

    def checker_answers(self, answer: dict[str, Any], *, takes: float = 0.0, join=None) -> None:
        """The DR checker answers peer probes with `answer` after `takes` seconds (`join`: a
        barrier its call waits at first, to prove it runs alongside the other reads)."""
        started = self.clock.monotonic()

        def respond(params: dict[str, Any], **_: Any) -> Any:
            if params.get("headers", {}).get("X-Amz-Invocation-Type") == "Event":
                return None  # the page: moto takes it
            if join is not None:
                join.wait(timeout=5)
            self.clock.advance_to(started + takes)
            body = json.dumps(answer).encode()
            parsed = {
                "StatusCode": 200,
                "Payload": StreamingBody(__import__("io").BytesIO(body), len(body)),
            }
            return AWSResponse(params["url"], 200, {}, None), parsed

        self.factory("lambda", DR).meta.events.register_first("before-call.lambda.Invoke", respond)

    def expect_topology(self, writer: str = PRIMARY, failover: dict | None = None) -> None:
        self.rds[DR].add_response(
            "describe_global_clusters", topology(writer, failover), {"GlobalClusterIdentifier": GID}
        )

    def expect_in_region(self, status: str = "available") -> None:
        cluster = CLUSTERS[PRIMARY]
        self.rds[PRIMARY].add_response(
            "describe_db_clusters",
            {"DBClusters": [{"DBClusterIdentifier": cluster, "Status": status}]},
            {"DBClusterIdentifier": cluster},
        )
        self.rds[PRIMARY].add_response(
            "describe_events",
            {"Events": []},
            {
                "SourceIdentifier": cluster,
                "SourceType": "db-cluster",
                "StartTime": ANY,
                "EventCategories": ["failover"],
            },
        )

    def run(self, event: dict[str, Any]) -> dict[str, Any]:
        deps = watch.Dependencies(Settings.from_env(WATCH_ENV), self.factory, self.clock)
        return watch.run(event, deps)

    def pages(self) -> list[dict[str, Any]]:
        return [
            json.loads(params["Payload"])
            for service, _, op, params in self.factory.requests
            if op == "Invoke" and params.get("InvocationType") == "Event"
        ]


def streak_event(seconds_failing: float, probes: int) -> dict[str, Any]:
    """The input of a tick at START + 30 s, with a streak open for `seconds_failing`."""
    state = replace(
        WatchState.start(START),
        next_tick_at=START + 30,
        failing_since=START + 30 - seconds_failing,
        failed_probes=probes,
        peer_cluster_id=CLUSTERS[PRIMARY],
    )
    return {"state": state.to_payload(), "nextTickAt": watch.timestamp(START + 30), "done": False}


@pytest.mark.usefixtures("moto_aws")
def test_a_healthy_first_tick_asks_for_one_probe_and_nothing_else():
    world = WatchWorld.build()
    world.checker_answers(peer_answer(ok=True, writer=True))
    out = world.run(contract.WATCH_START_EVENT)
    assert world.factory.peer_probes() == [CHECKER]
    assert [op for _, _, op in world.factory.calls] == ["Invoke"]  # no RDS read, no page
    assert out["nextTickAt"] == watch.timestamp(START + 5) and out["done"] is False
    assert WatchState.from_payload(out["state"]).failing_since is None


@pytest.mark.usefixtures("moto_aws")
def test_the_first_failure_reads_the_roles_but_pages_nobody():
    world = WatchWorld.build()
    world.checker_answers(peer_answer(ok=False, error="timeout: timed out"))
    world.expect_topology()
    out = world.run(contract.WATCH_START_EVENT)
    state = WatchState.from_payload(out["state"])
    assert (state.failing_since, state.failed_probes) == (START, 1)
    assert state.peer_cluster_id == CLUSTERS[PRIMARY]  # for the next tick's in-region read
    assert world.pages() == []
    for stubber in world.rds.values():
        stubber.assert_no_pending_responses()


@pytest.mark.usefixtures("moto_aws")
def test_a_confirmed_loss_pages_the_coordinator_with_a_page_it_accepts():
    from aws_fixtures import ENV

    from failover_coordinator.decision import Trigger
    from failover_coordinator.events import parse_event
    from failover_coordinator.settings import Settings as CoordinatorSettings

    # GIVEN failures for 20 s and one more failed probe, the primary's API answering "available"
    world = WatchWorld.build(at=START + 30)
    world.checker_answers(peer_answer(ok=False, error="timeout: timed out"))
    world.expect_topology()
    world.expect_in_region("available")
    # WHEN the tick runs
    out = world.run(streak_event(20, probes=4))
    # THEN the DR coordinator is paged, asynchronously, once; the execution goes on
    (sent,) = world.pages()
    assert WatchState.from_payload(out["state"]).paged_at == START + 30
    assert out["done"] is False
    request = parse_event(sent, CoordinatorSettings.from_env(ENV), now=START + 31)
    assert request.trigger is Trigger.PAGE and request.target_region == DR
    for stubber in world.rds.values():
        stubber.assert_no_pending_responses()


@pytest.mark.usefixtures("moto_aws")
def test_a_global_failover_in_progress_pages_nobody():
    world = WatchWorld.build(at=START + 30)
    world.checker_answers(peer_answer(ok=False, error="timeout: timed out"))
    world.expect_topology(failover=failing_over(DR))
    world.expect_in_region("available")
    out = world.run(streak_event(25, probes=5))
    assert world.pages() == []
    assert WatchState.from_payload(out["state"]).failing_since is None


@pytest.mark.usefixtures("moto_aws")
def test_the_confirming_tick_costs_its_slowest_read_not_their_sum():
    # GIVEN a black-holed primary region: its RDS API hangs until each call's timeout, and the DR
    # checker's probe of the primary writer times out after 4 s; the two start together (the
    # barrier holds each until the other has started: read one after the other, they would not)
    world = WatchWorld.build(at=START + 30)
    join = threading.Barrier(2)
    started = world.clock.monotonic()
    world.checker_answers(peer_answer(ok=False, error="timeout"), takes=4.0, join=join)
    world.expect_topology()
    black_holed = world.factory.new_client("rds", PRIMARY)

    def hang(request: Any, **_: Any) -> None:
        config = world.factory.last_config("rds", PRIMARY)
        attempts = config.retries["total_max_attempts"]
        join.wait(timeout=5)
        world.clock.advance_to(
            started + worst_case_call_seconds(config.connect_timeout, config.read_timeout, attempts)
        )
        raise ConnectTimeoutError(endpoint_url=request.url)

    black_holed.meta.events.register_first("before-send.rds", hang)
    world.factory.overrides[("rds", PRIMARY)] = black_holed
    # WHEN the tick that may confirm the loss runs
    world.run(streak_event(20, probes=4))
    # THEN it pages (an API that does not answer excuses nothing) after the slower of the two:
    # the remote call budget (2 x (1 + 2) s + backoff), not 4 s + that
    assert len(world.pages()) == 1
    assert not join.broken
    elapsed = world.clock.monotonic() - started
    assert elapsed == pytest.approx(worst_case_call_seconds(1.0, 2.0, 2))
    assert elapsed < 4.0 + worst_case_call_seconds(1.0, 2.0, 2)


def test_the_page_names_both_regions_and_when_the_loss_was_confirmed():
    observed = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
    assert page.page_event(DR, PRIMARY, observed) == {
        "source": "aurora-dr.health-checker",
        "detail-type": "Peer Writer Unreachable",
        "detail": {"region": DR, "peerRegion": PRIMARY, "observedAt": "2026-11-23T01:00:00+00:00"},
    }


@pytest.mark.usefixtures("moto_aws")
def test_the_handler_ticks_with_its_module_seams(monkeypatch: pytest.MonkeyPatch) -> None:
    world = WatchWorld.build()
    world.checker_answers(peer_answer(ok=True, writer=True))
    for key, value in WATCH_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "CLIENT_FACTORY", world.factory)
    monkeypatch.setattr(handler, "CLOCK", world.clock)
    out = handler.lambda_handler(contract.WATCH_START_EVENT, FakeLambdaContext())
    assert set(out) == {"state", "nextTickAt", "done"}
    with pytest.raises(watch.WatchInputError, match="peer_watch accepts"):
        handler.lambda_handler({"watch": "go"}, FakeLambdaContext())
