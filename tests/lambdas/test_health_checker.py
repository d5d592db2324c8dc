"""Health checker: probes on a real PostgreSQL, contract metrics in moto CloudWatch, time bounds.

A whole minute run is the peer watch's health run (outside the VPC: the RDS read and the
publishing) asking the checker (in the VPC: the SQL probes) through a Lambda invoke, answered
here in-process with the same JSON both ways.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import socket
import threading
import time
from typing import Any

import pytest
from awsfakes import DR_REGION, GLOBAL_CLUSTER_ID, PRIMARY_REGION, global_cluster_response
from awsfakes import stubbed_client as make_stubbed_client
from botocore.exceptions import ClientError
from conftest import HEALTH_SECRET_ID as SECRET_ID  # the secret the `cloud` fixture creates
from conftest import FakeLambdaContext

from drcommon import contract, db
from drcommon import health as evaluation
from drcommon.aws import BotoClientFactory
from drcommon.db import Endpoint
from drcommon.health import ProbeResult
from health_checker import handler
from health_checker.checker import CredentialCache, probe_health, probe_peer
from health_checker.probes import probe, read_heartbeat_lag_ms, write_heartbeat
from health_checker.settings import Settings, SettingsError
from peer_watch import health_run
from peer_watch.settings import Settings as WatchSettings

ENVIRONMENT = "citest"
NOT_ROUTABLE = "no-such-host.invalid"


# --- helpers and fixtures ---------------------------------------------------------------------


def make_settings(server, **overrides: Any) -> Settings:
    """Settings whose three endpoints all point at the test server unless overridden."""
    endpoint = Endpoint(server.host, server.port)
    values: dict[str, Any] = {
        "environment": ENVIRONMENT,
        "local_region": PRIMARY_REGION,
        "peer_region": DR_REGION,
        "secret_id": SECRET_ID,
        "cluster_endpoint": endpoint,
        "reader_endpoint": endpoint,
        "peer_cluster_endpoint": endpoint,
        "probe_timeout_seconds": 2.0,
        "run_budget_seconds": 5.0,
        "ca_bundle": server.ca_path,
    }
    values.update(overrides)
    return Settings(**values)


def connector(server, timeout: float = 2.0):
    """The connect function the handler builds, trusting the test CA."""
    return functools.partial(
        db.connect, ssl_context=db.build_ssl_context(server.ca_path), timeout=timeout
    )


@pytest.fixture
def silent_port():
    """A loopback port that completes the TCP handshake and then never says a word."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    yield listener.getsockname()[1]
    # Closing resets the queued connections, which ends any probe thread still waiting on them.
    listener.close()


def stub_rds(writer_region: str | None = None, *, error: str | None = None):
    """An RDS client answering describe_global_clusters once (or failing with `error`)."""
    client, stubber = make_stubbed_client("rds", PRIMARY_REGION)
    if error:
        stubber.add_client_error(
            "describe_global_clusters", service_error_code=error, http_status_code=500
        )
    else:
        stubber.add_response(
            "describe_global_clusters",
            global_cluster_response(writer_region),
            {"GlobalClusterIdentifier": GLOBAL_CLUSTER_ID},
        )
    return client


class InProcessChecker:
    """The checker's Lambda, invoked synchronously: the request and the answer cross as JSON,
    as they do through the Lambda API; the answer is `probe_health`'s."""

    def __init__(self, settings: Settings, secretsmanager, connect, budget: float) -> None:
        self.settings, self.sm, self.connect, self.budget = (
            settings,
            secretsmanager,
            connect,
            budget,
        )
        self.requests: list[Any] = []

    def invoke(self, *, FunctionName, InvocationType, Payload):
        """Answer one `HEALTH_PROBE_EVENT` request."""
        self.requests.append((FunctionName, InvocationType, json.loads(Payload)))
        answer = probe_health(
            self.settings,
            secretsmanager=self.sm,
            connect=self.connect,
            budget_seconds=self.budget,
        )
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}


def watch_settings(settings: Settings) -> WatchSettings:
    """The peer watch of the checker's region, as the stack configures it."""
    return WatchSettings.from_env(
        {
            "AWS_REGION": settings.local_region,
            "PEER_REGION": settings.peer_region,
            "ENVIRONMENT_SUFFIX": settings.environment,
            "GLOBAL_CLUSTER_ID": GLOBAL_CLUSTER_ID,
            "HEALTH_CHECKER_FUNCTION_NAME": "checker",
            "COORDINATOR_FUNCTION_NAME": "coordinator",
        }
    )


class _Clock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


def run(settings: Settings, cloud, rds, *, connect=None, server=None, budget: float = 5.0):
    """One minute run: the peer watch's health run against moto CloudWatch and the given RDS
    client, its checker answered in-process."""
    checker = InProcessChecker(settings, cloud.sm, connect or connector(server), budget)
    clients = {"lambda": checker, "rds": rds, "cloudwatch": cloud.cw}
    report = health_run.run_health(
        lambda service, region, **kwargs: clients[service], watch_settings(settings), _Clock()
    )
    assert checker.requests == [("checker", "RequestResponse", contract.HEALTH_PROBE_EVENT)]
    return report


