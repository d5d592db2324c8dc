"""Monitoring: one region's alerting: topic, alarms, RDS event subscriptions, failover events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarm import metric_alarm
from decisions import alarms
from decisions.iam import policy_document
from stack.naming import regional_name
from stack.sizing import Sizing

# Services that publish into the alert topic (CloudWatch alarms, EventBridge, RDS events).
TOPIC_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com", "events.rds.amazonaws.com")


@dataclass(frozen=True)
class MonitoredInstance:
    """One database instance: a short label for names, and its identifier."""

    label: str
    identifier: pulumi.Input[str]


@dataclass(frozen=True)
class MonitoringArgs:
    """Inputs of `Monitoring` (one instance per region)."""

    environment_suffix: str
    region: str
    peer_region: str
    account_id: str
    kms_key_arn: pulumi.Input[str]
    sizing: Sizing
    cluster_identifier: pulumi.Input[str]
    """This region's member cluster."""
    instances: Sequence[MonitoredInstance]
    alert_email: str | None = None


class Monitoring(pulumi.ComponentResource):
    """A KMS-encrypted SNS topic (with an email subscription when configured), alarms with alarm
    and OK actions on it, RDS event subscriptions for the cluster and its instances, and an
    EventBridge rule for global failover / switchover events."""

    health_alarms: dict[str, aws.cloudwatch.MetricAlarm]
    """Alarms on the health-metric contract, by metric name (FailoverDns hangs checks on them)."""

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        suffix, region, sizing = args.environment_suffix, args.region, args.sizing

        self.topic = aws.sns.Topic(
            f"{name}-alerts",
            name=regional_name(suffix, region, "alerts"),
            kms_master_key_id=args.kms_key_arn,
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=self.topic.arn,
            policy=self.topic.arn.apply(
                lambda arn: json.dumps(
                    policy_document(
                        {
                            "Sid": "AwsServicesOfThisAccountPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": list(TOPIC_PUBLISHERS)},
                            "Action": "sns:Publish",
                            "Resource": arn,
                            "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                        }
                    )
                )
            ),
            opts=child,
        )
        if args.alert_email:
            aws.sns.TopicSubscription(
                f"{name}-alerts-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=args.alert_email,
                opts=child,
            )

        specs = alarms.cluster_alarm_specs(sizing, args.cluster_identifier)
        for instance in args.instances:
            specs += alarms.instance_alarm_specs(sizing, instance.label, instance.identifier)
        health_specs = alarms.health_alarm_specs(sizing, suffix, region, args.peer_region)
        self.alarms = {spec.key: self._alarm(name, args, spec) for spec in specs + health_specs}
        self.health_alarms = {
            spec.health_metric: self.alarms[spec.key]
            for spec in health_specs
            if spec.health_metric is not None
        }

        aws.rds.EventSubscription(
            f"{name}-cluster-events",
            name=regional_name(suffix, region, "cluster-events"),
            sns_topic=self.topic.arn,
            source_type="db-cluster",
            source_ids=[args.cluster_identifier],
            event_categories=list(alarms.CLUSTER_EVENT_CATEGORIES),
            opts=child,
        )
        aws.rds.EventSubscription(
            f"{name}-instance-events",
            name=regional_name(suffix, region, "instance-events"),
            sns_topic=self.topic.arn,
            source_type="db-instance",
            source_ids=[instance.identifier for instance in args.instances],
            event_categories=list(alarms.INSTANCE_EVENT_CATEGORIES),
            opts=child,
        )

        self.failover_events_rule = aws.cloudwatch.EventRule(
            f"{name}-failover-events",
            name=regional_name(suffix, region, "failover-events"),
            description="RDS global failover / switchover / unplanned failover events",
            event_pattern=json.dumps(alarms.failover_event_pattern()),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-failover-events-to-alerts",
            rule=self.failover_events_rule.name,
            arn=self.topic.arn,
            opts=child,
        )

        self.register_outputs({"topicArn": self.topic.arn})

    def _alarm(
        self, name: str, args: MonitoringArgs, spec: alarms.AlarmSpec
    ) -> aws.cloudwatch.MetricAlarm:
        return metric_alarm(
            f"{name}-{spec.key}",
            regional_name(args.environment_suffix, args.region, spec.key),
            spec,
            self.topic.arn,
            pulumi.ResourceOptions(parent=self),
        )
