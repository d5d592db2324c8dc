"""The aurora-dr stack's invariants as CrossGuard policies (pulumi-policy).

Each policy reads what a resource is declared with (its inputs, its resource options, its
provider), so a violation stops `pulumi preview --policy-pack policy` before anything changes in
AWS. The rules hold for every stack of the project (dev and prod); what differs by sizing
(deletion protection, backup retention, reserved concurrency) is the sizing table's business and
tested there.

This module imports nothing of the program: the pack runs in its own virtualenv with `policy/` as
its working directory. The few facts it repeats (the global-database instance classes, the
required tags) are checked against the program's own by the pack's tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
EVENT_SUBSCRIPTION = "aws:rds/eventSubscription:EventSubscription"

# Tags every resource carries through its provider's default tags.
REQUIRED_TAGS = ("Environment", "Repository", "Author", "PRNumber", "Team", "Project", "ManagedBy")
# Aurora global databases accept memory-optimised classes or Serverless v2 only ("The requested
# instance class is not supported by global databases", terraform-provider-aws#27736).
GLOBAL_DATABASE_CLASS_PREFIXES = ("db.r5.", "db.r6g.", "db.r6i.", "db.r7g.", "db.r7i.", "db.r8g.")
GLOBAL_DATABASE_SERVERLESS_CLASS = "db.serverless"
# Membership of the global cluster is runtime state after a switchover or failover.
MEMBERSHIP_FIELDS = ("globalClusterIdentifier", "replicationSourceIdentifier")
# The global cluster upgrades its members' engine: a member that also diffs on it fails with
# "Provider produced inconsistent final plan" (pulumi-aws GlobalCluster docs, "Upgrading Engine
# Versions").
GLOBAL_CLUSTER_OWNED_FIELDS = ("engineVersion",)
SECONDARY_FORBIDDEN_INPUTS = ("masterUsername", "masterPassword", "databaseName")
# Security Hub FSBP Lambda.2: supported Python runtimes.
SUPPORTED_PYTHON_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
# Security Hub FSBP RDS.19-22: source type -> categories an event subscription must carry.
REQUIRED_EVENT_CATEGORIES: Mapping[str, frozenset[str]] = {
    "db-cluster": frozenset({"maintenance", "failure"}),
    "db-instance": frozenset({"maintenance", "configuration change", "failure"}),
    "db-parameter-group": frozenset({"configuration change"}),
    "db-security-group": frozenset({"configuration change", "failure"}),
}
OPEN_RANGES = ("0.0.0.0/0", "::/0")

# (resource type, input that must name a customer-managed KMS key)
CUSTOMER_KEY_INPUTS: tuple[tuple[str, str], ...] = (
    (CLUSTER, "kmsKeyId"),
    ("aws:cloudwatch/logGroup:LogGroup", "kmsKeyId"),
    ("aws:sns/topic:Topic", "kmsMasterKeyId"),
    ("aws:secretsmanager/secret:Secret", "kmsKeyId"),
    ("aws:lambda/function:Function", "kmsKeyArn"),
    ("aws:backup/vault:Vault", "kmsKeyArn"),
)


def _is_customer_key(value: Any) -> bool:
    # An AWS managed key is named by its alias (`alias/aws/sns`); ours are key ARNs.
    return isinstance(value, str) and bool(value) and not value.startswith("alias/aws/")


def _customer_keys(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    for type_, key_input in CUSTOMER_KEY_INPUTS:
        if args.resource_type == type_ and not _is_customer_key(props.get(key_input)):
            report(f"{type_} must be encrypted with a customer-managed key ({key_input}).", None)
    if (
        args.resource_type in (CLUSTER, GLOBAL_CLUSTER)
        and props.get("storageEncrypted") is not True
    ):
        report(f"{args.resource_type} must have storageEncrypted (RDS.27).", None)
    if args.resource_type == "aws:dynamodb/table:Table":
        encryption = props.get("serverSideEncryption") or {}
        if encryption.get("enabled") is not True or not _is_customer_key(
            encryption.get("kmsKeyArn")
        ):
            report("DynamoDB tables must be encrypted with a customer-managed key.", None)
    insights = args.resource_type == CLUSTER_INSTANCE and props.get("performanceInsightsEnabled")
    if insights and not _is_customer_key(props.get("performanceInsightsKmsKeyId")):
        report("Performance Insights must be encrypted with a customer-managed key.", None)
    if args.resource_type == "aws:kms/key:Key" and props.get("enableKeyRotation") is not True:
        report("Customer-managed keys must rotate (enableKeyRotation).", None)


def _no_public_access(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props, type_ = args.props, args.resource_type
    if type_ == CLUSTER_INSTANCE and props.get("publiclyAccessible") is not False:
        report("DB instances must set publiclyAccessible to false (RDS.2).", None)
    if type_ == "aws:ec2/subnet:Subnet" and props.get("mapPublicIpOnLaunch"):
        report("Subnets must not assign public IPs on launch (EC2.15).", None)
    rule_types = (
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    )
    if type_ in rule_types:
        if props.get("cidrIpv4") in OPEN_RANGES or props.get("cidrIpv6") in OPEN_RANGES:
            report("Security group rules must not open to the whole internet.", None)
        if props.get("ipProtocol") == "-1":
            report("Security group rules must name a protocol and port.", None)
    forbidden = ("aws:ec2/internetGateway:InternetGateway", "aws:ec2/natGateway:NatGateway")
    if type_ in forbidden:
        report(f"{type_} gives the private network a path to the internet.", None)


def _provider_default_tags(args: ResourceValidationArgs) -> Mapping[str, Any]:
    if args.provider is None:
        return {}
    default_tags = args.provider.props.get("defaultTags") or {}
    # Provider inputs reach the engine as JSON text for nested values.
    if isinstance(default_tags, str):
        default_tags = json.loads(default_tags)
    return default_tags.get("tags") or {}


def _required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:"):
        return
    tags = _provider_default_tags(args)
    missing = [key for key in REQUIRED_TAGS if not tags.get(key)]
    if missing:
        report(
            "Declare AWS resources through a provider whose default tags carry "
            f"{', '.join(REQUIRED_TAGS)}; missing: {', '.join(missing)}.",
            None,
        )


def _global_database_members(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CLUSTER or not args.props.get("globalClusterIdentifier"):
        return
    ignored = set(args.opts.ignore_changes or [])
    missing = [field for field in MEMBERSHIP_FIELDS if field not in ignored]
    if missing:
        report(
            "Global-database members must ignore changes to their membership (it changes at "
            f"run time with every switchover): add {', '.join(missing)} to ignore_changes.",
            None,
        )
    unowned = [field for field in GLOBAL_CLUSTER_OWNED_FIELDS if field not in ignored]
    if unowned:
        report(
            "Global-database members must leave their engine version to the global cluster, "
            f"which upgrades them: add {', '.join(unowned)} to ignore_changes.",
            None,
        )
    if args.props.get("sourceRegion"):
        given = [key for key in SECONDARY_FORBIDDEN_INPUTS if args.props.get(key)]
        if given:
            report(
                "A secondary cluster inherits its credentials from the global cluster: remove "
                f"{', '.join(given)}.",
                None,
            )
        if not args.props.get("kmsKeyId"):
            report("An encrypted secondary cluster needs its own region's kmsKeyId.", None)


def _global_database_classes(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != CLUSTER_INSTANCE:
        return
    instance_class = str(args.props.get("instanceClass", ""))
    if instance_class != GLOBAL_DATABASE_SERVERLESS_CLASS and not instance_class.startswith(
        GLOBAL_DATABASE_CLASS_PREFIXES
    ):
        report(
            f"{instance_class!r} is not accepted by Aurora global databases: use a "
            "memory-optimised class (db.r5 or newer) or db.serverless.",
            None,
        )


def _auto_minor_version_upgrade(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if (
        args.resource_type == CLUSTER_INSTANCE
        and args.props.get("autoMinorVersionUpgrade") is not True
    ):
        report("DB instances must enable autoMinorVersionUpgrade (RDS.13).", None)


def _lambda_runtime(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:lambda/function:Function":
        return
    runtime = args.props.get("runtime")
    if runtime not in SUPPORTED_PYTHON_RUNTIMES:
        report(f"Lambda runtime {runtime!r} is not a supported Python runtime (Lambda.2).", None)


def _region_of(resource: Any) -> str:
    provider = getattr(resource, "provider", None)
    region = provider.props.get("region") if provider is not None else None
    return region or "the default region"


def _event_subscriptions(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every region with database instances has the subscriptions RDS.19-22 ask for."""
    regions = {_region_of(r) for r in args.resources if r.resource_type == CLUSTER_INSTANCE}
    offered: dict[tuple[str, str], set[str]] = {}
    for resource in args.resources:
        if resource.resource_type != EVENT_SUBSCRIPTION:
            continue
        if resource.props.get("enabled") is False:
            continue
        key = (_region_of(resource), str(resource.props.get("sourceType")))
        offered.setdefault(key, set()).update(resource.props.get("eventCategories") or [])
    for region in sorted(regions):
        for source_type, categories in REQUIRED_EVENT_CATEGORIES.items():
            missing = categories - offered.get((region, source_type), set())
            if missing:
                report(
                    f"{region}: no RDS event subscription for {source_type} with "
                    f"{', '.join(sorted(missing))} (Security Hub RDS.19-22).",
                    None,
                )


