"""Every fact the Pulumi program and the Lambda functions share, spelled once.

* the health metrics: the health checker publishes them every minute in its own region;
  `Monitoring` builds its alarms and dashboard from them and `FailoverDns` hangs its Route 53
  health checks on those alarms;
* the page the peer watch sends its region's coordinator, and the peer probe it (and the
  coordinator) asks the in-VPC health checker for;
* the hard budget of every call into the region that may be lost (`REMOTE_CALL_BUDGET`);
* the operational metrics of the automation: their namespace (`AUTOMATION_NAMESPACE`), their
  dimension set (`automation_dimensions`) and the backup verifier's result metric, which the
  stack alarms on (`VERIFICATION_SUCCEEDED`);
* each function's environment: one `EnvName` group per function (`CoordinatorEnv`,
  `HealthCheckerEnv`, `WatchEnv`, `DrainerEnv`, `RotationEnv`, `VerifierEnv`, all in
  `FUNCTION_ENV`), each
  name marked required, optional, required with the restore test, or set by the Lambda runtime;
* the failover lock table's schema (`LOCK_TABLE`) and the backup verifier's resource prefix and
  purpose tag (`VERIFIER_RESOURCES`), which the program's IAM policies are scoped to;
* where the functions write in the backup buckets (`BACKUP_BUCKET`).

The program imports this module as `lambdas.drcommon.contract`; the functions import it from the
layer as `drcommon.contract`. Keep it free of third-party imports for that reason. How the program
uses it::

    from lambdas.drcommon.contract import LOCK_TABLE, VERIFIER_RESOURCES, DrainerEnv

    # A member is a str: use it as the key (Pulumi serialises it as the plain name).
    variables = {DrainerEnv.LOCAL_REGION: region_name, DrainerEnv.DB_SECRET_ID: secret_name, ...}
    assert set(DrainerEnv.required()) <= set(variables) <= set(DrainerEnv.settable())

    aws.dynamodb.Table(
        ...,
        hash_key=LOCK_TABLE.partition_key,
        attributes=[aws.dynamodb.TableAttributeArgs(
            name=LOCK_TABLE.partition_key, type=LOCK_TABLE.partition_key_type)],
        ttl=aws.dynamodb.TableTtlArgs(attribute_name=LOCK_TABLE.ttl_attribute, enabled=True),
    )
    # IAM: restore/delete only `<VERIFIER_RESOURCES.prefix>-<suffix>-*` carrying the tag
    # `VERIFIER_RESOURCES.purpose_tag` = `VERIFIER_RESOURCES.purpose`.

`FUNCTION_ENV[<package name>]` gives the group of a function by its key (`failover_coordinator`,
`health_checker`, `peer_watch`, `connection_drainer`, `secret_rotation`, `backup_verifier`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Self

NAMESPACE = "AuroraDR/Health"

# Dimensions carried by every health metric. `Environment` is the stack's environmentSuffix, so two
# stacks in one account never share a time series. `ClusterRegion` is the region of the cluster
# that was probed (the checker's own region, or the peer region for the peer probe); the metric is
# always published in the checker's own region.
DIMENSION_ENVIRONMENT = "Environment"
DIMENSION_CLUSTER_REGION = "ClusterRegion"


class Unit(StrEnum):
    """CloudWatch units used by the contract."""

    COUNT = "Count"
    MILLISECONDS = "Milliseconds"


@dataclass(frozen=True)
class HealthMetric:
    """One metric of the contract.

    `availability` metrics are 0/1 gauges: alarms on them treat missing data as breaching,
    because a silent region is an unhealthy region. `peer` metrics describe the *other* region's
    cluster, probed over the VPC peering.
    """

    name: str
    unit: Unit
    description: str
    availability: bool
    peer: bool = False


WRITER_AVAILABLE = HealthMetric(
    name="WriterAvailable",
    unit=Unit.COUNT,
    description=(
        "1 when this region's cluster is the global writer and committed a write probe "
        "(heartbeat upsert) within the probe timeout, else 0."
    ),
    availability=True,
)
READER_AVAILABLE = HealthMetric(
    name="ReaderAvailable",
    unit=Unit.COUNT,
    description="1 when this region's reader endpoint accepts a TLS login and answers SELECT 1.",
    availability=True,
)
PEER_WRITER_AVAILABLE = HealthMetric(
    name="PeerWriterAvailable",
    unit=Unit.COUNT,
    description=(
        "1 when the global writer is not lost as seen from this region: when the peer region "
        "holds the writer role (or the role cannot be read), its cluster endpoint, probed over "
        "the peering, accepts a TLS login and answers SELECT 1 as a writer; when this region "
        "holds the writer role there is no peer writer to lose and the value is 1. In the DR "
        "region this is 'the primary writer is reachable from the DR region'."
    ),
    availability=True,
    peer=True,
)
PROBE_LATENCY = HealthMetric(
    name="ProbeLatency",
    unit=Unit.MILLISECONDS,
    description="Wall time of this region's writer-or-reader probe: connect, TLS login, query.",
    availability=False,
)
HEARTBEAT_LAG = HealthMetric(
    name="HeartbeatLag",
    unit=Unit.MILLISECONDS,
    description=(
        "Age of the newest heartbeat row read on this region's cluster: on the writer the write "
        "round trip, on a secondary the observed replication lag."
    ),
    availability=False,
)

ALL_METRICS: tuple[HealthMetric, ...] = (
    WRITER_AVAILABLE,
    READER_AVAILABLE,
    PEER_WRITER_AVAILABLE,
    PROBE_LATENCY,
    HEARTBEAT_LAG,
)

# Table the health checker upserts on the writer and reads on every cluster.
HEARTBEAT_TABLE = "aurora_dr_heartbeat"
# Table the health checker's drill mode (`drctl drill`) inserts one numbered row a second into,
# through the global writer endpoint: (run_id, seq) and the commit time.
DRILL_HEARTBEAT_TABLE = "aurora_dr_drill_heartbeat"
# The drill's own metrics (`drctl drill` publishes them from the operator's machine).
DRILL_NAMESPACE = "AuroraDR/Drill"


# The page the peer watch sends its region's coordinator once failed probes of the peer writer
# span the confirmation window (peer_watch/page.py sends it, failover_coordinator/events.py
# accepts it). The source name predates the watch: the probes are still the health checker's.
PAGE_SOURCE = "aurora-dr.health-checker"
PAGE_DETAIL_TYPE = "Peer Writer Unreachable"

# The input the stack gives each execution of the peer watch's ticker (its first tick).
WATCH_START_EVENT = {"watch": "start"}

# The input of the peer watch's health run: the region's health-check schedule sends it once a
# minute, the coordinator right after a promotion. The run (outside the VPC) reads the writer's
# region from the RDS API, asks the region's health checker for `HEALTH_PROBE_EVENT` (the SQL
# probes, in the VPC) and publishes every contract metric: the checker calls no API but Secrets
# Manager, so its VPC needs no `rds` or `monitoring` interface endpoint.
HEALTH_RUN_EVENT = {"health": "run"}
HEALTH_PROBE_EVENT = {"probe": "health"}

# The backup verifier (outside the VPC) asks its region's health checker to log in to a restored
# cluster: `{RESTORE_PROBE_KEY: {"host": ..., "port": ...}}`, never a credential (the checker
# reads the secret itself). The answer carries `RESTORE_PROBE_RESULT_KEYS`.
RESTORE_PROBE_KEY = "restoreProbe"
RESTORE_PROBE_RESULT_KEYS = frozenset({"ok", "detail"})

# The event that asks a health checker for one probe of the peer's cluster endpoint and nothing
# else (no metric, no API call but the secret read): the peer watch sends it every tick, the
# coordinator once more right before a failover. The answer carries `PEER_PROBE_RESULT_KEYS`.
PEER_PROBE_EVENT = {"probe": "peer"}
PEER_PROBE_RESULT_KEYS = frozenset({"endpoint", "ok", "isWriter", "latencyMs", "error"})
# Lambda's own part of a synchronous invoke of the warm in-VPC checker, added to its probe
# timeout for the caller's read timeout. An assumption: drills measure it (each caller logs the
# invoke's duration).
PEER_PROBE_INVOKE_ALLOWANCE_SECONDS = 2.0


def dimensions(environment: str, cluster_region: str) -> dict[str, str]:
    """The dimension set of every contract metric, as a name -> value mapping."""
    return {DIMENSION_ENVIRONMENT: environment, DIMENSION_CLUSTER_REGION: cluster_region}


# --- operational metrics of the automation ----------------------------------------------------

# The coordinator and the backup verifier publish their outcome metrics (EMF) here, with the
# `Environment` dimension (`DIMENSION_ENVIRONMENT`); the health metrics above have their own.
AUTOMATION_NAMESPACE = "AuroraDR/Automation"
# Powertools' `Metrics(service=...)` adds the service as a dimension named `service` to every
# EMF record it flushes, unless one is set already (aws_lambda_powertools 3.x,
# metrics/provider/cloudwatch_emf/cloudwatch.py, `serialize_metric_set`). A function's service
# is its package name (the keys of `FUNCTION_ENV`). An alarm must name exactly the dimensions a
# record carries, or it watches a time series nobody writes.
DIMENSION_SERVICE = "service"
# 1 when a backup verifier run found nothing wrong, else 0; one datapoint per run.
VERIFICATION_SUCCEEDED = "VerificationSucceeded"
# The verifier's other metrics: the age of the writer's newest automated snapshot (seconds) and
# whether it is within the sizing's age (1/0), and 1/0 per step it attempted (a skipped step
# emits nothing): the copy into the DR region, the restore test, the S3 export, the report.
SNAPSHOT_AGE_SECONDS = "SnapshotAgeSeconds"
SNAPSHOT_FRESH = "SnapshotFresh"
COPY_SUCCEEDED = "CopySucceeded"
RESTORE_SUCCEEDED = "RestoreSucceeded"
EXPORT_STARTED = "ExportStarted"
REPORT_STORED = "ReportStored"


class CoordinatorOutcome(StrEnum):
    """The coordinator's outcome metrics: one datapoint per invocation each, 1 when the
    invocation ended that way, else 0 (`Invocations` is always 1). `RdsGlobalFailoverEvents`
    counts the RDS global-failover events it recorded (a failover it did not start itself)."""

    INVOCATIONS = "Invocations"
    FAILOVER_STARTED = "FailoverStarted"
    FAILOVER_COMPLETED = "FailoverCompleted"
    FAILOVER_FAILED = "FailoverFailed"
    FAILOVER_REFUSED = "FailoverRefused"
    FAILOVER_BLOCKED = "FailoverBlocked"
    FAILOVER_SUPERSEDED = "FailoverSuperseded"
    RDS_GLOBAL_FAILOVER_EVENTS = "RdsGlobalFailoverEvents"


def automation_dimensions(environment: str, service: str) -> dict[str, str]:
    """The dimension set of every automation metric of the function `service` in a stack."""
    return {DIMENSION_ENVIRONMENT: environment, DIMENSION_SERVICE: service}


# --- calls into the region that may be lost ---------------------------------------------------


@dataclass(frozen=True)
class RemoteCallBudget:
    """The hard budget of every AWS call a DR function makes into the *other* region: the one
    that may be lost. A black-holed API then costs seconds, not the ~40 s that botocore's
    defaults (and the 3 s / 10 s / 3 attempts of drcommon.aws) allow."""

    connect_timeout_seconds: float = 1.0
    read_timeout_seconds: float = 2.0
    max_attempts: int = 2  # botocore's total_max_attempts: the first try included


REMOTE_CALL_BUDGET = RemoteCallBudget()

# botocore's standard retry mode waits between attempts: t_i = rand(0, 1) * min(base * 2**i, 20 s),
# base 50 ms for errors other than throttling (connect and read timeouts are such errors;
# botocore/retries/standard.py, ExponentialBackoff).
RETRY_BACKOFF_BASE_SECONDS = 0.05
RETRY_BACKOFF_MAX_SECONDS = 20.0


def worst_case_call_seconds(connect_timeout: float, read_timeout: float, attempts: int) -> float:
    """How long one call can take when every attempt connects and then hears nothing until its
    read timeout (a black-holed API), with botocore's longest wait between attempts."""
    backoff = sum(
        min(RETRY_BACKOFF_BASE_SECONDS * 2**i, RETRY_BACKOFF_MAX_SECONDS)
        for i in range(attempts - 1)
    )
    return attempts * (connect_timeout + read_timeout) + backoff


