"""DrAutomation: the five DR Lambda functions, their layer, roles, schedules and triggers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import lambda_code
from components.alarm import metric_alarm
from decisions import alarms
from decisions import functions as automation
from decisions.functions import DR, PRIMARY, FunctionSpec, StackArns
from lambdas.drcommon import contract
from stack.naming import regional_name
from stack.sizing import Sizing


@dataclass(frozen=True)
class RegionContext:
    """What one region offers the functions placed there."""

    role: str
    region: str
    provider: aws.Provider
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
    rds_endpoint_url: pulumi.Input[str]
    """https URL of this VPC's RDS interface endpoint (endpoint-specific DNS name): how the
    other region's VPC-attached functions reach this region's RDS API over the peering."""


@dataclass(frozen=True)
class DrAutomationArgs:
    """Inputs of `DrAutomation`."""

    environment_suffix: str
    account_id: str
    partition: str
    sizing: Sizing
    primary: RegionContext
    dr: RegionContext
    global_cluster_id: pulumi.Input[str]
    global_cluster_arn: pulumi.Input[str]
    secret_arn: pulumi.Input[str]
    secret_name: pulumi.Input[str]
    secret_id: pulumi.Input[str]


class DrAutomation(pulumi.ComponentResource):
    """Coordinator, health checker and drainer in both regions, secret rotation in the primary
    region, backup verifier in the DR region; one layer per region; a role per function with
    least privilege; KMS-encrypted log groups; schedules, alarm and RDS-event triggers; an error
    alarm and an on-failure destination per function; the coordinator's lock tables."""

    functions: dict[str, dict[str, aws.lambda_.Function]]
    """Deployed functions: {function key: {region: function}}."""

    def __init__(
        self, name: str, args: DrAutomationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:DrAutomation", name, None, opts)
        self._name, self._args = name, args
        self.contexts = {PRIMARY: args.primary, DR: args.dr}
        self.functions = {}
        self.layers = {
            role: aws.lambda_.LayerVersion(
                f"{name}-{role}-layer",
                layer_name=regional_name(args.environment_suffix, ctx.region, "layer"),
                description="aurora-dr shared code (drcommon), pinned pg8000 + Powertools, RDS CA",
                code=lambda_code.layer_archive(),
                compatible_runtimes=[automation.RUNTIME],
                compatible_architectures=[automation.ARCHITECTURE],
                opts=self._opts(ctx),
            )
            for role, ctx in self.contexts.items()
        }

        # Drainers first: the coordinators of both regions invoke both of them.
        for ctx in self.contexts.values():
            self._deploy("connection_drainer", ctx, self._drainer_env(ctx))
            self._deploy("health_checker", ctx, self._health_checker_env(ctx))
        self._deploy("secret_rotation", args.primary, self._rotation_env(args.primary))
        self._deploy("backup_verifier", args.dr, self._verifier_env(args.dr))
        self.lock_tables = {role: self._lock_table(ctx) for role, ctx in self.contexts.items()}
        for ctx in self.contexts.values():
            self._deploy("failover_coordinator", ctx, self._coordinator_env(ctx))

        self._triggers()
        self.register_outputs(
            {
                "functionArns": {
                    key: {region: fn.arn for region, fn in by_region.items()}
                    for key, by_region in self.functions.items()
                }
            }
        )

    # --- helpers -------------------------------------------------------------------------------

    def _opts(self, ctx: RegionContext, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=ctx.provider, **kwargs)

    def _peer(self, ctx: RegionContext) -> RegionContext:
        return self.contexts[DR if ctx.role == PRIMARY else PRIMARY]

    def _function_name(self, spec: FunctionSpec, ctx: RegionContext) -> str:
        return regional_name(self._args.environment_suffix, ctx.region, spec.short_name)

    def _name_of(self, key: str, ctx: RegionContext) -> str:
        """Physical name of a function, known before it exists (see `function_arn`)."""
        return self._function_name(automation.FUNCTIONS_BY_KEY[key], ctx)

    def _arn_of(self, key: str, ctx: RegionContext) -> str:
        return automation.function_arn(
            self._args.partition, ctx.region, self._args.account_id, self._name_of(key, ctx)
        )

    def _logical(self, spec: FunctionSpec, ctx: RegionContext, part: str) -> str:
        return f"{self._name}-{ctx.role}-{spec.short_name}-{part}"

    # --- environments (identifiers and thresholds only, never secrets) ------------------------

    def _drainer_env(self, ctx: RegionContext) -> dict[str, pulumi.Input[str]]:
        return {
            "LOCAL_REGION": ctx.region,
            "PEER_REGION": self._peer(ctx).region,
            "CLUSTER_ENDPOINT": ctx.cluster_endpoint,
            "PEER_CLUSTER_ENDPOINT": self._peer(ctx).cluster_endpoint,
            "DB_SECRET_ID": self._args.secret_name,
        }

    def _health_checker_env(self, ctx: RegionContext) -> dict[str, pulumi.Input[str]]:
        return {
            "ENVIRONMENT_SUFFIX": self._args.environment_suffix,
            "LOCAL_REGION": ctx.region,
            "PEER_REGION": self._peer(ctx).region,
            "GLOBAL_CLUSTER_IDENTIFIER": self._args.global_cluster_id,
            "DB_SECRET_ID": self._args.secret_name,
            "CLUSTER_ENDPOINT": ctx.cluster_endpoint,
            "READER_ENDPOINT": ctx.reader_endpoint,
            "PEER_CLUSTER_ENDPOINT": self._peer(ctx).cluster_endpoint,
            "PROBE_TIMEOUT_SECONDS": str(self._args.sizing.probe_timeout_seconds),
            "RUN_BUDGET_SECONDS": str(self._args.sizing.probe_run_budget_seconds),
            # Deployed later in this component: referenced by name to avoid a cycle.
            "COORDINATOR_FUNCTION_NAME": self._name_of("failover_coordinator", ctx),
        }

    def _rotation_env(self, ctx: RegionContext) -> dict[str, pulumi.Input[str]]:
        peer = self._peer(ctx)
        return {
            "LOCAL_REGION": ctx.region,
            "GLOBAL_CLUSTER_IDENTIFIER": self._args.global_cluster_id,
            "RDS_ENDPOINT_URLS": pulumi.Output.from_input(peer.rds_endpoint_url).apply(
                lambda url: json.dumps({peer.region: url})
            ),
        }

    def _verifier_env(self, ctx: RegionContext) -> dict[str, pulumi.Input[str]]:
        sizing = self._args.sizing
        env: dict[str, pulumi.Input[str]] = {
            "GLOBAL_CLUSTER_ID": self._args.global_cluster_id,
            "ENVIRONMENT_SUFFIX": self._args.environment_suffix,
            "PEER_REGION": self._peer(ctx).region,
            "RESOURCE_PREFIX": automation.VERIFY_RESOURCE_PREFIX,
            "PEER_RDS_ENDPOINT_URL": self._peer(ctx).rds_endpoint_url,
            "MAX_SNAPSHOT_AGE_HOURS": str(sizing.backup_max_age_hours),
            "RESTORE_TEST_ENABLED": "true" if sizing.restore_test else "false",
            "DB_SECRET_ID": self._args.secret_name,
        }
        if sizing.copy_snapshot_to_dr or sizing.restore_test:
            # The key makes the verifier copy into (and restore from) this region.
            env["DR_KMS_KEY_ID"] = ctx.kms_key_arn
        if sizing.restore_test:
            env["RESTORE_DB_SUBNET_GROUP"] = ctx.db_subnet_group_name
            env["RESTORE_SECURITY_GROUP_IDS"] = ctx.db_security_group_id
            env["RESTORE_INSTANCE_CLASS"] = sizing.restore_test_instance_class
        return env

    def _coordinator_env(self, ctx: RegionContext) -> dict[str, pulumi.Input[str]]:
        peer = self._peer(ctx)
        return {
            "GLOBAL_CLUSTER_ID": self._args.global_cluster_id,
            "PEER_REGION": peer.region,
            "ENVIRONMENT_SUFFIX": self._args.environment_suffix,
            "LOCAL_PROBE_ALARM_NAME": ctx.probe_alarm.name,
            "LOCAL_WRITER_ALARM_NAME": ctx.writer_alarm.name,
            "PEER_PROBE_ALARM_NAME": peer.probe_alarm.name,
            "PEER_WRITER_ALARM_NAME": peer.writer_alarm.name,
            "LOCAL_DRAINER_FUNCTION_NAME": self.functions["connection_drainer"][ctx.region].name,
            "PEER_DRAINER_FUNCTION_NAME": self.functions["connection_drainer"][peer.region].name,
            "LOCK_TABLE_NAME": self.lock_tables[ctx.role].name,
            "SNS_TOPIC_ARN": ctx.topic_arn,
            "LAG_BUDGET_MS": str(self._args.sizing.failover_lag_budget_ms),
            "POLL_INTERVAL_SECONDS": str(self._args.sizing.failover_poll_seconds),
            "LOCAL_HEALTH_CHECKER_FUNCTION_NAME": self.functions["health_checker"][ctx.region].name,
            "PEER_HEALTH_CHECKER_FUNCTION_NAME": self.functions["health_checker"][peer.region].name,
        }

    # --- resources -----------------------------------------------------------------------------

    def _lock_table(self, ctx: RegionContext) -> aws.dynamodb.Table:
        return aws.dynamodb.Table(
            f"{self._name}-{ctx.role}-lock-table",
            name=regional_name(self._args.environment_suffix, ctx.region, "failover-lock"),
            billing_mode="PAY_PER_REQUEST",
            hash_key=automation.LOCK_TABLE_HASH_KEY,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=automation.LOCK_TABLE_HASH_KEY, type="S")
            ],
            ttl=aws.dynamodb.TableTtlArgs(
                attribute_name=automation.LOCK_TABLE_TTL_ATTRIBUTE, enabled=True
            ),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=True, kms_key_arn=ctx.kms_key_arn
            ),
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            deletion_protection_enabled=self._args.sizing.deletion_protection,
            opts=self._opts(ctx),
        )

    def _arns(self, spec: FunctionSpec, ctx: RegionContext, log_group_arn: str) -> pulumi.Output:
        """Resolve every ARN the function's policy is scoped to, as a `StackArns`."""
        args, peer = self._args, self._peer(ctx)
        drainers = self.functions.get("connection_drainer", {})
        inputs: dict[str, pulumi.Input] = {
            "global": args.global_cluster_arn,
            "local_cluster": ctx.cluster_arn,
            "clusters": [args.primary.cluster_arn, args.dr.cluster_arn],
            "secret": args.secret_arn,
            "local_key": ctx.kms_key_arn,
            "peer_key": peer.kms_key_arn,
            "log_group": log_group_arn,
            "topic": ctx.topic_arn,
            "alarms": [],
            "drainers": [],
            "lock_table": "",
        }
        inputs["health_checkers"] = []
        inputs["coordinator"] = self._arn_of("failover_coordinator", ctx)
        if spec.key == "failover_coordinator":
            inputs["health_checkers"] = [
                fn.arn for fn in self.functions.get("health_checker", {}).values()
            ]
            inputs["alarms"] = [
                a.arn
                for a in (ctx.probe_alarm, ctx.writer_alarm, peer.probe_alarm, peer.writer_alarm)
            ]
            inputs["drainers"] = [fn.arn for fn in drainers.values()]
            inputs["lock_table"] = self.lock_tables[ctx.role].arn
        # Keys by use: the verifier copies between both regions' keys; rotation writes the
        # primary secret; readers decrypt the secret copy of their own region.
        key_names = ["local_key", "peer_key"] if spec.key == "backup_verifier" else ["local_key"]
        if spec.key == "secret_rotation":
            key_names = ["local_key"]

        def build(values: dict) -> StackArns:
            return StackArns(
                partition=args.partition,
                account_id=args.account_id,
                region=ctx.region,
                peer_region=peer.region,
                primary_region=args.primary.region,
                global_cluster_arn=values["global"],
                cluster_arns=values["clusters"],
                local_cluster_arn=values["local_cluster"],
                secret_arn=values["secret"],
                local_key_arn=values["local_key"],
                key_arns=[values[k] for k in key_names],
                log_group_arn=values["log_group"],
                topic_arn=values["topic"],
                alarm_arns=values["alarms"],
                drainer_arns=values["drainers"],
                health_checker_arns=values["health_checkers"],
                coordinator_arn=values["coordinator"],
                lock_table_arn=values["lock_table"],
                extra={"namespace": contract.NAMESPACE, "environment": args.environment_suffix},
            )

        return pulumi.Output.all(**inputs).apply(build)

    def _deploy(
        self, key: str, ctx: RegionContext, environment: Mapping[str, pulumi.Input[str]]
    ) -> aws.lambda_.Function:
        spec = automation.FUNCTIONS_BY_KEY[key]
        if ctx.role not in spec.roles:
            raise ValueError(f"{key} is not placed in the {ctx.role} region")
        args = self._args
        function_name = self._function_name(spec, ctx)
        # Created by the stack (not on first invocation) so it is encrypted and expires.
        log_group = aws.cloudwatch.LogGroup(
            self._logical(spec, ctx, "logs"),
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.sizing.log_retention_days,
            kms_key_id=ctx.kms_key_arn,
            opts=self._opts(ctx),
        )
        role = aws.iam.Role(
            self._logical(spec, ctx, "role"),
            name=function_name,
            description=f"aurora-dr {spec.key} in {ctx.region}: least privilege",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=self._opts(ctx),
        )
        policy = aws.iam.RolePolicy(
            self._logical(spec, ctx, "policy"),
            role=role.id,
            policy=self._arns(spec, ctx, log_group.arn).apply(
                lambda arns: json.dumps(automation.policy_for(spec.key, arns, spec.vpc))
            ),
            opts=self._opts(ctx),
        )
        vpc_config = None
        if spec.vpc:
            # Every private subnet (three AZs), so an AZ loss never strands the function.
            vpc_config = aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=list(ctx.subnet_ids),
                security_group_ids=[ctx.lambda_security_group_id],
            )
        function = aws.lambda_.Function(
            self._logical(spec, ctx, "function"),
            name=function_name,
            description=f"aurora-dr {spec.key} ({ctx.role} region)",
            runtime=automation.RUNTIME,
            architectures=[automation.ARCHITECTURE],
            handler=spec.handler,
            code=lambda_code.function_archive(spec.key),
            layers=[self.layers[ctx.role].arn],
            role=role.arn,
            timeout=spec.timeout_seconds,
            memory_size=spec.memory_mb,
            reserved_concurrent_executions=spec.reserved_concurrency,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(environment)),
            vpc_config=vpc_config,
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="JSON", log_group=log_group.name
            ),
            # A VPC-attached function can only be created once its role may create ENIs.
            opts=self._opts(ctx, depends_on=[policy, log_group]),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            self._logical(spec, ctx, "async"),
            function_name=function.name,
            maximum_retry_attempts=spec.max_async_retries,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(
                    destination=ctx.topic_arn
                )
            ),
            opts=self._opts(ctx),
        )
        error_alarm = alarms.function_error_alarm_spec(args.sizing, spec.short_name, function.name)
        metric_alarm(
            self._logical(spec, ctx, "errors"),
            regional_name(args.environment_suffix, ctx.region, error_alarm.key),
            error_alarm,
            ctx.topic_arn,
            self._opts(ctx),
        )
        self.functions.setdefault(key, {})[ctx.region] = function
        return function

    def _invoked_by_events(
        self, key: str, ctx: RegionContext, label: str, rule: aws.cloudwatch.EventRule
    ) -> None:
        spec = automation.FUNCTIONS_BY_KEY[key]
        function = self.functions[key][ctx.region]
        aws.cloudwatch.EventTarget(
            self._logical(spec, ctx, f"{label}-target"),
            rule=rule.name,
            arn=function.arn,
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

    def _schedule(self, key: str, ctx: RegionContext, expression: str) -> None:
        spec = automation.FUNCTIONS_BY_KEY[key]
        rule = aws.cloudwatch.EventRule(
            self._logical(spec, ctx, "schedule"),
            name=regional_name(
                self._args.environment_suffix, ctx.region, spec.short_name, "schedule"
            ),
            description=f"Runs {spec.key} {expression}",
            schedule_expression=expression,
            opts=self._opts(ctx),
        )
        self._invoked_by_events(key, ctx, "schedule", rule)

    def _triggers(self) -> None:
        args, sizing = self._args, self._args.sizing
        for ctx in self.contexts.values():
            self._schedule(
                "health_checker",
                ctx,
                automation.rate_expression(sizing.health_check_rate_minutes, "minute"),
            )
            # Each region's coordinator wakes when its probe alarm ('the writer in the other
            # region is unreachable from here') fires; its gates decide. Both regions, so the
            # automation still works after a switchover has swapped the roles.
            coordinator = automation.FUNCTIONS_BY_KEY["failover_coordinator"]
            alarm_rule = aws.cloudwatch.EventRule(
                self._logical(coordinator, ctx, "alarm-rule"),
                name=regional_name(args.environment_suffix, ctx.region, "peer-writer-lost"),
                description="The writer in the other region is unreachable from this region",
                event_pattern=ctx.probe_alarm.arn.apply(
                    lambda arn: json.dumps(automation.alarm_state_change_pattern(arn))
                ),
                opts=self._opts(ctx),
            )
            self._invoked_by_events("failover_coordinator", ctx, "alarm", alarm_rule)
            self._invoked_by_events(
                "failover_coordinator", ctx, "rds-events", ctx.failover_events_rule
            )
        self._schedule(
            "backup_verifier",
            args.dr,
            automation.rate_expression(sizing.backup_verify_rate_hours, "hour"),
        )
        rotation = automation.FUNCTIONS_BY_KEY["secret_rotation"]
        rotation_function = self.functions["secret_rotation"][args.primary.region]
        permission = aws.lambda_.Permission(
            self._logical(rotation, args.primary, "secretsmanager-permission"),
            action="lambda:InvokeFunction",
            function=rotation_function.name,
            principal="secretsmanager.amazonaws.com",
            source_arn=args.secret_arn,
            opts=self._opts(args.primary),
        )
        aws.secretsmanager.SecretRotation(
            self._logical(rotation, args.primary, "rotation"),
            secret_id=args.secret_id,
            rotation_lambda_arn=rotation_function.arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                automatically_after_days=sizing.secret_rotation_days
            ),
            # The first rotation waits for the schedule: rotating inside the first `pulumi up`
            # would race the database instances it has just created.
            rotate_immediately=False,
            opts=self._opts(args.primary, depends_on=[permission]),
        )
