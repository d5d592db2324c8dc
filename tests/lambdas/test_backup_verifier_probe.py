"""The SQL probe of a restored cluster, against the real PostgreSQL 15 of the test session.

The restored data keeps the password of the moment the snapshot was taken: after a rotation the
probe must fall back from AWSCURRENT to AWSPREVIOUS, which needs a real server to tell a
password failure (SQLSTATE 28P01) from anything else.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from backup_verifier.probe import RestoredCluster, SqlProbe, availability_probe
from drcommon import contract, db


def _target(server: Any, *, endpoint: str | None = None) -> RestoredCluster:
    return RestoredCluster(
        cluster_id="aurora-dr-verify-dev-20260101000000",
        instance_id="aurora-dr-verify-dev-20260101000000-1",
        region="us-west-2",
        status="available",
        instance_status="available",
        endpoint=endpoint or server.host,
        port=server.port,
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
    assert result.ok, result.detail
    assert "AWSCURRENT" in result.detail


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
    assert result.ok, result.detail
    assert "AWSPREVIOUS" in result.detail


def test_sql_probe_reports_missing_schema(postgres_server: Any) -> None:
    # GIVEN a restored database without the application's tables
    empty = postgres_server.create_database()

    # WHEN the probe runs
    result = _probe(postgres_server, {"AWSCURRENT": postgres_server.admin_password}, empty)(
        _target(postgres_server)
    )

    # THEN it fails, saying what is missing
    assert not result.ok
    assert "missing" in result.detail


def test_sql_probe_reports_a_bad_login_without_the_password(postgres_server: Any) -> None:
    # GIVEN neither secret version matches
    passwords = {"AWSCURRENT": "wrong-one", "AWSPREVIOUS": "wrong-two"}

    # WHEN the probe runs
    result = _probe(postgres_server, passwords, postgres_server.admin_database)(
        _target(postgres_server)
    )

    # THEN it fails with the SQLSTATE and never echoes a password
    assert not result.ok
    assert "28P01" in result.detail
    assert "wrong-" not in result.detail


def test_availability_probe_needs_cluster_and_instance_available() -> None:
    # GIVEN / WHEN / THEN: the default probe is a status check
    target = RestoredCluster("c", "c-1", "us-west-2", "available", "available", None, None)
    assert availability_probe(target).ok
    assert not availability_probe(
        RestoredCluster("c", "c-1", "us-west-2", "available", "creating", None, None)
    ).ok