# --- the environment of each function ---------------------------------------------------------


class Presence(StrEnum):
    """Who sets an environment variable, and whether the function can do without it."""

    REQUIRED = "required"  # the stack must set it
    OPTIONAL = "optional"  # the stack may set it; the function has a default
    # Backup verifier only: required when RESTORE_TEST_ENABLED is true (the sizing decides).
    WITH_RESTORE_TEST = "with_restore_test"
    RUNTIME = "runtime"  # set by the Lambda runtime (AWS_REGION), never by the stack


class EnvName(StrEnum):
    """Base of each function's group of environment variable names.

    A member is the variable's name as a `str` (usable directly as a key of the variables the
    program sets and of `os.environ`), spelled exactly like the member itself, and carries its
    `presence`.
    """

    presence: Presence

    def __new__(cls, name: str, presence: Presence = Presence.REQUIRED) -> Self:
        """A member named `name`, set as `presence` says."""
        member = str.__new__(cls, name)
        member._value_ = name
        member.presence = presence
        return member

    @classmethod
    def having(cls, *presences: Presence) -> tuple[Self, ...]:
        """The names with one of `presences`, in declaration order."""
        return tuple(member for member in cls if member.presence in presences)

    @classmethod
    def required(cls) -> tuple[Self, ...]:
        """What the stack must set."""
        return cls.having(Presence.REQUIRED)

    @classmethod
    def settable(cls) -> tuple[Self, ...]:
        """Everything the stack may set (all but the runtime's own variables)."""
        return tuple(member for member in cls if member.presence is not Presence.RUNTIME)


