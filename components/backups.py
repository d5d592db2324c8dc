"""Backups: what the stack keeps outside RDS, in both regions: a backup bucket per region, the
primary bucket replicated into the DR one, and AWS Backup where the sizing asks for it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_backup import AwsBackup, AwsBackupArgs
from components.backup_bucket import BackupBucket, BackupBucketArgs
from components.global_aurora import GlobalAurora
from components.region_key import RegionKey
from decisions.iam import ReplicationEnds, assume_role_policy, replication_policy
from lambdas.drcommon.contract import BACKUP_BUCKET
from stack.account import Account
from stack.naming import Namer
from stack.roles import Pair
from stack.sizing import Sizing

# Only the reports are replicated: the snapshot exports are written in the DR bucket already
# (the verifier exports the copy in the DR region), so replicating exports would store and pay
# for the data twice; a report of the primary's verifier or drill is what must outlive it.
REPLICATED_PREFIX = BACKUP_BUCKET.verification_reports


@dataclass(frozen=True)
class BackupsArgs:
    """Inputs of `Backups`."""

    namer: Namer
    sizing: Sizing
    account: Account
    keys: Pair[RegionKey]
    """Each region's bucket and vault are encrypted with its region's key."""
    database: GlobalAurora
    """The member clusters AWS Backup backs up."""


class Backups(pulumi.ComponentResource):
    """A `BackupBucket` per region; S3 replication of the reports primary -> DR under a role of
    its own (least privilege), KMS-encrypted objects included, each replica under the DR key; and, when the
    sizing has an AWS Backup plan, `AwsBackup`.

    One component for both regions because the replication is: it needs both buckets and may
    only be declared once versioning is on in both ("Both source and destination buckets must
    have versioning enabled", S3 user guide, replication requirements), an ordering kept here.

    Deletions are not replicated (no delete markers): the DR copy survives a delete, by mistake
    or by an intruder, in the primary region."""

    buckets: Pair[BackupBucket]

    def __init__(
        self, name: str, args: BackupsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:Backups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.buckets = Pair(
            *(
                BackupBucket(
                    f"{name}-{role}",
                    BackupBucketArgs(key.region, args.namer, args.account, args.sizing, key),
                    opts=child,
                )
                for role, key in args.keys.items()
            )
        )
        self.configuration = self._replication(name, args.namer)
        self.aws_backup: AwsBackup | None = None
        """AWS Backup, when the sizing has a plan (its vaults hold the verifier's DR copy)."""
        if args.sizing.aws_backup is not None:
            plan = args.sizing.aws_backup
            self.aws_backup = AwsBackup(
                f"{name}-aws",
                AwsBackupArgs(
                    args.namer, plan, args.sizing.protect, args.account, args.database, args.keys
                ),
                opts=child,
            )
        self.register_outputs({"buckets": [bucket.name for bucket in self.buckets]})

    def exports(self) -> dict[str, pulumi.Output[str]]:
        """Stack outputs: `primaryBackupBucket` and `drBackupBucket` (the bucket names)."""
        return {k: v for bucket in self.buckets for k, v in bucket.exports().items()}

    def _replication(self, name: str, namer: Namer) -> aws.s3.BucketReplicationConfig:
        source, destination = self.buckets
        child = pulumi.ResourceOptions(parent=self, provider=source.region.provider)
        role = aws.iam.Role(
            f"{name}-replication-role",
            name=namer.name("backup-replication"),
            description="aurora-dr: S3 replicates the primary backup bucket into the DR one",
            assume_role_policy=json.dumps(assume_role_policy("s3.amazonaws.com")),
            opts=child,
        )
        ends = pulumi.Output.all(source.arn, source.key.arn, destination.arn, destination.key.arn)
        policy = aws.iam.RolePolicy(
            f"{name}-replication-policy",
            role=role.id,
            policy=ends.apply(
                lambda arns: json.dumps(
                    replication_policy(
                        ReplicationEnds(
                            source_bucket_arn=arns[0],
                            source_key_arn=arns[1],
                            source_region=source.region.name,
                            destination_bucket_arn=arns[2],
                            destination_key_arn=arns[3],
                            destination_region=destination.region.name,
                        )
                    )
                )
            ),
            opts=child,
        )
        return aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=source.name,
            role=role.arn,
            rules=[self._rule(destination)],
            opts=child.merge(
                pulumi.ResourceOptions(
                    depends_on=[source.versioning, destination.versioning, policy]
                )
            ),
        )

    @staticmethod
    def _rule(destination: BackupBucket) -> aws.s3.BucketReplicationConfigRuleArgs:
        """The reports (`REPLICATED_PREFIX`), SSE-KMS ones included ("By default, Amazon S3
        doesn't replicate objects that are stored at rest using server-side encryption with KMS
        keys", PutBucketReplication), re-encrypted with the DR key named by its full ARN ("we
        recommend using a fully qualified KMS key ARN", S3 API reference,
        EncryptionConfiguration)."""
        return aws.s3.BucketReplicationConfigRuleArgs(
            id="reports-to-dr",
            status="Enabled",
            filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=REPLICATED_PREFIX),
            delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                status="Disabled"
            ),
            source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                    status="Enabled"
                )
            ),
            destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                bucket=destination.arn,
                storage_class="STANDARD",
                encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                    replica_kms_key_id=destination.key.arn
                ),
            ),
        )