def _serverless_capacity_ranges(args: StackValidationArgs, report: ReportViolation) -> None:
    """A region with a db.serverless instance has a capacity range on its cluster: "you must set
    this attribute before you add a DB instance that uses the db.serverless DB instance class"
    (CloudFormation, AWS::RDS::DBCluster ServerlessV2ScalingConfiguration; Aurora User Guide,
    "Clusters that use Aurora Serverless v2 must have a capacity range specified"). Matched by
    region: a new cluster's identifier is unknown during a preview."""
    serverless_regions = {
        _region_of(r)
        for r in args.resources
        if r.resource_type == CLUSTER_INSTANCE
        and r.props.get("instanceClass") == GLOBAL_DATABASE_SERVERLESS_CLASS
    }
    for cluster in args.resources:
        if cluster.resource_type != CLUSTER or _region_of(cluster) not in serverless_regions:
            continue
        scaling = cluster.props.get("serverlessv2ScalingConfiguration") or {}
        if scaling.get("minCapacity") is None or scaling.get("maxCapacity") is None:
            report(
                f"{_region_of(cluster)}: the cluster of a db.serverless instance has no "
                "serverlessv2ScalingConfiguration (minCapacity and maxCapacity).",
                cluster.urn,
            )


BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCKS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _by_bucket(resources: Any, type_: str) -> dict[str, Any]:
    """The `type_` resources (bucket settings) of each bucket, by the bucket's name."""
    return {r.props.get("bucket"): r for r in resources if r.resource_type == type_}


