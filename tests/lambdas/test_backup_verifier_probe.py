"""The SQL probe of a restored cluster: the health checker's (real PostgreSQL of the test
session), asked by the verifier outside the VPC with the host and port only.

The restored data keeps the password of the moment the snapshot was taken: after a rotation the
probe must fall back from AWSCURRENT to AWSPREVIOUS, which needs a real server to tell a
password failure (SQLSTATE 28P01) from anything else.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from backup_verifier.probe import CheckerProbe, RestoredCluster, availability_probe
from drcommon import contract, db
from health_checker.restore import RestoreRequestError, SqlProbe, restore_target

RESTORED_HOST = "aurora-dr-verify-dev-20260101000000.cluster-c1x2.us-west-2.rds.amazonaws.com"


def _target(server: Any) -> db.Endpoint:
    return db.Endpoint(server.host, server.port)


def _restored(endpoint: str | None = RESTORED_HOST, port: int | None = 5432) -> RestoredCluster:
    return RestoredCluster(
        cluster_id="aurora-dr-verify-dev-20260101000000",
        instance_id="aurora-dr-verify-dev-20260101000000-1",
        region="us-west-2",
        status="available",
        instance_status="available",
        endpoint=endpoint,
        port=port,
    )


def _probe(server: Any, passwords: dict[str, str], database: str) -> SqlProbe:
    context = db.build_ssl_context(server.ca_path)

    def read(stage: str) -> db.DbCredentials:
        return db.DbCredentials.from_secret(
            server.secret_dict(password=passwords[stage], database=database)
        )

    return SqlProbe(
        read_credentials=read,
        connect=lambda credentials: db.connect(credentials, ssl_context=context, timeout=5),
    )


@pytest.fixture
def restored_database(postgres_server: Any) -> str:
    """A database standing in for the restored data, with the heartbeat table in it."""
    name = postgres_server.create_database()
    with contextlib.closing(postgres_server.connect(database=name)) as conn:
        conn.run(f"CREATE TABLE {contract.HEARTBEAT_TABLE} (id int PRIMARY KEY)")
    return name


def test_sql_probe_finds_the_application_schema(
    postgres_server: Any, restored_database: str
) -> None:
    # GIVEN a restored database holding the application's heartbeat table
    probe = _probe(
        postgres_server, {"AWSCURRENT": postgres_server.admin_password}, restored_database
    )

    # WHEN the probe logs in over verified TLS
    result = probe(_target(postgres_server))

    # THEN it reports the table present
    assert result["ok"], result["detail"]
    assert "AWSCURRENT" in result["detail"]


def test_sql_probe_falls_back_to_the_previous_password(
    postgres_server: Any, restored_database: str
) -> None:
    # GIVEN the secret was rotated after the snapshot: AWSCURRENT no longer matches the data
    passwords = {
        "AWSCURRENT": "rotated-after-the-snapshot",
        "AWSPREVIOUS": postgres_server.admin_password,
    }

    # WHEN the probe runs
    result = _probe(postgres_server, passwords, restored_database)(_target(postgres_server))

    # THEN it logged in with AWSPREVIOUS
    assert result["ok"], result["detail"]
    assert "AWSPREVIOUS" in result["detail"]


def test_sql_probe_reports_missing_schema(postgres_server: Any) -> None:
    # GIVEN a restored database without the application's tables
    empty = postgres_server.create_database()

    # WHEN the probe runs
    result = _probe(postgres_server, {"AWSCURRENT": postgres_server.admin_password}, empty)(
        _target(postgres_server)
    )

    # THEN it fails, saying what is missing
    assert not result["ok"]
    assert "missing" in result["detail"]


def test_sql_probe_reports_a_bad_login_without_the_password(postgres_server: Any) -> None:
    # GIVEN neither secret version matches
    passwords = {"AWSCURRENT": "wrong-one", "AWSPREVIOUS": "wrong-two"}

    # WHEN the probe runs
    result = _probe(postgres_server, passwords, postgres_server.admin_database)(
        _target(postgres_server)
    )

    # THEN it fails with the SQLSTATE and never echoes a password
    assert not result["ok"]
    assert "28P01" in result["detail"]
    assert "wrong-" not in result["detail"]


def test_availability_probe_needs_cluster_and_instance_available() -> None:
    # GIVEN / WHEN / THEN: the default probe is a status check
    target = RestoredCluster("c", "c-1", "us-west-2", "available", "available", None, None)
    assert availability_probe(target).ok
    assert not availability_probe(
        RestoredCluster("c", "c-1", "us-west-2", "available", "creating", None, None)
    ).ok


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"host": "attacker.example.com", "port": 5432}, "only to a restored cluster"),
        (  # the stack's own writer: not a restored cluster
            {"host": "aurora-dr-dev-dr.cluster-c1x2.us-west-2.rds.amazonaws.com", "port": 5432},
            "only to a restored cluster",
        ),
        (  # another stack's restore
            {"host": RESTORED_HOST.replace("-dev-", "-prod-"), "port": 5432},
            "only to a restored cluster",
        ),
        (  # a restore in the other region
            {"host": RESTORED_HOST.replace("us-west-2", "us-east-1"), "port": 5432},
            "only to a restored cluster",
        ),
        ({"host": RESTORED_HOST, "port": "5432"}, "port is an integer"),
        ({"host": RESTORED_HOST, "port": 5432, "password": "x"}, "restore probe request is"),
    ],
)
def test_the_checker_logs_in_only_to_a_restored_cluster_of_its_stack(request_, message) -> None:
    """GIVEN a restore probe request naming another host (or carrying anything but host and
    port) WHEN the checker reads it THEN it refuses before any secret is read: the invoke cannot
    aim the master login elsewhere."""
    with pytest.raises(RestoreRequestError, match=message):
        restore_target(request_, environment="dev", region="us-west-2")


def test_the_checker_accepts_a_restored_cluster_of_its_stack() -> None:
    target = restore_target(
        {"host": RESTORED_HOST, "port": 5432}, environment="dev", region="us-west-2"
    )
    assert target == db.Endpoint(RESTORED_HOST, 5432)


def test_the_verifier_asks_the_checker_with_host_and_port_only() -> None:
    """GIVEN a restored cluster WHEN the verifier's probe runs THEN the checker is asked with the
    host and port, nothing else (no credential in the payload), and its verdict is the probe's."""
    sent: list[dict[str, Any]] = []

    def invoke(payload: bytes) -> tuple[str | None, str]:
        sent.append(json.loads(payload))
        return None, json.dumps({"ok": True, "detail": "logged in with AWSCURRENT"})

    result = CheckerProbe(invoke=invoke)(_restored())
    assert sent == [{contract.RESTORE_PROBE_KEY: {"host": RESTORED_HOST, "port": 5432}}]
    assert (result.ok, result.detail) == (True, "logged in with AWSCURRENT")


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        ((("Unhandled", '{"errorType": "RestoreRequestError"}')), "health checker reported"),
        ((None, "not json"), "unexpected answer"),
        ((None, json.dumps({"ok": "yes", "detail": "x"})), "unexpected answer"),
        ((None, json.dumps({"ok": True})), "unexpected answer"),
    ],
)
def test_a_checker_without_a_usable_answer_fails_the_probe(answer, detail) -> None:
    """GIVEN a checker that errs or answers in another shape WHEN probed THEN a failed probe."""
    result = CheckerProbe(invoke=lambda payload: answer)(_restored())
    assert not result.ok and detail in result.detail


def test_an_unreachable_checker_fails_the_probe() -> None:
    def invoke(payload: bytes) -> tuple[str | None, str]:
        raise ClientError({"Error": {"Code": "TooManyRequestsException"}}, "Invoke")

    result = CheckerProbe(invoke=invoke)(_restored())
    assert not result.ok and "not reachable" in result.detail


def test_a_restored_cluster_without_endpoint_is_not_probed() -> None:
    result = CheckerProbe(invoke=lambda payload: pytest.fail("no invoke"))(_restored(endpoint=None))
    assert not result.ok and "has no endpoint" in result.detail
