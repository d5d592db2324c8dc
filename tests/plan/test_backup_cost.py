"""The plan prices what the stack keeps outside RDS from what the program registers: the backup
buckets, the snapshot exports, their replication, AWS Backup's recovery points and copies."""

from __future__ import annotations

import copy
import json

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
        ("cron(0 7 1 * ? *)", 12 / 365.25),  # monthly: once in an average month
        ("cron(0 9 1,15 * ? *)", 2 * 12 / 365.25),
        ("cron(0 7 31 * ? *)", None),  # a day not every month has: not read
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


def test_prod_exports_are_priced_in_the_dr_bucket_once_and_not_replicated(
    plans: dict[str, PlanRun],
):
    prices, sizing = load_prices(), SIZING["prod"]
    usage = prices["usage_assumptions"]["prod"]
    every = sizing.snapshot_export_every_days
    assert every is not None
    report = estimate_cost(plans["prod"], "prod")
    exported_gb = DAYS_PER_MONTH / every * usage["snapshot_size_gb"]
    # THEN each export is charged per GB of snapshot in the verifier's (DR) region
    assert report.by_item(DR)["Snapshot export"] == pytest.approx(
        exported_gb * prices["regions"][DR]["aurora_snapshot_export_gb"]
    )
    assert "Snapshot export" not in report.by_item(PRIMARY)
    # AND nothing is replicated (the replication carries the reports only)
    assert "S3 replication transfer" not in report.by_item(PRIMARY)
    # AND only the DR bucket keeps the exports, as many as the lifecycle lets live
    kept = -(-sizing.snapshot_export_retention_days // every)
    (line,) = [line for line in report.lines if line.unit == "GB-month (exports kept)"]
    assert line.region == DR
    assert line.quantity == pytest.approx(kept * usage["snapshot_size_gb"])


def _verifier_env(run: PlanRun) -> dict[str, str]:
    (function,) = [
        f
        for f in run.of_type("aws:lambda/function:Function")
        if f.inputs["handler"].startswith("backup_verifier.")
    ]
    variables: dict[str, str] = function.inputs["environment"]["variables"]
    return variables


def test_a_replication_that_covers_the_exports_is_priced_as_transfer_and_a_second_copy(
    plans: dict[str, PlanRun],
):
    # GIVEN prod with the exports written in the primary bucket and every object replicated
    run = copy.deepcopy(plans["prod"])
    env = _verifier_env(run)
    buckets = json.loads(env["SNAPSHOT_EXPORT_BUCKETS"])
    env["SNAPSHOT_EXPORT_BUCKETS"] = json.dumps({**buckets, DR: buckets[PRIMARY]})
    (replication,) = run.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    replication.inputs["rules"][0]["filter"] = {"prefix": ""}
    # WHEN it is priced / THEN the exports' replication and their replicas are charged
    report = estimate_cost(run, "prod")
    assert report.by_item(PRIMARY)["S3 replication transfer"] > 0
    assert {line.region for line in report.lines if line.unit == "GB-month (exports kept)"} == {
        PRIMARY,
        DR,
    }


def test_the_verifiers_own_copy_and_restore_test_are_priced_per_run(plans: dict[str, PlanRun]):
    prices = load_prices()
    usage = prices["usage_assumptions"]["prod"]
    runs = DAYS_PER_MONTH * 24 / SIZING["prod"].backup_verify_rate_hours
    # GIVEN prod's verifier made to copy the writer's snapshot itself as well
    run = copy.deepcopy(plans["prod"])
    _verifier_env(run)["COPY_SNAPSHOT_ENABLED"] = "true"
    report = estimate_cost(run, "prod")
    # THEN each run's copy is a full snapshot out of the writer's region, one copy kept in DR
    assert report.by_item(PRIMARY)["Snapshot copy transfer (backup verifier)"] == pytest.approx(
        runs
        * usage["snapshot_size_gb"]
        * prices["regions"][PRIMARY]["inter_region_transfer_gb"][DR]
    )
    assert report.by_item(DR)["Snapshot copies (backup verifier)"] == pytest.approx(
        usage["snapshot_size_gb"] * prices["regions"][DR]["aurora_backup_storage_gb_month"]
    )
    # AND the restore test's instance and volume, for as long as each run keeps them
    hours = runs * usage["restore_test_hours_per_run"]
    table = prices["regions"][DR]
    assert report.by_item(DR)["Restore test (backup verifier)"] == pytest.approx(
        hours * table["aurora_instance_hour"][SIZING["prod"].restore_test_instance_class]
        + usage["snapshot_size_gb"]
        * hours
        / (DAYS_PER_MONTH * 24)
        * table["aurora_storage_gb_month"]
    )
    # AND as configured (AWS Backup's copy instead), prod pays for no copy of the verifier's
    assert "Snapshot copy transfer (backup verifier)" not in estimate_cost(
        plans["prod"], "prod"
    ).by_item(PRIMARY)
    assert report.unpriced == []


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
            for per in [runs_per_day(r.schedule, DAYS_PER_MONTH) or 0]
        )
        beyond = sum(
            (runs_per_day(r.schedule, DAYS_PER_MONTH) or 0)
            * max(0, r.retention_days - SIZING["prod"].backup_retention_days)
            * snapshot_gb
            for r in plan.rules
        )
        assert report.by_item(region)["AWS Backup (Aurora backup storage)"] == pytest.approx(
            (copies_in + beyond) * table["aurora_backup_storage_gb_month"]
        )
        copied_gb = sum(
            (runs_per_day(r.schedule, DAYS_PER_MONTH) or 0) * DAYS_PER_MONTH * snapshot_gb
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
