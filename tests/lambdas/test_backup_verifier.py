"""Backup verifier: freshness, cross-region copy with the DR key, restore test, sweep, time
budget, and how a failed run reaches a human.

moto runs RDS, KMS and SNS in both regions, with RDS made as strict as AWS documents it where moto
is more lenient (`aws_fixtures.aws_like_snapshot_copies`: an encrypted cross-region copy needs a
destination key). moto's `restore_db_cluster_from_snapshot` crashes on a snapshot of a cluster
that joined a global cluster through `create_db_cluster`, so the writer is created as a plain
cluster and attached to the global cluster by a small test-only extension of moto's model
(`_attach_as_writer`). The wait-timeout path uses a Stubber (moto makes everything available at
once).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_fixtures import (
    ACCOUNT,
    DR,
    MISSING_DESTINATION_KEY,
    PRIMARY,
    FakeClock,
    FakeContext,
    TestClientFactory,
    alert_topic,
    aws_like_rds,
    client,
    db_cluster_response,
    moto_aws,  # noqa: F401 - fixture
    published,
)
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from backup_verifier import handler, resources
from backup_verifier.probe import ProbeResult, RestoredCluster
from backup_verifier.settings import Settings, SettingsError
from backup_verifier.snapshots import Snapshot, resource_tags
from backup_verifier.verifier import Dependencies, Report, run
from drcommon import reports
from drcommon.aws import Deadline

GID = "aurora-dr-dev"
WRITER = "aurora-dr-dev-primary"
SECONDARY = "aurora-dr-dev-dr"
STEM = "aurora-dr-verify-dev"
HOUR = 3600.0
TOPIC_NAME = "aurora-dr-alerts-usw2-dev"
TOPIC_ARN = f"arn:aws:sns:{DR}:{ACCOUNT}:{TOPIC_NAME}"


def _attach_as_writer(region: str, cluster_id: str, global_id: str = GID) -> None:
    """Test-only moto extension: make a plain cluster the global cluster's writer member.

    Equivalent to what AWS shows after `create_db_cluster(GlobalClusterIdentifier=...)`, without
    the moto model of such clusters that `restore_db_cluster_from_snapshot` cannot copy.
    """
    from moto.rds.models import rds_backends

    # moto keeps global clusters in one regional backend whatever region created them.
    (global_cluster,) = [
        backend.global_clusters[global_id]
        for backend in rds_backends[ACCOUNT].values()
        if global_id in backend.global_clusters
    ]
    cluster = rds_backends[ACCOUNT][region].clusters[cluster_id]
    cluster.global_cluster_identifier = global_cluster.global_cluster_arn
    cluster.is_writer = True
    global_cluster.members.append(cluster)


def _aws_like_factory() -> TestClientFactory:
    """A client factory whose RDS clients refuse what AWS refuses (`aws_like_rds`)."""
    factory = TestClientFactory()
    factory.on_new_client.append(aws_like_rds)
    return factory


@dataclasses.dataclass
class BackupWorld:
    """Two regions in moto: a global cluster with its writer in `writer_region`, and the DR
    region's alert topic (read through an SQS queue subscribed to it)."""

    writer_region: str = PRIMARY
    global_id: str = GID
    topic_name: str = TOPIC_NAME
    clock: FakeClock = dataclasses.field(default_factory=FakeClock)
    factory: TestClientFactory = dataclasses.field(default_factory=_aws_like_factory)
    dr_key: str = ""
    primary_key: str = ""
    probed: list[RestoredCluster] = dataclasses.field(default_factory=list)
    probe_ok: bool = True

    @property
    def topic_arn(self) -> str:
        """The DR region's alert topic."""
        return f"arn:aws:sns:{DR}:{ACCOUNT}:{self.topic_name}"

    def build(self) -> BackupWorld:
        """Create keys, the topic, the global cluster and its writer (a plain cluster, then
        attached)."""
        self.dr_key = client("kms", DR).create_key()["KeyMetadata"]["Arn"]
        self.primary_key = client("kms", PRIMARY).create_key()["KeyMetadata"]["Arn"]
        alert_topic(DR, self.topic_name)
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
            GlobalClusterIdentifier=self.global_id,
            Engine="aurora-postgresql",
            EngineVersion="15.4",
        )
        _attach_as_writer(self.writer_region, WRITER, self.global_id)
        return self

    def env(self, **overrides: str) -> dict[str, str]:
        """An environment like the stack's (overrides by variable name)."""
        return {
            "AWS_REGION": DR,
            "PEER_REGION": PRIMARY,
            "GLOBAL_CLUSTER_ID": self.global_id,
            "ENVIRONMENT_SUFFIX": "dev",
            "SNS_TOPIC_ARN": self.topic_arn,
            "DR_KMS_KEY_ID": self.dr_key,
            "RESTORE_TEST_ENABLED": "false",
            "RESTORE_DB_SUBNET_GROUP": "aurora-dr-dev-dr",
            "RESTORE_SECURITY_GROUP_IDS": "sg-0123456789abcdef0",
            "RESTORE_INSTANCE_CLASS": "db.r6g.large",
            **overrides,
        }

    def messages(self) -> list[dict[str, Any]]:
        """What was published to the DR region's alert topic so far (parsed JSON bodies)."""
        return [json.loads(body) for body in published(self.topic_arn)]

    def settings(self, **overrides: str) -> Settings:
        """Settings from an environment like the stack's (overrides by variable name)."""
        return Settings.from_env(self.env(**overrides))

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
    # ... and a good run pages nobody
    assert report.notified is None
    assert world.messages() == []


