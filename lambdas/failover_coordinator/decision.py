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
   A page from the target region's peer watch (`Trigger.PAGE`) is itself that vantage point's
   confirmed observation (failed probes spanning its confirmation window), so that side counts as
   unhealthy even before the probe alarm has collected its datapoints; the writer region's side
   is still required. See
   `TRIGGERS_OBSERVING_TARGET_VANTAGE`. A manual failover may `force` past this gate; an alarm-
   or page-triggered one never can;
8. failover only: the writer's cluster is not in an in-region failover that its region's API
   shows (status `failing-over`, or a start event with no end after it), for no longer than
   Aurora's own figure (`Policy.in_region_excuse_seconds`): Aurora is replacing the writer
   in-region, and failing the global database over would trade seconds of unavailability for
   data loss (else: no action). A region whose API does not answer shows nothing, and excuses
   nothing. Only a manual `force` passes it;
9. failover only: the writer is still lost now. A fresh probe of it from the target region
   (`Observations.fresh_probe`, asked for at decision time) that finds it answering as the writer
   means it recovered after the trigger was raised: refused, with why (no human needed). A probe
   that could not be run is no evidence either way, and the gate passes on the evidence above.
   Only a manual `force` passes a recovered writer;
10. failover only: the replication / RPO lag is known and within the budget (`force` overrides);
11. switchover only: the writer is healthy from both vantage points (a planned switchover
    needs a working primary; an unhealthy one calls for a failover).

The concurrency lock is not a decision input: it is taken after a `PROCEED`, so that a dry run
takes no lock and two invocations that both decide to proceed cannot both act.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from drcommon import inregion
from drcommon.inregion import InRegionView
from drcommon.peerprobe import PeerProbe, ProbeOutcome
from drcommon.topology import ClusterStatus, GlobalClusterSnapshot, GlobalMember


class Operation(StrEnum):
    """What the coordinator can do to the global cluster."""

    FAILOVER = "failover"  # FailoverGlobalCluster(AllowDataLoss=True): the writer is lost
    SWITCHOVER = "switchover"  # SwitchoverGlobalCluster: planned, no data loss


class Trigger(StrEnum):
    """Where a request came from."""

    ALARM = "alarm"  # the target region's probe alarm entered ALARM
    PAGE = "page"  # the target region's peer watch confirmed the peer writer lost just now
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
    # For a page: when the peer watch confirmed the loss (ISO-8601 UTC, as received).
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
    # Failover only (None: not read): the writer cluster's in-region failover state, read in its
    # region, and a probe of the writer from the target region, both made at `observed_at`.
    in_region: InRegionView | None = None
    fresh_probe: PeerProbe | None = None
    observed_at: float = 0.0  # epoch seconds


@dataclass(frozen=True)
class Policy:
    """Thresholds from the environment."""

    lag_budget_ms: float
    in_region_excuse_seconds: float = 60.0


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


@dataclass(frozen=True)
class Stop:
    """A gate that failed: the verdict it forces, whether a human is paged, and its check."""

    verdict: Verdict
    page: bool
    check: Check


