"""The peer watch's decision: pure, no AWS, one tick's observations against the watch's state.

An execution of the region's Step Functions ticker starts once a minute and invokes the watch
every cadence; each invocation is one tick. Everything a tick knows about earlier ticks is the
`WatchState` the previous tick returned (the execution carries it), so the decision is a function
of (state, this tick's observations) and nothing else.

Gates, in order (the first that applies decides; `judge`):

1. the peer answered the probe as a writer: healthy, the streak of failures is over;
2. the health checker could not be asked: no evidence either way, the streak stands as it was;
3. this region holds the writer role: there is no peer writer to lose, healthy;
4. a global failover or switchover is running: AWS is moving the writer, the coordinator is not
   paged (the streak restarts once it is over);
5. a failure: the streak opens at this probe (or continues);
6. fewer than two failed probes, or failures spanning less than the confirmation window: wait;
7. the writer's cluster is in an in-region failover the writer region's API shows, for no longer
   than the excuse allows: hold (Aurora is replacing its writer in-region);
8. the coordinator was already paged by this execution: hold (its gates decide, and the next
   execution pages again if the writer is still lost);
9. page the coordinator.

Executions and the window: an execution ends after its minute of ticks, except that it keeps
ticking while a streak is open and not yet paged (`schedule`), so a loss that begins in the last
seconds of one execution is confirmed by that execution, across the boundary, not forgotten by
the next (which starts with no streak and confirms it again on its own).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any

from drcommon import inregion
from drcommon.inregion import InRegionView
from drcommon.peerprobe import ProbeOutcome

# Express workflows "can run for up to five minutes" (Step Functions Developer Guide, "Standard
# vs. Express Workflows"): no tick is scheduled later than this after the execution started.
LATEST_TICK_SECONDS = 240.0


@dataclass(frozen=True)
class Policy:
    """The watch's knobs (its environment, from the sizing)."""

    cadence_seconds: float
    window_seconds: float
    execution_seconds: float
    in_region_excuse_seconds: float


@dataclass(frozen=True)
class WatchState:
    """What one execution carries from tick to tick (epoch seconds throughout)."""

    execution_started_at: float
    next_tick_at: float
    """When this tick was scheduled to start (the ticks keep the cadence, whatever they took)."""
    failing_since: float | None = None
    """Start of the first failed probe of the open streak (None: no streak)."""
    failed_probes: int = 0
    peer_cluster_id: str | None = None
    """The peer region's member cluster, once the topology was read (for the in-region read)."""
    in_region_since: float | None = None
    """When an in-region failover known only by its status was first seen."""
    paged_at: float | None = None

    @classmethod
    def start(cls, now: float) -> WatchState:
        """The state of an execution's first tick."""
        return cls(execution_started_at=now, next_tick_at=now)

    @property
    def streak_open(self) -> bool:
        """The previous probe failed (and the streak has not been closed)."""
        return self.failing_since is not None

    def to_payload(self) -> dict[str, Any]:
        """JSON-ready form (the execution's state)."""
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: Any) -> WatchState:
        """Parse `to_payload`'s output strictly; raises ValueError naming what is wrong."""
        names = {f.name for f in fields(cls)}
        if not isinstance(payload, dict) or set(payload) != names:
            shape = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
            raise ValueError(f"watch state must have exactly the keys {sorted(names)}, got {shape}")
        numbers = ("execution_started_at", "next_tick_at")
        optional_numbers = ("failing_since", "in_region_since", "paged_at")
        for name in numbers:
            if not _number(payload[name]):
                raise ValueError(f"watch state {name} must be a number, got {payload[name]!r}")
        for name in optional_numbers:
            if payload[name] is not None and not _number(payload[name]):
                raise ValueError(f"watch state {name} must be a number or null")
        if not isinstance(payload["failed_probes"], int) or payload["failed_probes"] < 0:
            raise ValueError("watch state failed_probes must be a whole number")
        if payload["peer_cluster_id"] is not None and not isinstance(
            payload["peer_cluster_id"], str
        ):
            raise ValueError("watch state peer_cluster_id must be a string or null")
        return cls(**payload)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Roles:
    """The global cluster's roles as this tick read them (`error`: could not be read)."""

    writer_region: str | None = None
    global_failover: str | None = None
    """The FailoverState status while a global failover or switchover runs."""
    peer_cluster_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Tick:
    """What one tick observed; `roles` and `in_region` are None when they were not read."""

    at: float
    probe: ProbeOutcome
    probe_detail: str
    roles: Roles | None = None
    in_region: InRegionView | None = None


