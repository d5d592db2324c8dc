"""Secrets Manager four-step rotation of the master password, against the *current* writer.

Secrets Manager may invoke any step again (retries, timeouts), so each step first checks whether
its work is already done and then does nothing:

* createSecret: an AWSPENDING value under the token already exists -> keep it.
* setSecret: the AWSPENDING password already logs in -> the database already has it.
* testSecret: read-only by nature.
* finishSecret: the token already carries AWSCURRENT -> done.
* any step: the token already carries AWSCURRENT -> the rotation is finished, nothing to do.

The writer is reached through the host stored in the secret: the global cluster's writer endpoint,
which "is automatically updated by Aurora to route requests to the current writer instance of the
primary DB cluster", after a managed switchover or failover too ("Connecting to Amazon Aurora Global
Database", Aurora User Guide). No RDS API call, so the function needs no `rds` interface endpoint.
Its DNS may lag a role change ("can take a long time depending upon your Domain Name Service (DNS)
caching duration", same page): before it writes, a step checks that the session it got is not in
recovery (`pg_is_in_recovery()`), and refuses until the endpoint reaches the new writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from drcommon import db
from drcommon.db import AWSCURRENT, AWSPENDING, DbCredentials, Endpoint
from drcommon.observability import get_logger
from secret_rotation import SERVICE
from secret_rotation.events import (
    CREATE_SECRET,
    FINISH_SECRET,
    SET_SECRET,
    TEST_SECRET,
    RotationEvent,
)
from secret_rotation.settings import Settings

logger = get_logger(SERVICE)

# RDS rejects / @ " and space in master passwords (and its documentation lists ' as well); the
# backslash is excluded so the password survives connection strings and shell quoting unchanged.
EXCLUDED_PASSWORD_CHARACTERS = "/@\"' \\"  # noqa: S105 - a character set, not a password

ConnectFn = Callable[[DbCredentials], Any]


class RotationError(RuntimeError):
    """The secret or the database is not in a state this step can act on."""


@dataclass(frozen=True)
class StepOutcome:
    """What a step did: `action` is a past-tense verb or an `already_*` no-op."""

    step: str
    action: str
    target: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the Lambda's response)."""
        return {"step": self.step, "action": self.action, "target": self.target}


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


