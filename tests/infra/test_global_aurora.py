"""GlobalAurora, checked on what the dev and prod stacks register."""

from __future__ import annotations

import json
import re
from pathlib import Path

from decisions import aurora
from drplan.harness import PROJECT_DIR, PlanRun
from drplan.review import stack_settings
from stack.sizing import SIZING, is_global_database_class
from tests.infra.queries import key_arns_by_region, log_group_named, region_roles

GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PASSWORD = "random:index/randomPassword:RandomPassword"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def clusters_by_role(plan: PlanRun) -> dict[str, object]:
    roles = region_roles(plan)
    by_region = {c.region: c for c in plan.of_type(CLUSTER)}
    return {role: by_region[region] for role, region in roles.items()}


def instances_of(plan: PlanRun, cluster) -> list:
    return [i for i in plan.of_type(INSTANCE) if i.inputs["clusterIdentifier"] == cluster.id]


def test_one_global_cluster_and_one_encrypted_member_per_region_with_a_local_key(plan: PlanRun):
    (global_cluster,) = plan.of_type(GLOBAL_CLUSTER)
    assert global_cluster.inputs["engine"] == "aurora-postgresql"
    assert global_cluster.inputs["storageEncrypted"] is True
    clusters = plan.of_type(CLUSTER)
    assert sorted(c.region for c in clusters) == sorted(region_roles(plan).values())
    keys = key_arns_by_region(plan)
    for cluster in clusters:
        assert cluster.inputs["globalClusterIdentifier"] == global_cluster.id
        assert cluster.inputs["storageEncrypted"] is True
        assert cluster.inputs["kmsKeyId"] == keys[cluster.region], "key of another region"
        assert cluster.inputs["engineVersion"] == global_cluster.inputs["engineVersion"]


def test_secondary_takes_no_credentials_and_waits_for_every_primary_instance(plan: PlanRun):
    clusters = clusters_by_role(plan)
    secondary, primary = clusters["dr"], clusters["primary"]
    for field in ("masterUsername", "masterPassword", "databaseName"):
        assert field not in secondary.inputs, f"secondary sets {field}"
    assert secondary.inputs["sourceRegion"] == region_roles(plan)["primary"]
    primary_instances = instances_of(plan, primary)
    assert primary_instances
    for instance in primary_instances:
        assert plan.depends_on(secondary, instance.urn), (
            f"secondary does not wait for {instance.name}"
        )


def test_each_clusters_exported_logs_go_to_a_group_encrypted_with_its_regions_key(
    plan: PlanRun,
):
    # GIVEN each member cluster and the log types it exports to CloudWatch Logs
    keys = key_arns_by_region(plan)
    retention = SIZING[stack_settings(plan.stack).sizing].log_retention_days
    clusters = plan.of_type(CLUSTER)
    assert sorted(c.region for c in clusters) == sorted(region_roles(plan).values())
    for cluster in clusters:
        identifier = cluster.inputs["clusterIdentifier"]
        for export in cluster.inputs["enabledCloudwatchLogsExports"]:
            # WHEN we look up the group RDS writes that export into
            group = log_group_named(plan, f"/aws/rds/cluster/{identifier}/{export}")
            # THEN it lives in the cluster's region, under that region's key, with a retention
            assert group.region == cluster.region
            assert group.inputs["kmsKeyId"] == keys[cluster.region], f"{group.name}: key"
            assert group.inputs["retentionInDays"] == retention
            # AND it exists before the cluster (else RDS creates an unencrypted, endless one)
            assert plan.depends_on(cluster, group.urn), f"{cluster.name} may beat {group.name}"


def test_membership_is_runtime_state_on_both_clusters(plan: PlanRun):
    for cluster in plan.of_type(CLUSTER):
        assert {"globalClusterIdentifier", "replicationSourceIdentifier"} <= set(
            cluster.ignore_changes
        )
    assert "masterPassword" in clusters_by_role(plan)["primary"].ignore_changes