class Action(StrEnum):
    """What the tick concludes."""

    HEALTHY = "healthy"
    WAIT = "wait"  # a streak is open, not yet confirmed
    HOLD = "hold"  # confirmed or not, the coordinator is not paged now
    PAGE = "page"


@dataclass(frozen=True)
class Judgement:
    """The tick's conclusion, why, and the state the next tick starts from."""

    action: Action
    reason: str
    state: WatchState


def _healthy(state: WatchState, reason: str) -> Judgement:
    closed = replace(state, failing_since=None, failed_probes=0, in_region_since=None)
    return Judgement(Action.HEALTHY, reason, closed)


def _roles_gate(state: WatchState, tick: Tick, local_region: str) -> Judgement | None:
    """Gates 3 and 4: this region is the writer, or a global failover runs."""
    roles = tick.roles
    if roles is None or roles.error is not None:
        return None  # unknown roles: the failed probe counts (the coordinator re-reads them)
    if roles.writer_region == local_region:
        return _healthy(state, f"{local_region} holds the writer role: no peer writer to lose")
    if roles.global_failover is not None:
        reset = replace(state, failing_since=None, failed_probes=0, in_region_since=None)
        reason = f"a global {roles.global_failover} is running: AWS is moving the writer"
        return Judgement(Action.HOLD, reason, reset)
    return None


def judge(state: WatchState, tick: Tick, policy: Policy, local_region: str) -> Judgement:
    """Apply the gates (module docstring) to one tick."""
    if tick.probe is ProbeOutcome.WRITER:
        return _healthy(state, f"peer writer answered: {tick.probe_detail}")
    if tick.probe is ProbeOutcome.UNAVAILABLE:
        return Judgement(Action.HOLD, f"no probe this tick: {tick.probe_detail}", state)
    decided = _roles_gate(state, tick, local_region)
    if decided is not None:
        return decided
    since = state.failing_since if state.failing_since is not None else tick.at
    peer_cluster = (tick.roles.peer_cluster_id if tick.roles else None) or state.peer_cluster_id
    failing = replace(
        state,
        failing_since=since,
        failed_probes=state.failed_probes + 1,
        peer_cluster_id=peer_cluster,
    )
    span = tick.at - since
    if failing.failed_probes < 2 or span < policy.window_seconds:
        reason = (
            f"{failing.failed_probes} failed probe(s) spanning {span:.0f} s of the "
            f"{policy.window_seconds:.0f} s confirmation window: {tick.probe_detail}"
        )
        return Judgement(Action.WAIT, reason, failing)
    verdict = inregion.judge(
        tick.in_region or InRegionView(error="not read"),
        now=tick.at,
        excuse_seconds=policy.in_region_excuse_seconds,
        first_seen=state.in_region_since,
    )
    if verdict.excused:
        return Judgement(
            Action.HOLD, verdict.detail, replace(failing, in_region_since=verdict.since)
        )
    if state.paged_at is not None:
        return Judgement(
            Action.HOLD, f"coordinator already paged by this execution; {verdict.detail}", failing
        )
    reason = (
        f"peer writer lost: {failing.failed_probes} failed probes over {span:.0f} s "
        f"(window {policy.window_seconds:.0f} s); {verdict.detail}"
    )
    return Judgement(Action.PAGE, reason, replace(failing, paged_at=tick.at))


def schedule(state: WatchState, policy: Policy, now: float) -> tuple[WatchState, bool]:
    """The state for the next tick and whether the execution goes on (False: it ends).

    Ticks keep the cadence from the execution's start (a tick that overran starts the next one
    at once). The execution goes on for its own minute, and past it while a streak is open and
    unpaged: until the streak's window and in-region excuse are over, never past
    `LATEST_TICK_SECONDS`.
    """
    next_at = max(state.next_tick_at + policy.cadence_seconds, now)
    ahead = replace(state, next_tick_at=next_at)
    started = state.execution_started_at
    if next_at - started > LATEST_TICK_SECONDS:
        return ahead, False
    if next_at < started + policy.execution_seconds:
        return ahead, True
    if state.failing_since is None or state.paged_at is not None:
        return ahead, False
    last = (
        state.failing_since
        + policy.window_seconds
        + policy.in_region_excuse_seconds
        + policy.cadence_seconds
    )
    return ahead, next_at <= last
