"""DrAutomation: the five DR Lambda functions, their layer, roles, schedules and triggers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import lambda_code
from components.alarm import metric_alarm
from components.backup_bucket import BackupBucket
from components.backups import Backups
from components.global_aurora import GlobalAurora
from components.monitoring import Monitoring
from components.network import Network
from components.peer_watch_ticker import PeerWatchTicker, PeerWatchTickerArgs
from components.region_key import RegionKey
from decisions.alarms import backup_verification_alarm_spec, function_error_alarm_spec
from decisions.functions import (
    ARCHITECTURE,
    FUNCTIONS_BY_KEY,
    RUNTIME,
    FunctionSpec,
    alarm_state_change_pattern,
    function_arn,
    rate_expression,
)
from decisions.iam import StackArns, assume_role_policy, policy_for, snapshot_export_policy
from lambdas.drcommon import contract
from lambdas.drcommon.contract import (
    LOCK_TABLE,
    PEER_PROBE_INVOKE_ALLOWANCE_SECONDS,
    REMOTE_CALL_BUDGET,
    VERIFIER_RESOURCES,
    CoordinatorEnv,
    DrainerEnv,
    HealthCheckerEnv,
    RotationEnv,
    VerifierEnv,
    WatchEnv,
)
from stack.account import Account
from stack.naming import Namer
from stack.regions import Region
from stack.roles import DR, PRIMARY, Pair, Role
from stack.sizing import Sizing

Environment = dict[str, pulumi.Input[str]]


@dataclass(frozen=True)
class RegionContext:
    """What one region offers the functions placed there."""

    region: Region
    kms_key_arn: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    lambda_security_group_id: pulumi.Input[str]
    db_security_group_id: pulumi.Input[str]
    db_subnet_group_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    cluster_endpoint: pulumi.Input[str]
    reader_endpoint: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    probe_alarm: aws.cloudwatch.MetricAlarm
    """Alarm on the contract's peer-writer metric in this region ('peer writer unreachable')."""
    writer_alarm: aws.cloudwatch.MetricAlarm
    """Alarm on the contract's writer metric in this region."""
    failover_events_rule: aws.cloudwatch.EventRule
    backup_bucket: BackupBucket
    """The region's backup bucket (reports; the snapshot exports of this region's snapshots)."""

    @property
    def role(self) -> Role:
        """The region's role."""
        return self.region.role


@dataclass(frozen=True)
class DrAutomationArgs:
    """Inputs of `DrAutomation`: what the functions of both regions work with."""

    namer: Namer
    sizing: Sizing
    account: Account
    keys: Pair[RegionKey]
    networks: Pair[Network]
    database: GlobalAurora
    monitoring: Pair[Monitoring]
    backups: Backups
    """Each region's backup bucket: the verifier's reports, the snapshot exports."""


def region_context(args: DrAutomationArgs, role: Role) -> RegionContext:
    """The view of one region the functions placed there get, from that region's components."""
    network, member, monitoring = (
        args.networks[role],
        args.database.members[role],
        args.monitoring[role],
    )
    return RegionContext(
        region=network.region,
        kms_key_arn=args.keys[role].arn,
        subnet_ids=network.subnet_ids,
        lambda_security_group_id=network.lambda_security_group.id,
        db_security_group_id=network.db_security_group.id,
        db_subnet_group_name=member.subnet_group_name,
        cluster_arn=member.cluster.arn,
        cluster_endpoint=member.cluster.endpoint,
        reader_endpoint=member.cluster.reader_endpoint,
        topic_arn=monitoring.topic.arn,
        probe_alarm=monitoring.health_alarms[contract.PEER_WRITER_AVAILABLE.name],
        writer_alarm=monitoring.health_alarms[contract.WRITER_AVAILABLE.name],
        failover_events_rule=monitoring.failover_events_rule,
        backup_bucket=args.backups.buckets[role],
    )


# --- environments (identifiers and thresholds only, never secrets) ------------------------------
# One builder per function, each a single table keyed by the function's environment group in
# `lambdas/drcommon/contract.py` (the names its `settings.py` reads; spelled only there).


def drainer_environment(
    args: DrAutomationArgs, here: RegionContext, peer: RegionContext
) -> Environment:
    """The connection drainer's environment."""
    return {
        DrainerEnv.LOCAL_REGION: here.region.name,
        DrainerEnv.PEER_REGION: peer.region.name,
        DrainerEnv.CLUSTER_ENDPOINT: here.cluster_endpoint,
        DrainerEnv.PEER_CLUSTER_ENDPOINT: peer.cluster_endpoint,
        DrainerEnv.DB_SECRET_ID: args.database.secret.name,
    }


