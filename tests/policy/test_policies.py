"""The CrossGuard pack (`policy/`), without the CLI: every resource the real program registers
under the mock harness is handed to each policy's `validate` the way the pack's analyzer does
(inputs behind pulumi-policy's unknown-checking proxy, resource options, provider)."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from components import global_aurora
from drplan.harness import PlanRun, Registration
from policy import aurora_dr_policies as pack
from stack import sizing
from tests.infra.queries import provider_default_tags

POLICIES = {policy.name: policy for policy in pack.POLICIES}
Violation = tuple[str, str, str]  # (policy, urn, message)


def _options(registration: Registration) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=registration.protect,
        ignore_changes=list(registration.ignore_changes),
        delete_before_replace=registration.delete_before_replace,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=registration.parent or None,
    )


def _provider(run: PlanRun, registration: Registration) -> PolicyProviderResource | None:
    providers = {p.urn: p for p in run.providers}
    provider = providers.get(registration.provider_urn)
    if provider is None:
        return None
    props = unknown_checking_proxy(copy.deepcopy(provider.inputs))
    return PolicyProviderResource(provider.type, props, provider.urn, provider.name)


def violations(policy, run: PlanRun) -> list[Violation]:
    """What `policy` reports on everything `run` registered."""
    found: list[Violation] = []
    resources = [r for r in run.registrations if r.custom]
    if isinstance(policy, StackValidationPolicy):
        stack = StackValidationArgs(
            [
                PolicyResource(
                    r.type,
                    unknown_checking_proxy(copy.deepcopy(r.inputs)),
                    r.urn,
                    r.name,
                    _options(r),
                    _provider(run, r),
                    None,
                    [],
                    {},
                )
                for r in resources
            ]
        )
        policy.validate(stack, lambda message, urn=None: found.append((policy.name, "", message)))
        return found
    assert isinstance(policy, ResourceValidationPolicy)
    for registration in resources:
        args = ResourceValidationArgs(
            registration.type,
            unknown_checking_proxy(copy.deepcopy(registration.inputs)),
            registration.urn,
            registration.name,
            _options(registration),
            _provider(run, registration),
        )
        policy.validate(
            args,
            lambda message, urn=None, r=registration: found.append((policy.name, r.urn, message)),
        )
    return found


def altered(run: PlanRun, type_: str, change, pick=lambda r: True) -> tuple[PlanRun, str]:
    """A copy of `run` whose first `type_` registration matching `pick` has `change` applied to a
    copy of it; returns the copy and that registration's URN."""
    registrations = copy.deepcopy(run.registrations)
    target = next(r for r in registrations if r.type == type_ and pick(r))
    change(target)
    return dataclasses.replace(run, registrations=registrations), target.urn


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_policy_passes_on_both_stacks(plans: dict[str, PlanRun], name: str):
    for stack, run in plans.items():
        assert violations(POLICIES[name], run) == [], stack


def test_customer_managed_encryption_rejects_a_log_group_without_a_key(plans):
    run, urn = altered(
        plans["dev"], "aws:cloudwatch/logGroup:LogGroup", lambda r: r.inputs.pop("kmsKeyId")
    )
    assert violations(POLICIES["customer-managed-encryption"], run) == [
        (
            "customer-managed-encryption",
            urn,
            "aws:cloudwatch/logGroup:LogGroup must be encrypted with a customer-managed key "
            "(kmsKeyId).",
        )
    ]


def test_customer_managed_encryption_rejects_a_topic_under_the_aws_managed_key(plans):
    run, urn = altered(
        plans["prod"],
        "aws:sns/topic:Topic",
        lambda r: r.inputs.update(kmsMasterKeyId="alias/aws/sns"),
    )
    assert [v[1] for v in violations(POLICIES["customer-managed-encryption"], run)] == [urn]


def test_no_public_access_rejects_a_public_instance_and_a_rule_open_to_the_world(plans):
    run, instance = altered(
        plans["prod"],
        "aws:rds/clusterInstance:ClusterInstance",
        lambda r: r.inputs.update(publiclyAccessible=True),
    )
    run, rule = altered(
        run,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        lambda r: r.inputs.update(cidrIpv4="0.0.0.0/0", referencedSecurityGroupId=None),
    )
    found = violations(POLICIES["no-public-access"], run)
    assert {(urn, message.split(" must")[0]) for _, urn, message in found} == {
        (instance, "DB instances"),
        (rule, "Security group rules"),
    }


