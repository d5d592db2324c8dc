"""Lambda entry point of the health checker (scheduled every minute in each region)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from drcommon import db
from drcommon.observability import get_logger
from health_checker import SERVICE, resolve
from health_checker.checker import run_health_check
from health_checker.settings import Settings

logger = get_logger("health-checker")

# Time kept back from the Lambda's remaining time for put_metric_data (at most 2 attempts of
# connect 2 s + read 4 s, plus backoff) and the response.
PUBLISH_RESERVE_SECONDS = 14.0
SCHEDULE_SOURCES = frozenset({"aws.events", "aws.scheduler"})


class EventError(ValueError):
    """The invocation event is not one the health checker accepts."""


def validate_event(event: Any) -> str:
    """Accept an EventBridge 'Scheduled Event', an empty object (manual run) or a manual
    `{"resolve": [...]}` DNS lookup; returns which ("schedule", "manual", "resolve")."""
    if event is None or event == {}:
        return "manual"
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
        f'aws.scheduler), an empty object {{}} or {{"resolve": [names]}}; got {shape}'
    )


def aws_config(probe_timeout_seconds: float) -> Config:
    """Short timeouts and one retry: a slow API must not eat the run's 30 s."""
    return Config(
        connect_timeout=min(2.0, probe_timeout_seconds),
        read_timeout=probe_timeout_seconds,
        retries={"max_attempts": 2, "mode": "standard"},
    )


def resolve_event(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The manual DNS lookup (see `resolve`): no probe, no metric."""
    names = resolve.requested_names(event["resolve"], settings.environment)
    resolved = resolve.resolve_names(names, timeout_seconds=settings.probe_timeout_seconds)
    logger.info("names resolved", extra={"resolved": resolved})
    return {"resolved": resolved}


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Probe this region's and the peer's cluster and publish the health metrics (or, for a
    manual `resolve` event, only look names up)."""
    trigger = validate_event(event)
    settings = Settings.from_env()
    if trigger == "resolve":
        return resolve_event(event, settings)
    config = aws_config(settings.probe_timeout_seconds)
    region = settings.local_region
    remaining = context.get_remaining_time_in_millis() / 1000.0
    budget = max(0.5, min(settings.run_budget_seconds, remaining - PUBLISH_RESERVE_SECONDS))
    # Fails fast without a CA bundle: every probe would fail and publish a false "down".
    connect = db.connector(
        SERVICE,
        timeout=settings.probe_timeout_seconds,
        ca_bundle=settings.ca_bundle,
        statement_timeout_ms=int(settings.probe_timeout_seconds * 1000),
    )
    logger.info("health check starting", extra={"trigger": trigger, "budgetSeconds": budget})
    report = run_health_check(
        settings,
        secretsmanager=boto3.client("secretsmanager", region_name=region, config=config),
        rds=boto3.client("rds", region_name=region, config=config),
        cloudwatch=boto3.client("cloudwatch", region_name=region, config=config),
        connect=connect,
        budget_seconds=budget,
        lambda_client=(
            boto3.client("lambda", region_name=region, config=config)
            if settings.coordinator_function_name
            else None
        ),
    )
    return report.as_dict()
