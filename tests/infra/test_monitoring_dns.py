"""Monitoring (both regions), the dashboard and FailoverDns, on what the stacks register."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from decisions import alarms
from drplan.harness import PROJECT_DIR, PlanRun, run_program
from lambdas.drcommon import contract
from stack.sizing import SIZING
from tests.infra.queries import key_arns_by_region, region_roles, vpc_in

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
EVENT_SUBSCRIPTION = "aws:rds/eventSubscription:EventSubscription"


def topic_regions(plan: PlanRun) -> dict[str, str]:
    return {t.outputs["arn"]: t.region for t in plan.of_type(TOPIC)}


def alarms_on(plan: PlanRun, metric: str) -> list:
    return [a for a in plan.of_type(ALARM) if a.inputs["metricName"] == metric]


def test_every_alarm_notifies_its_own_regions_topic_on_alarm_and_on_ok(plan: PlanRun):
    topics = topic_regions(plan)
    all_alarms = plan.of_type(ALARM)
    assert len(all_alarms) > 20
    for alarm in all_alarms:
        for actions in ("alarmActions", "okActions"):
            arns = alarm.inputs.get(actions) or []
            assert arns, f"{alarm.name} has no {actions}"
            for arn in arns:
                assert topics.get(arn) == alarm.region, f"{alarm.name} {actions} -> {arn}"


def test_lag_alarms_watch_both_clusters_in_their_regions(plan: PlanRun):
    clusters = {c.id: c.region for c in plan.of_type("aws:rds/cluster:Cluster")}
    for metric in ("AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag"):
        watched = {
            a.inputs["dimensions"]["DBClusterIdentifier"]: a.region for a in alarms_on(plan, metric)
        }
        assert watched == clusters, f"{metric} must be alarmed on both clusters"


# Capacity alarms by instance class: a fixed class's CPU and memory, a serverless instance's ACU.
CAPACITY_METRICS = {
    "provisioned": {"CPUUtilization", "FreeableMemory"},
    "db.serverless": {"ACUUtilization", "ServerlessDatabaseCapacity"},
}


@pytest.mark.parametrize(
    "metric", ["FreeLocalStorage", "DatabaseConnections", "MaximumUsedTransactionIDs"]
)
def test_every_instance_has_its_resource_alarms(plan: PlanRun, metric: str):
    instances = {i.id: i.region for i in plan.of_type("aws:rds/clusterInstance:ClusterInstance")}
    watched = {
        a.inputs["dimensions"]["DBInstanceIdentifier"]: a.region for a in alarms_on(plan, metric)
    }
    assert watched == instances
    assert set(instances.values()) == set(region_roles(plan).values())


def test_each_instance_has_the_capacity_alarms_of_its_class_and_no_others(plan: PlanRun):
    every_capacity_metric = set().union(*CAPACITY_METRICS.values())
    for instance in plan.of_type("aws:rds/clusterInstance:ClusterInstance"):
        kind = (
            "db.serverless"
            if instance.inputs["instanceClass"] == "db.serverless"
            else ("provisioned")
        )
        alarmed = {
            a.inputs["metricName"]
            for a in plan.of_type(ALARM)
            if a.inputs["metricName"] in every_capacity_metric
            and a.inputs["dimensions"].get("DBInstanceIdentifier") == instance.id
        }
        assert alarmed == CAPACITY_METRICS[kind], instance.id
    # the test stack runs serverless instances, prod provisioned ones
    classes = {
        i.inputs["instanceClass"] for i in plan.of_type("aws:rds/clusterInstance:ClusterInstance")
    }
    assert classes == ({"db.serverless"} if plan.stack == "dev" else {"db.r6g.xlarge"})


def test_serverless_alarms_watch_utilisation_of_the_maximum_and_capacity_above_the_floor(plans):
    # GIVEN the test sizing's bounds and thresholds
    test = SIZING["test"]
    assert test.serverless is not None
    dev = plans["dev"]
    utilisation, capacity = (
        alarms_on(dev, "ACUUtilization"),
        alarms_on(dev, "ServerlessDatabaseCapacity"),
    )
    # THEN each alarms above its threshold: near the maximum (percent), and capacity held above
    # the floor (ACU), with the figures named in the description
    assert {(a.inputs["comparisonOperator"], a.inputs["threshold"]) for a in utilisation} == {
        ("GreaterThanThreshold", test.acu_utilization_threshold_percent)
    }
    assert {(a.inputs["comparisonOperator"], a.inputs["threshold"]) for a in capacity} == {
        ("GreaterThanThreshold", test.serverless_capacity_threshold_acu)
    }
    assert all(
        f"{test.serverless.max_acu:g} ACU" in a.inputs["alarmDescription"] for a in utilisation
    )
    assert all(
        f"{test.serverless.min_acu:g} ACU floor" in a.inputs["alarmDescription"] for a in capacity
    )


def test_one_health_alarm_per_contract_metric_per_region(plan: PlanRun):
    roles = region_roles(plan)
    for role, region in roles.items():
        peer = roles["dr" if role == "primary" else "primary"]
        for metric in contract.ALL_METRICS:
            (alarm,) = [a for a in alarms_on(plan, metric.name) if a.region == region]
            assert alarm.inputs["namespace"] == contract.NAMESPACE
            assert alarm.inputs["dimensions"] == contract.dimensions(
                plan.stack, peer if metric.peer else region
            )
            if metric.availability:
                assert alarm.inputs["treatMissingData"] == "breaching"
                assert alarm.inputs["statistic"] in {
                    "Minimum",
                    "Average",
                    "Maximum",
                    "Sum",
                    "SampleCount",
                }
                assert alarm.inputs["period"] >= 60


def test_rds_events_are_subscribed_in_both_regions(plan: PlanRun):
    subscriptions = plan.of_type(EVENT_SUBSCRIPTION)
    topics = topic_regions(plan)
    for region in region_roles(plan).values():
        local = {s.inputs["sourceType"]: s for s in subscriptions if s.region == region}
        assert set(local) == {
            "db-cluster",
            "db-instance",
            "db-parameter-group",
            "db-security-group",
        }
        categories = {kind: set(s.inputs["eventCategories"]) for kind, s in local.items()}
        # what the DR automation and on-call need (and RDS.19: maintenance, failure)
        assert {"global-failover", "failover", "failure", "notification", "maintenance"} <= (
            categories["db-cluster"]
        )
        # RDS.20 besides availability, failover and low storage
        assert {
            "availability",
            "failure",
            "failover",
            "low storage",
            "maintenance",
            "configuration change",
        } <= categories["db-instance"]
        # RDS.21 and RDS.22, for every source of the type (the controls name no source ids)
        assert {"configuration change"} <= categories["db-parameter-group"]
        assert {"configuration change", "failure"} <= categories["db-security-group"]
        for kind in ("db-parameter-group", "db-security-group"):
            assert not local[kind].inputs.get("sourceIds")
        for subscription in local.values():
            assert topics[subscription.inputs["snsTopic"]] == region
            assert subscription.inputs.get("enabled", True) is not False


def test_topics_are_encrypted_with_their_regions_key_and_let_aws_services_publish(plan: PlanRun):
    keys = key_arns_by_region(plan)
    topics = plan.of_type(TOPIC)
    assert {t.region for t in topics} == set(region_roles(plan).values())
    for topic in topics:
        assert topic.inputs["kmsMasterKeyId"] == keys[topic.region]
    for policy in plan.of_type("aws:sns/topicPolicy:TopicPolicy"):
        document = json.loads(policy.inputs["policy"])
        (statement,) = document["Statement"]
        assert set(statement["Principal"]["Service"]) >= {
            "cloudwatch.amazonaws.com",
            "events.amazonaws.com",
            "events.rds.amazonaws.com",
        }
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"]


def test_failover_events_reach_the_topic_in_each_region(plan: PlanRun):
    rules = plan.of_type("aws:cloudwatch/eventRule:EventRule")
    targets = plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    topics = topic_regions(plan)
    for region in region_roles(plan).values():
        (rule,) = [
            r
            for r in rules
            if r.region == region
            and json.loads(r.inputs.get("eventPattern", "{}")) == alarms.failover_event_pattern()
        ]
        assert "RDS-EVENT-0185" in json.loads(rule.inputs["eventPattern"])["detail"]["EventID"]
        rule_targets = [t for t in targets if t.inputs["rule"] == rule.inputs["name"]]
        assert [topics[t.inputs["arn"]] for t in rule_targets if t.inputs["arn"] in topics] == [
            region
        ]


def test_email_subscription_exists_only_when_configured(plans: dict[str, PlanRun]):
    subscription = "aws:sns/topicSubscription:TopicSubscription"
    assert plans["dev"].of_type(subscription) == []
    with_email = run_program("dev", {"alertEmail": "oncall@example.com"})
    subscriptions = with_email.of_type(subscription)
    assert sorted(s.region for s in subscriptions) == ["us-east-1", "us-west-2"]
    assert {s.inputs["endpoint"] for s in subscriptions} == {"oncall@example.com"}


def test_prod_reaches_someone_in_both_regions_and_an_https_endpoint_stays_secret(
    plans: dict[str, PlanRun],
):
    subscription = "aws:sns/topicSubscription:TopicSubscription"
    roles = region_roles(plans["prod"])
    # GIVEN prod as committed: its placeholder address is subscribed to both regions' topics
    committed = plans["prod"].of_type(subscription)
    assert sorted(s.region for s in committed) == sorted(roles.values())
    assert {s.inputs["endpoint"].endswith("@example.com") for s in committed} == {True}
    # GIVEN prod with an incident tool's endpoint as well
    url = "https://events.example.com/integration/KEY123/enqueue"
    both = run_program("prod", {"alertHttpsEndpoint": url})
    https = [s for s in both.of_type(subscription) if s.inputs["protocol"] == "https"]
    # THEN each region posts to it, and its URL is a secret input (the path is the key)
    assert sorted(s.region for s in https) == sorted(roles.values())
    for registration in https:
        assert registration.inputs["endpoint"] == url
        assert "endpoint" in registration.secret_inputs
    # AND the stack outputs show each region's subscribers without the key
    for role in roles:
        shown = both.outputs[f"{role}AlertSubscribers"]
        assert shown == [
            "email:oncall-placeholder@example.com",
            "https://events.example.com/...",
        ]
    assert not any("KEY123" in str(value) for value in both.outputs.values())


def test_the_private_zone_is_created_and_associated_with_both_vpcs(plan: PlanRun):
    (zone,) = plan.of_type("aws:route53/zone:Zone")
    roles = region_roles(plan)
    assert zone.inputs["name"] == f"{plan.stack}.db.internal"
    assert {(v["vpcId"], v["vpcRegion"]) for v in zone.inputs["vpcs"]} == {
        (vpc_in(plan, region).id, region) for region in roles.values()
    }
    assert plan.outputs["privateZoneName"] == zone.inputs["name"]


def test_writer_and_reader_failover_pairs_follow_health_alarms(plan: PlanRun):
    roles = region_roles(plan)
    alarms_by_name = {a.inputs["name"]: a for a in plan.of_type(ALARM)}
    checks = {c.id: c for c in plan.of_type(HEALTH_CHECK)}
    clusters = {c.region: c for c in plan.of_type("aws:rds/cluster:Cluster")}
    records = plan.of_type(RECORD)
    expected = {
        "writer": ("endpoint", contract.WRITER_AVAILABLE.name),
        "reader": ("readerEndpoint", contract.READER_AVAILABLE.name),
    }
    for label, (endpoint_output, metric) in expected.items():
        pair = {
            r.inputs["failoverRoutingPolicies"][0]["type"]: r
            for r in records
            if r.inputs["name"] == f"{label}.{plan.stack}.db.internal"
        }
        assert set(pair) == {"PRIMARY", "SECONDARY"}
        for failover, role in (("PRIMARY", "primary"), ("SECONDARY", "dr")):
            record = pair[failover]
            region = roles[role]
            assert record.inputs["type"] == "CNAME"
            assert record.inputs["ttl"] <= 60
            assert record.inputs["records"] == [clusters[region].outputs[endpoint_output]]
            check = checks[record.inputs["healthCheckId"]]
            assert check.inputs["cloudwatchAlarmRegion"] == region
            alarm = alarms_by_name[check.inputs["cloudwatchAlarmName"]]
            assert alarm.region == region, "health check names an alarm of another region"
            assert alarm.inputs["metricName"] == metric


def test_every_health_check_watches_an_alarm_of_the_stack(plan: PlanRun):
    alarm_regions = {a.inputs["name"]: a.region for a in plan.of_type(ALARM)}
    checks = plan.of_type(HEALTH_CHECK)
    assert len(checks) == 4
    for check in checks:
        assert check.inputs["type"] == "CLOUDWATCH_METRIC", (
            "Route 53 cannot reach private endpoints"
        )
        assert (
            alarm_regions[check.inputs["cloudwatchAlarmName"]]
            == check.inputs["cloudwatchAlarmRegion"]
        )


def test_dashboard_shows_both_regions(plan: PlanRun):
    (dashboard,) = plan.of_type("aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dashboard.inputs["dashboardBody"])
    regions = {w["properties"]["region"] for w in body["widgets"]}
    assert regions == set(region_roles(plan).values())
    metrics = {m[1] for w in body["widgets"] for m in w["properties"]["metrics"]}
    assert {"AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag", "CPUUtilization"} <= metrics
    assert contract.WRITER_AVAILABLE.name in metrics
    assert plan.outputs["dashboardName"] == dashboard.inputs["dashboardName"]


def test_health_metric_names_and_namespace_are_spelled_in_one_place():
    literals = [contract.NAMESPACE, *(m.name for m in contract.ALL_METRICS)]
    contract_file = Path(contract.__file__).resolve()
    offenders = []
    for path in Path(PROJECT_DIR).rglob("*.py"):
        parts = set(path.relative_to(PROJECT_DIR).parts)
        # mutants/ is `make mutate`'s working copy of the sources (git-ignored).
        if {"venv", ".venv", "tests", "mutants"} & parts or path.resolve() == contract_file:
            continue
        text = path.read_text()
        offenders += [
            f"{path.name}: {lit}" for lit in literals if f'"{lit}"' in text or f"'{lit}'" in text
        ]
    assert offenders == []