def test_required_tags_rejects_resources_of_a_provider_without_the_team_tag(plans):
    def drop_team(provider: Registration) -> None:
        tags = provider_default_tags(provider)
        del tags["Team"]
        provider.inputs["defaultTags"] = json.dumps({"tags": tags})

    run, provider_urn = altered(
        plans["dev"],
        "pulumi:providers:aws",
        drop_team,
        pick=lambda r: r.name == "dr-region",
    )
    found = violations(POLICIES["required-tags"], run)
    dr_resources = {r.urn for r in run.resources if r.provider_urn == provider_urn}
    assert found and {urn for _, urn, _ in found} == dr_resources
    assert all(message.endswith("missing: Team.") for _, _, message in found)


def test_global_database_members_reject_a_secondary_with_credentials_and_no_ignore_changes(plans):
    def break_secondary(cluster: Registration) -> None:
        cluster.inputs["masterPassword"] = "not-allowed"
        cluster.ignore_changes = ["masterPassword"]

    run, urn = altered(
        plans["dev"],
        "aws:rds/cluster:Cluster",
        break_secondary,
        pick=lambda r: "sourceRegion" in r.inputs,
    )
    messages = [m for _, u, m in violations(POLICIES["global-database-members"], run) if u == urn]
    assert len(messages) == 3
    assert "globalClusterIdentifier, replicationSourceIdentifier to ignore_changes" in messages[0]
    assert messages[1].endswith("which upgrades them: add engineVersion to ignore_changes.")
    assert messages[2].endswith("remove masterPassword.")


def test_global_database_instance_classes_reject_a_burstable_class(plans):
    run, urn = altered(
        plans["dev"],
        "aws:rds/clusterInstance:ClusterInstance",
        lambda r: r.inputs.update(instanceClass="db.t4g.medium"),
    )
    ((_, found_urn, message),) = violations(POLICIES["global-database-instance-classes"], run)
    assert found_urn == urn and message.startswith("'db.t4g.medium' is not accepted")


def test_serverless_capacity_range_rejects_a_serverless_instances_cluster_without_one(plans):
    # GIVEN the dev stack (db.serverless) with the scaling configuration gone from one cluster
    run, _ = altered(
        plans["dev"],
        "aws:rds/cluster:Cluster",
        lambda r: r.inputs.pop("serverlessv2ScalingConfiguration"),
        pick=lambda r: r.region == "us-west-2",
    )
    # THEN that cluster's region is reported, and prod (provisioned, no range) passes
    assert [m for _, _, m in violations(POLICIES["serverless-capacity-range"], run)] == [
        "us-west-2: the cluster of a db.serverless instance has no "
        "serverlessv2ScalingConfiguration (minCapacity and maxCapacity)."
    ]
    assert violations(POLICIES["serverless-capacity-range"], plans["prod"]) == []


def test_rds_auto_minor_version_upgrade_rejects_an_instance_with_it_off(plans):
    run, urn = altered(
        plans["prod"],
        "aws:rds/clusterInstance:ClusterInstance",
        lambda r: r.inputs.update(autoMinorVersionUpgrade=False),
    )
    assert violations(POLICIES["rds-auto-minor-version-upgrade"], run) == [
        (
            "rds-auto-minor-version-upgrade",
            urn,
            "DB instances must enable autoMinorVersionUpgrade (RDS.13).",
        )
    ]


def test_lambda_supported_runtime_rejects_a_retired_runtime(plans):
    run, urn = altered(
        plans["dev"], "aws:lambda/function:Function", lambda r: r.inputs.update(runtime="python3.8")
    )
    assert [v[1] for v in violations(POLICIES["lambda-supported-runtime"], run)] == [urn]


def test_rds_event_subscriptions_reject_a_region_without_the_parameter_group_subscription(plans):
    run = plans["prod"]
    kept = [
        r
        for r in run.registrations
        if not (
            r.type == "aws:rds/eventSubscription:EventSubscription"
            and r.inputs["sourceType"] == "db-parameter-group"
            and r.region == "us-west-2"
        )
    ]
    assert len(kept) == len(run.registrations) - 1
    found = violations(
        POLICIES["rds-event-subscriptions"], dataclasses.replace(run, registrations=kept)
    )
    assert [m for _, _, m in found] == [
        "us-west-2: no RDS event subscription for db-parameter-group with configuration change "
        "(Security Hub RDS.19-22)."
    ]


