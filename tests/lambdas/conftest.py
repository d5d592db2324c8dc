"""Shared fixtures for the Lambda tests: a real TLS PostgreSQL 16, fake AWS, a Lambda context."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import boto3
import pytest
from aws_fixtures import mocked
from awsfakes import PRIMARY_REGION
from pg import PostgresServer, PostgresUnavailable, start_postgres

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away TLS PostgreSQL for the whole session (see `pg.PostgresServer`), of the
    engine major the stack deploys (a server of another major fails every SQL test).

    Gives host, port, `ca_path` (the CA that signed the server cert), `untrusted_ca_path`, the
    RDS-master-like `admin_user`/`admin_password`/`admin_database`, and helpers `connect()`,
    `create_role()`, `create_database()`, `secret_dict()`. Tests that change server-wide state
    (role passwords, terminated sessions) must use their own roles/databases.

    In CI (`CI=true`) a server that cannot start FAILS the tests; elsewhere they are skipped.
    """
    try:
        with start_postgres() as server:
            yield server
    except PostgresUnavailable as exc:
        if _in_ci():
            pytest.fail(f"PostgreSQL is required in CI but could not start: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable: {exc}")


@pytest.fixture
def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake AWS credentials and region so no test can reach a real account."""
    for key, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def aws(fake_aws_env: None) -> Iterator[None]:
    """moto's in-memory AWS (all services, no Docker) for the duration of one test."""
    from moto import mock_aws  # imported lazily: moto is slow to import

    with mocked(mock_aws):
        yield


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda context object our handlers and Powertools read."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the (simulated) Lambda timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    """A Lambda context with a 30 s budget."""
    return FakeLambdaContext()


# --- shared by the health-checker test modules -------------------------------------------------

HEALTH_SECRET_ID = "aurora-dr-test-db"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def database(postgres_server) -> str:
    """A database for the health-checker runs (heartbeat upserts make reuse harmless)."""
    return postgres_server.create_database()


@pytest.fixture
def cloud(aws, postgres_server, database):
    """moto Secrets Manager + CloudWatch in the primary region, with the DB secret."""
    sm = boto3.client("secretsmanager", region_name=PRIMARY_REGION)
    sm.create_secret(
        Name=HEALTH_SECRET_ID,
        SecretString=json.dumps(postgres_server.secret_dict(database=database)),
    )
    return SimpleNamespace(
        sm=sm,
        cw=boto3.client("cloudwatch", region_name=PRIMARY_REGION),
        database=database,
    )
