"""Backup verifier: freshness, cross-region copy with the DR key, restore test, sweep, time budget.

moto runs RDS and KMS in both regions. moto's `restore_db_cluster_from_snapshot` crashes on a
snapshot of a cluster that joined a global cluster through `create_db_cluster`, so the writer is
created as a plain cluster and attached to the global cluster by a small test-only extension of
moto's model (`_attach_as_writer`). The wait-timeout path uses a Stubber (moto makes everything available at once).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_fixtures import (
    ACCOUNT,
    DR,
    PRIMARY,
    FakeClock,
    FakeContext,
    TestClientFactory,
    client,
    db_cluster_response,
    moto_aws,  # noqa: F401 - fixture
)
from botocore.stub import Stubber

from backup_verifier import handler, resources
from backup_verifier.probe import ProbeResult, RestoredCluster
from backup_verifier.settings import Settings
from backup_verifier.snapshots import Snapshot, resource_tags
from backup_verifier.verifier import Dependencies, Report, run
from drcommon.aws import Deadline

GID = "aurora-dr-dev"
WRITER = "aurora-dr-dev-primary"
SECONDARY = "aurora-dr-dev-dr"
STEM = "aurora-dr-verify-dev"
HOUR = 3600.0


def _attach_as_writer(region: str, cluster_id: str) -> None:
    """Test-only moto extension: make a plain cluster the global cluster's writer member.

    Equivalent to what AWS shows after `create_db_cluster(GlobalClusterIdentifier=...)`, without
    the moto model of such clusters that `restore_db_cluster_from_snapshot` cannot copy.
    """
    from moto.rds.models import rds_backends

    # moto keeps global clusters in one regional backend whatever region created them.
    (global_cluster,) = [
        backend.global_clusters[GID]
        for backend in rds_backends[ACCOUNT].values()
        if GID in backend.global_clusters
    ]
    cluster = rds_backends[ACCOUNT][region].clusters[cluster_id]
    cluster.global_cluster_identifier = global_cluster.global_cluster_arn
    cluster.is_writer = True
    global_cluster.members.append(cluster)


@dataclasses.dataclass
class BackupWorld:
    """Two regions in moto: a global cluster with its writer in `writer_region`."""

    writer_region: str = PRIMARY
    clock: FakeClock = dataclasses.field(default_factory=FakeClock)
    factory: TestClientFactory = dataclasses.field(default_factory=TestClientFactory)
    dr_key: str = ""
    primary_key: str = ""
    probed: list[RestoredCluster] = dataclasses.field(default_factory=list)
    probe_ok: bool = True

    def build(self) -> BackupWorld:
        """Create keys, the global cluster and its writer (a plain cluster, then attached)."""
        self.dr_key = client("kms", DR).create_key()["KeyMetadata"]["Arn"]
        self.primary_key = client("kms", PRIMARY).create_key()["KeyMetadata"]["Arn"]
        writer_rds = client("rds", self.writer_region)
        writer_rds.create_db_cluster(
            DBClusterIdentifier=WRITER,
            Engine="aurora-postgresql",
            EngineVersion="15.4",
            MasterUsername="dbadmin",
            MasterUserPassword="not-a-real-password",
            StorageEncrypted=True,
        )
        client("rds", DR).create_global_cluster(
            GlobalClusterIdentifier=GID, Engine="aurora-postgresql", EngineVersion="15.4"
        )
        _attach_as_writer(self.writer_region, WRITER)
        return self

    def settings(self, **overrides: str) -> Settings:
        """Settings from an environment like the stack's (overrides by variable name)."""
        env = {
            "AWS_REGION": DR,
            "PEER_REGION": PRIMARY,
            "GLOBAL_CLUSTER_ID": GID,
            "ENVIRONMENT_SUFFIX": "dev",
            "DR_KMS_KEY_ID": self.dr_key,
            "RESTORE_TEST_ENABLED": "false",
            "RESTORE_DB_SUBNET_GROUP": "aurora-dr-dev-dr",
            "RESTORE_SECURITY_GROUP_IDS": "sg-0123456789abcdef0",
            "RESTORE_INSTANCE_CLASS": "db.r6g.large",
            **overrides,
        }
        return Settings.from_env(env)

    def probe(self, target: RestoredCluster) -> ProbeResult:
        """A fake probe that records what it was pointed at."""
        self.probed.append(target)
        return ProbeResult(self.probe_ok, "fake probe")

    def run(self, settings: Settings, *, timeout: float = 900.0) -> Report:
        """One verification run."""
        return run(
            Dependencies(
                settings=settings,
                factory=self.factory,
                clock=self.clock,
                context=FakeContext(self.clock, timeout_seconds=timeout),
                probe=self.probe,
            )
        )


