"""Secret rotation: four idempotent steps against the writer behind the secret's host, the global
writer endpoint (real PostgreSQL, moto Secrets Manager with a DR replica; no RDS API at all)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import secrets
import uuid
import zipfile
from types import SimpleNamespace
from typing import Any

import boto3
import pg8000.native
import pytest
from aws_fixtures import log_records
from awsfakes import DR_REGION, GLOBAL_CLUSTER_ID, PRIMARY_REGION
from pg8000.native import identifier, literal

from drcommon import db
from secret_rotation import handler
from secret_rotation import rotation as rotation_module
from secret_rotation.events import STEPS, EventError, parse_event
from secret_rotation.rotation import EXCLUDED_PASSWORD_CHARACTERS, RotationError, Rotator
from secret_rotation.settings import Settings, SettingsError

SECRET_ID = "aurora-dr-test-master"


class DemotableWriter:
    """Connections to the test server that can be made to look like a demoted cluster: while
    `in_recovery` is set, `pg_is_in_recovery()` answers true (what the global writer endpoint's
    old target answers while a role change is under way), and every statement is recorded."""

    def __init__(self, connect: Any) -> None:
        self._connect = connect
        self.in_recovery = False
        self.statements: list[str] = []
        self.connections: list[_Recorded] = []

    def __call__(self, credentials: db.DbCredentials) -> Any:
        self.connections.append(_Recorded(self._connect(credentials), self))
        return self.connections[-1]

    def left_open(self) -> int:
        """How many of the connections handed out were never closed."""
        return sum(not conn.closed for conn in self.connections)


class _Recorded:
    def __init__(self, conn: Any, writer: DemotableWriter) -> None:
        self._conn, self._writer = conn, writer
        self.closed = False

    def run(self, sql: str, **params: Any) -> Any:
        self._writer.statements.append(sql)
        if "pg_is_in_recovery" in sql and self._writer.in_recovery:
            return [[True]]
        return self._conn.run(sql, **params)

    def close(self) -> None:
        self.closed = True
        self._conn.close()


def placeholder_rotation_lambda() -> str:
    """A moto Lambda to name as rotation function (moto records the invocations, runs nothing)."""
    iam = boto3.client("iam", region_name=PRIMARY_REGION)
    role = iam.create_role(
        RoleName="rotation",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("placeholder.py", "def handler(event, context):\n    return None\n")
    return boto3.client("lambda", region_name=PRIMARY_REGION).create_function(
        FunctionName="rotation",
        Runtime="python3.12",
        Role=role,
        Handler="placeholder.handler",
        Code={"ZipFile": archive.getvalue()},
    )["FunctionArn"]


@pytest.fixture
def world(aws, postgres_server):
    """A login role on the test server, its secret (replicated to the DR region) whose host is the
    server (standing in for the global writer endpoint), rotation enabled with a pending token."""
    return make_world(postgres_server, *postgres_server.create_role())


def make_world(postgres_server, role: str, password: str) -> SimpleNamespace:
    """The `world` of `role` (which exists on the server with `password`); needs moto running."""
    sm = boto3.client("secretsmanager", region_name=PRIMARY_REGION)
    secret = postgres_server.secret_dict(role, password)
    secret["globalClusterIdentifier"] = GLOBAL_CLUSTER_ID
    sm.create_secret(
        Name=SECRET_ID,
        SecretString=json.dumps(secret),
        AddReplicaRegions=[{"Region": DR_REGION}],
    )
    token = str(uuid.uuid4())
    # What Secrets Manager does before invoking createSecret: a version staged AWSPENDING without
    # a value. moto does the same for a rotation Lambda it does not run (no Docker).
    sm.rotate_secret(
        SecretId=SECRET_ID,
        ClientRequestToken=token,
        RotationLambdaARN=placeholder_rotation_lambda(),
        RotationRules={"AutomaticallyAfterDays": 30},
    )
    settings = Settings(local_region=PRIMARY_REGION, ca_bundle=postgres_server.ca_path)
    writer = DemotableWriter(
        functools.partial(
            db.connect, ssl_context=db.build_ssl_context(postgres_server.ca_path), timeout=3
        )
    )
    rotator = Rotator(settings, secretsmanager=sm, connect=writer)
    return SimpleNamespace(
        sm=sm,
        writer=writer,
        rotator=rotator,
        token=token,
        role=role,
        old_password=password,
        server=postgres_server,
    )


def run_step(world, name: str) -> Any:
    """Run one rotation step for the world's token; returns its outcome (the Lambda's response),
    which always names the step it ran."""
    event = {"SecretId": SECRET_ID, "ClientRequestToken": world.token, "Step": name}
    outcome = world.rotator.rotate(parse_event(event))
    assert outcome.as_dict()["step"] == name
    return outcome


def step(world, name: str) -> str:
    """Run one rotation step for the world's token; returns the action taken."""
    return run_step(world, name).action


