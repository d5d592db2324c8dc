"""One tick of the peer watch: observe (concurrently), judge, page; and the execution's payload.

The tick reads only what its decision needs. The peer probe always; the global cluster's roles
only when the probe did not find a writer; the writer cluster's in-region failover state only
while a streak is open (the tick that may confirm a loss is such a tick). While a streak is open
the three reads start together, so the confirming tick costs its slowest read, not their sum,
and the read into the peer region (the one that may be lost) has the remote call budget.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from drcommon import contract, inregion, topology
from drcommon.aws import ClientFactory, Clock, remote_config
from drcommon.contract import worst_case_call_seconds
from drcommon.observability import get_logger
from drcommon.parallel import gather
from drcommon.peerprobe import PeerProbe, ProbeOutcome, request_peer_probe
from peer_watch import SERVICE, page
from peer_watch.confirmation import (
    Action,
    Judgement,
    Policy,
    Roles,
    Tick,
    WatchState,
    judge,
    schedule,
)
from peer_watch.settings import Settings

logger = get_logger(SERVICE)

# Seconds `gather` waits beyond the slowest read's own budget before giving up on it.
GATHER_MARGIN_SECONDS = 1.0


class WatchInputError(ValueError):
    """The invocation's input is neither the ticker's start nor a watch payload."""


@dataclass(frozen=True)
class Dependencies:
    """What a tick needs from the outside world."""

    settings: Settings
    factory: ClientFactory
    clock: Clock

    @property
    def policy(self) -> Policy:
        """The decision's knobs."""
        s = self.settings
        return Policy(
            cadence_seconds=s.cadence_seconds,
            window_seconds=s.window_seconds,
            execution_seconds=s.execution_seconds,
            in_region_excuse_seconds=s.in_region_excuse_seconds,
        )

    @property
    def remote_call_seconds(self) -> float:
        """The worst case of one call into the peer region."""
        r = self.settings.remote
        return worst_case_call_seconds(
            r.connect_timeout_seconds, r.read_timeout_seconds, r.max_attempts
        )


def parse_input(event: Any, now: float) -> WatchState:
    """The ticker's start (`contract.WATCH_START_EVENT`) or the previous tick's payload."""
    if event == contract.WATCH_START_EVENT:
        return WatchState.start(now)
    if isinstance(event, dict) and set(event) == {"state", "nextTickAt", "done"}:
        try:
            return WatchState.from_payload(event["state"])
        except ValueError as exc:
            raise WatchInputError(str(exc)) from None
    shape = sorted(event) if isinstance(event, dict) else type(event).__name__
    raise WatchInputError(
        f"peer_watch accepts {contract.WATCH_START_EVENT} or its own payload "
        f"{{state, nextTickAt, done}}; got {shape}"
    )


def timestamp(epoch: float) -> str:
    """RFC 3339 UTC with a `Z`, as a Step Functions Wait state's `TimestampPath` wants it."""
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def read_roles(deps: Dependencies) -> Roles:
    """The writer's region, a running global failover and the peer's member (never raises)."""
    s = deps.settings
    try:
        snapshot = topology.describe_global_cluster(
            deps.factory("rds", s.local_region), s.global_cluster_id
        )
    except Exception as exc:
        return Roles(error=f"topology unreadable: {exc}")
    peer = snapshot.member_in(s.peer_region)
    return Roles(
        writer_region=snapshot.writer.region if snapshot.writer else None,
        global_failover=snapshot.failover_state.status if snapshot.failover_state else None,
        peer_cluster_id=peer.cluster_id if peer else None,
    )


def observe(state: WatchState, deps: Dependencies, now: float) -> Tick:
    """This tick's observations (module docstring)."""
    s = deps.settings
    tasks: dict[str, Any] = {
        "probe": lambda: request_peer_probe(
            deps.factory,
            region=s.local_region,
            function_name=s.health_checker_function_name,
            timeout_seconds=s.peer_probe_timeout_seconds,
            clock=deps.clock,
        )
    }
    if state.streak_open:
        tasks["roles"] = lambda: read_roles(deps)
        if state.peer_cluster_id is not None:
            cluster_id = state.peer_cluster_id
            tasks["in_region"] = lambda: inregion.read_in_region(
                deps.factory("rds", s.peer_region, config=remote_config(s.remote)),
                cluster_id,
                now=now,
                lookback_seconds=2 * s.in_region_excuse_seconds,
            )
    slowest = max(s.peer_probe_timeout_seconds, deps.remote_call_seconds)
    outcomes = gather(tasks, timeout_seconds=slowest + GATHER_MARGIN_SECONDS)
    probe = outcomes["probe"]
    found: PeerProbe = (
        probe.value
        if probe.ok
        else PeerProbe(ProbeOutcome.UNAVAILABLE, f"probe request broke: {probe.error}", 0.0)
    )
    roles = outcomes["roles"].value if "roles" in outcomes else None
    if roles is None and found.outcome in (ProbeOutcome.FAILED, ProbeOutcome.NOT_WRITER):
        roles = read_roles(deps)  # the first failure of a streak: not a confirming tick
    in_region = outcomes.get("in_region")
    return Tick(
        at=now,
        probe=found.outcome,
        probe_detail=found.detail,
        roles=roles,
        in_region=in_region.value if in_region is not None and in_region.ok else None,
    )


def act(judgement: Judgement, tick: Tick, deps: Dependencies) -> WatchState:
    """Page the coordinator on a `PAGE`; a page that failed is retried by the next tick."""
    if judgement.action is not Action.PAGE:
        return judgement.state
    s = deps.settings
    outcome = page.page_coordinator(
        deps.factory("lambda", s.local_region),
        s.coordinator_function_name,
        local_region=s.local_region,
        peer_region=s.peer_region,
        observed_at=dt.datetime.fromtimestamp(tick.at, tz=dt.UTC),
    )
    return judgement.state if outcome.paged else replace(judgement.state, paged_at=None)


def run(event: Any, deps: Dependencies) -> dict[str, Any]:
    """One tick: parse, observe, judge, page; returns the payload of the next tick."""
    now = deps.clock.time()
    state = parse_input(event, now)
    tick = observe(state, deps, now)
    judgement = judge(state, tick, deps.policy, deps.settings.local_region)
    after = act(judgement, tick, deps)
    log = logger.debug if judgement.action is Action.HEALTHY else logger.info
    log("tick", extra={"action": judgement.action.value, "reason": judgement.reason})
    following, more = schedule(after, deps.policy, deps.clock.time())
    return {
        "state": following.to_payload(),
        "nextTickAt": timestamp(following.next_tick_at),
        "done": not more,
    }