def published(cloudwatch) -> dict[tuple[str, str], float]:
    """{(metric name, ClusterRegion): value} of everything in the contract namespace."""
    now = dt.datetime.now(dt.UTC)
    result = {}
    for metric in cloudwatch.list_metrics(Namespace=contract.NAMESPACE)["Metrics"]:
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        # Exactly the contract's dimension set, with this stack's environment.
        assert dimensions.keys() == contract.dimensions("e", "r").keys()
        assert dimensions[contract.DIMENSION_ENVIRONMENT] == ENVIRONMENT
        data = cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "m",
                    "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Maximum"},
                }
            ],
            StartTime=now - dt.timedelta(minutes=10),
            EndTime=now + dt.timedelta(minutes=10),
        )
        values = data["MetricDataResults"][0]["Values"]
        assert len(values) == 1
        result[(metric["MetricName"], dimensions[contract.DIMENSION_CLUSTER_REGION])] = values[0]
    return result


# --- probes on a real PostgreSQL ----------------------------------------------------------------


def test_writer_probe_upserts_the_heartbeat_and_reads_a_round_trip_lag(postgres_server):
    """GIVEN a writer without heartbeat table WHEN probed THEN the table and this region's row exist
    and the lag is the write round trip (within the probe's own duration)."""
    database = postgres_server.create_database()
    creds = db.DbCredentials.from_secret(postgres_server.secret_dict(database=database))
    connect = connector(postgres_server)
    endpoint = Endpoint(postgres_server.host, postgres_server.port)

    started = time.monotonic()
    result = probe(
        lambda ep: connect(creds.at(ep)), endpoint, heartbeat_region="us-east-1", read_lag=True
    )
    probe_ms = (time.monotonic() - started) * 1000
    again = probe(
        lambda ep: connect(creds.at(ep)), endpoint, heartbeat_region="us-east-1", read_lag=True
    )

    assert result.ok and result.is_writer and result.heartbeat_written, result.error
    # The beat was written during this probe: its age is a part of the probe's own duration.
    assert 0 <= result.heartbeat_lag_ms <= probe_ms
    assert again.heartbeat_written  # the upsert, not a duplicate-key error
    conn = postgres_server.connect(database=database)
    try:
        rows = conn.run(f"SELECT region FROM {contract.HEARTBEAT_TABLE}")  # noqa: S608
    finally:
        conn.close()
    assert rows == [["us-east-1"]]


def test_reader_lag_is_the_age_of_the_newest_beat(postgres_server):
    """GIVEN beats written 5 s and 60 s ago WHEN a reader probe reads them THEN the lag is the
    newer beat's age: 5000 ms plus the time the test itself took."""
    database = postgres_server.create_database()
    conn = postgres_server.connect(database=database)
    started = time.monotonic()  # before the beats are dated
    try:
        write_heartbeat(conn, "us-east-1")
        conn.run(
            f"UPDATE {contract.HEARTBEAT_TABLE} "  # noqa: S608 - constant table name
            "SET beat_at = clock_timestamp() - interval '5 seconds'"
        )
        conn.run(
            f"INSERT INTO {contract.HEARTBEAT_TABLE} VALUES "  # noqa: S608 - constant table name
            "('us-west-2', clock_timestamp() - interval '60 seconds')"
        )
    finally:
        conn.close()
    creds = db.DbCredentials.from_secret(postgres_server.secret_dict(database=database))
    connect = connector(postgres_server)

    result = probe(
        lambda ep: connect(creds.at(ep)),
        Endpoint(postgres_server.host, postgres_server.port),
        read_lag=True,
        check_writer=False,
    )

    since_dated_ms = (time.monotonic() - started) * 1000
    assert result.ok and result.is_writer is None and not result.heartbeat_written
    # 5 s old when dated, plus however long the dating and the probe took: not the 60 s beat.
    assert 5000 <= result.heartbeat_lag_ms <= 5000 + since_dated_ms


def test_a_cluster_without_heartbeat_table_reports_no_lag(postgres_server):
    """GIVEN a fresh database WHEN its lag is read THEN None (nothing to measure), no error."""
    conn = postgres_server.connect(database=postgres_server.create_database())
    try:
        assert read_heartbeat_lag_ms(conn) is None
    finally:
        conn.close()