def _metrics(report: Report) -> dict[str, float]:
    return {p.name: p.value for p in report.metrics()}


def _dr_snapshots() -> list[dict[str, Any]]:
    return client("rds", DR).describe_db_cluster_snapshots(SnapshotType="manual")[
        "DBClusterSnapshots"
    ]


def _dr_clusters() -> list[str]:
    return [
        c["DBClusterIdentifier"] for c in client("rds", DR).describe_db_clusters()["DBClusters"]
    ]


@pytest.mark.usefixtures("moto_aws")
def test_fresh_snapshot_passes_and_is_copied_to_dr_with_the_dr_key() -> None:
    # GIVEN a writer in the primary region with a just-taken automated snapshot
    world = BackupWorld().build()

    # WHEN the verifier runs in the DR region (restore test disabled)
    report = world.run(world.settings())

    # THEN the snapshot is fresh and its copy in DR is encrypted with the DR key and tagged
    assert report.ok, report.problems
    assert report.freshness is not None and report.freshness.fresh
    assert report.writer_arn is not None and f":{PRIMARY}:" in report.writer_arn
    (copy,) = _dr_snapshots()
    assert copy["DBClusterSnapshotIdentifier"].startswith(f"{STEM}-")
    assert copy["KmsKeyId"] == world.dr_key
    assert {"Key": "aurora-dr:purpose", "Value": "backup-verification"} in copy["TagList"]
    assert report.restore.status == "skipped"
    metrics = _metrics(report)
    assert metrics["SnapshotFresh"] == 1
    assert metrics["CopySucceeded"] == 1
    assert metrics["VerificationSucceeded"] == 1
    assert "RestoreSucceeded" not in metrics
    assert metrics["SnapshotAgeSeconds"] < 60


@pytest.mark.usefixtures("moto_aws")
def test_stale_snapshot_is_detected_and_nothing_is_copied() -> None:
    # GIVEN a writer whose newest automated snapshot is two days old
    world = BackupWorld().build()
    world.clock.advance(48 * HOUR)

    # WHEN the verifier runs
    report = world.run(world.settings())

    # THEN it reports the stale snapshot and copies nothing
    assert not report.ok
    assert report.freshness is not None and not report.freshness.fresh
    assert "48.0 h old" in report.problems[0]
    assert "CopyDBClusterSnapshot" not in world.factory.operations()
    metrics = _metrics(report)
    assert metrics["SnapshotFresh"] == 0
    assert metrics["SnapshotAgeSeconds"] > 47 * HOUR
    assert metrics["VerificationSucceeded"] == 0


@pytest.mark.usefixtures("moto_aws")
def test_copy_with_a_key_of_the_wrong_region_fails_and_is_reported() -> None:
    # GIVEN settings bypassing validation with the primary region's key (moto checks key regions)
    world = BackupWorld().build()
    settings = dataclasses.replace(world.settings(), kms_key_id=world.primary_key)

    # WHEN the verifier copies the snapshot to DR
    report = world.run(settings)

    # THEN the copy fails and is reported
    assert report.copy.status == "failed"
    assert "KMSKeyNotAccessibleFault" in report.copy.detail
    assert _metrics(report)["CopySucceeded"] == 0
    assert not report.ok


def test_settings_refuse_a_kms_key_of_another_region() -> None:
    # GIVEN / WHEN a DR key from the primary region / THEN the settings name the variable
    with pytest.raises(ValueError, match="DR_KMS_KEY_ID must be a key in us-west-2"):
        BackupWorld(dr_key=f"arn:aws:kms:{PRIMARY}:{ACCOUNT}:key/abc").settings()