def can_log_in(world, password: str) -> bool:
    """True when the role logs in to the test server with `password`."""
    try:
        world.server.connect(world.role, password).close()
    except pg8000.native.DatabaseError as exc:
        if db.is_auth_failure(exc):
            return False
        raise
    return True


def stages(world) -> dict[str, list[str]]:
    """VersionIdsToStages of the secret."""
    return world.sm.describe_secret(SecretId=SECRET_ID)["VersionIdsToStages"]


def test_a_full_rotation_changes_the_password_on_the_current_writer(world):
    """GIVEN a secret whose host is the global writer endpoint WHEN the four steps run, each
    invoked twice THEN the new password works, the old one does not, AWSCURRENT moved, and every
    second invocation was a no-op."""

    # createSecret
    assert step(world, "createSecret") == "created"
    pending = json.loads(
        world.sm.get_secret_value(
            SecretId=SECRET_ID, VersionId=world.token, VersionStage="AWSPENDING"
        )["SecretString"]
    )
    assert step(world, "createSecret") == "already_pending"
    again = world.sm.get_secret_value(SecretId=SECRET_ID, VersionId=world.token)["SecretString"]
    assert json.loads(again)["password"] == pending["password"]
    new_password = pending["password"]
    assert new_password != world.old_password and len(new_password) == 32
    assert not set(new_password) & set(EXCLUDED_PASSWORD_CHARACTERS)
    assert pending["host"] == world.server.host and pending["username"] == world.role

    # setSecret: against the writer behind the secret's host, which the response names
    writer = f"{world.server.host}:{world.server.port}"
    assert run_step(world, "setSecret").as_dict() == {
        "step": "setSecret",
        "action": "password_set",
        "target": writer,
    }
    assert can_log_in(world, new_password) and not can_log_in(world, world.old_password)
    again = run_step(world, "setSecret")
    assert (again.action, again.target) == ("already_set", writer)
    assert can_log_in(world, new_password)

    # testSecret
    assert run_step(world, "testSecret").as_dict() == {
        "step": "testSecret",
        "action": "tested",
        "target": writer,
    }
    assert step(world, "testSecret") == "tested"

    # finishSecret
    old_version = next(v for v, s in stages(world).items() if "AWSCURRENT" in s)
    assert step(world, "finishSecret") == "finished"
    assert "AWSCURRENT" in stages(world)[world.token]
    assert "AWSPREVIOUS" in stages(world)[old_version]
    assert step(world, "finishSecret") == "already_current"
    current = json.loads(world.sm.get_secret_value(SecretId=SECRET_ID)["SecretString"])
    assert current["password"] == new_password  # the AWSCURRENT value (the default stage)

    # Every session a step opened was closed: the Lambda's connections do not outlive a step.
    assert world.writer.connections and world.writer.left_open() == 0
    # Any step of a finished rotation is a no-op, without touching the database.
    statements = len(world.writer.statements)
    assert step(world, "setSecret") == "already_current"
    assert len(world.writer.statements) == statements

    # The DR replica serves the new value (replication is Secrets Manager's job).
    replica = boto3.client("secretsmanager", region_name=DR_REGION)
    replicated = replica.get_secret_value(SecretId=SECRET_ID, VersionStage="AWSCURRENT")
    assert json.loads(replicated["SecretString"]) == current


def test_create_secret_asks_secrets_manager_for_the_configured_length_and_every_type(world):
    # GIVEN a rotation configured for 40-character passwords
    settings = dataclasses.replace(world.rotator.settings, password_length=40)
    rotator = Rotator(settings, secretsmanager=world.sm, connect=world.writer)
    asked: list[dict[str, Any]] = []
    world.sm.meta.events.register(
        "provide-client-params.secrets-manager.GetRandomPassword",
        lambda params, **_: asked.append(dict(params)),
    )
    # WHEN createSecret runs
    event = {"SecretId": SECRET_ID, "ClientRequestToken": world.token, "Step": "createSecret"}
    assert rotator.rotate(parse_event(event)).action == "created"
    # THEN the password is generated by Secrets Manager at that length, with at least one
    # character of each type (moto may not enforce the flag, so the request is checked) and
    # none that breaks a connection string
    assert asked == [
        {
            "PasswordLength": 40,
            "ExcludeCharacters": EXCLUDED_PASSWORD_CHARACTERS,
            "RequireEachIncludedType": True,
        }
    ]
    pending = world.sm.get_secret_value(SecretId=SECRET_ID, VersionId=world.token)
    assert len(json.loads(pending["SecretString"])["password"]) == 40