class FakeReplicaConnection:
    """A connection to a cluster in recovery (a secondary), recording the SQL it is sent."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def run(self, sql: str, **params: Any) -> list[list[Any]]:
        self.statements.append(sql)
        if sql == "SELECT 1":
            return [[1]]
        if "pg_is_in_recovery" in sql:
            return [[True]]
        if "to_regclass" in sql:
            return [[True]]
        if "clock_timestamp() - max(beat_at)" in sql:
            return [[1500.0]]
        raise AssertionError(f"unexpected SQL on a replica: {sql}")

    def close(self) -> None:
        """Nothing to close."""


def test_a_secondary_is_not_a_writer_and_is_never_written_to():
    """GIVEN a cluster in recovery WHEN probed with a heartbeat region THEN no write, lag read."""
    conn = FakeReplicaConnection()
    result = probe(lambda ep: conn, Endpoint("x"), heartbeat_region="us-west-2", read_lag=True)
    assert result.ok and result.is_writer is False and not result.heartbeat_written
    assert result.heartbeat_lag_ms == 1500.0
    assert not any("INSERT" in sql or "CREATE" in sql for sql in conn.statements)
    assert evaluation.writer_available(result) == 0


# --- pure decisions -----------------------------------------------------------------------------

UP = ProbeResult(endpoint="peer", ok=True, is_writer=True, latency_ms=3.0)
READER = ProbeResult(endpoint="peer", ok=True, is_writer=False, latency_ms=3.0)
DOWN = ProbeResult.failed("peer", "refused")


@pytest.mark.parametrize(
    ("writer_region", "peer", "expected"),
    [
        (PRIMARY_REGION, None, 1),  # we hold the writer role: no peer writer to lose
        (PRIMARY_REGION, DOWN, 1),  # ... whatever the peer looks like
        (DR_REGION, UP, 1),  # the peer holds it and answers as a writer
        (DR_REGION, READER, 0),  # the peer holds it per API but answers read-only
        (DR_REGION, DOWN, 0),  # the peer holds it and is unreachable
        (None, UP, 1),  # role unreadable: the probe decides
        (None, DOWN, 0),
        (None, None, 0),
    ],
)
def test_peer_writer_available_follows_the_contract(writer_region, peer, expected):
    """GIVEN who holds the writer role and the peer probe WHEN evaluated THEN the contract value."""
    assert evaluation.peer_writer_available(PRIMARY_REGION, writer_region, peer) == expected


def test_writer_available_needs_the_committed_heartbeat():
    """GIVEN a writer whose heartbeat failed WHEN evaluated THEN 0: it did not accept a write."""
    no_write = ProbeResult(endpoint="c", ok=True, is_writer=True, heartbeat_written=False)
    assert evaluation.writer_available(no_write) == 0
    assert evaluation.writer_available(None) == 0


def test_metric_data_uses_contract_names_units_and_dimensions():
    """GIVEN values WHEN turned into MetricData THEN names, units, dimensions follow the contract
    and unmeasured (None) values are left out."""
    values = {m: 1.0 for m in contract.ALL_METRICS} | {contract.HEARTBEAT_LAG: None}
    stamp = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    data = evaluation.metric_data(
        values,
        environment="prod",
        local_region="us-east-1",
        peer_region="us-west-2",
        timestamp=stamp,
    )
    by_name = {d["MetricName"]: d for d in data}
    assert set(by_name) == {m.name for m in contract.ALL_METRICS} - {contract.HEARTBEAT_LAG.name}
    for metric in contract.ALL_METRICS:
        if metric is contract.HEARTBEAT_LAG:
            continue
        region = "us-west-2" if metric.peer else "us-east-1"
        expected = [{"Name": k, "Value": v} for k, v in contract.dimensions("prod", region).items()]
        assert by_name[metric.name]["Dimensions"] == expected
        assert by_name[metric.name]["Unit"] == metric.unit.value
        assert by_name[metric.name]["Timestamp"] == stamp


@pytest.mark.parametrize(
    ("cluster", "reader", "latency", "lag"),
    [
        # the writer endpoint's own figures when it answered ...
        (
            ProbeResult("c", ok=True, latency_ms=7.0, heartbeat_lag_ms=20.0),
            ProbeResult("r", ok=True, latency_ms=9.0, heartbeat_lag_ms=900.0),
            7.0,
            20.0,
        ),
        # ... the reader's when the writer endpoint did not, or measured nothing
        (
            ProbeResult.failed("c", "timed out"),
            ProbeResult("r", ok=True, latency_ms=9.0, heartbeat_lag_ms=900.0),
            9.0,
            900.0,
        ),
        (ProbeResult("c", ok=True), ProbeResult("r", ok=True, heartbeat_lag_ms=900.0), None, 900.0),
        (None, ProbeResult("r", ok=True, latency_ms=9.0), 9.0, None),
        # ... and nothing when neither answered
        (ProbeResult.failed("c", "refused"), ProbeResult.failed("r", "refused"), None, None),
    ],
)
def test_latency_and_lag_come_from_the_writer_endpoint_else_from_the_reader(
    cluster, reader, latency, lag
):
    """GIVEN both probes of a region WHEN its metric values are computed THEN latency and lag are
    the writer endpoint's figures, the reader's standing in only where those are missing."""
    observation = evaluation.Observation(
        local_region=PRIMARY_REGION,
        peer_region=DR_REGION,
        writer_region=PRIMARY_REGION,
        cluster=cluster,
        reader=reader,
        peer=None,
    )
    values = evaluation.metric_values(observation)
    assert (values[contract.PROBE_LATENCY], values[contract.HEARTBEAT_LAG]) == (latency, lag)


def test_an_unmeasured_metric_leaves_out_only_itself_at_standard_resolution():
    """GIVEN the first contract metric unmeasured WHEN turned into MetricData THEN every other
    metric is still there, each at 60 s resolution (the Route 53 health checks need
    standard-resolution alarms; "Valid values are 1 and 60", CloudWatch API Reference,
    MetricDatum)."""
    first, *others = contract.ALL_METRICS
    values = {m: 1.0 for m in others} | {first: None}
    data = evaluation.metric_data(
        values,
        environment="prod",
        local_region="us-east-1",
        peer_region="us-west-2",
        timestamp=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    assert [d["MetricName"] for d in data] == [m.name for m in others]
    assert {d["StorageResolution"] for d in data} == {60}


_GOOD_PROBE = {
    "endpoint": "c",
    "ok": True,
    "is_writer": True,
    "heartbeat_written": True,
    "heartbeat_lag_ms": 4.0,
    "latency_ms": 7.0,
    "error": None,
}
_KEYS = "['endpoint', 'error', 'heartbeat_lag_ms', 'heartbeat_written', 'is_writer', 'latency_ms', 'ok']"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([], "a health probe answer has exactly the keys ['errors', 'probes']"),
        ({"probes": {}}, "a health probe answer has exactly the keys ['errors', 'probes']"),
        (
            {"probes": [], "errors": {}},
            "a health probe answer's probes are among ['cluster', 'reader', 'peer']",
        ),
        (
            {"probes": {"writer": _GOOD_PROBE}, "errors": {}},
            "a health probe answer's probes are among ['cluster', 'reader', 'peer']",
        ),
        ({"probes": {}, "errors": []}, "a health probe answer's errors are an object"),
        (
            {"probes": {"cluster": {"ok": True}}, "errors": {}},
            f"a probe result has exactly the keys {_KEYS}",
        ),
        (
            {"probes": {"cluster": {**_GOOD_PROBE, "ok": "yes"}}, "errors": {}},
            "a probe result's 'ok' is a boolean and its 'endpoint' a string",
        ),
        (
            {"probes": {"cluster": {**_GOOD_PROBE, "endpoint": 5}}, "errors": {}},
            "a probe result's 'ok' is a boolean and its 'endpoint' a string",
        ),
    ],
)
def test_a_malformed_checker_answer_is_refused_naming_what_is_wrong(answer, message):
    """GIVEN an answer from the VPC health checker that breaks its shape in one place WHEN the
    health run reads it THEN it is refused, and the error says which rule it broke (each
    rule is checked on its own: one good part does not excuse a bad one)."""
    with pytest.raises(evaluation.AnswerError) as excinfo:
        evaluation.probes_from_answer(answer)
    assert str(excinfo.value) == message


def test_a_well_formed_checker_answer_reads_back_as_it_was_sent():
    answer = {"probes": {"cluster": _GOOD_PROBE}, "errors": {"peer": "not probed"}}
    probes, errors = evaluation.probes_from_answer(answer)
    assert probes == {"cluster": ProbeResult(**_GOOD_PROBE)}
    assert errors == {"peer": "not probed"}


# --- whole runs: moto CloudWatch + Secrets Manager, stubbed RDS, real PostgreSQL -----------------


def test_the_writer_region_publishes_every_contract_metric(cloud, postgres_server):
    """GIVEN this region holds the writer role and every endpoint answers WHEN a run completes THEN
    every contract metric is published once with the contract's dimensions."""
    started = time.monotonic()
    report = run(
        make_settings(postgres_server), cloud, stub_rds(PRIMARY_REGION), server=postgres_server
    )
    run_ms = (time.monotonic() - started) * 1000

    metrics = published(cloud.cw)
    assert set(metrics) == {
        ("WriterAvailable", PRIMARY_REGION),
        ("ReaderAvailable", PRIMARY_REGION),
        ("PeerWriterAvailable", DR_REGION),
        ("ProbeLatency", PRIMARY_REGION),
        ("HeartbeatLag", PRIMARY_REGION),
    }
    assert {m.name for m in contract.ALL_METRICS} == {name for name, _ in metrics}
    assert metrics[("WriterAvailable", PRIMARY_REGION)] == 1
    assert metrics[("ReaderAvailable", PRIMARY_REGION)] == 1
    assert metrics[("PeerWriterAvailable", DR_REGION)] == 1
    # Both are measured inside the run: neither can exceed the run's own duration.
    assert 0 < metrics[("ProbeLatency", PRIMARY_REGION)] <= run_ms
    assert 0 <= metrics[("HeartbeatLag", PRIMARY_REGION)] <= run_ms
    assert report.errors == {}


