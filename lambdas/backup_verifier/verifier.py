"""One verification run: sweep, find the writer's newest snapshot, copy, restore, report.

1. sweep leftovers of earlier runs (before creating anything, so nothing of ours is touched);
2. find the *current* writer from the global cluster topology (roles move after a switchover);
3. its newest available automated snapshot must be younger than `MAX_SNAPSHOT_AGE_HOURS`;
4. the snapshot in this region: with AWS Backup (prod), the newest recovery point of the writer
   in this region's vault, which must be younger than the copy cadence allows (the writer's
   plan copies it there: the one cross-region copy); without it, a copy the run makes with this
   region's KMS key (skipped when the writer is local, or when the sizing turns the copy off),
   kept until a later run's sweep removes it;
5. when enabled, restore that snapshot into a throw-away cluster + instance, probe, delete both;
6. when the stack exports snapshots and one is due, export that snapshot to this region's
   bucket (the region that survives the primary's loss);
7. report: returned, logged, stored in the region's bucket and as metrics (the stack alarms on
   `VerificationSucceeded`); a failed run also publishes its report to this region's alert
   topic, so it pages at once rather than when the alarm next evaluates. Every step is bounded
   by the remaining time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backup_verifier import SERVICE, export, resources, vault
from backup_verifier.probe import ProbeResult, RestoreProbe, availability_probe
from backup_verifier.resources import Step
from backup_verifier.settings import Settings
from backup_verifier.snapshots import Freshness, Snapshot, assess, newest_available, run_identifier
from drcommon import alerts, topology
from drcommon.aws import ClientFactory, Clock, Deadline, LambdaContext
from drcommon.contract import (
    COPY_SUCCEEDED,
    EXPORT_STARTED,
    RESTORE_SUCCEEDED,
    SNAPSHOT_AGE_SECONDS,
    SNAPSHOT_FRESH,
    VERIFICATION_SUCCEEDED,
)
from drcommon.observability import MetricPoint, get_logger

logger = get_logger(SERVICE)

# Kept back from the Lambda's remaining time for teardown and the report.
RESERVE_SECONDS = 60.0
# Below this much time left, a restore test is not started: it could not finish, and a
# half-created cluster only waits for the next sweep.
MIN_RESTORE_SECONDS = 300.0


@dataclass
class Report:
    """The outcome of one run."""

    writer_arn: str | None = None
    snapshot: str | None = None
    freshness: Freshness | None = None
    copy: Step = field(default_factory=lambda: Step("skipped", "not reached"))
    restore: Step = field(default_factory=lambda: Step("skipped", "not reached"))
    probe: ProbeResult | None = None
    teardown: Step = field(default_factory=lambda: Step("skipped", "nothing created"))
    export: Step = field(default_factory=lambda: Step("skipped", "not reached"))
    swept: list[str] = field(default_factory=list)
    sweep_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duration_seconds: float = 0.0
    notified: bool | None = None
    """A failed run's report reached the alert topic (None: nothing to report)."""

    @property
    def ok(self) -> bool:
        """True when nothing went wrong."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "writerArn": self.writer_arn,
            "snapshot": self.snapshot,
            "freshness": asdict(self.freshness) if self.freshness else None,
            "copy": asdict(self.copy),
            "restore": asdict(self.restore),
            "probe": asdict(self.probe) if self.probe else None,
            "teardown": asdict(self.teardown),
            "export": asdict(self.export),
            "swept": self.swept,
            "sweepErrors": self.sweep_errors,
            "problems": self.problems,
            "durationSeconds": round(self.duration_seconds, 1),
            "notified": self.notified,
        }

    def metrics(self) -> list[MetricPoint]:
        """SnapshotAgeSeconds, SnapshotFresh, CopySucceeded, RestoreSucceeded, ... of this run.

        Copy and restore metrics are emitted only when the step was attempted, so an alarm on
        them (missing data: not breaching) fires on failures, not on skipped steps.
        """
        points = [
            MetricPoint(VERIFICATION_SUCCEEDED, "Count", 1.0 if self.ok else 0.0),
            MetricPoint("VerificationDuration", "Seconds", self.duration_seconds),
            MetricPoint("SweptResources", "Count", float(len(self.swept))),
            MetricPoint("SweepErrors", "Count", float(len(self.sweep_errors))),
        ]
        if self.freshness is not None:
            points.append(
                MetricPoint(SNAPSHOT_FRESH, "Count", 1.0 if self.freshness.fresh else 0.0)
            )
            if self.freshness.age_seconds is not None:
                points.append(
                    MetricPoint(SNAPSHOT_AGE_SECONDS, "Seconds", self.freshness.age_seconds)
                )
        if self.copy.status != "skipped":
            points.append(MetricPoint(COPY_SUCCEEDED, "Count", 1.0 if self.copy.ok else 0.0))
        if self.restore.status != "skipped":
            restored = self.restore.ok and self.probe is not None and self.probe.ok
            points.append(MetricPoint(RESTORE_SUCCEEDED, "Count", 1.0 if restored else 0.0))
        if self.export.status != "skipped":
            points.append(MetricPoint(EXPORT_STARTED, "Count", 1.0 if self.export.ok else 0.0))
        return points


@dataclass
class Dependencies:
    """Everything a run needs from the outside world."""

    settings: Settings
    factory: ClientFactory
    clock: Clock
    context: LambdaContext | None = None
    probe: RestoreProbe = availability_probe


def run(deps: Dependencies) -> Report:
    """One verification run (module docstring)."""
    settings, clock = deps.settings, deps.clock
    started = clock.monotonic()
    deadline = Deadline.from_context(
        deps.context, clock, reserve_seconds=RESERVE_SECONDS, fallback_seconds=840.0
    )
    now = datetime.fromtimestamp(clock.time(), tz=UTC)
    report = Report()
    local_rds = deps.factory("rds", settings.region)

    swept = resources.sweep(local_rds, settings, now)
    report.swept, report.sweep_errors = swept.deleted, swept.errors
    try:
        _Verification(deps, report, local_rds, now, deadline).run()
    except (ClientError, BotoCoreError, topology.TopologyError) as exc:
        report.problems.append(f"verification aborted: {exc}")
    if report.teardown.status == "failed":
        report.problems.append(
            f"teardown incomplete (next sweep retries): {report.teardown.detail}"
        )
    report.duration_seconds = clock.monotonic() - started
    if not report.ok:
        report.notified = publish_failure(deps.factory("sns", settings.region), settings, report)
    return report


def publish_failure(sns: Any, settings: Settings, report: Report) -> bool:
    """Page this region's alert topic with a failed run's report; False when it could not."""
    subject = (
        f"ACTION REQUIRED [aurora-dr {settings.environment}] backup verification failed: "
        f"{report.problems[0] if report.problems else 'see the report'}"
    )
    summary = {
        "environment": settings.environment,
        "globalClusterId": settings.global_cluster_id,
        "verifierRegion": settings.region,
        **report.to_dict(),
    }
    problem = alerts.publish_summary(sns, settings.sns_topic_arn, subject=subject, summary=summary)
    if problem is not None:
        logger.error("failed verification not published", extra={"error": problem})
        return False
    return True


@dataclass
class _Verification:
    """The steps of one run after the sweep, each recording its outcome on `report`."""

    deps: Dependencies
    report: Report
    local_rds: Any
    now: datetime
    deadline: Deadline

    def run(self) -> None:
        """Writer -> its fresh snapshot -> a copy here (unless local) -> the restore test."""
        writer = self.writer()
        if writer is None:
            return
        newest = self.fresh_snapshot(writer)
        if newest is None:
            return
        run_id = run_identifier(self.deps.settings.name_stem, self.now)
        if self.deps.settings.backup_vault is not None:
            here = self.vault_copy(writer, newest)
        else:
            here = self.copy_here(writer, newest, run_id)
        if here is None:
            self.report.export = Step("skipped", "not exported: no verified snapshot here")
            return
        self.restore_test(here, run_id)
        self.export_verified(here, run_id)

    def writer(self) -> topology.GlobalMember | None:
        """The current writer member, from the topology (roles move after a switchover)."""
        snapshot_view = topology.describe_global_cluster(
            self.local_rds, self.deps.settings.global_cluster_id
        )
        writer = snapshot_view.writer
        if writer is None:
            self.report.problems.append(
                "the global cluster reports no writer (failover in progress?)"
            )
            return None
        self.report.writer_arn = writer.arn
        return writer

    def fresh_snapshot(self, writer: topology.GlobalMember) -> Snapshot | None:
        """The writer's newest available automated snapshot, if it is recent enough."""
        source_rds = self.deps.factory("rds", writer.region)
        snapshots = [
            Snapshot.from_api(item)
            for page in source_rds.get_paginator("describe_db_cluster_snapshots").paginate(
                DBClusterIdentifier=writer.cluster_id, SnapshotType="automated"
            )
            for item in page.get("DBClusterSnapshots", [])
        ]
        newest = newest_available(snapshots)
        self.report.snapshot = newest.arn if newest else None
        self.report.freshness = assess(newest, self.now, self.deps.settings.max_snapshot_age_hours)
        if newest is None or not self.report.freshness.fresh:
            self.report.problems.append(self.report.freshness.detail)
            return None
        return newest

    def copy_here(
        self, writer: topology.GlobalMember, newest: Snapshot, run_id: str
    ) -> LocalSnapshot | None:
        """The snapshot to restore from in this region: the writer's own when it is local,
        else this run's copy (None when the copy failed or is turned off)."""
        if writer.region == self.deps.settings.region:
            self.report.copy = Step("skipped", "the writer is in this region: nothing to copy")
            return LocalSnapshot(newest.identifier, newest)
        if not self.deps.settings.copy_enabled:
            self.report.copy = Step("skipped", "copy to this region disabled for this sizing")
            return None
        self.report.copy = resources.copy_to_region(
            self.local_rds,
            newest,
            source_region=writer.region,
            target_id=run_id,
            settings=self.deps.settings,
            clock=self.deps.clock,
            deadline=self.deadline,
        )
        if not self.report.copy.ok:
            self.report.problems.append(self.report.copy.detail)
            return None
        return LocalSnapshot(run_id, copied_here(newest, self.deps.settings.region, run_id))

    def vault_copy(self, writer: topology.GlobalMember, newest: Snapshot) -> LocalSnapshot | None:
        """The newest recovery point of the writer's cluster in this region's AWS Backup vault
        (copied there by the writer's plan, or the local plan's own when the writer is here),
        when it is recent enough for the copy cadence; the run makes no copy of its own."""
        settings, report = self.deps.settings, self.report
        vault_name = settings.backup_vault or ""
        backup = self.deps.factory("backup", settings.region)
        found = vault.newest_copy(backup, vault_name, writer.arn, newest)
        age = assess(found, self.now, settings.backup_copy_max_age_hours)
        if found is None:
            report.copy = Step(
                "failed", f"no completed recovery point of the writer in {vault_name}"
            )
        elif not age.fresh:
            report.copy = Step(
                "failed", f"AWS Backup copy in {vault_name}: {age.detail}", found.arn
            )
        else:
            report.copy = Step("ok", f"AWS Backup copy in {vault_name}: {age.detail}", found.arn)
        if found is None or not report.copy.ok:
            report.problems.append(report.copy.detail)
            return None
        return LocalSnapshot(found.arn, found)

    def restore_test(self, here: LocalSnapshot, run_id: str) -> None:
        """Restore, probe and tear down, when enabled and there is time for it."""
        report, deadline = self.report, self.deadline
        if not self.deps.settings.restore_enabled:
            report.restore = Step("skipped", "restore test disabled for this sizing")
            return
        if deadline.remaining() < MIN_RESTORE_SECONDS:
            report.restore = Step(
                "timed_out",
                f"only {deadline.remaining():.0f} s left, a restore test needs "
                f"{MIN_RESTORE_SECONDS:.0f} s",
            )
            report.problems.append(report.restore.detail)
            return
        outcome = resources.restore_and_probe(
            self.local_rds,
            snapshot_ref=here.reference,
            snapshot=here.snapshot,
            cluster_id=run_id,
            settings=self.deps.settings,
            clock=self.deps.clock,
            deadline=deadline,
            probe=self.deps.probe,
        )
        report.restore, report.probe, report.teardown = (
            outcome.restore,
            outcome.probe,
            outcome.teardown,
        )
        if not outcome.restore.ok:
            report.problems.append(outcome.restore.detail)
        elif outcome.probe is not None and not outcome.probe.ok:
            report.problems.append(f"probe failed: {outcome.probe.detail}")

    def export_verified(self, here: LocalSnapshot, run_id: str) -> None:
        """Export the verified snapshot in this region to this region's bucket, when the stack
        exports and this run found nothing wrong with it (only a verified snapshot is exported).
        This region is the one that outlives the primary's loss: one copy of the data outside
        RDS, where it survives, and nothing to replicate."""
        settings, report = self.deps.settings, self.report
        if settings.export is None:
            report.export = Step("skipped", "snapshot export disabled for this sizing")
            return
        if report.problems:
            report.export = Step("skipped", "not exported: the snapshot did not pass")
            return
        report.export = export.export_snapshot(
            self.local_rds,
            here.snapshot,
            region=settings.region,
            export=settings.export,
            stem=settings.name_stem,
            task_id=run_id,
            now=self.now,
        )
        if report.export.status == "failed":
            report.problems.append(report.export.detail)


@dataclass(frozen=True)
class LocalSnapshot:
    """The verified snapshot in the verifier's region: what RDS restores it by, and itself
    (its ARN is what an export names)."""

    reference: str
    snapshot: Snapshot


def copied_here(source: Snapshot, region: str, identifier: str) -> Snapshot:
    """This run's copy of `source` in `region`, as a snapshot of its own."""
    partition, account = source.arn.split(":")[1], source.arn.split(":")[4]
    arn = f"arn:{partition}:rds:{region}:{account}:cluster-snapshot:{identifier}"
    return replace(source, identifier=identifier, arn=arn, snapshot_type="manual")
