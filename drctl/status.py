"""`drctl status`: what the observations mean for an operator (pure: no AWS calls here).

`assess` turns `observe.Observed` into a report and the list of things that need a human; the
command's exit code is non-zero exactly when that list is not empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drctl.observe import Failed, LastDecision, Observed
from drctl.outputs import StackOutputs

IN_SYNC = frozenset({"connected", None})
# Coordinator outcomes a human must look at (the coordinator pages for them too).
ALARMING_OUTCOMES = frozenset({"failed", "refused", "blocked"})


@dataclass(frozen=True)
class MemberRow:
    """One member cluster as the report shows it."""

    region: str
    cluster_id: str
    role: str
    synchronization: str | None
    replication_lag_ms: float | None
    rpo_lag_ms: float | None


@dataclass
class StatusReport:
    """The assessed status; `attention` lists what needs a human (empty: all is well)."""

    global_cluster_id: str
    writer_region: str | None
    configured_primary: str
    failover_in_progress: str | None
    members: list[MemberRow]
    locks: dict[str, str]
    decisions: dict[str, str]
    checkers: dict[str, str]
    subscribers: dict[str, list[str] | str]
    attention: list[str] = field(default_factory=list)
    lock_views: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (`--json`)."""
        return {
            "globalClusterId": self.global_cluster_id,
            "writerRegion": self.writer_region,
            "configuredPrimaryRegion": self.configured_primary,
            "failoverInProgress": self.failover_in_progress,
            "members": [m.__dict__ for m in self.members],
            "locks": self.lock_views,
            "lastDecision": self.decisions,
            "healthCheckers": self.checkers,
            "alertSubscribers": self.subscribers,
            "needsHuman": bool(self.attention),
            "attention": self.attention,
        }


def _members(seen: Observed, attention: list[str]) -> list[MemberRow]:
    topology = seen.topology
    if isinstance(topology, Failed):
        attention.append(f"the global cluster could not be read in either region: {topology.error}")
        return []
    rows = []
    for member in topology.members:
        lag = seen.lag_ms.get(member.region, {})
        if isinstance(lag, Failed):
            attention.append(f"the lag metrics of {member.region} could not be read: {lag.error}")
            lag = {}
        rows.append(
            MemberRow(
                region=member.region,
                cluster_id=member.cluster_id,
                role="writer" if member.is_writer else "secondary",
                synchronization=member.synchronization_status,
                replication_lag_ms=lag.get("AuroraGlobalDBReplicationLag"),
                rpo_lag_ms=lag.get("AuroraGlobalDBRPOLag"),
            )
        )
        if not member.is_writer and member.synchronization_status not in IN_SYNC:
            attention.append(
                f"{member.region} is not in sync ({member.synchronization_status}): a "
                "switchover to it waits, a failover to it loses data"
            )
    return rows


def _writer(
    seen: Observed, outputs: StackOutputs, attention: list[str]
) -> tuple[str | None, str | None]:
    topology = seen.topology
    if isinstance(topology, Failed):
        return None, None
    writer = topology.writer.region if topology.writer else None
    if writer is None:
        attention.append("no member holds the writer role")
    elif writer != outputs.primary_region:
        attention.append(
            f"the writer is {writer}, not the configured primary {outputs.primary_region}: "
            "fail back (`drctl failback`) once it has rejoined and is in sync"
        )
    state = topology.failover_state
    progress = None
    if state is not None:
        progress = f"{state.status} from {state.from_arn} to {state.to_arn}"
        attention.append(f"a global {state.status} is under way: watch it finish")
    return writer, progress


def _locks(seen: Observed, attention: list[str]) -> tuple[dict[str, str], dict[str, Any]]:
    now = seen.now.timestamp()
    lines: dict[str, str] = {}
    views: dict[str, Any] = {}
    for region, lock in seen.locks.items():
        if isinstance(lock, Failed):
            lines[region], views[region] = f"unreadable: {lock.error}", {"error": lock.error}
            attention.append(f"the lock table in {region} could not be read")
        elif lock is None:
            lines[region], views[region] = "free (no item)", None
        else:
            lines[region], views[region] = lock.describe(now), lock.to_dict(now)
            problem = lock.problem(now)
            if problem:
                attention.append(f"{problem} (`drctl unlock` clears it)")
    return lines, views


def _decision_line(
    region: str, decision: LastDecision | Failed | None, attention: list[str]
) -> str:
    if isinstance(decision, Failed):
        return f"unreadable: {decision.error}"
    if decision is None:
        return "none in the last 24 h"
    if decision.outcome in ALARMING_OUTCOMES:
        attention.append(f"the coordinator in {region} last {decision.outcome} a request")
    return f"{decision.outcome} at {decision.at:%Y-%m-%dT%H:%M:%SZ}"


def _checker_line(region: str, seen_at: Any, attention: list[str]) -> str:
    if isinstance(seen_at, Failed):
        attention.append(f"the health metrics of {region} could not be read")
        return f"unreadable: {seen_at.error}"
    if seen_at is None:
        attention.append(f"the health checker in {region} has not reported for 5 minutes")
        return "NOT reporting"
    return f"reporting (last {seen_at:%H:%M:%SZ})"


def _subscribers(seen: Observed, attention: list[str]) -> dict[str, list[str] | str]:
    shown: dict[str, list[str] | str] = {}
    for region, found in seen.subscribers.items():
        if isinstance(found, Failed):
            shown[region] = f"unreadable: {found.error}"
        else:
            shown[region] = found
            if not found:
                attention.append(f"the alert topic in {region} has no confirmed subscriber")
    return shown


def assess(seen: Observed, outputs: StackOutputs) -> StatusReport:
    """The report and what needs a human."""
    attention: list[str] = []
    members = _members(seen, attention)
    writer, progress = _writer(seen, outputs, attention)
    locks, views = _locks(seen, attention)
    return StatusReport(
        global_cluster_id=outputs.global_cluster_id,
        writer_region=writer,
        configured_primary=outputs.primary_region,
        failover_in_progress=progress,
        members=members,
        locks=locks,
        decisions={r: _decision_line(r, d, attention) for r, d in seen.decisions.items()},
        checkers={r: _checker_line(r, s, attention) for r, s in seen.checker_seen.items()},
        subscribers=_subscribers(seen, attention),
        attention=attention,
        lock_views=views,
    )


def _cell(value: str | list[str]) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "NONE"
    return value


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def render(report: StatusReport) -> str:
    """The report for a terminal."""
    lines = [
        f"global cluster {report.global_cluster_id}",
        f"  writer region: {report.writer_region or 'UNKNOWN'} "
        f"(configured primary {report.configured_primary})",
        f"  failover in progress: {report.failover_in_progress or 'no'}",
        "  members:",
    ]
    for m in report.members:
        lines.append(
            f"    {m.region:<15} {m.role:<9} {m.cluster_id}  sync {m.synchronization or '-'}  "
            f"replication lag {_ms(m.replication_lag_ms)}  RPO lag {_ms(m.rpo_lag_ms)}"
        )
    for title, rows in (
        ("lock", report.locks),
        ("last coordinator decision", report.decisions),
        ("health checker", report.checkers),
        ("alert subscribers", report.subscribers),
    ):
        lines.append(f"  {title}:")
        lines += [f"    {region:<15} {_cell(value)}" for region, value in rows.items()]
    if report.attention:
        lines.append("NEEDS A HUMAN:")
        lines += [f"  - {item}" for item in report.attention]
    else:
        lines.append("nothing needs a human")
    return "\n".join(lines)
