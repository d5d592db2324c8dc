"""The subcommands: read, decide (`plans`, `status`, `drill` checks), confirm, act, report.

Each `run_<command>(args, runtime)` returns the exit code. Thin: the decisions are elsewhere.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drctl import drill, observe, plans, publish, status
from drctl.clients import Invoker
from drctl.lockview import LockView, unchanged_condition
from drctl.observe import Failed
from drctl.outputs import StackOutputs, load_outputs
from lambdas.drcommon.contract import LOCK_TABLE
from lambdas.drcommon.topology import GlobalClusterSnapshot

if TYPE_CHECKING:
    from drctl.cli import Runtime

EXIT_OK, EXIT_ATTENTION, EXIT_REFUSED = 0, 1, 2
# Sizings an unplanned drill may run on without --i-know (it loses data by design).
UNPLANNED_DRILL_SIZINGS = frozenset({"test"})


class Refused(Exception):
    """drctl refuses before sending anything (the message says why and what to do)."""


def emit(value: str | dict[str, Any]) -> None:
    """Print for the operator (a dict as JSON)."""
    print(json.dumps(value, indent=2, default=str) if isinstance(value, dict) else value)


def _outputs(args: argparse.Namespace) -> StackOutputs:
    return load_outputs(stack=args.stack, outputs_file=args.outputs)


def confirm(args: argparse.Namespace, runtime: Runtime, question: str) -> None:
    """Ask unless `--yes` (or `--dry-run`, which changes nothing); raises `Refused` on no."""
    if getattr(args, "yes", False) or getattr(args, "dry_run", False):
        return
    try:
        answer = runtime.ask(f"{question} Type 'yes' to go on: ")
    except EOFError:
        answer = ""
    if answer.strip().lower() != "yes":
        raise Refused("not confirmed: nothing was done (pass --yes to skip the question)")


def _topology(runtime: Runtime, outputs: StackOutputs) -> GlobalClusterSnapshot:
    snapshot = observe.read_topology(runtime.factory(), outputs)
    if isinstance(snapshot, Failed):
        raise Refused(f"the global cluster could not be read: {snapshot.error}")
    return snapshot


def run_status(args: argparse.Namespace, runtime: Runtime) -> int:
    """`drctl status`."""
    outputs = _outputs(args)
    report = status.assess(observe.observe(runtime.factory(), outputs, runtime.now()), outputs)
    emit(report.to_dict() if args.json else status.render(report))
    return EXIT_ATTENTION if report.attention else EXIT_OK


def _send(args: argparse.Namespace, runtime: Runtime, outputs: StackOutputs, planned: Any) -> int:
    if isinstance(planned, plans.Refusal):
        emit(planned.reason)
        if planned.nothing_to_do:
            return EXIT_OK
        raise Refused(planned.reason)
    verb = "ask" if planned.dry_run else "run"
    emit(f"will {verb} the coordinator in {planned.target_region}: {planned.summary}")
    emit(f"  event: {json.dumps(planned.event())}")
    confirm(args, runtime, f"{planned.summary}.")
    arn = outputs.function_arn("failover_coordinator", planned.target_region)
    result = Invoker(runtime.factory())("failover_coordinator", arn, planned.event())
    emit(plans.describe_outcome(result))
    return EXIT_OK if plans.outcome_ok(result, planned) else EXIT_ATTENTION


def run_switchover(args: argparse.Namespace, runtime: Runtime) -> int:
    """`drctl switchover --to REGION`."""
    outputs = _outputs(args)
    planned = plans.plan_switchover(
        _topology(runtime, outputs), outputs, args.to, dry_run=args.dry_run
    )
    return _send(args, runtime, outputs, planned)


def run_failover(args: argparse.Namespace, runtime: Runtime) -> int:
    """`drctl failover --to REGION --allow-data-loss`: refused, before any AWS call, without it."""
    if not args.allow_data_loss:
        raise Refused(
            "a failover may lose the writes not yet replicated: re-run with --allow-data-loss "
            "(for a healthy writer use `drctl switchover`, which loses nothing)"
        )
    outputs = _outputs(args)
    planned = plans.plan_failover(
        _topology(runtime, outputs),
        outputs,
        args.to,
        allow_data_loss=True,
        force=args.force,
        dry_run=args.dry_run,
    )
    return _send(args, runtime, outputs, planned)


def run_failback(args: argparse.Namespace, runtime: Runtime) -> int:
    """`drctl failback`."""
    outputs = _outputs(args)
    planned = plans.plan_failback(_topology(runtime, outputs), outputs, dry_run=args.dry_run)
    return _send(args, runtime, outputs, planned)


def _lock_to_clear(
    args: argparse.Namespace, runtime: Runtime, outputs: StackOutputs
) -> LockView | None:
    regions = [args.region] if args.region else list(outputs.regions)
    if args.region and args.region not in outputs.regions:
        raise Refused(f"--region must be one of {', '.join(outputs.regions)}")
    found = [v for r in regions if (v := observe.read_lock(runtime.factory(), outputs, r))]
    found = [v for v in found if v.state != "completed"]
    if len(found) > 1:
        raise Refused("both regions' tables hold a lock item: say which with --region")
    return found[0] if found else None


def run_unlock(args: argparse.Namespace, runtime: Runtime) -> int:
    """`drctl unlock`: the one direct write, conditioned on the item being the one shown."""
    outputs = _outputs(args)
    view = _lock_to_clear(args, runtime, outputs)
    now = runtime.time()
    if view is None:
        emit("no lock to clear (no item, or only a completed record)")
        return EXIT_OK
    emit(f"lock in {view.region} ({view.table}): {view.describe(now)}")
    if view.live(now):
        raise Refused(
            f"a live lease: a role change is running right now (it expires at {view.expires_at}); "
            "clearing it would let a second one start"
        )
    if args.dry_run:
        emit("dry run: would delete this item")
        return EXIT_OK
    confirm(args, runtime, "Delete this lock item?")
    condition, names, values = unchanged_condition(view)
    client = runtime.factory()("dynamodb", view.region)
    try:
        client.delete_item(
            TableName=view.table,
            Key={LOCK_TABLE.partition_key: {"S": view.lock_id}},
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            **({"ExpressionAttributeValues": values} if values else {}),
        )
    except client.exceptions.ConditionalCheckFailedException:
        emit("the lock item changed since it was shown: nothing deleted; run unlock again")
        return EXIT_ATTENTION
    emit(f"cleared the lock in {view.region}")
    return EXIT_OK


def modeled_seconds(stack: str) -> dict[str, float]:
    """drplan's modeled recovery time for the stack (global writer endpoint clients)."""
    from drplan.budget import recovery_budget
    from drplan.harness import run_program

    budget = recovery_budget(run_program(stack, {}))
    return {"planned": budget.planned.seconds, "unplanned": budget.unplanned.seconds}


