"""The recovery-time arithmetic of `drplan.budget`, on small synthetic runs with round numbers.

Every expected figure below is computed by hand from the synthetic stack's registrations and the
synthetic AWS assumptions, not by the model: a changed formula fails here even when the README
tables are regenerated with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import pytest

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
CHECKER_ARN = f"arn:aws:lambda:{DR}:123456789012:function:{CHECKER_NAME}"
COORDINATOR_ARN = f"arn:aws:lambda:{DR}:123456789012:function:{COORDINATOR_NAME}"
# AWS's part, in round numbers that cannot add up to one another by accident.
ASSUMED = {
    "eventbridge_delivery_seconds": 2,
    "coordinator_gate_seconds": 3,
    "failover_global_cluster_seconds": 50,
    "switchover_global_cluster_seconds": 40,
    "route53_health_check_update_seconds": 30,
    "completion_poll_seconds": 7,
    "lambda_async_invoke_seconds": 1,
}
ASSUMPTIONS = {
    key: {"value": value, "source": f"source of {key}"} for key, value in ASSUMED.items()
}


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


@dataclass(frozen=True)
class Synthetic:
    """The knobs of a minimal stack: the DR health checker and coordinator, their schedule, the
    three health alarms the model reads, the writer records, and how the coordinator is woken."""

    probe_minutes: int = 2
    # (period, evaluation periods, datapoints to alarm or None)
    peer_alarm: tuple = (60, 3, 2)
    dr_writer_alarm: tuple = (60, 4, 2)
    primary_writer_alarm: tuple = (60, 2, None)
    writer_ttls: tuple = (5, 10)
    checker_env: dict = field(
        default_factory=lambda: {"PROBE_TIMEOUT_SECONDS": "4", "RUN_BUDGET_SECONDS": "25"}
    )
    coordinator_env: dict = field(default_factory=lambda: {"POLL_INTERVAL_SECONDS": "5"})
    pages: bool = True  # the checker names the coordinator ...
    may_page: bool = True  # ... and its role may invoke it
    alarm_rule: bool = True  # an EventBridge rule sends the probe alarm to the coordinator
    probes_after_promotion: bool = True

    def run(self) -> PlanRun:
        """The synthetic stack as a `PlanRun`."""
        checker_env = dict(self.checker_env)
        coordinator_env = dict(self.coordinator_env)
        if self.pages:
            checker_env["COORDINATOR_FUNCTION_NAME"] = COORDINATOR_NAME
        if self.probes_after_promotion:
            coordinator_env["LOCAL_HEALTH_CHECKER_FUNCTION_NAME"] = CHECKER_NAME
        resources = [
            self._function("health_checker", CHECKER_NAME, CHECKER_ARN, checker_env),
            self._function(
                "failover_coordinator", COORDINATOR_NAME, COORDINATOR_ARN, coordinator_env
            ),
            *self._may_invoke("checker", [COORDINATOR_ARN] if self.may_page else []),
            *self._may_invoke("coordinator", [CHECKER_ARN]),
            *self._event_rule("schedule", CHECKER_ARN, scheduleExpression=self.schedule),
            *self._alarms(),
            *self._records(),
        ]
        if self.alarm_rule:
            peer_alarm_arn = f"arn:aws:cloudwatch:{DR}:123456789012:alarm:syn-peer-writer"
            pattern = {"source": ["aws.cloudwatch"], "resources": [peer_alarm_arn]}
            resources += self._event_rule(
                "peer-lost", COORDINATOR_ARN, eventPattern=json.dumps(pattern)
            )
        outputs = {"primaryRegion": PRIMARY, "drRegion": DR}
        return PlanRun("syn", resources, outputs, secret_outputs=[], invokes=[])

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
    def _event_rule(name: str, target_arn: str, **rule: str) -> list[Registration]:
        """An EventBridge rule (schedule or pattern) in the DR region and its one target."""
        return [
            registration(RULE, name, DR, {"name": f"syn-{name}", **rule}),
            registration(TARGET, f"{name}-target", DR, {"rule": f"syn-{name}", "arn": target_arn}),
        ]

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
        key = "health_checker" if who == "checker" else "failover_coordinator"
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


def seconds_by_phase(path: RecoveryPath) -> dict[str, float]:
    return {phase.name: phase.seconds for phase in path.phases}


def parts(path: RecoveryPath, phase: str) -> list[tuple[str, float, str]]:
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


# -- registered numbers and their fallbacks -------------------------------------------------------


def test_a_registered_number_is_read_from_the_functions_environment():
    run = Synthetic(checker_env={"PROBE_TIMEOUT_SECONDS": "4.5"}).run()
    reader = budget._Reader(run)
    checker = reader.function("health_checker", DR)
    part = budget._registered_number(reader, checker, "PROBE_TIMEOUT_SECONDS", "times out")
    assert part == Part("times out", 4.5, f"registered: PROBE_TIMEOUT_SECONDS of {CHECKER_NAME}")
    # an unset variable, or no function at all, is no number (the caller falls back)
    assert budget._registered_number(reader, checker, "RUN_BUDGET_SECONDS", "x") is None
    assert budget._registered_number(reader, None, "PROBE_TIMEOUT_SECONDS", "x") is None


def test_without_registered_numbers_the_model_falls_back_to_defaults_and_assumptions():
    # GIVEN a checker without probe timeout or run budget, a coordinator without poll interval
    unplanned = model(Synthetic(checker_env={}, coordinator_env={})).unplanned
    # THEN the probe timeout and the immediate probe count 0, the poll the assumed 7 s
    assert parts(unplanned, "detection")[1] == (
        "the failed probe times out",
        0,
        "registered: default",
    )
    assert parts(unplanned, "AWS action")[1] == (
        "coordinator sees completion (one poll)",
        7,
        "assumption: source of completion_poll_seconds",
    )
    assert parts(unplanned, "DNS")[0] == (
        "coordinator runs the DR health probe at once",
        0,
        "registered: default",
    )
    # 120 + 0 | 1 + 3 | 50 + 7 | 0 + 180 + 30 + 10
    assert seconds_by_phase(unplanned) == {
        "detection": 120,
        "decision": 4,
        "AWS action": 57,
        "DNS": 220,
    }
    assert unplanned.seconds == 401


# -- the unplanned failover -----------------------------------------------------------------------


def test_paged_detection_is_one_probe_interval_plus_the_probe_timeout():
    unplanned = model().unplanned
    assert unplanned.automatic is True
    assert [p.name for p in unplanned.phases] == ["detection", "decision", "AWS action", "DNS"]
    assert parts(unplanned, "detection") == [
        (
            "next health probe runs (worst case: a full interval)",
            120,
            f"registered: health checker schedule in {DR}",
        ),
        ("the failed probe times out", 4, f"registered: PROBE_TIMEOUT_SECONDS of {CHECKER_NAME}"),
    ]
    assert [label for label, _, _ in parts(unplanned, "decision")] == [
        "health checker pages the coordinator",
        "coordinator checks its gates",
    ]
    # 120 + 4 | 1 + 3 | 50 + 5 | 25 + (4 - 2 + 1) x 60 + 30 + max(5, 10)
    assert seconds_by_phase(unplanned) == {
        "detection": 124,
        "decision": 4,
        "AWS action": 55,
        "DNS": 245,
    }
    assert unplanned.seconds == 428
    assert unplanned.notes == [
        "detection: the DR health checker pages the coordinator on its first failed probe; "
        "without it the probe alarm path takes 240 s"
    ]


def test_without_the_page_detection_waits_for_the_probe_alarm():
    unplanned = model(Synthetic(pages=False)).unplanned
    # 120 + 2 x 60 | 2 + 3 | 50 + 5 | 25 + 180 + 30 + 10
    assert seconds_by_phase(unplanned) == {
        "detection": 240,
        "decision": 5,
        "AWS action": 55,
        "DNS": 245,
    }
    assert parts(unplanned, "detection")[1][:2] == (
        "PeerWriterAvailable alarm fires (2 x 60 s)",
        120,
    )
    assert [label for label, _, _ in parts(unplanned, "decision")] == [
        "alarm event reaches the coordinator",
        "coordinator checks its gates",
    ]
    assert unplanned.seconds == 545
    assert unplanned.automatic is True  # the alarm rule still wakes the coordinator
    assert unplanned.notes == []


def test_a_named_coordinator_the_checker_may_not_invoke_is_no_page():
    unplanned = model(Synthetic(may_page=False)).unplanned
    assert seconds_by_phase(unplanned)["detection"] == 240
    assert unplanned.seconds == 545


def test_the_page_alone_makes_recovery_automatic():
    unplanned = model(Synthetic(alarm_rule=False)).unplanned
    assert unplanned.automatic is True
    assert unplanned.seconds == 428


def test_with_neither_page_nor_alarm_rule_recovery_is_manual():
    unplanned = model(Synthetic(pages=False, alarm_rule=False)).unplanned
    assert unplanned.automatic is False
    assert unplanned.notes == [
        "no rule routes the DR probe alarm to the DR coordinator: recovery waits for an operator"
    ]
    assert unplanned.seconds == 545


def test_without_the_probe_after_promotion_dns_waits_for_the_next_scheduled_probe():
    unplanned = model(Synthetic(probes_after_promotion=False)).unplanned
    assert parts(unplanned, "DNS")[0] == (
        "DR health probe sees the new writer",
        120,
        f"registered: health checker schedule in {DR}",
    )
    # 120 + 180 + 30 + 10
    assert seconds_by_phase(unplanned)["DNS"] == 340
    assert unplanned.seconds == 523


def test_the_longest_writer_ttl_counts():
    unplanned = model(Synthetic(writer_ttls=(20, 5))).unplanned
    assert parts(unplanned, "DNS")[-1] == (
        "clients' cached answer expires (TTL)",
        20,
        "registered: writer record TTL",
    )


# -- the planned switchover -----------------------------------------------------------------------


def test_switchover_dns_waits_for_the_slower_of_demotion_and_promotion():
    planned = model().planned
    assert planned.automatic is True
    # 0 | 3 | 40 + 5 | 120 + max(fires 2 x 60, clears 3 x 60) + 30 + 10
    assert seconds_by_phase(planned) == {
        "detection": 0,
        "decision": 3,
        "AWS action": 45,
        "DNS": 340,
    }
    assert planned.seconds == 388
    assert parts(planned, "DNS")[1][:2] == ("WriterAvailable alarm clears (3 x 60 s)", 180)
    # a slower demotion (fires after 5 x 60 s) is the one that counts
    slow_demotion = model(Synthetic(primary_writer_alarm=(60, 5, None))).planned
    assert parts(slow_demotion, "DNS")[1][:2] == ("WriterAvailable alarm fires (5 x 60 s)", 300)
    assert slow_demotion.seconds == 508


# -- what the model refuses -----------------------------------------------------------------------


def test_a_stack_without_a_dr_probe_schedule_cannot_be_modeled():
    run = Synthetic().run()
    unscheduled = replace(run, registrations=[r for r in run.registrations if r.type != TARGET])
    with pytest.raises(LookupError, match=f"no health-checker schedule in {DR}"):
        recovery_budget(unscheduled, ASSUMPTIONS)


def test_two_alarms_on_one_health_metric_cannot_be_modeled():
    run = Synthetic().run()
    extra = alarm("syn-dr-writer-2", DR, contract.WRITER_AVAILABLE.name, 60, 1, None)
    doubled = replace(run, registrations=[*run.registrations, extra])
    with pytest.raises(LookupError, match=f"expected one WriterAvailable alarm in {DR}, found 2"):
        recovery_budget(doubled, ASSUMPTIONS)
