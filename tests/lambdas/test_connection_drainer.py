"""Connection drainer: which sessions die, which are spared, and why; events and settings."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pg8000.native
import pytest
from aws_fixtures import log_records

from connection_drainer import drain as drain_module
from connection_drainer import handler
from connection_drainer.drain import (
    CLIENT_BACKEND,
    LIST_SESSIONS_SQL,
    SPARED_DATABASE_NOT_SELECTED,
    SPARED_NOT_CLIENT_BACKEND,
    SPARED_NOT_VISIBLE,
    SPARED_OWN_SESSION,
    SPARED_PROTECTED_USER,
    SPARED_SUPERUSER,
    SPARED_USER_NOT_SELECTED,
    Session,
    drain,
    plan,
)
from connection_drainer.events import DrainRequest, EventError, parse_event
from connection_drainer.settings import Settings, SettingsError
from drcommon import db
from drcommon.db import Endpoint

PRIMARY, DR = "us-east-1", "us-west-2"
SECRET_ID = "aurora-dr-test-db"
ENV = {
    "LOCAL_REGION": DR,
    "PEER_REGION": PRIMARY,
    "CLUSTER_ENDPOINT": "dr.cluster-y.us-west-2.rds.amazonaws.com",
    "PEER_CLUSTER_ENDPOINT": "primary.cluster-x.us-east-1.rds.amazonaws.com",
    "DB_SECRET_ID": SECRET_ID,
}


def settings_for(server=None, **changes: str) -> Settings:
    """Drainer settings; with a server, its 'peer' (primary) endpoint is the test server."""
    env = dict(ENV)
    if server is not None:
        env["PEER_CLUSTER_ENDPOINT"] = f"{server.host}:{server.port}"
        env["DB_CA_BUNDLE"] = server.ca_path
    env.update(changes)
    return Settings.from_env(env)


class RecordingSleep:
    """An injected sleep that records instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def is_alive(conn: pg8000.native.Connection) -> bool:
    """True when the session still answers."""
    try:
        return conn.run("SELECT 1") == [[1]]
    except (pg8000.native.InterfaceError, pg8000.native.DatabaseError, OSError):
        return False


@pytest.fixture(scope="module")
def roles(postgres_server) -> dict[str, tuple[str, str]]:
    """Login roles for the module: `app`, `other` and an (unprivileged) `rdsadmin` look-alike."""
    with contextlib.closing(postgres_server.superuser_connect()) as su:
        if not su.run("SELECT 1 FROM pg_roles WHERE rolname = 'rdsadmin'"):
            su.run("CREATE ROLE rdsadmin LOGIN PASSWORD 'rdsadmin-Test-1'")
    return {
        "app": postgres_server.create_role(),
        "other": postgres_server.create_role(),
        "rdsadmin": ("rdsadmin", "rdsadmin-Test-1"),
    }


@pytest.fixture
def sessions(postgres_server, roles):
    """Open sessions on a fresh database: two of `app`, one of `other`, one of `rdsadmin`, one
    superuser, and one `app` session on another database. Yields (connections, names)."""
    server = postgres_server
    database = server.create_database()
    elsewhere = server.admin_database
    (app_role, app_pw), (other_role, other_pw) = roles["app"], roles["other"]
    conns = {
        "app1": server.connect(app_role, app_pw, database),
        "app2": server.connect(app_role, app_pw, database),
        "other": server.connect(other_role, other_pw, database),
        "rdsadmin": server.connect("rdsadmin", "rdsadmin-Test-1", database),
        "superuser": server.superuser_connect(database),
        "elsewhere": server.connect(app_role, app_pw, elsewhere),
    }
    conns_info = {"database": database, "app_role": app_role, "other_role": other_role}
    yield conns, conns_info
    for conn in conns.values():
        db.close_quietly(conn)


