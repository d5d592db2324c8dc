"""Environment of the backup verifier: every variable it reads, validated once.

The verifier runs in the DR region (`AWS_REGION`, set by the Lambda runtime) on a schedule. The
writer's region is not configured: it is found at run time from the global cluster topology.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from drcommon import envconfig
from drcommon.contract import VERIFIER_RESOURCES
from drcommon.contract import VerifierEnv as Env
from drcommon.envconfig import SettingsError

# The variable names and which are required are the contract's (the stack sets them from there).
# These lists serve the stack's wiring test (tests/infra/test_dr_automation.py).

# The stack scopes the verifier's permissions to this prefix (the contract's).
DEFAULT_RESOURCE_PREFIX = VERIFIER_RESOURCES.prefix
# Aurora creates the automated snapshot once a day, within the cluster's backup window ("The
# daily time range during which automated backups are created", RDS API reference,
# PreferredBackupWindow). Two consecutive snapshots are therefore at most 24 h plus the window's
# length apart (the stack's window is 1 h), and the verifier, running at any time of day, may
# look just before the next one is `available`: 24 h + 1 h window + 1 h slack for the snapshot
# to finish = 26 h. Older means a daily backup was missed. The stack sets it from the sizing.
DEFAULT_MAX_SNAPSHOT_AGE_HOURS = 26.0
# Longer than one run (15 min) so a sweep never deletes what a concurrent run just created.
DEFAULT_SWEEP_AFTER_HOURS = 6.0
DEFAULT_POLL_INTERVAL_SECONDS = 30.0
# The stack sets it from the AWS Backup plan's copy cadence (stack/sizing.py); a week by default.
DEFAULT_BACKUP_COPY_MAX_AGE_HOURS = 7 * 24.0

_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$")
_KMS_KEY = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$")
# RDS identifiers: a letter first, then letters, digits, single hyphens.
_PREFIX = re.compile(r"^[a-z](?:-?[a-z0-9])*$")
_SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
# S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

# `<prefix>-<suffix>-<yyyymmddHHMMSS>-1` must fit RDS's 63-character identifier limit.
_TIMESTAMP_AND_INSTANCE_CHARS = len("-20260101000000-1")
MAX_IDENTIFIER_LENGTH = 63


@dataclass(frozen=True)
class ExportSettings:
    """The snapshot export: how often, as which role, into which bucket with which key (both
    keyed by region: an export is written in its snapshot's own region)."""

    every_days: int
    role_arn: str
    buckets: Mapping[str, str]
    kms_keys: Mapping[str, str]


@dataclass(frozen=True)
class Settings:
    """Everything the backup verifier reads from its environment."""

    region: str
    peer_region: str
    global_cluster_id: str
    environment: str
    sns_topic_arn: str
    kms_key_id: str
    copy_enabled: bool
    resource_prefix: str
    restore_enabled: bool
    restore_subnet_group: str | None
    restore_security_group_ids: tuple[str, ...]
    restore_instance_class: str | None
    health_checker_function_name: str | None
    max_snapshot_age_hours: float
    sweep_after_hours: float
    poll_interval_seconds: float
    backup_vault: str | None = None
    """This region's AWS Backup vault: verify its newest copy of the writer (None: no AWS Backup)."""
    backup_copy_max_age_hours: float = DEFAULT_BACKUP_COPY_MAX_AGE_HOURS
    """The vault's newest recovery point of the writer may be this old (the copy cadence)."""
    report_bucket: str | None = None
    """This region's backup bucket: each run's report is stored there (None: not stored)."""
    export: ExportSettings | None = None
    """The snapshot export, when the stack asks for one."""

    @property
    def name_stem(self) -> str:
        """`<prefix>-<environment>`: the start of every identifier the verifier creates."""
        return f"{self.resource_prefix}-{self.environment}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; raises `SettingsError` naming the bad variable."""
        env = os.environ if env is None else env
        region, peer_region = envconfig.region_pair(env, Env.AWS_REGION, Env.PEER_REGION)
        environment = envconfig.required(env, Env.ENVIRONMENT_SUFFIX)
        prefix = _resource_prefix(env, environment)
        kms_key_id = _kms_key(env, region)
        topic = envconfig.required(env, Env.SNS_TOPIC_ARN)
        if not _SNS_ARN.match(topic) or f":sns:{region}:" not in topic:
            raise SettingsError(
                f"environment variable {Env.SNS_TOPIC_ARN}={topic!r} is not an SNS topic ARN "
                f"in {region}"
            )
        restore = _restore_test(env)
        vault = envconfig.optional(env, Env.BACKUP_VAULT_NAME)
        return cls(
            region=region,
            peer_region=peer_region,
            global_cluster_id=envconfig.required(env, Env.GLOBAL_CLUSTER_ID),
            environment=environment,
            sns_topic_arn=topic,
            kms_key_id=kms_key_id,
            copy_enabled=envconfig.flag(env, Env.COPY_SNAPSHOT_ENABLED, default=True),
            resource_prefix=prefix,
            restore_enabled=restore.enabled,
            restore_subnet_group=restore.subnet_group,
            restore_security_group_ids=restore.security_group_ids,
            restore_instance_class=restore.instance_class,
            health_checker_function_name=envconfig.optional(env, Env.HEALTH_CHECKER_FUNCTION_NAME),
            max_snapshot_age_hours=envconfig.number(
                env, Env.MAX_SNAPSHOT_AGE_HOURS, DEFAULT_MAX_SNAPSHOT_AGE_HOURS, 1.0, 24.0 * 35
            ),
            sweep_after_hours=envconfig.number(
                env, Env.SWEEP_AFTER_HOURS, DEFAULT_SWEEP_AFTER_HOURS, 0.5, 24.0 * 35
            ),
            poll_interval_seconds=envconfig.number(
                env, Env.POLL_INTERVAL_SECONDS, DEFAULT_POLL_INTERVAL_SECONDS, 1.0, 300.0
            ),
            backup_vault=vault,
            backup_copy_max_age_hours=envconfig.number(
                env,
                Env.BACKUP_COPY_MAX_AGE_HOURS,
                DEFAULT_BACKUP_COPY_MAX_AGE_HOURS,
                1.0,
                24.0 * 36_500,
            ),
            report_bucket=_bucket(env, Env.REPORT_BUCKET),
            export=_snapshot_export(env, (region, peer_region)),
        )


def _resource_prefix(env: Mapping[str, str], environment: str) -> str:
    """The prefix, checked to form valid RDS identifiers with the environment and a timestamp."""
    prefix = envconfig.optional(env, Env.RESOURCE_PREFIX, DEFAULT_RESOURCE_PREFIX) or ""
    stem = f"{prefix}-{environment}"
    if not _PREFIX.match(stem):
        raise SettingsError(
            f"{Env.RESOURCE_PREFIX}={prefix!r} and {Env.ENVIRONMENT_SUFFIX}={environment!r} must "
            "form an RDS identifier (lowercase letter first, letters, digits, single hyphens)"
        )
    if len(stem) + _TIMESTAMP_AND_INSTANCE_CHARS > MAX_IDENTIFIER_LENGTH:
        raise SettingsError(
            f"{Env.RESOURCE_PREFIX} + {Env.ENVIRONMENT_SUFFIX} ({stem!r}) is too long: identifiers "
            f"would exceed {MAX_IDENTIFIER_LENGTH} characters"
        )
    return prefix


def _kms_key(env: Mapping[str, str], region: str) -> str:
    """This region's KMS key ARN (required: copies from the other region must name it)."""
    kms_key_id = envconfig.required(env, Env.DR_KMS_KEY_ID)
    if not _KMS_KEY.match(kms_key_id):
        raise SettingsError(
            f"environment variable {Env.DR_KMS_KEY_ID}={kms_key_id!r} is not a KMS key ARN"
        )
    if f":kms:{region}:" not in kms_key_id:
        # A cross-region copy must be encrypted with a key of the destination region.
        raise SettingsError(f"environment variable {Env.DR_KMS_KEY_ID} must be a key in {region}")
    return kms_key_id


@dataclass(frozen=True)
class _RestoreTest:
    """Whether the restore test runs, and where it restores."""

    enabled: bool
    subnet_group: str | None
    security_group_ids: tuple[str, ...]
    instance_class: str | None


def _restore_test(env: Mapping[str, str]) -> _RestoreTest:
    """The restore test's variables; the three targets are required when it is enabled."""
    restore = _RestoreTest(
        enabled=envconfig.flag(env, Env.RESTORE_TEST_ENABLED),
        subnet_group=envconfig.optional(env, Env.RESTORE_DB_SUBNET_GROUP),
        security_group_ids=envconfig.name_list(env, Env.RESTORE_SECURITY_GROUP_IDS),
        instance_class=envconfig.optional(env, Env.RESTORE_INSTANCE_CLASS),
    )
    copies = envconfig.flag(env, Env.COPY_SNAPSHOT_ENABLED, default=True)
    if restore.enabled and not copies and not envconfig.optional(env, Env.BACKUP_VAULT_NAME):
        # The writer is usually in the other region: its snapshot is restored from a copy here.
        raise SettingsError(
            f"environment variable {Env.RESTORE_TEST_ENABLED} is true but "
            f"{Env.COPY_SNAPSHOT_ENABLED} is false and {Env.BACKUP_VAULT_NAME} is unset: the "
            "restore test restores a copy in this region"
        )
    if restore.enabled:
        for name, value in (
            (Env.RESTORE_DB_SUBNET_GROUP, restore.subnet_group),
            (Env.RESTORE_SECURITY_GROUP_IDS, restore.security_group_ids),
            (Env.RESTORE_INSTANCE_CLASS, restore.instance_class),
        ):
            if not value:
                raise SettingsError(
                    f"environment variable {name} is required when "
                    f"{Env.RESTORE_TEST_ENABLED} is true"
                )
    for group in restore.security_group_ids:
        if not _SECURITY_GROUP.match(group):
            raise SettingsError(
                f"environment variable {Env.RESTORE_SECURITY_GROUP_IDS}: {group!r} is not a "
                "security group id"
            )
    if restore.instance_class is not None and not restore.instance_class.startswith("db."):
        raise SettingsError(
            f"environment variable {Env.RESTORE_INSTANCE_CLASS}={restore.instance_class!r} is not "
            "a DB instance class (db.*)"
        )
    return restore


def _bucket(env: Mapping[str, str], name: str) -> str | None:
    """An S3 bucket name, when set."""
    bucket = envconfig.optional(env, name)
    if bucket is not None and not _BUCKET.match(bucket):
        raise SettingsError(f"environment variable {name}={bucket!r} is not an S3 bucket name")
    return bucket


def _snapshot_export(env: Mapping[str, str], regions: tuple[str, str]) -> ExportSettings | None:
    """The export's settings when `SNAPSHOT_EXPORT_EVERY_DAYS` is set: then the role, and a
    bucket and a key of each region (the writer's snapshot is exported in its own region), are
    required too."""
    every_text = envconfig.optional(env, Env.SNAPSHOT_EXPORT_EVERY_DAYS)
    role_arn = envconfig.optional(env, Env.SNAPSHOT_EXPORT_ROLE_ARN)
    buckets = envconfig.string_map(env, Env.SNAPSHOT_EXPORT_BUCKETS)
    keys = envconfig.string_map(env, Env.SNAPSHOT_EXPORT_KMS_KEYS)
    if every_text is None:
        return None
    every = envconfig.integer(env, Env.SNAPSHOT_EXPORT_EVERY_DAYS, 7, 1, 365)
    if role_arn is None or not _ROLE_ARN.match(role_arn):
        raise SettingsError(
            f"environment variable {Env.SNAPSHOT_EXPORT_ROLE_ARN} must be a role ARN when "
            f"{Env.SNAPSHOT_EXPORT_EVERY_DAYS} is set"
        )
    for region in regions:
        if not _BUCKET.match(buckets.get(region, "")):
            raise SettingsError(
                f"environment variable {Env.SNAPSHOT_EXPORT_BUCKETS} needs the bucket of {region}"
            )
        key = keys.get(region, "")
        if not _KMS_KEY.match(key) or f":kms:{region}:" not in key:
            raise SettingsError(
                f"environment variable {Env.SNAPSHOT_EXPORT_KMS_KEYS} needs a key ARN of {region}"
            )
    return ExportSettings(every_days=every, role_arn=role_arn, buckets=buckets, kms_keys=keys)
