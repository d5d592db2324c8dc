"""The coordinator's decision: pure, no AWS, one function over typed observations.

Gates, in order (the first that fails decides):

1. no failover/switchover is already running on the global cluster (else: no action);
2. the target region has a member cluster (else: refused, page);
3. the target is not already the writer (else: no action);
4. the global cluster has a writer to move away from (else: refused, page);
5. the target cluster is `available` with at least one available instance (else: refused, page);
6. the target is in sync (`SynchronizationStatus` connected or unreported), `force` overrides
   for a failover only;
7. failover only: the writer is unhealthy from *two* vantage points - the target region's probe
   alarm and the writer region's own writer alarm (an unreachable writer-region API counts as
   unhealthy). One vantage point alone is a network partition until proven otherwise: no action.
   A page from the target region's health checker (`Trigger.PAGE`) is itself a fresh failed
   probe from the target's vantage point, so that side counts as unhealthy even before the probe
   alarm has collected its datapoints; the writer region's side is still required. See
   `TRIGGERS_OBSERVING_TARGET_VANTAGE`. A manual failover may `force` past this gate; an alarm-
   or page-triggered one never can;
8. failover only: the replication / RPO lag is known and within the budget (`force` overrides);
9. switchover only: the writer is healthy from both vantage points (a planned switchover
   needs a working primary; an unhealthy one calls for a failover).

The concurrency lock is not a decision input: it is taken after a `PROCEED`, so that a dry run
takes no lock and two invocations that both decide to proceed cannot both act.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from drcommon.topology import ClusterStatus, GlobalClusterSnapshot


class Operation(StrEnum):
    """What the coordinator can do to the global cluster."""

    FAILOVER = "failover"  # FailoverGlobalCluster(AllowDataLoss=True): the writer is lost
    SWITCHOVER = "switchover"  # SwitchoverGlobalCluster: planned, no data loss


class Trigger(StrEnum):
    """Where a request came from."""

    ALARM = "alarm"  # the target region's probe alarm entered ALARM
    PAGE = "page"  # the target region's health checker saw its peer-writer probe fail just now
    MANUAL = "manual"


# Triggers that are, by themselves, a fresh "the writer is unreachable" observation made from the
# target region's vantage point. For these, gate 7 counts the target side as unhealthy whatever
# the target's probe alarm says (it lags the probe by its evaluation periods).
TRIGGERS_OBSERVING_TARGET_VANTAGE: frozenset[Trigger] = frozenset({Trigger.PAGE})


class Verdict(StrEnum):
    """The outcome of a decision."""

    PROCEED = "proceed"
    NO_ACTION = "no_action"
    REFUSED = "refused"


class AlarmState(StrEnum):
    """An alarm as read for a vantage point, including "could not be read"."""

    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
    MISSING = "MISSING"  # the alarm does not exist: a wiring fault, never evidence
    UNREACHABLE = "UNREACHABLE"  # the region's CloudWatch API did not answer

    @property
    def unhealthy(self) -> bool:
        """Counts as "the writer is unhealthy" from this vantage point."""
        # A region whose API is unreachable is a region in trouble; missing data alone is not
        # (INSUFFICIENT_DATA appears after deployments and configuration changes).
        return self in (AlarmState.ALARM, AlarmState.UNREACHABLE)


@dataclass(frozen=True)
class Request:
    """A validated request to move the writer to `target_region`."""

    operation: Operation
    target_region: str
    trigger: Trigger
    dry_run: bool = False
    force: bool = False
    # For a page: when the health checker saw the probe fail (ISO-8601 UTC, as received).
    observed_at: str | None = None


@dataclass(frozen=True)
class LagReading:
    """Replication / RPO lag of the target cluster (worst recent datapoint), if any was seen."""

    lag_ms: float | None
    source: str = ""


@dataclass(frozen=True)
class Observations:
    """What the coordinator saw before deciding."""

    topology: GlobalClusterSnapshot
    target_cluster: ClusterStatus | None
    target_probe_alarm: AlarmState  # in the target region: "writer unreachable from here"
    writer_alarm: AlarmState  # in the writer's region: "this region's writer accepts writes"
    lag: LagReading


@dataclass(frozen=True)
class Policy:
    """Thresholds from the environment."""

    lag_budget_ms: float


@dataclass(frozen=True)
class Check:
    """One gate's result, for the summary."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Decision:
    """The verdict, the operation to run on `PROCEED`, and why."""

    verdict: Verdict
    operation: Operation | None
    page: bool
    reason: str
    checks: tuple[Check, ...]
    source_arn: str | None = None
    target_arn: str | None = None


