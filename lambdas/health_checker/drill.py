"""The health checker's drill mode: the heartbeat writer `drctl drill` measures RTO/RPO with.

It runs here because this function is in the VPC and can reach the database; the operator's
laptop cannot. Two events, told apart from the checker's own by their `drill` key::

    {"drill": "write", "runId": "<id>", "firstSeq": <int >= 0>, "seconds": <number > 0>}
    {"drill": "rows", "runId": "<id>"}

`write` inserts one numbered row a second (`firstSeq`, `firstSeq + 1`, ...) into
`contract.DRILL_HEARTBEAT_TABLE` through the global writer endpoint (the secret's `host`), each
in its own autocommitted statement, for at most `seconds` and never past the function's timeout
(less a reserve), and returns every tick: the rows whose commit was acknowledged, with the time
of the acknowledgement, and the ticks that failed, with why. A failed tick drops its connection,
so the next one reconnects through DNS and finds the new writer. `drctl` invokes it back to back
and keeps the sequence going. `rows` returns the sequence numbers the table holds for a run (read
through the same endpoint after the drill): an acknowledged row that is missing was lost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drcommon import contract, db
from drcommon.aws import Clock

TICK_SECONDS = 1.0
# Kept back from the function's remaining time: the last tick's connect timeout and the answer.
RESERVE_SECONDS = 8.0
WRITE_KEYS = frozenset({"drill", "runId", "firstSeq", "seconds"})
ROWS_KEYS = frozenset({"drill", "runId"})
TABLE = db.qualified_name("public", contract.DRILL_HEARTBEAT_TABLE)
CREATE_SQL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (run_id text NOT NULL, seq bigint NOT NULL, "
    "committed_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run_id, seq))"
)
# S608 waivers: built only from module constants quoted by pg8000; values are bind parameters.
INSERT_SQL = f"INSERT INTO {TABLE} (run_id, seq) VALUES (:run_id, :seq)"  # noqa: S608
ROWS_SQL = f"SELECT seq FROM {TABLE} WHERE run_id = :run_id ORDER BY seq"  # noqa: S608


class DrillEventError(ValueError):
    """A drill event of the wrong shape."""


@dataclass(frozen=True)
class WriteRequest:
    """Write heartbeats for `seconds` from `first_seq` on."""

    run_id: str
    first_seq: int
    seconds: float


@dataclass(frozen=True)
class RowsRequest:
    """List the sequence numbers stored for `run_id`."""

    run_id: str


def is_drill_event(event: Any) -> bool:
    """True for the events this module handles (a `drill` key)."""
    return isinstance(event, Mapping) and "drill" in event


def _run_id(event: Mapping[str, Any]) -> str:
    run_id = event.get("runId")
    if not isinstance(run_id, str) or not run_id or len(run_id) > 100:
        raise DrillEventError("drill runId must be a non-empty string of at most 100 characters")
    return run_id


def parse_drill_event(event: Mapping[str, Any]) -> WriteRequest | RowsRequest:
    """A typed request; raises `DrillEventError` naming the problem."""
    kind = event.get("drill")
    keys = {"write": WRITE_KEYS, "rows": ROWS_KEYS}.get(kind) if isinstance(kind, str) else None
    if keys is None:
        raise DrillEventError(f"drill must be 'write' or 'rows', got {kind!r}")
    if set(event) != keys:
        raise DrillEventError(
            f"a drill {kind} event has exactly the keys {', '.join(sorted(keys))}"
        )
    if kind == "rows":
        return RowsRequest(_run_id(event))
    first, seconds = event["firstSeq"], event["seconds"]
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        raise DrillEventError(f"drill firstSeq must be an integer >= 0, got {first!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        raise DrillEventError(f"drill seconds must be a number > 0, got {seconds!r}")
    return WriteRequest(_run_id(event), first, float(seconds))


Connect = Callable[[], Any]


def write_heartbeats(
    request: WriteRequest, connect: Connect, clock: Clock, *, budget_seconds: float
) -> dict[str, Any]:
    """One row a tick for `min(request.seconds, budget_seconds)`; every tick's outcome."""
    started = clock.time()
    end = started + min(request.seconds, budget_seconds)
    committed: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    connection: Any = None
    seq, tick_at = request.first_seq, started
    while tick_at < end:
        clock.sleep(max(0.0, tick_at - clock.time()))
        try:
            if connection is None:
                connection = connect()
                connection.run(CREATE_SQL)
            connection.run(INSERT_SQL, run_id=request.run_id, seq=seq)
            committed.append({"seq": seq, "at": clock.time()})
        except Exception as exc:
            failed.append({"seq": seq, "at": clock.time(), "error": db.describe_error(exc)})
            db.close_quietly(connection)
            connection = None
        seq += 1
        tick_at += TICK_SECONDS
    db.close_quietly(connection)
    return {
        "runId": request.run_id,
        "firstSeq": request.first_seq,
        "nextSeq": seq,
        "startedAt": started,
        "endedAt": clock.time(),
        "committed": committed,
        "failed": failed,
    }


def read_rows(request: RowsRequest, connect: Connect) -> dict[str, Any]:
    """The sequence numbers the table holds for the run."""
    with contextlib.closing(connect()) as connection:
        connection.run(CREATE_SQL)
        rows = connection.run(ROWS_SQL, run_id=request.run_id)
    return {"runId": request.run_id, "seqs": [int(row[0]) for row in rows]}


def handle(
    event: Mapping[str, Any],
    *,
    connect: Connect,
    clock: Clock,
    remaining_seconds: float,
) -> dict[str, Any]:
    """Run a drill event with `connect` (a login at the global writer endpoint)."""
    request = parse_drill_event(event)
    if isinstance(request, RowsRequest):
        return read_rows(request, connect)
    return write_heartbeats(
        request, connect, clock, budget_seconds=max(0.0, remaining_seconds - RESERVE_SECONDS)
    )
