"""Backups (buckets, replication, AWS Backup) and the verifier's and exporter's access to them,
checked on what the dev and prod stacks register."""

from __future__ import annotations

import json

from drplan.harness import MOCK_ACCOUNT_ID, PlanRun, Registration
from lambdas.drcommon.contract import BACKUP_BUCKET
from stack.naming import region_code
from stack.sizing import SIZING
from tests.infra.queries import key_arns_by_region, region_roles

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
FUNCTION = "aws:lambda/function:Function"
SIZING_OF = {"dev": SIZING["test"], "prod": SIZING["prod"]}


def bucket_in(plan: PlanRun, region: str) -> Registration:
    """The one backup bucket of a region."""
    (bucket,) = [b for b in plan.of_type(BUCKET) if b.region == region]
    return bucket


def setting(plan: PlanRun, type_: str, bucket: Registration) -> Registration:
    """The one `type_` resource (a bucket setting) of `bucket`."""
    (found,) = [r for r in plan.of_type(type_) if r.inputs["bucket"] == bucket.inputs["bucket"]]
    return found


def role_policy(plan: PlanRun, role_name: str) -> dict:
    """The inline policy document of the role with this physical name."""
    (role,) = [r for r in plan.of_type(ROLE) if r.inputs["name"] == role_name]
    (policy,) = [p for p in plan.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]
    return json.loads(policy.inputs["policy"])


def trust_of(plan: PlanRun, role_name: str) -> str:
    """The service principal a role trusts."""
    (role,) = [r for r in plan.of_type(ROLE) if r.inputs["name"] == role_name]
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    return statement["Principal"]["Service"]


def verifier(plan: PlanRun) -> Registration:
    """The backup verifier function (DR region)."""
    (fn,) = [f for f in plan.of_type(FUNCTION) if f.inputs["handler"].startswith("backup_")]
    return fn


def test_each_region_has_a_backup_bucket_named_for_the_stack_under_its_own_key(plan: PlanRun):
    keys = key_arns_by_region(plan)
    suffix = plan.stack
    for region in region_roles(plan).values():
        bucket = bucket_in(plan, region)
        # THEN the name carries the account (bucket names are global), region and suffix
        assert bucket.inputs["bucket"] == (
            f"aurora-dr-backups-{MOCK_ACCOUNT_ID}-{region_code(region)}-{suffix}"
        )
        # AND versioning is on, and objects are SSE-KMS with this region's key and a Bucket Key
        versioning = setting(plan, VERSIONING, bucket)
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        (rule,) = setting(plan, ENCRYPTION, bucket).inputs["rules"]
        default = rule["applyServerSideEncryptionByDefault"]
        assert default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": keys[region]}
        assert rule["bucketKeyEnabled"] is True


