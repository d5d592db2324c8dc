"""The sizing table: test and prod share every knob and use values AWS accepts."""

from __future__ import annotations

import itertools
from dataclasses import fields, replace

import pytest

from failover_coordinator.settings import DEFAULT_LOCK_LEASE_SECONDS
from peer_watch.confirmation import LATEST_TICK_SECONDS
from stack import sizing


def test_test_and_prod_sizing_share_every_field_and_differ_where_they_must():
    test, prod = sizing.SIZING["test"], sizing.SIZING["prod"]
    assert {f.name for f in fields(test)} == {f.name for f in fields(prod)}
    assert test.instances_per_region == 1 and prod.instances_per_region >= 2
    assert not test.deletion_protection and prod.deletion_protection
    assert test.endpoint_az_count == 1 and prod.endpoint_az_count == prod.az_count
    assert prod.flow_log_retention_days >= 365
    assert test.secret_recovery_window_days == 0
    # a new account's reduced Lambda quota refuses any reservation: the test sizing makes none
    assert test.reserved_concurrency == sizing.NO_RESERVATIONS
    # the recovery objectives `drplan --check` holds each stack to unless its config says otherwise
    assert (test.rto_target_seconds, prod.rto_target_seconds) == (300, 120)


@pytest.mark.parametrize("name", sorted(sizing.SIZING))
def test_every_sizing_uses_values_aws_accepts(name):
    entry = sizing.SIZING[name]
    assert sizing.is_global_database_class(entry.instance_class)
    assert entry.az_count >= 2 and 1 <= entry.endpoint_az_count <= entry.az_count
    assert 7 <= entry.kms_deletion_window_days <= 30
    assert 1 <= entry.backup_retention_days <= 35
    assert entry.monitoring_interval_seconds in (0, 1, 5, 10, 15, 30, 60)
    assert entry.managed_rpo_seconds is None or entry.managed_rpo_seconds >= 20
    assert entry.dns_ttl_seconds <= 60
    assert entry.alarm_period_seconds >= 60
    retention_values = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096}
    assert entry.flow_log_retention_days in retention_values
    assert entry.log_retention_days in retention_values
    assert entry.health_datapoints_to_alarm <= entry.health_evaluation_periods
    # a secondary's heartbeat is up to one schedule interval old before any replication lag
    assert entry.heartbeat_lag_threshold_ms > entry.health_check_rate_minutes * 60_000


def _window_hours(window: str) -> float:
    start, end = (int(t[:2]) * 60 + int(t[3:]) for t in window.split("-"))
    return ((end - start) % (24 * 60)) / 60


@pytest.mark.parametrize("name", sorted(sizing.SIZING))
def test_backup_verification_knobs_agree_with_each_other(name):
    entry = sizing.SIZING[name]
    # one automated snapshot a day, anywhere in the backup window, plus time to become available
    assert entry.backup_max_age_hours > 24 + _window_hours(entry.backup_window)
    # the restore test restores a copy of a remote writer's snapshot in the DR region: the
    # verifier's own, or AWS Backup's in the DR vault
    assert entry.copy_snapshot_to_dr or entry.aws_backup is not None or not entry.restore_test


@pytest.mark.parametrize("name", sorted(sizing.SIZING))
def test_a_failed_lock_outlives_the_attempt_that_failed(name):
    # the coordinator's lease (the stack leaves it at its default) ends long before automation
    # may act again over a failed attempt's lock
    assert sizing.SIZING[name].failed_lock_block_minutes * 60 >= 2 * DEFAULT_LOCK_LEASE_SECONDS


