"""Lambda entry point of the peer watch: invoked by its region's Step Functions ticker (one tick),
and by the region's health-check schedule and the coordinator (`contract.HEALTH_RUN_EVENT`, the
health run that publishes the metrics).

Not VPC-attached: it calls AWS APIs only (the local health checker for the SQL probes, the
global cluster's topology, the peer region's RDS API, CloudWatch, the local coordinator), so it
needs no interface endpoint, and it still runs when the peer region's network is gone.
"""

from __future__ import annotations

from typing import Any

from drcommon import contract
from drcommon.aws import BotoClientFactory, ClientFactory, Clock, LambdaContext, SystemClock
from drcommon.observability import get_logger
from peer_watch import SERVICE
from peer_watch.health_run import run_health
from peer_watch.settings import Settings
from peer_watch.watch import Dependencies, run

logger = get_logger(SERVICE)

# Module level so warm invocations reuse clients; tests replace these two attributes.
CLIENT_FACTORY: ClientFactory = BotoClientFactory()
CLOCK: Clock = SystemClock()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """A health run (`health_run.run_health`) for `contract.HEALTH_RUN_EVENT`; otherwise one tick
    (see `watch.run`), returning the payload of the next one.

    A malformed input raises `WatchInputError`: the execution fails visibly, and the next
    execution starts afresh a minute later.
    """
    settings = Settings.from_env()
    if event == contract.HEALTH_RUN_EVENT:
        return run_health(CLIENT_FACTORY, settings, CLOCK).as_dict()
    return run(event, Dependencies(settings=settings, factory=CLIENT_FACTORY, clock=CLOCK))