def test_each_step_logs_its_outcome_and_a_current_version_says_there_is_nothing_to_do(world):
    # GIVEN a rotation's first step, then its version made current (as a finished rotation
    # leaves it)
    with log_records(rotation_module.logger) as records:
        step(world, "createSecret")
        old = next(v for v, s in stages(world).items() if "AWSCURRENT" in s)
        world.sm.update_secret_version_stage(
            SecretId=SECRET_ID,
            VersionStage="AWSCURRENT",
            MoveToVersionId=world.token,
            RemoveFromVersionId=old,
        )
        # WHEN a step of it is invoked again
        assert step(world, "setSecret") == "already_current"
    # THEN the log has each step's outcome, the audit trail of a rotation
    logged = [(r.getMessage(), r.step, getattr(r, "action", None)) for r in records]  # type: ignore[attr-defined]
    assert logged == [
        ("rotation step done", "createSecret", "created"),
        ("version is already AWSCURRENT: nothing to do", "setSecret", None),
    ]


def test_set_secret_targets_the_global_writer_endpoint(world):
    """GIVEN the secret's host (the global writer endpoint) WHEN setSecret runs THEN it changed
    the password there and reports that endpoint."""
    step(world, "createSecret")
    outcome = world.rotator.rotate(
        parse_event({"SecretId": SECRET_ID, "ClientRequestToken": world.token, "Step": "setSecret"})
    )
    assert outcome.target == f"{world.server.host}:{world.server.port}"


def test_rotation_waits_while_the_global_endpoint_reaches_a_demoted_cluster(world):
    """GIVEN the global writer endpoint still reaches a cluster in recovery (a role change under
    way, or DNS not yet moved) WHEN setSecret runs THEN RotationError, no ALTER ROLE, and the old
    password still logs in; WHEN testSecret runs THEN the same refusal."""
    step(world, "createSecret")
    world.writer.in_recovery = True
    writer = f"{world.server.host}:{world.server.port}"
    refusal = (
        f"^{writer} answered from a cluster in recovery, not the writer .*retry after the role"
    )
    with pytest.raises(RotationError, match=refusal):
        step(world, "setSecret")
    assert not any("ALTER ROLE" in sql for sql in world.writer.statements)
    assert can_log_in(world, world.old_password)
    world.writer.in_recovery = False
    assert step(world, "setSecret") == "password_set"
    world.writer.in_recovery = True
    with pytest.raises(RotationError, match=refusal):
        step(world, "testSecret")
    with pytest.raises(RotationError, match=refusal):
        step(world, "setSecret")  # "already set" is only said of the writer


def test_set_secret_refuses_a_pending_version_for_another_user(world):
    """GIVEN an AWSPENDING version that names another user WHEN setSecret runs THEN it refuses
    before it connects: this function changes one user's password, never another's."""
    current = world.sm.get_secret_value(SecretId=SECRET_ID, VersionStage="AWSCURRENT")
    pending = json.loads(current["SecretString"])
    pending.update(username="someone_else", password="Another-Password-1")
    world.sm.put_secret_value(
        SecretId=SECRET_ID,
        ClientRequestToken=world.token,
        SecretString=json.dumps(pending),
        VersionStages=["AWSPENDING"],
    )
    with pytest.raises(
        RotationError,
        match=r"^AWSPENDING and AWSCURRENT name different users: this function rotates one user$",
    ):
        step(world, "setSecret")
    assert world.writer.statements == []


def test_set_secret_names_the_writer_and_the_cause_when_it_cannot_reach_it(world):
    """GIVEN the writer does not answer (not a login failure) WHEN setSecret runs THEN the error
    names the endpoint and why, and nothing is retried with the other credentials."""
    step(world, "createSecret")

    def unreachable(credentials: db.DbCredentials) -> Any:
        raise TimeoutError("timed out")

    world.rotator.connect = unreachable
    writer = f"{world.server.host}:{world.server.port}"
    with pytest.raises(RotationError, match=f"^cannot reach the writer {writer}: .*timed out"):
        step(world, "setSecret")


