"""Monitoring: one region's alerting: topic, alarms, RDS event subscriptions, failover events."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarm import metric_alarm
from components.global_aurora import AuroraMember
from decisions import alarms
from decisions.alarms import AlarmSpec
from decisions.iam import topic_publish_policy
from stack.account import Account
from stack.config import AlertSubscriber
from stack.naming import Namer
from stack.regions import Region
from stack.sizing import Sizing


@dataclass(frozen=True)
class MonitoringArgs:
    """Inputs of `Monitoring` (one instance per region)."""

    region: Region
    namer: Namer
    sizing: Sizing
    account: Account
    kms_key_arn: pulumi.Input[str]
    """The region's key: encrypts the topic."""
    member: AuroraMember
    """This region's member cluster and its instances."""
    subscribers: tuple[AlertSubscriber, ...] = ()
    """Who the topic reaches (the stack settings' `alert_subscribers`)."""


class Monitoring(pulumi.ComponentResource):
    """A KMS-encrypted SNS topic (with an email and an HTTPS subscription when configured), alarms
    with alarm
    and OK actions on it, RDS event subscriptions for the cluster and its instances, and an
    EventBridge rule for global failover / switchover events."""

    health_alarms: dict[str, aws.cloudwatch.MetricAlarm]
    """Alarms on the health-metric contract, by metric name (FailoverDns hangs checks on them)."""

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:Monitoring", name, None, opts)
        self._name, self._args, self.region = name, args, args.region
        self._child = pulumi.ResourceOptions(parent=self, provider=args.region.provider)
        # Instances are labelled db1, db2, ... in alarm names, in the member's order.
        self._instances = [
            (f"db{index + 1}", instance.identifier)
            for index, instance in enumerate(args.member.instances)
        ]
        self._topic()
        self._alarms()
        self._event_subscriptions()
        self._failover_events()
        self.register_outputs({"topicArn": self.topic.arn})

    def exports(self) -> dict[str, pulumi.Output[str] | pulumi.Output[list[str]]]:
        """Stack outputs: `primaryAlertTopicArn` / `drAlertTopicArn`, and who each topic
        reaches, as `AlertSubscriber.shown` says (`primaryAlertSubscribers` /
        `drAlertSubscribers`: an email address whole, an HTTPS endpoint by its host)."""
        return {
            f"{self.region.role}AlertTopicArn": self.topic.arn,
            f"{self.region.role}AlertSubscribers": pulumi.Output.all(
                *(subscriber.shown for subscriber in self._args.subscribers)
            ),
        }

    def _named(self, *parts: str) -> str:
        return self._args.namer.regional(self.region.name, *parts)

    def _topic(self) -> None:
        args = self._args
        self.topic = aws.sns.Topic(
            f"{self._name}-alerts",
            name=self._named("alerts"),
            kms_master_key_id=args.kms_key_arn,
            opts=self._child,
        )
        aws.sns.TopicPolicy(
            f"{self._name}-alerts-policy",
            arn=self.topic.arn,
            policy=self.topic.arn.apply(
                lambda arn: json.dumps(topic_publish_policy(arn, args.account.id))
            ),
            opts=self._child,
        )
        for subscriber in args.subscribers:
            # An email subscription stays pending until its recipient confirms it; an HTTPS one
            # until the endpoint confirms it (SNS posts a SubscriptionConfirmation first).
            aws.sns.TopicSubscription(
                f"{self._name}-alerts-{subscriber.protocol}",
                topic=self.topic.arn,
                protocol=subscriber.protocol,
                endpoint=(
                    pulumi.Output.secret(subscriber.endpoint)
                    if subscriber.protocol == "https"
                    else subscriber.endpoint
                ),
                opts=self._child,
            )

    def _alarms(self) -> None:
        sizing, region = self._args.sizing, self.region
        specs = alarms.cluster_alarm_specs(sizing, self._args.member.cluster.cluster_identifier)
        for label, identifier in self._instances:
            specs += alarms.instance_alarm_specs(sizing, label, identifier)
        health_specs = alarms.health_alarm_specs(
            sizing, self._args.namer.suffix, region.name, region.peer_name
        )
        self.alarms = {spec.key: self._alarm(spec) for spec in specs + health_specs}
        self.health_alarms = {
            spec.health_metric: self.alarms[spec.key]
            for spec in health_specs
            if spec.health_metric is not None
        }

    def _alarm(self, spec: AlarmSpec) -> aws.cloudwatch.MetricAlarm:
        return metric_alarm(
            f"{self._name}-{spec.key}", self._named(spec.key), spec, self.topic.arn, self._child
        )

    def _event_subscriptions(self) -> None:
        aws.rds.EventSubscription(
            f"{self._name}-cluster-events",
            name=self._named("cluster-events"),
            sns_topic=self.topic.arn,
            source_type="db-cluster",
            source_ids=[self._args.member.cluster.cluster_identifier],
            event_categories=list(alarms.CLUSTER_EVENT_CATEGORIES),
            opts=self._child,
        )
        aws.rds.EventSubscription(
            f"{self._name}-instance-events",
            name=self._named("instance-events"),
            sns_topic=self.topic.arn,
            source_type="db-instance",
            source_ids=[identifier for _, identifier in self._instances],
            event_categories=list(alarms.INSTANCE_EVENT_CATEGORIES),
            opts=self._child,
        )
        for subscription in alarms.ACCOUNT_EVENT_SUBSCRIPTIONS:
            aws.rds.EventSubscription(
                f"{self._name}-{subscription.key}",
                name=self._named(subscription.key),
                sns_topic=self.topic.arn,
                source_type=subscription.source_type,
                event_categories=list(subscription.categories),
                opts=self._child,
            )

    def _failover_events(self) -> None:
        self.failover_events_rule = aws.cloudwatch.EventRule(
            f"{self._name}-failover-events",
            name=self._named("failover-events"),
            description="RDS global failover / switchover / unplanned failover events",
            event_pattern=json.dumps(alarms.failover_event_pattern()),
            opts=self._child,
        )
        aws.cloudwatch.EventTarget(
            f"{self._name}-failover-events-to-alerts",
            rule=self.failover_events_rule.name,
            arn=self.topic.arn,
            opts=self._child,
        )
