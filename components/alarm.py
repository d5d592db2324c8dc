"""Declaring one CloudWatch alarm from a `decisions.alarms.AlarmSpec` (shared by the components
that alarm: Monitoring and DrAutomation)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from decisions.alarms import AlarmSpec


def metric_alarm(
    logical_name: str,
    physical_name: str,
    spec: AlarmSpec,
    topic_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.cloudwatch.MetricAlarm:
    """The alarm of `spec`, notifying `topic_arn` when it fires and when it clears."""
    return aws.cloudwatch.MetricAlarm(
        logical_name,
        name=physical_name,
        alarm_description=spec.description,
        namespace=spec.namespace,
        metric_name=spec.metric_name,
        dimensions=dict(spec.dimensions),
        statistic=spec.statistic,
        comparison_operator=spec.comparison,
        threshold=spec.threshold,
        period=spec.period,
        evaluation_periods=spec.evaluation_periods,
        datapoints_to_alarm=spec.datapoints_to_alarm,
        treat_missing_data=spec.treat_missing_data,
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        opts=opts,
    )
