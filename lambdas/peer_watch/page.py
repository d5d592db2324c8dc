"""Page this region's failover coordinator once the peer writer's loss is confirmed.

An asynchronous invocation costs a second; waiting for the `PeerWriterAvailable` alarm costs its
datapoints x period. The coordinator's own gates (a second vantage point, a fresh probe, the
in-region check, the lag budget, the lock) still decide: a page is evidence, never an order.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from drcommon import contract
from drcommon.observability import get_logger
from peer_watch import SERVICE

logger = get_logger(SERVICE)


@dataclass(frozen=True)
class PageOutcome:
    """Whether the coordinator was paged, and what failed if not."""

    paged: bool
    detail: str


def page_event(local_region: str, peer_region: str, observed_at: dt.datetime) -> dict[str, Any]:
    """The event the coordinator accepts (`failover_coordinator/events.py`, page)."""
    return {
        "source": contract.PAGE_SOURCE,
        "detail-type": contract.PAGE_DETAIL_TYPE,
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
    """Invoke the coordinator asynchronously; a failure is reported, never raised (the next
    tick pages again, and the probe alarm remains the slower, independent path)."""
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
