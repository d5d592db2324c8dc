"""Page this region's failover coordinator the moment the peer writer is lost.

Waiting for the `PeerWriterAvailable` alarm costs its datapoints x period; an asynchronous
invocation costs a second. The coordinator's own gates (a second vantage point, the lag budget,
the lock) still decide: a page is an observation, never an order.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from drcommon import contract
from drcommon.observability import get_logger
from health_checker import SERVICE

logger = get_logger(SERVICE)

PAGE_SOURCE = contract.PAGE_SOURCE
PAGE_DETAIL_TYPE = contract.PAGE_DETAIL_TYPE


@dataclass(frozen=True)
class PageOutcome:
    """Whether the coordinator was paged, and why not or what failed."""

    paged: bool
    detail: str


def should_page(
    values: dict[Any, float | None], local_region: str, writer_region: str | None
) -> bool:
    """Page only when the contract says the peer writer is lost as seen from here.

    `PeerWriterAvailable` is 1 whenever this region holds the writer role, so a 0 always means
    "the writer over there (or an unknown writer) did not answer".
    """
    value = values.get(contract.PEER_WRITER_AVAILABLE)
    return value == 0 and writer_region != local_region


def page_event(local_region: str, peer_region: str, observed_at: dt.datetime) -> dict[str, Any]:
    """The event the coordinator accepts from a health checker."""
    return {
        "source": PAGE_SOURCE,
        "detail-type": PAGE_DETAIL_TYPE,
        "detail": {
            "region": local_region,
            "peerRegion": peer_region,
            "observedAt": observed_at.astimezone(dt.UTC).isoformat(),
        },
    }


def page_coordinator(
    lambda_client: Any,
    function_name: str,
    *,
    local_region: str,
    peer_region: str,
    observed_at: dt.datetime,
) -> PageOutcome:
    """Invoke the coordinator asynchronously; a failure is reported, never raised (the
    probe alarm remains the slower, independent path)."""
    try:
        lambda_client.invoke(
            FunctionName=function_name,
            InvocationType="Event",
            Payload=json.dumps(page_event(local_region, peer_region, observed_at)).encode(),
        )
    except Exception as exc:
        logger.warning("could not page the coordinator", extra={"error": str(exc)})
        return PageOutcome(paged=False, detail=f"page failed: {exc}")
    logger.info("coordinator paged", extra={"function": function_name})
    return PageOutcome(paged=True, detail=f"paged {function_name}")
