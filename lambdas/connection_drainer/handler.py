"""Lambda entry point of the connection drainer (invoked by the failover coordinator or an operator).

The event is validated before any AWS call, so a malformed event costs nothing and touches nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connection_drainer import SERVICE
from connection_drainer.drain import drain
from connection_drainer.events import DrainRequest, parse_event
from connection_drainer.settings import Settings
from drcommon import db
from drcommon.aws import (
    BotoClientFactory,
    ClientFactory,
    Clock,
    LambdaContext,
    SystemClock,
    client_config,
)
from drcommon.observability import get_logger

logger = get_logger(SERVICE)

# Module level so warm invocations reuse clients; tests replace these two attributes.
# The one AWS call is a Secrets Manager read in this region: connect 3 s, read 5 s, 4 attempts.
CLIENT_FACTORY: ClientFactory = BotoClientFactory(
    config=client_config(connect_timeout=3.0, read_timeout=5.0, max_attempts=4)
)
CLOCK: Clock = SystemClock()


def run(
    settings: Settings,
    request: DrainRequest,
    *,
    secretsmanager: Any,
    connect: db.Connector,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """Read the credentials, log in to the requested cluster and drain it; returns the report."""
    credentials = db.read_credentials(secretsmanager, settings.secret_id)
    conn = connect(credentials.at(request.endpoint))
    try:
        report = drain(conn, request, protected_users=settings.protected_users, sleep=sleep)
    finally:
        db.close_quietly(conn)
    result = report.as_dict()
    logger.info("drain finished", extra=result)
    return result


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Terminate application sessions on the cluster named by the event (see `events.py`)."""
    settings = Settings.from_env()
    request = parse_event(event, settings)
    connect = db.connector(
        SERVICE, timeout=settings.connect_timeout_seconds, ca_bundle=settings.ca_bundle
    )
    logger.info(
        "drain requested",
        extra={
            "region": request.region,
            "endpoint": str(request.endpoint),
            "dryRun": request.dry_run,
        },
    )
    return run(
        settings,
        request,
        secretsmanager=CLIENT_FACTORY("secretsmanager", settings.local_region),
        connect=connect,
        sleep=CLOCK.sleep,
    )