def test_set_secret_fails_clearly_when_no_credentials_log_in(world):
    """GIVEN neither AWSCURRENT nor AWSPENDING logs in WHEN setSecret runs THEN a clear error."""
    step(world, "createSecret")
    admin = world.server.connect()
    try:
        admin.run(db.alter_role_password_sql(world.role, "Somebody-Else-Changed-It-1"))
    finally:
        admin.close()
    writer = f"{world.server.host}:{world.server.port}"
    with pytest.raises(RotationError) as excinfo:
        step(world, "setSecret")
    # ... naming the writer, both versions and what PostgreSQL answered
    assert str(excinfo.value).startswith(
        f"cannot log in to the writer {writer} with AWSCURRENT or AWSPENDING: "
    )
    assert "password authentication failed" in str(excinfo.value)


def test_test_secret_fails_when_the_pending_password_does_not_log_in(world):
    """GIVEN createSecret ran but setSecret did not WHEN testSecret runs THEN RotationError."""
    step(world, "createSecret")
    with pytest.raises(RotationError, match="AWSPENDING cannot log in") as excinfo:
        step(world, "testSecret")
    # ... naming the writer and what PostgreSQL answered
    writer = f"{world.server.host}:{world.server.port}"
    assert str(excinfo.value).startswith(f"AWSPENDING cannot log in to the writer {writer}: ")
    assert "password authentication failed" in str(excinfo.value)


def test_set_secret_sends_a_verifier_so_ddl_logging_records_no_password(world):
    """GIVEN DDL statement logging on for the rotated role's sessions (the stack's cluster
    parameters set `log_statement=ddl`, and RDS exports the log to CloudWatch Logs) WHEN
    setSecret changes the password THEN the new password logs in, and the server log holds the
    ALTER ROLE with a SCRAM-SHA-256 verifier and neither the new nor the old password."""
    with contextlib.closing(world.server.superuser_connect()) as su:
        su.run(f"ALTER ROLE {identifier(world.role)} SET log_statement = 'ddl'")
    step(world, "createSecret")
    pending = json.loads(
        world.sm.get_secret_value(
            SecretId=SECRET_ID, VersionId=world.token, VersionStage="AWSPENDING"
        )["SecretString"]
    )["password"]

    assert step(world, "setSecret") == "password_set"

    assert can_log_in(world, pending) and not can_log_in(world, world.old_password)
    logged = [
        line for line in world.server.log_text().splitlines() if identifier(world.role) in line
    ]
    assert any("ALTER ROLE" in line and "'SCRAM-SHA-256$4096:" in line for line in logged), (
        "the DDL was not logged: the test would prove nothing"
    )
    log = world.server.log_text()
    assert pending not in log and world.old_password not in log


# Quotes and backslashes RDS would never generate, but an operator-made role or secret can hold.
HOSTILE_PASSWORD = "it's \"quoted\" \\' ; DROP ROLE admin; --\\"


def test_set_secret_quotes_a_hostile_role_and_password(aws, postgres_server):
    """GIVEN a role named o'brien"x\\ and an AWSPENDING password full of quotes and backslashes
    WHEN setSecret and testSecret run THEN ALTER ROLE took both verbatim: the role logs in with
    the new password, not the old one, and testSecret sees exactly that user."""
    role, old_password = postgres_server.create_role(f"r{secrets.token_hex(3)}_o'brien\"x\\")
    world = make_world(postgres_server, role, old_password)
    current = json.loads(
        world.sm.get_secret_value(SecretId=SECRET_ID, VersionStage="AWSCURRENT")["SecretString"]
    )
    world.sm.put_secret_value(
        SecretId=SECRET_ID,
        ClientRequestToken=world.token,
        SecretString=json.dumps({**current, "password": HOSTILE_PASSWORD}),
        VersionStages=["AWSPENDING"],
    )

    assert step(world, "setSecret") == "password_set"
    assert can_log_in(world, HOSTILE_PASSWORD) and not can_log_in(world, old_password)
    assert step(world, "testSecret") == "tested"