def test_master_password_is_the_generated_secret_and_never_a_literal(plan: PlanRun):
    (password,) = plan.of_type(PASSWORD)
    assert password.inputs["length"] >= 32
    assert not set('/@" ') & set(password.inputs["overrideSpecial"])
    primary = clusters_by_role(plan)["primary"]
    assert primary.inputs["masterPassword"] == password.outputs["result"]
    assert "masterPassword" in primary.secret_inputs
    assert password.urn in primary.property_dependencies["masterPassword"]
    assert primary.inputs["masterUsername"] == "dbadmin"
    assert primary.inputs["databaseName"] == "appdb"


def test_no_source_file_contains_a_password():
    assignment = re.compile(r"""(?i)(master_?password|"password")\s*[:=]\s*["'][^"']{4,}["']""")
    offenders = []
    for path in Path(PROJECT_DIR).rglob("*"):
        if path.suffix not in {".py", ".yaml", ".yml", ".json", ".toml"}:
            continue
        # mutants/ is `make mutate`'s working copy of the sources (git-ignored).
        if {"venv", ".venv", "tests", ".git", "mutants"} & set(path.relative_to(PROJECT_DIR).parts):
            continue
        if assignment.search(path.read_text(errors="ignore")):
            offenders.append(str(path))
    assert offenders == []


def test_secret_is_encrypted_replicated_and_describes_the_global_writer(plan: PlanRun):
    keys = key_arns_by_region(plan)
    roles = region_roles(plan)
    (secret,) = plan.of_type(SECRET)
    assert secret.region == roles["primary"]
    assert secret.inputs["kmsKeyId"] == keys[roles["primary"]]
    assert secret.inputs["replicas"] == [{"region": roles["dr"], "kmsKeyId": keys[roles["dr"]]}]
    (version,) = plan.of_type(SECRET_VERSION)
    assert "secretString" in version.secret_inputs
    assert "secretString" in version.ignore_changes
    value = json.loads(version.inputs["secretString"])
    (global_cluster,) = plan.of_type(GLOBAL_CLUSTER)
    (password,) = plan.of_type(PASSWORD)
    assert value == {
        "engine": "postgres",
        "host": global_cluster.outputs["endpoint"],
        "port": 5432,
        "username": "dbadmin",
        "password": password.outputs["result"],
        "dbname": "appdb",
        "globalClusterIdentifier": global_cluster.inputs["globalClusterIdentifier"],
    }
    assert plan.outputs["secretArn"] == secret.outputs["arn"]


def test_clusters_are_hardened(plan: PlanRun):
    for cluster in plan.of_type(CLUSTER):
        inputs = cluster.inputs
        assert inputs["enabledCloudwatchLogsExports"] == ["postgresql"]
        assert inputs["iamDatabaseAuthenticationEnabled"] is True
        assert inputs["copyTagsToSnapshot"] is True
        assert not aurora.windows_overlap(
            inputs["preferredBackupWindow"], inputs["preferredMaintenanceWindow"]
        )
        params = {
            p.inputs["name"]: p
            for p in plan.of_type("aws:rds/clusterParameterGroup:ClusterParameterGroup")
        }[inputs["dbClusterParameterGroupName"]]
        values = {p["name"]: p["value"] for p in params.inputs["parameters"]}
        assert values["rds.force_ssl"] == "1"
        assert "log_min_duration_statement" in values
        # role and schema changes are audited; rotation sends verifiers, never a password
        assert values["log_statement"] == "ddl"
        assert params.region == cluster.region
    for instance in plan.of_type(INSTANCE):
        assert instance.inputs["publiclyAccessible"] is False
        # Security Hub RDS.13, the same value on every member (inert in a global database)
        assert instance.inputs["autoMinorVersionUpgrade"] is True
        assert is_global_database_class(instance.inputs["instanceClass"])