def test_the_peer_is_probed_when_it_holds_the_writer_role(cloud, postgres_server):
    """GIVEN the peer region holds the writer role and answers as a writer WHEN run THEN
    PeerWriterAvailable=1 under the peer's ClusterRegion."""
    report = run(make_settings(postgres_server), cloud, stub_rds(DR_REGION), server=postgres_server)
    assert report.observation.peer is not None and report.observation.peer.is_writer
    assert published(cloud.cw)[("PeerWriterAvailable", DR_REGION)] == 1


def test_an_unreachable_peer_writer_yields_zero(cloud, postgres_server, closed_port):
    """GIVEN the peer holds the writer role but its endpoint refuses connections WHEN run THEN 0."""
    settings = make_settings(
        postgres_server, peer_cluster_endpoint=Endpoint("127.0.0.1", closed_port)
    )
    report = run(settings, cloud, stub_rds(DR_REGION), server=postgres_server)
    assert published(cloud.cw)[("PeerWriterAvailable", DR_REGION)] == 0
    assert "peer" in report.errors


def test_the_peer_is_probed_anyway_when_the_role_cannot_be_read(cloud, postgres_server):
    """GIVEN describe_global_clusters fails WHEN run THEN the peer is probed and decides the value."""
    report = run(
        make_settings(postgres_server),
        cloud,
        stub_rds(error="InternalFailure"),
        server=postgres_server,
    )
    assert report.observation.writer_region is None
    assert report.observation.peer is not None
    assert "writerRole" in report.errors
    assert published(cloud.cw)[("PeerWriterAvailable", DR_REGION)] == 1


