"""Lambda entry point of the connection drainer (invoked by the failover coordinator or an operator).

The event is validated before any AWS call, so a malformed event costs nothing and touches nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from connection_drainer import SERVICE
from connection_drainer.drain import drain
from connection_drainer.events import DrainRequest, parse_event
from connection_drainer.settings import Settings
from drcommon import db
from drcommon.observability import get_logger

logger = get_logger("connection-drainer")

AWS_CONFIG = Config(
    connect_timeout=3, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}
)


def run(
    settings: Settings,
    request: DrainRequest,
    *,
    secretsmanager: Any,
    connect: Callable[[db.DbCredentials], Any],
    sleep: Callable[[float], None] = time.sleep,
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
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
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
        secretsmanager=boto3.client(
            "secretsmanager", region_name=settings.local_region, config=AWS_CONFIG
        ),
        connect=connect,
    )