@pytest.mark.parametrize("name", sorted(sizing.SIZING))
def test_the_peer_watch_never_declares_a_writer_lost_on_one_probe(name):
    entry = sizing.SIZING[name]
    cadence, window = entry.peer_probe_cadence_seconds, entry.confirmation_window_seconds
    # the ticker's executions start once a minute: a cadence that divides it keeps ticks even
    assert cadence >= 1 and 60 % cadence == 0
    # a window of whole cadences, at least 20 s: two or more failed probes, always
    assert window >= 20 and window % cadence == 0 and window // cadence >= 1
    assert 0 < entry.in_region_failover_excuse_seconds <= 60
    # a loss that starts at an execution's last tick is confirmed, excuse included, by that
    # execution: its extra ticks fit in an Express workflow
    execution = entry.health_check_rate_minutes * 60
    extension = window + entry.in_region_failover_excuse_seconds + cadence
    assert execution + extension <= LATEST_TICK_SECONDS
    assert 1 <= entry.failover_poll_seconds <= 10


@pytest.mark.parametrize(
    ("instance_class", "accepted"),
    [
        ("db.r6g.large", True),
        ("db.r7g.2xlarge", True),
        ("db.serverless", True),
        ("db.t4g.medium", False),
        ("db.t3.medium", False),
        ("db.r4.large", False),
    ],
)
def test_global_database_instance_classes(instance_class, accepted):
    assert sizing.is_global_database_class(instance_class) is accepted


BACKUP_PLANS = {name: s.aws_backup for name, s in sizing.SIZING.items() if s.aws_backup}


def test_only_prod_has_aws_backup_and_exports_and_only_test_is_destroyable():
    test, prod = sizing.SIZING["test"], sizing.SIZING["prod"]
    assert test.aws_backup is None and prod.aws_backup is not None
    assert test.snapshot_export_every_days is None and prod.snapshot_export_every_days
    assert test.backup_bucket_force_destroy and not prod.backup_bucket_force_destroy


@pytest.mark.parametrize("name", sorted(BACKUP_PLANS))
def test_every_backup_retention_fits_the_vault_lock_aws_would_enforce(name):
    # AWS fails a backup or copy job whose retention lies outside the vault's lock bounds, and
    # refuses a lock that becomes immutable in under 3 days (PutBackupVaultLockConfiguration).
    plan = BACKUP_PLANS[name]
    lock = plan.vault_lock
    assert 1 <= lock.min_retention_days <= lock.max_retention_days <= 36_500
    assert lock.changeable_for_days >= 3
    for rule in plan.rules:
        assert lock.min_retention_days <= rule.retention_days <= lock.max_retention_days
        if rule.copy_retention_days is not None:
            assert lock.min_retention_days <= rule.copy_retention_days <= lock.max_retention_days
    assert any(rule.copy_retention_days for rule in plan.rules), "no copy to the other region"


def _longest_gap_days(schedule: str) -> int:
    """Longest gap between two runs of an AWS Backup cron (`cron(m h dom month dow year)`):
    daily, weekly on one day, or on a list of days of the month (months of up to 31 days)."""
    _minute, _hour, day, _month, weekday, _year = schedule.removeprefix("cron(")[:-1].split()
    if day in ("*", "?") and weekday in ("*", "?"):
        return 1
    if day in ("*", "?"):
        return 7
    days = sorted(int(d) for d in day.split(","))
    return max([b - a for a, b in itertools.pairwise(days)] + [31 - days[-1] + days[0]])


@pytest.mark.parametrize(
    ("schedule", "gap"),
    [("cron(0 7 ? * * *)", 1), ("cron(0 9 ? * SAT *)", 7), ("cron(0 9 1,15 * ? *)", 17)],
)
def test_the_longest_gap_of_a_backup_schedule(schedule, gap):
    assert _longest_gap_days(schedule) == gap


