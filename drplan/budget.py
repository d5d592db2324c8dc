"""Recovery-time and recovery-point budget of a stack, read from what the program registers.

Every figure the program decides (probe schedule, alarm periods and datapoints, record TTLs, the
coordinator's trigger path and timeouts) is read from the registered resources, so changing the
sizing map moves the budget. What AWS decides (how long a promotion takes, how fast Route 53
follows an alarm) comes from `data/recovery_assumptions.json`, each figure with its source.

The model is worst-case for our own mechanisms (a failure just after a probe waits a whole
interval) and typical for AWS actions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drplan.cost import function_schedules
from drplan.harness import PlanRun, Registration
from drplan.inventory import region_label
from lambdas.drcommon import contract
from lambdas.drcommon.contract import CoordinatorEnv, HealthCheckerEnv

ASSUMPTIONS_FILE = Path(__file__).resolve().parent / "data" / "recovery_assumptions.json"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
FUNCTION = "aws:lambda/function:Function"


@dataclass(frozen=True)
class Part:
    """One contribution to a phase, with where the number comes from."""

    label: str
    seconds: float
    origin: str


@dataclass
class Phase:
    """Detection, decision, AWS action or DNS."""

    name: str
    parts: list[Part] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Duration of the phase."""
        return sum(p.seconds for p in self.parts)


@dataclass
class RecoveryPath:
    """One recovery scenario (unplanned failover or planned switchover)."""

    scenario: str
    phases: list[Phase]
    automatic: bool
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Modeled recovery time."""
        return sum(p.seconds for p in self.phases)


@dataclass
class RpoStatement:
    """What bounds data loss."""

    managed_rpo_seconds: int | None
    rpo_lag_alarm_ms: dict[str, float]
    replication_lag_alarm_ms: dict[str, float]
    coordinator_lag_gate_ms: dict[str, float]


@dataclass
class RecoveryBudget:
    """Both scenarios and the RPO statement."""

    unplanned: RecoveryPath
    planned: RecoveryPath
    rpo: RpoStatement


def load_assumptions(path: Path = ASSUMPTIONS_FILE) -> dict[str, dict[str, Any]]:
    """AWS behaviour assumptions: key -> {value, source}."""
    return json.loads(path.read_text())["assumptions"]


class _Reader:
    """Looks up the registered facts the model needs."""

    def __init__(self, run: PlanRun) -> None:
        self.run = run
        self.primary = run.outputs["primaryRegion"]
        self.dr = run.outputs["drRegion"]
        self.schedules = function_schedules(run)

    def function(self, key: str, region: str) -> Registration | None:
        return next(
            (
                f
                for f in self.run.of_type(FUNCTION)
                if f.region == region and f.inputs["handler"].startswith(f"{key}.")
            ),
            None,
        )

    def env(self, function: Registration | None, name: str) -> str | None:
        if function is None:
            return None
        return (function.inputs.get("environment") or {}).get("variables", {}).get(name)

    def health_alarm(self, region: str, metric: contract.HealthMetric) -> Registration:
        matches = [
            a
            for a in self.run.of_type(ALARM)
            if a.region == region
            and a.inputs.get("namespace") == contract.NAMESPACE
            and a.inputs.get("metricName") == metric.name
        ]
        if len(matches) != 1:
            raise LookupError(f"expected one {metric.name} alarm in {region}, found {len(matches)}")
        return matches[0]

    def probe_interval(self, region: str) -> tuple[float, str]:
        checker = self.function("health_checker", region)
        seconds = self.schedules.get(checker.outputs.get("arn", "")) if checker else None
        if not seconds:
            raise LookupError(f"no health-checker schedule in {region}")
        return float(seconds), f"registered: health checker schedule in {region}"

    def writer_ttl(self) -> tuple[float, str]:
        records = [
            r
            for r in self.run.of_type("aws:route53/record:Record")
            if str(r.inputs.get("name", "")).startswith("writer.")
        ]
        ttl = max(float(r.inputs["ttl"]) for r in records)
        return ttl, "registered: writer record TTL"

    def policy_allows_invoke(self, function: Registration, target: Registration) -> bool:
        """The function's role may invoke `target` (read from its registered inline policy)."""
        roles = {r.outputs.get("arn"): r.id for r in self.run.of_type("aws:iam/role:Role")}
        role_id = roles.get(function.inputs.get("role"))
        for policy in self.run.of_type("aws:iam/rolePolicy:RolePolicy"):
            if policy.inputs.get("role") != role_id:
                continue
            for statement in json.loads(policy.inputs["policy"])["Statement"]:
                resources = statement["Resource"]
                resources = [resources] if isinstance(resources, str) else resources
                if "lambda:InvokeFunction" in statement["Action"] and (
                    target.outputs.get("arn") in resources
                ):
                    return True
        return False

    def pages_coordinator(self, region: str) -> bool:
        """The region's health checker pages its coordinator directly on a failed peer probe."""
        checker = self.function("health_checker", region)
        coordinator = self.function("failover_coordinator", region)
        if checker is None or coordinator is None:
            return False
        named = self.env(
            checker, HealthCheckerEnv.COORDINATOR_FUNCTION_NAME
        ) == coordinator.inputs.get("name")
        return named and self.policy_allows_invoke(checker, coordinator)

    def probes_after_promotion(self, region: str) -> bool:
        """The coordinator runs the new writer region's health checker right after promotion."""
        coordinator = self.function("failover_coordinator", region)
        checker = self.function("health_checker", region)
        if coordinator is None or checker is None:
            return False
        named = self.env(
            coordinator, CoordinatorEnv.LOCAL_HEALTH_CHECKER_FUNCTION_NAME
        ) == checker.inputs.get("name")
        return named and self.policy_allows_invoke(coordinator, checker)

    def triggered_by_alarm(self, region: str, alarm: Registration) -> bool:
        """An EventBridge rule on this alarm's state change targets the region's coordinator."""
        coordinator = self.function("failover_coordinator", region)
        if coordinator is None:
            return False
        for rule in self.run.of_type("aws:cloudwatch/eventRule:EventRule"):
            if rule.region != region or "eventPattern" not in rule.inputs:
                continue
            pattern = json.loads(rule.inputs["eventPattern"])
            if alarm.outputs.get("arn") not in pattern.get("resources", []):
                continue
            for target in self.run.of_type("aws:cloudwatch/eventTarget:EventTarget"):
                if target.inputs.get("rule") == rule.inputs.get("name") and target.inputs.get(
                    "arn"
                ) == coordinator.outputs.get("arn"):
                    return True
        return False