@pytest.mark.usefixtures("moto_aws")
def test_restore_test_restores_probes_and_deletes_everything() -> None:
    # GIVEN a fresh snapshot and the restore test enabled
    world = BackupWorld().build()
    settings = world.settings(RESTORE_TEST_ENABLED="true")

    # WHEN the verifier runs
    report = world.run(settings)

    # THEN the copy was restored into a tagged cluster + instance, probed, then both deleted
    assert report.ok, report.problems
    (target,) = world.probed
    assert target.cluster_id.startswith(f"{STEM}-")
    assert target.status == "available"
    assert target.instance_status == "available"
    ops = world.factory.operations()
    assert ops.index("RestoreDBClusterFromSnapshot") < ops.index("CreateDBInstance")
    assert {"DeleteDBInstance", "DeleteDBCluster"} <= set(ops)
    assert report.teardown.status == "ok"
    assert not any(c.startswith(STEM) for c in _dr_clusters())
    assert _metrics(report)["RestoreSucceeded"] == 1


@pytest.mark.usefixtures("moto_aws")
def test_failed_probe_is_reported_and_the_cluster_is_still_deleted() -> None:
    # GIVEN a restore test whose probe finds the restored data unusable
    world = BackupWorld(probe_ok=False).build()

    # WHEN the verifier runs
    report = world.run(world.settings(RESTORE_TEST_ENABLED="true"))

    # THEN the failure is reported and nothing is left behind
    assert not report.ok
    assert "probe failed" in report.problems[0]
    assert _metrics(report)["RestoreSucceeded"] == 0
    assert not any(c.startswith(STEM) for c in _dr_clusters())


@pytest.mark.usefixtures("moto_aws")
def test_writer_in_this_region_is_restored_without_a_copy() -> None:
    # GIVEN a switchover made the DR region the writer
    world = BackupWorld(writer_region=DR).build()

    # WHEN the verifier runs with the restore test
    report = world.run(world.settings(RESTORE_TEST_ENABLED="true"))

    # THEN nothing is copied and the local automated snapshot is restored
    assert report.ok, report.problems
    assert report.copy.status == "skipped"
    assert "CopyDBClusterSnapshot" not in world.factory.operations()
    assert "CopySucceeded" not in _metrics(report)
    assert len(world.probed) == 1


@pytest.mark.usefixtures("moto_aws")
def test_leftovers_of_earlier_runs_are_swept_and_nothing_else() -> None:
    # GIVEN leftovers of a crashed run, plus look-alikes that are not ours
    world = BackupWorld().build()
    dr = client("rds", DR)
    tags = resource_tags("dev")
    old_cluster = f"{STEM}-20260101000000"
    for cluster_id, cluster_tags in (
        (old_cluster, tags),
        (f"{STEM}-untagged", []),  # our name, no tag: not ours
        ("aurora-dr-verify-prod-20260101000000", resource_tags("prod")),  # other environment
    ):
        dr.create_db_cluster(
            DBClusterIdentifier=cluster_id,
            Engine="aurora-postgresql",
            MasterUsername="dbadmin",
            MasterUserPassword="not-a-real-password",
            Tags=cluster_tags,
        )
    dr.create_db_instance(
        DBInstanceIdentifier=f"{old_cluster}-1",
        DBClusterIdentifier=old_cluster,
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
        Tags=tags,
    )
    dr.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier=f"{STEM}-20260101000000",
        DBClusterIdentifier=old_cluster,
        Tags=tags,
    )
    world.clock.advance(7 * HOUR)  # older than SWEEP_AFTER_HOURS (6 h)

    # WHEN the verifier runs
    report = world.run(world.settings())

    # THEN exactly the tagged, prefixed, old resources were deleted
    assert sorted(report.swept) == sorted(
        [
            f"instance {old_cluster}-1",
            f"cluster {old_cluster}",
            f"snapshot {STEM}-20260101000000",
        ]
    )
    assert report.sweep_errors == []
    remaining = _dr_clusters()
    assert old_cluster not in remaining
    assert f"{STEM}-untagged" in remaining
    assert "aurora-dr-verify-prod-20260101000000" in remaining
    assert _metrics(report)["SweptResources"] == 3


@pytest.mark.usefixtures("moto_aws")
def test_recent_resources_of_ours_are_not_swept() -> None:
    # GIVEN a tagged cluster created an hour ago (another run may be using it)
    world = BackupWorld().build()
    client("rds", DR).create_db_cluster(
        DBClusterIdentifier=f"{STEM}-20260101000000",
        Engine="aurora-postgresql",
        MasterUsername="dbadmin",
        MasterUserPassword="not-a-real-password",
        Tags=resource_tags("dev"),
    )
    world.clock.advance(1 * HOUR)

    # WHEN the verifier runs / THEN it is left alone
    assert world.run(world.settings()).swept == []


