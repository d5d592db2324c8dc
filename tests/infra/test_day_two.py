"""Day two: the next `pulumi up` after a failover, and engine upgrades through the global cluster.

After a switchover or failover AWS holds a topology the program never declared: the writer is in
the region configured as `drRegion`. These tests pin down why the next `pulumi up` does not fight
it, and what the runbook (docs/runbook.md) tells the operator to change and not to change.
"""

from __future__ import annotations

import pytest

from decisions import aurora
from drplan.harness import ALLOWED_INVOKES, PlanRun, run_program
from stack.config import DEFAULTS
from tests.infra.queries import KMS_KEY, VPC
from tests.infra.test_global_aurora import CLUSTER, GLOBAL_CLUSTER, INSTANCE, clusters_by_role

CLUSTER_PARAMETERS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
INSTANCE_PARAMETERS = "aws:rds/parameterGroup:ParameterGroup"
# What a switchover or failover changes on a member cluster as the provider reads it back: which
# global cluster it belongs to (a detach-and-promote empties it) and the replication source. The
# password is the rotation function's after day one, the engine version the global cluster's.
ROLE_CHANGE_FIELDS = {"globalClusterIdentifier", "replicationSourceIdentifier"}
ENGINE_MAJOR_BUMP = "17.4"
"""A major version past the default one; any major.minor config accepts (the test needs no
AWS catalogue: check `aws rds describe-db-engine-versions` before a real upgrade)."""


def test_the_program_looks_nothing_up_about_the_database(plan: PlanRun):
    # GIVEN every data source the program called while it ran
    lookups = {token for token, _ in plan.invokes}
    # THEN none is about RDS topology (only account, region and catalogue lookups are allowed),
    # so the desired state is the same whichever region holds the writer: a moved writer cannot
    # change what the program declares
    assert lookups <= set(ALLOWED_INVOKES)
    assert not {t for t in lookups if "Cluster" in t}, lookups


def test_after_a_failover_membership_password_and_engine_version_are_not_fought(plan: PlanRun):
    # GIVEN the member clusters as declared (the writer has since moved, say)
    clusters = clusters_by_role(plan)
    for role, cluster in clusters.items():
        # THEN everything a role change or an upgrade alters is under ignore_changes
        ignored = set(cluster.ignore_changes)
        assert ignored >= ROLE_CHANGE_FIELDS, f"{role}: {ROLE_CHANGE_FIELDS - ignored}"
        assert "engineVersion" in ignored, f"{role} would fight the global cluster's upgrade"
    # AND the password the rotation function changes is ignored where it is declared
    assert "masterPassword" in clusters["primary"].ignore_changes
    # AND the new primary (the configured DR member) declares no credentials the provider would
    # read back differently after it took the writer role: it never declared them
    for field in ("masterUsername", "masterPassword", "databaseName"):
        assert field not in clusters["dr"].inputs


def test_swapping_primary_and_dr_region_after_a_failover_would_move_every_member(
    plans: dict[str, PlanRun],
):
    # GIVEN dev as committed, and dev with primaryRegion and drRegion swapped (what an operator
    # might try so that the configuration "matches" AWS after a failover)
    as_committed = plans["dev"]
    swapped = run_program(
        "dev", {"primaryRegion": DEFAULTS["drRegion"], "drRegion": DEFAULTS["primaryRegion"]}
    )
    regional = (CLUSTER, INSTANCE, VPC, KMS_KEY)
    before = {r.urn: r for t in regional for r in as_committed.of_type(t)}
    after = {r.urn: r for t in regional for r in swapped.of_type(t)}
    # THEN the logical names (so the URNs) are the same: they name roles, not regions
    assert before.keys() == after.keys()
    # AND every member cluster, instance, VPC and key would be declared in the other region under
    # its old URN: a replacement of the stack in both regions, not a relabelling. The runbook says
    # to leave both config keys alone.
    for urn, registration in before.items():
        assert after[urn].region != registration.region, urn


@pytest.fixture(scope="module")
def upgraded(plans: dict[str, PlanRun]) -> tuple[PlanRun, PlanRun]:
    """GIVEN dev as committed and dev with the engine's major version bumped."""
    return plans["dev"], run_program("dev", {"engineVersion": ENGINE_MAJOR_BUMP})


def test_a_major_engine_version_reaches_the_global_cluster(upgraded: tuple[PlanRun, PlanRun]):
    current, bumped = upgraded
    (global_before,) = current.of_type(GLOBAL_CLUSTER)
    (global_after,) = bumped.of_type(GLOBAL_CLUSTER)
    # THEN the new version is declared on the global cluster, which upgrades its members
    assert global_before.inputs["engineVersion"] != ENGINE_MAJOR_BUMP
    assert global_after.inputs["engineVersion"] == ENGINE_MAJOR_BUMP
    assert global_after.urn == global_before.urn
    # AND no member or instance would diff on it on its own (their engineVersion is ignored)
    for member in bumped.of_type(CLUSTER) + bumped.of_type(INSTANCE):
        assert "engineVersion" in member.ignore_changes, member.name


def test_a_major_engine_version_moves_the_parameter_group_family_in_both_regions(
    upgraded: tuple[PlanRun, PlanRun],
):
    current, bumped = upgraded
    family = aurora.parameter_group_family(ENGINE_MAJOR_BUMP)
    assert family == "aurora-postgresql17"
    for group_type in (CLUSTER_PARAMETERS, INSTANCE_PARAMETERS):
        before = {g.urn: g for g in current.of_type(group_type)}
        after = {g.urn: g for g in bumped.of_type(group_type)}
        # THEN each region keeps its group (same URN) and the group moves to the new family
        assert before.keys() == after.keys()
        assert sorted(g.region for g in after.values()) == sorted(
            {c.region for c in bumped.of_type(CLUSTER)}
        )
        for urn, group in after.items():
            assert group.inputs["family"] == family, group.name
            assert before[urn].inputs["family"] != family
    # AND each member cluster still names its region's cluster group
    groups = {g.region: g.inputs["name"] for g in bumped.of_type(CLUSTER_PARAMETERS)}
    for cluster in bumped.of_type(CLUSTER):
        assert cluster.inputs["dbClusterParameterGroupName"] == groups[cluster.region]