def test_backup_buckets_are_private_acl_free_and_tls_only(plan: PlanRun):
    for region in region_roles(plan).values():
        bucket = bucket_in(plan, region)
        block = setting(plan, PUBLIC_ACCESS_BLOCK, bucket).inputs
        assert all(
            block[flag] is True
            for flag in (
                "blockPublicAcls",
                "blockPublicPolicy",
                "ignorePublicAcls",
                "restrictPublicBuckets",
            )
        )
        ownership = setting(plan, OWNERSHIP, bucket).inputs["rule"]["objectOwnership"]
        assert ownership == "BucketOwnerEnforced"
        (deny,) = json.loads(setting(plan, BUCKET_POLICY, bucket).inputs["policy"])["Statement"]
        arn = bucket.outputs["arn"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
        assert deny["Resource"] == [arn, f"{arn}/*"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lifecycle_expires_old_versions_aborted_uploads_and_exports_per_sizing(plan: PlanRun):
    sizing = SIZING_OF[plan.stack]
    for region in region_roles(plan).values():
        lifecycle = setting(plan, LIFECYCLE, bucket_in(plan, region))
        rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
        everything = rules["expire-replaced-versions"]
        assert everything["filter"] == {"prefix": ""} and everything["status"] == "Enabled"
        assert everything["noncurrentVersionExpiration"]["noncurrentDays"] == (
            sizing.backup_bucket_noncurrent_days
        )
        assert everything["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == (
            sizing.backup_bucket_abort_multipart_days
        )
        exports = rules["expire-snapshot-exports"]
        assert exports["filter"] == {"prefix": BACKUP_BUCKET.snapshot_exports}
        assert exports["expiration"]["days"] == sizing.snapshot_export_retention_days


def test_the_test_stack_destroys_its_buckets_and_prod_protects_them(
    plans: dict[str, PlanRun],
):
    for stack, destroyable in (("dev", True), ("prod", False)):
        for bucket in plans[stack].of_type(BUCKET):
            assert bucket.inputs["forceDestroy"] is destroyable, stack
            assert bucket.protect is not destroyable, stack


def test_outputs_name_both_backup_buckets(plan: PlanRun):
    roles = region_roles(plan)
    for role in ("primary", "dr"):
        assert plan.outputs[f"{role}BackupBucket"] == bucket_in(plan, roles[role]).inputs["bucket"]


def test_replication_sends_the_reports_not_the_exports_to_dr_under_the_dr_key_after_versioning(
    plan: PlanRun,
):
    roles, keys = region_roles(plan), key_arns_by_region(plan)
    primary, dr = bucket_in(plan, roles["primary"]), bucket_in(plan, roles["dr"])
    (replication,) = plan.of_type(REPLICATION)
    # THEN the primary bucket replicates, in its region, into the DR bucket
    assert replication.region == roles["primary"]
    assert replication.inputs["bucket"] == primary.inputs["bucket"]
    (rule,) = replication.inputs["rules"]
    # (the reports only: the exports are written in the DR bucket already, so replicating them
    # would store and pay for the data twice)
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": BACKUP_BUCKET.verification_reports}
    assert not BACKUP_BUCKET.snapshot_exports.startswith(rule["filter"]["prefix"])
    assert rule["destination"]["bucket"] == dr.outputs["arn"]
    # AND KMS-encrypted objects are replicated, re-encrypted with the DR key's full ARN
    assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled"
    replica_key = rule["destination"]["encryptionConfiguration"]["replicaKmsKeyId"]
    assert replica_key == keys[roles["dr"]] and replica_key.startswith("arn:aws:kms:")
    # AND a delete in the primary does not reach the DR copies
    assert rule["deleteMarkerReplication"]["status"] == "Disabled"
    # AND it is declared only after versioning is on in both buckets
    for bucket in (primary, dr):
        versioning = setting(plan, VERSIONING, bucket)
        assert versioning.urn in replication.dependencies


def test_the_replication_role_reads_only_the_source_and_writes_only_the_replicas(plan: PlanRun):
    roles, keys = region_roles(plan), key_arns_by_region(plan)
    source = bucket_in(plan, roles["primary"]).outputs["arn"]
    destination = bucket_in(plan, roles["dr"]).outputs["arn"]
    name = f"aurora-dr-backup-replication-{plan.stack}"
    assert trust_of(plan, name) == "s3.amazonaws.com"
    statements = role_policy(plan, name)["Statement"]
    s3_resources = {
        r for s in statements if s["Action"][0].startswith("s3:") for r in s["Resource"]
    }
    assert s3_resources == {source, f"{source}/*", f"{destination}/*"}
    kms = {tuple(s["Action"]): s for s in statements if s["Action"][0].startswith("kms:")}
    decrypt, encrypt = kms[("kms:Decrypt",)], kms[("kms:Encrypt", "kms:GenerateDataKey")]
    # THEN each key only through S3 in its region, for its bucket (the Bucket Key's context)
    for stmt, key, region, bucket in (
        (decrypt, keys[roles["primary"]], roles["primary"], source),
        (encrypt, keys[roles["dr"]], roles["dr"], destination),
    ):
        assert stmt["Resource"] == [key]
        assert stmt["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{region}.amazonaws.com"}
        context = stmt["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"]
        assert context == [bucket, f"{bucket}/*"]


def test_the_region_keys_serve_s3_and_aws_backup_for_this_account_only(plan: PlanRun):
    for key in plan.of_type("aws:kms/key:Key"):
        statements = json.loads(key.inputs["policy"])["Statement"]
        (services,) = [s for s in statements if s.get("Sid", "").startswith("AwsServices")]
        via = services["Condition"]["StringEquals"]["kms:ViaService"]
        assert {f"s3.{key.region}.amazonaws.com", f"backup.{key.region}.amazonaws.com"} <= set(via)
        assert services["Condition"]["StringEquals"]["kms:CallerAccount"] == MOCK_ACCOUNT_ID


def test_the_verifier_may_put_only_its_reports_and_only_into_its_regions_bucket(plan: PlanRun):
    # GIVEN the verifier's role policy and every function role's policy
    fn = verifier(plan)
    bucket = bucket_in(plan, fn.region)
    roles = {r.outputs["arn"]: r for r in plan.of_type(ROLE)}
    (policy,) = [
        json.loads(p.inputs["policy"])
        for p in plan.of_type(ROLE_POLICY)
        if p.inputs["role"] == roles[fn.inputs["role"]].id
    ]
    s3 = [s for s in policy["Statement"] if any(a.startswith("s3:") for a in s["Action"])]
    # THEN its only S3 permission is PutObject under the reports prefix of its region's bucket
    prefix = BACKUP_BUCKET.verification_reports
    assert s3 == [
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"{bucket.outputs['arn']}/{prefix}*"],
        }
    ]
    # AND it is told that bucket
    assert fn.inputs["environment"]["variables"]["REPORT_BUCKET"] == bucket.inputs["bucket"]