def health_checker_environment(
    args: DrAutomationArgs, here: RegionContext, peer: RegionContext
) -> Environment:
    """The health checker's environment."""
    return {
        HealthCheckerEnv.ENVIRONMENT_SUFFIX: args.namer.suffix,
        HealthCheckerEnv.LOCAL_REGION: here.region.name,
        HealthCheckerEnv.PEER_REGION: peer.region.name,
        HealthCheckerEnv.DB_SECRET_ID: args.database.secret.name,
        HealthCheckerEnv.CLUSTER_ENDPOINT: here.cluster_endpoint,
        HealthCheckerEnv.READER_ENDPOINT: here.reader_endpoint,
        HealthCheckerEnv.PEER_CLUSTER_ENDPOINT: peer.cluster_endpoint,
        HealthCheckerEnv.PROBE_TIMEOUT_SECONDS: str(args.sizing.probe_timeout_seconds),
        HealthCheckerEnv.RUN_BUDGET_SECONDS: str(args.sizing.probe_run_budget_seconds),
    }


def peer_probe_timeout_seconds(sizing: Sizing) -> float:
    """Read timeout of a synchronous peer probe: the checker's probe timeout and Lambda's part."""
    return sizing.probe_timeout_seconds + PEER_PROBE_INVOKE_ALLOWANCE_SECONDS


def health_probe_timeout_seconds(sizing: Sizing) -> float:
    """Read timeout of the health run's synchronous invoke of the checker: the checker's run
    budget and Lambda's part."""
    return sizing.probe_run_budget_seconds + PEER_PROBE_INVOKE_ALLOWANCE_SECONDS


def remote_budget_environment(names: type[CoordinatorEnv] | type[WatchEnv]) -> Environment:
    """The remote call budget, registered where the plan reads it (`REMOTE_CALL_BUDGET`)."""
    return {
        names.REMOTE_CONNECT_TIMEOUT_SECONDS: str(REMOTE_CALL_BUDGET.connect_timeout_seconds),
        names.REMOTE_READ_TIMEOUT_SECONDS: str(REMOTE_CALL_BUDGET.read_timeout_seconds),
        names.REMOTE_MAX_ATTEMPTS: str(REMOTE_CALL_BUDGET.max_attempts),
    }


def watch_environment(
    args: DrAutomationArgs,
    here: RegionContext,
    peer: RegionContext,
    checker_name: pulumi.Input[str],
    coordinator_name: pulumi.Input[str],
) -> Environment:
    """The peer watch's environment: the local checker it asks for probes, the local coordinator
    it pages, the sizing's cadence, window and in-region excuse, and what its health run needs
    (the metrics' environment, the checker's invoke timeout)."""
    sizing = args.sizing
    return {
        WatchEnv.ENVIRONMENT_SUFFIX: args.namer.suffix,
        WatchEnv.PEER_REGION: peer.region.name,
        WatchEnv.GLOBAL_CLUSTER_ID: args.database.global_cluster.id,
        WatchEnv.HEALTH_CHECKER_FUNCTION_NAME: checker_name,
        WatchEnv.COORDINATOR_FUNCTION_NAME: coordinator_name,
        WatchEnv.PROBE_CADENCE_SECONDS: str(sizing.peer_probe_cadence_seconds),
        WatchEnv.CONFIRMATION_WINDOW_SECONDS: str(sizing.confirmation_window_seconds),
        # Executions start on the health check schedule.
        WatchEnv.EXECUTION_SECONDS: str(sizing.health_check_rate_minutes * 60),
        WatchEnv.PEER_PROBE_TIMEOUT_SECONDS: str(peer_probe_timeout_seconds(sizing)),
        WatchEnv.HEALTH_PROBE_TIMEOUT_SECONDS: str(health_probe_timeout_seconds(sizing)),
        WatchEnv.IN_REGION_FAILOVER_EXCUSE_SECONDS: str(sizing.in_region_failover_excuse_seconds),
        **remote_budget_environment(WatchEnv),
    }


def rotation_environment(
    args: DrAutomationArgs, here: RegionContext, peer: RegionContext
) -> Environment:
    """The secret rotation's environment: it reaches the writer through the secret's host (the
    global writer endpoint), so it needs no RDS API and no endpoint of either region's RDS."""
    return {RotationEnv.LOCAL_REGION: here.region.name}