def _passed(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def _stop(verdict: Verdict, name: str, detail: str, *, page: bool) -> Stop:
    return Stop(verdict, page, Check(name, False, detail))


@dataclass(frozen=True)
class _Facts:
    """What the gates read: the request, the observations and the two members of interest."""

    request: Request
    obs: Observations
    policy: Policy
    writer: GlobalMember | None
    target: GlobalMember | None

    @property
    def known_target(self) -> GlobalMember:
        """The target member, for the gates after `target_member` (which refuses without one)."""
        if self.target is None:
            raise RuntimeError("gate order: target_member must pass first")
        return self.target

    @property
    def known_writer(self) -> GlobalMember:
        """The writer member, for the gates after `writer_known` (which refuses without one)."""
        if self.writer is None:
            raise RuntimeError("gate order: writer_known must pass first")
        return self.writer

    @property
    def paged(self) -> bool:
        """The request is itself a fresh failed probe from the target's vantage point."""
        return self.request.trigger in TRIGGERS_OBSERVING_TARGET_VANTAGE

    @property
    def target_unhealthy(self) -> bool:
        """The writer is unhealthy as seen from the target region."""
        return self.paged or self.obs.target_probe_alarm.unhealthy

    def vantage(self) -> str:
        """Both vantage points, as the health gates report them."""
        request, obs = self.request, self.obs
        page_note = (
            f" (paged by the peer watch in {request.target_region}"
            f"{f' at {request.observed_at}' if request.observed_at else ''}: counts as unhealthy)"
            if self.paged
            else ""
        )
        return (
            f"probe alarm in {request.target_region}: {obs.target_probe_alarm.value}{page_note}; "
            f"writer alarm in {self.known_writer.region}: {obs.writer_alarm.value}"
        )


Gate = Callable[[_Facts], Check | Stop]


def _no_failover_in_progress(f: _Facts) -> Check | Stop:
    """Gate 1: nothing is running on the global cluster already."""
    state = f.obs.topology.failover_state
    if state is not None:
        return _stop(
            Verdict.NO_ACTION,
            "no_failover_in_progress",
            f"a global {state.status} is already running "
            f"({state.from_arn} -> {state.to_arn}); not starting another",
            page=False,
        )
    return _passed("no_failover_in_progress", "global cluster idle")


def _target_member(f: _Facts) -> Check | Stop:
    """Gate 2: the target region has a member cluster."""
    if f.target is None:
        return _stop(
            Verdict.REFUSED,
            "target_member",
            f"global cluster {f.obs.topology.identifier} has no member in "
            f"{f.request.target_region}",
            page=True,
        )
    return _passed("target_member", f.target.arn)


def _target_not_writer(f: _Facts) -> Check | Stop:
    """Gate 3: the target does not hold the writer role already."""
    target = f.known_target
    if target.is_writer:
        return _stop(
            Verdict.NO_ACTION,
            "target_not_writer",
            f"{target.cluster_id} in {target.region} already holds the writer role",
            page=False,
        )
    return _passed("target_not_writer", f"writer is {f.writer.arn if f.writer else None}")


def _writer_known(f: _Facts) -> Check | Stop:
    """Gate 4: there is a writer to move away from."""
    if f.writer is None:
        return _stop(
            Verdict.REFUSED,
            "writer_known",
            f"global cluster {f.obs.topology.identifier} reports no writer member; needs an "
            "operator (a detached cluster may have to be promoted with RemoveFromGlobalCluster)",
            page=True,
        )
    return _passed("writer_known", f.writer.arn)


def _target_available(f: _Facts) -> Check | Stop:
    """Gate 5: the target cluster is available with at least one available instance."""
    cluster = f.obs.target_cluster
    if cluster is None or not cluster.is_available:
        detail = (
            f"target cluster {f.known_target.cluster_id} could not be described"
            if cluster is None
            else f"target cluster {cluster.identifier} is {cluster.status} with "
            f"{cluster.available_instances} available instance(s)"
        )
        return _stop(Verdict.REFUSED, "target_available", detail, page=True)
    return _passed(
        "target_available",
        f"{cluster.identifier} available, {cluster.available_instances} available instance(s)",
    )


def _target_in_sync(f: _Facts) -> Check | Stop:
    """Gate 6: the target is in sync; `force` overrides for a failover only."""
    target = f.known_target
    sync = target.synchronization_status
    if sync in (None, "connected"):
        return _passed("target_in_sync", f"synchronization status {sync or 'not reported'}")
    detail = f"target {target.cluster_id} synchronization status is {sync}"
    if f.request.operation is Operation.FAILOVER and f.request.force:
        return _passed("target_in_sync", f"{detail} (forced)")
    return _stop(Verdict.REFUSED, "target_in_sync", detail, page=True)


def _writer_unhealthy_twice(f: _Facts) -> Check | Stop:
    """Gate 7 (failover): the writer is unhealthy from both vantage points; only a manual
    request may `force` past it."""
    vantage = f.vantage()
    if f.target_unhealthy and f.obs.writer_alarm.unhealthy:
        return _passed("writer_unhealthy_twice", vantage)
    if _forced(f):
        return _passed("writer_unhealthy_twice", f"{vantage} (forced)")
    return _stop(
        Verdict.NO_ACTION,
        "writer_unhealthy_twice",
        f"the writer is not unhealthy from both vantage points ({vantage}); not failing over",
        page=False,
    )


def _forced(f: _Facts) -> bool:
    return f.request.trigger is Trigger.MANUAL and f.request.force


def _writer_not_failing_over_in_region(f: _Facts) -> Check | Stop:
    """Gate 8 (failover): no in-region failover of the writer's cluster excuses its loss; only
    a manual request may `force` past it."""
    name = "writer_not_failing_over_in_region"
    if f.obs.in_region is None:
        return _passed(name, "in-region failover state not read")
    verdict = inregion.judge(
        f.obs.in_region, now=f.obs.observed_at, excuse_seconds=f.policy.in_region_excuse_seconds
    )
    if not verdict.excused:
        return _passed(name, verdict.detail)
    if _forced(f):
        return _passed(name, f"{verdict.detail} (forced)")
    return _stop(
        Verdict.NO_ACTION,
        name,
        f"{f.known_writer.cluster_id} in {f.known_writer.region}: {verdict.detail}; not failing "
        "the global database over",
        page=False,
    )


def _writer_still_lost(f: _Facts) -> Check | Stop:
    """Gate 9 (failover): a fresh probe does not find the writer answering again; only a manual
    request may `force` past a recovered writer."""
    name = "writer_still_lost"
    probe = f.obs.fresh_probe
    if probe is None:
        return _passed(name, "no fresh probe (no health checker configured in the target region)")
    if probe.outcome is not ProbeOutcome.WRITER:
        return _passed(
            name,
            f"fresh probe from {f.request.target_region}: {probe.outcome.value}: {probe.detail}",
        )
    seen = f" (trigger observed at {f.request.observed_at})" if f.request.observed_at else ""
    detail = (
        f"the writer recovered: a fresh probe from {f.request.target_region} found it answering "
        f"({probe.detail}) after the {f.request.trigger.value} was raised{seen}"
    )
    if _forced(f):
        return _passed(name, f"{detail} (forced)")
    return _stop(Verdict.REFUSED, name, f"{detail}; not failing over", page=False)


def _lag_within_budget(f: _Facts) -> Check | Stop:
    """Gate 10 (failover): the lag is known and within the budget (`force` overrides)."""
    lag, budget = f.obs.lag.lag_ms, f.policy.lag_budget_ms
    if lag is None or lag > budget:
        seen = "unknown (no datapoints)" if lag is None else f"{lag:.0f} ms"
        detail = f"replication lag {seen}, budget {budget:.0f} ms"
        if f.request.force:
            return _passed("lag_within_budget", f"{detail} (forced)")
        return _stop(
            Verdict.REFUSED,
            "lag_within_budget",
            f"{detail}: failing over could lose more data than allowed; "
            "an operator must decide (re-run with force)",
            page=True,
        )
    return _passed("lag_within_budget", f"replication lag {lag:.0f} ms, budget {budget:.0f} ms")


def _writer_healthy(f: _Facts) -> Check | Stop:
    """Gate 11 (switchover): the writer is healthy from both vantage points."""
    vantage = f.vantage()
    if f.target_unhealthy or f.obs.writer_alarm.unhealthy:
        return _stop(
            Verdict.REFUSED,
            "writer_healthy",
            f"a switchover needs a healthy writer ({vantage}); use a failover instead",
            page=True,
        )
    return _passed("writer_healthy", vantage)


_COMMON_GATES: tuple[Gate, ...] = (
    _no_failover_in_progress,
    _target_member,
    _target_not_writer,
    _writer_known,
    _target_available,
    _target_in_sync,
)
# The gates of each operation, in order (module docstring).
GATES: dict[Operation, tuple[Gate, ...]] = {
    Operation.FAILOVER: (
        *_COMMON_GATES,
        _writer_unhealthy_twice,
        _writer_not_failing_over_in_region,
        _writer_still_lost,
        _lag_within_budget,
    ),
    Operation.SWITCHOVER: (*_COMMON_GATES, _writer_healthy),
}


def decide(request: Request, obs: Observations, policy: Policy) -> Decision:
    """Apply the gates (module docstring) to `request` and `obs`: the first that stops decides."""
    facts = _Facts(
        request=request,
        obs=obs,
        policy=policy,
        writer=obs.topology.writer,
        target=obs.topology.member_in(request.target_region),
    )
    source_arn = facts.writer.arn if facts.writer else None
    target_arn = facts.target.arn if facts.target else None
    checks: list[Check] = []
    for gate in GATES[request.operation]:
        outcome = gate(facts)
        if isinstance(outcome, Stop):
            return Decision(
                verdict=outcome.verdict,
                operation=None,
                page=outcome.page,
                reason=outcome.check.detail,
                checks=(*checks, outcome.check),
                source_arn=source_arn,
                target_arn=target_arn,
            )
        checks.append(outcome)
    writer, target = facts.known_writer, facts.known_target
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
