"""Secrets Manager four-step rotation of the master password, against the *current* writer.

Secrets Manager may invoke any step again (retries, timeouts), so each step first checks whether
its work is already done and then does nothing:

* createSecret: an AWSPENDING value under the token already exists -> keep it.
* setSecret: the AWSPENDING password already logs in -> the database already has it.
* testSecret: read-only by nature.
* finishSecret: the token already carries AWSCURRENT -> done.
* any step: the token already carries AWSCURRENT -> the rotation is finished, nothing to do.

The host stored in the secret is *not* used: after a switchover or failover it names a cluster that
may now be a read-only secondary, which rejects `ALTER ROLE`. The writer is found at run time from
`describe_global_clusters` (the `IsWriter` member) and `describe_db_clusters` of that member, called
in the member's region.
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
from drcommon.topology import describe_global_cluster
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
RdsForRegion = Callable[[str], Any]


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
    """Runs rotation steps with injected clients (Secrets Manager, RDS per region, database)."""

    def __init__(
        self,
        settings: Settings,
        *,
        secretsmanager: Any,
        rds_for_region: RdsForRegion,
        connect: ConnectFn,
    ) -> None:
        self.settings = settings
        self.secretsmanager = secretsmanager
        self.rds_for_region = rds_for_region
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
        target = self.find_writer()
        current = db.read_credentials(self.secretsmanager, event.secret_id, AWSCURRENT)
        pending = db.read_credentials(self.secretsmanager, event.secret_id, AWSPENDING, event.token)
        if pending.username != current.username:
            raise RotationError(
                "AWSPENDING and AWSCURRENT name different users: this function rotates one user"
            )
        try:
            db.close_quietly(self.connect(pending.at(target)))
            return StepOutcome(event.step, "already_set", str(target))
        except Exception as exc:
            if not db.is_auth_failure(exc):
                raise RotationError(
                    f"cannot reach the writer {target}: {db.describe_error(exc)}"
                ) from exc
        try:
            conn = self.connect(current.at(target))
        except Exception as exc:
            raise RotationError(
                f"cannot log in to the writer {target} with AWSCURRENT or AWSPENDING: "
                f"{db.describe_error(exc)}"
            ) from exc
        try:
            conn.run(db.alter_role_password_sql(current.username, pending.password))
        finally:
            db.close_quietly(conn)
        return StepOutcome(event.step, "password_set", str(target))

    def test_secret(self, event: RotationEvent) -> StepOutcome:
        """Log in to the current writer with AWSPENDING and check who we are."""
        target = self.find_writer()
        pending = db.read_credentials(self.secretsmanager, event.secret_id, AWSPENDING, event.token)
        try:
            conn = self.connect(pending.at(target))
        except Exception as exc:
            raise RotationError(
                f"AWSPENDING cannot log in to the writer {target}: {db.describe_error(exc)}"
            ) from exc
        try:
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

    # --- the writer --------------------------------------------------------------------------

    def find_writer(self) -> Endpoint:
        """The cluster endpoint of the global writer, read from the RDS API now."""
        snapshot = describe_global_cluster(
            self.rds_for_region(self.settings.local_region), self.settings.global_cluster_id
        )
        if snapshot.failover_state is not None:
            raise RotationError(
                f"global cluster {snapshot.identifier!r} is {snapshot.failover_state.status}: "
                "retry after the role change"
            )
        member = snapshot.writer
        if member is None:
            raise RotationError(f"global cluster {snapshot.identifier!r} has no writer member")
        # Ask the member's own region: DescribeDBClusters only sees clusters of its region.
        clusters = self.rds_for_region(member.region).describe_db_clusters(
            DBClusterIdentifier=member.arn
        )["DBClusters"]
        if not clusters or not clusters[0].get("Endpoint"):
            raise RotationError(f"writer cluster {member.arn} has no endpoint")
        return Endpoint(host=clusters[0]["Endpoint"], port=int(clusters[0]["Port"]))