def _denies_requests_without_tls(policy_text: Any) -> bool:
    # Security Hub S3.5: a statement denying `s3:*` when `aws:SecureTransport` is false.
    statements = json.loads(policy_text).get("Statement", []) if policy_text else []
    for statement in statements:
        actions = statement.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ("*", {"AWS": "*"})
            and "s3:*" in actions
            and str(condition.get("aws:SecureTransport")).lower() == "false"
        ):
            return True
    return False


def _bucket_problems(name: Any, settings: Mapping[str, dict[str, Any]]) -> list[str]:
    """What one bucket misses of the stack's bucket invariants."""
    problems = []
    block = settings["public-access"].get(name)
    if block is None or not all(block.props.get(k) is True for k in PUBLIC_ACCESS_BLOCKS):
        problems.append("all four public-access blocks (S3.8)")
    ownership = settings["ownership"].get(name)
    rule = (ownership.props.get("rule") or {}) if ownership is not None else {}
    if rule.get("objectOwnership") != "BucketOwnerEnforced":
        problems.append("object ownership BucketOwnerEnforced, so no ACLs (S3.12)")
    policy = settings["policy"].get(name)
    if policy is None or not _denies_requests_without_tls(policy.props.get("policy")):
        problems.append("a bucket policy denying requests without TLS (S3.5)")
    encryption = settings["encryption"].get(name)
    rules = (encryption.props.get("rules") or []) if encryption is not None else []
    defaults = [r.get("applyServerSideEncryptionByDefault") or {} for r in rules]
    if not any(
        d.get("sseAlgorithm") == "aws:kms" and _is_customer_key(d.get("kmsMasterKeyId"))
        for d in defaults
    ):
        problems.append("default encryption with a customer-managed KMS key")
    if settings["lifecycle"].get(name) is None:
        problems.append("a lifecycle configuration (S3.13)")
    return problems


