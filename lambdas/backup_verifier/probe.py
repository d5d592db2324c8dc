"""How a restored cluster is judged usable: a pluggable probe.

* `availability_probe` (default): the restored cluster and its instance reached `available`.
  Needs nothing but the RDS API.
* `SqlProbe` (when `DB_SECRET_ID` is configured): logs in over verified TLS with the stack's
  credentials (via `drcommon.db`) and checks the application schema came back with the data.
  The snapshot keeps the password of the moment it was taken, so a rotation since then is
  handled by falling back to the secret's AWSPREVIOUS version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from backup_verifier import SERVICE
from drcommon import contract, db

AVAILABLE = "available"


@dataclass(frozen=True)
class RestoredCluster:
    """The throw-away cluster a probe is pointed at."""

    cluster_id: str
    instance_id: str
    region: str
    status: str
    instance_status: str
    endpoint: str | None
    port: int | None


@dataclass(frozen=True)
class ProbeResult:
    """A probe's verdict."""

    ok: bool
    detail: str


class RestoreProbe(Protocol):
    """Anything that can judge a restored cluster."""

    def __call__(self, target: RestoredCluster) -> ProbeResult:
        """Return whether `target` is usable, and why."""
        ...


def availability_probe(target: RestoredCluster) -> ProbeResult:
    """The restored cluster and its instance both reached `available`."""
    ok = target.status == AVAILABLE and target.instance_status == AVAILABLE
    return ProbeResult(
        ok, f"cluster {target.status}, instance {target.instance_status} ({target.cluster_id})"
    )


@dataclass
class SqlProbe:
    """Log in to the restored cluster and check that the application schema is there.

    `read_credentials(stage)` returns the stack's login for a secret version stage;
    `connect(credentials)` opens a verified-TLS connection (`drcommon.db.connect`).
    """

    read_credentials: Callable[[str], db.DbCredentials]
    connect: Callable[[db.DbCredentials], Any]
    table: str = contract.HEARTBEAT_TABLE

    def __call__(self, target: RestoredCluster) -> ProbeResult:
        """Log in (AWSCURRENT, then AWSPREVIOUS on a password mismatch) and query."""
        if not target.endpoint:
            return ProbeResult(False, f"restored cluster {target.cluster_id} has no endpoint")
        last_error = "no login attempted"
        for stage in (db.AWSCURRENT, db.AWSPREVIOUS):
            try:
                credentials = self.read_credentials(stage).at(target.endpoint, target.port)
                conn = self.connect(credentials)
            except Exception as exc:
                # A rotated password only fails the login; anything else is final.
                last_error = f"{stage}: {db.describe_error(exc)}"
                if db.is_auth_failure(exc) and stage == db.AWSCURRENT:
                    continue
                return ProbeResult(False, f"login to the restored cluster failed: {last_error}")
            try:
                present = conn.run("SELECT to_regclass(:name) IS NOT NULL", name=self.table)
                ok = bool(present and present[0][0])
                detail = (
                    f"logged in with {stage}; table {self.table} "
                    f"{'present' if ok else 'missing'} in the restored data"
                )
                return ProbeResult(ok, detail)
            except Exception as exc:
                return ProbeResult(False, f"query failed: {db.describe_error(exc)}")
            finally:
                db.close_quietly(conn)
        return ProbeResult(False, f"login to the restored cluster failed: {last_error}")


def sql_probe_from_secret(
    secretsmanager: Any, secret_id: str, *, connect_timeout: float = 10.0
) -> SqlProbe:
    """A `SqlProbe` reading `secret_id` (this region's replica) and using the layer's CA bundle."""

    def read(stage: str) -> db.DbCredentials:
        return db.read_credentials(secretsmanager, secret_id, version_stage=stage)

    def connect(credentials: db.DbCredentials) -> Any:
        # Bound at the login, not when the run starts: without a usable CA bundle the probe
        # fails (and the report says why) instead of the whole run.
        login = db.connector(
            SERVICE, timeout=connect_timeout, statement_timeout_ms=int(connect_timeout * 1000)
        )
        return login(credentials)

    return SqlProbe(read_credentials=read, connect=connect)