def test_unreachable_endpoints_yield_zero_at_once(cloud, postgres_server, closed_port):
    """GIVEN every endpoint refuses connections WHEN run THEN each probe fails on the refused
    connect itself (not on a timeout or the run budget), availability is 0, and no latency or lag
    is invented."""
    down = Endpoint("127.0.0.1", closed_port)
    settings = make_settings(
        postgres_server, cluster_endpoint=down, reader_endpoint=down, peer_cluster_endpoint=down
    )
    refusals: list[BaseException | None] = []

    def connect(credentials):
        try:
            return connector(postgres_server)(credentials)
        except Exception as exc:
            refusals.append(exc.__cause__)
            raise

    report = run(settings, cloud, stub_rds(DR_REGION), connect=connect)
    assert len(refusals) == 3
    assert all(isinstance(cause, ConnectionRefusedError) for cause in refusals), refusals
    assert set(report.errors) == {"cluster", "reader", "peer"}
    assert not any("run budget" in error for error in report.errors.values())
    assert published(cloud.cw) == {
        ("WriterAvailable", PRIMARY_REGION): 0,
        ("ReaderAvailable", PRIMARY_REGION): 0,
        ("PeerWriterAvailable", DR_REGION): 0,
    }


def test_silent_endpoints_are_cut_off_by_the_probe_timeout(cloud, postgres_server, silent_port):
    """GIVEN endpoints that accept TCP and never answer WHEN run with a 0.3 s probe timeout and a
    5 s budget THEN the three probes wait concurrently, each ends on its own socket timeout (not
    on the run budget), and the metrics say 0."""
    silent = Endpoint("127.0.0.1", silent_port)
    settings = make_settings(
        postgres_server,
        cluster_endpoint=silent,
        reader_endpoint=silent,
        peer_cluster_endpoint=silent,
    )
    # All three probes must be connecting at once for any of them to go on; probes run one
    # after another would wait here until the budget cut them off.
    together = threading.Barrier(3, timeout=10)

    def connect(credentials):
        together.wait()
        return connector(postgres_server, timeout=0.3)(credentials)

    report = run(settings, cloud, stub_rds(None), connect=connect)

    assert {name: report.errors.get(name) for name in ("cluster", "reader", "peer")} == {
        "cluster": "TimeoutError: timed out",
        "reader": "TimeoutError: timed out",
        "peer": "TimeoutError: timed out",
    }
    metrics = published(cloud.cw)
    assert metrics[("WriterAvailable", PRIMARY_REGION)] == 0
    assert metrics[("PeerWriterAvailable", DR_REGION)] == 0


def test_the_run_budget_bounds_the_run_even_if_sockets_would_wait_longer(
    cloud, postgres_server, silent_port
):
    """GIVEN hung endpoints and a 10 s socket timeout WHEN run with a 1 s budget THEN the run
    returns while the hung probes are still waiting, they count as 0 (timed out on the budget)
    and the metrics are published."""
    silent = Endpoint("127.0.0.1", silent_port)
    settings = make_settings(postgres_server, cluster_endpoint=silent, reader_endpoint=silent)
    finished: list[str] = []

    def connect(credentials):
        try:
            return connector(postgres_server, timeout=10)(credentials)
        finally:
            finished.append(f"{credentials.host}:{credentials.port}")

    report = run(settings, cloud, stub_rds(PRIMARY_REGION), connect=connect, budget=1.0)

    # The peer (the test server) answers; the hung endpoint's probes are still waiting.
    assert f"127.0.0.1:{silent_port}" not in finished, "the run waited for a hung probe"
    assert report.errors["cluster"] == "timed out (run budget exhausted)"
    assert report.errors["reader"] == "timed out (run budget exhausted)"
    metrics = published(cloud.cw)
    assert metrics[("WriterAvailable", PRIMARY_REGION)] == 0
    assert metrics[("ReaderAvailable", PRIMARY_REGION)] == 0


def test_a_rotation_in_flight_does_not_look_like_an_outage(cloud, postgres_server):
    """GIVEN the database already has the AWSPENDING password (setSecret done, finishSecret not)
    WHEN run THEN the probe retries with AWSPENDING and the writer is available."""
    role, password = postgres_server.create_role()
    database = postgres_server.create_database()  # the role's own heartbeat table
    good = postgres_server.secret_dict(role, password, database=database)
    cloud.sm.put_secret_value(
        SecretId=SECRET_ID,
        SecretString=json.dumps({**good, "password": "stale-Password-1"}),
        VersionStages=["AWSCURRENT"],
    )
    cloud.sm.put_secret_value(
        SecretId=SECRET_ID,
        ClientRequestToken="p" * 32,
        SecretString=json.dumps(good),
        VersionStages=["AWSPENDING"],
    )
    admin = postgres_server.connect(database=database)
    try:  # the role must be able to create the heartbeat table in this database
        admin.run(f"GRANT CREATE ON SCHEMA public TO {role}")
    finally:
        admin.close()

    report = run(
        make_settings(postgres_server), cloud, stub_rds(PRIMARY_REGION), server=postgres_server
    )

    assert report.values["WriterAvailable"] == 1, report.errors


def test_an_unreadable_secret_still_publishes_availability(cloud, postgres_server):
    """GIVEN the secret cannot be read WHEN run THEN the probes are 0 and still published."""
    settings = make_settings(postgres_server, secret_id="no-such-secret")
    report = run(settings, cloud, stub_rds(PRIMARY_REGION), server=postgres_server)
    assert "credentials" in report.errors
    assert published(cloud.cw) == {
        ("WriterAvailable", PRIMARY_REGION): 0,
        ("ReaderAvailable", PRIMARY_REGION): 0,
        ("PeerWriterAvailable", DR_REGION): 1,  # we hold the writer role: no peer writer to lose
    }


