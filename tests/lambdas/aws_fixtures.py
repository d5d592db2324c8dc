"""Test doubles shared by the coordinator, backup verifier and topology tests.

* `FakeClock`   - wall/monotonic time that only moves when code sleeps (no real waiting);
* `FakeContext` - a Lambda context whose remaining time follows the fake clock;
* `TestClientFactory` - real boto3 clients (answered by moto inside `mock_aws`), with
  per-(service, region) overrides for Stubber-backed clients and for "unreachable" regions, hooks
  that adjust new clients (`on_new_client`), and a record of every API call made (to assert that
  no mutating call happened);
* `aws_like_metric_reads` - CloudWatch metric reads shaped as AWS may answer them, where moto
  answers more conveniently;
* `aws_like_snapshot_copies` - RDS refusing what AWS documents it refuses and moto accepts (an
  encrypted cross-region snapshot copy without a destination key);
* response builders in the real RDS shapes, so Stubber's parameter and response validation
  runs against botocore's model;
* `World`: the two-region world of the failover coordinator tests (last section), with
  `Rival`, a second coordinator racing the first.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from drcommon import contract
from drcommon.aws import client_config
from failover_coordinator.coordinator import Dependencies, Result, run
from failover_coordinator.settings import Settings

ACCOUNT = "123456789012"
PRIMARY = "us-east-1"
DR = "us-west-2"

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": PRIMARY,
}

# Every API call that changes something, across the services these functions use.
MUTATING_OPERATIONS = frozenset(
    {
        "FailoverGlobalCluster",
        "SwitchoverGlobalCluster",
        "ModifyGlobalCluster",
        "RemoveFromGlobalCluster",
        "CopyDBClusterSnapshot",
        "RestoreDBClusterFromSnapshot",
        "CreateDBInstance",
        "DeleteDBInstance",
        "DeleteDBCluster",
        "DeleteDBClusterSnapshot",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Publish",
        "Invoke",
        "PutMetricData",
        "SetAlarmState",
    }
)


def cluster_arn(region: str, cluster_id: str) -> str:
    """The ARN of a regional DB cluster in the test account."""
    return f"arn:aws:rds:{region}:{ACCOUNT}:cluster:{cluster_id}"


def global_cluster_arn(global_id: str) -> str:
    """The (region-less) ARN of a global cluster in the test account."""
    return f"arn:aws:rds::{ACCOUNT}:global-cluster:{global_id}"


class FakeClock:
    """A clock that advances only when `sleep` is called; `on_sleep` hooks run on each sleep.

    `advance_to` moves it to a point in (monotonic) time unless it is already past it: calls that
    hang in parallel threads each advance it to their own end, and the clock ends at the latest
    one, as real time would.
    """

    def __init__(self, start: float | None = None) -> None:
        """Start at real wall time (moto filters metric datapoints on real timestamps)."""
        self._wall = time.time() if start is None else start
        self._mono = 1000.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []
        self.on_sleep: list[Callable[[], None]] = []

    def time(self) -> float:
        """Fake wall time."""
        return self._wall

    def monotonic(self) -> float:
        """Fake monotonic time."""
        return self._mono

    def sleep(self, seconds: float) -> None:
        """Advance both clocks by `seconds` and run the hooks."""
        self.sleeps.append(seconds)
        self.advance(seconds)
        for hook in list(self.on_sleep):
            hook()

    def advance(self, seconds: float) -> None:
        """Move time forward without counting a sleep."""
        with self._lock:
            self._wall += seconds
            self._mono += seconds

    def advance_to(self, monotonic: float) -> None:
        """Move time forward to `monotonic` (no change when it is already later)."""
        with self._lock:
            step = max(0.0, monotonic - self._mono)
            self._wall += step
            self._mono += step


@dataclass
class FakeContext:
    """A Lambda context whose remaining time follows a `FakeClock`."""

    clock: FakeClock
    timeout_seconds: float = 300.0
    aws_request_id: str = "req-1"
    function_name: str = "failover-coordinator-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{DR}:{ACCOUNT}:function:failover-coordinator-test"

    def __post_init__(self) -> None:
        self._started = self.clock.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left on the fake clock."""
        left = self.timeout_seconds - (self.clock.monotonic() - self._started)
        return max(0, int(left * 1000))


_SESSION: list[boto3.session.Session] = []


def client(service: str, region: str, config: Config | None = None) -> Any:
    """A boto3 client from one session shared by all tests.

    Loading botocore's service models and endpoint data is most of the cost of a client; a
    shared session caches them, which keeps the moto-backed tests fast. Only fake credentials
    are ever in the environment of these tests (`moto_aws`).
    """
    if not _SESSION:
        # moto puts its interceptor into botocore's built-in handlers when it is imported, and a
        # session copies the handlers that exist when it is created. Created first by a
        # Stubber-only test, the shared session would send every later moto test to real AWS.
        import moto.core.models  # noqa: F401

        _SESSION.append(boto3.session.Session())
    return _SESSION[0].client(service, region_name=region, config=config)


_SHARED_CLIENTS: dict[tuple[str, str], Any] = {}