@pytest.mark.usefixtures("moto_aws")
def test_thirty_hour_old_snapshot_fails_the_run_and_the_run_pages_the_topic() -> None:
    # GIVEN a writer whose newest automated snapshot is 30 hours old (a daily backup missed)
    world = BackupWorld().build()
    world.clock.advance(30 * HOUR)

    # WHEN the scheduled verifier runs
    report = world.run(world.settings())

    # THEN it reports the stale snapshot, copies nothing, and emits the alarm's metric as 0
    assert not report.ok
    assert report.freshness is not None and not report.freshness.fresh
    assert "30.0 h old (maximum 26 h)" in report.problems[0]
    assert "CopyDBClusterSnapshot" not in world.factory.operations()
    metrics = _metrics(report)
    assert metrics["SnapshotFresh"] == 0
    assert metrics["SnapshotAgeSeconds"] > 29 * HOUR
    assert metrics["VerificationSucceeded"] == 0
    # ... and the run itself published its report to the region's alert topic, at once
    assert report.notified is True
    (message,) = world.messages()
    assert message["ok"] is False
    assert message["problems"] == report.problems
    assert message["environment"] == "dev"
    assert message["verifierRegion"] == DR
    publish = [params for service, _, op, params in world.factory.requests if op == "Publish"]
    assert publish[0]["TopicArn"] == world.topic_arn
    assert publish[0]["Subject"].startswith(
        "ACTION REQUIRED [aurora-dr dev] backup verification failed: newest snapshot"
    )
    assert len(publish[0]["Subject"]) < 100  # SNS: "less than 100 characters long"


@pytest.mark.usefixtures("moto_aws")
def test_a_run_that_cannot_publish_still_reports_its_failure() -> None:
    # GIVEN a stale snapshot and an alert topic that does not exist (a wiring fault)
    world = BackupWorld(topic_name="no-such-topic").build()
    client("sns", DR).delete_topic(TopicArn=world.topic_arn)
    world.clock.advance(30 * HOUR)

    # WHEN the verifier runs / THEN the failure is still reported, with the missed page
    report = world.run(world.settings())
    assert not report.ok
    assert report.notified is False
    assert _metrics(report)["VerificationSucceeded"] == 0