def drainer_connection(server):
    """The drainer's own session: the RDS-master-like admin, verified TLS."""
    creds = db.DbCredentials.from_secret(server.secret_dict())
    return db.connect(creds, ssl_context=db.build_ssl_context(server.ca_path), timeout=3)


# --- against a real PostgreSQL -------------------------------------------------------------------


def test_drain_terminates_selected_sessions_and_spares_the_rest(postgres_server, sessions):
    """GIVEN app, other-role, rdsadmin, superuser and other-database sessions WHEN draining one
    database for the `app` role THEN only the two app sessions die; the rest are spared by reason.
    """
    conns, info = sessions
    request = DrainRequest(
        region=PRIMARY,
        endpoint=Endpoint(postgres_server.host, postgres_server.port),
        grace_period_seconds=0,
        databases=frozenset({info["database"]}),
        users=frozenset({info["app_role"]}),
    )
    own = drainer_connection(postgres_server)
    try:
        report = drain(
            own, request, protected_users=frozenset({"rdsadmin"}), sleep=RecordingSleep()
        )
        assert is_alive(own), "the drainer must never terminate its own session"
    finally:
        own.close()

    assert report.terminated == 2 and report.failed == 0 and report.candidates == 2
    assert report.spared[SPARED_OWN_SESSION] == 1
    assert report.spared[SPARED_PROTECTED_USER] == 1
    assert report.spared[SPARED_SUPERUSER] == 1
    assert report.spared[SPARED_USER_NOT_SELECTED] == 1  # `other` in the drained database
    assert report.spared[SPARED_DATABASE_NOT_SELECTED] >= 1  # `elsewhere` (+ other tests' sessions)
    assert report.spared[SPARED_NOT_CLIENT_BACKEND] >= 1  # checkpointer, walwriter, autovacuum...
    assert not is_alive(conns["app1"]) and not is_alive(conns["app2"])
    for name in ("other", "rdsadmin", "superuser", "elsewhere"):
        assert is_alive(conns[name]), name


def test_drain_without_user_filter_terminates_every_application_role(postgres_server, sessions):
    """GIVEN sessions of two application roles WHEN draining their database THEN both die, and the
    protected and superuser sessions survive."""
    conns, info = sessions
    request = DrainRequest(
        region=PRIMARY,
        endpoint=Endpoint(postgres_server.host, postgres_server.port),
        grace_period_seconds=0,
        databases=frozenset({info["database"]}),
    )
    own = drainer_connection(postgres_server)
    try:
        report = drain(
            own, request, protected_users=frozenset({"rdsadmin"}), sleep=RecordingSleep()
        )
    finally:
        own.close()
    assert report.terminated == 3
    assert not any(is_alive(conns[name]) for name in ("app1", "app2", "other"))
    assert is_alive(conns["rdsadmin"]) and is_alive(conns["superuser"])


def test_dry_run_terminates_nothing(postgres_server, sessions):
    """GIVEN a dry run WHEN draining THEN candidates are counted and every session survives."""
    conns, info = sessions
    request = DrainRequest(
        region=PRIMARY,
        endpoint=Endpoint(postgres_server.host, postgres_server.port),
        grace_period_seconds=0,
        databases=frozenset({info["database"]}),
        dry_run=True,
    )
    own = drainer_connection(postgres_server)
    try:
        report = drain(
            own, request, protected_users=frozenset({"rdsadmin"}), sleep=RecordingSleep()
        )
    finally:
        own.close()
    assert report.candidates == 3 and report.terminated == 0
    assert all(is_alive(conn) for conn in conns.values())


class RecordingConnection:
    """A real connection that logs each statement it runs into a shared timeline."""

    def __init__(self, conn: pg8000.native.Connection, timeline: list[str]) -> None:
        self.conn = conn
        self.timeline = timeline

    def run(self, sql: str, **params: Any) -> Any:
        """Log `sql`, then run it."""
        self.timeline.append("list" if sql == LIST_SESSIONS_SQL else "sql")
        return self.conn.run(sql, **params)