def shared_client(service: str, region: str) -> Any:
    """One default client per service and region for the fixtures' own set-up and read-back
    calls (creating a client is ~10 ms, and a coordinator test made ~15 of them). moto answers
    it in every test: its interceptor is a built-in handler of the shared session and routes
    to the backends of the mock running now. Never register events on it or wrap it in a
    Stubber: that would leak into every later test (use `client` for that)."""
    key = (service, region)
    if key not in _SHARED_CLIENTS:
        _SHARED_CLIENTS[key] = client(service, region)
    return _SHARED_CLIENTS[key]


# One attempt and tight timeouts: a test never waits in botocore's own backoff.
TEST_CONFIG: Config = client_config(connect_timeout=1, read_timeout=1, max_attempts=1)


@dataclass
class TestClientFactory:
    """A `ClientFactory` for tests; records `(service, region, operation)` of every call.

    `requests` has the same calls with their parameters, `configs` and `endpoint_urls` the
    `config` and `endpoint_url` each client was asked for with (the clients handed out are the
    test's, whatever they were asked for with). Each hook in
    `on_new_client` is called with `(service, region, client)` for every client created.
    """

    __test__ = False  # not a test class, despite the name

    overrides: dict[tuple[str, str], Any] = field(default_factory=dict)
    unreachable: set[tuple[str, str]] = field(default_factory=set)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    requests: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    configs: list[tuple[str, str, Config | None]] = field(default_factory=list)
    endpoint_urls: list[tuple[str, str, str | None]] = field(default_factory=list)
    on_new_client: list[Callable[[str, str, Any], None]] = field(default_factory=list)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __call__(
        self,
        service: str,
        region: str,
        *,
        config: Config | None = None,
        endpoint_url: str | None = None,
    ) -> Any:
        """A recorded client: an override, an unreachable one, or a plain (moto) client."""
        key = (service, region)
        self.configs.append((service, region, config))
        self.endpoint_urls.append((service, region, endpoint_url))
        if key in self.overrides:
            return self.overrides[key]
        if key in self._cache:
            return self._cache[key]
        client = self.new_client(service, region)
        if key in self.unreachable:

            def refuse(request: Any, **_: Any) -> None:
                raise EndpointConnectionError(endpoint_url=request.url)

            # First, so moto's own before-send handler never answers for a "dead" region.
            client.meta.events.register_first(f"before-send.{service}", refuse)
        self._cache[key] = client
        return client

    def new_client(self, service: str, region: str) -> Any:
        """A new recorded client (not cached; wrap it in a Stubber and put it in `overrides`)."""
        new = client(service, region, TEST_CONFIG)
        self._record(new, region)
        for hook in self.on_new_client:
            hook(service, region, new)
        return new

    def stubbed(self, service: str, region: str) -> Stubber:
        """Install (and return) an activated Stubber client for `(service, region)`."""
        client = self.new_client(service, region)
        stubber = Stubber(client)
        stubber.activate()
        self.overrides[(service, region)] = client
        return stubber

    def _record(self, client: Any, region: str) -> None:
        service = client.meta.service_model.service_name

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            self.calls.append((service, region, model.name))
            self.requests.append((service, region, model.name, dict(params)))

        # `before-parameter-build` fires for every call, before Stubber answers it.
        client.meta.events.register("before-parameter-build", record)

    def operations(self) -> list[str]:
        """Operation names called, in order."""
        return [op for _, _, op in self.calls]

    def mutations(self) -> set[str]:
        """The mutating operations called (a peer probe's `Invoke` is a read: it publishes
        nothing)."""
        return {
            op
            for service, _, op, params in self.requests
            if op in MUTATING_OPERATIONS and not _is_peer_probe(service, op, params)
        }

    def invoked(self) -> list[str]:
        """Names of the Lambda functions invoked, in order (peer probes aside: `peer_probes`)."""
        return [
            params["FunctionName"]
            for service, _, op, params in self.requests
            if service == "lambda" and op == "Invoke" and not _is_peer_probe(service, op, params)
        ]

    def peer_probes(self) -> list[str]:
        """Names of the health checkers asked for a peer probe, in order."""
        return [
            params["FunctionName"]
            for service, _, op, params in self.requests
            if _is_peer_probe(service, op, params)
        ]

    def last_config(self, service: str, region: str) -> Config | None:
        """The `config` the code last asked for with a `(service, region)` client."""
        asked = [c for s, r, c in self.configs if (s, r) == (service, region)]
        return asked[-1] if asked else None


def _is_peer_probe(service: str, op: str, params: dict[str, Any]) -> bool:
    payload = params.get("Payload")
    return (
        service == "lambda"
        and op == "Invoke"
        and payload is not None
        and json.loads(payload) == contract.PEER_PROBE_EVENT
    )


# moto's settings for every test: no Docker for Lambda, and boto3's default session kept across
# tests. moto would otherwise replace it with a new one per test, and a new session loads
# botocore's endpoint and service data again: ~70 ms for each handler's first client.
MOTO_CONFIG: dict[str, Any] = {
    "core": {"reset_boto3_session": False},
    "lambda": {"use_docker": False},
}
_DEFAULT_SESSION_AFTER_MOTO: list[bool] = []


def mocked(mock_aws: Any) -> Any:
    """`mock_aws` with `MOTO_CONFIG`, for botocore clients only (`_botocore_only_mock`). The
    first time, boto3's default session is dropped: a session copies botocore's handlers when it
    is created, and one made before moto was imported would send the tests' requests to real AWS
    instead of to moto."""
    if not _DEFAULT_SESSION_AFTER_MOTO:
        boto3.DEFAULT_SESSION = None
        _DEFAULT_SESSION_AFTER_MOTO.append(True)
    return _botocore_only_mock()(config=MOTO_CONFIG)