# --- the health run without a usable checker answer: nothing is published ----------------------


class BrokenChecker:
    """A checker invoke that fails the way `how` says."""

    def __init__(self, how: str) -> None:
        self.how = how

    def invoke(self, **kwargs):
        if self.how == "unreachable":
            raise ClientError({"Error": {"Code": "TooManyRequestsException"}}, "Invoke")
        body = {
            "function_error": b'{"errorType": "SettingsError"}',
            "malformed": json.dumps({"probes": {"cluster": {"ok": True}}, "errors": {}}).encode(),
            "not_json": b"Task timed out",
        }[self.how]
        response = {"StatusCode": 200, "Payload": io.BytesIO(body)}
        if self.how == "function_error":
            response["FunctionError"] = "Unhandled"
        return response


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("unreachable", "health checker not reachable"),
        ("function_error", "health checker reported Unhandled"),
        ("malformed", "unexpected answer from the health checker"),
        ("not_json", "unexpected answer from the health checker"),
    ],
)
def test_a_checker_without_a_usable_answer_publishes_nothing_and_fails_the_run(
    cloud, postgres_server, how, message
):
    """GIVEN the health run's invoke of the checker fails or answers in another shape WHEN the
    run runs THEN HealthRunError and no metric at all: a missing minute (the health alarms treat
    missing data as they always did), never a 0 or a 1 nobody measured."""
    settings = make_settings(postgres_server)
    clients = {"lambda": BrokenChecker(how), "rds": stub_rds(DR_REGION), "cloudwatch": cloud.cw}
    with pytest.raises(health_run.HealthRunError, match=message):
        health_run.run_health(
            lambda service, region, **kwargs: clients[service], watch_settings(settings), _Clock()
        )
    assert cloud.cw.list_metrics(Namespace=contract.NAMESPACE)["Metrics"] == []


def test_the_health_runs_clients_have_short_timeouts_and_one_invoke_attempt(cloud, postgres_server):
    """GIVEN a health run WHEN it builds its clients THEN the RDS read and the publish get the
    checker's former short budget (connect 2 s, read 4 s, 3 attempts), and the checker's invoke
    one attempt with the registered health probe timeout (a retry would probe twice)."""
    settings = make_settings(postgres_server)
    checker = InProcessChecker(settings, cloud.sm, connector(postgres_server), 5.0)
    clients = {"lambda": checker, "rds": stub_rds(PRIMARY_REGION), "cloudwatch": cloud.cw}
    configs = {}

    def factory(service, region, config=None):
        configs[service] = config
        return clients[service]

    health_run.run_health(factory, watch_settings(settings), _Clock())
    for service in ("rds", "cloudwatch"):
        config = configs[service]
        assert (config.connect_timeout, config.read_timeout) == (2.0, 4.0), service
        assert config.retries["total_max_attempts"] == 3, service
    invoke = configs["lambda"]
    assert invoke.read_timeout == watch_settings(settings).health_probe_timeout_seconds
    assert invoke.retries["total_max_attempts"] == 1


def test_the_watch_handler_runs_the_health_run_for_its_event(monkeypatch, lambda_context):
    """GIVEN the schedule's fixed input WHEN the peer watch is invoked THEN the health run runs
    (not a tick), and its report is the answer."""
    from peer_watch import handler as watch_handler

    for key, value in {
        "AWS_REGION": PRIMARY_REGION,
        "PEER_REGION": DR_REGION,
        "ENVIRONMENT_SUFFIX": ENVIRONMENT,
        "GLOBAL_CLUSTER_ID": GLOBAL_CLUSTER_ID,
        "HEALTH_CHECKER_FUNCTION_NAME": "checker",
        "COORDINATOR_FUNCTION_NAME": "coordinator",
    }.items():
        monkeypatch.setenv(key, value)
    ran: list[Any] = []

    class Report:
        def as_dict(self) -> dict[str, Any]:
            return {"values": {}}

    def fake_run(factory, settings, clock):
        ran.append(settings.environment)
        return Report()

    monkeypatch.setattr(watch_handler, "run_health", fake_run)
    monkeypatch.setattr(watch_handler, "run", lambda *a, **k: pytest.fail("not a tick"))
    assert watch_handler.lambda_handler(contract.HEALTH_RUN_EVENT, lambda_context) == {"values": {}}
    assert ran == [ENVIRONMENT]


# --- the peer probe (for the peer watch and the coordinator) --------------------------------------


class CountingSecrets:
    """Secrets Manager that counts its reads (wrapping moto's client)."""

    def __init__(self, sm) -> None:
        self.sm, self.reads = sm, 0

    def get_secret_value(self, **kwargs):
        """Count, then read."""
        self.reads += 1
        return self.sm.get_secret_value(**kwargs)


def peer(settings, cloud, server, cache, **kwargs):
    return probe_peer(
        settings,
        secretsmanager=kwargs.pop("secretsmanager", cloud.sm),
        connect=kwargs.pop("connect", None) or connector(server),
        credentials=cache,
        **kwargs,
    )