@pytest.mark.usefixtures("moto_aws")
def test_no_restore_is_started_without_enough_time_left() -> None:
    # GIVEN a restore test but only 200 s left in the invocation
    world = BackupWorld().build()

    # WHEN the verifier runs
    report = world.run(world.settings(RESTORE_TEST_ENABLED="true"), timeout=200.0)

    # THEN it copies, but does not start a restore it could not finish
    assert report.copy.ok
    assert report.restore.status == "timed_out"
    assert "RestoreDBClusterFromSnapshot" not in world.factory.operations()
    assert not report.ok


def _rds_whose_restore_never_finishes(factory: TestClientFactory, cluster_id: str) -> Stubber:
    """A Stubber RDS in DR: the restored cluster stays `creating` for 4 polls, then teardown."""
    stub = factory.stubbed("rds", DR)
    restored = db_cluster_response(DR, cluster_id, "creating", [])["DBClusters"][0]
    stub.add_response("restore_db_cluster_from_snapshot", {"DBCluster": restored})
    stub.add_response(
        "create_db_instance",
        {"DBInstance": {"DBInstanceIdentifier": f"{cluster_id}-1", "DBInstanceStatus": "creating"}},
    )
    for _ in range(4):  # 120 s of budget, polls every 30 s: 4 polls
        stub.add_response("describe_db_clusters", {"DBClusters": [restored]})
        stub.add_response(
            "describe_db_instances",
            {
                "DBInstances": [
                    {"DBInstanceIdentifier": f"{cluster_id}-1", "DBInstanceStatus": "creating"}
                ]
            },
        )
    stub.add_response(
        "delete_db_instance", {"DBInstance": {"DBInstanceIdentifier": f"{cluster_id}-1"}}
    )
    stub.add_response("delete_db_cluster", {"DBCluster": restored})
    return stub


def _restore_enabled_settings() -> Settings:
    return Settings.from_env(
        {
            "AWS_REGION": DR,
            "PEER_REGION": PRIMARY,
            "GLOBAL_CLUSTER_ID": GID,
            "ENVIRONMENT_SUFFIX": "dev",
            "RESTORE_TEST_ENABLED": "true",
            "RESTORE_DB_SUBNET_GROUP": "aurora-dr-dev-dr",
            "RESTORE_SECURITY_GROUP_IDS": "sg-0123456789abcdef0",
            "RESTORE_INSTANCE_CLASS": "db.r6g.large",
        }
    )


def test_restore_wait_stops_at_the_deadline_and_still_tears_down() -> None:
    # GIVEN an RDS API (Stubber) whose restored cluster never leaves `creating`
    clock = FakeClock()
    factory = TestClientFactory()
    cluster_id = f"{STEM}-20260101000000"
    stub = _rds_whose_restore_never_finishes(factory, cluster_id)
    rds = factory("rds", DR)
    settings = _restore_enabled_settings()
    snapshot = Snapshot(
        identifier="rds:aurora-dr-dev-primary-2026-01-01-00-00",
        arn="arn",
        cluster_id=WRITER,
        created=datetime.now(UTC),
        status="available",
        snapshot_type="automated",
        engine="aurora-postgresql",
        engine_version="15.4",
        kms_key_id=None,
    )
    probed: list[RestoredCluster] = []

    # WHEN the restore test runs with 120 s of budget
    outcome = resources.restore_and_probe(
        rds,
        snapshot_ref=snapshot.identifier,
        snapshot=snapshot,
        cluster_id=cluster_id,
        settings=settings,
        clock=clock,
        deadline=Deadline(clock, clock.monotonic() + 120),
        probe=lambda target: probed.append(target) or ProbeResult(True, "unused"),
    )

    # THEN it gave up at the deadline without probing, and deleted what it created
    assert outcome.restore.status == "timed_out"
    assert "creating" in outcome.restore.detail
    assert probed == []
    assert outcome.teardown.status == "ok"
    assert sum(clock.sleeps) <= 120
    stub.assert_no_pending_responses()