def verifier_environment(
    args: DrAutomationArgs,
    here: RegionContext,
    peer: RegionContext,
    checker_name: pulumi.Input[str],
    export_role: aws.iam.Role | None = None,
) -> Environment:
    """The backup verifier's environment. Its own region's key always: every copy from the
    other region and every restore is encrypted with it, and RDS rejects a cross-region copy of
    an encrypted snapshot that names no key of the destination region. Whether it copies and
    restores is the sizing's; the restore test's targets, and the region's health checker that
    probes the restored cluster with SQL, only when it runs. Its region's bucket for the
    reports; the snapshot export's role, buckets and keys when the sizing exports
    (`export_role`)."""
    sizing = args.sizing
    environment: Environment = {
        VerifierEnv.GLOBAL_CLUSTER_ID: args.database.global_cluster.id,
        VerifierEnv.ENVIRONMENT_SUFFIX: args.namer.suffix,
        VerifierEnv.PEER_REGION: peer.region.name,
        VerifierEnv.SNS_TOPIC_ARN: here.topic_arn,
        VerifierEnv.DR_KMS_KEY_ID: here.kms_key_arn,
        VerifierEnv.COPY_SNAPSHOT_ENABLED: "true" if sizing.copy_snapshot_to_dr else "false",
        VerifierEnv.RESOURCE_PREFIX: VERIFIER_RESOURCES.prefix,
        VerifierEnv.MAX_SNAPSHOT_AGE_HOURS: str(sizing.backup_max_age_hours),
        VerifierEnv.RESTORE_TEST_ENABLED: "true" if sizing.restore_test else "false",
        VerifierEnv.REPORT_BUCKET: here.backup_bucket.name,
    }
    aws_backup = args.backups.aws_backup
    if aws_backup is not None and sizing.aws_backup is not None:
        # The writer's plan copies into this region's vault: the verifier checks that copy.
        environment[VerifierEnv.BACKUP_VAULT_NAME] = aws_backup.vaults[here.role].name
        environment[VerifierEnv.BACKUP_COPY_MAX_AGE_HOURS] = str(
            sizing.aws_backup.copy_max_age_hours
        )
    if export_role is not None and sizing.snapshot_export_every_days is not None:
        regions = (here, peer)
        environment[VerifierEnv.SNAPSHOT_EXPORT_EVERY_DAYS] = str(sizing.snapshot_export_every_days)
        environment[VerifierEnv.SNAPSHOT_EXPORT_ROLE_ARN] = export_role.arn
        environment[VerifierEnv.SNAPSHOT_EXPORT_BUCKETS] = pulumi.Output.json_dumps(
            {ctx.region.name: ctx.backup_bucket.name for ctx in regions}
        )
        environment[VerifierEnv.SNAPSHOT_EXPORT_KMS_KEYS] = pulumi.Output.json_dumps(
            {ctx.region.name: ctx.kms_key_arn for ctx in regions}
        )
    if sizing.restore_test:
        environment[VerifierEnv.HEALTH_CHECKER_FUNCTION_NAME] = checker_name
        environment[VerifierEnv.RESTORE_DB_SUBNET_GROUP] = here.db_subnet_group_name
        environment[VerifierEnv.RESTORE_SECURITY_GROUP_IDS] = here.db_security_group_id
        environment[VerifierEnv.RESTORE_INSTANCE_CLASS] = sizing.restore_test_instance_class
    return environment


@dataclass(frozen=True)
class CoordinatorPeers:
    """What a coordinator invokes and locks, already deployed: by role."""

    drainer_names: Pair[pulumi.Output[str]]
    health_checker_names: Pair[pulumi.Output[str]]
    health_run_names: Pair[str]
    """The peer watches (their health run), by the names they will have: each watch pages its
    region's coordinator, so the coordinators cannot wait for the watches."""
    lock_table_names: Pair[pulumi.Output[str]]
    """Both regions' lock tables: a role change is locked in its target region's."""