def test_a_peer_probe_answers_the_caller_and_publishes_nothing(cloud, postgres_server):
    """GIVEN a peer writer that answers WHEN probed THEN the answer has exactly the contract's keys,
    says writer, and no metric is published (the minute run publishes; the probe only answers)."""
    answer = peer(make_settings(postgres_server), cloud, postgres_server, CredentialCache(300))
    assert set(answer) == contract.PEER_PROBE_RESULT_KEYS
    assert (answer["ok"], answer["isWriter"], answer["error"]) == (True, True, None)
    assert cloud.cw.list_metrics(Namespace=contract.NAMESPACE)["Metrics"] == []


def test_a_silent_peer_fails_within_the_probe_timeout(cloud, postgres_server, silent_port):
    """GIVEN a peer endpoint that accepts TCP and never answers WHEN probed with a 0.3 s timeout
    THEN the answer is a failure, within the timeout (the caller's read timeout adds Lambda's part
    only)."""
    settings = make_settings(
        postgres_server,
        peer_cluster_endpoint=Endpoint("127.0.0.1", silent_port),
        probe_timeout_seconds=0.3,
    )
    started = time.monotonic()
    answer = peer(
        settings,
        cloud,
        postgres_server,
        CredentialCache(300),
        connect=connector(postgres_server, 0.3),
    )
    assert answer["ok"] is False and answer["error"]
    assert time.monotonic() - started < 2.0


def test_peer_probes_read_the_secret_once_per_cache_period(cloud, postgres_server):
    """GIVEN three probes within the cache period WHEN run THEN one secret read (Secrets Manager
    bills per call: a read per probe every few seconds would cost more than the probes)."""
    secrets, cache, now = CountingSecrets(cloud.sm), CredentialCache(300), [0.0]
    settings = make_settings(postgres_server)
    for moment in (0.0, 5.0, 10.0):
        now[0] = moment
        answer = peer(
            settings, cloud, postgres_server, cache, secretsmanager=secrets, clock=lambda: now[0]
        )
        assert answer["ok"] is True
    assert secrets.reads == 1
    now[0] = 301.0
    peer(settings, cloud, postgres_server, cache, secretsmanager=secrets, clock=lambda: now[0])
    assert secrets.reads == 2  # older than the cache period: read again


def test_a_rejected_password_empties_the_cache(cloud, postgres_server):
    """GIVEN cached credentials the database no longer accepts (a rotation moved on) WHEN probed
    THEN the probe fails over to AWSPENDING or fails, and the next probe reads the secret again."""
    role, password = postgres_server.create_role()
    database = postgres_server.create_database()
    good = postgres_server.secret_dict(role, password, database=database)
    cloud.sm.put_secret_value(
        SecretId=SECRET_ID, SecretString=json.dumps({**good, "password": "stale-Password-1"})
    )
    secrets, cache = CountingSecrets(cloud.sm), CredentialCache(300)
    settings = make_settings(postgres_server)
    first = peer(settings, cloud, postgres_server, cache, secretsmanager=secrets)
    assert first["ok"] is False
    cloud.sm.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps(good))
    second = peer(settings, cloud, postgres_server, cache, secretsmanager=secrets)
    assert second["ok"] is True, second["error"]


def test_the_handler_answers_a_peer_probe_request(handler_env, lambda_context):
    """GIVEN the wired environment, whose peer endpoint does not resolve WHEN asked for a peer
    probe THEN the answer is a failure of the peer, and nothing is published."""
    answer = handler.lambda_handler(contract.PEER_PROBE_EVENT, lambda_context)
    assert set(answer) == contract.PEER_PROBE_RESULT_KEYS
    assert answer["ok"] is False and NOT_ROUTABLE in answer["endpoint"]
    assert handler_env.cw.list_metrics(Namespace=contract.NAMESPACE)["Metrics"] == []


# --- settings -----------------------------------------------------------------------------------

ENV = {
    "ENVIRONMENT_SUFFIX": "dev",
    "LOCAL_REGION": "us-east-1",
    "PEER_REGION": "us-west-2",
    "DB_SECRET_ID": "aurora-dr-dev-master",
    "CLUSTER_ENDPOINT": "c.cluster-x.us-east-1.rds.amazonaws.com",
    "READER_ENDPOINT": "c.cluster-ro-x.us-east-1.rds.amazonaws.com",
    "PEER_CLUSTER_ENDPOINT": "d.cluster-y.us-west-2.rds.amazonaws.com",
}


def test_settings_read_every_variable_with_defaults():
    """GIVEN the wired environment WHEN read THEN typed settings with the documented defaults."""
    settings = Settings.from_env(ENV)
    assert settings.peer_cluster_endpoint == Endpoint("d.cluster-y.us-west-2.rds.amazonaws.com")
    assert settings.probe_timeout_seconds == 4.0
    assert settings.run_budget_seconds == 12.0
    assert settings.ca_bundle is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"DB_SECRET_ID": ""}, "DB_SECRET_ID is required"),
        ({"LOCAL_REGION": "useast1"}, "LOCAL_REGION='useast1' is not an AWS region"),
        ({"PEER_REGION": "us-east-1"}, "must differ"),
        ({"READER_ENDPOINT": "host:http"}, "READER_ENDPOINT"),
        ({"ENVIRONMENT_SUFFIX": "Dev_1"}, "ENVIRONMENT_SUFFIX"),
        ({"PROBE_TIMEOUT_SECONDS": "60"}, "PROBE_TIMEOUT_SECONDS='60' must be between"),
        ({"RUN_BUDGET_SECONDS": "soon"}, "RUN_BUDGET_SECONDS='soon' is not a number"),
    ],
)
def test_settings_errors_name_the_variable(changes, message):
    """GIVEN a missing or malformed variable WHEN read THEN SettingsError names it."""
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**ENV, **changes})


