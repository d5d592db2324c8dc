"""Alarm specifications: detection time follows the sizing."""

from __future__ import annotations

from decisions import alarms
from lambdas.drcommon import contract
from stack.sizing import SIZING


def test_detection_time_follows_the_sizing():
    (writer,) = [
        s
        for s in alarms.health_alarm_specs(SIZING["prod"], "prod", "us-east-1", "us-west-2")
        if s.health_metric == contract.WRITER_AVAILABLE.name
    ]
    assert alarms.detection_seconds(writer) == 60 * SIZING["prod"].health_datapoints_to_alarm