def coordinator_environment(
    args: DrAutomationArgs, here: RegionContext, peer: RegionContext, peers: CoordinatorPeers
) -> Environment:
    """The failover coordinator's environment."""
    return {
        CoordinatorEnv.GLOBAL_CLUSTER_ID: args.database.global_cluster.id,
        CoordinatorEnv.PEER_REGION: peer.region.name,
        CoordinatorEnv.ENVIRONMENT_SUFFIX: args.namer.suffix,
        CoordinatorEnv.LOCAL_PROBE_ALARM_NAME: here.probe_alarm.name,
        CoordinatorEnv.LOCAL_WRITER_ALARM_NAME: here.writer_alarm.name,
        CoordinatorEnv.PEER_PROBE_ALARM_NAME: peer.probe_alarm.name,
        CoordinatorEnv.PEER_WRITER_ALARM_NAME: peer.writer_alarm.name,
        CoordinatorEnv.LOCAL_DRAINER_FUNCTION_NAME: peers.drainer_names[here.role],
        CoordinatorEnv.PEER_DRAINER_FUNCTION_NAME: peers.drainer_names[peer.role],
        CoordinatorEnv.LOCAL_LOCK_TABLE_NAME: peers.lock_table_names[here.role],
        CoordinatorEnv.PEER_LOCK_TABLE_NAME: peers.lock_table_names[peer.role],
        CoordinatorEnv.SNS_TOPIC_ARN: here.topic_arn,
        CoordinatorEnv.LAG_BUDGET_MS: str(args.sizing.failover_lag_budget_ms),
        CoordinatorEnv.FAILED_LOCK_BLOCK_MINUTES: str(args.sizing.failed_lock_block_minutes),
        CoordinatorEnv.POLL_INTERVAL_SECONDS: str(args.sizing.failover_poll_seconds),
        CoordinatorEnv.LOCAL_HEALTH_CHECKER_FUNCTION_NAME: peers.health_checker_names[here.role],
        CoordinatorEnv.PEER_HEALTH_CHECKER_FUNCTION_NAME: peers.health_checker_names[peer.role],
        CoordinatorEnv.LOCAL_HEALTH_RUN_FUNCTION_NAME: peers.health_run_names[here.role],
        CoordinatorEnv.PEER_HEALTH_RUN_FUNCTION_NAME: peers.health_run_names[peer.role],
        CoordinatorEnv.PEER_PROBE_TIMEOUT_SECONDS: str(peer_probe_timeout_seconds(args.sizing)),
        CoordinatorEnv.IN_REGION_FAILOVER_EXCUSE_SECONDS: str(
            args.sizing.in_region_failover_excuse_seconds
        ),
        **remote_budget_environment(CoordinatorEnv),
    }


# --- the component ------------------------------------------------------------------------------