@pytest.mark.parametrize("name", sorted(BACKUP_PLANS))
def test_the_verifiers_freshness_limit_follows_the_copy_cadence(name):
    # The verifier fails a run when the DR vault's newest copy is older than copy_max_age_hours:
    # never on a healthy schedule (the longest gap between two copy runs plus both job windows),
    # always within a day of a missed copy; and a copy is kept at least that long, so the newest
    # copy still exists when the verifier looks for it.
    entry, plan = sizing.SIZING[name], BACKUP_PLANS[name]
    windows_hours = (plan.start_window_minutes + plan.completion_window_minutes) / 60
    for rule in (r for r in plan.rules if r.copy_retention_days is not None):
        healthy_hours = _longest_gap_days(rule.schedule) * 24 + windows_hours
        assert healthy_hours < plan.copy_max_age_hours <= healthy_hours + 24
        assert rule.copy_retention_days * 24 >= plan.copy_max_age_hours
    # an export is of the verified copy: exported once per copy, and kept past the next one
    if entry.snapshot_export_every_days is not None:
        assert entry.snapshot_export_every_days * 24 <= plan.copy_max_age_hours
        assert entry.snapshot_export_retention_days > entry.snapshot_export_every_days


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


@pytest.mark.parametrize("name", sorted(BACKUP_PLANS))
def test_backup_jobs_never_start_within_an_hour_before_or_during_the_clusters_windows(name):
    # AWS Knowledge Center: an AWS Backup job for RDS scheduled within an hour of the automated
    # backup window or the maintenance window can fail to start. (Minutes of the day; the weekly
    # maintenance window is treated as daily, the stricter reading.)
    entry, plan = sizing.SIZING[name], BACKUP_PLANS[name]
    backup_start, backup_end = entry.backup_window.split("-")
    maintenance_start, maintenance_end = (w[4:] for w in entry.maintenance_window.split("-"))
    blocked = [
        (_minutes(backup_start) - 60, _minutes(backup_end)),
        (_minutes(maintenance_start) - 60, _minutes(maintenance_end)),
    ]
    for rule in plan.rules:
        minute, hour = (int(part) for part in rule.schedule.removeprefix("cron(").split()[:2])
        first = hour * 60 + minute
        last = first + plan.start_window_minutes
        for low, high in blocked:
            assert last < low or first > high, f"{rule.name} may start in ({low}, {high})"


def test_the_test_sizing_is_serverless_at_the_smallest_capacity_and_prod_stays_provisioned():
    test, prod = sizing.SIZING["test"], sizing.SIZING["prod"]
    assert test.instance_class == sizing.GLOBAL_DATABASE_SERVERLESS_CLASS
    assert test.serverless == sizing.ServerlessCapacity(min_acu=0.5, max_acu=4.0)
    assert prod.instance_class == "db.r6g.xlarge" and prod.serverless is None
    # the test sizing's ticker is off; prod keeps its sub-minute probing
    assert not test.peer_watch_ticker and prod.peer_watch_ticker


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ((0.0, 4.0), "a minimum of 0 means auto-pause"),
        ((0.5, 0.25), "is not a step of 0.5 ACU"),
        ((0.75, 4.0), "min_acu=0.75 is not a step of 0.5 ACU"),
        ((2.0, 1.0), "got 2..1"),
        ((0.5, 256.5), "max_acu <= 256 ACU, got 0.5..256.5"),
    ],
)
def test_serverless_bounds_aws_refuses_or_a_global_database_ignores_are_refused(bounds, message):
    with pytest.raises(ValueError, match=message):
        sizing.ServerlessCapacity(*bounds)


def test_the_largest_bounds_aws_accepts_are_accepted():
    assert sizing.ServerlessCapacity(0.5, 256.0).max_acu == 256.0


@pytest.mark.parametrize(
    ("instance_class", "serverless", "message"),
    [
        ("db.serverless", None, "needs serverless=ServerlessCapacity"),
        ("db.r6g.large", sizing.ServerlessCapacity(0.5, 4.0), "needs serverless=None"),
    ],
)
def test_scaling_bounds_come_exactly_with_a_serverless_class(instance_class, serverless, message):
    with pytest.raises(ValueError, match=message):
        replace(sizing.SIZING["test"], instance_class=instance_class, serverless=serverless)