def test_the_grace_period_is_waited_before_sessions_are_listed(postgres_server, sessions, roles):
    """GIVEN a 2.5 s grace period during which a client connects WHEN draining THEN the injected
    sleep gets 2.5 before the sessions are listed, so the newcomer is a candidate too."""
    _, info = sessions
    timeline: list[str] = []
    newcomers: list[pg8000.native.Connection] = []

    def sleep(seconds: float) -> None:
        timeline.append(f"sleep {seconds}")
        newcomers.append(postgres_server.connect(*roles["app"], info["database"]))

    request = DrainRequest(
        region=PRIMARY,
        endpoint=Endpoint(postgres_server.host, postgres_server.port),
        grace_period_seconds=2.5,
        databases=frozenset({info["database"]}),
        dry_run=True,
    )
    own = drainer_connection(postgres_server)
    try:
        report = drain(
            RecordingConnection(own, timeline),
            request,
            protected_users=frozenset({"rdsadmin"}),
            sleep=sleep,
        )
    finally:
        own.close()
        for conn in newcomers:
            conn.close()
    assert timeline[0] == "sleep 2.5"  # the grace period first, and only once ...
    assert [event for event in timeline if event.startswith("sleep")] == ["sleep 2.5"]
    assert timeline.count("list") == 1  # ... then the one listing of the sessions
    assert report.candidates == 4  # app1, app2, other, and the newcomer


def test_the_handler_drains_the_cluster_named_by_region(
    aws, postgres_server, sessions, monkeypatch, lambda_context
):
    """GIVEN the wired environment and the secret in the drainer's region WHEN invoked with a region
    and a database THEN that cluster's application sessions are terminated and counted."""
    conns, info = sessions
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PEER_CLUSTER_ENDPOINT", f"{postgres_server.host}:{postgres_server.port}")
    monkeypatch.setenv("DB_CA_BUNDLE", postgres_server.ca_path)
    monkeypatch.setenv("DRAIN_GRACE_PERIOD_SECONDS", "0")
    # The handler's own factory and timeouts, without clients cached by another test.
    monkeypatch.setattr(handler, "CLIENT_FACTORY", dataclasses.replace(handler.CLIENT_FACTORY))
    boto3.client("secretsmanager", region_name=DR).create_secret(
        Name=SECRET_ID, SecretString=json.dumps(postgres_server.secret_dict())
    )

    result = handler.lambda_handler(
        {"region": PRIMARY, "databases": [info["database"]]}, lambda_context
    )

    # THEN the response (the coordinator records it in its outcome) says what happened where
    assert result == {
        "region": PRIMARY,
        "endpoint": f"{postgres_server.host}:{postgres_server.port}",
        "dryRun": False,
        "gracePeriodSeconds": 0.0,
        "candidates": 3,
        "terminated": 3,
        "unconfirmed": 0,
        "failed": 0,
        "spared": result["spared"],
    }
    assert result["spared"][SPARED_PROTECTED_USER] == 1
    assert not is_alive(conns["app1"]) and is_alive(conns["rdsadmin"])


# --- pure decisions ------------------------------------------------------------------------------


def session(pid: int, **kw: Any) -> Session:
    """A client-backend session of `app` on `appdb` unless overridden."""
    values: dict[str, Any] = {
        "username": "app",
        "database": "appdb",
        "backend_type": CLIENT_BACKEND,
        "superuser": False,
    }
    values.update(kw)
    return Session(pid=pid, **values)


