"""What a state-changing command will ask the coordinator for (pure: decisions from reads).

drctl never changes the global cluster itself: each command becomes one manual request to the
coordinator of the target region (`lambdas/failover_coordinator/events.py`, case (c)), whose
gates, lock and notifications apply. The checks here only refuse early, with the reason, what
the coordinator would refuse or find nothing to do for; they never let through anything the
coordinator would not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drctl.outputs import StackOutputs
from lambdas.drcommon.topology import GlobalClusterSnapshot

SWITCHOVER, FAILOVER = "switchover", "failover"
IN_SYNC = frozenset({"connected"})
# Coordinator statuses (its `Result.status`) that mean the request did what was asked.
DONE = frozenset({"completed"})


@dataclass(frozen=True)
class Plan:
    """A manual request to send to the coordinator in `target_region`."""

    action: str
    target_region: str
    dry_run: bool
    force: bool
    summary: str

    def event(self) -> dict[str, Any]:
        """The coordinator's manual event."""
        return {
            "action": self.action,
            "targetRegion": self.target_region,
            "dryRun": self.dry_run,
            "force": self.force,
        }


@dataclass(frozen=True)
class Refusal:
    """drctl will not send the request; `nothing_to_do` is not an error (exit 0)."""

    reason: str
    nothing_to_do: bool = False


def _common(snapshot: GlobalClusterSnapshot, outputs: StackOutputs, target: str) -> Refusal | None:
    if target not in outputs.regions:
        return Refusal(f"--to must be one of {', '.join(outputs.regions)}, got {target!r}")
    if snapshot.failover_state is not None:
        state = snapshot.failover_state
        return Refusal(f"a global {state.status} is already under way: wait for it (drctl status)")
    member = snapshot.member_in(target)
    if member is None:
        return Refusal(f"{target} has no member cluster in {snapshot.identifier}")
    if member.is_writer:
        return Refusal(f"{target} already holds the writer role", nothing_to_do=True)
    return None


def plan_switchover(
    snapshot: GlobalClusterSnapshot, outputs: StackOutputs, target: str, *, dry_run: bool
) -> Plan | Refusal:
    """A planned switchover to `target` (no data loss; the writer must be healthy)."""
    refusal = _common(snapshot, outputs, target)
    if refusal:
        return refusal
    writer = snapshot.writer
    source = writer.region if writer else "?"
    return Plan(SWITCHOVER, target, dry_run, False, f"planned switchover {source} -> {target}")


def plan_failover(
    snapshot: GlobalClusterSnapshot,
    outputs: StackOutputs,
    target: str,
    *,
    allow_data_loss: bool,
    force: bool,
    dry_run: bool,
) -> Plan | Refusal:
    """An unplanned failover to `target` (FailoverGlobalCluster with data loss)."""
    if not allow_data_loss:
        return Refusal(
            "a failover may lose the writes not yet replicated to "
            f"{target}: say so with --allow-data-loss (for a healthy writer, use switchover)"
        )
    refusal = _common(snapshot, outputs, target)
    if refusal:
        return refusal
    forced = " (forced past the coordinator's health, lag and sync gates)" if force else ""
    return Plan(FAILOVER, target, dry_run, force, f"UNPLANNED failover to {target}{forced}")


def plan_failback(
    snapshot: GlobalClusterSnapshot, outputs: StackOutputs, *, dry_run: bool
) -> Plan | Refusal:
    """A switchover back to the configured primary, once it has rejoined and is in sync."""
    target = outputs.primary_region
    refusal = _common(snapshot, outputs, target)
    if refusal:
        return refusal
    member = snapshot.member_in(target)
    sync = member.synchronization_status if member else None
    if sync not in IN_SYNC:
        return Refusal(
            f"the configured primary {target} is not in sync yet (synchronization status "
            f"{sync or 'not reported'}): fail back once it reports connected"
        )
    return plan_switchover(snapshot, outputs, target, dry_run=dry_run)


def outcome_ok(result: Any, plan: Plan) -> bool:
    """Whether the coordinator's answer means the request did what was asked."""
    if not isinstance(result, dict):
        return False
    if plan.dry_run:
        decision = result.get("decision") or {}
        return result.get("status") == "dry_run" and decision.get("verdict") == "proceed"
    return result.get("status") in DONE


def describe_outcome(result: Any) -> str:
    """The coordinator's answer in a few lines."""
    if not isinstance(result, dict):
        return f"unexpected answer from the coordinator: {result!r}"
    lines = [f"coordinator: {result.get('status')}: {result.get('detail')}"]
    decision = result.get("decision") or {}
    for check in decision.get("checks", []):
        mark = "ok " if check.get("passed") else "NO "
        lines.append(f"  {mark} {check.get('name')}: {check.get('detail')}")
    if result.get("clearLock"):
        lines.append(f"  {result['clearLock']}")
    return "\n".join(lines)
