"""Recovery-time and recovery-point budget of a stack, read from what the program registers.

Every figure the program decides is read from the registered resources: the peer watch's cadence
and confirmation window, the budget of its calls into the primary region, the coordinator's
client budget and fresh-probe timeout, its poll interval, the health run's schedule and its
invoke of the checker, each alarm's period and datapoints, the record TTLs. Changing a knob moves the budget by
exactly what the knob moves. What AWS decides (how long a promotion takes, how fast the global
endpoint and Route 53 follow) comes from `data/recovery_assumptions.json`, each figure with its
source or marked as an assumption a drill must measure.

Two client paths are modeled for each scenario:

* **global writer endpoint** (the headline): clients write through Aurora's global writer
  endpoint, which Aurora repoints itself during `FailoverGlobalCluster` and
  `SwitchoverGlobalCluster`; recovery ends when their cached answer expires;
* **Route 53** (`writer.<zone>`): clients of the private failover records wait for the
  coordinator to see the role change, the new writer's health alarm to clear, Route 53 to follow
  it and the record TTL.

The model is worst-case for our own mechanisms (a failure just after a probe waits a whole
cadence; a black-holed region answers no call before its timeout) and typical for AWS actions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drplan.harness import PlanRun, Registration
from drplan.inventory import region_label
from drplan.ticker import Ticker, env, schedules, tickers
from lambdas.drcommon import contract
from lambdas.drcommon.contract import (
    REMOTE_CALL_BUDGET,
    CoordinatorEnv,
    WatchEnv,
    worst_case_call_seconds,
)

ASSUMPTIONS_FILE = Path(__file__).resolve().parent / "data" / "recovery_assumptions.json"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
FUNCTION = "aws:lambda/function:Function"
# Calls the coordinator makes one after another in its own region while the gates are read: the
# lag (list_metrics for each of the two lag metrics, then get_metric_data).
LOCAL_CHAIN_CALLS = 3
# Taking the lock (one conditional write) and re-reading the topology under it.
LOCK_CALLS = 2


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
    """One recovery scenario (unplanned failover or planned switchover) for one kind of client.

    The headline path is the global writer endpoint's; `route53` is the same scenario for the
    clients of the Route 53 failover records.
    """

    scenario: str
    phases: list[Phase]
    automatic: bool
    notes: list[str] = field(default_factory=list)
    route53: RecoveryPath | None = None

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
        self.schedules = schedules(run)
        self.tickers = tickers(run)

    def function(self, key: str, region: str) -> Registration | None:
        return next(
            (
                f
                for f in self.run.of_type(FUNCTION)
                if f.region == region and f.inputs["handler"].startswith(f"{key}.")
            ),
            None,
        )

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

    def health_run(self, region: str) -> Registration | None:
        """The region's peer watch when it asks the region's health checker for its probes
        (named and allowed): its health run publishes the health metrics."""
        watch = self.function("peer_watch", region)
        if watch is None or not self._names_and_may_invoke(
            watch, WatchEnv.HEALTH_CHECKER_FUNCTION_NAME, "health_checker"
        ):
            return None
        return watch

    def probe_interval(self, region: str) -> tuple[float, str]:
        """How often the health metrics are published: the health run's schedule."""
        watch = self.health_run(region)
        seconds = self.schedules.get(watch.outputs.get("arn", "")) if watch else None
        if not seconds:
            raise LookupError(f"no health-run schedule in {region}")
        return float(seconds), f"registered: health run schedule in {region}"

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

    def _names_and_may_invoke(self, caller: Registration, variable: str, key: str) -> bool:
        target = self.function(key, caller.region or "")
        if target is None or env(caller, variable) != target.inputs.get("name"):
            return False
        return self.policy_allows_invoke(caller, target)

    def watch(self, region: str) -> Ticker | None:
        """The region's ticking peer watch, when it asks the region's health checker for its
        probes and pages the region's coordinator (both named and allowed)."""
        for ticker in self.tickers:
            watch = ticker.watch
            if watch.region != region or not watch.inputs["handler"].startswith("peer_watch."):
                continue
            if self._names_and_may_invoke(
                watch, WatchEnv.HEALTH_CHECKER_FUNCTION_NAME, "health_checker"
            ) and self._names_and_may_invoke(
                watch, WatchEnv.COORDINATOR_FUNCTION_NAME, "failover_coordinator"
            ):
                return ticker
        return None

    def probes_after_promotion(self, region: str) -> bool:
        """The coordinator runs the new writer region's health run right after promotion."""
        coordinator = self.function("failover_coordinator", region)
        return (
            coordinator is not None
            and self.health_run(region) is not None
            and self._names_and_may_invoke(
                coordinator, CoordinatorEnv.LOCAL_HEALTH_RUN_FUNCTION_NAME, "peer_watch"
            )
        )

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