def test_plan_spares_by_reason_in_a_fixed_order():
    """GIVEN one session per reason WHEN planned THEN each is spared for the first reason that
    applies, and only the plain application session is a target."""
    sessions = [
        session(1),  # our own
        session(2, backend_type="walsender", username="app"),
        session(3, backend_type="autovacuum launcher", username=None, database=None),
        session(4, username="rdsadmin", superuser=True),
        session(5, username="postgres", superuser=True),
        session(6, database="otherdb"),
        session(7, username="reporting"),
        session(8),
        session(9, backend_type=None),  # another role's session, hidden from us
    ]
    targets, spared = plan(
        sessions,
        own_pid=1,
        protected_users=frozenset({"rdsadmin"}),
        databases=frozenset({"appdb"}),
        users=frozenset({"app"}),
    )
    assert [s.pid for s in targets] == [8]
    assert spared == {
        SPARED_OWN_SESSION: 1,
        SPARED_NOT_CLIENT_BACKEND: 2,
        SPARED_NOT_VISIBLE: 1,
        SPARED_PROTECTED_USER: 1,
        SPARED_SUPERUSER: 1,
        SPARED_DATABASE_NOT_SELECTED: 1,
        SPARED_USER_NOT_SELECTED: 1,
    }


class ScriptedConnection:
    """Lists one application session per pid of `outcomes`; terminating each answers as
    scripted: True (gone), False (not confirmed gone) or "refused" (the server raises)."""

    def __init__(self, outcomes: dict[int, bool | str]) -> None:
        self.outcomes = outcomes
        self.terminated: list[int] = []

    def run(self, sql: str, **params: Any) -> list[list[Any]]:
        if "pg_backend_pid()" in sql and "pg_stat_activity" not in sql:
            return [[1]]
        if "pg_stat_activity" in sql:
            return [[pid, "app", "appdb", CLIENT_BACKEND, False] for pid in self.outcomes]
        pid = params["pid"]
        self.terminated.append(pid)
        if self.outcomes[pid] == "refused":
            raise pg8000.native.DatabaseError({"C": "42501", "M": "permission denied"})
        return [[self.outcomes[pid]]]


@pytest.fixture
def drain_log() -> Iterator[list[logging.LogRecord]]:
    """The records the drainer's logger emits during a test."""
    with log_records(drain_module.logger) as records:
        yield records


def test_a_refused_termination_is_counted_and_the_drain_goes_on(drain_log):
    """GIVEN the server refuses the first two terminations and two sessions are not seen to go
    WHEN draining THEN every session was still tried, and each outcome is counted."""
    outcomes: dict[int, bool | str] = {10: "refused", 11: "refused", 12: True, 13: False}
    outcomes.update({14: False, 15: True})
    conn = ScriptedConnection(outcomes)
    request = DrainRequest(region=PRIMARY, endpoint=Endpoint("x"), grace_period_seconds=0)
    report = drain(conn, request, protected_users=frozenset(), sleep=RecordingSleep())
    records = drain_log
    assert conn.terminated == [10, 11, 12, 13, 14, 15]
    assert (report.candidates, report.terminated, report.failed, report.unconfirmed) == (6, 2, 2, 2)
    # ... and each refusal is logged with the session and the server's reason: the report only
    # counts them, the log is where on-call learns why
    refusals = [
        (r.levelname, r.getMessage(), r.pid, r.sqlstate, r.error)  # type: ignore[attr-defined]
        for r in records
        if r.getMessage() == "could not terminate session"
    ]
    assert refusals == [
        (
            "WARNING",
            "could not terminate session",
            pid,
            "42501",
            "DatabaseError: 42501 permission denied",
        )
        for pid in (10, 11)
    ]


@pytest.mark.parametrize(("grace", "waits"), [(0, []), (0.5, [0.5]), (1, [1]), (40, [40])])
def test_any_positive_grace_period_is_waited_once_and_none_is_not_waited(grace, waits):
    # GIVEN a drain request with this grace period (the events allow 0 to 40 s)
    request = DrainRequest(region=PRIMARY, endpoint=Endpoint("x"), grace_period_seconds=grace)
    slept = RecordingSleep()
    # WHEN draining / THEN exactly that wait, and none at all for 0
    drain(ScriptedConnection({10: True}), request, protected_users=frozenset(), sleep=slept)
    assert slept.calls == waits


# --- events and settings -------------------------------------------------------------------------


