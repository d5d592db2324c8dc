"""Lambda entry point of the health checker: scheduled every minute in each region, and asked
for single peer probes by the peer watch and the coordinator."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.config import Config

from drcommon import contract, db
from drcommon.aws import BotoClientFactory, ClientFactory, Clock, LambdaContext, SystemClock
from drcommon.aws import client_config as aws_client_config
from drcommon.observability import get_logger
from health_checker import SERVICE, resolve
from health_checker.checker import CredentialCache, probe_peer, run_health_check
from health_checker.settings import Settings

logger = get_logger(SERVICE)

# Module level so tests can replace them. Every client is asked for with `aws_config(...)`, which
# depends on the probe timeout: those are one-off clients, built anew each run.
CLIENT_FACTORY: ClientFactory = BotoClientFactory()
CLOCK: Clock = SystemClock()
# The peer watch asks for a probe every few seconds: one secret read per 5 minutes per warm
# container instead of one per probe. A rotation is followed at once all the same (a failed login
# empties the cache, and AWSPENDING is tried).
CREDENTIALS_MAX_AGE_SECONDS = 300.0
CREDENTIALS = CredentialCache(CREDENTIALS_MAX_AGE_SECONDS)

# Time kept back from the Lambda's remaining time for put_metric_data and the response: two
# attempts of connect 2 s + read 4 s, plus backoff. (`aws_config` allows a third attempt, which
# the reserve does not cover.)
PUBLISH_RESERVE_SECONDS = 14.0
SCHEDULE_SOURCES = frozenset({"aws.events", "aws.scheduler"})


class EventError(ValueError):
    """The invocation event is not one the health checker accepts."""


def validate_event(event: Any) -> str:
    """Accept an EventBridge 'Scheduled Event', an empty object (manual run), a peer probe
    request (`contract.PEER_PROBE_EVENT`) or a manual `{"resolve": [...]}` DNS lookup; returns
    which ("schedule", "manual", "peer_probe", "resolve")."""
    if event is None or event == {}:
        return "manual"
    if event == contract.PEER_PROBE_EVENT:
        return "peer_probe"
    if isinstance(event, dict) and set(event) == {"resolve"}:
        return "resolve"
    if (
        isinstance(event, dict)
        and event.get("detail-type") == "Scheduled Event"
        and event.get("source") in SCHEDULE_SOURCES
    ):
        return "schedule"
    shape = sorted(event) if isinstance(event, dict) else type(event).__name__
    raise EventError(
        "health_checker accepts an EventBridge 'Scheduled Event' (source aws.events or "
        f"aws.scheduler), an empty object {{}}, {contract.PEER_PROBE_EVENT} or "
        f'{{"resolve": [names]}}; got {shape}'
    )


def aws_config(probe_timeout_seconds: float) -> Config:
    """Short timeouts and few attempts: a slow API must not eat the run's 30 s.

    3 attempts in all: what botocore made of this function's original `max_attempts: 2` (a
    count of retries in botocore's legacy form).
    """
    return aws_client_config(
        connect_timeout=min(2.0, probe_timeout_seconds),
        read_timeout=probe_timeout_seconds,
        max_attempts=3,
    )


def probe_budget(settings: Settings, context: LambdaContext) -> float:
    """Seconds the probes may take: what is left after the publish reserve, within the run
    budget, at least 0.5 s."""
    remaining = context.get_remaining_time_in_millis() / 1000.0
    return max(0.5, min(settings.run_budget_seconds, remaining - PUBLISH_RESERVE_SECONDS))


def resolve_event(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The manual DNS lookup (see `resolve`): no probe, no metric."""
    names = resolve.requested_names(event["resolve"], settings.environment)
    resolved = resolve.resolve_names(names, timeout_seconds=settings.probe_timeout_seconds)
    logger.info("names resolved", extra={"resolved": resolved})
    return {"resolved": resolved}


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Probe this region's and the peer's cluster and publish the health metrics (or, for a
    manual `resolve` event, only look names up)."""
    trigger = validate_event(event)
    settings = Settings.from_env()
    if trigger == "resolve":
        return resolve_event(event, settings)
    budget = probe_budget(settings, context)
    # Fails fast without a CA bundle: every probe would fail and publish a false "down".
    connect = db.connector(
        SERVICE,
        timeout=settings.probe_timeout_seconds,
        ca_bundle=settings.ca_bundle,
        statement_timeout_ms=int(settings.probe_timeout_seconds * 1000),
    )
    config = aws_config(settings.probe_timeout_seconds)

    def client(service: str) -> Any:
        return CLIENT_FACTORY(service, settings.local_region, config=config)

    if trigger == "peer_probe":
        return probe_peer(
            settings,
            secretsmanager=client("secretsmanager"),
            connect=connect,
            credentials=CREDENTIALS,
            clock=CLOCK.monotonic,
        )
    logger.info("health check starting", extra={"trigger": trigger, "budgetSeconds": budget})
    report = run_health_check(
        settings,
        secretsmanager=client("secretsmanager"),
        rds=client("rds"),
        cloudwatch=client("cloudwatch"),
        connect=connect,
        budget_seconds=budget,
        clock=CLOCK.monotonic,
        now=lambda: dt.datetime.fromtimestamp(CLOCK.time(), dt.UTC),
    )
    return report.as_dict()
