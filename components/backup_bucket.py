"""BackupBucket: one region's bucket for what the DR system keeps outside RDS."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.region_key import RegionKey
from decisions.iam import tls_only_bucket_policy
from lambdas.drcommon.contract import BACKUP_BUCKET
from stack.account import Account
from stack.naming import Namer
from stack.regions import Region
from stack.sizing import Sizing

# S3's only ownership setting that turns ACLs off: "BucketOwnerEnforced - Access control lists
# (ACLs) are disabled and no longer affect permissions" (PutBucketOwnershipControls).
NO_ACLS = "BucketOwnerEnforced"
# The whole bucket: a lifecycle filter on the empty prefix.
EVERY_OBJECT = ""


@dataclass(frozen=True)
class BackupBucketArgs:
    """Inputs of `BackupBucket`."""

    region: Region
    namer: Namer
    account: Account
    """Bucket names are global across AWS: the account id keeps two accounts' stacks apart."""
    sizing: Sizing
    """Lifecycle days, `force_destroy`, and Pulumi `protect` (prod)."""
    key: RegionKey
    """The region's key: the bucket's default encryption (with an S3 Bucket Key)."""


class BackupBucket(pulumi.ComponentResource):
    """A versioned bucket encrypted by default with the region's key (Bucket Key on), all four
    public-access blocks, ACLs disabled, a policy that refuses requests without TLS, and a
    lifecycle that expires replaced versions, aborted uploads and old snapshot exports.

    Verification reports and snapshot exports are written here (`contract.BACKUP_BUCKET`); the
    primary region's bucket replicates into the DR region's (`BackupReplication`)."""

    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    """Replication may only be configured once versioning is on, in both buckets."""

    def __init__(
        self, name: str, args: BackupBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:BackupBucket", name, None, opts)
        self._name, self._args = name, args
        self.region, self.key = args.region, args.key
        self._child = pulumi.ResourceOptions(parent=self, provider=args.region.provider)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.namer.regional(args.region.name, "backups", args.account.id),
            force_destroy=args.sizing.backup_bucket_force_destroy,
            tags={"Name": args.namer.regional(args.region.name, "backups")},
            opts=self._child.merge(pulumi.ResourceOptions(protect=args.sizing.protect)),
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self._versioning_and_encryption()
        self._access()
        self._lifecycle()
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})

    def exports(self) -> dict[str, pulumi.Output[str]]:
        """Stack outputs: `primaryBackupBucket` / `drBackupBucket` (the bucket names)."""
        return {f"{self.region.role}BackupBucket": self.bucket.bucket}

    def _versioning_and_encryption(self) -> None:
        self.versioning = aws.s3.BucketVersioning(
            f"{self._name}-versioning",
            bucket=self.bucket.bucket,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=self._child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{self._name}-encryption",
            bucket=self.bucket.bucket,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=self.key.arn
                    ),
                    # One KMS data key per bucket instead of one call per object.
                    bucket_key_enabled=True,
                )
            ],
            opts=self._child,
        )

    def _access(self) -> None:
        """No public access of any kind, no ACLs, TLS only (Security Hub S3.8, S3.12, S3.5)."""
        public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{self._name}-public-access-block",
            bucket=self.bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child,
        )
        aws.s3.BucketOwnershipControls(
            f"{self._name}-ownership",
            bucket=self.bucket.bucket,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership=NO_ACLS),
            opts=self._child,
        )
        aws.s3.BucketPolicy(
            f"{self._name}-policy",
            bucket=self.bucket.bucket,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(tls_only_bucket_policy(arn))),
            # After the public-access block: both change the bucket's access settings.
            opts=self._child.merge(pulumi.ResourceOptions(depends_on=[public_access_block])),
        )

    def _lifecycle(self) -> None:
        """Replaced and deleted versions expire after the sizing's days (what is current stays),
        aborted multipart uploads are cleaned up, and snapshot exports expire after their
        retention. Where two rules expire one object, the earlier date applies."""
        sizing = self._args.sizing
        lifecycle = aws.s3.BucketLifecycleConfigurationRuleArgs
        aws.s3.BucketLifecycleConfiguration(
            f"{self._name}-lifecycle",
            bucket=self.bucket.bucket,
            rules=[
                lifecycle(
                    id="expire-replaced-versions",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=EVERY_OBJECT),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=sizing.backup_bucket_noncurrent_days
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=sizing.backup_bucket_abort_multipart_days
                    ),
                ),
                lifecycle(
                    id="expire-snapshot-exports",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                        prefix=BACKUP_BUCKET.snapshot_exports
                    ),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=sizing.snapshot_export_retention_days
                    ),
                ),
            ],
            # After versioning, as the provider's example for a versioned bucket orders it
            # (pulumi-aws s3.BucketLifecycleConfiguration).
            opts=self._child.merge(pulumi.ResourceOptions(depends_on=[self.versioning])),
        )
