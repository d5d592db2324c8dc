"""`drctl drill`: a role change to the DR region and back, measured by a heartbeat writer.

The heartbeat writer is the DR region's health checker in drill mode
(`lambdas/health_checker/drill.py`), invoked back to back from a thread here while the main
thread asks the coordinators for the role changes (through their manual events, like every drctl
command). Afterwards the rows the table holds are read back and `measure` gives, per direction,
the write unavailability and the rows lost, next to the modeled figures of `drplan`'s budget.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from drctl import measure, plans
from drctl.outputs import StackOutputs
from lambdas.drcommon.topology import GlobalClusterSnapshot

SCHEMA_VERSION = 1
BATCH_SECONDS = 20.0  # each invocation of the 30 s health checker writes for at most this long
WARMUP_SECONDS = 10.0  # rows before the first role change: the baseline cadence
# The first answer of the writer comes after one batch (plus a cold start): until then nobody
# knows whether it can commit at all, and a drill that cannot measure must not move the writer.
WARMUP_LIMIT_SECONDS = BATCH_SECONDS + 40.0
SETTLE_SECONDS = 20.0  # rows after each role change: writes must be seen to resume
SYNC_POLL_SECONDS = 15.0
SYNC_WAIT_SECONDS = 1800.0  # after an unplanned failover the old primary must rejoin first
MAX_BATCH_ERRORS = 3


class HeartbeatLike(Protocol):
    """What the drill needs of its heartbeat writer (`Heartbeat`, or a test's fake)."""

    def start(self) -> None:
        """Start writing."""

    def stop(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Stop; the writer's answers and the invocation errors."""

    def writing(self) -> bool:
        """Still invoking the writer (it gives up after repeated invocation errors)."""

    def committed(self) -> int:
        """Rows acknowledged so far (in the answers returned so far)."""


class DrillAborted(RuntimeError):
    """The drill stopped before it finished (the message says where and why)."""


@dataclass(frozen=True)
class DrillOptions:
    """What kind of drill, and the figures it is held against."""

    stack: str
    unplanned: bool
    modeled_seconds: dict[str, float]
    """Modeled write unavailability by scenario (`planned`, `unplanned`), from drplan."""


@dataclass
class DrillDeps:
    """The IO a drill needs (tests pass fakes)."""

    invoke: Callable[[str, str, dict[str, Any]], Any]
    topology: Callable[[], GlobalClusterSnapshot]
    time: Callable[[], float]
    sleep: Callable[[float], None]
    new_run_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex[:12])
    heartbeat: Callable[[Callable[[dict[str, Any]], Any], str], HeartbeatLike] = field(
        default=lambda invoke, run_id: Heartbeat(invoke, run_id)
    )


def run_batches(
    invoke: Callable[[dict[str, Any]], Any],
    run_id: str,
    stop: threading.Event,
    batches: list[dict[str, Any]] | None = None,
    errors: list[str] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Invoke the heartbeat writer back to back until `stop` is set; its answers and errors
    (appended to `batches` and `errors` as they come, when given).

    Gives up after `MAX_BATCH_ERRORS` failed invocations in a row (the drill then reports that
    its measurement is incomplete)."""
    batches = [] if batches is None else batches
    errors = [] if errors is None else errors
    next_seq, failures = 0, 0
    while not stop.is_set() and failures < MAX_BATCH_ERRORS:
        event = {"drill": "write", "runId": run_id, "firstSeq": next_seq, "seconds": BATCH_SECONDS}
        try:
            batch = invoke(event)
        except Exception as exc:
            failures += 1
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        failures = 0
        batches.append(batch)
        next_seq = int(batch["nextSeq"])
    return batches, errors


class Heartbeat:
    """The heartbeat writer's invocations on a background thread."""

    def __init__(self, invoke: Callable[[dict[str, Any]], Any], run_id: str) -> None:
        self._stop = threading.Event()
        self._batches: list[dict[str, Any]] = []
        self._errors: list[str] = []
        self._thread = threading.Thread(target=self._run, args=(invoke, run_id), daemon=True)

    def _run(self, invoke: Callable[[dict[str, Any]], Any], run_id: str) -> None:
        run_batches(invoke, run_id, self._stop, self._batches, self._errors)

    def start(self) -> None:
        """Start writing."""
        self._thread.start()

    def writing(self) -> bool:
        """Still invoking the writer."""
        return self._thread.is_alive()

    def committed(self) -> int:
        """Rows acknowledged in the answers so far."""
        return sum(len(batch.get("committed", [])) for batch in list(self._batches))

    def stop(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Stop after the running invocation and return everything written."""
        self._stop.set()
        self._thread.join()
        return self._batches, self._errors


def check_ready(snapshot: GlobalClusterSnapshot, outputs: StackOutputs) -> str | None:
    """Why a drill cannot start now (None: it can)."""
    writer = snapshot.writer
    if snapshot.failover_state is not None:
        return f"a global {snapshot.failover_state.status} is under way"
    if writer is None or writer.region != outputs.primary_region:
        return (
            f"the writer must be the configured primary {outputs.primary_region} to start a drill"
        )
    member = snapshot.member_in(outputs.dr_region)
    if member is None or member.synchronization_status not in plans.IN_SYNC:
        return f"{outputs.dr_region} must be a connected (in-sync) secondary to start a drill"
    return None


def _role_change(
    deps: DrillDeps, outputs: StackOutputs, plan: plans.Plan
) -> tuple[measure.Window, dict[str, Any]]:
    arn = outputs.function_arn("failover_coordinator", plan.target_region)
    started = deps.time()
    result = deps.invoke("failover_coordinator", arn, plan.event())
    answered = deps.time()
    if not plans.outcome_ok(result, plan):
        raise DrillAborted(f"{plan.summary}: {plans.describe_outcome(result)}")
    # Writes must be seen to resume (DNS may follow the answer): keep writing for a while.
    deps.sleep(SETTLE_SECONDS)
    direction = f"{outputs.peer_of(plan.target_region)} -> {plan.target_region}"
    return measure.Window(direction, started, answered), result


def _warm_up(deps: DrillDeps, heartbeat: HeartbeatLike) -> None:
    """Baseline rows first; no role change before the writer is seen to commit."""
    deadline = deps.time() + WARMUP_LIMIT_SECONDS
    deps.sleep(WARMUP_SECONDS)
    while heartbeat.committed() == 0:
        if deps.time() >= deadline or not heartbeat.writing():
            raise DrillAborted(
                "the heartbeat writer committed no row: nothing could be measured (its tick "
                "errors are in the results: TLS or network to the global writer endpoint?)"
            )
        deps.sleep(1.0)


def _wait_in_sync(deps: DrillDeps, outputs: StackOutputs, region: str) -> None:
    deadline = deps.time() + SYNC_WAIT_SECONDS
    while deps.time() < deadline:
        snapshot = deps.topology()
        member = snapshot.member_in(region)
        if (
            snapshot.failover_state is None
            and member
            and member.synchronization_status in plans.IN_SYNC
        ):
            return
        deps.sleep(SYNC_POLL_SECONDS)
    raise DrillAborted(f"{region} did not rejoin in sync within {SYNC_WAIT_SECONDS:.0f} s")


def _role_changes(
    deps: DrillDeps,
    outputs: StackOutputs,
    options: DrillOptions,
    heartbeat: HeartbeatLike,
    done: tuple[list[measure.Window], list[dict[str, Any]]],
) -> None:
    """Away to the DR region and back; each finished role change is added to `done` at once, so
    an abort later still reports what was measured."""
    away = plans.Plan(
        plans.FAILOVER if options.unplanned else plans.SWITCHOVER,
        outputs.dr_region,
        dry_run=False,
        # An unplanned drill fails a healthy writer over: only force passes the health gates.
        force=options.unplanned,
        summary=f"drill: {'failover' if options.unplanned else 'switchover'} to {outputs.dr_region}",
    )
    back = plans.Plan(
        plans.SWITCHOVER,
        outputs.primary_region,
        False,
        False,
        f"drill: back to {outputs.primary_region}",
    )
    for plan in (away, back):
        if plan is back and options.unplanned:
            _wait_in_sync(deps, outputs, outputs.primary_region)
        if not heartbeat.writing():
            # No measurement without the writer: do not move the writer for nothing.
            raise DrillAborted(f"the heartbeat writer stopped before '{plan.summary}'")
        window, answer = _role_change(deps, outputs, plan)
        done[0].append(window)
        done[1].append(answer)


def run_drill(deps: DrillDeps, outputs: StackOutputs, options: DrillOptions) -> dict[str, Any]:
    """Run the drill; the results document (also when it aborted: `aborted` says why)."""
    run_id = deps.new_run_id()
    checker = outputs.function_arn("health_checker", outputs.dr_region)
    heartbeat = deps.heartbeat(lambda event: deps.invoke("health_checker", checker, event), run_id)
    started = deps.time()
    heartbeat.start()
    windows: list[measure.Window] = []
    answers: list[dict[str, Any]] = []
    aborted = None
    try:
        _warm_up(deps, heartbeat)
        _role_changes(deps, outputs, options, heartbeat, (windows, answers))
    except DrillAborted as exc:
        aborted = str(exc)
    finally:
        batches, errors = heartbeat.stop()
    stored = deps.invoke("health_checker", checker, {"drill": "rows", "runId": run_id})
    results = measure.measure(measure.commits_from_batches(batches), stored["seqs"], windows)
    return results_document(
        options, outputs, run_id, started, results, answers, batches, errors, aborted
    )


def results_document(
    options: DrillOptions,
    outputs: StackOutputs,
    run_id: str,
    started: float,
    results: list[measure.DirectionMeasurement],
    answers: list[dict[str, Any]],
    batches: list[dict[str, Any]],
    errors: list[str],
    aborted: str | None,
) -> dict[str, Any]:
    """The JSON artifact (`drplan --results` reads it)."""
    first = "unplanned" if options.unplanned else "planned"
    scenarios = [first, "planned"]
    directions = []
    for index, result in enumerate(results):
        answer = answers[index] if index < len(answers) else {}
        directions.append(
            {
                "direction": result.direction,
                "scenario": scenarios[index],
                "measuredUnavailableSeconds": result.unavailable_seconds,
                "lastCommitBefore": result.last_commit_before,
                "firstCommitAfter": result.first_commit_after,
                "rowsLost": result.rows_lost,
                "lostSeqs": list(result.lost_seqs),
                "rpoSeconds": result.rpo_seconds,
                "modeledSeconds": options.modeled_seconds.get(scenarios[index]),
                "coordinator": {
                    "status": answer.get("status"),
                    "durationsMs": answer.get("durationsMs"),
                },
            }
        )
    return {
        "schemaVersion": SCHEMA_VERSION,
        "stack": options.stack,
        "globalClusterId": outputs.global_cluster_id,
        "runId": run_id,
        "startedAt": started,
        "kind": first,
        "aborted": aborted,
        "tickSeconds": measure.TICK_SECONDS,
        "heartbeat": {
            "invocations": len(batches),
            "committed": sum(len(b.get("committed", [])) for b in batches),
            "failedTicks": sum(len(b.get("failed", [])) for b in batches),
            "tickErrors": sorted({f["error"] for b in batches for f in b.get("failed", [])})[:5],
            "invocationErrors": errors,
        },
        "directions": directions,
    }