def _alarm_parts(alarm: Registration, *, to_ok: bool) -> Part:
    period = float(alarm.inputs["period"])
    evaluation = int(alarm.inputs["evaluationPeriods"])
    datapoints = int(alarm.inputs.get("datapointsToAlarm", evaluation))
    # ALARM needs M breaching datapoints; OK needs the breaching ones to leave the N-window.
    count = (evaluation - datapoints + 1) if to_ok else datapoints
    verb = "clears" if to_ok else "fires"
    return Part(
        f"{alarm.inputs['metricName']} alarm {verb} ({count} x {period:.0f} s)",
        count * period,
        f"registered: {alarm.inputs.get('name')} period x "
        + ("(evaluation - datapoints + 1)" if to_ok else "datapoints to alarm"),
    )


def _assumed(assumptions: dict, key: str, label: str) -> Part:
    entry = assumptions[key]
    return Part(label, float(entry["value"]), f"assumption: {entry['source']}")


def _registered_number(
    reader: _Reader, function: Registration | None, env: str, label: str
) -> Part | None:
    value = reader.env(function, env)
    if function is None or value is None:
        return None
    return Part(label, float(value), f"registered: {env} of {function.inputs.get('name')}")


@dataclass(frozen=True)
class _Common:
    """What both scenarios share: the DR probe interval, the record TTL, Route 53, one poll."""

    probe: Part
    ttl: Part
    route53: Part
    poll: Part
    gates: Part


def recovery_budget(run: PlanRun, assumptions: dict | None = None) -> RecoveryBudget:
    """Model the unplanned regional failover and the planned switchover of `run`."""
    assumptions = assumptions or load_assumptions()
    reader = _Reader(run)
    common = _common_parts(reader, assumptions)
    return RecoveryBudget(
        unplanned=_unplanned(reader, assumptions, common),
        planned=_planned(reader, assumptions, common),
        rpo=_rpo(run, reader),
    )


def _common_parts(reader: _Reader, assumptions: dict) -> _Common:
    probe_seconds, probe_origin = reader.probe_interval(reader.dr)
    ttl_seconds, ttl_origin = reader.writer_ttl()
    coordinator = reader.function("failover_coordinator", reader.dr)
    completion = "coordinator sees completion (one poll)"
    poll = _registered_number(
        reader, coordinator, CoordinatorEnv.POLL_INTERVAL_SECONDS, completion
    ) or _assumed(assumptions, "completion_poll_seconds", completion)
    return _Common(
        probe=Part(
            "next health probe runs (worst case: a full interval)", probe_seconds, probe_origin
        ),
        ttl=Part("clients' cached answer expires (TTL)", ttl_seconds, ttl_origin),
        route53=_assumed(
            assumptions, "route53_health_check_update_seconds", "Route 53 follows the alarm"
        ),
        poll=poll,
        gates=_assumed(assumptions, "coordinator_gate_seconds", "coordinator checks its gates"),
    )