@functools.cache
def _botocore_only_mock() -> type:
    """moto's `MockAWS` without its `requests` patching. Every client here is botocore's, which
    moto serves from its `before-send` handler; on each start moto would also register one
    `responses` callback per AWS URL pattern and HTTP method (~12,000 objects, ~35 ms a test)
    for code that calls AWS through `requests`, and none does."""
    from moto.core.base_backend import BackendDict
    from moto.core.model_instances import reset_model_data
    from moto.core.models import MockAWS, botocore_stubber

    _reuse_kms_key_material()

    class BotocoreOnlyMockAWS(MockAWS):  # type: ignore[misc]
        def _enable_patching(self, reset: bool = True) -> None:
            botocore_stubber.enabled = True
            if reset:
                BackendDict.reset()

        def _disable_patching(self, remove_data: bool) -> None:
            botocore_stubber.enabled = False
            if remove_data:
                BackendDict.reset()
                reset_model_data()

    return BotocoreOnlyMockAWS


def _reuse_kms_key_material() -> None:
    """moto gives every KMS key a private key of its own, an RSA-2048 one even for the default
    symmetric key, which the tests only ever name as an ARN: ~80 ms of CPU per CreateKey, 47
    of them a run. Each key spec gets its key material made once; no test signs with it."""
    import moto.kms.models

    moto.kms.models.generate_private_key = functools.cache(moto.kms.models.generate_private_key)


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and moto's in-memory AWS for one test (no Docker for Lambda)."""
    from moto import mock_aws

    for key, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    with mocked(mock_aws):
        yield


@contextmanager
def no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Replace `time.sleep` (used by botocore's retry backoff) with a recorder."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    yield slept


def aws_like_metric_reads(cloudwatch: Any) -> None:
    """Make a moto CloudWatch client answer metric reads as AWS may, not as moto conveniently does.

    * `ListMetrics`: moto 5.2.5 lists a dimension set once per `put_metric_data` call; AWS lists
      each metric (namespace, name, dimension set) once.
    * `GetMetricData`: moto returns the datapoints in `ScanBy` order. Nothing may rely on the
      order ("newest" is what the timestamps say), so a series of three or more datapoints comes
      back with its newest one in the middle: neither first nor last.
    """

    def one_per_dimension_set(parsed: dict[str, Any], **_: Any) -> None:
        seen: set[tuple[Any, ...]] = set()
        unique = []
        for metric in parsed.get("Metrics", []):
            dimensions = sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            key = (metric.get("Namespace"), metric.get("MetricName"), tuple(dimensions))
            if key not in seen:
                seen.add(key)
                unique.append(metric)
        parsed["Metrics"] = unique

    def newest_in_the_middle(parsed: dict[str, Any], **_: Any) -> None:
        for result in parsed.get("MetricDataResults", []):
            points = sorted(
                zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
            )
            if len(points) >= 3:
                newest = points.pop()
                points.insert(len(points) // 2, newest)
            result["Timestamps"] = [timestamp for timestamp, _ in points]
            result["Values"] = [value for _, value in points]

    cloudwatch.meta.events.register("after-call.cloudwatch.ListMetrics", one_per_dimension_set)
    cloudwatch.meta.events.register("after-call.cloudwatch.GetMetricData", newest_in_the_middle)


# What AWS answers a cross-region copy of an encrypted snapshot without `KmsKeyId`. The code and
# text are those seen for the DB-instance sibling of the call, CopyDBSnapshot ("InvalidParameter
# Value ... Must specify new KMS key for cross region encrypted snapshot copy.":
# pbudzon/aws-maintenance#5, 1Strategy/rds-oracle-cross-account-cross-region-dr#1); the rule
# itself is CopyDBClusterSnapshot's (below).
MISSING_DESTINATION_KEY = (
    "InvalidParameterValue",
    "Must specify new KMS key for cross region encrypted snapshot copy.",
)


def aws_like_snapshot_copies(rds: Any) -> None:
    """Make a moto RDS client refuse an encrypted cross-region snapshot copy without a key.

    RDS API reference, CopyDBClusterSnapshot, KmsKeyId: "To copy an encrypted DB cluster
    snapshot to another Amazon Web Services Region, you must set KmsKeyId to the Amazon Web
    Services KMS key identifier you want to use to encrypt the copy of the DB cluster snapshot in
    the destination Amazon Web Services Region." moto 5.2.5 copies it anyway, with the source's
    key. The source snapshot (an ARN of another region) is read from moto to see whether it is
    encrypted; a same-region copy or an unencrypted source is left to moto.
    """
    here = rds.meta.region_name

    def refuse_without_destination_key(params: dict[str, Any], **_: Any) -> None:
        parts = params.get("SourceDBClusterSnapshotIdentifier", "").split(":", 6)
        if len(parts) < 7 or parts[0] != "arn" or parts[3] == here or params.get("KmsKeyId"):
            return
        # `arn:aws:rds:<region>:<account>:cluster-snapshot:<identifier, which may hold ':'>`
        (snapshot,) = shared_client("rds", parts[3]).describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier=parts[6]
        )["DBClusterSnapshots"]
        if snapshot.get("StorageEncrypted"):
            code, message = MISSING_DESTINATION_KEY
            error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}
            raise ClientError(error, "CopyDBClusterSnapshot")  # type: ignore[arg-type]

    # After the factory's recorder (registered when the client was made): the call is recorded.
    rds.meta.events.register(
        "before-parameter-build.rds.CopyDBClusterSnapshot", refuse_without_destination_key
    )