def test_prod_exports_snapshots_through_a_role_of_its_own_and_dev_exports_none(
    plans: dict[str, PlanRun],
):
    dev_env = verifier(plans["dev"]).inputs["environment"]["variables"]
    assert not [name for name in dev_env if name.startswith("SNAPSHOT_EXPORT")]
    plan = plans["prod"]
    roles, keys = region_roles(plan), key_arns_by_region(plan)
    env = verifier(plan).inputs["environment"]["variables"]
    # THEN the verifier knows each region's bucket and key (an export stays in its region)
    assert json.loads(env["SNAPSHOT_EXPORT_BUCKETS"]) == {
        region: bucket_in(plan, region).inputs["bucket"] for region in roles.values()
    }
    assert json.loads(env["SNAPSHOT_EXPORT_KMS_KEYS"]) == keys
    assert env["SNAPSHOT_EXPORT_EVERY_DAYS"] == str(SIZING["prod"].snapshot_export_every_days)
    # AND the export role is RDS's, writing only under the exports prefix of the two buckets
    name = "aurora-dr-snapshot-export-prod"
    assert trust_of(plan, name) == "export.rds.amazonaws.com"
    (role,) = [r for r in plan.of_type(ROLE) if r.inputs["name"] == name]
    assert env["SNAPSHOT_EXPORT_ROLE_ARN"] == role.outputs["arn"]
    statements = role_policy(plan, name)["Statement"]
    objects = next(s for s in statements if "s3:PutObject*" in s["Action"])
    assert sorted(objects["Resource"]) == sorted(
        f"{bucket_in(plan, r).outputs['arn']}/{BACKUP_BUCKET.snapshot_exports}*"
        for r in roles.values()
    )
    # AND the verifier may pass that role and no other
    verifier_statements = [
        s
        for p in plan.of_type(ROLE_POLICY)
        for s in json.loads(p.inputs["policy"])["Statement"]
        if "iam:PassRole" in s["Action"]
    ]
    assert verifier_statements == [
        {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [role.outputs["arn"]]}
    ]


VAULT = "aws:backup/vault:Vault"


