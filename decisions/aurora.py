"""Pure decisions of `GlobalAurora`: parameter-group family and parameters, instance placement,
window checks and the master password's character set."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from stack.sizing import Sizing

ENGINE = "aurora-postgresql"
# The port every member cluster listens on (and the security groups open).
POSTGRES_PORT = 5432
# RDS rejects '/', '@', '"' and spaces in master passwords; everything else printable is fine.
PASSWORD_SPECIAL_CHARACTERS = "!#$%&*()-_=+[]{}<>:?.,;~^"  # noqa: S105 (a character set)
PASSWORD_LENGTH = 40
# The RDS certificate authority every instance presents; the Lambda layer ships its bundle.
CA_CERTIFICATE_IDENTIFIER = "rds-ca-rsa2048-g1"
_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Parameter:
    """One database parameter; every parameter here is dynamic, so applied immediately."""

    name: str
    value: str
    apply_method: str = "immediate"


def parameter_group_family(engine_version: str) -> str:
    """`16.6` -> `aurora-postgresql16`."""
    major = engine_version.split(".", 1)[0]
    if not major.isdigit():
        raise ValueError(f"engine version {engine_version!r} has no numeric major version")
    return f"{ENGINE}{major}"


def cluster_parameters(sizing: Sizing) -> list[Parameter]:
    """Cluster parameters of both member clusters.

    `rds.global_db_rpo` goes on both clusters: it only acts on whichever is primary, and after a
    switchover the new primary must keep the same RPO bound.

    `log_statement=ddl` records every role and schema change in the exported `postgresql` log
    (Checkov CKV2_AWS_27 asks for `log_statement` with `log_min_duration_statement`). RDS warns
    that anything but `none` needs "additional steps to prevent the exposure of passwords in the
    log files" (RDS User Guide, query logging): the rotation function never sends a clear-text
    password (`drcommon.db.alter_role_password_sql` sends a SCRAM verifier). An operator's
    manual `ALTER ROLE ... PASSWORD 'clear text'` would be logged: psql's `\\password` encrypts
    it first: "This makes sure that the new password does not appear in cleartext in the
    command history, the server log, or elsewhere" (psql reference).
    """
    parameters = [
        Parameter("rds.force_ssl", "1"),
        Parameter("log_statement", "ddl"),
        Parameter("log_min_duration_statement", str(sizing.slow_query_log_ms)),
        Parameter("log_lock_waits", "1"),
    ]
    if sizing.managed_rpo_seconds is not None:
        parameters.append(Parameter("rds.global_db_rpo", str(sizing.managed_rpo_seconds)))
    return parameters


def instance_zones(zones: Sequence[str], count: int) -> list[str]:
    """AZ of each instance: round-robin, so up to len(zones) instances sit in distinct AZs."""
    if not zones:
        raise ValueError("no availability zones to place instances in")
    return [zones[index % len(zones)] for index in range(count)]


def _minutes(window: str) -> tuple[int, int]:
    match = _WINDOW.match(window)
    if match is None:
        raise ValueError(f"not a daily window (hh:mm-hh:mm): {window!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return h1 * 60 + m1, h2 * 60 + m2


def windows_overlap(backup_window: str, maintenance_window: str) -> bool:
    """True when the daily backup window overlaps the time of day of the weekly maintenance
    window (RDS refuses overlapping windows). Both windows are read as spans within one day
    (start before end), as every sizing's are: a window across midnight is not supported."""
    start, end = _minutes(backup_window)
    day_part = maintenance_window.split("-")
    maintenance = f"{day_part[0].split(':', 1)[1]}-{day_part[1].split(':', 1)[1]}"
    m_start, m_end = _minutes(maintenance)
    return start < m_end and m_start < end
