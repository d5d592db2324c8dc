"""GlobalAurora: the Aurora PostgreSQL global database, its two member clusters and credentials."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.network import Network
from components.region_key import RegionKey
from decisions import aurora
from decisions.iam import assume_role_policy
from stack.account import Account
from stack.config import DatabaseSettings
from stack.naming import Namer
from stack.regions import Region
from stack.roles import DR, PRIMARY, Pair, Role
from stack.sizing import Sizing

# Membership in the global cluster is runtime state after day one (switchover, failover and
# detach-and-promote all change it), and the master password belongs to the rotation Lambda.
MEMBERSHIP_FIELDS = ["globalClusterIdentifier", "replicationSourceIdentifier"]
# The engine version is the global cluster's: upgrading it, "the provider will attempt to in-place
# upgrade the engine versions of all associated clusters", and a member that also diffs on it
# fails with "Provider produced inconsistent final plan"; pulumi-aws 7.51.1's GlobalCluster docs
# ("Upgrading Engine Versions") put `ignore_changes=["engineVersion"]` on the member clusters. An
# instance's own engine version cannot upgrade it either ("it must be done on the rds.Cluster",
# ClusterInstance docs), so the instances follow their cluster the same way.
ENGINE_VERSION_FIELDS = ["engineVersion"]
# The member clusters' part of their resources' logical names (so of their URNs): the DR
# region's cluster is the global database's secondary.
MEMBER_NAMES: dict[Role, str] = {PRIMARY: "primary", DR: "secondary"}
# At least two characters of each class, so every generated password meets any complexity rule.
PASSWORD_MIN_PER_CLASS = 2


def _serverless_scaling(
    sizing: Sizing,
) -> aws.rds.ClusterServerlessv2ScalingConfigurationArgs | None:
    """Each member cluster's Serverless v2 bounds, or None for provisioned instances (prod
    registers none). Both clusters get the same bounds, so the DR instance can grow as large as
    the writer it may replace. No `seconds_until_auto_pause`: a global database never pauses."""
    if sizing.serverless is None:
        return None
    return aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
        min_capacity=sizing.serverless.min_acu, max_capacity=sizing.serverless.max_acu
    )


@dataclass(frozen=True)
class AuroraMember:
    """One member cluster of the global database, in its region, with its instances."""

    region: Region
    cluster: aws.rds.Cluster
    instances: list[aws.rds.ClusterInstance]
    subnet_group_name: pulumi.Output[str]
    """The member's DB subnet group (the backup verifier restores into it)."""


@dataclass(frozen=True)
class GlobalAuroraArgs:
    """Inputs of `GlobalAurora`."""

    namer: Namer
    sizing: Sizing
    account: Account
    database: DatabaseSettings
    networks: Pair[Network]
    """Each member's subnets, AZs and database security group, in its region."""
    keys: Pair[RegionKey]
    """Each member's storage, logs, Performance Insights and secret copy are under its region's
    key."""