def aws_like_rds(service: str, _region: str, new: Any) -> None:
    """A `TestClientFactory.on_new_client` hook: every RDS client answers as AWS documents."""
    if service == "rds":
        aws_like_snapshot_copies(new)


# -- RDS response builders (real shapes) -----------------------------------------------------


def global_cluster_response(
    global_id: str,
    members: list[dict[str, Any]],
    *,
    failover_state: dict[str, Any] | None = None,
    status: str = "available",
) -> dict[str, Any]:
    """A `describe_global_clusters` response with one global cluster."""
    cluster: dict[str, Any] = {
        "GlobalClusterIdentifier": global_id,
        "GlobalClusterResourceId": "cluster-0123456789abcdef",
        "GlobalClusterArn": global_cluster_arn(global_id),
        "Status": status,
        "Engine": "aurora-postgresql",
        "EngineVersion": "15.4",
        "StorageEncrypted": True,
        "DeletionProtection": False,
        "GlobalClusterMembers": members,
    }
    if failover_state is not None:
        cluster["FailoverState"] = failover_state
    return {"GlobalClusters": [cluster]}


def member(
    region: str, cluster_id: str, *, writer: bool, sync: str | None = "connected"
) -> dict[str, Any]:
    """One `GlobalClusterMembers` element."""
    item: dict[str, Any] = {
        "DBClusterArn": cluster_arn(region, cluster_id),
        "Readers": [],
        "IsWriter": writer,
    }
    if sync is not None and not writer:
        item["SynchronizationStatus"] = sync
    return item


def db_cluster_response(
    region: str, cluster_id: str, status: str, instance_ids: list[str]
) -> dict[str, Any]:
    """A `describe_db_clusters` response for one cluster."""
    return {
        "DBClusters": [
            {
                "DBClusterIdentifier": cluster_id,
                "DBClusterArn": cluster_arn(region, cluster_id),
                "Status": status,
                "Engine": "aurora-postgresql",
                "DBClusterMembers": [
                    {"DBInstanceIdentifier": iid, "IsClusterWriter": i == 0}
                    for i, iid in enumerate(instance_ids)
                ],
            }
        ]
    }


def db_instances_response(cluster_id: str, statuses: dict[str, str]) -> dict[str, Any]:
    """A `describe_db_instances` response for the instances of `cluster_id`."""
    return {
        "DBInstances": [
            {
                "DBInstanceIdentifier": iid,
                "DBInstanceStatus": status,
                "DBClusterIdentifier": cluster_id,
                "Engine": "aurora-postgresql",
                "DBInstanceClass": "db.r6g.large",
            }
            for iid, status in statuses.items()
        ]
    }


# -- the failover coordinator's world ---------------------------------------------------------
#
# A two-region world for the failover coordinator tests.
#
# The coordinator under test runs in the DR region (`us-west-2`); the writer starts in
# `us-east-1`, where the other region's coordinator (`PRIMARY_ENV`) runs when a test races two.
# moto provides what it implements (CloudWatch alarms and metrics, a DynamoDB lock table and an
# SNS topic per region, each topic with an SQS subscription to read what was published, the
# drainer and health checker Lambdas); RDS global-cluster calls go through
# `botocore.stub.Stubber` (moto has no FailoverState, no failover/switchover APIs), one Stubber
# per region shared by both coordinators, so any RDS call nobody expected fails the test.

GID = "aurora-dr-dev"
PRIMARY_CLUSTER = "aurora-dr-dev-primary"
DR_CLUSTER = "aurora-dr-dev-dr"
CLUSTERS = {PRIMARY: PRIMARY_CLUSTER, DR: DR_CLUSTER}
REGION_CODES = {PRIMARY: "use1", DR: "usw2"}
LOCK_TABLES = {
    region: f"aurora-dr-failover-lock-{code}-dev" for region, code in REGION_CODES.items()
}
LOCK_TABLE = LOCK_TABLES[DR]  # the DR coordinator's own, where its alarm-triggered locks live
TOPIC_NAMES = {region: f"aurora-dr-alerts-{code}-dev" for region, code in REGION_CODES.items()}
TOPIC_ARNS = {
    region: f"arn:aws:sns:{region}:{ACCOUNT}:{TOPIC_NAMES[region]}" for region in TOPIC_NAMES
}
TOPIC_ARN = TOPIC_ARNS[DR]
LAG_BUDGET_MS = 5000
RPO_LAG = "AuroraGlobalDBRPOLag"
REPLICATION_LAG = "AuroraGlobalDBReplicationLag"


@dataclass(frozen=True)
class LagSeries:
    """Datapoints of one lag metric of the DR cluster: `(seconds ago, milliseconds)`, any order.

    AWS publishes the global-database lag metrics of a secondary under `DBClusterIdentifier`
    alone and under `DBClusterIdentifier, SourceRegion` (the CloudWatch console's metric groups
    for `AuroraGlobalDBReplicationLag`: aws-samples/amazon-aurora-labs-for-mysql,
    docs/global/monitor/index.md and docs/reinvent-gdb/cw/index.md). `source_region_only`
    publishes under the second set only: a dimension set the coordinator has to discover.
    """

    metric: str
    points: tuple[tuple[float, float], ...]
    source_region_only: bool = False


