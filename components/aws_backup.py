"""AwsBackup: AWS Backup for the global database's clusters, with a copy in the other region."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.global_aurora import GlobalAurora
from components.region_key import RegionKey
from decisions.iam import assume_role_policy, aws_backup_service_policy_arn
from stack.account import Account
from stack.naming import Namer
from stack.roles import PRIMARY, ROLES, Pair, Role
from stack.sizing import AwsBackupPlan, BackupRule


@dataclass(frozen=True)
class AwsBackupArgs:
    """Inputs of `AwsBackup`."""

    namer: Namer
    plan: AwsBackupPlan
    """The sizing's rules (schedule, retention, copy) and vault lock."""
    protect: bool
    """Pulumi `protect` on the vaults (a locked vault with recovery points cannot be deleted)."""
    account: Account
    database: GlobalAurora
    keys: Pair[RegionKey]
    """Each region's vault is encrypted with its region's key."""


class AwsBackup(pulumi.ComponentResource):
    """A vault per region under the region's key, locked (Vault Lock); a plan per region that
    backs up that region's member cluster and copies into the other region's vault; the role
    AWS Backup assumes (AWS's managed backup policy).

    Which cluster to select: the writer moves between the regions (switchover, failover), and
    the sources consulted do not say whether AWS Backup can back up a global database's
    *secondary* cluster. So each region's plan selects its own member: the writer, wherever it
    is, is always covered, and its copies reach the other region. Should AWS refuse the secondary
    cluster, only that region's job fails, visibly in AWS Backup's job history, while the
    writer's plan keeps filling both regions' vaults. Aurora must be opted in to AWS Backup in
    both regions first (an account setting, README "Deploying for real")."""

    vaults: Pair[aws.backup.Vault]

    def __init__(
        self, name: str, args: AwsBackupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aurora-dr:index:AwsBackup", name, None, opts)
        self._name, self._args = name, args
        self._role()
        self._locks: dict[Role, aws.backup.VaultLockConfiguration] = {}
        self.vaults = Pair(*(self._vault(role) for role in ROLES))
        for role in ROLES:
            self._plan(role)
        self.register_outputs({"vaultArns": [vault.arn for vault in self.vaults]})

    def _opts(self, role: Role, **kwargs) -> pulumi.ResourceOptions:
        region = self._args.database.members[role].region
        return pulumi.ResourceOptions(parent=self, provider=region.provider, **kwargs)

    def _role(self) -> None:
        args = self._args
        self.role = aws.iam.Role(
            f"{self._name}-role",
            name=args.namer.name("aws-backup"),
            description="aurora-dr: AWS Backup backs up and copies the database clusters",
            assume_role_policy=json.dumps(assume_role_policy("backup.amazonaws.com")),
            opts=self._opts(PRIMARY),
        )
        self.role_policy = aws.iam.RolePolicyAttachment(
            f"{self._name}-role-policy",
            role=self.role.name,
            policy_arn=aws_backup_service_policy_arn(args.account.partition),
            opts=self._opts(PRIMARY),
        )

    def _vault(self, role: Role) -> aws.backup.Vault:
        args, region = self._args, self._args.database.members[role].region
        vault = aws.backup.Vault(
            f"{self._name}-{role}-vault",
            name=args.namer.regional(region.name, "vault"),
            kms_key_arn=args.keys[role].arn,
            opts=self._opts(role, protect=args.protect),
        )
        lock = args.plan.vault_lock
        self._locks[role] = aws.backup.VaultLockConfiguration(
            f"{self._name}-{role}-vault-lock",
            backup_vault_name=vault.name,
            min_retention_days=lock.min_retention_days,
            max_retention_days=lock.max_retention_days,
            changeable_for_days=lock.changeable_for_days,
            opts=self._opts(role),
        )
        return vault

    def _rule(self, role: Role, rule: BackupRule) -> aws.backup.PlanRuleArgs:
        plan, peer_vault = self._args.plan, self.vaults.peer_of(role)
        copies = []
        if rule.copy_retention_days is not None:
            copies.append(
                aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=peer_vault.arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(
                        delete_after=rule.copy_retention_days
                    ),
                )
            )
        return aws.backup.PlanRuleArgs(
            rule_name=rule.name,
            target_vault_name=self.vaults[role].name,
            schedule=rule.schedule,
            start_window=plan.start_window_minutes,
            completion_window=plan.completion_window_minutes,
            lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=rule.retention_days),
            copy_actions=copies,
        )

    def _plan(self, role: Role) -> None:
        """The region's plan and its selection of the region's member cluster."""
        args, member = self._args, self._args.database.members[role]
        plan = aws.backup.Plan(
            f"{self._name}-{role}-plan",
            name=args.namer.regional(member.region.name, "backup-plan"),
            rules=[self._rule(role, rule) for rule in args.plan.rules],
            # Locked vaults first: no recovery point exists before its retention bounds do.
            opts=self._opts(role, depends_on=list(self._locks.values())),
        )
        aws.backup.Selection(
            f"{self._name}-{role}-selection",
            name=args.namer.regional(member.region.name, "aurora"),
            plan_id=plan.id,
            iam_role_arn=self.role.arn,
            resources=[member.cluster.arn],
            opts=self._opts(role, depends_on=[self.role_policy]),
        )