def test_test_secret_fails_when_the_session_runs_as_another_user(world):
    """GIVEN the pending login works but its sessions run as another role (ALTER ROLE ... SET
    role) WHEN testSecret runs THEN RotationError naming both users."""
    step(world, "createSecret")
    pending = json.loads(
        world.sm.get_secret_value(
            SecretId=SECRET_ID, VersionId=world.token, VersionStage="AWSPENDING"
        )["SecretString"]
    )
    other, _ = world.server.create_role(login=False)
    with contextlib.closing(world.server.superuser_connect()) as su:
        su.run(f"GRANT {identifier(other)} TO {identifier(world.role)}")
        su.run(f"ALTER ROLE {identifier(world.role)} SET role = {literal(other)}")
        su.run(db.alter_role_password_sql(world.role, pending["password"]))

    with pytest.raises(RotationError, match=f"logged in as '{other}', expected '{world.role}'"):
        step(world, "testSecret")


# --- state checks: clear errors, no mutation ------------------------------------------------------


def test_rotation_refuses_a_secret_without_rotation_enabled(world):
    """GIVEN rotation disabled WHEN a step runs THEN RotationError and no new version."""
    world.sm.cancel_rotate_secret(SecretId=SECRET_ID)
    before = stages(world)
    with pytest.raises(RotationError, match="rotation is not enabled"):
        step(world, "createSecret")
    assert stages(world) == before


def test_rotation_refuses_a_token_that_is_not_staged(world):
    """GIVEN a token Secrets Manager never staged WHEN a step runs THEN RotationError, no change."""
    before = stages(world)
    world.token = str(uuid.uuid4())
    with pytest.raises(RotationError, match="has no stage for rotation"):
        step(world, "createSecret")
    assert stages(world) == before


def test_rotation_refuses_a_secret_that_has_no_version_yet():
    """GIVEN rotation on a secret that has no value yet (DescribeSecret then leaves out
    VersionIdsToStages) WHEN a step runs THEN the same RotationError as for an unknown token,
    and nothing is read or written."""
    token = str(uuid.uuid4())
    calls: list[str] = []

    class SecretWithoutVersions:
        def describe_secret(self, SecretId: str) -> dict[str, Any]:
            calls.append("DescribeSecret")
            return {"ARN": SecretId, "Name": SecretId, "RotationEnabled": True}

        def __getattr__(self, operation: str) -> Any:
            pytest.fail(f"no {operation} expected")

    rotator = Rotator(
        Settings(local_region=PRIMARY_REGION),
        secretsmanager=SecretWithoutVersions(),
        connect=lambda creds: pytest.fail("no database access expected"),
    )
    event = {"SecretId": SECRET_ID, "ClientRequestToken": token, "Step": "createSecret"}
    with pytest.raises(RotationError, match=f"version {token} .* has no stage for rotation"):
        rotator.rotate(parse_event(event))
    assert calls == ["DescribeSecret"]


def test_rotation_refuses_a_version_that_is_not_staged_awspending(world):
    """GIVEN a token whose version carries another stage (not AWSPENDING, not AWSCURRENT) WHEN each
    step runs THEN RotationError saying so, before RDS, the database or any stage is touched."""
    elsewhere = str(uuid.uuid4())
    world.sm.put_secret_value(
        SecretId=SECRET_ID,
        ClientRequestToken=elsewhere,
        SecretString=json.dumps({"password": "not-for-rotation"}),
        VersionStages=["OPERATOR-TEST"],
    )
    before = stages(world)
    world.token = elsewhere
    for name in STEPS:  # one world for all four: each refusal changes nothing
        with pytest.raises(
            RotationError,
            match=f"version {elsewhere} of secret '{SECRET_ID}' is not staged AWSPENDING",
        ):
            step(world, name)
        assert stages(world) == before, name
    assert world.writer.statements == []  # no step reached the database