def test_dev_runs_one_serverless_instance_per_region_within_its_clusters_bounds(plans):
    # GIVEN the dev stack (test sizing) and prod
    dev, prod = plans["dev"], plans["prod"]
    bounds = SIZING["test"].serverless
    assert bounds is not None
    for cluster in dev.of_type(CLUSTER):
        # THEN both member clusters carry the sizing's capacity range, and no auto-pause
        assert cluster.inputs["serverlessv2ScalingConfiguration"] == {
            "minCapacity": bounds.min_acu,
            "maxCapacity": bounds.max_acu,
        }
        # AND each region, the DR one included, has exactly one db.serverless instance
        (instance,) = instances_of(dev, cluster)
        assert instance.inputs["instanceClass"] == "db.serverless"
    assert {c.region for c in dev.of_type(CLUSTER)} == set(region_roles(dev).values())
    # AND prod stays provisioned, with no scaling configuration registered
    for cluster in prod.of_type(CLUSTER):
        assert "serverlessv2ScalingConfiguration" not in cluster.inputs
        assert {i.inputs["instanceClass"] for i in instances_of(prod, cluster)} == {"db.r6g.xlarge"}


def test_dev_is_cheap_and_destroyable(plans: dict[str, PlanRun]):
    plan = plans["dev"]
    for cluster in plan.of_type(CLUSTER):
        assert len(instances_of(plan, cluster)) == 1
        assert cluster.inputs["deletionProtection"] is False
        assert cluster.inputs["skipFinalSnapshot"] is True
        assert "finalSnapshotIdentifier" not in cluster.inputs
        assert cluster.protect is False
    (global_cluster,) = plan.of_type(GLOBAL_CLUSTER)
    assert global_cluster.inputs["deletionProtection"] is False
    (secret,) = plan.of_type(SECRET)
    assert secret.inputs["recoveryWindowInDays"] == 0
    assert not [r.name for r in plan.resources if r.protect]


def test_prod_is_highly_available_and_protected(plans: dict[str, PlanRun]):
    plan = plans["prod"]
    for cluster in plan.of_type(CLUSTER):
        instances = instances_of(plan, cluster)
        assert len(instances) >= 2
        zones = [i.inputs["availabilityZone"] for i in instances]
        assert len(set(zones)) == len(zones), "instances share an AZ"
        assert cluster.inputs["deletionProtection"] is True
        assert cluster.inputs["skipFinalSnapshot"] is False
        assert cluster.inputs["finalSnapshotIdentifier"].endswith("-final")
        assert cluster.inputs["backupRetentionPeriod"] >= 7
        assert cluster.protect is True
        for instance in instances:
            assert instance.inputs["performanceInsightsEnabled"] is True
            assert instance.inputs["performanceInsightsKmsKeyId"] == cluster.inputs["kmsKeyId"]
            assert instance.inputs["monitoringInterval"] == 60
            assert instance.inputs["monitoringRoleArn"]
    (global_cluster,) = plan.of_type(GLOBAL_CLUSTER)
    assert global_cluster.inputs["deletionProtection"] is True
    assert global_cluster.protect is True
    assert all(k.protect for k in plan.of_type("aws:kms/key:Key"))


def test_outputs_name_the_endpoints_keys_and_secret(plan: PlanRun):
    outputs = plan.outputs
    for key in (
        "globalClusterId",
        "globalWriterEndpoint",
        "primaryClusterEndpoint",
        "primaryReaderEndpoint",
        "drClusterEndpoint",
        "drReaderEndpoint",
        "primaryKmsKeyArn",
        "drKmsKeyArn",
        "secretArn",
    ):
        assert outputs.get(key), f"missing output {key}"
    # each output is wired to the resource it names (not merely shaped like one)
    (global_cluster,) = plan.of_type(GLOBAL_CLUSTER)
    (secret,) = plan.of_type(SECRET)
    clusters, roles, keys = clusters_by_role(plan), region_roles(plan), key_arns_by_region(plan)
    assert outputs["globalClusterId"] == global_cluster.id
    assert outputs["globalWriterEndpoint"] == global_cluster.outputs["endpoint"]
    for role in ("primary", "dr"):
        assert outputs[f"{role}ClusterEndpoint"] == clusters[role].outputs["endpoint"], role
        assert outputs[f"{role}ReaderEndpoint"] == clusters[role].outputs["readerEndpoint"], role
        assert outputs[f"{role}KmsKeyArn"] == keys[roles[role]], role
    assert outputs["secretArn"] == secret.outputs["arn"]
    assert len({outputs[key] for key in outputs if key.endswith("Endpoint")}) == 5