def probe_alarm(region: str) -> str:
    """Name of the 'writer unreachable from <region>' alarm."""
    return f"aurora-dr-dev-{region}-peer-writer-unavailable"


def writer_alarm(region: str) -> str:
    """Name of the '<region> writer accepts writes' alarm."""
    return f"aurora-dr-dev-{region}-writer-unavailable"


def drainer(region: str) -> str:
    """Name of the connection drainer function in `region`."""
    return f"aurora-dr-dev-drainer-{region}"


def health_checker(region: str) -> str:
    """Name of the health checker function in `region`."""
    return f"aurora-dr-dev-health-checker-{region}"


def health_run(region: str) -> str:
    """Name of the peer watch in `region`: its health run publishes the health metrics."""
    return f"aurora-dr-dev-peer-watch-{region}"


# What the coordinator sends a peer watch to run its health run right after a promotion.
HEALTH_RUN_PAYLOAD = json.dumps(contract.HEALTH_RUN_EVENT).encode()

FAILED_LOCK_BLOCK_MINUTES = 30


def coordinator_env(local: str) -> dict[str, str]:
    """The environment the stack gives the coordinator in `local` (the other region is its peer)."""
    peer = DR if local == PRIMARY else PRIMARY
    return {
        "AWS_REGION": local,
        "GLOBAL_CLUSTER_ID": GID,
        "PEER_REGION": peer,
        "ENVIRONMENT_SUFFIX": "dev",
        "LOCAL_PROBE_ALARM_NAME": probe_alarm(local),
        "LOCAL_WRITER_ALARM_NAME": writer_alarm(local),
        "PEER_PROBE_ALARM_NAME": probe_alarm(peer),
        "PEER_WRITER_ALARM_NAME": writer_alarm(peer),
        "LOCAL_DRAINER_FUNCTION_NAME": drainer(local),
        "PEER_DRAINER_FUNCTION_NAME": drainer(peer),
        "LOCAL_HEALTH_CHECKER_FUNCTION_NAME": health_checker(local),
        "PEER_HEALTH_CHECKER_FUNCTION_NAME": health_checker(peer),
        "LOCAL_HEALTH_RUN_FUNCTION_NAME": health_run(local),
        "PEER_HEALTH_RUN_FUNCTION_NAME": health_run(peer),
        "LOCAL_LOCK_TABLE_NAME": LOCK_TABLES[local],
        "PEER_LOCK_TABLE_NAME": LOCK_TABLES[peer],
        "SNS_TOPIC_ARN": TOPIC_ARNS[local],
        "LAG_BUDGET_MS": str(LAG_BUDGET_MS),
        "FAILED_LOCK_BLOCK_MINUTES": str(FAILED_LOCK_BLOCK_MINUTES),
    }


ENV = coordinator_env(DR)
PRIMARY_ENV = coordinator_env(PRIMARY)


PRIMARY_ENDPOINT = "aurora-dr-dev-primary.cluster-abc.us-east-1.rds.amazonaws.com"


def peer_answer(*, ok: bool, writer: bool | None = None, error: str | None = None) -> dict:
    """A health checker's answer to a peer probe (`contract.PEER_PROBE_RESULT_KEYS`)."""
    return {
        "endpoint": PRIMARY_ENDPOINT,
        "ok": ok,
        "isWriter": writer,
        "latencyMs": 12.5 if ok else None,
        "error": error,
    }


def alarm_event(state: str = "ALARM", name: str | None = None, region: str = DR) -> dict[str, Any]:
    """An EventBridge 'CloudWatch Alarm State Change' event of `region`'s probe alarm."""
    name = name or probe_alarm(region)
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT,
        "time": "2026-11-23T01:00:00Z",
        "region": region,
        "resources": [f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {"value": state, "reason": "Threshold Crossed", "timestamp": "now"},
            "previousState": {"value": "OK", "reason": "", "timestamp": "before"},
            "configuration": {"metrics": []},
        },
    }


def manual_event(
    action: str, target: str = DR, *, dry_run: bool = False, force: bool = False
) -> dict[str, Any]:
    """An operator's request."""
    return {"action": action, "targetRegion": target, "dryRun": dry_run, "force": force}


def page_event(
    observed_at: float, *, region: str = DR, peer_region: str = PRIMARY
) -> dict[str, Any]:
    """The peer watch's page (async invoke of the coordinator in its own region):
    the loss of the peer writer was confirmed at `observed_at` (seconds since the epoch)."""
    return {
        "source": "aurora-dr.health-checker",
        "detail-type": "Peer Writer Unreachable",
        "detail": {
            "region": region,
            "peerRegion": peer_region,
            "observedAt": datetime.fromtimestamp(observed_at, tz=UTC).isoformat(),
        },
    }