# The CA bundle the database connections trust, for the three functions that open them
# (`drcommon.db`); unset means the RDS bundle shipped in the layer.
CA_BUNDLE_ENV = "DB_CA_BUNDLE"


class CoordinatorEnv(EnvName):
    """The failover coordinator's environment (both regions; "local" is the one it runs in)."""

    AWS_REGION = "AWS_REGION", Presence.RUNTIME  # the local region
    GLOBAL_CLUSTER_ID = "GLOBAL_CLUSTER_ID", Presence.REQUIRED
    PEER_REGION = "PEER_REGION", Presence.REQUIRED
    ENVIRONMENT_SUFFIX = "ENVIRONMENT_SUFFIX", Presence.REQUIRED
    # The probe alarm (on PeerWriterAvailable) and the writer alarm (on WriterAvailable) of each
    # region, the drainer and the lock table of each region, and the topic in the local region.
    # A role change is locked in the table of its *target* region, so both regions' coordinators
    # contend on one lock per global cluster.
    LOCAL_PROBE_ALARM_NAME = "LOCAL_PROBE_ALARM_NAME", Presence.REQUIRED
    LOCAL_WRITER_ALARM_NAME = "LOCAL_WRITER_ALARM_NAME", Presence.REQUIRED
    PEER_PROBE_ALARM_NAME = "PEER_PROBE_ALARM_NAME", Presence.REQUIRED
    PEER_WRITER_ALARM_NAME = "PEER_WRITER_ALARM_NAME", Presence.REQUIRED
    LOCAL_DRAINER_FUNCTION_NAME = "LOCAL_DRAINER_FUNCTION_NAME", Presence.REQUIRED
    PEER_DRAINER_FUNCTION_NAME = "PEER_DRAINER_FUNCTION_NAME", Presence.REQUIRED
    LOCAL_LOCK_TABLE_NAME = "LOCAL_LOCK_TABLE_NAME", Presence.REQUIRED
    PEER_LOCK_TABLE_NAME = "PEER_LOCK_TABLE_NAME", Presence.REQUIRED
    SNS_TOPIC_ARN = "SNS_TOPIC_ARN", Presence.REQUIRED
    LAG_BUDGET_MS = "LAG_BUDGET_MS", Presence.REQUIRED  # the sizing's data-loss budget
    # The health checkers: asked for a fresh peer probe before a failover, when set.
    LOCAL_HEALTH_CHECKER_FUNCTION_NAME = "LOCAL_HEALTH_CHECKER_FUNCTION_NAME", Presence.OPTIONAL
    PEER_HEALTH_CHECKER_FUNCTION_NAME = "PEER_HEALTH_CHECKER_FUNCTION_NAME", Presence.OPTIONAL
    # The peer watches: their health run (`HEALTH_RUN_EVENT`) runs right after a role change
    # towards their region, when set.
    LOCAL_HEALTH_RUN_FUNCTION_NAME = "LOCAL_HEALTH_RUN_FUNCTION_NAME", Presence.OPTIONAL
    PEER_HEALTH_RUN_FUNCTION_NAME = "PEER_HEALTH_RUN_FUNCTION_NAME", Presence.OPTIONAL
    LAG_LOOKBACK_SECONDS = "LAG_LOOKBACK_SECONDS", Presence.OPTIONAL
    LOCK_LEASE_SECONDS = "LOCK_LEASE_SECONDS", Presence.OPTIONAL
    # How long a `failed`/`unconfirmed` lock blocks automatic (unforced) actions (the sizing's).
    FAILED_LOCK_BLOCK_MINUTES = "FAILED_LOCK_BLOCK_MINUTES", Presence.OPTIONAL
    POLL_INTERVAL_SECONDS = "POLL_INTERVAL_SECONDS", Presence.OPTIONAL
    DRAIN_TIMEOUT_SECONDS = "DRAIN_TIMEOUT_SECONDS", Presence.OPTIONAL
    # Read timeout of the fresh peer probe it asks the local health checker for before failing
    # over, and how long an in-region failover of the writer's cluster excuses its loss.
    PEER_PROBE_TIMEOUT_SECONDS = "PEER_PROBE_TIMEOUT_SECONDS", Presence.OPTIONAL
    IN_REGION_FAILOVER_EXCUSE_SECONDS = "IN_REGION_FAILOVER_EXCUSE_SECONDS", Presence.OPTIONAL
    # The budget of its calls into the peer region (`REMOTE_CALL_BUDGET` by default).
    REMOTE_CONNECT_TIMEOUT_SECONDS = "REMOTE_CONNECT_TIMEOUT_SECONDS", Presence.OPTIONAL
    REMOTE_READ_TIMEOUT_SECONDS = "REMOTE_READ_TIMEOUT_SECONDS", Presence.OPTIONAL
    REMOTE_MAX_ATTEMPTS = "REMOTE_MAX_ATTEMPTS", Presence.OPTIONAL


