"""Alarm specifications: detection time follows the sizing; the backup verifier's result alarm."""

from __future__ import annotations

import dataclasses

import pytest

from decisions import alarms
from lambdas.drcommon import contract
from stack.sizing import SIZING

HOUR = 3600
# The longest a backup verifier run takes: Lambda's maximum timeout (the function has 900 s).
LONGEST_RUN_SECONDS = 900


def test_detection_time_follows_the_sizing():
    (writer,) = [
        s
        for s in alarms.health_alarm_specs(SIZING["prod"], "prod", "us-east-1", "us-west-2")
        if s.health_metric == contract.WRITER_AVAILABLE.name
    ]
    assert alarms.detection_seconds(writer) == 60 * SIZING["prod"].health_datapoints_to_alarm


@pytest.mark.parametrize("name", sorted(SIZING))
def test_backup_alarm_fires_on_a_failed_run_and_on_a_verifier_that_stopped_reporting(name):
    sizing = SIZING[name]
    spec = alarms.backup_verification_alarm_spec(sizing, "dev", "backup_verifier")

    # the verifier's own result metric, with the dimensions its EMF records carry
    assert (spec.namespace, spec.metric_name) == ("AuroraDR/Automation", "VerificationSucceeded")
    assert spec.dimensions == {"Environment": "dev", "service": "backup_verifier"}
    # a run reporting 0 anywhere in the window raises it
    assert (spec.statistic, spec.comparison, spec.threshold) == ("Minimum", alarms.LESS, 1.0)
    assert (spec.evaluation_periods, spec.datapoints_to_alarm) == (1, 1)
    # no report at all is "not verified": the silence of a stopped verifier raises it too
    assert spec.treat_missing_data == "breaching"
    # the window holds one scheduled run even if it starts late and runs its whole timeout, and
    # no more than a day and the slack: a verifier that missed its daily run alarms within 25 h
    rate = sizing.backup_verify_rate_hours * HOUR
    assert (
        rate + LONGEST_RUN_SECONDS < spec.period <= rate + sizing.backup_report_slack_hours * HOUR
    )
    assert spec.period == 25 * HOUR
    # CloudWatch accepts it: a multiple of 60 s, period x evaluation periods within 7 days
    assert spec.period % 60 == 0
    assert spec.period * spec.evaluation_periods <= alarms.MAX_EVALUATION_SECONDS


def test_an_alarm_window_cloudwatch_rejects_is_refused_before_deploying():
    # GIVEN a schedule so sparse that the window would exceed CloudWatch's seven days
    sparse = dataclasses.replace(SIZING["test"], backup_verify_rate_hours=24 * 7)

    # WHEN the alarm is specified / THEN it is refused, naming the limit
    with pytest.raises(ValueError, match="the window at most 604800 s"):
        alarms.backup_verification_alarm_spec(sparse, "dev", "backup_verifier")


def _capacity_metrics(sizing) -> list[str]:
    return [
        s.metric_name
        for s in alarms.instance_alarm_specs(sizing, "db1", "db-id")
        if s.metric_name
        not in {"FreeLocalStorage", "DatabaseConnections", "MaximumUsedTransactionIDs"}
    ]


def test_a_serverless_instance_is_watched_by_its_acu_not_by_fixed_class_thresholds():
    # GIVEN the test sizing (db.serverless) and prod (provisioned)
    assert _capacity_metrics(SIZING["test"]) == ["ACUUtilization", "ServerlessDatabaseCapacity"]
    assert _capacity_metrics(SIZING["prod"]) == ["CPUUtilization", "FreeableMemory"]
    # AND the serverless thresholds are the sizing's knobs, both alarming above
    specs = {s.key: s for s in alarms.instance_alarm_specs(SIZING["test"], "db1", "db-id")}
    assert (specs["acu-utilization-db1"].threshold, specs["acu-utilization-db1"].comparison) == (
        SIZING["test"].acu_utilization_threshold_percent,
        alarms.GREATER,
    )
    capacity = specs["serverless-capacity-db1"]
    assert (capacity.threshold, capacity.comparison) == (
        SIZING["test"].serverless_capacity_threshold_acu,
        alarms.GREATER,
    )
    assert capacity.dimensions == {"DBInstanceIdentifier": "db-id"}