class Rotator:
    """Runs rotation steps with injected clients (Secrets Manager, database)."""

    def __init__(self, settings: Settings, *, secretsmanager: Any, connect: ConnectFn) -> None:
        self.settings = settings
        self.secretsmanager = secretsmanager
        self.connect = connect

    # --- entry point -----------------------------------------------------------------------

    def rotate(self, event: RotationEvent) -> StepOutcome:
        """Check the secret's rotation state, then run the event's step (idempotently)."""
        versions = self._check_state(event)
        if AWSCURRENT in versions[event.token]:
            logger.info("version is already AWSCURRENT: nothing to do", extra={"step": event.step})
            return StepOutcome(event.step, "already_current")
        handler = {
            CREATE_SECRET: self.create_secret,
            SET_SECRET: self.set_secret,
            TEST_SECRET: self.test_secret,
            FINISH_SECRET: lambda e: self.finish_secret(e, versions),
        }[event.step]
        outcome = handler(event)
        logger.info("rotation step done", extra=outcome.as_dict())
        return outcome

    def _check_state(self, event: RotationEvent) -> dict[str, list[str]]:
        """Validate rotation state; returns VersionIdsToStages. Read-only."""
        metadata = self.secretsmanager.describe_secret(SecretId=event.secret_id)
        primary = metadata.get("PrimaryRegion")
        if primary and primary != self.settings.local_region:
            raise RotationError(
                f"secret {event.secret_id!r} is a replica of {primary}: rotate it in its primary "
                f"region, not {self.settings.local_region}"
            )
        if not metadata.get("RotationEnabled"):
            raise RotationError(f"rotation is not enabled on secret {event.secret_id!r}")
        versions: dict[str, list[str]] = metadata.get("VersionIdsToStages", {})
        if event.token not in versions:
            raise RotationError(
                f"version {event.token} of secret {event.secret_id!r} has no stage for rotation"
            )
        stages = versions[event.token]
        if AWSCURRENT not in stages and AWSPENDING not in stages:
            raise RotationError(
                f"version {event.token} of secret {event.secret_id!r} is not staged AWSPENDING"
            )
        return versions

    # --- steps -------------------------------------------------------------------------------

    def create_secret(self, event: RotationEvent) -> StepOutcome:
        """Store a new password under the token as AWSPENDING, unless one is already there."""
        current = db.read_secret_json(self.secretsmanager, event.secret_id, AWSCURRENT)
        DbCredentials.from_secret(current)  # a malformed current secret cannot be rotated
        try:
            db.read_secret_json(self.secretsmanager, event.secret_id, AWSPENDING, event.token)
            return StepOutcome(event.step, "already_pending")
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
        password = self.secretsmanager.get_random_password(
            PasswordLength=self.settings.password_length,
            ExcludeCharacters=EXCLUDED_PASSWORD_CHARACTERS,
            RequireEachIncludedType=True,
        )["RandomPassword"]
        # Keep every other key (engine, host, dbname, globalClusterIdentifier) as it is.
        pending = {**current, "password": password}
        self.secretsmanager.put_secret_value(
            SecretId=event.secret_id,
            ClientRequestToken=event.token,
            SecretString=json.dumps(pending),
            VersionStages=[AWSPENDING],
        )
        return StepOutcome(event.step, "created")

    def set_secret(self, event: RotationEvent) -> StepOutcome:
        """Set the AWSPENDING password on the current writer, unless it already logs in."""
        current = db.read_credentials(self.secretsmanager, event.secret_id, AWSCURRENT)
        pending = db.read_credentials(self.secretsmanager, event.secret_id, AWSPENDING, event.token)
        target = writer_endpoint(current)
        if pending.username != current.username:
            raise RotationError(
                "AWSPENDING and AWSCURRENT name different users: this function rotates one user"
            )
        try:
            conn = self.connect(pending.at(target))
        except Exception as exc:
            if not db.is_auth_failure(exc):
                raise RotationError(
                    f"cannot reach the writer {target}: {db.describe_error(exc)}"
                ) from exc
        else:
            try:
                require_writer(conn, target)
            finally:
                db.close_quietly(conn)
            return StepOutcome(event.step, "already_set", str(target))
        try:
            conn = self.connect(current.at(target))
        except Exception as exc:
            raise RotationError(
                f"cannot log in to the writer {target} with AWSCURRENT or AWSPENDING: "
                f"{db.describe_error(exc)}"
            ) from exc
        try:
            require_writer(conn, target)
            conn.run(db.alter_role_password_sql(current.username, pending.password))
        finally:
            db.close_quietly(conn)
        return StepOutcome(event.step, "password_set", str(target))

    def test_secret(self, event: RotationEvent) -> StepOutcome:
        """Log in to the current writer with AWSPENDING and check who we are."""
        pending = db.read_credentials(self.secretsmanager, event.secret_id, AWSPENDING, event.token)
        target = writer_endpoint(pending)
        try:
            conn = self.connect(pending.at(target))
        except Exception as exc:
            raise RotationError(
                f"AWSPENDING cannot log in to the writer {target}: {db.describe_error(exc)}"
            ) from exc
        try:
            require_writer(conn, target)
            user = conn.run("SELECT current_user")[0][0]
        finally:
            db.close_quietly(conn)
        if user != pending.username:
            raise RotationError(f"logged in as {user!r}, expected {pending.username!r}")
        return StepOutcome(event.step, "tested", str(target))

    def finish_secret(self, event: RotationEvent, versions: dict[str, list[str]]) -> StepOutcome:
        """Move AWSCURRENT to the token's version (Secrets Manager then moves AWSPREVIOUS)."""
        current_version = next(
            (version for version, stages in versions.items() if AWSCURRENT in stages), None
        )
        kwargs = {
            "SecretId": event.secret_id,
            "VersionStage": AWSCURRENT,
            "MoveToVersionId": event.token,
        }
        if current_version is not None:
            kwargs["RemoveFromVersionId"] = current_version
        self.secretsmanager.update_secret_version_stage(**kwargs)
        return StepOutcome(event.step, "finished")


# --- the writer ----------------------------------------------------------------------------------


def writer_endpoint(credentials: DbCredentials) -> Endpoint:
    """Where the writer is reached: the secret's host, the global writer endpoint (module
    docstring)."""
    return Endpoint(host=credentials.host, port=credentials.port)


def require_writer(conn: Any, target: Endpoint) -> None:
    """Raise `RotationError` unless the session on `target` is on a writer (not in recovery): a
    global endpoint whose DNS still names a demoted cluster during a role change."""
    if conn.run("SELECT pg_is_in_recovery()")[0][0]:
        raise RotationError(
            f"{target} answered from a cluster in recovery, not the writer (a role change is "
            "under way or the global writer endpoint's DNS has not followed it yet): retry after "
            "the role change"
        )
