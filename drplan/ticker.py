"""The peer watch's tickers as the plan sees them: what starts them, what they invoke, how often.

Read from the registrations only: a scheduled EventBridge rule whose target is a Step Functions
state machine, the Lambda functions its definition invokes (the peer watch), and the watch's
registered cadence and execution span. The cost model prices the executions and the ticks from
this; the recovery model takes the cadence and the confirmation window from the same watch.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from decisions.peer_watch import invoked_functions
from drplan.harness import PlanRun, Registration
from lambdas.drcommon.contract import WatchEnv

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
FUNCTION = "aws:lambda/function:Function"
SECONDS_PER_MONTH = 730 * 3600
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def schedule_seconds(expression: str) -> int | None:
    """Interval of an EventBridge `rate(...)` expression in seconds (None for anything else)."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def env(function: Registration | None, name: str) -> str | None:
    """A registered environment variable of a function (None when unset or no function)."""
    if function is None:
        return None
    return (function.inputs.get("environment") or {}).get("variables", {}).get(name)


def schedules(run: PlanRun) -> dict[str, int]:
    """Target ARN (function or state machine) -> interval (seconds) of the rule that starts it."""
    rules = {
        r.inputs.get("name"): schedule_seconds(r.inputs["scheduleExpression"])
        for r in run.of_type("aws:cloudwatch/eventRule:EventRule")
        if "scheduleExpression" in r.inputs
    }
    found: dict[str, int] = {}
    for target in run.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        seconds = rules.get(target.inputs.get("rule"))
        if seconds:
            found[target.inputs["arn"]] = seconds
    return found


@dataclass(frozen=True)
class Ticker:
    """One scheduled state machine and the watch it ticks."""

    state_machine: Registration
    interval_seconds: int
    """How often an execution starts (its schedule rule)."""
    watch: Registration

    @property
    def region(self) -> str | None:
        """The region both live in."""
        return self.state_machine.region

    def number(self, name: str) -> float | None:
        """A registered number of the watch's environment."""
        value = env(self.watch, name)
        return None if value is None else float(value)

    @property
    def execution_seconds(self) -> float:
        """How long an execution ticks (the watch's registered span; its schedule otherwise)."""
        return self.number(WatchEnv.EXECUTION_SECONDS) or float(self.interval_seconds)

    @property
    def ticks_per_execution(self) -> float:
        """Ticks of one execution: its span over the cadence (one when no cadence is set)."""
        cadence = self.number(WatchEnv.PROBE_CADENCE_SECONDS)
        return self.execution_seconds / cadence if cadence else 1.0

    @property
    def executions_per_month(self) -> float:
        """Executions a month."""
        return SECONDS_PER_MONTH / self.interval_seconds

    @property
    def ticks_per_month(self) -> float:
        """Invocations of the watch a month (each one asks its checker for one peer probe)."""
        return self.executions_per_month * self.ticks_per_execution

    @property
    def checker_name(self) -> str | None:
        """The health checker the watch asks for peer probes (its registered name)."""
        return env(self.watch, WatchEnv.HEALTH_CHECKER_FUNCTION_NAME)


def tickers(run: PlanRun) -> list[Ticker]:
    """Every scheduled state machine that invokes a registered function."""
    started = schedules(run)
    functions = {f.outputs.get("arn"): f for f in run.of_type(FUNCTION)}
    found = []
    for machine in run.of_type(STATE_MACHINE):
        interval = started.get(machine.outputs.get("arn", ""))
        if not interval:
            continue
        for arn in invoked_functions(json.loads(machine.inputs["definition"])):
            if arn in functions:
                found.append(Ticker(machine, interval, functions[arn]))
    return found
