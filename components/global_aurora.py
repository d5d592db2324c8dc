"""GlobalAurora: the Aurora PostgreSQL global database, its two member clusters and credentials."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from decisions import aurora
from decisions.iam import assume_role_policy
from stack.naming import physical_name, regional_name
from stack.sizing import Sizing

POSTGRES_PORT = 5432
# Membership in the global cluster is runtime state after day one (switchover, failover and
# detach-and-promote all change it), and the master password belongs to the rotation Lambda.
MEMBERSHIP_FIELDS = ["globalClusterIdentifier", "replicationSourceIdentifier"]


@dataclass(frozen=True)
class RegionPlacement:
    """Where one member cluster lives: its region, provider, network and key."""

    region: str
    provider: aws.Provider
    subnet_ids: Sequence[pulumi.Input[str]]
    availability_zones: Sequence[str]
    security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]


@dataclass(frozen=True)
class GlobalAuroraArgs:
    """Inputs of `GlobalAurora`."""

    environment_suffix: str
    engine_version: str
    database_name: str
    master_username: str
    sizing: Sizing
    primary: RegionPlacement
    secondary: RegionPlacement
    partition: str


class GlobalAurora(pulumi.ComponentResource):
    """Global cluster; primary cluster + instances in the primary region; secondary cluster +
    instances in the DR region; per-region parameter and subnet groups and encrypted log groups;
    the enhanced-monitoring role; the generated master password and its Secrets Manager secret,
    replicated to the DR region with the DR key."""

    def __init__(
        self, name: str, args: GlobalAuroraArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:GlobalAurora", name, None, opts)
        sizing, suffix = args.sizing, args.environment_suffix
        primary_opts = pulumi.ResourceOptions(parent=self, provider=args.primary.provider)
        protected = pulumi.ResourceOptions(protect=sizing.protect)
        if aurora.windows_overlap(sizing.backup_window, sizing.maintenance_window):
            raise ValueError("the sizing's backup and maintenance windows overlap")

        # RDS-managed master passwords are not supported for global clusters: generate one here.
        self.master_password = random.RandomPassword(
            f"{name}-master-password",
            length=aurora.PASSWORD_LENGTH,
            special=True,
            override_special=aurora.PASSWORD_SPECIAL_CHARACTERS,
            min_lower=2,
            min_upper=2,
            min_numeric=2,
            min_special=2,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.global_cluster = aws.rds.GlobalCluster(
            f"{name}-global",
            global_cluster_identifier=physical_name(suffix, "global"),
            engine=aurora.ENGINE,
            engine_version=args.engine_version,
            database_name=args.database_name,
            storage_encrypted=True,
            deletion_protection=sizing.deletion_protection,
            opts=primary_opts.merge(protected),
        )

        self.subnet_group_names: dict[str, pulumi.Output[str]] = {}
        self.monitoring_role_arn: pulumi.Output[str] | None = None
        if sizing.monitoring_interval_seconds > 0:
            monitoring_role = aws.iam.Role(
                f"{name}-monitoring-role",
                name=physical_name(suffix, "rds-monitoring"),
                assume_role_policy=json.dumps(assume_role_policy("monitoring.rds.amazonaws.com")),
                managed_policy_arns=[
                    f"arn:{args.partition}:iam::aws:policy/service-role/"
                    "AmazonRDSEnhancedMonitoringRole"
                ],
                opts=primary_opts,
            )
            self.monitoring_role_arn = monitoring_role.arn

        self.primary_cluster = self._cluster(name, "primary", args, args.primary, depends_on=[])
        self.primary_instances = self._instances(name, "primary", args, args.primary)
        # The secondary can only attach once the primary has a writer instance (tf-aws#26030).
        self.secondary_cluster = self._cluster(
            name, "secondary", args, args.secondary, depends_on=self.primary_instances
        )
        self.secondary_instances = self._instances(name, "secondary", args, args.secondary)

        self.secret = aws.secretsmanager.Secret(
            f"{name}-master-secret",
            name=physical_name(suffix, "master"),
            description=(
                "aurora-dr master credentials; host is the global writer endpoint. Rotated by "
                "the stack's rotation function."
            ),
            kms_key_id=args.primary.kms_key_arn,
            recovery_window_in_days=sizing.secret_recovery_window_days,
            replicas=[
                aws.secretsmanager.SecretReplicaArgs(
                    region=args.secondary.region, kms_key_id=args.secondary.kms_key_arn
                )
            ],
            opts=primary_opts,
        )
        self.secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-master-secret-value",
            secret_id=self.secret.id,
            secret_string=pulumi.Output.json_dumps(
                {
                    "engine": "postgres",
                    "host": self.global_cluster.endpoint,
                    "port": POSTGRES_PORT,
                    "username": args.master_username,
                    "password": self.master_password.result,
                    "dbname": args.database_name,
                    "globalClusterIdentifier": self.global_cluster.global_cluster_identifier,
                }
            ),
            # After day one the rotation function owns the value.
            opts=primary_opts.merge(pulumi.ResourceOptions(ignore_changes=["secretString"])),
        )

        self.global_writer_endpoint = self.global_cluster.endpoint
        self.register_outputs(
            {
                "globalClusterId": self.global_cluster.id,
                "globalWriterEndpoint": self.global_cluster.endpoint,
                "primaryClusterArn": self.primary_cluster.arn,
                "secondaryClusterArn": self.secondary_cluster.arn,
                "secretArn": self.secret.arn,
            }
        )

    def _cluster(
        self,
        name: str,
        role: str,
        args: GlobalAuroraArgs,
        placement: RegionPlacement,
        depends_on: Sequence[pulumi.Resource],
    ) -> aws.rds.Cluster:
        sizing, suffix, region = args.sizing, args.environment_suffix, placement.region
        opts = pulumi.ResourceOptions(parent=self, provider=placement.provider)
        family = aurora.parameter_group_family(args.engine_version)
        cluster_id = regional_name(suffix, region, "cluster")

        subnet_group = aws.rds.SubnetGroup(
            f"{name}-{role}-subnets",
            name=regional_name(suffix, region, "db-subnets"),
            description=f"aurora-dr {suffix}: private isolated subnets of {region}",
            subnet_ids=list(placement.subnet_ids),
            opts=opts,
        )
        self.subnet_group_names["primary" if role == "primary" else "dr"] = subnet_group.name
        cluster_parameters = aws.rds.ClusterParameterGroup(
            f"{name}-{role}-cluster-params",
            name=regional_name(suffix, region, "cluster-params"),
            family=family,
            description=f"aurora-dr {suffix}: TLS only, slow-query logging, managed RPO",
            parameters=[
                aws.rds.ClusterParameterGroupParameterArgs(
                    name=p.name, value=p.value, apply_method=p.apply_method
                )
                for p in aurora.cluster_parameters(sizing)
            ],
            opts=opts,
        )
        # Created before the cluster so RDS writes its exported logs into an encrypted group with
        # a retention, instead of creating an unencrypted one that never expires.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-{role}-postgresql-logs",
            name=f"/aws/rds/cluster/{cluster_id}/postgresql",
            retention_in_days=sizing.log_retention_days,
            kms_key_id=placement.kms_key_arn,
            opts=opts,
        )
        credentials: dict[str, pulumi.Input[str]] = {}
        if role == "primary":
            # The secondary takes none of these: it inherits them from the global cluster.
            credentials = {
                "database_name": args.database_name,
                "master_username": args.master_username,
                "master_password": self.master_password.result,
            }
        else:
            credentials = {"source_region": args.primary.region}
        ignored = [*MEMBERSHIP_FIELDS, *(["masterPassword"] if role == "primary" else [])]
        return aws.rds.Cluster(
            f"{name}-{role}-cluster",
            cluster_identifier=cluster_id,
            engine=aurora.ENGINE,
            engine_version=args.engine_version,
            global_cluster_identifier=self.global_cluster.id,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[placement.security_group_id],
            db_cluster_parameter_group_name=cluster_parameters.name,
            port=POSTGRES_PORT,
            storage_encrypted=True,
            kms_key_id=placement.kms_key_arn,
            backup_retention_period=sizing.backup_retention_days,
            preferred_backup_window=sizing.backup_window,
            preferred_maintenance_window=sizing.maintenance_window,
            enabled_cloudwatch_logs_exports=["postgresql"],
            iam_database_authentication_enabled=True,
            copy_tags_to_snapshot=True,
            deletion_protection=sizing.deletion_protection,
            skip_final_snapshot=sizing.skip_final_snapshot,
            final_snapshot_identifier=None if sizing.skip_final_snapshot else f"{cluster_id}-final",
            **credentials,
            opts=opts.merge(
                pulumi.ResourceOptions(
                    protect=sizing.protect,
                    ignore_changes=ignored,
                    depends_on=[*depends_on, log_group],
                )
            ),
        )

    def _instances(
        self, name: str, role: str, args: GlobalAuroraArgs, placement: RegionPlacement
    ) -> list[aws.rds.ClusterInstance]:
        sizing, suffix, region = args.sizing, args.environment_suffix, placement.region
        opts = pulumi.ResourceOptions(parent=self, provider=placement.provider)
        cluster = self.primary_cluster if role == "primary" else self.secondary_cluster
        # An explicit (empty) instance group, so per-instance tuning later needs no new group.
        instance_parameters = aws.rds.ParameterGroup(
            f"{name}-{role}-instance-params",
            name=regional_name(suffix, region, "instance-params"),
            family=aurora.parameter_group_family(args.engine_version),
            description=f"aurora-dr {suffix}: instance parameters",
            opts=opts,
        )
        zones = aurora.instance_zones(placement.availability_zones, sizing.instances_per_region)
        return [
            aws.rds.ClusterInstance(
                f"{name}-{role}-instance-{index + 1}",
                identifier=regional_name(suffix, region, f"db{index + 1}"),
                cluster_identifier=cluster.id,
                engine=aurora.ENGINE,
                engine_version=args.engine_version,
                instance_class=sizing.instance_class,
                availability_zone=zone,
                db_parameter_group_name=instance_parameters.name,
                publicly_accessible=False,
                # Security Hub RDS.35 asks for automatic minor upgrades; members of a global
                # database must run the same minor version and are upgraded together through
                # the global cluster, so a per-instance upgrade stays off.
                auto_minor_version_upgrade=False,
                ca_cert_identifier=aurora.CA_CERTIFICATE_IDENTIFIER,
                # Tier 0 for the first instance, so a local failover prefers it, then the others.
                promotion_tier=index,
                performance_insights_enabled=sizing.performance_insights,
                performance_insights_kms_key_id=(
                    placement.kms_key_arn if sizing.performance_insights else None
                ),
                performance_insights_retention_period=(
                    sizing.performance_insights_retention_days
                    if sizing.performance_insights
                    else None
                ),
                monitoring_interval=sizing.monitoring_interval_seconds,
                monitoring_role_arn=self.monitoring_role_arn,
                copy_tags_to_snapshot=True,
                opts=opts,
            )
            for index, zone in enumerate(zones)
        ]