def _assumed(assumptions: dict, key: str, label: str, times: int = 1) -> Part:
    entry = assumptions[key]
    count = f"{times} x " if times != 1 else ""
    return Part(label, times * float(entry["value"]), f"assumption: {count}{entry['source']}")


def _registered_number(function: Registration | None, name: str, label: str) -> Part | None:
    value = env(function, name)
    if function is None or value is None:
        return None
    return Part(label, float(value), f"registered: {name} of {function.inputs.get('name')}")


def remote_call_part(function: Registration | None, label: str) -> Part:
    """The worst case of one call into the other region, from the function's registered client
    budget (the contract's `REMOTE_CALL_BUDGET` where nothing is registered). The coordinator and
    the watch register it under the same names."""
    connect_text, read_text, attempts_text = (
        env(function, name)
        for name in (
            WatchEnv.REMOTE_CONNECT_TIMEOUT_SECONDS,
            WatchEnv.REMOTE_READ_TIMEOUT_SECONDS,
            WatchEnv.REMOTE_MAX_ATTEMPTS,
        )
    )
    if function is None or connect_text is None or read_text is None or attempts_text is None:
        budget = REMOTE_CALL_BUDGET
        connect, read = budget.connect_timeout_seconds, budget.read_timeout_seconds
        attempts = budget.max_attempts
        origin = "contract default: REMOTE_CALL_BUDGET (not registered)"
    else:
        connect, read, attempts = float(connect_text), float(read_text), int(attempts_text)
        origin = (
            f"registered: REMOTE_* of {function.inputs.get('name')}: attempts x (connect + read) "
            "+ botocore's backoff"
        )
    seconds = worst_case_call_seconds(connect, read, attempts)
    return Part(f"{label} ({attempts} x ({connect:g} + {read:g} s))", seconds, origin)


def _slowest(label: str, parts: list[Part]) -> Part:
    """The slowest of reads made at the same time, named in the label."""
    slowest = max(parts, key=lambda p: p.seconds)
    return Part(f"{label}; the slowest: {slowest.label}", slowest.seconds, slowest.origin)


def recovery_budget(run: PlanRun, assumptions: dict | None = None) -> RecoveryBudget:
    """Model the unplanned regional failover and the planned switchover of `run`."""
    assumptions = assumptions or load_assumptions()
    reader = _Reader(run)
    return RecoveryBudget(
        unplanned=_unplanned(reader, assumptions),
        planned=_planned(reader, assumptions),
        rpo=_rpo(run, reader),
    )


# --- the shared phases ----------------------------------------------------------------------------


def _watch_detection(ticker: Ticker, notes: list[str]) -> list[Part]:
    """A failure just after a probe: one cadence to the first failed probe, the confirmation
    window, then the confirming tick (its probe and its in-region read of the primary, at once)."""
    watch = ticker.watch
    cadence = _registered_number(
        watch, WatchEnv.PROBE_CADENCE_SECONDS, "next peer probe starts (worst case: one cadence)"
    )
    window = _registered_number(
        watch,
        WatchEnv.CONFIRMATION_WINDOW_SECONDS,
        "failed probes span the confirmation window",
    )
    probe = _registered_number(
        watch, WatchEnv.PEER_PROBE_TIMEOUT_SECONDS, "the confirming probe times out"
    )
    if cadence is None or window is None or probe is None:
        raise LookupError(
            f"peer watch {watch.inputs.get('name')} registers no cadence, window or probe timeout"
        )
    in_region = remote_call_part(watch, "its in-region read of the primary at its worst")
    excuse = env(watch, WatchEnv.IN_REGION_FAILOVER_EXCUSE_SECONDS)
    if excuse is not None:
        notes.append(
            "detection: an in-region failover of the primary that its API showed just before the "
            f"loss holds the page up to {float(excuse):.0f} s more (IN_REGION_FAILOVER_EXCUSE_SECONDS)"
        )
    return [cadence, window, _slowest("the confirming tick reads at once", [probe, in_region])]