class HealthCheckerEnv(EnvName):
    """The health checker's environment (both regions)."""

    # The stack's environmentSuffix: the metrics' Environment dimension.
    ENVIRONMENT_SUFFIX = "ENVIRONMENT_SUFFIX", Presence.REQUIRED
    LOCAL_REGION = "LOCAL_REGION", Presence.REQUIRED  # where it runs
    PEER_REGION = "PEER_REGION", Presence.REQUIRED  # the other region of the global database
    # Name of the credentials secret (the same in both regions).
    DB_SECRET_ID = "DB_SECRET_ID", Presence.REQUIRED
    CLUSTER_ENDPOINT = "CLUSTER_ENDPOINT", Presence.REQUIRED  # this region's cluster endpoint
    READER_ENDPOINT = "READER_ENDPOINT", Presence.REQUIRED  # this region's reader endpoint
    PEER_CLUSTER_ENDPOINT = "PEER_CLUSTER_ENDPOINT", Presence.REQUIRED
    PROBE_TIMEOUT_SECONDS = "PROBE_TIMEOUT_SECONDS", Presence.OPTIONAL  # per connect/read
    RUN_BUDGET_SECONDS = "RUN_BUDGET_SECONDS", Presence.OPTIONAL  # all probes of one run
    DB_CA_BUNDLE = CA_BUNDLE_ENV, Presence.OPTIONAL