def test_events_name_a_configured_cluster_by_region_or_endpoint():
    """GIVEN a region or a configured endpoint WHEN parsed THEN the request targets that cluster."""
    settings = settings_for()
    by_region = parse_event({"region": PRIMARY, "gracePeriodSeconds": 0}, settings)
    by_endpoint = parse_event(
        {"endpoint": "PRIMARY.cluster-x.us-east-1.rds.amazonaws.com", "users": ["app"]}, settings
    )
    assert by_region.endpoint == by_endpoint.endpoint == settings.peer_cluster_endpoint
    assert by_endpoint.region == PRIMARY
    assert by_endpoint.users == frozenset({"app"})
    assert by_region.grace_period_seconds == 0
    assert parse_event({"region": DR}, settings).grace_period_seconds == 5.0  # the default


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "exactly one of 'region' or 'endpoint'"),
        ({"region": PRIMARY, "endpoint": "x"}, "exactly one of"),
        ({"region": "eu-west-1"}, "'region' must be"),
        ({"endpoint": "evil.example.com"}, "not one of the configured cluster endpoints"),
        ({"endpoint": "bad host!"}, "'endpoint'"),
        ({"region": PRIMARY, "database": ["appdb"]}, r"unknown event key\(s\) \['database'\]"),
        ({"region": PRIMARY, "gracePeriodSeconds": 600}, "between 0 and 40"),
        ({"region": PRIMARY, "gracePeriodSeconds": "5"}, "must be a number"),
        ({"region": PRIMARY, "users": []}, "non-empty list"),
        ({"region": PRIMARY, "databases": "appdb"}, "non-empty list"),
        ({"region": PRIMARY, "dryRun": "yes"}, "true or false"),
        (["region"], "JSON object"),
    ],
)
def test_malformed_events_are_rejected_with_the_reason(event, message):
    """GIVEN a malformed event WHEN parsed THEN EventError says what is wrong."""
    with pytest.raises(EventError, match=message):
        parse_event(event, settings_for())


def test_a_malformed_event_makes_no_aws_call(monkeypatch, lambda_context):
    """GIVEN a malformed event WHEN the handler runs THEN it fails before creating any AWS client."""
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)

    def no_aws(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("no AWS client may be created for a malformed event")

    monkeypatch.setattr(handler, "CLIENT_FACTORY", no_aws)
    with pytest.raises(EventError, match="exactly one of"):
        handler.lambda_handler({"users": ["app"]}, lambda_context)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"DB_SECRET_ID": " "}, "DB_SECRET_ID is required"),
        ({"PEER_REGION": DR}, "must differ"),
        ({"CLUSTER_ENDPOINT": "x:0"}, "CLUSTER_ENDPOINT"),
        ({"DRAIN_GRACE_PERIOD_SECONDS": "-1"}, "DRAIN_GRACE_PERIOD_SECONDS='-1' must be between"),
    ],
)
def test_settings_errors_name_the_variable(changes, message):
    """GIVEN a missing or malformed variable WHEN read THEN SettingsError names it."""
    with pytest.raises(SettingsError, match=message):
        settings_for(**changes)


def test_rdsadmin_is_always_protected_and_more_roles_can_be_added():
    """GIVEN PROTECTED_USERS WHEN read THEN rdsadmin plus the listed roles are protected."""
    assert settings_for().protected_users == frozenset({"rdsadmin"})
    assert settings_for(PROTECTED_USERS="ops, backup").protected_users == frozenset(
        {"rdsadmin", "ops", "backup"}
    )


def test_the_handlers_aws_clients_keep_their_timeouts_and_attempts(fake_aws_env):
    """GIVEN the handler's client factory WHEN it builds the Secrets Manager client THEN connect
    3 s, read 5 s, 4 attempts (what botocore made of the original `max_attempts: 3`)."""
    client = dataclasses.replace(handler.CLIENT_FACTORY)("secretsmanager", DR)
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (3, 5)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}