@pytest.mark.usefixtures("moto_aws")
def test_the_rds_double_refuses_an_encrypted_cross_region_copy_without_a_destination_key() -> None:
    # GIVEN the writer's encrypted automated snapshot in the primary region
    world = BackupWorld().build()
    (snapshot,) = client("rds", PRIMARY).describe_db_cluster_snapshots(
        DBClusterIdentifier=WRITER, SnapshotType="automated"
    )["DBClusterSnapshots"]
    assert snapshot["StorageEncrypted"] is True
    dr_rds = world.factory("rds", DR)
    copy = {
        "SourceDBClusterSnapshotIdentifier": snapshot["DBClusterSnapshotArn"],
        "SourceRegion": PRIMARY,
    }

    # WHEN it is copied into DR without a key / THEN RDS (the double) refuses, as AWS documents
    code, message = MISSING_DESTINATION_KEY
    with pytest.raises(ClientError, match=f"{code}.*{message}"):
        dr_rds.copy_db_cluster_snapshot(TargetDBClusterSnapshotIdentifier="no-key", **copy)
    assert _dr_snapshots() == []

    # ... and with the DR key it copies, encrypted with that key
    dr_rds.copy_db_cluster_snapshot(
        TargetDBClusterSnapshotIdentifier="with-key", KmsKeyId=world.dr_key, **copy
    )
    (copied,) = _dr_snapshots()
    assert copied["KmsKeyId"] == world.dr_key


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
def test_copy_turned_off_verifies_freshness_only() -> None:
    # GIVEN a fresh snapshot of a writer in the other region, and a sizing without the copy
    world = BackupWorld().build()

    # WHEN the verifier runs
    report = world.run(world.settings(COPY_SNAPSHOT_ENABLED="false"))

    # THEN it checks freshness, copies nothing and says so
    assert report.ok, report.problems
    assert report.copy.status == "skipped"
    assert "disabled" in report.copy.detail
    assert "CopyDBClusterSnapshot" not in world.factory.operations()
    assert "CopySucceeded" not in _metrics(report)


def test_a_restore_test_without_the_copy_is_refused_at_start() -> None:
    # GIVEN / WHEN the restore test on but the copy it restores off / THEN the settings refuse
    with pytest.raises(SettingsError, match="RESTORE_TEST_ENABLED is true but COPY_SNAPSHOT"):
        BackupWorld(dr_key=f"arn:aws:kms:{DR}:{ACCOUNT}:key/abc").settings(
            RESTORE_TEST_ENABLED="true", COPY_SNAPSHOT_ENABLED="false"
        )


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
            "SNS_TOPIC_ARN": TOPIC_ARN,
            "DR_KMS_KEY_ID": f"arn:aws:kms:{DR}:{ACCOUNT}:key/abc",
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
    alert_topic(DR, world.topic_name)
    client("rds", DR).create_global_cluster(
        GlobalClusterIdentifier=GID, Engine="aurora-postgresql", EngineVersion="15.4"
    )

    # WHEN the verifier runs / THEN it says so
    report = world.run(world.settings())
    assert not report.ok
    assert "no writer" in report.problems[0]
    assert [m["problems"] for m in world.messages()] == [report.problems]