def decide(request: Request, obs: Observations, policy: Policy) -> Decision:
    """Apply the gates (module docstring) to `request` and `obs`."""
    checks: list[Check] = []
    topo = obs.topology
    writer = topo.writer
    target = topo.member_in(request.target_region)
    source_arn = writer.arn if writer else None
    target_arn = target.arn if target else None

    def stop(verdict: Verdict, name: str, detail: str, *, page: bool) -> Decision:
        checks.append(Check(name, False, detail))
        return Decision(
            verdict=verdict,
            operation=None,
            page=page,
            reason=detail,
            checks=tuple(checks),
            source_arn=source_arn,
            target_arn=target_arn,
        )

    def passed(name: str, detail: str) -> None:
        checks.append(Check(name, True, detail))

    if topo.failover_state is not None:
        state = topo.failover_state
        return stop(
            Verdict.NO_ACTION,
            "no_failover_in_progress",
            f"a global {state.status} is already running "
            f"({state.from_arn} -> {state.to_arn}); not starting another",
            page=False,
        )
    passed("no_failover_in_progress", "global cluster idle")

    if target is None:
        return stop(
            Verdict.REFUSED,
            "target_member",
            f"global cluster {topo.identifier} has no member in {request.target_region}",
            page=True,
        )
    passed("target_member", target.arn)

    if target.is_writer:
        return stop(
            Verdict.NO_ACTION,
            "target_not_writer",
            f"{target.cluster_id} in {target.region} already holds the writer role",
            page=False,
        )
    passed("target_not_writer", f"writer is {source_arn}")

    if writer is None:
        return stop(
            Verdict.REFUSED,
            "writer_known",
            f"global cluster {topo.identifier} reports no writer member; needs an operator "
            "(a detached cluster may have to be promoted with RemoveFromGlobalCluster)",
            page=True,
        )
    passed("writer_known", writer.arn)

    cluster = obs.target_cluster
    if cluster is None or not cluster.is_available:
        detail = (
            f"target cluster {target.cluster_id} could not be described"
            if cluster is None
            else f"target cluster {cluster.identifier} is {cluster.status} with "
            f"{cluster.available_instances} available instance(s)"
        )
        return stop(Verdict.REFUSED, "target_available", detail, page=True)
    passed(
        "target_available",
        f"{cluster.identifier} available, {cluster.available_instances} available instance(s)",
    )

    sync = target.synchronization_status
    if sync not in (None, "connected"):
        detail = f"target {target.cluster_id} synchronization status is {sync}"
        if request.operation is Operation.FAILOVER and request.force:
            passed("target_in_sync", f"{detail} (forced)")
        else:
            return stop(Verdict.REFUSED, "target_in_sync", detail, page=True)
    else:
        passed("target_in_sync", f"synchronization status {sync or 'not reported'}")

    paged = request.trigger in TRIGGERS_OBSERVING_TARGET_VANTAGE
    target_unhealthy = paged or obs.target_probe_alarm.unhealthy
    page_note = (
        f" (paged by the health checker in {request.target_region}"
        f"{f' at {request.observed_at}' if request.observed_at else ''}: counts as unhealthy)"
        if paged
        else ""
    )
    vantage = (
        f"probe alarm in {request.target_region}: {obs.target_probe_alarm.value}{page_note}; "
        f"writer alarm in {writer.region}: {obs.writer_alarm.value}"
    )
    if request.operation is Operation.FAILOVER:
        both = target_unhealthy and obs.writer_alarm.unhealthy
        if not both:
            if request.trigger is Trigger.MANUAL and request.force:
                passed("writer_unhealthy_twice", f"{vantage} (forced)")
            else:
                return stop(
                    Verdict.NO_ACTION,
                    "writer_unhealthy_twice",
                    "the writer is not unhealthy from both vantage points "
                    f"({vantage}); not failing over",
                    page=False,
                )
        else:
            passed("writer_unhealthy_twice", vantage)

        lag = obs.lag.lag_ms
        if lag is None or lag > policy.lag_budget_ms:
            seen = "unknown (no datapoints)" if lag is None else f"{lag:.0f} ms"
            detail = f"replication lag {seen}, budget {policy.lag_budget_ms:.0f} ms"
            if request.force:
                passed("lag_within_budget", f"{detail} (forced)")
            else:
                return stop(
                    Verdict.REFUSED,
                    "lag_within_budget",
                    f"{detail}: failing over could lose more data than allowed; "
                    "an operator must decide (re-run with force)",
                    page=True,
                )
        else:
            passed(
                "lag_within_budget",
                f"replication lag {lag:.0f} ms, budget {policy.lag_budget_ms:.0f} ms",
            )
    else:
        if target_unhealthy or obs.writer_alarm.unhealthy:
            return stop(
                Verdict.REFUSED,
                "writer_healthy",
                f"a switchover needs a healthy writer ({vantage}); use a failover instead",
                page=True,
            )
        passed("writer_healthy", vantage)

    return Decision(
        verdict=Verdict.PROCEED,
        operation=request.operation,
        page=False,
        reason=f"{request.operation.value} {writer.cluster_id} ({writer.region}) -> "
        f"{target.cluster_id} ({target.region})",
        checks=tuple(checks),
        source_arn=writer.arn,
        target_arn=target.arn,
    )