class WatchEnv(EnvName):
    """The peer watch's environment (both regions; not VPC-attached).

    One execution of the region's Step Functions ticker starts every `EXECUTION_SECONDS` and
    invokes the watch every `PROBE_CADENCE_SECONDS`; each tick asks the local health checker for a
    peer probe and pages the local coordinator once failures span the confirmation window. Its
    health run (`HEALTH_RUN_EVENT`) publishes the contract metrics.
    """

    AWS_REGION = "AWS_REGION", Presence.RUNTIME  # the local region
    # The stack's environmentSuffix: the metrics' Environment dimension.
    ENVIRONMENT_SUFFIX = "ENVIRONMENT_SUFFIX", Presence.REQUIRED
    PEER_REGION = "PEER_REGION", Presence.REQUIRED
    GLOBAL_CLUSTER_ID = "GLOBAL_CLUSTER_ID", Presence.REQUIRED
    HEALTH_CHECKER_FUNCTION_NAME = "HEALTH_CHECKER_FUNCTION_NAME", Presence.REQUIRED
    COORDINATOR_FUNCTION_NAME = "COORDINATOR_FUNCTION_NAME", Presence.REQUIRED
    PROBE_CADENCE_SECONDS = "PROBE_CADENCE_SECONDS", Presence.OPTIONAL
    CONFIRMATION_WINDOW_SECONDS = "CONFIRMATION_WINDOW_SECONDS", Presence.OPTIONAL
    EXECUTION_SECONDS = "EXECUTION_SECONDS", Presence.OPTIONAL
    PEER_PROBE_TIMEOUT_SECONDS = "PEER_PROBE_TIMEOUT_SECONDS", Presence.OPTIONAL
    # Read timeout of the health run's invoke of the checker: its run budget and Lambda's part.
    HEALTH_PROBE_TIMEOUT_SECONDS = "HEALTH_PROBE_TIMEOUT_SECONDS", Presence.OPTIONAL
    IN_REGION_FAILOVER_EXCUSE_SECONDS = "IN_REGION_FAILOVER_EXCUSE_SECONDS", Presence.OPTIONAL
    REMOTE_CONNECT_TIMEOUT_SECONDS = "REMOTE_CONNECT_TIMEOUT_SECONDS", Presence.OPTIONAL
    REMOTE_READ_TIMEOUT_SECONDS = "REMOTE_READ_TIMEOUT_SECONDS", Presence.OPTIONAL
    REMOTE_MAX_ATTEMPTS = "REMOTE_MAX_ATTEMPTS", Presence.OPTIONAL


