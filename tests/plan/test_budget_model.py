"""The recovery-time arithmetic of `drplan.budget`, on small synthetic runs with round numbers.

Every expected figure below is computed by hand from the synthetic stack's registrations and the
synthetic AWS assumptions, not by the model: a changed formula fails here even when the README
tables are regenerated with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import pytest

from decisions.peer_watch import ticker_definition
from drplan import budget
from drplan.budget import Part, Phase, RecoveryPath, recovery_budget
from drplan.harness import PlanRun, Registration
from lambdas.drcommon import contract

PRIMARY, DR = "us-east-1", "us-west-2"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
FUNCTION = "aws:lambda/function:Function"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
CHECKER_NAME = "syn-health-checker-usw2"
COORDINATOR_NAME = "syn-coordinator-usw2"
WATCH_NAME = "syn-peer-watch-usw2"
CHECKER_ARN = f"arn:aws:lambda:{DR}:123456789012:function:{CHECKER_NAME}"
COORDINATOR_ARN = f"arn:aws:lambda:{DR}:123456789012:function:{COORDINATOR_NAME}"
WATCH_ARN = f"arn:aws:lambda:{DR}:123456789012:function:{WATCH_NAME}"
TICKER_ARN = f"arn:aws:states:{DR}:123456789012:stateMachine:syn-ticker"
# AWS's part, in round numbers that cannot add up to one another by accident.
ASSUMED = {
    "eventbridge_delivery_seconds": 2,
    "lambda_async_invoke_seconds": 1,
    "healthy_region_api_call_seconds": 0.5,
    "failover_global_cluster_seconds": 50,
    "switchover_global_cluster_seconds": 40,
    "global_endpoint_update_seconds": 4,
    "global_endpoint_client_cache_seconds": 3,
    "route53_health_check_update_seconds": 30,
    "completion_poll_seconds": 7,
}
ASSUMPTIONS = {
    key: {"value": value, "source": f"source of {key}"} for key, value in ASSUMED.items()
}
# One black-holed call with connect 1 s, read 2 s (watch) or 3 s (coordinator), 2 attempts:
# 2 x (1 + read) + botocore's one backoff of at most 50 ms.
WATCH_REMOTE = 2 * (1 + 2) + 0.05
COORDINATOR_REMOTE = 2 * (1 + 3) + 0.05


def registration(
    type_: str, name: str, region: str | None, inputs: dict, **outputs
) -> Registration:
    """A custom resource as the recording monitor would keep it (no parent, no options)."""
    return Registration(
        urn=f"urn:pulumi:syn::aurora-dr::{type_}::{name}",
        type=type_,
        name=name,
        custom=True,
        parent="",
        provider="",
        dependencies=[],
        property_dependencies={},
        protect=False,
        ignore_changes=[],
        delete_before_replace=False,
        inputs=inputs,
        secret_inputs=[],
        id=f"{name}-id",
        outputs=outputs,
        region=region,
    )


def alarm(
    name: str, region: str, metric: str, period: int, evaluation: int, datapoints
) -> Registration:
    """A health alarm of the contract; `datapoints=None` leaves `datapointsToAlarm` unset."""
    inputs = {
        "name": name,
        "namespace": contract.NAMESPACE,
        "metricName": metric,
        # numbers arrive as floats under the mocks
        "period": float(period),
        "evaluationPeriods": float(evaluation),
    }
    if datapoints is not None:
        inputs["datapointsToAlarm"] = float(datapoints)
    return registration(
        ALARM, name, region, inputs, arn=f"arn:aws:cloudwatch:{region}:123456789012:alarm:{name}"
    )


def watch_env(**changes: str) -> dict[str, str]:
    env = {
        "HEALTH_CHECKER_FUNCTION_NAME": CHECKER_NAME,
        "COORDINATOR_FUNCTION_NAME": COORDINATOR_NAME,
        "PROBE_CADENCE_SECONDS": "10",
        "CONFIRMATION_WINDOW_SECONDS": "30",
        "EXECUTION_SECONDS": "120",
        "PEER_PROBE_TIMEOUT_SECONDS": "6",
        "HEALTH_PROBE_TIMEOUT_SECONDS": "27",
        "IN_REGION_FAILOVER_EXCUSE_SECONDS": "60",
        "REMOTE_CONNECT_TIMEOUT_SECONDS": "1",
        "REMOTE_READ_TIMEOUT_SECONDS": "2",
        "REMOTE_MAX_ATTEMPTS": "2",
    }
    return {**env, **changes}


def coordinator_env(**changes: str) -> dict[str, str]:
    env = {
        "POLL_INTERVAL_SECONDS": "5",
        "LOCAL_HEALTH_CHECKER_FUNCTION_NAME": CHECKER_NAME,
        "LOCAL_HEALTH_RUN_FUNCTION_NAME": WATCH_NAME,
        "PEER_PROBE_TIMEOUT_SECONDS": "7",
        "REMOTE_CONNECT_TIMEOUT_SECONDS": "1",
        "REMOTE_READ_TIMEOUT_SECONDS": "3",
        "REMOTE_MAX_ATTEMPTS": "2",
    }
    return {**env, **changes}


@dataclass(frozen=True)
class Synthetic:
    """The knobs of a minimal stack: the DR health checker, coordinator and peer watch, the
    ticker and the schedule that starts it, the three health alarms the model reads, the writer
    records, and how the coordinator is woken."""

    probe_minutes: int = 2
    # (period, evaluation periods, datapoints to alarm or None)
    peer_alarm: tuple = (60, 3, 2)
    dr_writer_alarm: tuple = (60, 4, 2)
    primary_writer_alarm: tuple = (60, 2, None)
    writer_ttls: tuple = (5, 10)
    checker_env: dict = field(
        default_factory=lambda: {"PROBE_TIMEOUT_SECONDS": "4", "RUN_BUDGET_SECONDS": "25"}
    )
    coordinator_env: dict = field(default_factory=coordinator_env)
    watch_env: dict = field(default_factory=watch_env)
    ticker: bool = True  # the schedule starts the ticker that invokes the watch
    watch_may_page: bool = True  # the watch's role may invoke the coordinator
    alarm_rule: bool = True  # an EventBridge rule sends the probe alarm to the coordinator

    def run(self) -> PlanRun:
        """The synthetic stack as a `PlanRun`."""
        resources = [
            self._function("health_checker", CHECKER_NAME, CHECKER_ARN, self.checker_env),
            self._function(
                "failover_coordinator", COORDINATOR_NAME, COORDINATOR_ARN, self.coordinator_env
            ),
            self._function("peer_watch", WATCH_NAME, WATCH_ARN, self.watch_env),
            *self._may_invoke("coordinator", [CHECKER_ARN, WATCH_ARN]),
            *self._may_invoke(
                "watch", [CHECKER_ARN, *([COORDINATOR_ARN] if self.watch_may_page else [])]
            ),
            *self._schedule(),
            *self._alarms(),
            *self._records(),
        ]
        if self.alarm_rule:
            peer_alarm_arn = f"arn:aws:cloudwatch:{DR}:123456789012:alarm:syn-peer-writer"
            pattern = {"source": ["aws.cloudwatch"], "resources": [peer_alarm_arn]}
            resources += self._event_rule(
                "peer-lost", [COORDINATOR_ARN], eventPattern=json.dumps(pattern)
            )
        outputs = {"primaryRegion": PRIMARY, "drRegion": DR}
        return PlanRun("syn", resources, outputs, secret_outputs=[], invokes=[])

    def _schedule(self) -> list[Registration]:
        """The health check's schedule rule: it runs the watch's health run, and starts the
        ticker too, when there is one."""
        targets = [WATCH_ARN]
        if not self.ticker:
            return self._event_rule("schedule", targets, scheduleExpression=self.schedule)
        definition = ticker_definition(
            partition="aws", watch_arn=WATCH_ARN, tick_timeout_seconds=30
        )
        machine = registration(
            "aws:sfn/stateMachine:StateMachine",
            "ticker",
            DR,
            {"type": "EXPRESS", "definition": json.dumps(definition)},
            arn=TICKER_ARN,
        )
        rule = self._event_rule(
            "schedule", [*targets, TICKER_ARN], scheduleExpression=self.schedule
        )
        return [machine, *rule]

    @property
    def schedule(self) -> str:
        return f"rate({self.probe_minutes} minutes)"

    def _alarms(self) -> list[Registration]:
        writer = contract.WRITER_AVAILABLE.name
        return [
            alarm("syn-peer-writer", DR, contract.PEER_WRITER_AVAILABLE.name, *self.peer_alarm),
            alarm("syn-dr-writer", DR, writer, *self.dr_writer_alarm),
            alarm("syn-primary-writer", PRIMARY, writer, *self.primary_writer_alarm),
        ]

    def _records(self) -> list[Registration]:
        record = "aws:route53/record:Record"
        writers = [
            registration(record, f"writer-{i}", None, {"name": "writer.syn.db", "ttl": float(ttl)})
            for i, ttl in enumerate(self.writer_ttls)
        ]
        # a reader record with a longer TTL: the writer's answer is what clients cache
        reader = registration(record, "reader", None, {"name": "reader.syn.db", "ttl": 300.0})
        return [*writers, reader]

    @staticmethod
    def _event_rule(name: str, target_arns: list[str], **rule: str) -> list[Registration]:
        """An EventBridge rule (schedule or pattern) in the DR region and its targets."""
        targets = [
            registration(TARGET, f"{name}-target-{i}", DR, {"rule": f"syn-{name}", "arn": arn})
            for i, arn in enumerate(target_arns)
        ]
        return [registration(RULE, name, DR, {"name": f"syn-{name}", **rule}), *targets]

    @staticmethod
    def _function(key: str, name: str, arn: str, env: dict) -> Registration:
        inputs = {
            "name": name,
            "handler": f"{key}.handler.lambda_handler",
            "role": f"arn:aws:iam::123456789012:role/{key}",
            "environment": {"variables": env},
        }
        return registration(FUNCTION, key, DR, inputs, arn=arn)

    @staticmethod
    def _may_invoke(who: str, targets: list[str]) -> list[Registration]:
        key = {"coordinator": "failover_coordinator", "watch": "peer_watch"}[who]
        role = registration(
            "aws:iam/role:Role",
            f"{who}-role",
            None,
            {},
            arn=f"arn:aws:iam::123456789012:role/{key}",
        )
        statement = {"Action": ["lambda:InvokeFunction"], "Resource": targets}
        policy = registration(
            "aws:iam/rolePolicy:RolePolicy",
            f"{who}-policy",
            None,
            {"role": role.id, "policy": json.dumps({"Statement": [statement]})},
        )
        return [role, policy]


def model(synthetic: Synthetic = Synthetic()) -> budget.RecoveryBudget:
    return recovery_budget(synthetic.run(), ASSUMPTIONS)


def seconds_by_phase(path: RecoveryPath | None) -> dict[str, float]:
    assert path is not None
    return {phase.name: pytest.approx(phase.seconds) for phase in path.phases}


def parts(path: RecoveryPath | None, phase: str) -> list[tuple[str, float, str]]:
    assert path is not None
    (found,) = [p for p in path.phases if p.name == phase]
    return [(p.label, p.seconds, p.origin) for p in found.parts]


# -- alarm transitions ----------------------------------------------------------------------------


def test_an_alarm_fires_after_datapoints_to_alarm_periods():
    fires = budget._alarm_parts(alarm("a", DR, "PeerWriterAvailable", 60, 5, 2), to_ok=False)
    assert fires == Part(
        "PeerWriterAvailable alarm fires (2 x 60 s)",
        120,
        "registered: a period x datapoints to alarm",
    )


def test_an_alarm_clears_once_the_breaching_datapoints_leave_the_window():
    # 2 of 5 breaching: OK needs 5 - 2 + 1 = 4 good periods (then at most 1 breaching remains)
    clears = budget._alarm_parts(alarm("a", DR, "WriterAvailable", 60, 5, 2), to_ok=True)
    assert clears == Part(
        "WriterAvailable alarm clears (4 x 60 s)",
        240,
        "registered: a period x (evaluation - datapoints + 1)",
    )


@pytest.mark.parametrize(
    ("period", "evaluation", "datapoints", "fires", "clears"),
    [
        (60, 3, None, 180, 60),  # datapointsToAlarm unset: AWS uses evaluation periods (3 of 3)
        (60, 3, 3, 180, 60),
        (60, 3, 1, 60, 180),
        (10, 6, 4, 40, 30),
        (300, 1, None, 300, 300),
    ],
)
def test_alarm_transition_times(period, evaluation, datapoints, fires, clears):
    registered = alarm("a", DR, "WriterAvailable", period, evaluation, datapoints)
    assert budget._alarm_parts(registered, to_ok=False).seconds == fires
    assert budget._alarm_parts(registered, to_ok=True).seconds == clears


# -- sums -----------------------------------------------------------------------------------------


def test_a_phase_is_the_sum_of_its_parts_and_a_path_the_sum_of_its_phases():
    detection = Phase("detection", [Part("a", 1.5, "x"), Part("b", 2, "x"), Part("c", 0, "x")])
    decision = Phase("decision", [Part("d", 10, "x")])
    assert detection.seconds == 3.5
    assert Phase("empty").seconds == 0
    path = RecoveryPath("s", [detection, decision, Phase("empty")], automatic=True)
    assert path.seconds == 13.5


# -- detection: the peer watch --------------------------------------------------------------------


def test_watch_detection_is_one_cadence_the_window_and_the_slower_confirming_read():
    unplanned = model().unplanned
    assert unplanned.automatic is True
    assert parts(unplanned, "detection") == [
        (
            "next peer probe starts (worst case: one cadence)",
            10,
            f"registered: PROBE_CADENCE_SECONDS of {WATCH_NAME}",
        ),
        (
            "failed probes span the confirmation window",
            30,
            f"registered: CONFIRMATION_WINDOW_SECONDS of {WATCH_NAME}",
        ),
        (
            "the confirming tick reads at once; the slowest: its in-region read of the primary "
            "at its worst (2 x (1 + 2 s))",
            pytest.approx(WATCH_REMOTE),
            f"registered: REMOTE_* of {WATCH_NAME}: attempts x (connect + read) + botocore's "
            "backoff",
        ),
    ]
    assert parts(unplanned, "decision")[0][0] == ("peer watch pages the coordinator")


def test_the_confirming_tick_counts_its_probe_when_that_is_the_slower_read():
    slow_probe = Synthetic(watch_env=watch_env(PEER_PROBE_TIMEOUT_SECONDS="9"))
    (_, _, confirming) = parts(model(slow_probe).unplanned, "detection")
    assert confirming == (
        "the confirming tick reads at once; the slowest: the confirming probe times out",
        9,
        f"registered: PEER_PROBE_TIMEOUT_SECONDS of {WATCH_NAME}",
    )


@pytest.mark.parametrize(
    ("synthetic", "why"),
    [
        (Synthetic(ticker=False), "nothing ticks the watch"),
        (Synthetic(watch_may_page=False), "the watch may not invoke the coordinator"),
        (
            Synthetic(watch_env=watch_env(COORDINATOR_FUNCTION_NAME="someone-else")),
            "the watch names another coordinator",
        ),
    ],
)
def test_without_a_working_watch_detection_waits_for_the_probe_alarm(synthetic, why):
    unplanned = model(synthetic).unplanned
    # 120 + 2 x 60 | 2 + 0.5 + 8.05 + 1
    assert parts(unplanned, "detection")[1][:2] == (
        "PeerWriterAvailable alarm fires (2 x 60 s)",
        120,
    ), why
    assert seconds_by_phase(unplanned)["detection"] == 240
    assert parts(unplanned, "decision")[0][0] == "alarm event reaches the coordinator"
    assert unplanned.automatic is True  # the alarm rule still wakes the coordinator


def test_without_a_dr_coordinator_nothing_wakes_and_recovery_is_manual():
    # GIVEN a stack whose alarm rule targets a coordinator that is not registered in DR
    run = Synthetic(ticker=False).run()
    without = [r for r in run.registrations if r.name != "failover_coordinator"]
    # WHEN the budget is modelled / THEN no rule wakes anything: an operator must act
    unplanned = recovery_budget(replace(run, registrations=without), ASSUMPTIONS).unplanned
    assert unplanned.automatic is False
    assert unplanned.notes[0].startswith("no rule routes the DR probe alarm")


def test_with_neither_watch_nor_alarm_rule_recovery_is_manual():
    unplanned = model(Synthetic(ticker=False, alarm_rule=False)).unplanned
    assert unplanned.automatic is False
    assert unplanned.notes == [
        "no rule routes the DR probe alarm to the DR coordinator and no peer watch pages it: "
        "recovery waits for an operator"
    ]


# -- the decision: concurrent gates, bounded calls ------------------------------------------------


def test_the_decision_is_the_topology_the_slowest_concurrent_read_and_the_lock():
    decision = parts(model().unplanned, "decision")
    assert [label for label, _, _ in decision] == [
        "peer watch pages the coordinator",
        "coordinator reads the topology in its own region",
        "coordinator reads its gates at once; the slowest: a call into the primary region at its "
        "worst (2 x (1 + 3 s))",
        "takes the lock and re-reads the topology",
    ]
    # 1 | 0.5 | max(2 x (1 + 3) + 0.05, 3 x 0.5 lag reads, 7 fresh probe) | 2 x 0.5
    assert [seconds for _, seconds, _ in decision] == [1, 0.5, pytest.approx(COORDINATOR_REMOTE), 1]


def test_a_slow_fresh_probe_is_the_slowest_read_of_a_failover_only():
    slow = Synthetic(coordinator_env=coordinator_env(PEER_PROBE_TIMEOUT_SECONDS="12"))
    failover = parts(model(slow).unplanned, "decision")[2]
    switchover = parts(model(slow).planned, "decision")[1]
    assert failover == (
        "coordinator reads its gates at once; the slowest: the fresh probe of the writer",
        12,
        f"registered: PEER_PROBE_TIMEOUT_SECONDS of {COORDINATOR_NAME}",
    )
    assert switchover[1] == pytest.approx(COORDINATOR_REMOTE)  # a switchover asks for no probe


def test_the_lag_read_counts_its_three_calls_when_it_is_the_slowest_read():
    # GIVEN a coordinator whose call into the primary (1 x (0.1 + 0.2 s)) and fresh probe (1 s)
    # are both quicker than three calls in its own region (3 x 0.5 s)
    quick = coordinator_env(
        REMOTE_CONNECT_TIMEOUT_SECONDS="0.1",
        REMOTE_READ_TIMEOUT_SECONDS="0.2",
        REMOTE_MAX_ATTEMPTS="1",
        PEER_PROBE_TIMEOUT_SECONDS="1",
    )
    budget_ = model(Synthetic(coordinator_env=quick))
    lag_read = (
        "coordinator reads its gates at once; the slowest: the lag read in its own region",
        1.5,
        "assumption: 3 x source of healthy_region_api_call_seconds",
    )
    # THEN both scenarios wait for the lag read: list_metrics twice, then get_metric_data
    assert parts(budget_.unplanned, "decision")[2] == lag_read
    assert parts(budget_.planned, "decision")[1] == lag_read


@pytest.mark.parametrize(
    "missing",
    ["REMOTE_CONNECT_TIMEOUT_SECONDS", "REMOTE_READ_TIMEOUT_SECONDS", "REMOTE_MAX_ATTEMPTS"],
)
def test_a_client_budget_missing_any_one_number_falls_back_to_the_contract_default(missing):
    # GIVEN a coordinator that registers two of the three numbers of its remote-call budget
    env = {k: v for k, v in coordinator_env().items() if k != missing}
    # WHEN the budget is modelled / THEN the call is the contract's whole default budget, said so
    # (the switchover's gates: a failover's fresh probe of 7 s would be the slowest read)
    call = parts(model(Synthetic(coordinator_env=env)).planned, "decision")[1]
    assert call == (
        "coordinator reads its gates at once; the slowest: a call into the primary region at "
        "its worst (2 x (1 + 2 s))",
        pytest.approx(WATCH_REMOTE),
        "contract default: REMOTE_CALL_BUDGET (not registered)",
    )


# -- the two client paths -------------------------------------------------------------------------


def test_global_endpoint_clients_wait_for_aurora_and_their_cache_not_for_our_dns():
    unplanned = model().unplanned
    # 10 + 30 + 6.05 | 1 + 0.5 + 8.05 + 1 | 50 | 4 + 3
    assert seconds_by_phase(unplanned) == {
        "detection": 46.05,
        "decision": 10.55,
        "AWS action": 50,
        "DNS": 7,
    }
    assert unplanned.seconds == pytest.approx(113.6)
    assert [label for label, _, _ in parts(unplanned, "AWS action")] == [
        "FailoverGlobalCluster (AllowDataLoss)"
    ]


def test_route53_clients_wait_for_the_poll_the_alarm_route53_and_the_ttl():
    route53 = model().unplanned.route53
    # same detection and decision | 50 + 5 | 27 + 0.5 + (4 - 2 + 1) x 60 + 30 + max(5, 10)
    assert seconds_by_phase(route53) == {
        "detection": 46.05,
        "decision": 10.55,
        "AWS action": 55,
        "DNS": 247.5,
    }
    # The health run after promotion is one more synchronous invoke (the checker's probes,
    # within the watch's registered invoke timeout), then its publication.
    assert parts(route53, "DNS")[:2] == [
        (
            "coordinator runs the DR health run at once: its invoke of the checker's probes",
            27,
            f"registered: HEALTH_PROBE_TIMEOUT_SECONDS of {WATCH_NAME}",
        ),
        (
            "the health run publishes the metrics",
            0.5,
            "assumption: source of healthy_region_api_call_seconds",
        ),
    ]
    assert parts(route53, "AWS action")[1] == (
        "coordinator sees completion (one poll)",
        5,
        f"registered: POLL_INTERVAL_SECONDS of {COORDINATOR_NAME}",
    )
    assert parts(route53, "DNS")[-1] == (
        "clients' cached answer expires (TTL)",
        10,
        "registered: writer record TTL",
    )


def test_without_the_probe_after_promotion_dns_waits_for_the_next_scheduled_probe():
    synthetic = Synthetic(coordinator_env=coordinator_env(LOCAL_HEALTH_RUN_FUNCTION_NAME="x"))
    route53 = model(synthetic).unplanned.route53
    assert parts(route53, "DNS")[0] == (
        "DR health probe sees the new writer",
        120,
        f"registered: health run schedule in {DR}",
    )


def test_without_registered_numbers_the_model_falls_back_to_defaults_and_assumptions():
    bare = Synthetic(
        checker_env={},
        coordinator_env={
            "LOCAL_HEALTH_CHECKER_FUNCTION_NAME": CHECKER_NAME,
            "LOCAL_HEALTH_RUN_FUNCTION_NAME": WATCH_NAME,
        },
        watch_env={k: v for k, v in watch_env().items() if k != "HEALTH_PROBE_TIMEOUT_SECONDS"},
    )
    unplanned = model(bare).unplanned
    # the contract's remote budget (1 s, 2 s, 2 attempts), the assumed poll, no run budget
    assert parts(unplanned, "decision")[2][1:] == (
        pytest.approx(WATCH_REMOTE),
        "contract default: REMOTE_CALL_BUDGET (not registered)",
    )
    assert parts(unplanned.route53, "AWS action")[1] == (
        "coordinator sees completion (one poll)",
        7,
        "assumption: source of completion_poll_seconds",
    )
    assert parts(unplanned.route53, "DNS")[0] == (
        "coordinator runs the DR health run at once: its invoke of the checker's probes",
        0,
        "registered: default",
    )


def test_switchover_is_the_gates_the_switchover_and_the_endpoint_for_global_clients():
    planned = model().planned
    assert planned.automatic is True
    # 0 | 0.5 + 8.05 + 1 | 40 | 4 + 3
    assert seconds_by_phase(planned) == {
        "detection": 0,
        "decision": 9.55,
        "AWS action": 40,
        "DNS": 7,
    }
    # Route 53: 40 + 5 | 120 + max(fires 2 x 60, clears 3 x 60) + 30 + 10
    assert seconds_by_phase(planned.route53) == {
        "detection": 0,
        "decision": 9.55,
        "AWS action": 45,
        "DNS": 340,
    }
    slow_demotion = model(Synthetic(primary_writer_alarm=(60, 5, None))).planned.route53
    assert parts(slow_demotion, "DNS")[1][:2] == ("WriterAvailable alarm fires (5 x 60 s)", 300)


# -- one knob, one step ---------------------------------------------------------------------------


def changed_parts(before: RecoveryPath, after: RecoveryPath) -> dict[str, float]:
    """`{label: seconds after - before}` of the parts that moved (matched by phase and place)."""
    moved = {}
    for old, new in zip(before.phases, after.phases, strict=True):
        for a, b in zip(old.parts, new.parts, strict=True):
            if b.seconds != pytest.approx(a.seconds):
                moved[b.label] = b.seconds - a.seconds
    return moved


@pytest.mark.parametrize(
    ("knob", "changed", "path", "label", "step"),
    [
        (
            "probe cadence",
            Synthetic(watch_env=watch_env(PROBE_CADENCE_SECONDS="15")),
            "unplanned",
            "next peer probe starts (worst case: one cadence)",
            5,
        ),
        (
            "confirmation window",
            Synthetic(watch_env=watch_env(CONFIRMATION_WINDOW_SECONDS="40")),
            "unplanned",
            "failed probes span the confirmation window",
            10,
        ),
        (
            "the coordinator's remote read timeout",
            Synthetic(coordinator_env=coordinator_env(REMOTE_READ_TIMEOUT_SECONDS="4")),
            "unplanned",
            "coordinator reads its gates at once; the slowest: a call into the primary region at "
            "its worst (2 x (1 + 4 s))",
            2,
        ),
        (
            "the watch's remote read timeout",
            Synthetic(watch_env=watch_env(REMOTE_READ_TIMEOUT_SECONDS="3")),
            "unplanned",
            "the confirming tick reads at once; the slowest: its in-region read of the primary at "
            "its worst (2 x (1 + 3 s))",
            2,
        ),
        (
            "poll interval",
            Synthetic(coordinator_env=coordinator_env(POLL_INTERVAL_SECONDS="8")),
            "unplanned.route53",
            "coordinator sees completion (one poll)",
            3,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_one_knob_moves_the_budget_by_exactly_one_step(knob, changed, path, label, step):
    def pick(budget_: budget.RecoveryBudget, dotted: str) -> RecoveryPath:
        found = budget_
        for name in dotted.split("."):
            found = getattr(found, name)
        return found

    before, after = model(), model(changed)
    assert changed_parts(pick(before, path), pick(after, path)) == {label: pytest.approx(step)}, (
        knob
    )
    assert pick(after, path).seconds - pick(before, path).seconds == pytest.approx(step)


def test_the_poll_interval_does_not_delay_global_endpoint_clients():
    slower_poll = Synthetic(coordinator_env=coordinator_env(POLL_INTERVAL_SECONDS="30"))
    assert model(slower_poll).unplanned.seconds == pytest.approx(model().unplanned.seconds)
    assert model(slower_poll).planned.seconds == pytest.approx(model().planned.seconds)


# -- what the model refuses -----------------------------------------------------------------------


def test_a_stack_without_a_dr_probe_schedule_cannot_be_modeled():
    run = Synthetic().run()
    unscheduled = replace(run, registrations=[r for r in run.registrations if r.type != TARGET])
    with pytest.raises(LookupError, match=f"no health-run schedule in {DR}"):
        recovery_budget(unscheduled, ASSUMPTIONS)


def test_two_alarms_on_one_health_metric_cannot_be_modeled():
    run = Synthetic().run()
    extra = alarm("syn-dr-writer-2", DR, contract.WRITER_AVAILABLE.name, 60, 1, None)
    doubled = replace(run, registrations=[*run.registrations, extra])
    with pytest.raises(LookupError, match=f"expected one WriterAvailable alarm in {DR}, found 2"):
        recovery_budget(doubled, ASSUMPTIONS)


@pytest.mark.parametrize(
    "missing",
    ["PROBE_CADENCE_SECONDS", "CONFIRMATION_WINDOW_SECONDS", "PEER_PROBE_TIMEOUT_SECONDS"],
)
def test_a_watch_missing_any_one_of_its_timings_is_refused_by_name(missing):
    # GIVEN a ticked watch that registers all but one of the three numbers its detection adds up
    env = {k: v for k, v in watch_env().items() if k != missing}
    # WHEN the budget is modelled / THEN it refuses to guess, naming the watch
    with pytest.raises(LookupError, match=f"peer watch {WATCH_NAME} registers no cadence"):
        model(Synthetic(watch_env=env))


def test_a_watch_that_asks_another_checker_is_no_health_run():
    # GIVEN a DR peer watch on the schedule that names a health checker the stack does not have
    other_checker = Synthetic(watch_env=watch_env(HEALTH_CHECKER_FUNCTION_NAME="someone-else"))
    # WHEN the budget is modelled / THEN nothing publishes the health metrics on that schedule
    with pytest.raises(LookupError, match=f"no health-run schedule in {DR}"):
        model(other_checker)


def test_a_stack_without_a_dr_peer_watch_cannot_be_modeled():
    run = Synthetic(ticker=False, alarm_rule=False).run()
    without = [r for r in run.registrations if r.name != "peer_watch"]
    with pytest.raises(LookupError, match=f"no health-run schedule in {DR}"):
        recovery_budget(replace(run, registrations=without), ASSUMPTIONS)


def _watch_policy_resource(run: PlanRun, resource: str) -> PlanRun:
    """`run` with the watch's inline policy granting the checker in a list, and one more
    `Resource` as a single string."""
    statements = [
        {"Action": ["lambda:InvokeFunction"], "Resource": [CHECKER_ARN]},
        {"Action": "lambda:InvokeFunction", "Resource": resource},
    ]
    document = json.dumps({"Statement": statements})
    registrations = [
        replace(r, inputs={**r.inputs, "policy": document}) if r.name == "watch-policy" else r
        for r in run.registrations
    ]
    return replace(run, registrations=registrations)


def test_a_policy_naming_one_resource_as_a_string_grants_exactly_that_function():
    # GIVEN a watch policy with a statement whose `Resource` is one string (IAM accepts a
    # string or a list), and no alarm rule: only the watch can page the coordinator
    run = Synthetic(alarm_rule=False).run()

    def pages(resource: str) -> bool:
        return recovery_budget(
            _watch_policy_resource(run, resource), ASSUMPTIONS
        ).unplanned.automatic

    # WHEN the string is the coordinator's ARN / THEN the watch may page it
    assert pages(COORDINATOR_ARN) is True
    # but a longer ARN that merely begins with the coordinator's grants nothing
    assert pages(f"{COORDINATOR_ARN}-old") is False
