"""The plan prices what the stack keeps outside RDS from what the program registers: the backup
buckets, the snapshot exports, their replication, AWS Backup's recovery points and copies."""

from __future__ import annotations

import copy

import pytest

from drplan.backup_cost import runs_per_day
from drplan.cost import estimate_cost, load_prices
from drplan.harness import PlanRun
from stack.sizing import SIZING

PRIMARY, DR = "us-east-1", "us-west-2"
DAYS_PER_MONTH = 730 / 24


@pytest.mark.parametrize(
    ("schedule", "per_day"),
    [
        ("cron(0 7 ? * * *)", 1.0),
        ("cron(30 9 ? * SAT *)", 1 / 7),
        ("cron(0 7 1 * ? *)", None),  # monthly: not read
        ("cron(0 */6 ? * * *)", None),  # several a day: not read
        ("rate(1 day)", None),
    ],
)
def test_backup_schedules_are_read_or_refused(schedule: str, per_day: float | None):
    assert runs_per_day(schedule) == per_day


def test_dev_pays_nothing_fixed_for_its_buckets(plans: dict[str, PlanRun]):
    report = estimate_cost(plans["dev"], "test")
    for region in (PRIMARY, DR):
        items = report.by_item(region)
        # no gateway endpoint either: nothing in the VPC writes S3 (a line would be $0.00)
        assert "Gateway VPC endpoints" not in items
        assert 0 < items["S3 backup buckets"] < 0.01
        assert "AWS Backup (Aurora backup storage)" not in items
        assert "Snapshot export" not in items
    assert report.unpriced == []


def test_prod_exports_are_priced_per_gb_of_snapshot_kept_and_replicated(plans: dict[str, PlanRun]):
    prices, sizing = load_prices(), SIZING["prod"]
    usage = prices["usage_assumptions"]["prod"]
    every = sizing.snapshot_export_every_days
    assert every is not None
    report = estimate_cost(plans["prod"], "prod")
    exported_gb = DAYS_PER_MONTH / every * usage["snapshot_size_gb"]
    primary = prices["regions"][PRIMARY]
    # THEN each export is charged per GB of snapshot in the writer's (primary) region
    assert report.by_item(PRIMARY)["Snapshot export"] == pytest.approx(
        exported_gb * primary["aurora_snapshot_export_gb"]
    )
    # AND its files are replicated into the DR bucket
    assert report.by_item(PRIMARY)["S3 replication transfer"] == pytest.approx(
        exported_gb * primary["s3_replication_transfer_gb"][DR]
    )
    # AND both buckets keep as many exports as the lifecycle lets live
    kept = -(-sizing.snapshot_export_retention_days // every)
    for region in (PRIMARY, DR):
        line = next(
            line
            for line in report.lines
            if line.region == region and line.unit == "GB-month (exports kept)"
        )
        assert line.quantity == pytest.approx(kept * usage["snapshot_size_gb"])


def test_prod_aws_backup_is_priced_as_copies_kept_and_copied_across(plans: dict[str, PlanRun]):
    prices, plan = load_prices(), SIZING["prod"].aws_backup
    assert plan is not None
    snapshot_gb = prices["usage_assumptions"]["prod"]["snapshot_size_gb"]
    report = estimate_cost(plans["prod"], "prod")
    for region, peer in ((PRIMARY, DR), (DR, PRIMARY)):
        table = prices["regions"][region]
        # local recovery points within the clusters' own retention are free; copies are not
        copies_in = sum(
            per * r.copy_retention_days * snapshot_gb
            for r in plan.rules
            if r.copy_retention_days is not None
            for per in [runs_per_day(r.schedule) or 0]
        )
        beyond = sum(
            (runs_per_day(r.schedule) or 0)
            * max(0, r.retention_days - SIZING["prod"].backup_retention_days)
            * snapshot_gb
            for r in plan.rules
        )
        assert report.by_item(region)["AWS Backup (Aurora backup storage)"] == pytest.approx(
            (copies_in + beyond) * table["aurora_backup_storage_gb_month"]
        )
        copied_gb = sum(
            (runs_per_day(r.schedule) or 0) * DAYS_PER_MONTH * snapshot_gb
            for r in plan.rules
            if r.copy_retention_days is not None
        )
        assert report.by_item(region)["AWS Backup cross-region copy"] == pytest.approx(
            copied_gb * table["backup_cross_region_copy_gb"][peer]
        )


def test_a_backup_schedule_the_plan_cannot_read_is_unpriced_not_guessed(
    plans: dict[str, PlanRun],
):
    # GIVEN prod with one AWS Backup rule on a schedule the plan does not model
    run = copy.deepcopy(plans["prod"])
    backup_plan = run.of_type("aws:backup/plan:Plan")[0]
    backup_plan.inputs["rules"][0]["schedule"] = "cron(0 */6 ? * * *)"
    # WHEN it is priced / THEN the rule is listed unpriced, naming the schedule
    report = estimate_cost(run, "prod")
    assert report.unpriced == [
        f"{backup_plan.inputs['name']} rule daily ({backup_plan.region}: schedule "
        "'cron(0 */6 ? * * *)')"
    ]