def test_the_packs_facts_are_the_programs(plans):
    # The pack cannot import the program (it runs in its own virtualenv): its copies must agree.
    assert pack.GLOBAL_DATABASE_CLASS_PREFIXES == sizing.GLOBAL_DATABASE_CLASS_PREFIXES
    assert pack.GLOBAL_DATABASE_SERVERLESS_CLASS == sizing.GLOBAL_DATABASE_SERVERLESS_CLASS
    assert list(pack.GLOBAL_CLUSTER_OWNED_FIELDS) == global_aurora.ENGINE_VERSION_FIELDS
    assert list(pack.MEMBERSHIP_FIELDS) == global_aurora.MEMBERSHIP_FIELDS
    for provider in plans["dev"].of_type("pulumi:providers:aws"):
        assert set(pack.REQUIRED_TAGS) == set(provider_default_tags(provider))


def _bucket_setting(r: Registration, type_: str) -> bool:
    """`r` is the `type_` setting of the DR region's backup bucket."""
    return r.type == type_ and r.region == "us-west-2"


def _without(run: PlanRun, type_: str) -> PlanRun:
    kept = [r for r in run.registrations if not _bucket_setting(r, type_)]
    assert len(kept) == len(run.registrations) - 1
    return dataclasses.replace(run, registrations=kept)


def _no_tls_statement(policy: Registration) -> None:
    document = json.loads(policy.inputs["policy"])
    document["Statement"][0]["Condition"] = {"Bool": {"aws:SecureTransport": "true"}}
    policy.inputs["policy"] = json.dumps(document)


BUCKET_BREAKS = {
    "public access allowed": (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        lambda r: r.inputs.update(restrictPublicBuckets=False),
        "all four public-access blocks (S3.8)",
    ),
    "ACLs on": (
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        lambda r: r.inputs.update(rule={"objectOwnership": "ObjectWriter"}),
        "object ownership BucketOwnerEnforced, so no ACLs (S3.12)",
    ),
    "non-TLS allowed": (
        "aws:s3/bucketPolicy:BucketPolicy",
        _no_tls_statement,
        "a bucket policy denying requests without TLS (S3.5)",
    ),
    "AWS managed key": (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        lambda r: r.inputs["rules"][0]["applyServerSideEncryptionByDefault"].update(
            kmsMasterKeyId="alias/aws/s3"
        ),
        "default encryption with a customer-managed KMS key",
    ),
}


@pytest.mark.parametrize("case", sorted(BUCKET_BREAKS))
def test_backup_bucket_invariants_reject_a_bucket_that_breaks_one(plans, case: str):
    # GIVEN the dev stack with one setting of the DR bucket broken
    type_, change, needed = BUCKET_BREAKS[case]
    run, _ = altered(plans["dev"], type_, change, pick=lambda r: r.region == "us-west-2")
    bucket = next(
        r.inputs["bucket"] for r in run.of_type("aws:s3/bucket:Bucket") if r.region == "us-west-2"
    )
    # THEN the pack names the bucket and what it needs
    assert violations(POLICIES["backup-bucket-invariants"], run) == [
        ("backup-bucket-invariants", "", f"S3 bucket {bucket} needs {needed}.")
    ]


def test_backup_bucket_invariants_reject_a_bucket_without_lifecycle_or_policy(plans):
    run = _without(
        _without(plans["dev"], "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
        "aws:s3/bucketPolicy:BucketPolicy",
    )
    ((_, _, message),) = violations(POLICIES["backup-bucket-invariants"], run)
    assert message.endswith(
        "needs a bucket policy denying requests without TLS (S3.5); a lifecycle configuration "
        "(S3.13)."
    )


def test_customer_managed_encryption_rejects_a_backup_vault_without_the_regions_key(plans):
    run, urn = altered(plans["prod"], "aws:backup/vault:Vault", lambda r: r.inputs.pop("kmsKeyArn"))
    assert violations(POLICIES["customer-managed-encryption"], run) == [
        (
            "customer-managed-encryption",
            urn,
            "aws:backup/vault:Vault must be encrypted with a customer-managed key (kmsKeyArn).",
        )
    ]
