"""Every knob that differs between a throw-away test stack and production, in one table.

`SIZING["test"]` is the cheapest configuration that is still a real global database: one Aurora
Serverless v2 instance per region at the smallest capacity AWS allows, so the DR region has an
instance a drill can fail over to, deployable in an empty account and destroyable in one go.
`SIZING["prod"]` is highly available and protected, on provisioned memory-optimised instances.

The test sizing's trade-off: a writer held near 0.5 ACU (about 1 GiB of memory) is slow to scale
under a sudden load, and a small writer or secondary can let global replication lag grow; the
replication-lag, RPO-lag and ACU alarms say when that happens. It suits drills and CI, not load
tests: raise `ServerlessCapacity.min_acu` for those (AWS recommends 8 ACU for a global database's
primary; that is advice, the API accepts less). Components read these values; none of them hard-codes a size, a retention, a
threshold or a schedule. Change a knob here and the plan (`python -m drplan`) shows the effect.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from types import MappingProxyType

# Instance-class families Aurora global databases accept: memory-optimised (r5 and newer
# generations, x2g) or Serverless v2. Burstable classes are rejected by the API
# ("The requested instance class is not supported by global databases", tf-provider-aws#27736).
GLOBAL_DATABASE_CLASS_PREFIXES = ("db.r5.", "db.r6g.", "db.r6i.", "db.r7g.", "db.r7i.", "db.r8g.")
GLOBAL_DATABASE_SERVERLESS_CLASS = "db.serverless"


# Lambda refuses a reservation that leaves fewer than the account's minimum unreserved executions
# in the region: "you leave at least 100 simultaneous executions unreserved for functions that
# aren't configured with a per-function limit" (Lambda API reference, PutFunctionConcurrency).
# Some accounts report a floor of 50 in the error message ("... below its minimum value of [50]").
LAMBDA_MINIMUM_UNRESERVED_CONCURRENCY = 100


@dataclass(frozen=True)
class FunctionConcurrency:
    """Reserved concurrent executions per DR function (None: no reservation, the function draws
    on the region's unreserved pool). Field names are the functions' keys
    (`decisions.functions.FUNCTIONS`).

    A reservation guarantees the function its executions when a regional failover moves the
    application's traffic into the surviving region and exhausts its shared pool, and caps it
    there too. It also needs an account quota of at least the minimum unreserved plus the sum of
    the region's reservations; new accounts start far below that (README, "Deploying for real").
    """

    failover_coordinator: int | None
    """Decides and runs a failover; 1 is enough (the lock table serialises the coordinators)."""
    connection_drainer: int | None
    """Invoked by both regions' coordinators during a role change."""
    health_checker: int | None
    """The health run's probes, the peer watch's probes (one per tick, two ticks at once while a
    loss is confirmed across two executions), the coordinator's fresh probe, the probes of the
    health run it starts after a promotion, and (DR) the backup verifier's restore probe."""
    peer_watch: int | None
    """One tick at a time, two while an execution confirms a loss past its minute; the scheduled
    health run, and the one the coordinator starts after a promotion."""
    secret_rotation: int | None
    """Secrets Manager runs one rotation step of the secret at a time."""
    backup_verifier: int | None
    """One scheduled run a day."""

    def for_function(self, key: str) -> int | None:
        """The reservation of the function with this key."""
        if key not in {f.name for f in fields(self)}:
            raise KeyError(f"no reserved-concurrency knob for function {key!r}")
        value: int | None = getattr(self, key)
        return value

    def region_total(self, keys: tuple[str, ...]) -> int:
        """Sum of the reservations of the functions `keys` (those placed in one region)."""
        return sum(self.for_function(key) or 0 for key in keys)


@dataclass(frozen=True)
class BackupRule:
    """One rule of the AWS Backup plan in each region (schedules are UTC cron expressions)."""

    name: str
    """The rule's name in the plan (letters, digits, hyphens)."""
    schedule: str
    """When a backup job starts, `cron(...)` in UTC. Kept hours away from the clusters' backup
    and maintenance windows: a job scheduled within an hour of them can fail to start (AWS
    Knowledge Center, "backup-coordinates-pitr")."""
    retention_days: int
    """Days a recovery point is kept in the region's vault. Within the clusters' own backup
    retention, an Aurora snapshot is not charged (Aurora user guide, "Understanding Amazon Aurora
    backup storage usage")."""
    copy_retention_days: int | None
    """Days the copy in the other region's vault is kept; None: the rule makes no copy."""


@dataclass(frozen=True)
class VaultLock:
    """AWS Backup Vault Lock on every vault: jobs whose retention falls outside the bounds fail
    ("the vault fails that backup or copy job", PutBackupVaultLockConfiguration)."""

    min_retention_days: int
    """The shortest retention a recovery point in the vault may have (1 day or more)."""
    max_retention_days: int
    """The longest (at most 36 500 days)."""
    changeable_for_days: int
    """Days before the lock becomes immutable (AWS minimum 3, its 72-hour cooling-off): from
    then on nobody, the account root included, can shorten a retention or delete the vault
    while it holds recovery points."""


@dataclass(frozen=True)
class AwsBackupPlan:
    """AWS Backup for the database clusters: a locked vault and a plan in each region."""

    rules: tuple[BackupRule, ...]
    vault_lock: VaultLock
    start_window_minutes: int
    """How long after its scheduled time a job may start before it is cancelled."""
    completion_window_minutes: int
    """How long a started job may run before it is cancelled."""
    copy_max_age_hours: int
    """The backup verifier (in the DR region) fails a run when the newest recovery point of the
    writer in its region's vault is older than this. It follows the copy rule's cadence: the
    longest gap between two of its runs, plus the start and completion windows, plus a day of
    slack for the copy job itself (tests/stack/test_sizing.py holds the two together). This is
    the RPO of the copy that outlives the primary region *and* a bad deploy: the global
    database's secondary replicates a `DROP TABLE` within a second, the vault copy does not."""


# Serverless v2 capacity bounds (ServerlessV2ScalingConfiguration, RDS API reference): "You can
# specify ACU values in half-step increments"; the largest maximum is 256 ("128 for older
# versions"). Below 0.5 is only the auto-pause setting 0, which a global database never uses:
# "If your cluster is the primary cluster in an Aurora global database, Aurora doesn't
# automatically pause the Aurora Serverless v2 writer instance", and instances of its secondary
# clusters "don't automatically pause" (Aurora User Guide, aurora-serverless-v2-auto-pause.html).
# A minimum of 0 would therefore be billed as if it were the smallest running capacity, 0.5.
SERVERLESS_MIN_ACU = 0.5
SERVERLESS_MAX_ACU = 256.0
SERVERLESS_ACU_STEP = 0.5


@dataclass(frozen=True)
class ServerlessCapacity:
    """Aurora Serverless v2 scaling bounds of both member clusters (ACU; 1 ACU is about 2 GiB of
    memory with its CPU). Set on each cluster; every `db.serverless` instance scales within them.

    The minimum is what an idle instance is billed for, and the floor the plan prices. A global
    database holds capacity above it: AWS lists global databases among the features that "can
    increase resource usage and prevent the database from scaling down to minimum capacity"
    (Aurora User Guide, aurora-serverless-v2.setting-capacity.html), so the bill is at least the
    floor, never less.
    """

    min_acu: float
    """Capacity each instance never goes below (0.5 or more, in steps of 0.5). AWS recommends 8
    for the primary of a global database ("applies only to the primary AWS Region", same page):
    advice the API does not enforce."""
    max_acu: float
    """Capacity each instance never goes above (at most 256). `ACUUtilization` is the instance's
    capacity over this maximum, so its alarm says when the maximum is too low."""

    def __post_init__(self) -> None:
        for name, value in (("min_acu", self.min_acu), ("max_acu", self.max_acu)):
            if value % SERVERLESS_ACU_STEP:
                raise ValueError(f"ServerlessCapacity.{name}={value:g} is not a step of 0.5 ACU")
        if not SERVERLESS_MIN_ACU <= self.min_acu <= self.max_acu <= SERVERLESS_MAX_ACU:
            raise ValueError(
                f"ServerlessCapacity needs {SERVERLESS_MIN_ACU:g} <= min_acu <= max_acu <= "
                f"{SERVERLESS_MAX_ACU:g} ACU, got {self.min_acu:g}..{self.max_acu:g} (a minimum "
                "of 0 means auto-pause, which a global database never does)"
            )


NO_RESERVATIONS = FunctionConcurrency(
    failover_coordinator=None,
    connection_drainer=None,
    health_checker=None,
    peer_watch=None,
    secret_rotation=None,
    backup_verifier=None,
)


@dataclass(frozen=True)
class Sizing:
    """One environment's cost, availability and alerting knobs. Every field is documented."""

    # --- network -------------------------------------------------------------------------------
    az_count: int
    """Availability zones per region; one private isolated subnet in each (Aurora needs >= 2)."""
    endpoint_az_count: int
    """AZs each interface VPC endpoint is placed in. Every AZ costs an endpoint-hour per service;
    one is enough for a test stack, prod spreads over every AZ so an AZ loss keeps the APIs."""
    flow_log_retention_days: int
    """Retention of the VPC flow-log groups (days; a CloudWatch Logs allowed value)."""
    log_retention_days: int
    """Retention of every other log group the stack creates (Lambda, database exports)."""

    # --- keys and secrets ----------------------------------------------------------------------
    kms_deletion_window_days: int
    """Waiting period before a scheduled KMS key deletion takes effect (7-30)."""
    secret_recovery_window_days: int
    """Secrets Manager recovery window; 0 deletes at once so a test stack can be recreated."""
    secret_rotation_days: int
    """Rotation period of the master secret (our own rotation Lambda)."""

    # --- database ------------------------------------------------------------------------------
    instance_class: str
    """Aurora instance class in both regions: memory-optimised or db.serverless only. Changing
    it modifies each instance in place (same resource); without `apply_immediately` RDS applies
    it in the next maintenance window ("Whether any database modifications are applied
    immediately, or during the next maintenance window. Default is `false`", pulumi-aws
    rds.ClusterInstance)."""
    serverless: ServerlessCapacity | None
    """Scaling bounds of the clusters when `instance_class` is db.serverless; None (and no
    scaling configuration on the clusters) for a provisioned class."""
    instances_per_region: int
    """Instances per cluster: 1 is writer only; 2+ adds readers in distinct AZs."""
    backup_retention_days: int
    """Automated backup retention (1-35 days)."""
    deletion_protection: bool
    """RDS deletion protection on the global cluster and both member clusters."""
    skip_final_snapshot: bool
    """Destroy without a final snapshot (test) or keep one named after the cluster (prod)."""
    performance_insights: bool
    """Performance Insights on every instance, encrypted with the region's key."""
    performance_insights_retention_days: int
    """Performance Insights retention: 7 is the free tier."""
    monitoring_interval_seconds: int
    """Enhanced monitoring interval; 0 disables it (and its IAM role)."""
    managed_rpo_seconds: int | None
    """`rds.global_db_rpo` on the primary (>= 20 s): commits block while every secondary lags
    beyond it. None leaves it off, because a lost DR region would then stop writes on the primary."""
    protect: bool
    """Pulumi `protect` on the global cluster, both clusters, both keys, both backup buckets and
    the AWS Backup vaults."""
    backup_window: str
    """Daily automated-backup window (UTC, hh:mm-hh:mm)."""
    maintenance_window: str
    """Weekly maintenance window (UTC, ddd:hh:mm-ddd:hh:mm); must not overlap the backup window."""
    slow_query_log_ms: int
    """`log_min_duration_statement`: statements slower than this are logged (exported to
    CloudWatch Logs with the `postgresql` log)."""

    # --- alerting ------------------------------------------------------------------------------
    alarm_period_seconds: int
    """Period of every alarm (standard resolution: Route 53 health checks require >= 60)."""
    alarm_evaluation_periods: int
    """Periods an infrastructure alarm looks at."""
    alarm_datapoints_to_alarm: int
    """Breaching periods (of the evaluation periods) that raise an infrastructure alarm."""
    health_evaluation_periods: int
    """Periods a health-metric alarm looks at (drives detection time, so RTO)."""
    health_datapoints_to_alarm: int
    """Breaching periods (of the health evaluation periods) that raise a health alarm."""
    replication_lag_threshold_ms: int
    """`AuroraGlobalDBReplicationLag` alarm threshold (milliseconds)."""
    rpo_lag_threshold_ms: int
    """`AuroraGlobalDBRPOLag` alarm threshold (milliseconds)."""
    cpu_threshold_percent: int
    """CPU utilisation alarm threshold per provisioned instance (no alarm on db.serverless: a
    serverless instance scales its CPU with its capacity, watched by the ACU alarms)."""
    freeable_memory_threshold_bytes: int
    """Freeable-memory alarm threshold per provisioned instance (alarm below). Meant for a fixed
    class: a serverless instance's memory follows its capacity (0.5 ACU is about 1 GiB)."""
    acu_utilization_threshold_percent: int
    """db.serverless only: `ACUUtilization` (capacity over the maximum ACU) alarm threshold per
    instance: above it the instance is near its maximum and cannot scale further."""
    serverless_capacity_threshold_acu: float
    """db.serverless only: `ServerlessDatabaseCapacity` alarm threshold per instance (ACU): held
    above it, the instance is billed well above the floor the plan prices."""
    free_local_storage_threshold_bytes: int
    """Free local (temporary) storage alarm threshold per instance (alarm below)."""
    connections_threshold: int
    """Database connections alarm threshold per instance."""
    max_used_transaction_ids_threshold: int
    """`MaximumUsedTransactionIDs` threshold: wraparound protection starts near 2^31."""
    probe_latency_threshold_ms: int
    """Health-checker probe latency (connect + TLS login + query) alarm threshold."""
    heartbeat_lag_threshold_ms: int
    """Heartbeat lag observed by the health checker (alarm above). The writer beats once a
    minute, so a secondary's observed lag includes up to 60 s of schedule delay: keep this
    above 60 000 plus the replication lag you tolerate."""
    alert_subscriber_required: bool
    """The stack must name someone its alarms reach (`alertEmail` or `alertHttpsEndpoint`):
    config validation refuses it otherwise. Off for a test stack, whose alarms may go unread."""

    # --- DNS -----------------------------------------------------------------------------------
    dns_ttl_seconds: int
    """TTL of the writer/reader failover records: clients re-resolve within this after a flip."""

    # --- recovery objective --------------------------------------------------------------------
    rto_target_seconds: int
    """Default `rtoTargetSeconds`: `drplan --check` fails when the modeled unplanned failover
    for global-writer-endpoint clients takes longer (the stack configuration may override it)."""

    # --- DR automation -------------------------------------------------------------------------
    health_check_rate_minutes: int
    """Health check schedule (minutes): the peer watch's health run, which asks the health
    checker for its probes; the health alarms' period assumes 1. The peer watch's executions
    start on the same schedule."""
    peer_watch_ticker: bool
    """Run each region's peer watch every `peer_probe_cadence_seconds` from a Step Functions
    Express ticker (a minute-long execution started every minute). Without it, nothing ticks
    the watch (the schedule still runs its health run): the DR coordinator is woken by the
    probe alarm (the health run's peer probe once a minute, `health_datapoints_to_alarm` failed
    minutes), slower but on no weaker evidence: the alarm needs as many failed probes, spanning
    longer. A watch started once a minute on its own would not do instead: its decision needs
    two failed probes within one execution, and such an execution would tick once."""
    probe_timeout_seconds: int
    """Health checker: connect / read timeout of one database probe."""
    probe_run_budget_seconds: int
    """Health checker: wall-time budget of all probes of one run (well inside its 30 s)."""
    peer_probe_cadence_seconds: int
    """Peer watch: seconds between two probes of the peer writer (divides 60: the executions of
    the Step Functions ticker start once a minute)."""
    confirmation_window_seconds: int
    """Peer watch: the peer writer is declared lost only when failed probes span this long (at
    least 20 s and a whole number of cadences, so it always takes two or more failed probes)."""
    in_region_failover_excuse_seconds: int
    """How long an in-region Aurora failover of the writer's cluster, seen through the writer
    region's API, excuses failed probes. Aurora's own figure: "service is typically restored in
    less than 60 seconds, and often less than 30 seconds" (Aurora User Guide, "High availability
    for Amazon Aurora", Concepts.AuroraHighAvailability.html)."""
    failover_poll_seconds: int
    """Coordinator: how often it polls the global cluster while a failover completes."""
    failover_lag_budget_ms: int
    """The coordinator refuses an unplanned failover when RPO lag exceeds this (unless forced)."""
    failed_lock_block_minutes: int
    """How long a `failed`/`unconfirmed` failover lock blocks automatic (unforced) role changes,
    counted from when the failure was recorded; an operator's forced request is never blocked.
    Long enough that the failed attempt is over and a human has had the page before automation
    acts again: a coordinator's lease lasts 15 minutes, Lambda's maximum run ("Code can run for
    up to 15 minutes in a single invocation", Lambda quotas), and a managed failover that was
    started but not seen to finish "typically" completes "within a few minutes" (Aurora User
    Guide, "Using switchover or failover in Amazon Aurora Global Database") and then announces
    itself (RDS-EVENT-0238/0239). Twice the lease covers both. Short enough that a stale failure
    never stands between a later regional outage and its automatic failover for long."""
    backup_max_age_hours: int
    """The backup verifier fails a run when the newest automated snapshot is older than this.
    Aurora takes one automated snapshot a day within `backup_window` ("The daily time range
    during which automated backups are created", RDS API reference, PreferredBackupWindow), so
    the newest one is at most 24 h + the window's length old, plus the time it takes to become
    `available`: 24 h + 1 h + 1 h of slack = 26 h. Older means a daily backup was missed."""
    backup_verify_rate_hours: int
    """Backup verifier schedule (hours)."""
    backup_report_slack_hours: int
    """How late a verifier run's report may be before its alarm counts the silence as a failed
    verification. The alarm looks at the last `backup_verify_rate_hours` + this many hours, so a
    healthy schedule always has a datapoint in it even when a run starts late or takes its whole
    15 minutes; a verifier that stops reporting alarms this long after its run was due."""
    copy_snapshot_to_dr: bool
    """The verifier copies the writer's newest automated snapshot into the DR region itself,
    with the DR region's key, on every run while the writer is in the other region. Each copy is
    charged as inter-region data transfer per GB ("Copying a DB snapshot out of the source AWS
    Region incurs Amazon RDS data transfer charges", RDS user guide, copying a DB snapshot) and
    stored in the DR region until the next run's sweep ("Amazon bills you based upon the amount
    of Amazon Aurora backup and snapshot data you keep", Aurora user guide, DB cluster snapshot
    copying): a full snapshot a day, the plan prices it. Off where AWS Backup already copies the
    writer into the DR vault (prod): the verifier verifies, restores and exports that copy, one
    cross-region copy instead of two. Off in `test` too: a daily copy would cost about a tenth
    of the test stack's budget, and the test stack does not restore (below); the copy path is
    held to AWS's rules by the verifier's tests (an RDS double that refuses what AWS refuses)."""
    restore_test: bool
    """Restore the verified snapshot in the DR region (AWS Backup's copy, or the verifier's own)
    into a throw-away cluster and probe it, on every run. Costs the instance-hours and storage
    of the throw-away cluster while it exists (within the run: it is deleted before the run
    returns); the plan prices them."""
    restore_test_instance_class: str
    """Class of the throw-away restore-test instance: not a global-database member, so the
    cheapest burstable class is allowed."""
    reserved_concurrency: FunctionConcurrency
    """Reserved concurrent executions per function. None in a test stack: a new account's
    reduced quota refuses any reservation (Lambda quotas page: "New AWS accounts have reduced
    concurrency and memory quotas")."""

    # --- backups outside RDS -------------------------------------------------------------------
    backup_bucket_noncurrent_days: int
    """Days a replaced or deleted object version stays in a backup bucket before it expires."""
    backup_bucket_abort_multipart_days: int
    """Days after which an incomplete multipart upload is aborted (its parts are billed until
    then)."""
    backup_bucket_force_destroy: bool
    """`pulumi destroy` may empty and delete the backup buckets (a test stack); otherwise a
    bucket that holds objects stops the destroy (and prod's `protect` stops it first)."""
    snapshot_export_every_days: int | None
    """Export the verified snapshot in the DR region (AWS Backup's copy there in prod) into the
    DR bucket (Parquet, the DR key) at most this often, and never the same snapshot twice; None:
    no export (each costs per GB of snapshot). The export is stored where it outlives the
    primary region and is not replicated (the replication covers the reports only): one copy
    of the data outside RDS, paid once. Set to the copy cadence: a more frequent export would
    only find the same copy."""
    snapshot_export_retention_days: int
    """Days an export's files are kept before they expire."""
    aws_backup: AwsBackupPlan | None
    """AWS Backup vaults, locks and plans in both regions; None: none (the clusters' automated
    backups and the verifier's copies only)."""

    def __post_init__(self) -> None:
        serverless_class = self.instance_class == GLOBAL_DATABASE_SERVERLESS_CLASS
        if serverless_class != (self.serverless is not None):
            raise ValueError(
                f"instance_class={self.instance_class!r} needs serverless="
                + ("ServerlessCapacity(...)" if serverless_class else "None")
                + ": the clusters' scaling bounds exist exactly for db.serverless instances"
            )


SIZING: MappingProxyType[str, Sizing] = MappingProxyType(
    {
        "test": Sizing(
            az_count=3,
            endpoint_az_count=1,
            flow_log_retention_days=7,
            log_retention_days=7,
            kms_deletion_window_days=7,
            secret_recovery_window_days=0,
            secret_rotation_days=30,
            instance_class=GLOBAL_DATABASE_SERVERLESS_CLASS,
            serverless=ServerlessCapacity(min_acu=0.5, max_acu=4.0),
            instances_per_region=1,
            backup_retention_days=1,
            deletion_protection=False,
            skip_final_snapshot=True,
            performance_insights=False,
            performance_insights_retention_days=7,
            monitoring_interval_seconds=0,
            managed_rpo_seconds=None,
            protect=False,
            backup_window="03:00-04:00",
            maintenance_window="sun:05:00-sun:06:00",
            slow_query_log_ms=1_000,
            alarm_period_seconds=60,
            alarm_evaluation_periods=5,
            alarm_datapoints_to_alarm=3,
            # Two failed minute probes raise a health alarm: with no peer watch ticker the probe
            # alarm is what wakes the coordinator, and three would put the unplanned failover
            # past the 300 s target. Two probes a minute apart are still more evidence than the
            # watch's page needs (two failed probes spanning its 40 s window).
            health_evaluation_periods=2,
            health_datapoints_to_alarm=2,
            replication_lag_threshold_ms=60_000,
            rpo_lag_threshold_ms=120_000,
            cpu_threshold_percent=90,
            freeable_memory_threshold_bytes=1 * 1024**3,
            acu_utilization_threshold_percent=90,
            serverless_capacity_threshold_acu=2.0,
            free_local_storage_threshold_bytes=5 * 1024**3,
            connections_threshold=500,
            max_used_transaction_ids_threshold=1_000_000_000,
            probe_latency_threshold_ms=5_000,
            heartbeat_lag_threshold_ms=150_000,
            alert_subscriber_required=False,
            dns_ttl_seconds=60,
            rto_target_seconds=300,
            health_check_rate_minutes=1,
            peer_watch_ticker=False,
            probe_timeout_seconds=4,
            probe_run_budget_seconds=12,
            peer_probe_cadence_seconds=20,
            confirmation_window_seconds=40,
            in_region_failover_excuse_seconds=60,
            failover_poll_seconds=5,
            failover_lag_budget_ms=300_000,
            failed_lock_block_minutes=30,
            backup_max_age_hours=26,
            backup_verify_rate_hours=24,
            backup_report_slack_hours=1,
            copy_snapshot_to_dr=False,
            restore_test=False,
            restore_test_instance_class="db.t4g.medium",
            reserved_concurrency=NO_RESERVATIONS,
            backup_bucket_noncurrent_days=7,
            backup_bucket_abort_multipart_days=1,
            backup_bucket_force_destroy=True,
            snapshot_export_every_days=None,
            snapshot_export_retention_days=7,
            aws_backup=None,
        ),
        "prod": Sizing(
            az_count=3,
            endpoint_az_count=3,
            flow_log_retention_days=365,
            log_retention_days=365,
            kms_deletion_window_days=30,
            secret_recovery_window_days=30,
            secret_rotation_days=30,
            instance_class="db.r6g.xlarge",
            serverless=None,
            instances_per_region=2,
            backup_retention_days=14,
            deletion_protection=True,
            skip_final_snapshot=False,
            performance_insights=True,
            performance_insights_retention_days=7,
            monitoring_interval_seconds=60,
            managed_rpo_seconds=None,
            protect=True,
            backup_window="03:00-04:00",
            maintenance_window="sun:05:00-sun:06:00",
            slow_query_log_ms=500,
            alarm_period_seconds=60,
            alarm_evaluation_periods=5,
            alarm_datapoints_to_alarm=3,
            health_evaluation_periods=2,
            health_datapoints_to_alarm=2,
            replication_lag_threshold_ms=5_000,
            rpo_lag_threshold_ms=30_000,
            cpu_threshold_percent=80,
            freeable_memory_threshold_bytes=2 * 1024**3,
            acu_utilization_threshold_percent=90,
            serverless_capacity_threshold_acu=16.0,
            free_local_storage_threshold_bytes=10 * 1024**3,
            connections_threshold=1_500,
            max_used_transaction_ids_threshold=1_000_000_000,
            probe_latency_threshold_ms=2_000,
            heartbeat_lag_threshold_ms=90_000,
            alert_subscriber_required=True,
            dns_ttl_seconds=30,
            rto_target_seconds=120,
            health_check_rate_minutes=1,
            peer_watch_ticker=True,
            probe_timeout_seconds=4,
            probe_run_budget_seconds=12,
            peer_probe_cadence_seconds=5,
            confirmation_window_seconds=20,
            in_region_failover_excuse_seconds=60,
            failover_poll_seconds=5,
            failover_lag_budget_ms=60_000,
            failed_lock_block_minutes=30,
            backup_max_age_hours=26,
            backup_verify_rate_hours=24,
            backup_report_slack_hours=1,
            copy_snapshot_to_dr=False,
            restore_test=True,
            restore_test_instance_class="db.t4g.medium",
            reserved_concurrency=FunctionConcurrency(
                failover_coordinator=1,
                connection_drainer=2,
                health_checker=5,
                peer_watch=4,
                secret_rotation=1,
                backup_verifier=1,
            ),
            backup_bucket_noncurrent_days=90,
            backup_bucket_abort_multipart_days=7,
            backup_bucket_force_destroy=False,
            snapshot_export_every_days=14,
            snapshot_export_retention_days=21,
            aws_backup=AwsBackupPlan(
                rules=(
                    # Daily, kept as long as the clusters keep their own backups (free there).
                    BackupRule("daily", "cron(0 7 ? * * *)", 14, None),
                    # On the 1st and the 15th, copied into the other region's vault and kept
                    # there three weeks: the one off-global-database copy that outlives a region
                    # and a bad deploy. Each copy is a full snapshot charged as inter-region
                    # transfer (~$10 per 500 GB), so the cadence is the RPO/cost trade-off: at
                    # most 17 days of changes lost with the primary region *and* a corrupted
                    # secondary, against ~$43 a month per region for a weekly copy's transfer.
                    BackupRule("copy", "cron(0 9 1,15 * ? *)", 14, 21),
                ),
                vault_lock=VaultLock(
                    min_retention_days=7, max_retention_days=35, changeable_for_days=7
                ),
                start_window_minutes=120,
                completion_window_minutes=720,
                # 17 days (the 15th to the 1st) + 2 h + 12 h windows + a day for the copy: 18 days.
                copy_max_age_hours=18 * 24,
            ),
        ),
    }
)


def is_global_database_class(instance_class: str) -> bool:
    """True when Aurora global databases accept `instance_class` (memory-optimised or serverless)."""
    return instance_class == GLOBAL_DATABASE_SERVERLESS_CLASS or instance_class.startswith(
        GLOBAL_DATABASE_CLASS_PREFIXES
    )