@pytest.mark.usefixtures("moto_aws")
def test_handler_runs_and_emits_metrics(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the handler wired to the moto world
    world = BackupWorld().build()
    for key, value in world.env().items():
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
def test_handler_reaches_both_regions_rds_apis_at_their_regional_endpoints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the writer in the peer region, and the verifier outside any VPC
    world = BackupWorld().build()
    for key, value in world.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "CLIENT_FACTORY", world.factory)
    monkeypatch.setattr(handler, "CLOCK", world.clock)

    # WHEN the schedule invokes the handler
    handler.lambda_handler({}, FakeContext(world.clock, timeout_seconds=900))

    # THEN each region's RDS client is asked for at that region's own (public) endpoint: no
    # interface endpoint URL of either VPC
    rds_endpoints = {(r, u) for service, r, u in world.factory.endpoint_urls if service == "rds"}
    assert rds_endpoints == {(PRIMARY, None), (DR, None)}


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
        ({"DR_KMS_KEY_ID": ""}, "DR_KMS_KEY_ID is required"),
        (
            {"SNS_TOPIC_ARN": f"arn:aws:sns:{PRIMARY}:{ACCOUNT}:alerts"},
            "SNS topic ARN in us-west-2",
        ),
        ({"COPY_SNAPSHOT_ENABLED": "sometimes"}, "must be true or false"),
    ],
)
def test_settings_name_the_bad_variable(overrides: dict[str, str], message: str) -> None:
    # GIVEN an environment with one bad variable / WHEN read / THEN the error names it
    env = {
        "AWS_REGION": DR,
        "PEER_REGION": PRIMARY,
        "GLOBAL_CLUSTER_ID": GID,
        "ENVIRONMENT_SUFFIX": "dev",
        "SNS_TOPIC_ARN": TOPIC_ARN,
        "DR_KMS_KEY_ID": f"arn:aws:kms:{DR}:{ACCOUNT}:key/abc",
        "RESTORE_DB_SUBNET_GROUP": "aurora-dr-dev-dr",
        "RESTORE_SECURITY_GROUP_IDS": "sg-0123456789abcdef0",
        "RESTORE_INSTANCE_CLASS": "db.r6g.large",
        **overrides,
    }
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


# -- the dev stack's verifier, as deployed ---------------------------------------------------------

