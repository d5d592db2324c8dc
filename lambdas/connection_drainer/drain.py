"""Decide which sessions to terminate, and terminate them with `pg_terminate_backend`.

After a writer is demoted its clients keep sessions open to what is now a read-only secondary;
terminating them makes pools reconnect through DNS to the new writer. Catalog changes replicate to
every region, so the drain acts on sessions, never on roles or databases.

Never terminated: our own session, non-client backends (replication, autovacuum, background
workers), sessions whose type we are not privileged to see, protected roles (`rdsadmin` always), superuser sessions, and sessions outside the
requested databases/users.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from connection_drainer import SERVICE
from connection_drainer.events import DrainRequest
from drcommon.db import describe_error, sqlstate
from drcommon.observability import get_logger

logger = get_logger(SERVICE)

SPARED_OWN_SESSION = "own_session"
SPARED_NOT_CLIENT_BACKEND = "not_client_backend"
# pg_stat_activity hides backend_type (NULL) of other roles' sessions from a role without
# pg_read_all_stats; RDS's master user has it. Unknown sessions are never terminated.
SPARED_NOT_VISIBLE = "not_visible"
SPARED_PROTECTED_USER = "protected_user"
SPARED_SUPERUSER = "superuser"
SPARED_DATABASE_NOT_SELECTED = "database_not_selected"
SPARED_USER_NOT_SELECTED = "user_not_selected"

CLIENT_BACKEND = "client backend"
# pg_terminate_backend(pid, timeout) waits up to `timeout` ms for the backend to exit (PG >= 14),
# so "terminated" means gone, not merely signalled.
TERMINATE_WAIT_MS = 1000

LIST_SESSIONS_SQL = (
    "SELECT a.pid, a.usename, a.datname, a.backend_type, COALESCE(r.rolsuper, false) "
    "FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid"
)
TERMINATE_SQL = "SELECT pg_terminate_backend(CAST(:pid AS integer), CAST(:wait_ms AS bigint))"


@dataclass(frozen=True)
class Session:
    """One row of pg_stat_activity, reduced to what the decision needs."""

    pid: int
    username: str | None
    database: str | None
    backend_type: str | None
    superuser: bool = False


@dataclass
class DrainReport:
    """What one drain did (counts only: session details stay in the database's own logs)."""

    region: str
    endpoint: str
    dry_run: bool
    grace_period_seconds: float
    candidates: int = 0
    terminated: int = 0
    unconfirmed: int = 0
    failed: int = 0
    spared: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the Lambda's response)."""
        return {
            "region": self.region,
            "endpoint": self.endpoint,
            "dryRun": self.dry_run,
            "gracePeriodSeconds": self.grace_period_seconds,
            "candidates": self.candidates,
            "terminated": self.terminated,
            "unconfirmed": self.unconfirmed,
            "failed": self.failed,
            "spared": dict(sorted(self.spared.items())),
        }


def spare_reason(
    session: Session,
    *,
    own_pid: int,
    protected_users: frozenset[str],
    databases: frozenset[str] | None,
    users: frozenset[str] | None,
) -> str | None:
    """Why `session` must not be terminated, or None when it is an application session to drain."""
    if session.pid == own_pid:
        return SPARED_OWN_SESSION
    if session.backend_type is None:
        return SPARED_NOT_VISIBLE
    if session.backend_type != CLIENT_BACKEND:
        return SPARED_NOT_CLIENT_BACKEND
    if session.username in protected_users:
        return SPARED_PROTECTED_USER
    if session.superuser:
        return SPARED_SUPERUSER
    if databases is not None and session.database not in databases:
        return SPARED_DATABASE_NOT_SELECTED
    if users is not None and session.username not in users:
        return SPARED_USER_NOT_SELECTED
    return None


def plan(
    sessions: Iterable[Session],
    *,
    own_pid: int,
    protected_users: frozenset[str],
    databases: frozenset[str] | None = None,
    users: frozenset[str] | None = None,
) -> tuple[list[Session], Counter[str]]:
    """Split sessions into (to terminate, spared counts by reason)."""
    targets: list[Session] = []
    spared: Counter[str] = Counter()
    for session in sessions:
        reason = spare_reason(
            session,
            own_pid=own_pid,
            protected_users=protected_users,
            databases=databases,
            users=users,
        )
        if reason is None:
            targets.append(session)
        else:
            spared[reason] += 1
    return targets, spared


def list_sessions(conn: Any) -> tuple[int, list[Session]]:
    """(our backend pid, every session on the server)."""
    own_pid = conn.run("SELECT pg_backend_pid()")[0][0]
    sessions = [
        Session(pid=row[0], username=row[1], database=row[2], backend_type=row[3], superuser=row[4])
        for row in conn.run(LIST_SESSIONS_SQL)
    ]
    return own_pid, sessions


def drain(
    conn: Any,
    request: DrainRequest,
    *,
    protected_users: frozenset[str],
    sleep: Callable[[float], None] = time.sleep,
) -> DrainReport:
    """Wait the grace period, then terminate every application session the request selects.

    Sessions are listed *after* the grace period, so clients that left meanwhile are not counted
    and clients that arrived meanwhile are drained too. A termination the server refuses (e.g. a
    role we may not signal) is counted as failed and the drain goes on.
    """
    report = DrainReport(
        region=request.region,
        endpoint=str(request.endpoint),
        dry_run=request.dry_run,
        grace_period_seconds=request.grace_period_seconds,
    )
    if request.grace_period_seconds > 0:
        sleep(request.grace_period_seconds)
    own_pid, sessions = list_sessions(conn)
    targets, spared = plan(
        sessions,
        own_pid=own_pid,
        protected_users=protected_users,
        databases=request.databases,
        users=request.users,
    )
    report.candidates = len(targets)
    report.spared = dict(spared)
    if request.dry_run:
        return report
    for session in targets:
        try:
            gone = conn.run(TERMINATE_SQL, pid=session.pid, wait_ms=TERMINATE_WAIT_MS)[0][0]
        except Exception as exc:
            report.failed += 1
            logger.warning(
                "could not terminate session",
                extra={"pid": session.pid, "sqlstate": sqlstate(exc), "error": describe_error(exc)},
            )
            continue
        if gone:
            report.terminated += 1
        else:
            # false: the pid was no longer a backend (it left on its own) or did not exit in time.
            report.unconfirmed += 1
    return report