def _gates(reader: _Reader, assumptions: dict, *, failover: bool) -> list[Part]:
    """The coordinator's gates: the topology, then every read at once, then the lock."""
    coordinator = reader.function("failover_coordinator", reader.dr)
    healthy = "healthy_region_api_call_seconds"
    reads = [
        remote_call_part(coordinator, "a call into the primary region at its worst"),
        _assumed(assumptions, healthy, "the lag read in its own region", LOCAL_CHAIN_CALLS),
    ]
    if failover:
        fresh = _registered_number(
            coordinator, CoordinatorEnv.PEER_PROBE_TIMEOUT_SECONDS, "the fresh probe of the writer"
        )
        reads += [fresh] if fresh else []
    return [
        _assumed(assumptions, healthy, "coordinator reads the topology in its own region"),
        _slowest("coordinator reads its gates at once", reads),
        _assumed(assumptions, healthy, "takes the lock and re-reads the topology", LOCK_CALLS),
    ]


def _poll(reader: _Reader, assumptions: dict) -> Part:
    coordinator = reader.function("failover_coordinator", reader.dr)
    label = "coordinator sees completion (one poll)"
    return _registered_number(coordinator, CoordinatorEnv.POLL_INTERVAL_SECONDS, label) or _assumed(
        assumptions, "completion_poll_seconds", label
    )


def _global_endpoint_dns(assumptions: dict) -> list[Part]:
    return [
        _assumed(
            assumptions,
            "global_endpoint_update_seconds",
            "Aurora repoints the global writer endpoint",
        ),
        _assumed(
            assumptions,
            "global_endpoint_client_cache_seconds",
            "clients' cached answer of the global endpoint expires",
        ),
    ]


def _route53_tail(reader: _Reader, assumptions: dict) -> list[Part]:
    ttl_seconds, ttl_origin = reader.writer_ttl()
    return [
        _assumed(assumptions, "route53_health_check_update_seconds", "Route 53 follows the alarm"),
        Part("clients' cached answer expires (TTL)", ttl_seconds, ttl_origin),
    ]


# --- the scenarios --------------------------------------------------------------------------------


def _unplanned_detection(
    reader: _Reader, assumptions: dict, notes: list[str]
) -> tuple[list[Part], list[Part], bool]:
    """Detection parts, the decision's first parts (how the coordinator is woken), automatic."""
    probe_alarm = reader.health_alarm(reader.dr, contract.PEER_WRITER_AVAILABLE)
    probe_seconds, probe_origin = reader.probe_interval(reader.dr)
    first_probe = Part(
        "next health probe runs (worst case: a full interval)", probe_seconds, probe_origin
    )
    alarm_path = [first_probe, _alarm_parts(probe_alarm, to_ok=False)]
    ticker = reader.watch(reader.dr)
    alarm_wakes = reader.triggered_by_alarm(reader.dr, probe_alarm)
    if ticker is None:
        if not alarm_wakes:
            notes.append(
                "no rule routes the DR probe alarm to the DR coordinator and no peer watch pages "
                "it: recovery waits for an operator"
            )
        else:
            notes.append(
                "detection: no peer watch ticks in the DR region; the probe alarm wakes the "
                "coordinator (one peer probe per scheduled health run)"
            )
        delivery = _assumed(
            assumptions, "eventbridge_delivery_seconds", "alarm event reaches the coordinator"
        )
        return alarm_path, [delivery], alarm_wakes
    detection = _watch_detection(ticker, notes)
    notes.append(
        "detection: the DR peer watch pages the coordinator once failed probes span its window; "
        f"without it the probe alarm path takes {sum(p.seconds for p in alarm_path):.0f} s"
    )
    page = _assumed(assumptions, "lambda_async_invoke_seconds", "peer watch pages the coordinator")
    return detection, [page], True


