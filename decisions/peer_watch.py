"""The peer watch's ticker as data: the Step Functions state machine that invokes it sub-minute.

EventBridge schedules stop at one minute ("All schedule types on EventBridge Scheduler invoke their
targets with 60 second precision": EventBridge Scheduler User Guide, "Schedule types"). AWS's own
answer for a sub-minute cadence is a Step Functions state machine that invokes the function, waits,
and invokes it again, started once a minute by a scheduled rule ("A serverless solution for
invoking AWS Lambda at a sub-minute frequency", AWS Architecture Blog). An Express workflow fits:
it "can run for up to five minutes" and is billed by executions, duration and memory, not by
state transitions (Step Functions Developer Guide, "Standard vs. Express Workflows"; AWS Step
Functions pricing).

The loop keeps no logic of its own: each tick of the watch returns the next tick's input, the
time it is due (`nextTickAt`, RFC 3339 UTC, which a Wait state's `TimestampPath` takes) and
whether the execution is `done`. The watch decides both (`lambdas/peer_watch/confirmation.py`).
"""

from __future__ import annotations

from typing import Any

TICK, MORE, WAIT, DONE = "Tick", "More ticks?", "Wait for the next tick", "Done"


def ticker_definition(
    *, partition: str, watch_arn: str, tick_timeout_seconds: int
) -> dict[str, Any]:
    """Amazon States Language of the ticker: tick, then wait until `nextTickAt`, until `done`.

    The tick is the optimised Lambda integration (`arn:<partition>:states:::lambda:invoke`),
    synchronous, its whole output (`$.Payload`) the next state; no retry: a failed tick fails the
    execution, and the next one starts within a minute.
    """
    return {
        "Comment": "aurora-dr peer watch: one tick every cadence for a minute (longer while a "
        "loss is being confirmed)",
        "StartAt": TICK,
        "States": {
            TICK: {
                "Type": "Task",
                "Resource": f"arn:{partition}:states:::lambda:invoke",
                "Parameters": {"FunctionName": watch_arn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "TimeoutSeconds": tick_timeout_seconds,
                "Next": MORE,
            },
            MORE: {
                "Type": "Choice",
                "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": DONE}],
                "Default": WAIT,
            },
            WAIT: {"Type": "Wait", "TimestampPath": "$.nextTickAt", "Next": TICK},
            DONE: {"Type": "Succeed"},
        },
    }


def invoked_functions(definition: dict[str, Any]) -> list[str]:
    """The function ARNs the definition's Lambda tasks invoke (for the plan's model and tests)."""
    return [
        state["Parameters"]["FunctionName"]
        for state in definition.get("States", {}).values()
        if state.get("Type") == "Task"
        and str(state.get("Resource", "")).endswith(":states:::lambda:invoke")
    ]