class DrainerEnv(EnvName):
    """The connection drainer's environment (both regions).

    The two cluster endpoints are the only hosts it ever logs in to.
    """

    LOCAL_REGION = "LOCAL_REGION", Presence.REQUIRED  # its secret replica is read here
    PEER_REGION = "PEER_REGION", Presence.REQUIRED
    CLUSTER_ENDPOINT = "CLUSTER_ENDPOINT", Presence.REQUIRED  # this region's cluster endpoint
    PEER_CLUSTER_ENDPOINT = "PEER_CLUSTER_ENDPOINT", Presence.REQUIRED
    DB_SECRET_ID = "DB_SECRET_ID", Presence.REQUIRED  # the same name in both regions
    # Default wait before terminating, and the database connect/read timeout.
    DRAIN_GRACE_PERIOD_SECONDS = "DRAIN_GRACE_PERIOD_SECONDS", Presence.OPTIONAL
    CONNECT_TIMEOUT_SECONDS = "CONNECT_TIMEOUT_SECONDS", Presence.OPTIONAL
    # Extra comma-separated roles never terminated (rdsadmin always is).
    PROTECTED_USERS = "PROTECTED_USERS", Presence.OPTIONAL
    DB_CA_BUNDLE = CA_BUNDLE_ENV, Presence.OPTIONAL


