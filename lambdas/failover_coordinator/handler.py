"""Lambda entry point of the failover coordinator (thin: settings, clients, metrics).

Not VPC-attached on purpose: it opens no database connection, must reach the other region's
APIs while deciding, and must still work when the primary region's network is gone.
"""

from __future__ import annotations

from typing import Any

from drcommon import contract
from drcommon.aws import BotoClientFactory, ClientFactory, Clock, LambdaContext, SystemClock
from drcommon.observability import add_outcome_metrics, get_logger, get_metrics
from failover_coordinator import SERVICE
from failover_coordinator.coordinator import Dependencies, run
from failover_coordinator.settings import Settings

logger = get_logger(SERVICE)
metrics = get_metrics(SERVICE, namespace=contract.AUTOMATION_NAMESPACE)

# Module level so warm invocations reuse clients; tests replace these two attributes. Clients get
# drcommon.aws's defaults: connect 3 s, read 10 s, 3 attempts.
CLIENT_FACTORY: ClientFactory = BotoClientFactory()
CLOCK: Clock = SystemClock()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Handle an alarm, RDS or manual event (see `events.py`); returns the outcome summary.

    A malformed event raises `InvalidEvent` (the invocation fails visibly, nothing is touched).
    Failures of the operation itself are returned with `"ok": false`, not raised: raising
    would make an asynchronous invocation retry, and retries are the lock's business.
    """
    settings = Settings.from_env()
    result = run(
        event,
        Dependencies(settings=settings, factory=CLIENT_FACTORY, clock=CLOCK, context=context),
    )
    add_outcome_metrics(metrics, result.metrics(), environment=settings.environment)
    return result.to_dict()