def _bucket_invariants(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every bucket carries its access and encryption settings (they are resources of their own
    in pulumi-aws 7, matched to the bucket by name)."""
    settings = {
        kind: _by_bucket(args.resources, f"aws:s3/{token}")
        for kind, token in (
            ("public-access", "bucketPublicAccessBlock:BucketPublicAccessBlock"),
            ("ownership", "bucketOwnershipControls:BucketOwnershipControls"),
            ("policy", "bucketPolicy:BucketPolicy"),
            (
                "encryption",
                "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            ),
            ("lifecycle", "bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
        )
    }
    acls = {
        r.props.get("bucket")
        for r in args.resources
        if r.resource_type == "aws:s3/bucketAcl:BucketAcl"
    }
    for bucket in (r for r in args.resources if r.resource_type == BUCKET):
        name = bucket.props.get("bucket")
        problems = _bucket_problems(name, settings)
        if name in acls:
            problems.append("no bucket ACL (S3.12)")
        if problems:
            report(f"S3 bucket {name} needs {'; '.join(problems)}.", bucket.urn)


def _resource_policy(name: str, description: str, validate: Any) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    _resource_policy(
        "customer-managed-encryption",
        "Data at rest is encrypted with the stack's customer-managed keys, which rotate.",
        _customer_keys,
    ),
    _resource_policy(
        "no-public-access",
        "No public database, no public IPs, no internet path, no rule open to the internet.",
        _no_public_access,
    ),
    _resource_policy(
        "required-tags",
        "Every AWS resource is declared through a provider whose default tags carry the stack's.",
        _required_tags,
    ),
    _resource_policy(
        "global-database-members",
        "Members ignore membership and engine-version changes; a secondary carries no credentials "
        "but its own key.",
        _global_database_members,
    ),
    _resource_policy(
        "global-database-instance-classes",
        "Global-database instances are memory-optimised or Aurora Serverless v2.",
        _global_database_classes,
    ),
    _resource_policy(
        "rds-auto-minor-version-upgrade",
        "Security Hub RDS.13: automatic minor version upgrades on every DB instance.",
        _auto_minor_version_upgrade,
    ),
    _resource_policy(
        "lambda-supported-runtime",
        "Security Hub Lambda.2: functions run a supported Python runtime.",
        _lambda_runtime,
    ),
    StackValidationPolicy(
        name="backup-bucket-invariants",
        description="Buckets: TLS only (S3.5), all public-access blocks (S3.8), no ACLs (S3.12), "
        "a lifecycle (S3.13), default encryption with a customer-managed key.",
        validate=_bucket_invariants,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="serverless-capacity-range",
        description="Every cluster with an Aurora Serverless v2 instance has a capacity range.",
        validate=_serverless_capacity_ranges,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="rds-event-subscriptions",
        description="Security Hub RDS.19-22: cluster, instance, parameter-group and "
        "security-group event subscriptions in every region with a database.",
        validate=_event_subscriptions,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
"""The pack's policies, in the order `pulumi preview` reports them."""