def _new_writer_probe(reader: _Reader, assumptions: dict) -> list[Part]:
    """How soon after promotion the DR health metrics say the new writer is up: the
    coordinator's synchronous invoke of the DR health run, whose own synchronous invoke of the
    checker (one more invoke: the checker's run budget and Lambda's part) is followed by the
    metrics' publication."""
    if not reader.probes_after_promotion(reader.dr):
        seconds, origin = reader.probe_interval(reader.dr)
        return [Part("DR health probe sees the new writer", seconds, origin)]
    watch = reader.health_run(reader.dr)
    label = "coordinator runs the DR health run at once: its invoke of the checker's probes"
    probes = _registered_number(watch, WatchEnv.HEALTH_PROBE_TIMEOUT_SECONDS, label) or Part(
        label, 0, "registered: default"
    )
    publish = _assumed(
        assumptions, "healthy_region_api_call_seconds", "the health run publishes the metrics"
    )
    return [probes, publish]


def _unplanned(reader: _Reader, assumptions: dict) -> RecoveryPath:
    notes: list[str] = []
    detection, woken, automatic = _unplanned_detection(reader, assumptions, notes)
    decision = [*woken, *_gates(reader, assumptions, failover=True)]
    failover = _assumed(
        assumptions, "failover_global_cluster_seconds", "FailoverGlobalCluster (AllowDataLoss)"
    )
    dr_writer_alarm = reader.health_alarm(reader.dr, contract.WRITER_AVAILABLE)
    scenario = "unplanned regional failover (primary region lost)"
    route53 = RecoveryPath(
        scenario=f"{scenario}, Route 53 clients",
        automatic=automatic,
        phases=[
            Phase("detection", detection),
            Phase("decision", decision),
            Phase("AWS action", [failover, _poll(reader, assumptions)]),
            Phase(
                "DNS",
                [
                    *_new_writer_probe(reader, assumptions),
                    _alarm_parts(dr_writer_alarm, to_ok=True),
                    *_route53_tail(reader, assumptions),
                ],
            ),
        ],
    )
    return RecoveryPath(
        scenario=f"{scenario}, global writer endpoint clients",
        automatic=automatic,
        notes=notes,
        phases=[
            Phase("detection", detection),
            Phase("decision", decision),
            Phase("AWS action", [failover]),
            Phase("DNS", _global_endpoint_dns(assumptions)),
        ],
        route53=route53,
    )


def _planned(reader: _Reader, assumptions: dict) -> RecoveryPath:
    # Route 53 moves once the old primary's writer alarm fires *and* the new one clears; both
    # follow the same probe schedule, so the slower of the two alarm transitions counts.
    demote = _alarm_parts(
        reader.health_alarm(reader.primary, contract.WRITER_AVAILABLE), to_ok=False
    )
    promote = _alarm_parts(reader.health_alarm(reader.dr, contract.WRITER_AVAILABLE), to_ok=True)
    switchover = _assumed(
        assumptions, "switchover_global_cluster_seconds", "SwitchoverGlobalCluster"
    )
    detection = Phase("detection", [Part("operator decision (not counted)", 0, "by definition")])
    decision = Phase("decision", _gates(reader, assumptions, failover=False))
    # The new writer is probed at once, but the old primary's checker keeps its schedule: its
    # alarm has to see the demotion.
    seconds, origin = reader.probe_interval(reader.dr)
    roles_seen = Part("health probes see the new roles", seconds, origin)
    scenario = "planned switchover (operator, no data loss)"
    route53 = RecoveryPath(
        scenario=f"{scenario}, Route 53 clients",
        automatic=True,
        phases=[
            detection,
            decision,
            Phase("AWS action", [switchover, _poll(reader, assumptions)]),
            Phase(
                "DNS",
                [
                    roles_seen,
                    max(demote, promote, key=lambda p: p.seconds),
                    *_route53_tail(reader, assumptions),
                ],
            ),
        ],
    )
    return RecoveryPath(
        scenario=f"{scenario}, global writer endpoint clients",
        automatic=True,
        phases=[
            detection,
            decision,
            Phase("AWS action", [switchover]),
            Phase("DNS", _global_endpoint_dns(assumptions)),
        ],
        route53=route53,
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
        value = env(reader.function("failover_coordinator", region), CoordinatorEnv.LAG_BUDGET_MS)
        if value is not None:
            gates[region] = float(value)
    return RpoStatement(
        managed_rpo_seconds=managed,
        rpo_lag_alarm_ms=thresholds("AuroraGlobalDBRPOLag"),
        replication_lag_alarm_ms=thresholds("AuroraGlobalDBReplicationLag"),
        coordinator_lag_gate_ms=gates,
    )
