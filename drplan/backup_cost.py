"""Monthly cost of what the stack keeps outside RDS, from what the program registers.

* the backup buckets: storage and requests (usage assumptions), the snapshot exports the backup
  verifier is configured to start (per GB of snapshot) into its region's bucket, the Parquet
  files they leave for as long as the bucket's lifecycle keeps them, and their replication
  where a replication rule's filter covers the exports;
* the backup verifier: its own cross-region snapshot copy when it makes one (inter-region
  transfer per run, one copy stored), and the restore test's throw-away cluster (instance-hours
  and the restored volume's storage while it exists);
* AWS Backup: per plan rule, the recovery points kept longer than the selected cluster keeps
  its own backups (within that window Aurora charges nothing for a snapshot), the copies in the
  other region's vault, and the transfer of each copy.

A schedule or registration this module cannot read is reported unpriced, never guessed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drplan.harness import PlanRun, Registration
from drplan.inventory import region_label
from drplan.ticker import schedules
from lambdas.drcommon.contract import BACKUP_BUCKET, VerifierEnv

# (region, item, quantity, unit, price key, what, variant): adds the priced line, or lists `what`
# unpriced when the price file has no such price.
AddLine = Callable[..., None]
BUCKET = "aws:s3/bucket:Bucket"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
VAULT = "aws:backup/vault:Vault"
CLUSTER = "aws:rds/cluster:Cluster"
FUNCTION = "aws:lambda/function:Function"
# AWS Backup cron: minutes hours day-of-month month day-of-week year.
_CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
_ANY = {"*", "?"}
_WEEKDAYS = {"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}


def runs_per_day(schedule: str, days_per_month: float = 365.25 / 12) -> float | None:
    """Runs per day of a cron with one fixed minute and hour that runs daily
    (`cron(m h ? * * *)`), weekly (`cron(m h ? * SAT *)`) or on listed days of the month
    (`cron(m h 1,15 * ? *)`, averaged over a month of `days_per_month`); None for anything else."""
    match = _CRON.match(schedule.strip())
    if match is None:
        return None
    minute, hour, day, month, weekday, _year = match.groups()
    if not (minute.isdigit() and hour.isdigit() and month == "*"):
        return None
    if day in _ANY and weekday in _ANY:
        return 1.0
    if day in _ANY:
        return 1 / 7 if weekday.upper() in _WEEKDAYS else None
    days = day.split(",")
    if weekday in _ANY and all(d.isdigit() and 1 <= int(d) <= 28 for d in days):
        return len(set(days)) / days_per_month
    return None


def _replicates_exports(replication: Registration) -> bool:
    """True when a rule of the replication configuration covers the exports prefix."""
    for rule in replication.inputs.get("rules") or []:
        prefix = (rule.get("filter") or {}).get("prefix", "")
        if rule.get("status") == "Enabled" and BACKUP_BUCKET.snapshot_exports.startswith(prefix):
            return True
    return False


@dataclass(frozen=True)
class Verifier:
    """The backup verifier as registered: its function, environment and runs a month."""

    function: Registration
    env: Mapping[str, str]
    runs_per_month: float


@dataclass
class BackupPricer:
    """Adds the backup lines of one run, through the cost report's `add`."""

    run: PlanRun
    usage: Mapping[str, Any]
    add: AddLine
    unpriced: list[str]
    """Where what cannot be priced is listed (the cost report's)."""
    days_per_month: float

    def price(self) -> None:
        """Every backup line of the run."""
        self.buckets()
        verifier = self._verifier()
        if verifier is not None:
            self.exports(verifier)
            self.verifier_copy(verifier)
            self.restore_test(verifier)
        for plan in self.run.of_type(PLAN):
            self.plan(plan)

    # -- buckets and exports ---------------------------------------------------------------------
    def buckets(self) -> None:
        for bucket in self.run.of_type(BUCKET):
            region, name = region_label(bucket), bucket.inputs.get("bucket", bucket.name)
            self.add(
                region,
                "S3 backup buckets",
                self.usage["backup_bucket_report_gb"],
                "GB-month (assumed: reports)",
                "s3_standard_gb_month",
                f"storage of {name}",
            )
            self.add(
                region,
                "S3 backup buckets",
                self.usage["backup_bucket_puts_per_month"] / 1000,
                "thousand PUTs (assumed)",
                "s3_put_request_thousand",
                f"requests to {name}",
            )

    def _verifier(self) -> Verifier | None:
        """The backup verifier function, its environment and its runs a month (None: none)."""
        intervals = schedules(self.run)
        for function in self.run.of_type(FUNCTION):
            if not str(function.inputs.get("handler", "")).startswith("backup_verifier."):
                continue
            variables = (function.inputs.get("environment") or {}).get("variables") or {}
            interval = intervals.get(function.outputs.get("arn", ""))
            runs = self.days_per_month * 86_400 / interval if interval else 0.0
            return Verifier(function, {str(k): str(v) for k, v in variables.items()}, runs)
        return None

    def exports(self, verifier: Verifier) -> None:
        """The configured exports, written in the verifier's region's bucket (the snapshot it
        verified there), and replicated only where a replication rule's filter covers them."""
        every_text = verifier.env.get(str(VerifierEnv.SNAPSHOT_EXPORT_EVERY_DAYS))
        if not every_text:
            return
        every, region = float(every_text), region_label(verifier.function)
        buckets = json.loads(verifier.env[str(VerifierEnv.SNAPSHOT_EXPORT_BUCKETS)])
        target = self._bucket_named(buckets[region])
        name, snapshot_gb = target.inputs["bucket"], self.usage["snapshot_size_gb"]
        per_month = self.days_per_month / every
        what = f"snapshot exports into {name}"
        self.add(
            region,
            "Snapshot export",
            per_month * snapshot_gb,
            "GB of snapshot exported",
            "aurora_snapshot_export_gb",
            what,
        )
        kept = math.ceil(self._export_retention_days(target) / every)
        stored_gb = kept * snapshot_gb * self.usage["export_gb_per_snapshot_gb"]
        stored = [target]
        for replication in self.run.of_type(REPLICATION):
            if replication.inputs["bucket"] != name or not _replicates_exports(replication):
                continue
            destination = self._destination(replication)
            stored.append(destination)
            self.add(
                region_label(target),
                "S3 replication transfer",
                per_month * snapshot_gb * self.usage["export_gb_per_snapshot_gb"],
                "GB (exports)",
                "s3_replication_transfer_gb",
                f"replication of {what}",
                region_label(destination),
            )
        for bucket in stored:
            self.add(
                region_label(bucket),
                "S3 backup buckets",
                stored_gb,
                "GB-month (exports kept)",
                "s3_standard_gb_month",
                f"exports kept in {bucket.inputs['bucket']}",
            )

    def verifier_copy(self, verifier: Verifier) -> None:
        """The verifier's own copy of the writer's snapshot into its region, when it makes one:
        one full snapshot per run out of the writer's (configured) region, and about one copy
        kept (each is swept by the next run)."""
        if verifier.env.get(str(VerifierEnv.COPY_SNAPSHOT_ENABLED), "true") != "true":
            return
        here, writer = region_label(verifier.function), verifier.env[str(VerifierEnv.PEER_REGION)]
        snapshot_gb, what = self.usage["snapshot_size_gb"], "the backup verifier's snapshot copy"
        self.add(
            writer,
            "Snapshot copy transfer (backup verifier)",
            verifier.runs_per_month * snapshot_gb,
            "GB copied",
            "inter_region_transfer_gb",
            what,
            here,
        )
        self.add(
            here,
            "Snapshot copies (backup verifier)",
            snapshot_gb,
            "GB-month (one copy kept)",
            "aurora_backup_storage_gb_month",
            what,
        )

    def restore_test(self, verifier: Verifier) -> None:
        """The restore test's throw-away cluster and instance, for as long as they exist."""
        if verifier.env.get(str(VerifierEnv.RESTORE_TEST_ENABLED)) != "true":
            return
        region, what = region_label(verifier.function), "the backup verifier's restore test"
        instance_class = verifier.env[str(VerifierEnv.RESTORE_INSTANCE_CLASS)]
        hours = verifier.runs_per_month * self.usage["restore_test_hours_per_run"]
        self.add(
            region,
            "Restore test (backup verifier)",
            hours,
            "instance-hours",
            "aurora_instance_hour",
            what,
            instance_class,
        )
        self.add(
            region,
            "Restore test (backup verifier)",
            self.usage["snapshot_size_gb"] * hours / (self.days_per_month * 24),
            "GB-month (restored volume)",
            "aurora_storage_gb_month",
            what,
        )

    def _bucket_named(self, name: str) -> Registration:
        return next(b for b in self.run.of_type(BUCKET) if b.inputs.get("bucket") == name)

    def _destination(self, replication: Registration) -> Registration:
        arn = replication.inputs["rules"][0]["destination"]["bucket"]
        return next(b for b in self.run.of_type(BUCKET) if b.outputs.get("arn") == arn)

    def _export_retention_days(self, bucket: Registration) -> float:
        """Days the bucket's lifecycle keeps an export (its rule on the exports prefix)."""
        for lifecycle in self.run.of_type(LIFECYCLE):
            if lifecycle.inputs.get("bucket") != bucket.inputs.get("bucket"):
                continue
            for rule in lifecycle.inputs.get("rules") or []:
                if (rule.get("filter") or {}).get("prefix") == BACKUP_BUCKET.snapshot_exports:
                    return float(rule["expiration"]["days"])
        raise KeyError(f"no lifecycle rule expires the exports of {bucket.inputs.get('bucket')}")

    # -- AWS Backup ------------------------------------------------------------------------------
    def plan(self, plan: Registration) -> None:
        region, name = region_label(plan), plan.inputs.get("name", plan.name)
        clusters = self._selected_clusters(plan)
        snapshot_gb = self.usage["snapshot_size_gb"] * len(clusters)
        own_retention = min((c.inputs.get("backupRetentionPeriod", 0) for c in clusters), default=0)
        for rule in plan.inputs.get("rules") or []:
            what = f"{name} rule {rule.get('ruleName')}"
            daily = runs_per_day(str(rule.get("schedule", "")), self.days_per_month)
            if daily is None:
                self.unpriced.append(f"{what} ({region}: schedule {rule.get('schedule')!r})")
                continue
            beyond = max(0.0, rule["lifecycle"]["deleteAfter"] - own_retention)
            self.add(
                region,
                "AWS Backup (Aurora backup storage)",
                daily * beyond * snapshot_gb,
                "GB-month (beyond the cluster's retention)",
                "aurora_backup_storage_gb_month",
                what,
            )
            for copy_action in rule.get("copyActions") or []:
                self._copy(region, copy_action, daily * snapshot_gb, what)

    def _copy(self, region: str, action: Mapping[str, Any], gb_per_day: float, what: str) -> None:
        vaults = {v.outputs.get("arn"): v for v in self.run.of_type(VAULT)}
        destination = region_label(vaults[action["destinationVaultArn"]])
        kept_days = action["lifecycle"]["deleteAfter"]
        self.add(
            destination,
            "AWS Backup (Aurora backup storage)",
            gb_per_day * kept_days,
            "GB-month (copies from the other region)",
            "aurora_backup_storage_gb_month",
            f"copies of {what}",
        )
        self.add(
            region,
            "AWS Backup cross-region copy",
            gb_per_day * self.days_per_month,
            "GB copied",
            "backup_cross_region_copy_gb",
            f"copies of {what}",
            destination,
        )

    def _selected_clusters(self, plan: Registration) -> list[Registration]:
        selected = {
            arn
            for selection in self.run.of_type(SELECTION)
            if selection.inputs.get("planId") == plan.id
            for arn in selection.inputs.get("resources") or []
        }
        return [c for c in self.run.of_type(CLUSTER) if c.outputs.get("arn") in selected]
