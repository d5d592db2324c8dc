"""Database probes: TLS login, `SELECT 1`, writer check, heartbeat write and lag read.

A probe never raises: every failure becomes a `ProbeResult` with `ok=False` (or with the heartbeat
part missing) and a secret-free error text, because a failed probe is a measurement, not a crash.
The connection factory is injected so the orchestration can add timeouts and credential fallback,
and so tests can substitute a fake.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from drcommon import contract
from drcommon.db import Endpoint, close_quietly, describe_error, qualified_name
from drcommon.health import ProbeResult

ConnectFn = Callable[[Endpoint], Any]  # returns a pg8000.native.Connection-like object
Clock = Callable[[], float]

HEARTBEAT_SCHEMA = "public"
HEARTBEAT_QUALIFIED = qualified_name(HEARTBEAT_SCHEMA, contract.HEARTBEAT_TABLE)
# Unquoted form for to_regclass(), which parses its argument as a (possibly qualified) name.
HEARTBEAT_REGCLASS = f"{HEARTBEAT_SCHEMA}.{contract.HEARTBEAT_TABLE}"

CREATE_HEARTBEAT_SQL = (
    f"CREATE TABLE IF NOT EXISTS {HEARTBEAT_QUALIFIED} "
    "(region text PRIMARY KEY, beat_at timestamptz NOT NULL)"
)
# S608 waivers: built only from module constants quoted by pg8000; values are bind parameters.
UPSERT_HEARTBEAT_SQL = (
    f"INSERT INTO {HEARTBEAT_QUALIFIED} (region, beat_at) VALUES (:region, clock_timestamp()) "  # noqa: S608
    "ON CONFLICT (region) DO UPDATE SET beat_at = EXCLUDED.beat_at"
)
# clock_timestamp(), not now(): now() is frozen at transaction start and would hide the lag.
READ_LAG_SQL = (
    "SELECT (EXTRACT(EPOCH FROM clock_timestamp() - max(beat_at)) * 1000)::float8 "  # noqa: S608
    f"FROM {HEARTBEAT_QUALIFIED}"
)


def heartbeat_table_exists(conn: Any) -> bool:
    """True when the heartbeat table exists (a fresh secondary may not have it replicated yet)."""
    return bool(conn.run("SELECT to_regclass(:name) IS NOT NULL", name=HEARTBEAT_REGCLASS)[0][0])


def write_heartbeat(conn: Any, region: str) -> None:
    """Create the heartbeat table if missing and upsert this region's beat (autocommit)."""
    if not heartbeat_table_exists(conn):
        conn.run(CREATE_HEARTBEAT_SQL)
    conn.run(UPSERT_HEARTBEAT_SQL, region=region)


def read_heartbeat_lag_ms(conn: Any) -> float | None:
    """Age in ms of the newest beat on this cluster, or None when there is none yet."""
    if not heartbeat_table_exists(conn):
        return None
    value = conn.run(READ_LAG_SQL)[0][0]
    if value is None:
        return None
    # Clocks of two regions' instances may disagree by a little: a beat "from the future" is 0 lag.
    return max(0.0, float(value))


def probe(
    connect: ConnectFn,
    endpoint: Endpoint,
    *,
    heartbeat_region: str | None = None,
    read_lag: bool = False,
    check_writer: bool = True,
    clock: Clock = time.monotonic,
) -> ProbeResult:
    """Probe one endpoint.

    Always: connect (TLS login) and `SELECT 1`. `check_writer`: `pg_is_in_recovery()`.
    `heartbeat_region`: on a writer, upsert that region's heartbeat row. `read_lag`: read the age of
    the newest beat (after the upsert, if any). Never raises.
    """
    started = clock()
    conn = None
    try:
        conn = connect(endpoint)
        if conn.run("SELECT 1")[0][0] != 1:
            raise RuntimeError("SELECT 1 returned an unexpected value")
        latency_ms = (clock() - started) * 1000.0
        is_writer = None
        if check_writer:
            is_writer = not conn.run("SELECT pg_is_in_recovery()")[0][0]
    except Exception as exc:
        close_quietly(conn)
        return ProbeResult.failed(endpoint, describe_error(exc))

    written = False
    lag = None
    error = None
    try:
        if heartbeat_region is not None and is_writer:
            write_heartbeat(conn, heartbeat_region)
            written = True
        if read_lag:
            lag = read_heartbeat_lag_ms(conn)
    except Exception as exc:
        error = f"heartbeat: {describe_error(exc)}"
    finally:
        close_quietly(conn)
    return ProbeResult(
        endpoint=str(endpoint),
        ok=True,
        is_writer=is_writer,
        heartbeat_written=written,
        heartbeat_lag_ms=lag,
        latency_ms=latency_ms,
        error=error,
    )