class GlobalAurora(pulumi.ComponentResource):
    """Global cluster; primary cluster + instances in the primary region; secondary cluster +
    instances in the DR region; per-region parameter and subnet groups and encrypted log groups;
    the enhanced-monitoring role; the generated master password and its Secrets Manager secret,
    replicated to the DR region with the DR key."""

    members: Pair[AuroraMember]

    def __init__(
        self, name: str, args: GlobalAuroraArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:GlobalAurora", name, None, opts)
        if aurora.windows_overlap(args.sizing.backup_window, args.sizing.maintenance_window):
            raise ValueError("the sizing's backup and maintenance windows overlap")
        self._name, self._args = name, args
        self._primary_opts = self._opts(args.networks.primary.region)
        self._master_password()
        self._global_cluster()
        self._monitoring_role()
        primary = self._member(PRIMARY, depends_on=[])
        # The secondary can only attach once the primary has a writer instance (tf-aws#26030).
        self.members = Pair(primary, self._member(DR, depends_on=primary.instances))
        self._secret()
        self.global_writer_endpoint = self.global_cluster.endpoint
        self.register_outputs(
            {
                "globalClusterId": self.global_cluster.id,
                "globalWriterEndpoint": self.global_cluster.endpoint,
                "primaryClusterArn": self.members.primary.cluster.arn,
                "secondaryClusterArn": self.members.dr.cluster.arn,
                "secretArn": self.secret.arn,
            }
        )

    def exports(self) -> dict[str, pulumi.Output[str]]:
        """Stack outputs: the global cluster, the writer and reader endpoint of each member (by
        role: `primaryClusterEndpoint`, `drReaderEndpoint`, ...) and the secret."""
        outputs = {
            "globalClusterId": self.global_cluster.id,
            "globalWriterEndpoint": self.global_writer_endpoint,
        }
        for role, member in self.members.items():
            outputs[f"{role}ClusterEndpoint"] = member.cluster.endpoint
            outputs[f"{role}ReaderEndpoint"] = member.cluster.reader_endpoint
        outputs["secretArn"] = self.secret.arn
        return outputs

    def _opts(self, region: Region) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=region.provider)

    def _master_password(self) -> None:
        # RDS-managed master passwords are not supported for global clusters: generate one here.
        self.master_password = random.RandomPassword(
            f"{self._name}-master-password",
            length=aurora.PASSWORD_LENGTH,
            special=True,
            override_special=aurora.PASSWORD_SPECIAL_CHARACTERS,
            min_lower=PASSWORD_MIN_PER_CLASS,
            min_upper=PASSWORD_MIN_PER_CLASS,
            min_numeric=PASSWORD_MIN_PER_CLASS,
            min_special=PASSWORD_MIN_PER_CLASS,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _global_cluster(self) -> None:
        args = self._args
        self.global_cluster = aws.rds.GlobalCluster(
            f"{self._name}-global",
            global_cluster_identifier=args.namer.name("global"),
            engine=aurora.ENGINE,
            engine_version=args.database.engine_version,
            database_name=args.database.database_name,
            storage_encrypted=True,
            deletion_protection=args.sizing.deletion_protection,
            opts=self._primary_opts.merge(pulumi.ResourceOptions(protect=args.sizing.protect)),
        )

    def _monitoring_role(self) -> None:
        self.monitoring_role_arn: pulumi.Output[str] | None = None
        if self._args.sizing.monitoring_interval_seconds <= 0:
            return
        monitoring_role = aws.iam.Role(
            f"{self._name}-monitoring-role",
            name=self._args.namer.name("rds-monitoring"),
            assume_role_policy=json.dumps(assume_role_policy("monitoring.rds.amazonaws.com")),
            managed_policy_arns=[
                f"arn:{self._args.account.partition}:iam::aws:policy/service-role/"
                "AmazonRDSEnhancedMonitoringRole"
            ],
            opts=self._primary_opts,
        )
        self.monitoring_role_arn = monitoring_role.arn

    def _member(self, role: Role, depends_on: Sequence[pulumi.Resource]) -> AuroraMember:
        network = self._args.networks[role]
        subnet_group = aws.rds.SubnetGroup(
            f"{self._name}-{MEMBER_NAMES[role]}-subnets",
            name=self._args.namer.regional(network.region.name, "db-subnets"),
            description=(
                f"aurora-dr {self._args.namer.suffix}: private isolated subnets of "
                f"{network.region.name}"
            ),
            subnet_ids=list(network.subnet_ids),
            opts=self._opts(network.region),
        )
        cluster = self._cluster(role, subnet_group, depends_on)
        return AuroraMember(
            region=network.region,
            cluster=cluster,
            instances=self._instances(role, cluster),
            subnet_group_name=subnet_group.name,
        )

    def _cluster(
        self, role: Role, subnet_group: aws.rds.SubnetGroup, depends_on: Sequence[pulumi.Resource]
    ) -> aws.rds.Cluster:
        args, sizing, network = self._args, self._args.sizing, self._args.networks[role]
        region, key_arn = network.region, args.keys[role].arn
        logical = f"{self._name}-{MEMBER_NAMES[role]}"
        cluster_id = args.namer.regional(region.name, "cluster")
        parameters = self._cluster_parameters(role)
        # Created before the cluster so RDS writes its exported logs into an encrypted group with
        # a retention, instead of creating an unencrypted one that never expires.
        log_group = aws.cloudwatch.LogGroup(
            f"{logical}-postgresql-logs",
            name=f"/aws/rds/cluster/{cluster_id}/postgresql",
            retention_in_days=sizing.log_retention_days,
            kms_key_id=key_arn,
            opts=self._opts(region),
        )
        primary = role == PRIMARY
        return aws.rds.Cluster(
            f"{logical}-cluster",
            cluster_identifier=cluster_id,
            engine=aurora.ENGINE,
            engine_version=args.database.engine_version,
            global_cluster_identifier=self.global_cluster.id,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[network.db_security_group.id],
            db_cluster_parameter_group_name=parameters.name,
            port=aurora.POSTGRES_PORT,
            storage_encrypted=True,
            kms_key_id=key_arn,
            backup_retention_period=sizing.backup_retention_days,
            preferred_backup_window=sizing.backup_window,
            preferred_maintenance_window=sizing.maintenance_window,
            enabled_cloudwatch_logs_exports=["postgresql"],
            iam_database_authentication_enabled=True,
            copy_tags_to_snapshot=True,
            deletion_protection=sizing.deletion_protection,
            skip_final_snapshot=sizing.skip_final_snapshot,
            final_snapshot_identifier=None if sizing.skip_final_snapshot else f"{cluster_id}-final",
            # The secondary takes none of the credentials: it inherits them from the global
            # cluster, and names the primary's region instead.
            database_name=args.database.database_name if primary else None,
            master_username=args.database.master_username if primary else None,
            master_password=self.master_password.result if primary else None,
            source_region=None if primary else args.networks.primary.region.name,
            serverlessv2_scaling_configuration=_serverless_scaling(sizing),
            opts=self._opts(region).merge(
                pulumi.ResourceOptions(
                    protect=sizing.protect,
                    ignore_changes=[
                        *MEMBERSHIP_FIELDS,
                        *ENGINE_VERSION_FIELDS,
                        *(["masterPassword"] if primary else []),
                    ],
                    depends_on=[*depends_on, log_group],
                )
            ),
        )

    def _cluster_parameters(self, role: Role) -> aws.rds.ClusterParameterGroup:
        args, region = self._args, self._args.networks[role].region
        return aws.rds.ClusterParameterGroup(
            f"{self._name}-{MEMBER_NAMES[role]}-cluster-params",
            name=args.namer.regional(region.name, "cluster-params"),
            family=aurora.parameter_group_family(args.database.engine_version),
            description=f"aurora-dr {args.namer.suffix}: TLS only, slow-query logging, managed RPO",
            parameters=[
                aws.rds.ClusterParameterGroupParameterArgs(
                    name=p.name, value=p.value, apply_method=p.apply_method
                )
                for p in aurora.cluster_parameters(args.sizing)
            ],
            opts=self._opts(region),
        )

    def _instances(self, role: Role, cluster: aws.rds.Cluster) -> list[aws.rds.ClusterInstance]:
        args, sizing, network = self._args, self._args.sizing, self._args.networks[role]
        region, key_arn = network.region, args.keys[role].arn
        logical = f"{self._name}-{MEMBER_NAMES[role]}"
        # An explicit (empty) instance group, so per-instance tuning later needs no new group.
        instance_parameters = aws.rds.ParameterGroup(
            f"{logical}-instance-params",
            name=args.namer.regional(region.name, "instance-params"),
            family=aurora.parameter_group_family(args.database.engine_version),
            description=f"aurora-dr {args.namer.suffix}: instance parameters",
            opts=self._opts(region),
        )
        insights = sizing.performance_insights
        zones = aurora.instance_zones(network.availability_zones, sizing.instances_per_region)
        return [
            aws.rds.ClusterInstance(
                f"{logical}-instance-{index + 1}",
                identifier=args.namer.regional(region.name, f"db{index + 1}"),
                cluster_identifier=cluster.id,
                # The instance's engine input is typed by the provider's enum of engine names.
                engine=aws.rds.EngineType(aurora.ENGINE),
                engine_version=args.database.engine_version,
                instance_class=sizing.instance_class,
                availability_zone=zone,
                db_parameter_group_name=instance_parameters.name,
                publicly_accessible=False,
                # On, with the same value on every member (Security Hub RDS.13 judges each
                # instance by this flag). It is inert here: for an instance of a global database
                # cluster "the setting has no effect" (Aurora User Guide, global database
                # limitations), and AWS Config's rds-automatic-minor-version-upgrade-enabled page
                # says the rule "does not account for ... Aurora clusters in a Global Database".
                # Minor and major upgrades are run on purpose (README, "Upgrading the engine").
                auto_minor_version_upgrade=True,
                ca_cert_identifier=aurora.CA_CERTIFICATE_IDENTIFIER,
                # Tier 0 for the first instance, so a local failover prefers it, then the others.
                promotion_tier=index,
                performance_insights_enabled=insights,
                performance_insights_kms_key_id=key_arn if insights else None,
                performance_insights_retention_period=(
                    sizing.performance_insights_retention_days if insights else None
                ),
                monitoring_interval=sizing.monitoring_interval_seconds,
                monitoring_role_arn=self.monitoring_role_arn,
                copy_tags_to_snapshot=True,
                opts=self._opts(region).merge(
                    pulumi.ResourceOptions(ignore_changes=ENGINE_VERSION_FIELDS)
                ),
            )
            for index, zone in enumerate(zones)
        ]

    def _secret(self) -> None:
        args = self._args
        self.secret = aws.secretsmanager.Secret(
            f"{self._name}-master-secret",
            name=args.namer.name("master"),
            description=(
                "aurora-dr master credentials; host is the global writer endpoint. Rotated by "
                "the stack's rotation function."
            ),
            kms_key_id=args.keys[PRIMARY].arn,
            recovery_window_in_days=args.sizing.secret_recovery_window_days,
            replicas=[
                aws.secretsmanager.SecretReplicaArgs(
                    region=self.members.dr.region.name, kms_key_id=args.keys[DR].arn
                )
            ],
            opts=self._primary_opts,
        )
        self.secret_version = aws.secretsmanager.SecretVersion(
            f"{self._name}-master-secret-value",
            secret_id=self.secret.id,
            secret_string=pulumi.Output.json_dumps(
                {
                    "engine": "postgres",
                    "host": self.global_cluster.endpoint,
                    "port": aurora.POSTGRES_PORT,
                    "username": args.database.master_username,
                    "password": self.master_password.result,
                    "dbname": args.database.database_name,
                    "globalClusterIdentifier": self.global_cluster.global_cluster_identifier,
                }
            ),
            # After day one the rotation function owns the value.
            opts=self._primary_opts.merge(pulumi.ResourceOptions(ignore_changes=["secretString"])),
        )
