"""Monthly cost of what the stack keeps outside RDS, from what the program registers.

* the backup buckets: storage and requests (usage assumptions), the snapshot exports the backup
  verifier is configured to start (per GB of snapshot), the Parquet files they leave for as
  long as the bucket's lifecycle keeps them, and their replication into the DR bucket;
* AWS Backup: per plan rule, the recovery points kept longer than the selected cluster keeps
  its own backups (within that window Aurora charges nothing for a snapshot), the copies in the
  other region's vault, and the transfer of each copy.

A schedule or registration this module cannot read is reported unpriced, never guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drplan.harness import PlanRun, Registration
from drplan.inventory import region_label
from lambdas.drcommon.contract import BACKUP_BUCKET, VerifierEnv

# (region, item, quantity, unit, price key, what, variant) -> priced?
AddLine = Callable[..., bool]
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


def runs_per_day(schedule: str) -> float | None:
    """Runs per day of a daily (`cron(m h ? * * *)`) or weekly (`cron(m h ? * SAT *)`) cron
    with one fixed minute and hour; None for anything else."""
    match = _CRON.match(schedule.strip())
    if match is None:
        return None
    minute, hour, day, month, weekday, _year = match.groups()
    if not (minute.isdigit() and hour.isdigit() and day in _ANY and month == "*"):
        return None
    if weekday in _ANY:
        return 1.0
    return 1 / 7 if weekday.upper() in _WEEKDAYS else None


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
        self.exports()
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

    def _export_every_days(self) -> float | None:
        for function in self.run.of_type(FUNCTION):
            variables = (function.inputs.get("environment") or {}).get("variables") or {}
            every = variables.get(str(VerifierEnv.SNAPSHOT_EXPORT_EVERY_DAYS))
            if every:
                return float(every)
        return None

    def exports(self) -> None:
        """The configured exports, written in the primary bucket and replicated into the DR one
        (the writer's region as configured; after a switchover the DR bucket takes them)."""
        every = self._export_every_days()
        replication = next(iter(self.run.of_type(REPLICATION)), None)
        if every is None or replication is None:
            return
        source = self._bucket_named(replication.inputs["bucket"])
        region = region_label(source)
        snapshot_gb = self.usage["snapshot_size_gb"]
        per_month = self.days_per_month / every
        what = f"snapshot exports into {replication.inputs['bucket']}"
        self.add(
            region,
            "Snapshot export",
            per_month * snapshot_gb,
            "GB of snapshot exported",
            "aurora_snapshot_export_gb",
            what,
        )
        kept = math.ceil(self._export_retention_days(source) / every)
        stored_gb = kept * snapshot_gb * self.usage["export_gb_per_snapshot_gb"]
        for bucket in (source, self._destination(replication)):
            self.add(
                region_label(bucket),
                "S3 backup buckets",
                stored_gb,
                "GB-month (exports kept)",
                "s3_standard_gb_month",
                f"exports kept in {bucket.inputs['bucket']}",
            )
        destination_region = region_label(self._destination(replication))
        self.add(
            region,
            "S3 replication transfer",
            per_month * snapshot_gb * self.usage["export_gb_per_snapshot_gb"],
            "GB (exports)",
            "s3_replication_transfer_gb",
            f"replication of {what}",
            destination_region,
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
            daily = runs_per_day(str(rule.get("schedule", "")))
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
