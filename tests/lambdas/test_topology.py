"""`drcommon.topology` (global cluster and cluster status) and `drcommon.aws` (clients, retries).

moto covers what it models (global clusters without FailoverState, clusters and instances); a
Stubber covers FailoverState / IsWriter / SynchronizationStatus. The retry tests drive botocore's
real retry handler through a `before-send` hook, with `time.sleep` replaced so nothing waits.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_fixtures import (
    DR,
    PRIMARY,
    FakeClock,
    FakeContext,
    TestClientFactory,
    client,
    cluster_arn,
    global_cluster_response,
    member,
    moto_aws,  # noqa: F401 - fixture
    no_real_sleep,
)
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError

from drcommon import topology
from drcommon.aws import (
    BotoClientFactory,
    Deadline,
    EndpointRouting,
    client_config,
    error_code,
    is_throttling,
    retry_throttled,
)

GID = "aurora-dr-dev"


# -- topology: pure parsing ------------------------------------------------------------------


def test_parse_global_cluster_reads_failover_state_roles_and_regions() -> None:
    # GIVEN a global cluster in the middle of a switchover towards the DR region
    raw = global_cluster_response(
        GID,
        [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False, sync="pending-resync")],
        failover_state={
            "Status": "switching-over",
            "FromDbClusterArn": cluster_arn(PRIMARY, "p"),
            "ToDbClusterArn": cluster_arn(DR, "d"),
            "IsDataLossAllowed": False,
        },
    )["GlobalClusters"][0]

    # WHEN parsed
    snap = topology.parse_global_cluster(raw)

    # THEN roles, regions, sync status and the failover state are typed
    assert snap.failover_in_progress
    assert snap.failover_state == topology.FailoverState(
        "switching-over", cluster_arn(PRIMARY, "p"), cluster_arn(DR, "d"), False
    )
    assert snap.writer is not None and snap.writer.region == PRIMARY
    secondary = snap.member_in(DR)
    assert secondary is not None
    assert secondary.cluster_id == "d"
    assert secondary.synchronization_status == "pending-resync"
    assert not snap.is_settled_with_writer(cluster_arn(DR, "d"))


def test_idle_global_cluster_has_no_failover_state() -> None:
    # GIVEN / WHEN an idle global cluster (the API omits FailoverState)
    raw = global_cluster_response(GID, [member(DR, "d", writer=True)])["GlobalClusters"][0]
    snap = topology.parse_global_cluster(raw)

    # THEN it is settled with its writer
    assert snap.failover_state is None
    assert snap.is_settled_with_writer(cluster_arn(DR, "d"))


@pytest.mark.parametrize("arn", ["", "cluster:x", "arn:aws:rds"])
def test_parse_arn_rejects_non_arns(arn: str) -> None:
    # GIVEN / WHEN / THEN
    with pytest.raises(topology.TopologyError, match="not an ARN"):
        topology.parse_arn(arn)


def test_parse_arn_keeps_colons_in_the_resource() -> None:
    # GIVEN an automated snapshot ARN / WHEN parsed / THEN the id keeps its `rds:` prefix
    parsed = topology.parse_arn(f"arn:aws:rds:{PRIMARY}:123456789012:cluster-snapshot:rds:x-1")
    assert parsed.region == PRIMARY
    assert parsed.resource_id == "rds:x-1"


# -- topology: against moto and Stubber -----------------------------------------------------


@pytest.mark.usefixtures("moto_aws")
def test_describe_global_cluster_filters_client_side_and_finds_the_writer() -> None:
    # GIVEN two global clusters (moto ignores the identifier filter) and our writer in PRIMARY
    rds_dr = client("rds", DR)
    for gid in ("someone-else", GID):
        rds_dr.create_global_cluster(
            GlobalClusterIdentifier=gid, Engine="aurora-postgresql", EngineVersion="15.4"
        )
    client("rds", PRIMARY).create_db_cluster(
        DBClusterIdentifier="aurora-dr-dev-primary",
        Engine="aurora-postgresql",
        EngineVersion="15.4",
        MasterUsername="dbadmin",
        MasterUserPassword="not-a-real-password",
        GlobalClusterIdentifier=GID,
    )

    # WHEN read from the DR region
    snap = topology.describe_global_cluster(rds_dr, GID)

    # THEN we got ours, with its writer in the primary region
    assert snap.identifier == GID
    assert snap.writer is not None
    assert snap.writer.region == PRIMARY
    assert snap.writer.cluster_id == "aurora-dr-dev-primary"


@pytest.mark.usefixtures("moto_aws")
def test_missing_global_cluster_is_reported() -> None:
    # GIVEN no global cluster / WHEN described / THEN a typed error
    with pytest.raises(topology.GlobalClusterNotFound, match=GID):
        topology.describe_global_cluster(client("rds", DR), GID)


def test_global_cluster_not_found_fault_is_translated() -> None:
    # GIVEN an API answering GlobalClusterNotFoundFault (Stubber)
    factory = TestClientFactory()
    stub = factory.stubbed("rds", DR)
    stub.add_client_error(
        "describe_global_clusters",
        service_error_code="GlobalClusterNotFoundFault",
        http_status_code=404,
        expected_params={"GlobalClusterIdentifier": GID},
    )

    # WHEN / THEN
    with pytest.raises(topology.GlobalClusterNotFound, match=GID):
        topology.describe_global_cluster(factory("rds", DR), GID)


def test_describe_global_cluster_reads_failover_state_through_the_api() -> None:
    # GIVEN the API reports a failover in progress (moto cannot)
    factory = TestClientFactory()
    stub = factory.stubbed("rds", DR)
    stub.add_response(
        "describe_global_clusters",
        global_cluster_response(
            GID,
            [member(PRIMARY, "p", writer=True), member(DR, "d", writer=False)],
            failover_state={"Status": "failing-over", "ToDbClusterArn": cluster_arn(DR, "d")},
        ),
        {"GlobalClusterIdentifier": GID},
    )

    # WHEN described
    snap = topology.describe_global_cluster(factory("rds", DR), GID)

    # THEN the failover is visible
    assert snap.failover_state is not None
    assert snap.failover_state.status == "failing-over"
    assert snap.failover_state.from_arn is None
    assert snap.member_in(DR).synchronization_status == "connected"  # type: ignore[union-attr]


@pytest.mark.usefixtures("moto_aws")
def test_describe_cluster_counts_available_instances() -> None:
    # GIVEN a cluster with one instance (moto makes it available at once)
    rds = client("rds", DR)
    rds.create_db_cluster(
        DBClusterIdentifier="c1",
        Engine="aurora-postgresql",
        MasterUsername="dbadmin",
        MasterUserPassword="not-a-real-password",
    )
    rds.create_db_instance(
        DBInstanceIdentifier="c1-1",
        DBClusterIdentifier="c1",
        Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )

    # WHEN described
    status = topology.describe_cluster(rds, "c1", region=DR)

    # THEN the cluster serves
    assert status.is_available
    assert status.available_instances == 1
    assert status.instances[0].is_cluster_writer


@pytest.mark.usefixtures("moto_aws")
def test_describe_cluster_without_instances_is_not_available() -> None:
    # GIVEN a headless cluster
    rds = client("rds", DR)
    rds.create_db_cluster(
        DBClusterIdentifier="c2",
        Engine="aurora-postgresql",
        MasterUsername="dbadmin",
        MasterUserPassword="not-a-real-password",
    )

    # WHEN / THEN it cannot take the writer role
    assert not topology.describe_cluster(rds, "c2", region=DR).is_available


@pytest.mark.usefixtures("moto_aws")
def test_describe_missing_cluster_raises_cluster_not_found() -> None:
    # GIVEN / WHEN / THEN
    with pytest.raises(topology.ClusterNotFound, match="nope in us-west-2"):
        topology.describe_cluster(client("rds", DR), "nope", region=DR)


# -- drcommon.aws --------------------------------------------------------------------------


def test_client_config_bounds_attempts_and_timeouts() -> None:
    # GIVEN / WHEN the default config
    config = client_config()

    # THEN standard retries with a bounded number of attempts and explicit timeouts
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert config.connect_timeout == 3.0
    assert config.read_timeout == 10.0
    with pytest.raises(ValueError, match="at least 1"):
        client_config(max_attempts=0)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


_THROTTLED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
    b"<Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>"
)
_EMPTY = (
    b"<DescribeGlobalClustersResponse><DescribeGlobalClustersResult><GlobalClusters/>"
    b"</DescribeGlobalClustersResult></DescribeGlobalClustersResponse>"
)


def _fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def test_factory_clients_retry_throttling(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a factory client whose first answer is a throttling error (served before sending)
    _fake_aws_credentials(monkeypatch)
    rds = BotoClientFactory()("rds", DR)
    answers = [(400, _THROTTLED), (200, _EMPTY)]

    def serve(request: Any, **_: Any) -> AWSResponse:
        status, body = answers.pop(0)
        return AWSResponse(request.url, status, {}, _Raw(body))

    rds.meta.events.register_first("before-send.rds.DescribeGlobalClusters", serve)

    # WHEN called (botocore's backoff sleep is recorded, not slept)
    with no_real_sleep(monkeypatch) as slept:
        response = rds.describe_global_clusters()

    # THEN botocore retried once and succeeded
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert response["GlobalClusters"] == []
    assert len(slept) == 1


def test_factory_clients_fail_fast_when_a_region_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a region whose endpoint refuses connections
    _fake_aws_credentials(monkeypatch)
    cloudwatch = BotoClientFactory()("cloudwatch", PRIMARY)
    attempts: list[str] = []

    def refuse(request: Any, **_: Any) -> None:
        attempts.append(request.url)
        raise EndpointConnectionError(endpoint_url=request.url)

    cloudwatch.meta.events.register_first("before-send.cloudwatch", refuse)

    # WHEN called / THEN it gives up after the bounded number of attempts
    with (
        no_real_sleep(monkeypatch),
        pytest.raises(EndpointConnectionError, match="Could not connect"),
    ):
        cloudwatch.describe_alarms(AlarmNames=["x"])
    assert len(attempts) == 3


def test_factory_caches_clients_and_applies_endpoint_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a factory with an interface-endpoint URL for the peer region's RDS API
    _fake_aws_credentials(monkeypatch)
    url = "https://vpce-0123-abcd.rds.us-east-1.vpce.amazonaws.com"
    factory = EndpointRouting(BotoClientFactory(), {("rds", PRIMARY): url})

    # WHEN clients are requested
    first, again = factory("rds", PRIMARY), factory("rds", PRIMARY)
    special = factory("rds", PRIMARY, config=client_config(max_attempts=1))

    # THEN default clients are cached, special-config ones are not, the override is used
    assert first is again
    assert special is not first
    assert first.meta.endpoint_url == url
    assert factory("rds", DR).meta.endpoint_url != url


def _throttle() -> ClientError:
    return ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "Op")


def test_retry_throttled_backs_off_then_succeeds() -> None:
    # GIVEN a call throttled twice
    clock = FakeClock()
    outcomes: list[Any] = [_throttle(), _throttle(), "done"]

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # WHEN retried / THEN it succeeds after exponential backoff on the fake clock
    assert retry_throttled(call, clock=clock) == "done"
    assert clock.sleeps == [1.0, 2.0]


def test_retry_throttled_raises_other_errors_at_once() -> None:
    # GIVEN a non-throttling error
    clock = FakeClock()
    error = ClientError({"Error": {"Code": "InvalidGlobalClusterStateFault"}}, "Op")

    def call() -> None:
        raise error

    # WHEN / THEN it is raised without a retry
    with pytest.raises(ClientError) as excinfo:
        retry_throttled(call, clock=clock)
    assert error_code(excinfo.value) == "InvalidGlobalClusterStateFault"
    assert not is_throttling(excinfo.value)
    assert clock.sleeps == []


def test_retry_throttled_stops_at_the_deadline() -> None:
    # GIVEN persistent throttling and 2.5 s of budget
    clock = FakeClock()
    deadline = Deadline(clock, clock.monotonic() + 2.5)

    def call() -> None:
        raise _throttle()

    # WHEN / THEN it gives up before overrunning the deadline
    with pytest.raises(ClientError, match=r"\(Throttling\).*slow down"):
        retry_throttled(call, clock=clock, deadline=deadline)
    assert clock.sleeps == [1.0]


def test_deadline_from_context_keeps_a_reserve() -> None:
    # GIVEN a context with 300 s left / WHEN a deadline keeps 20 s back / THEN 280 s remain
    clock = FakeClock()
    deadline = Deadline.from_context(FakeContext(clock), clock, reserve_seconds=20)
    assert deadline.remaining() == pytest.approx(280)
    clock.advance(300)
    assert deadline.expired()
    assert (
        Deadline.from_context(None, clock, reserve_seconds=5, fallback_seconds=10).remaining() == 5
    )
