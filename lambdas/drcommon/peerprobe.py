"""Ask the region's health checker for one probe of the peer writer, and read its answer.

The probe is SQL, so it runs in the VPC-attached health checker; its callers (the peer watch
every tick, the coordinator once more before a failover) run outside the VPC and invoke it
synchronously with `contract.PEER_PROBE_EVENT`. The answer is one of four outcomes, and only
`FAILED` is evidence that the writer is lost: a checker that could not be asked (`UNAVAILABLE`)
says nothing about the writer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from drcommon import contract
from drcommon.aws import ClientFactory, Clock, client_config


class ProbeOutcome(StrEnum):
    """What one peer probe found."""

    WRITER = "writer"  # the peer's cluster endpoint answered SELECT 1 as a writer
    NOT_WRITER = "not_writer"  # it answered, but is in recovery (a reader)
    FAILED = "failed"  # no answer within the checker's probe timeout
    UNAVAILABLE = "unavailable"  # the checker could not be asked, or gave no usable answer


@dataclass(frozen=True)
class PeerProbe:
    """One peer probe: its outcome, what the checker or the invoke said, and how long it took."""

    outcome: ProbeOutcome
    detail: str
    seconds: float


def outcome_of(answer: Any) -> tuple[ProbeOutcome, str]:
    """The outcome of a checker's answer (`contract.PEER_PROBE_RESULT_KEYS`)."""
    well_formed = (
        isinstance(answer, Mapping)
        and set(answer) == contract.PEER_PROBE_RESULT_KEYS
        and isinstance(answer["ok"], bool)
        and (answer["isWriter"] is None or isinstance(answer["isWriter"], bool))
    )
    if not well_formed:
        unexpected = f"unexpected answer from the health checker: {answer!r}"
        return ProbeOutcome.UNAVAILABLE, unexpected[:300]
    endpoint = answer["endpoint"]
    if answer["ok"] is not True:
        return ProbeOutcome.FAILED, f"{endpoint}: {answer['error']}"
    if answer["isWriter"] is True:
        return ProbeOutcome.WRITER, f"{endpoint} answered as writer in {answer['latencyMs']} ms"
    return ProbeOutcome.NOT_WRITER, f"{endpoint} answered, but not as writer"


def request_peer_probe(
    factory: ClientFactory,
    *,
    region: str,
    function_name: str,
    timeout_seconds: float,
    clock: Clock,
) -> PeerProbe:
    """Invoke the health checker `function_name` in `region` for one peer probe; never raises.

    A one-off client, one attempt, read timeout `timeout_seconds`: a synchronous invoke answers
    only when the checker returns, and a retry would double the wait.
    """
    started = clock.monotonic()
    config = client_config(
        connect_timeout=min(2.0, timeout_seconds), read_timeout=timeout_seconds, max_attempts=1
    )
    try:
        response = factory("lambda", region, config=config).invoke(
            FunctionName=function_name,
            InvocationType="RequestResponse",
            Payload=json.dumps(contract.PEER_PROBE_EVENT).encode(),
        )
        body = response["Payload"].read().decode("utf-8", "replace")
    except (ClientError, BotoCoreError) as exc:
        return PeerProbe(
            ProbeOutcome.UNAVAILABLE,
            f"health checker not reachable: {exc}",
            clock.monotonic() - started,
        )
    if response.get("FunctionError"):
        detail = f"health checker reported {response['FunctionError']}: {body[:300]}"
        return PeerProbe(ProbeOutcome.UNAVAILABLE, detail, clock.monotonic() - started)
    try:
        answer = json.loads(body)
    except json.JSONDecodeError:
        answer = body
    outcome, detail = outcome_of(answer)
    return PeerProbe(outcome, detail, clock.monotonic() - started)