class RotationEnv(EnvName):
    """The secret rotation's environment (the primary secret's region, where it runs)."""

    LOCAL_REGION = "LOCAL_REGION", Presence.REQUIRED
    PASSWORD_LENGTH = "PASSWORD_LENGTH", Presence.OPTIONAL
    CONNECT_TIMEOUT_SECONDS = "CONNECT_TIMEOUT_SECONDS", Presence.OPTIONAL  # database connect/read
    DB_CA_BUNDLE = CA_BUNDLE_ENV, Presence.OPTIONAL


class VerifierEnv(EnvName):
    """The backup verifier's environment (the DR region)."""

    AWS_REGION = "AWS_REGION", Presence.RUNTIME
    GLOBAL_CLUSTER_ID = "GLOBAL_CLUSTER_ID", Presence.REQUIRED
    ENVIRONMENT_SUFFIX = "ENVIRONMENT_SUFFIX", Presence.REQUIRED
    PEER_REGION = "PEER_REGION", Presence.REQUIRED
    # This region's alert topic: a failed run publishes its report there.
    SNS_TOPIC_ARN = "SNS_TOPIC_ARN", Presence.REQUIRED
    # Where and how the restore test restores (the sizing decides whether it runs).
    RESTORE_DB_SUBNET_GROUP = "RESTORE_DB_SUBNET_GROUP", Presence.WITH_RESTORE_TEST
    RESTORE_SECURITY_GROUP_IDS = "RESTORE_SECURITY_GROUP_IDS", Presence.WITH_RESTORE_TEST
    RESTORE_INSTANCE_CLASS = "RESTORE_INSTANCE_CLASS", Presence.WITH_RESTORE_TEST
    # This region's KMS key ARN: copies and restores are encrypted with it. Required whatever
    # the sizing: a copy of an encrypted snapshot from another region must name a key of this one.
    DR_KMS_KEY_ID = "DR_KMS_KEY_ID", Presence.REQUIRED
    # Copy the writer's snapshot into this region when the writer is in the other one (default
    # true; the sizing decides). The restore test of a remote writer's snapshot needs the copy.
    COPY_SNAPSHOT_ENABLED = "COPY_SNAPSHOT_ENABLED", Presence.OPTIONAL
    RESOURCE_PREFIX = "RESOURCE_PREFIX", Presence.OPTIONAL  # default VERIFIER_RESOURCES.prefix
    # AWS Backup (prod): this region's vault. When set, the verifier checks, restores and
    # exports the newest recovery point of the writer's cluster in it (the writer's plan copies
    # one there) instead of copying a snapshot itself; older than BACKUP_COPY_MAX_AGE_HOURS
    # (the copy rule's cadence, from the sizing) fails the run.
    BACKUP_VAULT_NAME = "BACKUP_VAULT_NAME", Presence.OPTIONAL
    BACKUP_COPY_MAX_AGE_HOURS = "BACKUP_COPY_MAX_AGE_HOURS", Presence.OPTIONAL
    RESTORE_TEST_ENABLED = "RESTORE_TEST_ENABLED", Presence.OPTIONAL
    # This region's health checker: when set, it probes the restored cluster with SQL (the
    # verifier runs outside the VPC and never holds a credential); otherwise the probe checks
    # that the cluster became available.
    HEALTH_CHECKER_FUNCTION_NAME = "HEALTH_CHECKER_FUNCTION_NAME", Presence.OPTIONAL
    MAX_SNAPSHOT_AGE_HOURS = "MAX_SNAPSHOT_AGE_HOURS", Presence.OPTIONAL
    SWEEP_AFTER_HOURS = "SWEEP_AFTER_HOURS", Presence.OPTIONAL
    POLL_INTERVAL_SECONDS = "POLL_INTERVAL_SECONDS", Presence.OPTIONAL
    # This region's backup bucket: each run's report is stored there under
    # `BACKUP_BUCKET.verification_reports` (unset: the report is only returned and logged).
    REPORT_BUCKET = "REPORT_BUCKET", Presence.OPTIONAL
    # The snapshot export (prod): at most one export every this many days, of the verified
    # snapshot in the verifier's own region (the AWS Backup copy, its own copy, or the writer's
    # snapshot when the writer is local), into this region's backup bucket (S3 must be in the
    # snapshot's region) under `BACKUP_BUCKET.snapshot_exports`, by the export role, with this
    # region's key.
    # The bucket and key maps are JSON objects {"<region>": "<bucket name | key ARN>"}.
    SNAPSHOT_EXPORT_EVERY_DAYS = "SNAPSHOT_EXPORT_EVERY_DAYS", Presence.OPTIONAL
    SNAPSHOT_EXPORT_ROLE_ARN = "SNAPSHOT_EXPORT_ROLE_ARN", Presence.OPTIONAL
    SNAPSHOT_EXPORT_BUCKETS = "SNAPSHOT_EXPORT_BUCKETS", Presence.OPTIONAL
    SNAPSHOT_EXPORT_KMS_KEYS = "SNAPSHOT_EXPORT_KMS_KEYS", Presence.OPTIONAL