def test_prod_verifies_the_aws_backup_copy_in_its_vault_and_makes_no_copy_of_its_own(
    plans: dict[str, PlanRun],
):
    dev_env = verifier(plans["dev"]).inputs["environment"]["variables"]
    assert "BACKUP_VAULT_NAME" not in dev_env
    plan = plans["prod"]
    function = verifier(plan)
    env = function.inputs["environment"]["variables"]
    (vault,) = [v for v in plan.of_type(VAULT) if v.region == function.region]
    # THEN the verifier checks its own region's vault, against the copy cadence, and copies
    # nothing itself (AWS Backup's copy is the one cross-region copy)
    assert env["BACKUP_VAULT_NAME"] == vault.inputs["name"]
    assert env["BACKUP_COPY_MAX_AGE_HOURS"] == str(SIZING["prod"].aws_backup.copy_max_age_hours)
    assert env["COPY_SNAPSHOT_ENABLED"] == "false"
    # AND it may list that vault's recovery points only, and restore AWS Backup's snapshots here
    statements = [
        s for p in plan.of_type(ROLE_POLICY) for s in json.loads(p.inputs["policy"])["Statement"]
    ]
    listing = [s for s in statements if "backup:ListRecoveryPointsByBackupVault" in s["Action"]]
    assert [s["Resource"] for s in listing] == [[vault.outputs["arn"]]]
    restorable = {
        r
        for s in statements
        if "rds:RestoreDBClusterFromSnapshot" in s["Action"]
        for r in s["Resource"]
    }
    assert (
        f"arn:aws:rds:{function.region}:{MOCK_ACCOUNT_ID}:cluster-snapshot:awsbackup:*"
        in restorable
    )


VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
CLUSTER = "aws:rds/cluster:Cluster"


def test_dev_has_no_aws_backup(plans: dict[str, PlanRun]):
    assert not [r.type for r in plans["dev"].resources if r.type.startswith("aws:backup/")]


def test_prod_keeps_each_regions_cluster_in_a_locked_vault_and_copies_it_to_the_other(
    plans: dict[str, PlanRun],
):
    plan, sizing = plans["prod"], SIZING["prod"].aws_backup
    assert sizing is not None
    roles, keys = region_roles(plan), key_arns_by_region(plan)
    vaults = {v.region: v for v in plan.of_type(VAULT)}
    clusters = {c.region: c for c in plan.of_type(CLUSTER)}
    assert set(vaults) == set(roles.values())
    for region, vault in vaults.items():
        peer = next(r for r in roles.values() if r != region)
        # THEN the vault is under its region's key, protected, and locked within the sizing's
        # bounds, with AWS's cooling-off of at least 3 days before the lock is immutable
        assert vault.inputs["kmsKeyArn"] == keys[region] and vault.protect
        (lock,) = [x for x in plan.of_type(VAULT_LOCK) if x.region == region]
        assert lock.inputs["backupVaultName"] == vault.inputs["name"]
        assert lock.inputs["changeableForDays"] >= 3
        low, high = lock.inputs["minRetentionDays"], lock.inputs["maxRetentionDays"]
        # AND the region's plan backs up the region's own member cluster into it
        (backup_plan,) = [p for p in plan.of_type(PLAN) if p.region == region]
        (selection,) = [s for s in plan.of_type(SELECTION) if s.inputs["planId"] == backup_plan.id]
        assert selection.region == region
        assert selection.inputs["resources"] == [clusters[region].outputs["arn"]]
        rules = backup_plan.inputs["rules"]
        assert [r["ruleName"] for r in rules] == [r.name for r in sizing.rules]
        copies = [c for r in rules for c in r.get("copyActions") or []]
        # AND every retention it asks for fits the lock (a job outside it fails)
        for rule in rules:
            assert rule["targetVaultName"] == vault.inputs["name"]
            assert low <= rule["lifecycle"]["deleteAfter"] <= high
        # AND it copies into the other region's vault, within that vault's lock too
        assert copies and {c["destinationVaultArn"] for c in copies} == {
            vaults[peer].outputs["arn"]
        }
        assert all(low <= c["lifecycle"]["deleteAfter"] <= high for c in copies)


def test_aws_backup_works_as_a_role_with_the_managed_backup_policy(plans: dict[str, PlanRun]):
    plan = plans["prod"]
    name = "aurora-dr-aws-backup-prod"
    assert trust_of(plan, name) == "backup.amazonaws.com"
    (role,) = [r for r in plan.of_type(ROLE) if r.inputs["name"] == name]
    (attachment,) = plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["role"] == name
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    )
    for selection in plan.of_type(SELECTION):
        assert selection.inputs["iamRoleArn"] == role.outputs["arn"]
        assert attachment.urn in selection.dependencies
