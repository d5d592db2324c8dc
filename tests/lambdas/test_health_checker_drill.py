"""The health checker's drill mode against a real PostgreSQL, and drctl's RTO/RPO measurement
of what it wrote: a simulated switchover (the writer unreachable for a few seconds) and a
simulated loss (acknowledged rows missing afterwards)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pg8000.native
import pytest

from drcommon import db
from drctl import measure
from health_checker import drill

START = 1_800_000_000.0
# The writer is unreachable from 10.5 s to 17.2 s after the start: ticks 11..17 fail.
GAP = (START + 10.5, START + 17.2)
# The rows a failover lost: acknowledged to the writer, absent afterwards.
DELETE_SQL = f"DELETE FROM {drill.TABLE} WHERE run_id = :run AND seq IN (109, 110)"  # noqa: S608
STATEMENT_SECONDS = 0.05  # what a connect or a statement takes on the fake clock


@dataclass
class FakeClock:
    """Epoch time that moves only when the code sleeps or talks to the database."""

    now: float = START

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Unreachable(OSError):
    """What a connect or a statement meets while the writer is switching over."""


class GappedConnection:
    """A real connection that, like the old writer during a switchover, stops answering."""

    def __init__(self, inner: pg8000.native.Connection, clock: FakeClock) -> None:
        self.inner, self.clock = inner, clock

    def run(self, sql: str, **params: object) -> object:
        self.clock.now += STATEMENT_SECONDS
        if GAP[0] <= self.clock.now < GAP[1]:
            raise Unreachable("server closed the connection unexpectedly")
        return self.inner.run(sql, **params)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def drill_database(postgres_server) -> str:
    return postgres_server.create_database()


def test_heartbeats_across_a_switchover_gap_measure_the_outage_and_the_lost_rows(
    postgres_server, drill_database: str
) -> None:
    clock = FakeClock()
    credentials = db.DbCredentials.from_secret(postgres_server.secret_dict(database=drill_database))
    connect_real = db.connector("health_checker", timeout=5, ca_bundle=postgres_server.ca_path)

    def connect() -> GappedConnection:
        clock.now += STATEMENT_SECONDS
        if GAP[0] <= clock.now < GAP[1]:
            raise Unreachable("could not connect: the endpoint points at the demoted writer")
        return GappedConnection(connect_real(credentials), clock)

    event = {"drill": "write", "runId": "run-1", "firstSeq": 100, "seconds": 25}
    batch = drill.handle(event, connect=connect, clock=clock, remaining_seconds=30.0)

    # 22 ticks fit into 30 s less the reserve; 7 of them fell into the gap
    assert batch["nextSeq"] == 122
    assert [f["seq"] for f in batch["failed"]] == list(range(111, 118))
    assert len(batch["committed"]) == 15
    # AND two acknowledged rows from before the switch are missing afterwards (lost)
    with contextlib.closing(postgres_server.connect(database=drill_database)) as conn:
        conn.run(DELETE_SQL, run="run-1")
    stored = drill.handle(
        {"drill": "rows", "runId": "run-1"}, connect=connect, clock=clock, remaining_seconds=30.0
    )

    window = measure.Window("us-east-1 -> us-west-2", started=START + 10.2, ended=START + 20.0)
    (result,) = measure.measure(measure.commits_from_batches([batch]), stored["seqs"], [window])
    # THEN the outage runs from tick 10's commit (an open connection: one statement) to tick 18's
    # (reconnect, create-if-missing, insert: three)
    assert result.last_commit_before - START == pytest.approx(10.05, abs=1e-6)
    assert result.first_commit_after - START == pytest.approx(18.15, abs=1e-6)
    assert result.unavailable_seconds == pytest.approx(8.1, abs=1e-6)
    assert (result.rows_lost, result.lost_seqs) == (2, (109, 110))
    assert result.rpo_seconds == pytest.approx(2.0, abs=1e-6)


def test_rows_of_a_run_only(postgres_server, drill_database: str) -> None:
    clock = FakeClock()
    credentials = db.DbCredentials.from_secret(postgres_server.secret_dict(database=drill_database))
    connect_real = db.connector("health_checker", timeout=5, ca_bundle=postgres_server.ca_path)
    for run_id in ("a", "b"):
        drill.write_heartbeats(
            drill.WriteRequest(run_id, 0, 3),
            lambda: connect_real(credentials),
            clock,
            budget_seconds=10,
        )
    stored = drill.read_rows(drill.RowsRequest("a"), lambda: connect_real(credentials))
    assert stored == {"runId": "a", "seqs": [0, 1, 2]}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"drill": "nuke", "runId": "x"}, "drill must be 'write' or 'rows'"),
        (
            {"drill": "write", "runId": "x", "firstSeq": 0},
            "exactly the keys drill, firstSeq, runId, seconds",
        ),
        (
            {"drill": "write", "runId": "x", "firstSeq": -1, "seconds": 5},
            "firstSeq must be an integer >= 0",
        ),
        (
            {"drill": "write", "runId": "x", "firstSeq": 0, "seconds": True},
            "seconds must be a number > 0",
        ),
        ({"drill": "rows", "runId": ""}, "runId must be a non-empty string"),
    ],
)
def test_malformed_drill_events_are_refused(event: dict, message: str) -> None:
    with pytest.raises(drill.DrillEventError, match=message):
        drill.parse_drill_event(event)


def test_the_handler_runs_drill_events_at_the_secrets_host_and_publishes_nothing(
    cloud, postgres_server, lambda_context, monkeypatch
) -> None:
    """GIVEN the checker's environment, whose secret's host (the global writer endpoint) is the
    test server WHEN drctl's drill events arrive THEN heartbeats are written there and read back,
    and no health metric is published (a drill is not a health check)."""
    from drcommon import contract
    from health_checker import handler
    from tests.lambdas.conftest import HEALTH_SECRET_ID

    env = {
        "ENVIRONMENT_SUFFIX": "dev",
        "LOCAL_REGION": "us-east-1",
        "PEER_REGION": "us-west-2",
        "GLOBAL_CLUSTER_IDENTIFIER": "aurora-dr-dev",
        "DB_SECRET_ID": HEALTH_SECRET_ID,
        # Unreachable on purpose: the drill must not use the regional endpoints.
        "CLUSTER_ENDPOINT": "192.0.2.1:5432",
        "READER_ENDPOINT": "192.0.2.1:5432",
        "PEER_CLUSTER_ENDPOINT": "192.0.2.1:5432",
        "DB_CA_BUNDLE": postgres_server.ca_path,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handler, "CLOCK", FakeClock())
    handler.CREDENTIALS.invalidate()
    run_id = "handler-run"
    written = handler.lambda_handler(
        {"drill": "write", "runId": run_id, "firstSeq": 0, "seconds": 3}, lambda_context
    )
    assert [row["seq"] for row in written["committed"]] == [0, 1, 2] and written["failed"] == []
    stored = handler.lambda_handler({"drill": "rows", "runId": run_id}, lambda_context)
    assert stored == {"runId": run_id, "seqs": [0, 1, 2]}
    assert cloud.cw.list_metrics(Namespace=contract.NAMESPACE)["Metrics"] == []