FUNCTION = "aws:lambda/function:Function"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _emf_records(stdout: str) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric-format documents a handler printed."""
    records = []
    for line in stdout.splitlines():
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            records.append(document)
    return records


@pytest.mark.usefixtures("moto_aws")
def test_dev_stacks_verifier_passes_the_strict_double_and_reports_what_its_alarm_watches(
    plans: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the environment the dev stack gives its backup verifier, and the alarm it registers
    # on the verifier's result; a moto world with the writer in the primary region
    dev = plans["dev"]
    (verifier,) = [
        f for f in dev.of_type(FUNCTION) if f.inputs["handler"].startswith("backup_verifier.")
    ]
    variables = dict(verifier.inputs["environment"]["variables"])
    (alarm,) = [
        a for a in dev.of_type(METRIC_ALARM) if a.inputs["metricName"] == "VerificationSucceeded"
    ]
    topic_name = variables["SNS_TOPIC_ARN"].rsplit(":", 1)[-1]
    world = BackupWorld(global_id=variables["GLOBAL_CLUSTER_ID"], topic_name=topic_name).build()
    # The one stand-in: moto makes up key ids, so the dev stack's DR key is moto's DR key.
    if "DR_KMS_KEY_ID" in variables:
        variables["DR_KMS_KEY_ID"] = world.dr_key
    for key, value in {"AWS_REGION": verifier.region, **variables}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "CLIENT_FACTORY", world.factory)
    monkeypatch.setattr(handler, "CLOCK", world.clock)

    # WHEN the schedule invokes it
    out = handler.lambda_handler({}, FakeContext(world.clock, timeout_seconds=900))

    # THEN the run passes an RDS as strict as AWS: the writer's snapshot is fresh, and the dev
    # sizing makes no cross-region copy (its price; the copy path is held to AWS's rules by the
    # tests above, which turn it on)
    assert out["ok"] is True, out["problems"]
    assert out["copy"] == {
        "status": "skipped",
        "detail": "copy to this region disabled for this sizing",
        "identifier": None,
    }
    # ... and its EMF record carries exactly the alarm's namespace, metric and dimensions
    (record,) = _emf_records(capsys.readouterr().out)
    (metric_set,) = record["_aws"]["CloudWatchMetrics"]
    (dimension_names,) = metric_set["Dimensions"]
    assert metric_set["Namespace"] == alarm.inputs["namespace"]
    assert "VerificationSucceeded" in {m["Name"] for m in metric_set["Metrics"]}
    assert {name: record[name] for name in dimension_names} == alarm.inputs["dimensions"]
    assert alarm.region == verifier.region


# --- the stored report ----------------------------------------------------------------------------

REPORTS_BUCKET = "aurora-dr-backups-123456789012-usw2-dev"


def _handler_env(monkeypatch: pytest.MonkeyPatch, world: BackupWorld, **extra: str) -> None:
    for key, value in world.env(**extra).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "CLIENT_FACTORY", world.factory)
    monkeypatch.setattr(handler, "CLOCK", world.clock)


def _reports_bucket_like_the_stacks(kms_key: str) -> Any:
    """The DR backup bucket as the stack declares it: default SSE-KMS with the DR key and an S3
    Bucket Key (the report writer sets no encryption of its own)."""
    s3 = client("s3", DR)
    s3.create_bucket(Bucket=REPORTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": DR})
    s3.put_bucket_encryption(
        Bucket=REPORTS_BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": kms_key,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    return s3


def _emitted_metric(output: str, name: str) -> float:
    """The value of metric `name` in the EMF documents printed by the handler."""
    for line in output.splitlines():
        if line.startswith("{") and f'"{name}"' in line:
            value = json.loads(line)[name]
            return float(value[0] if isinstance(value, list) else value)
    raise AssertionError(f"metric {name} not emitted")


@pytest.mark.usefixtures("moto_aws")
def test_a_verification_run_stores_its_report_in_its_regions_bucket_under_its_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a fresh snapshot and the DR backup bucket as the stack declares it
    world = BackupWorld().build()
    s3 = _reports_bucket_like_the_stacks(world.dr_key)
    _handler_env(monkeypatch, world, REPORT_BUCKET=REPORTS_BUCKET)

    # WHEN the schedule invokes the verifier
    out = handler.lambda_handler({}, FakeContext(world.clock, timeout_seconds=900))

    # THEN one report object sits under the reports prefix, SSE-KMS with the DR key
    (item,) = s3.list_objects_v2(Bucket=REPORTS_BUCKET, Prefix="verification-reports/")["Contents"]
    head = s3.head_object(Bucket=REPORTS_BUCKET, Key=item["Key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == world.dr_key
    assert head["ContentType"] == "application/json"
    # AND it holds the snapshot, its age, the copy, the restore test, the verdict and the times
    stored = json.loads(s3.get_object(Bucket=REPORTS_BUCKET, Key=item["Key"])["Body"].read())
    assert stored["snapshot"] == out["snapshot"] and f":{PRIMARY}:" in stored["snapshot"]
    assert stored["freshness"]["age_seconds"] == out["freshness"]["age_seconds"] < 60
    assert stored["copy"]["status"] == "ok"
    assert stored["restore"]["status"] == "skipped"
    assert stored["verdict"] == "passed"
    started, finished = (datetime.fromisoformat(stored[k]) for k in ("startedAt", "finishedAt"))
    assert started <= finished
    assert item["Key"].startswith(f"verification-reports/{started:%Y/%m/%d}/")
    # AND the run says where it went, and counts it
    assert out["storedReport"] == {
        "ok": True,
        "bucket": REPORTS_BUCKET,
        "key": item["Key"],
        "detail": f"stored as s3://{REPORTS_BUCKET}/{item['Key']}",
    }
    assert _emitted_metric(capsys.readouterr().out, "ReportStored") == 1


@pytest.mark.usefixtures("moto_aws")
def test_a_report_that_cannot_be_stored_is_reported_and_the_verdict_stands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a fresh snapshot but a report bucket that does not exist
    world = BackupWorld().build()
    _handler_env(monkeypatch, world, REPORT_BUCKET=REPORTS_BUCKET)

    # WHEN the schedule invokes the verifier
    out = handler.lambda_handler({}, FakeContext(world.clock, timeout_seconds=900))

    # THEN the verification passed, and the failed write is in the result and the metrics
    assert out["ok"] is True
    assert out["storedReport"]["ok"] is False
    assert "NoSuchBucket" in out["storedReport"]["detail"]
    assert _emitted_metric(capsys.readouterr().out, "ReportStored") == 0


def test_a_report_key_is_dated_under_its_prefix_and_refuses_a_prefix_without_slash() -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    key = reports.report_key("verification-reports/", when, "req-1")
    assert key == "verification-reports/2026/03/04/050607-req-1.json"
    with pytest.raises(ValueError, match="a report prefix ends with '/'"):
        reports.report_key("verification-reports", when, "req-1")


# --- the snapshot export --------------------------------------------------------------------------


def _export_env(world: BackupWorld) -> dict[str, str]:
    return {
        "SNAPSHOT_EXPORT_EVERY_DAYS": "7",
        "SNAPSHOT_EXPORT_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/aurora-dr-snapshot-export-dev",
        "SNAPSHOT_EXPORT_BUCKETS": json.dumps(
            {PRIMARY: "aurora-dr-backups-use1-dev", DR: "aurora-dr-backups-usw2-dev"}
        ),
        "SNAPSHOT_EXPORT_KMS_KEYS": json.dumps({PRIMARY: world.primary_key, DR: world.dr_key}),
    }


def _export_requests(world: BackupWorld) -> list[tuple[str, dict[str, Any]]]:
    return [
        (region, params)
        for service, region, op, params in world.factory.requests
        if op == "StartExportTask"
    ]


@pytest.mark.usefixtures("moto_aws")
def test_a_verified_copy_is_exported_in_the_verifiers_region_not_the_writers() -> None:
    # GIVEN a fresh snapshot of the primary writer and the export configured
    world = BackupWorld().build()

    # WHEN the verifier (in DR) runs
    report = world.run(world.settings(**_export_env(world)))

    # THEN its own copy in DR, not the primary's snapshot, is exported into the DR bucket with
    # the DR key: the export outlives the primary region without being replicated
    assert report.ok, report.problems
    ((region, params),) = _export_requests(world)
    assert region == DR
    assert (
        params["SourceArn"]
        == f"arn:aws:rds:{DR}:{ACCOUNT}:cluster-snapshot:{report.copy.identifier}"
    )
    assert params["S3BucketName"] == "aurora-dr-backups-usw2-dev"
    assert params["KmsKeyId"] == world.dr_key
    assert report.export.status == "ok"
    assert _metrics(report)["ExportStarted"] == 1


# --- AWS Backup's copy instead of the verifier's own -----------------------------------------

VAULT = "aurora-dr-vault-usw2-dev"


def _writer_arn() -> str:
    return client("rds", PRIMARY).describe_db_clusters(DBClusterIdentifier=WRITER)["DBClusters"][0][
        "DBClusterArn"
    ]


def _vault_with(world: BackupWorld, *, age_hours: float | None) -> tuple[Stubber, str]:
    """This region's vault (a Stubber backup client) holding one completed recovery point of the
    writer, `age_hours` old (None: none at all)."""
    stub = world.factory.stubbed("backup", DR)
    # The copy AWS Backup made: an RDS cluster snapshot in DR under the DR key (moto refuses the
    # colon of AWS Backup's `awsbackup:copyjob-...` identifiers; the ARN is what matters).
    (automated,) = client("rds", PRIMARY).describe_db_cluster_snapshots(
        DBClusterIdentifier=WRITER, SnapshotType="automated"
    )["DBClusterSnapshots"]
    point_arn = client("rds", DR).copy_db_cluster_snapshot(
        SourceDBClusterSnapshotIdentifier=automated["DBClusterSnapshotArn"],
        TargetDBClusterSnapshotIdentifier="awsbackup-copyjob-0123",
        SourceRegion=PRIMARY,
        KmsKeyId=world.dr_key,
    )["DBClusterSnapshot"]["DBClusterSnapshotArn"]
    points = []
    if age_hours is not None:
        points.append(
            {
                "RecoveryPointArn": point_arn,
                "ResourceArn": _writer_arn(),
                "ResourceType": "Aurora",
                "Status": "COMPLETED",
                "CreationDate": datetime.fromtimestamp(world.clock.time(), tz=UTC)
                - timedelta(hours=age_hours),
                "BackupVaultName": VAULT,
                "BackupVaultArn": f"arn:aws:backup:{DR}:{ACCOUNT}:backup-vault:{VAULT}",
            }
        )
    stub.add_response(
        "list_recovery_points_by_backup_vault",
        {"RecoveryPoints": points},
        {"BackupVaultName": VAULT, "ByResourceArn": _writer_arn(), "ByResourceType": "Aurora"},
    )
    return stub, point_arn


@pytest.mark.usefixtures("moto_aws")
def test_with_aws_backup_the_verifier_exports_the_vault_copy_and_makes_no_copy_of_its_own() -> None:
    # GIVEN AWS Backup's copy of the writer in the DR vault, 3 days old, a 17-day cadence
    world = BackupWorld().build()
    stub, point_arn = _vault_with(world, age_hours=72)
    env = {"BACKUP_VAULT_NAME": VAULT, "BACKUP_COPY_MAX_AGE_HOURS": "432", **_export_env(world)}

    # WHEN the verifier runs
    report = world.run(world.settings(**env))

    # THEN no second cross-region copy is made, and the vault copy is what is exported, in DR
    assert report.ok, report.problems
    stub.assert_no_pending_responses()
    assert "CopyDBClusterSnapshot" not in world.factory.operations()
    assert report.copy.identifier == point_arn
    ((region, params),) = _export_requests(world)
    assert (region, params["SourceArn"]) == (DR, point_arn)
    assert params["S3BucketName"] == "aurora-dr-backups-usw2-dev"


@pytest.mark.parametrize(
    ("age_hours", "problem"),
    [
        (433.0, "is 433.0 h old (maximum 432 h)"),
        (None, f"no completed recovery point of the writer in {VAULT}"),
    ],
)
@pytest.mark.usefixtures("moto_aws")
def test_a_vault_copy_older_than_its_cadence_or_missing_fails_the_run(
    age_hours: float | None, problem: str
) -> None:
    # GIVEN the DR vault's newest copy of the writer just past the cadence's limit, or none
    world = BackupWorld().build()
    _vault_with(world, age_hours=age_hours)
    env = {"BACKUP_VAULT_NAME": VAULT, "BACKUP_COPY_MAX_AGE_HOURS": "432", **_export_env(world)}

    # WHEN the verifier runs / THEN the run fails (it pages), and nothing is exported
    report = world.run(world.settings(**env))
    assert not report.ok
    assert any(problem in p for p in report.problems), report.problems
    assert _metrics(report)["CopySucceeded"] == 0
    assert _export_requests(world) == []


@pytest.mark.usefixtures("moto_aws")
def test_a_snapshot_that_did_not_pass_is_not_exported() -> None:
    # GIVEN the export configured but a two-day-old newest snapshot
    world = BackupWorld().build()
    world.clock.advance(48 * HOUR)

    # WHEN the verifier runs / THEN nothing is exported
    report = world.run(world.settings(**_export_env(world)))
    assert not report.ok
    assert _export_requests(world) == []
    assert report.export.status == "skipped"
    assert "ExportStarted" not in _metrics(report)


@pytest.mark.usefixtures("moto_aws")
def test_a_failed_copy_stops_the_export_too() -> None:
    # GIVEN a copy that fails (a key of the wrong region) and the export configured
    world = BackupWorld().build()
    settings = dataclasses.replace(
        world.settings(**_export_env(world)), kms_key_id=world.primary_key
    )

    # WHEN the verifier runs / THEN the unverified snapshot is not exported
    report = world.run(settings)
    assert report.copy.status == "failed"
    assert _export_requests(world) == []
    assert report.export.detail == "not exported: no verified snapshot here"