# Keyed by the function's package name (`lambdas/<name>/`), which is also its service name.
FUNCTION_ENV: dict[str, type[EnvName]] = {
    "failover_coordinator": CoordinatorEnv,
    "health_checker": HealthCheckerEnv,
    "peer_watch": WatchEnv,
    "connection_drainer": DrainerEnv,
    "secret_rotation": RotationEnv,
    "backup_verifier": VerifierEnv,
}


# --- resources the program creates and a function relies on -----------------------------------


@dataclass(frozen=True)
class LockTableSchema:
    """The failover lock table (one per region): a key and a TTL, no sort key.

    A role change is locked in the table of the region it moves the writer to, whichever
    region's coordinator runs it: both coordinators read and write both tables.
    """

    partition_key: str = "LockId"  # the global cluster identifier
    partition_key_type: str = "S"  # DynamoDB attribute type String
    ttl_attribute: str = "ExpiresAt"  # Number, epoch seconds (DynamoDB TTL)


LOCK_TABLE = LockTableSchema()


@dataclass(frozen=True)
class VerifierResources:
    """How the backup verifier names and tags what it creates.

    The program scopes the verifier's restore and delete permissions to identifiers starting with
    `<prefix>-<environmentSuffix>-` and to the purpose tag; the verifier's sweep deletes only what
    carries both.
    """

    prefix: str = "aurora-dr-verify"
    purpose_tag: str = "aurora-dr:purpose"
    purpose: str = "backup-verification"


VERIFIER_RESOURCES = VerifierResources()


@dataclass(frozen=True)
class BackupBucketLayout:
    """Where the DR functions write in a region's backup bucket.

    The program scopes the writers' permissions to these prefixes (the verifier may put objects
    under `verification_reports` only, the export role write under `snapshot_exports` only) and
    hangs the bucket's lifecycle rules on them. Each ends with `/`, so `<prefix>*` in a policy
    never matches a sibling prefix.
    """

    verification_reports: str = "verification-reports/"
    snapshot_exports: str = "snapshot-exports/"
    drill_reports: str = "drill-reports/"  # `drctl drill` results (written by the operator)


BACKUP_BUCKET = BackupBucketLayout()