# --- the handler ----------------------------------------------------------------------------------


@pytest.fixture
def handler_env(cloud, postgres_server, monkeypatch):
    """The handler's environment, aimed at the test server."""
    endpoint = f"{postgres_server.host}:{postgres_server.port}"
    env = {
        **ENV,
        "ENVIRONMENT_SUFFIX": ENVIRONMENT,
        "DB_SECRET_ID": SECRET_ID,
        "CLUSTER_ENDPOINT": endpoint,
        "READER_ENDPOINT": endpoint,
        "PEER_CLUSTER_ENDPOINT": f"{NOT_ROUTABLE}:5432",
        "DB_CA_BUNDLE": postgres_server.ca_path,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return cloud


def test_the_handler_answers_a_health_probe_request_and_calls_no_api_but_the_secret(
    handler_env, lambda_context, monkeypatch
):
    """GIVEN the wired environment WHEN the health run asks for its probes THEN the answer holds
    the three probe results (the peer, which does not resolve, failed) in the shape the health run
    reads, nothing is published, and the only client built is Secrets Manager's: the checker's
    VPC needs no rds or monitoring endpoint."""
    built: list[str] = []
    factory = handler.CLIENT_FACTORY

    def recording(service, region, **kwargs):
        built.append(service)
        return factory(service, region, **kwargs)

    monkeypatch.setattr(handler, "CLIENT_FACTORY", recording)
    answer = handler.lambda_handler(contract.HEALTH_PROBE_EVENT, lambda_context)
    probes, errors = evaluation.probes_from_answer(json.loads(json.dumps(answer)))
    assert probes["cluster"].is_writer and probes["cluster"].heartbeat_written
    assert probes["reader"].ok
    assert not probes["peer"].ok and set(errors) == {"peer"}
    assert built == ["secretsmanager"]
    assert handler_env.cw.list_metrics(Namespace=contract.NAMESPACE)["Metrics"] == []


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        {},
        {"source": "aws.rds", "detail-type": "RDS DB Cluster Event"},
        contract.HEALTH_RUN_EVENT,
        ["not", "an", "object"],
        "run",
    ],
)
def test_unknown_events_are_rejected_before_anything_is_probed(
    handler_env, lambda_context, event, monkeypatch
):
    """GIVEN an event that is not a probe request (a schedule's event belongs to the peer watch's
    health run now) WHEN invoked THEN a clear error, and no client was built."""
    monkeypatch.setattr(handler, "CLIENT_FACTORY", lambda *a, **k: pytest.fail("no client"))
    with pytest.raises(handler.EventError, match="health_checker accepts"):
        handler.lambda_handler(event, lambda_context)


def test_a_missing_variable_fails_the_run_with_its_name(handler_env, lambda_context, monkeypatch):
    """GIVEN a required variable unset WHEN invoked THEN SettingsError naming it, nothing published."""
    monkeypatch.delenv("READER_ENDPOINT")
    with pytest.raises(SettingsError, match="READER_ENDPOINT"):
        handler.lambda_handler(contract.HEALTH_PROBE_EVENT, lambda_context)


class ContextNearItsDeadline(FakeLambdaContext):
    """A Lambda context frozen at `remaining_ms` left (no real clock involved)."""

    def __init__(self, remaining_ms: int) -> None:
        super().__init__()
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        """The frozen remaining time."""
        return self.remaining_ms


@pytest.mark.parametrize(
    ("remaining_ms", "budget"),
    [
        pytest.param(40_000, 12.0, id="plenty_left_the_run_budget_caps"),
        pytest.param(20_000, 20.0 - handler.ANSWER_RESERVE_SECONDS, id="near_the_deadline"),
        pytest.param(10_000, 0.5, id="past_the_reserve_the_floor"),
    ],
)
def test_the_handler_takes_the_answer_reserve_off_the_probe_budget(
    fake_aws_env, postgres_server, monkeypatch, remaining_ms, budget
):
    """GIVEN a context with `remaining_ms` left WHEN the handler runs THEN the probes get what is
    left after the time reserved for answering (at most RUN_BUDGET_SECONDS, at least 0.5 s)."""
    for key, value in {**ENV, "DB_CA_BUNDLE": postgres_server.ca_path}.items():
        monkeypatch.setenv(key, value)
    budgets: list[float] = []

    def record_budget(settings, **kwargs):
        budgets.append(kwargs["budget_seconds"])
        return {}

    monkeypatch.setattr(handler, "probe_health", record_budget)
    handler.lambda_handler(contract.HEALTH_PROBE_EVENT, ContextNearItsDeadline(remaining_ms))
    assert budgets == [pytest.approx(budget)]


def test_aws_clients_get_short_timeouts_and_few_retries(fake_aws_env):
    """GIVEN the probe timeout WHEN a client is built with the handler's config THEN short
    timeouts and 3 attempts (what botocore made of the original `max_attempts: 2`, a retry count)."""
    config = handler.aws_config(4.0)
    assert config.connect_timeout == 2.0
    assert config.read_timeout == 4.0
    client = BotoClientFactory()("secretsmanager", PRIMARY_REGION, config=config)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
