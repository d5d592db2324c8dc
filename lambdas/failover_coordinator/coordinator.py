"""Orchestration: event -> observations -> decision -> lock -> role change -> report.

Order matters for safety:

1. the event is parsed before any AWS call (a malformed event touches nothing);
2. observations are reads only; a dry run stops after the decision (and a read of the lock);
3. the lock is taken only for a `PROCEED`, in the lock table of the *target* region (the one
   lock both regions' coordinators contend on), and the topology is re-read under the lock
   (double-checked): another invocation may have completed the same failover in between;
4. a role-change call RDS rejects as an invalid state is judged against a fresh read of the
   topology: the desired writer already in place is `no_action`, another role change running
   is `superseded`; only what the topology does not explain is `failed`;
5. from the moment the lock is held, every failure is recorded on the lock item (`failed` or
   `unconfirmed`), so a re-invocation is blocked - for a bounded time, and never an operator's
   forced request - instead of repeating the operation blindly; every page about such a lock
   says how to clear it;
6. once the role change is confirmed, the new writer region's health checker is run at once
   (best effort, bounded) so that `WriterAvailable` - and with it the Route 53 failover record -
   follows the new writer now rather than at the checker's next scheduled minute;
7. then the old writer is drained (catalog changes replicate to every region, so sessions can
   only be cut on the demoted cluster), best effort and only when its region answered the
   health read;
8. every non-dry-run outcome worth a human's attention is published to SNS with durations.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drcommon import topology
from drcommon.aws import ClientFactory, Clock, Deadline, LambdaContext, error_code
from drcommon.contract import CoordinatorOutcome as Outcome
from drcommon.observability import MetricPoint, get_logger
from failover_coordinator import SERVICE, actions
from failover_coordinator.decision import (
    AlarmState,
    Decision,
    Observations,
    Operation,
    Policy,
    Request,
    Trigger,
    Verdict,
    decide,
)
from failover_coordinator.events import (
    RDS_COMPLETION_EVENTS,
    RDS_FAILURE_EVENTS,
    Ignored,
    RdsNotice,
    StalePage,
    parse_event,
)
from failover_coordinator.lock import FailoverLock, LockRecord, LockUnavailable
from failover_coordinator.observe import Observer
from failover_coordinator.settings import Settings

logger = get_logger(SERVICE)

# Seconds kept back from the Lambda's remaining time for recording the outcome (lock + SNS).
RESERVE_SECONDS = 20.0
# Upper bound on the post-promotion health run (the peer watch's own timeout is 30 s; it waits
# for the checker's probes and then publishes).
PROBE_TIMEOUT_SECONDS = 25.0
# Below this much time left (after the reserve) a helper invocation is not even attempted.
MIN_INVOKE_SECONDS = 1.0
# The errors both role-change APIs declare for "not in a state to do this" (botocore's RDS model,
# FailoverGlobalCluster and SwitchoverGlobalCluster: InvalidGlobalClusterStateFault "The global
# cluster is in an invalid state and can't perform the requested operation.", and
# InvalidDBClusterStateFault). The topology says why: re-read it before calling it a failure.
STATE_FAULTS = frozenset({"InvalidGlobalClusterStateFault", "InvalidDBClusterStateFault"})


@dataclass
class Result:
    """What an invocation did; returned to the caller and summarised to SNS and metrics.

    `status` is one of:

    * `ignored` - nothing to do with the event (an alarm leaving ALARM, a stale page);
    * `recorded` - an RDS event, logged and notified (it may resolve an `unconfirmed` lock);
    * `dry_run` - what the decision would be, nothing changed;
    * `no_action` - nothing to change: the target already writes, a role change is running, or
      the writer is not unhealthy from both vantage points;
    * `refused` - a gate stopped a change a human must look at (paged);
    * `blocked` - the lock is held by a live lease, or by a failed attempt (paged, with how to
      clear it);
    * `superseded` - RDS rejected our call because another role change is running: this
      request did nothing, the other change decides the outcome;
    * `completed` - the role change was made and confirmed;
    * `unconfirmed` - the role change was started but not seen to finish in time (paged);
    * `failed` - the role change, or the reads it needs, failed (paged).

    `metrics` counts the outcomes an operator watches: started, completed, failed (with
    unconfirmed), refused, blocked and superseded.
    """

    status: str
    detail: str
    request: Request | None = None
    decision: Decision | None = None
    durations_ms: dict[str, float] = field(default_factory=dict)
    lock: str | None = None
    probe: actions.InvokeOutcome | None = None
    drain: actions.InvokeOutcome | None = None
    notified: bool = False
    page: bool = False
    event_id: str | None = None
    clear_lock: str | None = None
    """How to clear the lock that blocks automatic actions (pages about such a lock carry it)."""
    lock_override: str | None = None
    """The failed attempt's lock this invocation acted over (expired, or forced)."""

    @property
    def ok(self) -> bool:
        """False for outcomes that are errors (the role change failed or is unconfirmed)."""
        return self.status not in ("failed", "unconfirmed")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (also the SNS message body)."""
        out: dict[str, Any] = {
            "status": self.status,
            "ok": self.ok,
            "detail": self.detail,
            "page": self.page,
            "durationsMs": {k: round(v, 1) for k, v in self.durations_ms.items()},
        }
        if self.request is not None:
            out["request"] = {
                "operation": self.request.operation.value,
                "targetRegion": self.request.target_region,
                "trigger": self.request.trigger.value,
                "dryRun": self.request.dry_run,
                "force": self.request.force,
            }
            if self.request.observed_at is not None:
                out["request"]["observedAt"] = self.request.observed_at
        if self.decision is not None:
            out["decision"] = {
                "verdict": self.decision.verdict.value,
                "operation": self.decision.operation.value if self.decision.operation else None,
                "reason": self.decision.reason,
                "sourceArn": self.decision.source_arn,
                "targetArn": self.decision.target_arn,
                "checks": [asdict(c) for c in self.decision.checks],
            }
        if self.lock is not None:
            out["lock"] = self.lock
        if self.probe is not None:
            out["probe"] = asdict(self.probe)
        if self.drain is not None:
            out["drain"] = asdict(self.drain)
        if self.event_id is not None:
            out["rdsEventId"] = self.event_id
        if self.clear_lock is not None:
            out["clearLock"] = self.clear_lock
        if self.lock_override is not None:
            out["lockOverride"] = self.lock_override
        return out

    def metrics(self) -> list[MetricPoint]:
        """The metrics this outcome emits (namespace and dimensions are the handler's)."""
        points = [MetricPoint(Outcome.INVOCATIONS, "Count", 1)]
        flags = {
            Outcome.FAILOVER_STARTED: self.status in ("completed", "unconfirmed")
            or (self.status == "failed" and "role_change_ms" in self.durations_ms),
            Outcome.FAILOVER_COMPLETED: self.status == "completed",
            Outcome.FAILOVER_FAILED: not self.ok,
            Outcome.FAILOVER_REFUSED: self.status == "refused",
            Outcome.FAILOVER_BLOCKED: self.status == "blocked",
            Outcome.FAILOVER_SUPERSEDED: self.status == "superseded",
            Outcome.RDS_GLOBAL_FAILOVER_EVENTS: self.status == "recorded",
        }
        points += [MetricPoint(name, "Count", 1.0 if on else 0.0) for name, on in flags.items()]
        units = {
            "decision_ms": "DecisionDuration",
            "role_change_ms": "RoleChangeDuration",
            "probe_ms": "PostPromotionProbeDuration",
            "drain_ms": "DrainDuration",
            "total_ms": "TotalDuration",
        }
        points += [
            MetricPoint(units[key], "Milliseconds", value)
            for key, value in self.durations_ms.items()
            if key in units
        ]
        return points


@dataclass
class Dependencies:
    """Everything `run` needs from the outside world."""

    settings: Settings
    factory: ClientFactory
    clock: Clock
    context: LambdaContext | None = None


class Coordinator:
    """One invocation's worth of state around `run()`."""

    def __init__(self, deps: Dependencies) -> None:
        """Bind the dependencies and start the invocation's clock."""
        self.deps = deps
        self.settings = deps.settings
        self.clock = deps.clock
        self.started = deps.clock.monotonic()
        self.deadline = Deadline.from_context(
            deps.context, deps.clock, reserve_seconds=RESERVE_SECONDS, fallback_seconds=280.0
        )
        request_id = getattr(deps.context, "aws_request_id", None)
        self.owner = request_id or f"local-{uuid.uuid4()}"
        self.durations: dict[str, float] = {}
        # Set once the lock is taken over a failed attempt's item: every outcome then says so.
        self.override: str | None = None
        self.observer = Observer(self.settings, deps.factory, deps.clock, self.deadline)

    # -- entry point -------------------------------------------------------------------------

    def run(self, event: Any) -> Result:
        """Handle one event (raises `InvalidEvent` for a malformed one, before any AWS call)."""
        try:
            parsed = parse_event(event, self.settings, now=self.clock.time())
        except StalePage as exc:
            # A page that waited behind a running invocation says nothing about now; the next
            # probe will page again if the writer is still lost. Not an error worth alerting.
            logger.info("stale page ignored", extra={"reason": str(exc)})
            return self._finish(Result(status="ignored", detail=str(exc)))
        if isinstance(parsed, Ignored):
            logger.info("event ignored", extra={"reason": parsed.reason})
            return self._finish(Result(status="ignored", detail=parsed.reason))
        if isinstance(parsed, RdsNotice):
            return self._finish(self._record_rds_notice(parsed))
        return self._finish(self._handle_request(parsed))

    # -- requests ----------------------------------------------------------------------------

    def _handle_request(self, request: Request) -> Result:
        """Observe, decide, and (on `PROCEED`, outside a dry run) take the lock and act."""
        logger.info("request", extra={"request": asdict(request)})
        observations = self._observe(request)
        if isinstance(observations, Result):
            return observations
        policy = Policy(self.settings.lag_budget_ms, self.settings.in_region_excuse_seconds)
        decision = decide(request, observations, policy)
        self._mark("decision_ms")
        logger.info(
            "decision",
            extra={"verdict": decision.verdict.value, "reason": decision.reason},
        )
        if request.dry_run:
            return Result(
                status="dry_run",
                detail=f"dry run, would be: {decision.verdict.value}: {decision.reason}",
                request=request,
                decision=decision,
                lock=self._describe_lock(request.target_region),
            )
        if decision.verdict is not Verdict.PROCEED:
            return self._not_proceeding(request, decision)
        taken = self._take_lock(request, decision)
        if isinstance(taken, Result):
            return taken
        lock, replaced = taken
        self.override = _override_note(replaced, request)
        try:
            return self._act(request, decision, observations, lock)
        except Exception as exc:
            # Anything unexpected while holding the lock: record it so nobody repeats blindly.
            logger.exception("failover run broke while holding the lock")
            detail = f"unexpected error while holding the lock: {exc}"
            return self._failed(request, detail, decision=decision, held=lock)

    def _observe(self, request: Request) -> Observations | Result:
        """What the decision needs, or the failure to read the topology (nothing is decided)."""
        try:
            return self.observer.observe(request)
        except (ClientError, BotoCoreError, topology.TopologyError) as exc:
            # Without the topology nothing can be decided safely; say so loudly.
            self._mark("decision_ms")
            return self._failed(
                request,
                f"could not read the global cluster topology: {exc}",
                notify=not request.dry_run,
            )

    def _not_proceeding(self, request: Request, decision: Decision) -> Result:
        """A `NO_ACTION` or `REFUSED` verdict, reported as such."""
        result = Result(
            status=decision.verdict.value,
            detail=decision.reason,
            request=request,
            decision=decision,
            page=decision.page,
        )
        # The peer watch pages once a minute while a peer looks lost: a quiet "no action" is
        # logged and counted, not mailed; anything a human must act on is.
        return self._report(result, notify=request.trigger is not Trigger.PAGE or decision.page)

    def _take_lock(
        self, request: Request, decision: Decision
    ) -> tuple[FailoverLock, LockRecord | None] | Result:
        """The failover lock (in the target region), held for this invocation, with the item it
        replaced; or why it could not be taken."""
        lock = self._lock(request.target_region)
        try:
            replaced = lock.acquire(
                owner=self.owner,
                operation=request.operation.value,
                target_region=request.target_region,
                force=request.force,
            )
        except (ClientError, BotoCoreError) as exc:
            # No lock, no action: acting without it could run the failover twice.
            detail = f"could not take the failover lock, not acting: {exc}"
            return self._failed(request, detail, decision=decision)
        except LockUnavailable as exc:
            failure = exc.blocked_by_failure
            result = Result(
                status="blocked",
                detail=f"not acting: {exc}",
                request=request,
                decision=decision,
                lock=str(exc),
                page=failure,
                clear_lock=lock.clear_instructions() if failure else None,
            )
            # A live lease belongs to an invocation that will report itself; a failed attempt
            # needs a human and is repeated on every trigger until someone looks.
            return self._report(result, notify=failure)
        return lock, replaced

    def _act(
        self, request: Request, decision: Decision, observations: Observations, lock: FailoverLock
    ) -> Result:
        """Under the lock: re-check, start the role change, wait for it, probe, drain, report."""
        operation, source_arn, target_arn = _planned(decision)
        # Double-checked under the lock: the world may have moved since we observed it.
        fresh = self.observer.global_cluster()
        if fresh.failover_in_progress or fresh.is_settled_with_writer(target_arn):
            detail = "state changed before acting (failover running or target already writer)"
            self._record(lock.complete, detail)
            return Result(
                status="no_action",
                detail=detail,
                request=request,
                decision=decision,
                lock="released",
            )
        source_region = topology.parse_arn(source_arn).region
        rds = self.deps.factory("rds", request.target_region)
        before = self.clock.monotonic()
        refused = self._start_role_change(rds, operation, target_arn)
        if refused is not None:
            return self._rejected(request, decision, lock, refused, target_arn)
        wait = actions.wait_for_writer(
            rds,
            global_cluster_id=self.settings.global_cluster_id,
            target_arn=target_arn,
            clock=self.clock,
            deadline=self.deadline,
            poll_interval=self.settings.poll_interval_seconds,
        )
        self.durations["role_change_ms"] = (self.clock.monotonic() - before) * 1000
        if not wait.completed:
            detail = (
                f"{operation.value} started but not confirmed after "
                f"{wait.seconds:.0f} s ({wait.polls} polls, last state: {wait.last_state})"
            )
            return self._failed(request, detail, decision=decision, held=lock, unconfirmed=True)
        # DNS first: the new writer's health metric, then the old writer's sessions.
        probe = self._probe_new_writer(request.target_region)
        drain = self._drain_old_writer(source_region, observations)
        detail = f"{decision.reason}: completed in {wait.seconds:.0f} s"
        self._record(lock.complete, detail)
        completed = Result(
            status="completed",
            detail=detail,
            request=request,
            decision=decision,
            lock="released",
            probe=probe,
            drain=drain,
        )
        return self._report(completed)

    def _start_role_change(
        self, rds: Any, operation: Operation, target_arn: str
    ) -> ClientError | BotoCoreError | None:
        """Ask RDS for the role change; None once accepted, else the error it answered."""
        try:
            actions.start_role_change(
                rds,
                operation,
                global_cluster_id=self.settings.global_cluster_id,
                target_arn=target_arn,
                clock=self.clock,
                deadline=self.deadline,
            )
        except (ClientError, BotoCoreError) as exc:
            return exc
        return None

    def _rejected(
        self,
        request: Request,
        decision: Decision,
        lock: FailoverLock,
        error: ClientError | BotoCoreError,
        target_arn: str,
    ) -> Result:
        """A refused role-change call, judged against the topology read again now.

        RDS answers an invalid-state fault when the change it is asked for cannot start: the
        target already writes (another invocation or an operator got there first), or another
        role change is running. Neither is a failure of ours, and recording one would block the
        next automatic failover. Anything else is a real failure.
        """
        detail = f"{request.operation.value} request failed: {error_code(error) or error}: {error}"
        fresh = None
        if isinstance(error, ClientError) and error_code(error) in STATE_FAULTS:
            try:
                fresh = self.observer.global_cluster()
            except (ClientError, BotoCoreError, topology.TopologyError) as exc:
                detail += f"; the topology could not be re-read: {exc}"
        if fresh is not None and fresh.is_settled_with_writer(target_arn):
            status, detail = "no_action", f"{detail}; the target already holds the writer role"
        elif fresh is not None and fresh.failover_state is not None:
            state = fresh.failover_state
            status = "superseded"
            detail = (
                f"{detail}; another global {state.status} is running "
                f"({state.from_arn} -> {state.to_arn}): it decides the outcome, not this request"
            )
        else:
            return self._failed(request, detail, decision=decision, held=lock)
        self._record(lock.complete, detail)
        result = Result(
            status=status, detail=detail, request=request, decision=decision, lock="released"
        )
        # Like every verdict that needs nobody: mailed unless a peer watch's page asked.
        return self._report(result, notify=request.trigger is not Trigger.PAGE)

    def _drain_old_writer(
        self, region: str, observations: Observations
    ) -> actions.InvokeOutcome | None:
        """Drain the demoted writer in `region` when reachable; None when not attempted."""
        budget = min(self.settings.drain_timeout_seconds, self.deadline.remaining())
        # "When reachable": skip a region whose API did not even answer the health read, and
        # never spend the time reserved for recording the outcome.
        if observations.writer_alarm is AlarmState.UNREACHABLE or budget < MIN_INVOKE_SECONDS:
            return None
        drain = actions.drain_old_writer(
            self.deps.factory,
            region=region,
            function_name=self.settings.for_region(region).drainer_function_name,
            # The drainer's schema: which of its two configured clusters to drain.
            payload={"region": region},
            timeout_seconds=budget,
            clock=self.clock,
        )
        self.durations["drain_ms"] = drain.seconds * 1000
        if not drain.ok:
            logger.warning("drain failed (not blocking)", extra={"detail": drain.detail})
        return drain

    def _probe_new_writer(self, region: str) -> actions.InvokeOutcome | None:
        """Run the health run of `region` (the new writer's) now; never raises.

        None when no health run is configured for that region. The role change is done by now:
        nothing here may turn it into a failure, hence the catch-all.
        """
        function_name = self.settings.for_region(region).health_run_function_name
        if not function_name:
            logger.info(
                "no health run configured for the new writer's region, not probing",
                extra={"region": region},
            )
            return None
        budget = min(PROBE_TIMEOUT_SECONDS, self.deadline.remaining())
        if budget < MIN_INVOKE_SECONDS:
            detail = f"skipped: {budget:.1f} s left before the reserve for recording the outcome"
            logger.warning("post-promotion probe skipped", extra={"detail": detail})
            return actions.InvokeOutcome(False, detail, 0.0)
        started = self.clock.monotonic()
        try:
            probe = actions.probe_new_writer(
                self.deps.factory,
                region=region,
                function_name=function_name,
                timeout_seconds=budget,
                clock=self.clock,
            )
        except Exception as exc:
            logger.exception("post-promotion probe broke (not blocking)")
            probe = actions.InvokeOutcome(
                False, f"probe error: {exc}", self.clock.monotonic() - started
            )
        self.durations["probe_ms"] = probe.seconds * 1000
        if probe.ok:
            logger.info("new writer probed", extra={"region": region, "seconds": probe.seconds})
        else:
            logger.warning(
                "post-promotion probe failed (not blocking)", extra={"detail": probe.detail}
            )
        return probe

    # -- RDS events --------------------------------------------------------------------------

    def _record_rds_notice(self, notice: RdsNotice) -> Result:
        """Log, notify and resolve an `unconfirmed` lock; never starts anything on RDS."""
        logger.info("RDS event", extra={"notice": asdict(notice)})
        lock_note = clear_lock = None
        if notice.event_id in RDS_COMPLETION_EVENTS | RDS_FAILURE_EVENTS and self._concerns_us(
            notice
        ):
            succeeded = notice.event_id in RDS_COMPLETION_EVENTS
            lock = self._lock(self._region_of(notice))
            try:
                resolved = lock.resolve_unconfirmed(
                    succeeded=succeeded, detail=f"{notice.event_id}: {notice.message}"
                )
            except (ClientError, BotoCoreError) as exc:
                lock_note = f"lock not updated: {exc}"
            else:
                if resolved:
                    lock_note = "completed" if succeeded else "failed"
                    clear_lock = None if succeeded else lock.clear_instructions()
        label = notice.meaning or ", ".join(notice.categories) or notice.detail_type
        result = Result(
            status="recorded",
            detail=f"{notice.event_id or 'RDS event'} ({label}) on "
            f"{notice.source_identifier or notice.source_arn}: {notice.message}",
            lock=lock_note,
            page=notice.event_id in RDS_FAILURE_EVENTS,
            event_id=notice.event_id,
            clear_lock=clear_lock,
        )
        self._notify(result)
        return result

    def _region_of(self, notice: RdsNotice) -> str:
        """The region of the cluster an RDS event is about, where the lock of a role change
        towards it lives (an event from another region's cluster: the local table)."""
        try:
            region = topology.parse_arn(notice.source_arn or "").region
        except topology.TopologyError:
            return self.settings.local.region
        return region if region in self.settings.regions else self.settings.local.region

    def _concerns_us(self, notice: RdsNotice) -> bool:
        try:
            snapshot = self.observer.global_cluster()
        except (ClientError, BotoCoreError, topology.TopologyError):
            return False
        ids = {m.cluster_id for m in snapshot.members} | {m.arn for m in snapshot.members}
        return bool({notice.source_identifier, notice.source_arn} & ids)

    # -- helpers -----------------------------------------------------------------------------

    def _failed(
        self,
        request: Request,
        detail: str,
        *,
        decision: Decision | None = None,
        held: FailoverLock | None = None,
        unconfirmed: bool = False,
        notify: bool = True,
    ) -> Result:
        """An outcome a human must look at: paged, notified (unless told not to) and, when the
        lock is `held`, recorded on it as `failed` (or `unconfirmed`) so nobody repeats blindly."""
        status = "unconfirmed" if unconfirmed else "failed"
        if held is not None:
            self._record(held.unconfirmed if unconfirmed else held.fail, detail)
        result = Result(
            status=status,
            detail=detail,
            request=request,
            decision=decision,
            lock=status if held is not None else None,
            page=True,
            clear_lock=held.clear_instructions() if held is not None else None,
        )
        return self._report(result, notify=notify)

    def _report(self, result: Result, *, notify: bool = True) -> Result:
        """`result`, published to SNS first when `notify`."""
        result.lock_override = result.lock_override or self.override
        if notify:
            self._notify(result)
        return result

    def _mark(self, name: str) -> None:
        self.durations[name] = (self.clock.monotonic() - self.started) * 1000

    def _finish(self, result: Result) -> Result:
        result.lock_override = result.lock_override or self.override
        self._mark("total_ms")
        result.durations_ms = {**self.durations, **result.durations_ms}
        log = logger.info if result.ok else logger.error
        log("result", extra={"result": result.to_dict()})
        return result

    def _lock(self, region: str) -> FailoverLock:
        """The lock of a role change towards `region`: in that region's table."""
        return FailoverLock(
            dynamodb=self.deps.factory("dynamodb", region),
            table_name=self.settings.for_region(region).lock_table_name,
            region=region,
            lock_id=self.settings.global_cluster_id,
            clock=self.clock,
            lease_seconds=self.settings.lock_lease_seconds,
            failed_block_seconds=self.settings.failed_lock_block_seconds,
        )

    def _record(self, update: Callable[[str, str], bool], detail: str) -> None:
        """Write the outcome onto the lock item; a failure to do so is logged, not raised.

        The outcome is still returned and notified; an item left `in_progress` frees itself when
        its lease expires, and the gates then see the global cluster's real state.
        """
        try:
            if not update(self.owner, detail):
                logger.warning("lock no longer ours, outcome not recorded on it")
        except (ClientError, BotoCoreError) as exc:
            logger.error("could not record the outcome on the lock", extra={"error": str(exc)})

    def _describe_lock(self, region: str) -> str:
        try:
            record = self._lock(region).read()
        except (ClientError, BotoCoreError) as exc:
            return f"unreadable: {exc}"
        if record is None:
            return "free"
        if record.is_stale(self.clock.time()):
            return f"stale lease (free): {record.describe()}"
        return record.describe()

    def _notify(self, result: Result) -> None:
        self._mark("total_ms")
        result.durations_ms = {**self.durations, **result.durations_ms}
        prefix = "ACTION REQUIRED " if result.page else ""
        what = (
            f"{result.request.operation.value} to {result.request.target_region}"
            if result.request
            else (result.event_id or "event")
        )
        subject = f"{prefix}[aurora-dr {self.settings.environment}] {result.status}: {what}"
        summary = {
            "environment": self.settings.environment,
            "globalClusterId": self.settings.global_cluster_id,
            "coordinatorRegion": self.settings.local.region,
            **result.to_dict(),
        }
        sns = self.deps.factory("sns", self.settings.local.region)
        result.notified = actions.notify(
            sns, self.settings.sns_topic_arn, subject=subject, summary=summary
        )


def _override_note(replaced: LockRecord | None, request: Request) -> str | None:
    """What taking the lock overrode, when it replaced a failed attempt's item."""
    if replaced is None or not replaced.blocking:
        return None
    how = "forced over the" if request.force else "overrode an expired"
    return f"{how} {replaced.state.value} lock: {replaced.describe()}"


def _planned(decision: Decision) -> tuple[Operation, str, str]:
    """(operation, source ARN, target ARN) of a `PROCEED` decision."""
    if decision.operation is None or decision.target_arn is None or not decision.source_arn:
        raise RuntimeError("a PROCEED decision must name the operation, source and target")
    return decision.operation, decision.source_arn, decision.target_arn


def run(event: Any, deps: Dependencies) -> Result:
    """Handle one event with `deps` (see `Coordinator`)."""
    return Coordinator(deps).run(event)