@pytest.mark.usefixtures("moto_aws")
def test_global_cluster_without_writer_is_reported() -> None:
    # GIVEN a global cluster whose only member is not marked writer
    world = BackupWorld()
    world.dr_key = client("kms", DR).create_key()["KeyMetadata"]["Arn"]
    client("rds", DR).create_global_cluster(
        GlobalClusterIdentifier=GID, Engine="aurora-postgresql", EngineVersion="15.4"
    )

    # WHEN the verifier runs / THEN it says so
    report = world.run(world.settings())
    assert not report.ok
    assert "no writer" in report.problems[0]


@pytest.mark.usefixtures("moto_aws")
def test_handler_runs_and_emits_metrics(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the handler wired to the moto world
    world = BackupWorld().build()
    for key, value in {
        "AWS_REGION": DR,
        "PEER_REGION": PRIMARY,
        "GLOBAL_CLUSTER_ID": GID,
        "ENVIRONMENT_SUFFIX": "dev",
        "DR_KMS_KEY_ID": world.dr_key,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "CLIENT_FACTORY", world.factory)
    monkeypatch.setattr(handler, "CLOCK", world.clock)

    # WHEN the schedule invokes it
    out = handler.lambda_handler({}, FakeContext(world.clock, timeout_seconds=900))

    # THEN the report is returned and EMF metrics are flushed
    assert out["ok"] is True
    assert out["copy"]["status"] == "ok"
    emitted = capsys.readouterr().out
    assert '"SnapshotFresh"' in emitted
    assert '"CopySucceeded"' in emitted


@pytest.mark.usefixtures("moto_aws")
def test_handler_reaches_the_peer_rds_api_through_its_interface_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the writer in the peer region and the peer VPC's RDS interface endpoint configured
    world = BackupWorld().build()
    url = "https://vpce-0123-abcd.rds.us-east-1.vpce.amazonaws.com"
    for key, value in {
        "AWS_REGION": DR,
        "PEER_REGION": PRIMARY,
        "GLOBAL_CLUSTER_ID": GID,
        "ENVIRONMENT_SUFFIX": "dev",
        "DR_KMS_KEY_ID": world.dr_key,
        "PEER_RDS_ENDPOINT_URL": url,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "CLIENT_FACTORY", world.factory)
    monkeypatch.setattr(handler, "CLOCK", world.clock)

    # WHEN the schedule invokes the handler
    handler.lambda_handler({}, FakeContext(world.clock, timeout_seconds=900))

    # THEN the peer's RDS client is asked for at that endpoint, this region's at its own
    rds_endpoints = {(r, u) for service, r, u in world.factory.endpoint_urls if service == "rds"}
    assert rds_endpoints == {(PRIMARY, url), (DR, None)}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"GLOBAL_CLUSTER_ID": ""}, "GLOBAL_CLUSTER_ID is required"),
        ({"PEER_REGION": "us-west-2"}, "PEER_REGION='us-west-2' must differ"),
        (
            {"RESTORE_TEST_ENABLED": "true", "RESTORE_DB_SUBNET_GROUP": ""},
            "RESTORE_DB_SUBNET_GROUP",
        ),
        ({"RESTORE_TEST_ENABLED": "maybe"}, "must be true or false"),
        ({"RESTORE_SECURITY_GROUP_IDS": "default"}, "is not a security group id"),
        ({"MAX_SNAPSHOT_AGE_HOURS": "soon"}, "MAX_SNAPSHOT_AGE_HOURS='soon' is not a number"),
        ({"RESOURCE_PREFIX": "Verify_"}, "RESOURCE_PREFIX"),
        ({"RESOURCE_PREFIX": "v" * 50}, "too long"),
    ],
)
def test_settings_name_the_bad_variable(overrides: dict[str, str], message: str) -> None:
    # GIVEN an environment with one bad variable / WHEN read / THEN the error names it
    env = {
        "AWS_REGION": DR,
        "PEER_REGION": PRIMARY,
        "GLOBAL_CLUSTER_ID": GID,
        "ENVIRONMENT_SUFFIX": "dev",
        "RESTORE_DB_SUBNET_GROUP": "aurora-dr-dev-dr",
        "RESTORE_SECURITY_GROUP_IDS": "sg-0123456789abcdef0",
        "RESTORE_INSTANCE_CLASS": "db.r6g.large",
        **overrides,
    }
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)