def _unplanned_detection(
    reader: _Reader, assumptions: dict, common: _Common, notes: list[str]
) -> tuple[list[Part], list[Part], bool]:
    """Detection and decision parts of an unplanned failover, and whether it is automatic."""
    probe_alarm = reader.health_alarm(reader.dr, contract.PEER_WRITER_AVAILABLE)
    alarm_path = [common.probe, _alarm_parts(probe_alarm, to_ok=False)]
    paged = reader.pages_coordinator(reader.dr)
    automatic = paged or reader.triggered_by_alarm(reader.dr, probe_alarm)
    if not automatic:
        notes.append(
            "no rule routes the DR probe alarm to the DR coordinator: recovery waits for an operator"
        )
    if not paged:
        delivery = _assumed(
            assumptions, "eventbridge_delivery_seconds", "alarm event reaches the coordinator"
        )
        return alarm_path, [delivery, common.gates], automatic
    # The failed probe itself pages the coordinator; with the primary region lost, its API is
    # unreachable, which satisfies the second vantage point at once. (A partial outage, APIs up
    # and database down, waits for the primary's own writer alarm instead.)
    checker = reader.function("health_checker", reader.dr)
    timeout = _registered_number(
        reader, checker, HealthCheckerEnv.PROBE_TIMEOUT_SECONDS, "the failed probe times out"
    ) or Part("the failed probe times out", 0, "registered: default")
    page = _assumed(
        assumptions, "lambda_async_invoke_seconds", "health checker pages the coordinator"
    )
    notes.append(
        "detection: the DR health checker pages the coordinator on its first failed probe; "
        f"without it the probe alarm path takes {sum(p.seconds for p in alarm_path):.0f} s"
    )
    return [common.probe, timeout], [page, common.gates], automatic


def _new_writer_probe(reader: _Reader, common: _Common) -> Part:
    """How soon after promotion the DR health checker probes the new writer."""
    if not reader.probes_after_promotion(reader.dr):
        return Part(
            "DR health probe sees the new writer", common.probe.seconds, common.probe.origin
        )
    checker = reader.function("health_checker", reader.dr)
    label = "coordinator runs the DR health probe at once"
    return _registered_number(reader, checker, HealthCheckerEnv.RUN_BUDGET_SECONDS, label) or Part(
        label, 0, "registered: default"
    )


def _unplanned(reader: _Reader, assumptions: dict, common: _Common) -> RecoveryPath:
    notes: list[str] = []
    detection, decision, automatic = _unplanned_detection(reader, assumptions, common, notes)
    dr_writer_alarm = reader.health_alarm(reader.dr, contract.WRITER_AVAILABLE)
    failover = _assumed(
        assumptions, "failover_global_cluster_seconds", "FailoverGlobalCluster (AllowDataLoss)"
    )
    dns = [
        _new_writer_probe(reader, common),
        _alarm_parts(dr_writer_alarm, to_ok=True),
        common.route53,
        common.ttl,
    ]
    return RecoveryPath(
        scenario="unplanned regional failover (primary region lost)",
        automatic=automatic,
        notes=notes,
        phases=[
            Phase("detection", detection),
            Phase("decision", decision),
            Phase("AWS action", [failover, common.poll]),
            Phase("DNS", dns),
        ],
    )


def _planned(reader: _Reader, assumptions: dict, common: _Common) -> RecoveryPath:
    # A switchover moves DNS once the old primary's writer alarm fires *and* the new one clears;
    # both follow the same probe schedule, so the slower of the two alarm transitions counts.
    demote = _alarm_parts(
        reader.health_alarm(reader.primary, contract.WRITER_AVAILABLE), to_ok=False
    )
    promote = _alarm_parts(reader.health_alarm(reader.dr, contract.WRITER_AVAILABLE), to_ok=True)
    switchover = _assumed(
        assumptions, "switchover_global_cluster_seconds", "SwitchoverGlobalCluster"
    )
    # The new writer is probed at once, but the old primary's checker keeps its schedule: its
    # alarm has to see the demotion.
    roles_seen = Part("health probes see the new roles", common.probe.seconds, common.probe.origin)
    return RecoveryPath(
        scenario="planned switchover (operator, no data loss)",
        automatic=True,
        phases=[
            Phase("detection", [Part("operator decision (not counted)", 0, "by definition")]),
            Phase("decision", [common.gates]),
            Phase("AWS action", [switchover, common.poll]),
            Phase(
                "DNS",
                [
                    roles_seen,
                    max(demote, promote, key=lambda p: p.seconds),
                    common.route53,
                    common.ttl,
                ],
            ),
        ],
    )


def _rpo(run: PlanRun, reader: _Reader) -> RpoStatement:
    managed = None
    for group in run.of_type("aws:rds/clusterParameterGroup:ClusterParameterGroup"):
        for parameter in group.inputs.get("parameters") or []:
            if parameter.get("name") == "rds.global_db_rpo":
                managed = int(parameter["value"])

    def thresholds(metric: str) -> dict[str, float]:
        return {
            region_label(a): float(a.inputs["threshold"])
            for a in run.of_type(ALARM)
            if a.inputs.get("metricName") == metric
        }

    gates = {}
    for region in (reader.primary, reader.dr):
        value = reader.env(
            reader.function("failover_coordinator", region), CoordinatorEnv.LAG_BUDGET_MS
        )
        if value is not None:
            gates[region] = float(value)
    return RpoStatement(
        managed_rpo_seconds=managed,
        rpo_lag_alarm_ms=thresholds("AuroraGlobalDBRPOLag"),
        replication_lag_alarm_ms=thresholds("AuroraGlobalDBReplicationLag"),
        coordinator_lag_gate_ms=gates,
    )