def _drill_checks(args: argparse.Namespace, outputs: StackOutputs, runtime: Runtime) -> None:
    if not args.stack:
        raise Refused("a drill needs --stack (its sizing and its modeled figures come from it)")
    if args.unplanned and not args.i_know:
        from drplan.review import stack_settings

        sizing = stack_settings(args.stack).sizing
        if sizing not in UNPLANNED_DRILL_SIZINGS:
            raise Refused(
                f"stack {args.stack} has the {sizing} sizing: an unplanned drill loses data by "
                "design; pass --i-know if that is really meant"
            )
    reason = drill.check_ready(_topology(runtime, outputs), outputs)
    if reason:
        raise Refused(reason)


def run_drill(args: argparse.Namespace, runtime: Runtime) -> int:
    """`drctl drill`."""
    outputs = _outputs(args)
    _drill_checks(args, outputs, runtime)
    kind = "UNPLANNED failover" if args.unplanned else "switchover"
    emit(
        f"drill: {kind} {outputs.primary_region} -> {outputs.dr_region} and back, under a heartbeat writer"
    )
    if args.dry_run:
        emit("dry run: the stack is ready for a drill; nothing was started")
        return EXIT_OK
    confirm(args, runtime, f"Run a {kind} drill on {args.stack}?")
    options = drill.DrillOptions(args.stack, args.unplanned, runtime.modeled(args.stack))
    invoke = Invoker(runtime.factory())
    deps = drill.DrillDeps(
        invoke=invoke,
        topology=lambda: _topology(runtime, outputs),
        time=runtime.time,
        sleep=runtime.sleep,
    )
    document = drill.run_drill(deps, outputs, options)
    path = Path(args.results or f"drill-{args.stack}-{document['runId']}.json")
    publish.write_file(path, document)
    emit(drill_table(document))
    for note in [f"results: {path}", *publish.publish(runtime.factory(), outputs, document)]:
        emit(note)
    return EXIT_ATTENTION if document["aborted"] else EXIT_OK


def _seconds(value: float | None) -> str:
    return "unmeasured" if value is None else f"{value:.1f} s"


def drill_table(document: dict[str, Any]) -> str:
    """The drill's results for a terminal."""
    lines = [f"drill {document['runId']} ({document['kind']}) on {document['stack']}"]
    if document["aborted"]:
        lines.append(f"ABORTED: {document['aborted']}")
        lines.append(
            "  the writer may still be in the DR region: check `drctl status`, then `drctl failback`"
        )
    lines.append(f"  {'direction':<28} {'write unavailable':>18} {'modeled':>10} {'rows lost':>10}")
    for d in document["directions"]:
        lines.append(
            f"  {d['direction']:<28} {_seconds(d['measuredUnavailableSeconds']):>18} "
            f"{_seconds(d['modeledSeconds']):>10} {d['rowsLost']:>10}"
        )
    beat = document["heartbeat"]
    lines.append(
        f"  heartbeat: {beat['committed']} rows committed, {beat['failedTicks']} failed ticks, "
        f"{beat['invocations']} invocations (one row a second: figures are +/- 1 s)"
    )
    return "\n".join(lines)
