"""The restore probe: SQL against a cluster the backup verifier restored from a snapshot.

The verifier runs outside the VPC (RDS, S3, SNS and CloudWatch APIs need no interface endpoint
there) and cannot reach a restored cluster; it asks this VPC-attached checker instead, with
`{contract.RESTORE_PROBE_KEY: {"host": ..., "port": ...}}`. The request carries no credential: the checker
reads the stack's secret itself. It only logs in to a restored cluster of this stack in its own
region (the verifier's `<prefix>-<environment>-` identifiers, an RDS cluster endpoint name), so
the invoke cannot aim the master login at another host.

The restored data keeps the password of the moment the snapshot was taken, so a rotation since
then is handled by falling back to the secret's AWSPREVIOUS version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drcommon import contract, db
from drcommon.db import Endpoint


class RestoreRequestError(ValueError):
    """A restore probe request the checker refuses (its shape, or a host not restored by us)."""


def restore_target(request: Any, *, environment: str, region: str) -> Endpoint:
    """The restored cluster to probe; raises `RestoreRequestError` unless `request` is
    `{"host": <a restored cluster endpoint of this stack in region>, "port": <int>}`."""
    if not isinstance(request, Mapping) or set(request) != {"host", "port"}:
        raise RestoreRequestError('a restore probe request is {"host": ..., "port": ...}')
    host, port = request["host"], request["port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise RestoreRequestError("a restore probe request's port is an integer in 1..65535")
    stem = re.escape(f"{contract.VERIFIER_RESOURCES.prefix}-{environment}-")
    cluster_endpoint = (
        rf"{stem}[a-z0-9-]+\.cluster-[a-z0-9]+\.{re.escape(region)}\.rds\.amazonaws\.com"
    )
    if not isinstance(host, str) or not re.fullmatch(cluster_endpoint, host):
        raise RestoreRequestError(
            f"restore probes log in only to a restored cluster of this stack in {region} "
            f"({contract.VERIFIER_RESOURCES.prefix}-{environment}-*.cluster-*.{region}"
            f".rds.amazonaws.com); got {host!r}"
        )
    return Endpoint(host=host, port=port)


@dataclass
class SqlProbe:
    """Log in to the restored cluster and check that the application schema is there.

    `read_credentials(stage)` returns the stack's login for a secret version stage;
    `connect(credentials)` opens a verified-TLS connection (`drcommon.db.connect`).
    """

    read_credentials: Callable[[str], db.DbCredentials]
    connect: Callable[[db.DbCredentials], Any]
    table: str = contract.HEARTBEAT_TABLE

    def __call__(self, target: Endpoint) -> dict[str, Any]:
        """Log in (AWSCURRENT, then AWSPREVIOUS on a password mismatch) and query; the answer
        has `contract.RESTORE_PROBE_RESULT_KEYS`. Never raises."""
        last_error = "no login attempted"
        for stage in (db.AWSCURRENT, db.AWSPREVIOUS):
            try:
                conn = self.connect(self.read_credentials(stage).at(target))
            except Exception as exc:
                # A rotated password only fails the login; anything else is final.
                last_error = f"{stage}: {db.describe_error(exc)}"
                if db.is_auth_failure(exc) and stage == db.AWSCURRENT:
                    continue
                return _answer(False, f"login to the restored cluster failed: {last_error}")
            try:
                present = conn.run("SELECT to_regclass(:name) IS NOT NULL", name=self.table)
                ok = bool(present and present[0][0])
                state = "present" if ok else "missing"
                return _answer(
                    ok, f"logged in with {stage}; table {self.table} {state} in the restored data"
                )
            except Exception as exc:
                return _answer(False, f"query failed: {db.describe_error(exc)}")
            finally:
                db.close_quietly(conn)
        return _answer(False, f"login to the restored cluster failed: {last_error}")


def _answer(ok: bool, detail: str) -> dict[str, Any]:
    return {"ok": ok, "detail": detail}


def sql_probe_from_secret(
    secretsmanager: Any, secret_id: str, connect: Callable[[db.DbCredentials], Any]
) -> SqlProbe:
    """A `SqlProbe` reading `secret_id` (this region's copy) for each stage it tries."""

    def read(stage: str) -> db.DbCredentials:
        return db.read_credentials(secretsmanager, secret_id, version_stage=stage)

    return SqlProbe(read_credentials=read, connect=connect)