def rds_event(
    event_id: str,
    source_id: str = DR_CLUSTER,
    region: str = DR,
    message: str = "Global failover to DB cluster completed.",
) -> dict[str, Any]:
    """An EventBridge 'RDS DB Cluster Event' (global-failover category)."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "RDS DB Cluster Event",
        "source": "aws.rds",
        "account": ACCOUNT,
        "time": "2026-11-23T01:05:00Z",
        "region": region,
        "resources": [cluster_arn(region, source_id)],
        "detail": {
            "EventCategories": ["global-failover"],
            "SourceType": "CLUSTER",
            "SourceArn": cluster_arn(region, source_id),
            "Date": "2026-11-23T01:05:00.000Z",
            "Message": message,
            "SourceIdentifier": source_id,
            "EventID": event_id,
        },
    }


def topology(
    writer_region: str = PRIMARY,
    failover_state: dict[str, Any] | None = None,
    *,
    sync: str | None = "connected",
) -> dict[str, Any]:
    """A `describe_global_clusters` response for the two-region global cluster; `sync` is the
    secondary's `SynchronizationStatus` (None: not reported)."""
    return global_cluster_response(
        GID,
        [
            member(region, CLUSTERS[region], writer=region == writer_region, sync=sync)
            for region in (PRIMARY, DR)
        ],
        failover_state=failover_state,
    )


def failing_over(to_region: str = DR, status: str = "failing-over") -> dict[str, Any]:
    """A FailoverState of a failover (or, with `status="switching-over"`, a switchover) towards
    `to_region`."""
    source = PRIMARY if to_region == DR else DR
    return {
        "Status": status,
        "FromDbClusterArn": cluster_arn(source, CLUSTERS[source]),
        "ToDbClusterArn": cluster_arn(to_region, CLUSTERS[to_region]),
        "IsDataLossAllowed": True,
    }


def _aws_like_lag_reads(service: str, _region: str, new: Any) -> None:
    if service == "cloudwatch":
        aws_like_metric_reads(new)