def test_rotation_refuses_to_run_on_the_replica(world):
    """GIVEN the function runs in the DR region against the replica WHEN a step runs THEN
    RotationError naming the primary region, and nothing is written."""
    replica = boto3.client("secretsmanager", region_name=DR_REGION)
    rotator = Rotator(
        Settings(local_region=DR_REGION),
        secretsmanager=replica,
        connect=lambda creds: pytest.fail("no database access expected"),
    )
    before = stages(world)
    event = {"SecretId": SECRET_ID, "ClientRequestToken": world.token, "Step": "createSecret"}
    with pytest.raises(RotationError, match="replica of us-east-1"):
        rotator.rotate(parse_event(event))
    assert stages(world) == before


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "missing SecretId, ClientRequestToken, Step"),
        ({"SecretId": SECRET_ID, "ClientRequestToken": "t" * 36}, "missing Step"),
        (
            {"SecretId": SECRET_ID, "ClientRequestToken": "t" * 36, "Step": "deleteSecret"},
            "'Step' must be one of",
        ),
        ({"SecretId": "", "ClientRequestToken": "t" * 36, "Step": "setSecret"}, "'SecretId'"),
        (
            {"SecretId": SECRET_ID, "ClientRequestToken": "short", "Step": "setSecret"},
            "'ClientRequestToken'",
        ),
        ("createSecret", "JSON object"),
        ({"source": "aws.events", "detail-type": "Scheduled Event"}, "not a Secrets Manager"),
    ],
)
def test_malformed_events_fail_before_any_aws_call(
    aws, event, message, monkeypatch, lambda_context
):
    """GIVEN a malformed or unknown event WHEN the handler runs THEN EventError and the secret is
    untouched (no client is even created)."""
    monkeypatch.setenv("LOCAL_REGION", PRIMARY_REGION)
    sm = boto3.client("secretsmanager", region_name=PRIMARY_REGION)
    sm.create_secret(Name=SECRET_ID, SecretString=json.dumps({"password": "unchanged"}))
    before = sm.describe_secret(SecretId=SECRET_ID)["VersionIdsToStages"]
    with monkeypatch.context() as patch:
        patch.setattr(
            handler, "CLIENT_FACTORY", lambda *a, **k: pytest.fail("no AWS client for a bad event")
        )
        with pytest.raises(EventError, match=message):
            handler.lambda_handler(event, lambda_context)
    assert sm.describe_secret(SecretId=SECRET_ID)["VersionIdsToStages"] == before


def test_the_handler_runs_create_secret_with_real_clients(world, monkeypatch, lambda_context):
    """GIVEN the wired environment WHEN Secrets Manager invokes createSecret THEN a pending
    version is stored."""
    monkeypatch.setenv("LOCAL_REGION", PRIMARY_REGION)
    monkeypatch.setenv("DB_CA_BUNDLE", world.server.ca_path)
    # The handler's own factory and timeouts, without clients cached by another test.
    monkeypatch.setattr(handler, "CLIENT_FACTORY", dataclasses.replace(handler.CLIENT_FACTORY))
    event = {"SecretId": SECRET_ID, "ClientRequestToken": world.token, "Step": "createSecret"}
    assert handler.lambda_handler(event, lambda_context)["action"] == "created"
    pending = world.sm.get_secret_value(
        SecretId=SECRET_ID, VersionId=world.token, VersionStage="AWSPENDING"
    )
    assert json.loads(pending["SecretString"])["password"] != world.old_password


# --- settings ----------------------------------------------------------------------------------


def test_settings_defaults_and_errors():
    """GIVEN the environment WHEN read THEN defaults apply and bad values name the variable."""
    env = {"LOCAL_REGION": "us-east-1"}
    settings = Settings.from_env(env)
    assert (settings.password_length, settings.connect_timeout_seconds) == (32, 5.0)
    for changes, message in [
        ({"LOCAL_REGION": ""}, "LOCAL_REGION is required"),
        ({"PASSWORD_LENGTH": "8"}, "PASSWORD_LENGTH='8' must be between 16 and 99"),
        ({"PASSWORD_LENGTH": "20.5"}, "PASSWORD_LENGTH must be an integer"),
    ]:
        with pytest.raises(SettingsError, match=message):
            Settings.from_env({**env, **changes})


def test_the_handlers_aws_client_keeps_its_timeouts_and_attempts(fake_aws_env, postgres_server):
    """GIVEN the handler's client factory WHEN it builds the rotator THEN one Secrets Manager
    client (connect 5 s, read 10 s, 4 attempts: what botocore made of the original
    `max_attempts: 3`) and no RDS client: the function reaches no API but Secrets Manager."""
    settings = Settings(local_region=PRIMARY_REGION, ca_bundle=postgres_server.ca_path)
    built: list[str] = []
    factory = dataclasses.replace(handler.CLIENT_FACTORY)

    def recording(service: str, region: str, **kwargs: Any) -> Any:
        built.append(service)
        return factory(service, region, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(handler, "CLIENT_FACTORY", recording)
        rotator = handler.build_rotator(settings)
    client = rotator.secretsmanager
    assert (client.meta.config.connect_timeout, client.meta.config.read_timeout) == (5, 10)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert built == ["secretsmanager"]