class DrAutomation(pulumi.ComponentResource):
    """Coordinator, health checker and drainer in both regions, secret rotation in the primary
    region, backup verifier in the DR region; one layer per region; a role per function with
    least privilege; KMS-encrypted log groups; schedules, alarm and RDS-event triggers; an error
    alarm and an on-failure destination per function; the coordinator's lock tables."""

    functions: dict[str, dict[str, aws.lambda_.Function]]
    """Deployed functions: {function key: {AWS region name: function}}."""

    def __init__(
        self, name: str, args: DrAutomationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:DrAutomation", name, None, opts)
        self._name, self._args = name, args
        self.contexts = Pair(region_context(args, PRIMARY), region_context(args, DR))
        self.functions = {}
        self.layers = self.contexts.map(self._layer)
        self._deploy_functions()
        self._health_check_schedules()
        self._coordinator_triggers()
        self._backup_schedule()
        self._backup_alarm()
        self._rotation_schedule()
        self.register_outputs({"functionArns": self._function_arns()})

    def exports(self) -> dict[str, pulumi.Input[object]]:
        """Stack outputs: `functionArns` ({function key: {region: ARN}}), `lockTableNames`
        ({region: table name}) and `environmentSuffix` (the metrics' Environment dimension):
        what `drctl` needs to read the lock and the metrics."""
        return {
            "functionArns": self._function_arns(),
            "lockTableNames": {
                ctx.region.name: table.name
                for ctx, table in zip(self.contexts, self.lock_tables, strict=True)
            },
            "environmentSuffix": self._args.namer.suffix,
        }

    def _function_arns(self) -> dict[str, dict[str, pulumi.Output[str]]]:
        return {
            key: {region: function.arn for region, function in by_region.items()}
            for key, by_region in self.functions.items()
        }

    # --- helpers -------------------------------------------------------------------------------

    def _opts(self, ctx: RegionContext, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=ctx.region.provider, **kwargs)

    def _function_name(self, spec: FunctionSpec, ctx: RegionContext) -> str:
        """Physical name of a function, known before it exists (see `function_arn`)."""
        return self._args.namer.regional(ctx.region.name, spec.short_name)

    def _arn_of(self, key: str, ctx: RegionContext) -> str:
        name = self._function_name(FUNCTIONS_BY_KEY[key], ctx)
        return function_arn(
            self._args.account.partition, ctx.region.name, self._args.account.id, name
        )

    def _logical(self, spec: FunctionSpec, ctx: RegionContext, part: str) -> str:
        return f"{self._name}-{ctx.role}-{spec.short_name}-{part}"

    def _deployed(self, key: str, role: Role) -> aws.lambda_.Function:
        return self.functions[key][self.contexts[role].region.name]

    def _names_of(self, key: str) -> Pair[pulumi.Output[str]]:
        return Pair(self._deployed(key, PRIMARY).name, self._deployed(key, DR).name)

    # --- resources -----------------------------------------------------------------------------

    def _layer(self, ctx: RegionContext) -> aws.lambda_.LayerVersion:
        return aws.lambda_.LayerVersion(
            f"{self._name}-{ctx.role}-layer",
            layer_name=self._args.namer.regional(ctx.region.name, "layer"),
            description="aurora-dr shared code (drcommon), pinned pg8000 + Powertools, RDS CA",
            code=lambda_code.layer_archive(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            opts=self._opts(ctx),
        )

    def _deploy_functions(self) -> None:
        """Every function in its regions, in dependency order: the coordinators of both regions
        invoke both drainers and both health checkers and lock in both regions' tables."""
        args, (primary, dr) = self._args, self.contexts
        for here, peer in ((primary, dr), (dr, primary)):
            self._deploy("connection_drainer", here, drainer_environment(args, here, peer))
            self._deploy("health_checker", here, health_checker_environment(args, here, peer))
        self._deploy("secret_rotation", primary, rotation_environment(args, primary, dr))
        self.export_role = self._snapshot_export_role()
        drainers, checkers = self._names_of("connection_drainer"), self._names_of("health_checker")
        verifier = verifier_environment(args, dr, primary, checkers.dr, self.export_role)
        self._deploy("backup_verifier", dr, verifier)
        self.lock_tables = self.contexts.map(self._lock_table)
        tables = self.lock_tables.map(lambda table: table.name)
        watch = FUNCTIONS_BY_KEY["peer_watch"]
        runs = self.contexts.map(lambda ctx: self._function_name(watch, ctx))
        for here, peer in ((primary, dr), (dr, primary)):
            peers = CoordinatorPeers(drainers, checkers, runs, tables)
            environment = coordinator_environment(args, here, peer, peers)
            self._deploy("failover_coordinator", here, environment)
        coordinators = self._names_of("failover_coordinator")
        for here, peer in ((primary, dr), (dr, primary)):
            environment = watch_environment(
                args, here, peer, checkers[here.role], coordinators[here.role]
            )
            self._deploy("peer_watch", here, environment)

    def _snapshot_export_role(self) -> aws.iam.Role | None:
        """The role RDS assumes to write a snapshot export into the backup buckets, when the
        sizing exports (trust: "export.rds.amazonaws.com", Aurora user guide, exporting
        snapshot data to Amazon S3)."""
        if self._args.sizing.snapshot_export_every_days is None:
            return None
        primary = self.contexts.primary
        role = aws.iam.Role(
            f"{self._name}-snapshot-export-role",
            name=self._args.namer.name("snapshot-export"),
            description="aurora-dr: RDS writes snapshot exports into the backup buckets",
            assume_role_policy=json.dumps(assume_role_policy("export.rds.amazonaws.com")),
            opts=self._opts(primary),
        )
        ends = pulumi.Output.all(
            [ctx.backup_bucket.arn for ctx in self.contexts],
            [ctx.kms_key_arn for ctx in self.contexts],
        )
        aws.iam.RolePolicy(
            f"{self._name}-snapshot-export-policy",
            role=role.id,
            policy=ends.apply(lambda both: json.dumps(snapshot_export_policy(both[0], both[1]))),
            opts=self._opts(primary),
        )
        return role

    def _lock_table(self, ctx: RegionContext) -> aws.dynamodb.Table:
        return aws.dynamodb.Table(
            f"{self._name}-{ctx.role}-lock-table",
            name=self._args.namer.regional(ctx.region.name, "failover-lock"),
            billing_mode="PAY_PER_REQUEST",
            hash_key=LOCK_TABLE.partition_key,
            attributes=[
                aws.dynamodb.TableAttributeArgs(
                    name=LOCK_TABLE.partition_key, type=LOCK_TABLE.partition_key_type
                )
            ],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=LOCK_TABLE.ttl_attribute, enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=ctx.kms_key_arn
            ),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            deletion_protection_enabled=self._args.sizing.deletion_protection,
            opts=self._opts(ctx),
        )

    def _policy_arns(
        self, spec: FunctionSpec, ctx: RegionContext, log_group_arn: pulumi.Output[str]
    ) -> pulumi.Output[StackArns]:
        """Resolve every ARN the function's policy is scoped to, as a `StackArns`. Only the
        coordinator's policy waits for the alarms, drainers, health checkers and lock table."""
        args, peer = self._args, self.contexts.peer_of(ctx.role)
        arns: dict[str, pulumi.Input[object]] = {
            "global_cluster_arn": args.database.global_cluster.arn,
            "cluster_arns": [c.cluster_arn for c in self.contexts],
            "secret_arn": args.database.secret.arn,
            "local_key_arn": ctx.kms_key_arn,
            "peer_key_arn": peer.kms_key_arn,
            "log_group_arn": log_group_arn,
            "topic_arn": ctx.topic_arn,
            "coordinator_arn": self._arn_of("failover_coordinator", ctx),
        }
        if spec.key == "peer_watch":
            arns["health_checker_arns"] = [self._deployed("health_checker", ctx.role).arn]
        if spec.key == "backup_verifier":
            if args.sizing.restore_test:
                arns["health_checker_arns"] = [self._deployed("health_checker", ctx.role).arn]
            arns["report_bucket_arn"] = ctx.backup_bucket.arn
            if args.backups.aws_backup is not None:
                arns["backup_vault_arn"] = args.backups.aws_backup.vaults[ctx.role].arn
            if self.export_role is not None:
                arns["export_role_arn"] = self.export_role.arn
        if spec.key == "failover_coordinator":
            alarms = (ctx.probe_alarm, ctx.writer_alarm, peer.probe_alarm, peer.writer_alarm)
            arns["alarm_arns"] = [alarm.arn for alarm in alarms]
            arns["drainer_arns"] = [f.arn for f in self.functions["connection_drainer"].values()]
            arns["health_checker_arns"] = [f.arn for f in self.functions["health_checker"].values()]
            arns["health_run_arns"] = [self._arn_of("peer_watch", c) for c in self.contexts]
            arns["lock_table_arns"] = [table.arn for table in self.lock_tables]
        return pulumi.Output.all(**arns).apply(
            lambda resolved: StackArns(
                partition=args.account.partition,
                account_id=args.account.id,
                region=ctx.region.name,
                peer_region=peer.region.name,
                environment=args.namer.suffix,
                metric_namespace=contract.NAMESPACE,
                **resolved,
            )
        )

    def _deploy(self, key: str, ctx: RegionContext, environment: Environment) -> None:
        """One function: its log group, role and policy, the function, where its failed
        asynchronous invocations go, and its error alarm."""
        spec = FUNCTIONS_BY_KEY[key]
        if ctx.role not in spec.roles:
            raise ValueError(f"{key} is not placed in the {ctx.role} region")
        name = self._function_name(spec, ctx)
        # Created by the stack (not on first invocation) so it is encrypted and expires.
        log_group = aws.cloudwatch.LogGroup(
            self._logical(spec, ctx, "logs"),
            name=f"/aws/lambda/{name}",
            retention_in_days=self._args.sizing.log_retention_days,
            kms_key_id=ctx.kms_key_arn,
            opts=self._opts(ctx),
        )
        role = aws.iam.Role(
            self._logical(spec, ctx, "role"),
            name=name,
            description=f"aurora-dr {spec.key} in {ctx.region.name}: least privilege",
            assume_role_policy=json.dumps(assume_role_policy("lambda.amazonaws.com")),
            opts=self._opts(ctx),
        )
        policy = aws.iam.RolePolicy(
            self._logical(spec, ctx, "policy"),
            role=role.id,
            policy=self._policy_arns(spec, ctx, log_group.arn).apply(
                lambda arns: json.dumps(policy_for(spec.key, arns, spec.vpc))
            ),
            opts=self._opts(ctx),
        )
        function = self._function(spec, ctx, environment, role, log_group, policy)
        self._on_failure(spec, ctx, function)
        self.functions.setdefault(key, {})[ctx.region.name] = function

    def _function(
        self,
        spec: FunctionSpec,
        ctx: RegionContext,
        environment: Environment,
        role: aws.iam.Role,
        log_group: aws.cloudwatch.LogGroup,
        policy: aws.iam.RolePolicy,
    ) -> aws.lambda_.Function:
        vpc_config = None
        if spec.vpc:
            # Every private subnet (three AZs), so an AZ loss never strands the function.
            vpc_config = aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=list(ctx.subnet_ids),
                security_group_ids=[ctx.lambda_security_group_id],
            )
        return aws.lambda_.Function(
            self._logical(spec, ctx, "function"),
            name=self._function_name(spec, ctx),
            description=f"aurora-dr {spec.key} ({ctx.role} region)",
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=spec.handler,
            code=lambda_code.function_archive(spec.key),
            layers=[self.layers[ctx.role].arn],
            role=role.arn,
            timeout=spec.timeout_seconds,
            memory_size=spec.memory_mb,
            # None (test sizing) registers no reservation: the provider sets one with a separate
            # PutFunctionConcurrency call after CreateFunction, which a new account's reduced
            # quota refuses (terraform-provider-aws internal/service/lambda/function.go).
            reserved_concurrent_executions=self._args.sizing.reserved_concurrency.for_function(
                spec.key
            ),
            # Plain `str` keys on the wire (the contract's names are `str` members of an enum).
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={str(name): value for name, value in environment.items()}
            ),
            # The environment at rest under the region's key, not Lambda's AWS managed key
            # ("Securing Lambda environment variables", Lambda Developer Guide). The role may
            # decrypt with it (`decisions.iam.base_statements`); the deployer needs key access.
            kms_key_arn=ctx.kms_key_arn,
            vpc_config=vpc_config,
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON", log_group=log_group.name
            ),
            # A VPC-attached function can only be created once its role may create ENIs.
            opts=self._opts(ctx, depends_on=[policy, log_group]),
        )

    def _on_failure(self, spec: FunctionSpec, ctx: RegionContext, fn: aws.lambda_.Function) -> None:
        """Failed asynchronous invocations go to the region's topic; any error raises an alarm."""
        aws.lambda_.FunctionEventInvokeConfig(
            self._logical(spec, ctx, "async"),
            function_name=fn.name,
            maximum_retry_attempts=spec.max_async_retries,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=ctx.topic_arn
                )
            ),
            opts=self._opts(ctx),
        )
        error_alarm = function_error_alarm_spec(self._args.sizing, spec.short_name, fn.name)
        metric_alarm(
            self._logical(spec, ctx, "errors"),
            self._args.namer.regional(ctx.region.name, error_alarm.key),
            error_alarm,
            ctx.topic_arn,
            self._opts(ctx),
        )

    # --- triggers ------------------------------------------------------------------------------

    def _invoked_by_events(
        self,
        key: str,
        ctx: RegionContext,
        label: str,
        rule: aws.cloudwatch.EventRule,
        fixed_input: str | None = None,
    ) -> None:
        spec, function = FUNCTIONS_BY_KEY[key], self._deployed(key, ctx.role)
        aws.cloudwatch.EventTarget(
            self._logical(spec, ctx, f"{label}-target"),
            rule=rule.name,
            arn=function.arn,
            input=fixed_input,
            opts=self._opts(ctx),
        )
        aws.lambda_.Permission(
            self._logical(spec, ctx, f"{label}-permission"),
            action="lambda:InvokeFunction",
            function=function.name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
            opts=self._opts(ctx),
        )

    def _schedule(self, key: str, ctx: RegionContext, expression: str) -> aws.cloudwatch.EventRule:
        rule = self._schedule_rule(
            FUNCTIONS_BY_KEY[key], ctx, expression, f"Runs {key} {expression}"
        )
        self._invoked_by_events(key, ctx, "schedule", rule)
        return rule

    def _schedule_rule(
        self, spec: FunctionSpec, ctx: RegionContext, expression: str, description: str
    ) -> aws.cloudwatch.EventRule:
        """The EventBridge schedule rule named (logically and physically) after `spec`."""
        return aws.cloudwatch.EventRule(
            self._logical(spec, ctx, "schedule"),
            name=self._args.namer.regional(ctx.region.name, spec.short_name, "schedule"),
            description=description,
            schedule_expression=expression,
            opts=self._opts(ctx),
        )

    def _health_check_schedules(self) -> None:
        """Each region's health-check rule runs the peer watch's health run once a minute (it
        asks the region's health checker for the SQL probes and publishes the metrics), and
        starts that region's peer watch ticker (sub-minute probes of the peer writer) when the
        sizing runs one (`Sizing.peer_watch_ticker`)."""
        rate = rate_expression(self._args.sizing.health_check_rate_minutes, "minute")
        checker, watch = FUNCTIONS_BY_KEY["health_checker"], FUNCTIONS_BY_KEY["peer_watch"]
        for ctx in self.contexts:
            # The rule keeps the checker's name: the health check it schedules is the same.
            rule = self._schedule_rule(checker, ctx, rate, f"Runs the health check {rate}")
            self._invoked_by_events(
                watch.key, ctx, "health-run", rule, json.dumps(contract.HEALTH_RUN_EVENT)
            )
            if not self._args.sizing.peer_watch_ticker:
                continue
            PeerWatchTicker(
                self._logical(watch, ctx, "ticker"),
                PeerWatchTickerArgs(
                    region=ctx.region,
                    namer=self._args.namer,
                    partition=self._args.account.partition,
                    watch=self._deployed(watch.key, ctx.role),
                    tick_timeout_seconds=watch.timeout_seconds,
                    schedule_rule=rule,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _coordinator_triggers(self) -> None:
        """Each region's coordinator wakes when its probe alarm ('the writer in the other region
        is unreachable from here') fires, and on RDS failover events; its gates decide. Both
        regions, so the automation still works after a switchover has swapped the roles."""
        coordinator = FUNCTIONS_BY_KEY["failover_coordinator"]
        for ctx in self.contexts:
            alarm_rule = aws.cloudwatch.EventRule(
                self._logical(coordinator, ctx, "alarm-rule"),
                name=self._args.namer.regional(ctx.region.name, "peer-writer-lost"),
                description="The writer in the other region is unreachable from this region",
                event_pattern=ctx.probe_alarm.arn.apply(
                    lambda arn: json.dumps(alarm_state_change_pattern(arn))
                ),
                opts=self._opts(ctx),
            )
            self._invoked_by_events(coordinator.key, ctx, "alarm", alarm_rule)
            self._invoked_by_events(coordinator.key, ctx, "rds-events", ctx.failover_events_rule)

    def _backup_schedule(self) -> None:
        rate = rate_expression(self._args.sizing.backup_verify_rate_hours, "hour")
        self._schedule("backup_verifier", self.contexts.dr, rate)

    def _backup_alarm(self) -> None:
        """The verifier's own result, watched in its region: a stale or unverifiable backup,
        or a verifier that stopped reporting, pages that region's topic."""
        verifier, dr = FUNCTIONS_BY_KEY["backup_verifier"], self.contexts.dr
        # The verifier's service (its metrics' `service` dimension) is its package name.
        alarm = backup_verification_alarm_spec(
            self._args.sizing, self._args.namer.suffix, verifier.key
        )
        metric_alarm(
            self._logical(verifier, dr, "verification"),
            self._args.namer.regional(dr.region.name, alarm.key),
            alarm,
            dr.topic_arn,
            self._opts(dr),
        )

    def _rotation_prerequisites(self) -> list[pulumi.Resource]:
        """What the rotation function's first run needs in place: the secret's first value (it
        reads AWSCURRENT), the writer instances (it logs in and runs ALTER ROLE), the interface
        endpoints it calls without NAT (Secrets Manager, in its own region), and the
        security-group rules its ENIs use (HTTPS to the endpoints, PostgreSQL to the database).
        Without these as dependencies the first run only works by luck of timing."""
        args, rotation = self._args, FUNCTIONS_BY_KEY["secret_rotation"]
        network = args.networks.primary
        endpoints = [network.endpoints[service] for service in rotation.endpoint_services]
        return [
            args.database.secret_version,
            *args.database.members.primary.instances,
            *endpoints,
            *network.rules_of("lambda"),
        ]

    def _rotation_schedule(self) -> None:
        """Secrets Manager invokes the rotation function on the sizing's schedule."""
        rotation, primary = FUNCTIONS_BY_KEY["secret_rotation"], self.contexts.primary
        function, secret = self._deployed(rotation.key, PRIMARY), self._args.database.secret
        permission = aws.lambda_.Permission(
            self._logical(rotation, primary, "secretsmanager-permission"),
            action="lambda:InvokeFunction",
            function=function.name,
            principal="secretsmanager.amazonaws.com",
            source_arn=secret.arn,
            opts=self._opts(primary),
        )
        aws.secretsmanager.SecretRotation(
            self._logical(rotation, primary, "rotation"),
            secret_id=secret.id,
            rotation_lambda_arn=function.arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                automatically_after_days=self._args.sizing.secret_rotation_days
            ),
            # Creating the rotation runs the function at once either way: `false` still runs
            # its testSecret step ("Secrets Manager tests the rotation configuration by running
            # the testSecret step", RotateSecret API reference) against an AWSPENDING version
            # Secrets Manager makes for the test. `true` runs the four steps the function is
            # built and tested for, proves rotation works on day one instead of 30 days later,
            # and leaves the password Pulumi generated (kept in its state) invalid from then on.
            # The dependencies make that first run safe.
            rotate_immediately=True,
            opts=self._opts(
                primary, depends_on=[permission, function, *self._rotation_prerequisites()]
            ),
        )