@dataclass
class World:
    """moto resources, Stubbers, the fake clock and the client factory of one test."""

    clock: FakeClock = field(default_factory=FakeClock)
    factory: TestClientFactory = field(default_factory=TestClientFactory)
    settings: Settings = field(default_factory=lambda: Settings.from_env(ENV))
    primary_settings: Settings = field(default_factory=lambda: Settings.from_env(PRIMARY_ENV))
    rds: dict[str, Stubber] = field(default_factory=dict)
    topic_arns: dict[str, str] = field(default_factory=dict)

    def build(self, *, drainers: bool = True) -> World:
        """Create the moto resources of both regions and one RDS Stubber per region.

        `drainers`: also create the drainer and health checker functions (moto echoes the event).
        The coordinators' CloudWatch clients (the lag is read in the target region) answer metric
        reads as AWS may (`aws_like_metric_reads`).
        """
        self.factory.on_new_client.append(_aws_like_lag_reads)
        for region in (PRIMARY, DR):
            self.rds[region] = self.factory.stubbed("rds", region)
            cloudwatch = shared_client("cloudwatch", region)
            for name, metric in (
                (probe_alarm(region), contract.PEER_WRITER_AVAILABLE),
                (writer_alarm(region), contract.WRITER_AVAILABLE),
            ):
                cloudwatch.put_metric_alarm(
                    AlarmName=name,
                    Namespace=contract.NAMESPACE,
                    MetricName=metric.name,
                    Dimensions=[
                        {"Name": k, "Value": v}
                        for k, v in contract.dimensions("dev", region).items()
                    ],
                    Statistic="Minimum",
                    Period=60,
                    EvaluationPeriods=3,
                    Threshold=1,
                    ComparisonOperator="LessThanThreshold",
                    TreatMissingData="breaching",
                )
        for region in (PRIMARY, DR):
            shared_client("dynamodb", region).create_table(
                TableName=LOCK_TABLES[region],
                KeySchema=[{"AttributeName": "LockId", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "LockId", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            self.topic_arns[region] = alert_topic(region, TOPIC_NAMES[region])
        if drainers:
            self._create_functions()
        return self

    def settings_in(self, region: str) -> Settings:
        """The settings of the coordinator in `region`."""
        return self.settings if region == DR else self.primary_settings

    def _create_functions(self) -> None:
        role = shared_client("iam", PRIMARY).create_role(
            RoleName="drainer", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr(
                "handler.py", "def lambda_handler(event, context):\n    return event\n"
            )
        for region in (PRIMARY, DR):
            for name in (drainer(region), health_checker(region)):
                shared_client("lambda", region).create_function(
                    FunctionName=name,
                    Runtime="python3.12",
                    Role=role,
                    Handler="handler.lambda_handler",
                    Code={"ZipFile": code.getvalue()},
                )

    # -- state setters ---------------------------------------------------------------------

    def set_alarm(self, name: str, region: str, state: str) -> None:
        """Put alarm `name` in `region` into `state`."""
        shared_client("cloudwatch", region).set_alarm_state(
            AlarmName=name, StateValue=state, StateReason="test"
        )

    def put_lag(self, lag_ms: float, region: str = DR) -> None:
        """Publish one `AuroraGlobalDBRPOLag` datapoint of `region`'s cluster, 30 s old."""
        self.put_lag_series(LagSeries(RPO_LAG, ((30, lag_ms),)), region)

    def put_lag_series(self, series: LagSeries, region: str = DR) -> None:
        """Publish `series` for `region`'s cluster (a secondary: its metrics are published in
        its region) under the dimension sets AWS uses (`LagSeries`)."""
        cluster = {"Name": "DBClusterIdentifier", "Value": CLUSTERS[region]}
        source = {"Name": "SourceRegion", "Value": PRIMARY if region == DR else DR}
        dimension_sets = (
            [[cluster, source]] if series.source_region_only else [[cluster], [cluster, source]]
        )
        now = datetime.fromtimestamp(self.clock.time(), tz=UTC)
        shared_client("cloudwatch", region).put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": series.metric,
                    "Dimensions": dimensions,
                    "Timestamp": now - timedelta(seconds=age),
                    "Value": value,
                    "Unit": "Milliseconds",
                }
                for age, value in series.points
                for dimensions in dimension_sets
            ],
        )

    def put_lock(self, region: str = DR, **attributes: Any) -> None:
        """Write a lock item into `region`'s table directly (simulating an earlier invocation)."""
        item: dict[str, Any] = {"LockId": {"S": GID}}
        for key, value in attributes.items():
            item[key] = {"N": str(value)} if isinstance(value, int | float) else {"S": value}
        shared_client("dynamodb", region).put_item(TableName=LOCK_TABLES[region], Item=item)

    # -- stub queues -------------------------------------------------------------------------

    def expect_topology(self, response: dict[str, Any], region: str = DR) -> None:
        """Queue one `describe_global_clusters` answer on the `region` client."""
        self.rds[region].add_response(
            "describe_global_clusters", response, {"GlobalClusterIdentifier": GID}
        )

    def expect_cluster(
        self, region: str, status: str = "available", instances: tuple[str, ...] = ("available",)
    ) -> None:
        """Queue `describe_db_clusters` + `describe_db_instances` for the cluster in `region`."""
        cluster_id = CLUSTERS[region]
        ids = [f"{cluster_id}-{i + 1}" for i in range(len(instances))]
        self.rds[region].add_response(
            "describe_db_clusters",
            db_cluster_response(region, cluster_id, status, ids),
            {"DBClusterIdentifier": cluster_id},
        )
        self.rds[region].add_response(
            "describe_db_instances",
            db_instances_response(cluster_id, dict(zip(ids, instances, strict=True))),
            {"Filters": [{"Name": "db-cluster-id", "Values": [cluster_id]}]},
        )

    def expect_role_change(self, operation: str, target: str = DR) -> None:
        """Queue a successful failover/switchover call towards `target`."""
        params: dict[str, Any] = {
            "GlobalClusterIdentifier": GID,
            "TargetDbClusterIdentifier": cluster_arn(target, CLUSTERS[target]),
        }
        if operation == "failover":
            params["AllowDataLoss"] = True
        method = f"{operation}_global_cluster"
        response = {"GlobalCluster": topology()["GlobalClusters"][0]}
        self.rds[target].add_response(method, response, params)

    def expect_role_change_error(self, operation: str, code: str, target: str = DR) -> None:
        """Queue an error answer to the failover/switchover call."""
        self.rds[target].add_client_error(
            f"{operation}_global_cluster",
            service_error_code=code,
            service_message=f"simulated {code}",
            http_status_code=400,
        )

    def expect_in_region(
        self,
        region: str = PRIMARY,
        status: str = "available",
        events: tuple[tuple[str, float], ...] = (),
    ) -> None:
        """Queue the in-region failover read of the cluster in `region`: its `status`, then its
        failover events as `(message, seconds ago)`."""
        cluster_id = CLUSTERS[region]
        self.rds[region].add_response(
            "describe_db_clusters",
            db_cluster_response(region, cluster_id, status, [f"{cluster_id}-1"]),
            {"DBClusterIdentifier": cluster_id},
        )
        now = datetime.fromtimestamp(self.clock.time(), tz=UTC)
        self.rds[region].add_response(
            "describe_events",
            {
                "Events": [
                    {
                        "SourceIdentifier": cluster_id,
                        "SourceType": "db-cluster",
                        "Message": message,
                        "EventCategories": ["failover"],
                        "Date": now - timedelta(seconds=age),
                        "SourceArn": cluster_arn(region, cluster_id),
                    }
                    for message, age in events
                ]
            },
            {
                "SourceIdentifier": cluster_id,
                "SourceType": "db-cluster",
                "StartTime": ANY,
                "EventCategories": ["failover"],
            },
        )

    def make_unreachable(self, service: str, region: str) -> None:
        """Every `service` call in `region` fails to connect (a Stubber there is replaced)."""
        self.factory.overrides.pop((service, region), None)
        self.factory._cache.pop((service, region), None)
        self.factory.unreachable.add((service, region))
        if service == "rds":
            self.rds.pop(region, None)

    def answer_peer_probe(self, answer: dict[str, Any], region: str = DR) -> None:
        """The health checker in `region` answers peer probes with `answer` (other invokes go
        to moto as before)."""
        lambda_client = self.factory("lambda", region)

        def respond(params: dict[str, Any], **_: Any) -> Any:
            if json.loads(params["body"]) != contract.PEER_PROBE_EVENT:
                return None
            body = json.dumps(answer).encode()
            parsed = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}
            return AWSResponse(params["url"], 200, {}, None), parsed

        lambda_client.meta.events.register_first("before-call.lambda.Invoke", respond)

    def expect_wait(self, polls_in_progress: int, *, completes: bool, target: str = DR) -> None:
        """Queue the wait loop's polls: `polls_in_progress` running, then (maybe) done."""
        for _ in range(polls_in_progress):
            self.expect_topology(topology(PRIMARY, failing_over(target)), target)
        if completes:
            self.expect_topology(topology(target), target)

    # -- running and reading -----------------------------------------------------------------

    def context(self, timeout: float = 300.0, request_id: str = "req-1") -> FakeContext:
        """A Lambda context on this world's clock."""
        return FakeContext(self.clock, timeout_seconds=timeout, aws_request_id=request_id)

    def run(
        self,
        event: Any,
        *,
        timeout: float = 300.0,
        request_id: str = "req-1",
        region: str = DR,
    ) -> Result:
        """Run the coordinator of `region` once."""
        deps = Dependencies(
            settings=self.settings_in(region),
            factory=self.factory,
            clock=self.clock,
            context=self.context(timeout, request_id),
        )
        return run(event, deps)

    def messages(self, region: str = DR) -> list[dict[str, Any]]:
        """SNS messages published to `region`'s topic so far (bodies parsed as JSON)."""
        return [json.loads(body) for body in published(self.topic_arns[region])]

    def lock_item(self, region: str = DR) -> dict[str, Any] | None:
        """The lock item of `region`'s table, flattened to plain values."""
        item = (
            shared_client("dynamodb", region)
            .get_item(TableName=LOCK_TABLES[region], Key={"LockId": {"S": GID}})
            .get("Item")
        )
        if item is None:
            return None
        return {k: next(iter(v.values())) for k, v in item.items()}

    def assert_all_stubs_used(self) -> None:
        """Every queued RDS answer was consumed."""
        for stubber in self.rds.values():
            stubber.assert_no_pending_responses()


def alert_topic(region: str, topic_name: str) -> str:
    """Create the SNS topic `topic_name` in `region`; returns its ARN, for `published`."""
    return shared_client("sns", region).create_topic(Name=topic_name)["TopicArn"]


_READ_SO_FAR: dict[str, tuple[list[Any], int]] = {}


def published(topic_arn: str) -> list[str]:
    """Every message published to the topic since the last call (the bodies, as sent).

    Read from moto's SNS backend, which records each publish: the same bodies a subscribed SQS
    queue with raw delivery would receive, without its six API calls per test.
    """
    from moto.sns.models import sns_backends

    _, _, _, region, account, _ = topic_arn.split(":", 5)
    sent = sns_backends[account][region].topics[topic_arn].sent_notifications
    # Each test's mock has new backends: an offset counts only in the list it was taken from.
    seen, offset = _READ_SO_FAR.get(topic_arn, (None, 0))
    start = offset if seen is sent else 0
    _READ_SO_FAR[topic_arn] = (sent, len(sent))
    return [message for _id, message, *_ in sent[start:]]


# How long a test waits for a rival coordinator's thread before calling it stuck.
RIVAL_TIMEOUT_SECONDS = 10.0


@dataclass
class Rival:
    """The other region's coordinator, handling `event` in a thread of its own, held right
    before it takes the lock in `lock_region`'s table.

    `start()` runs it up to that point (it has observed and decided) and returns; the test then
    runs its own coordinator and calls `release()` at the moment the race is about: the rival
    takes (or fails to take) the lock, finishes, and its result is returned. Only one of the two
    ever runs at a time, so the shared Stubbers answer in a known order.
    """

    world: World
    event: dict[str, Any]
    region: str = PRIMARY
    lock_region: str = DR
    request_id: str = "req-rival"
    result: Result | None = None
    error: BaseException | None = None
    held: bool = False
    _at_lock: threading.Event = field(default_factory=threading.Event)
    _go: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Rival:
        """Run the rival until it is about to put its lock item."""
        dynamodb = self.world.factory("dynamodb", self.lock_region)
        dynamodb.meta.events.register("before-call.dynamodb.PutItem", self._hold)
        self._thread = threading.Thread(target=self._run, name="rival-coordinator", daemon=True)
        self._thread.start()
        if not self._at_lock.wait(RIVAL_TIMEOUT_SECONDS) or not self.held:
            raise AssertionError(
                f"the {self.region} coordinator never reached the lock in {self.lock_region}'s "
                f"table (error: {self.error!r}, result: {self.result})"
            )
        return self

    def release(self) -> Result:
        """Let the rival take the lock now and finish; its result."""
        self._go.set()
        if self._thread is not None:
            self._thread.join(RIVAL_TIMEOUT_SECONDS)
        if self.error is not None:
            raise self.error
        if self.result is None:
            raise AssertionError("the rival coordinator did not finish")
        return self.result

    def _hold(self, **_: Any) -> None:
        if threading.current_thread() is self._thread and not self.held:
            self.held = True
            self._at_lock.set()
            self._go.wait(RIVAL_TIMEOUT_SECONDS)

    def _run(self) -> None:
        try:
            self.result = self.world.run(self.event, region=self.region, request_id=self.request_id)
        except BaseException as exc:  # surfaced by release()
            self.error = exc
        finally:
            self._at_lock.set()  # never leave start() waiting


@contextmanager
def log_records(logger: Any) -> Iterator[list[logging.LogRecord]]:
    """The records a function's Powertools `logger` emits inside the block. Its JSON handler
    writes to the stream it was created with, which pytest's capture fixtures do not see; the
    records carry the message, the level and each `extra` key as an attribute."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    underlying = logging.getLogger(logger.name)
    underlying.addHandler(handler)
    try:
        yield records
    finally:
        underlying.removeHandler(handler)
