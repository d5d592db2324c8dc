"""Lambda entry point of the health checker: the VPC-attached SQL prober. It is invoked
synchronously by functions outside the VPC: the peer watch's health run (once a minute; it
publishes the metrics), the peer watch's ticks and the coordinator (single peer probes), and
`drctl drill` (its heartbeat writer, `drill.py`). It calls
no AWS API but Secrets Manager, and reads the secret itself: no credential is ever in an event.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from drcommon import contract, db
from drcommon.aws import BotoClientFactory, ClientFactory, Clock, LambdaContext, SystemClock
from drcommon.aws import client_config as aws_client_config
from drcommon.observability import get_logger
from health_checker import SERVICE, drill, resolve, restore
from health_checker.checker import CredentialCache, probe_health, probe_peer
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

# Time kept back from the Lambda's remaining time for the answer (the caller publishes it),
# as when the checker published itself: it bounds the probes well inside the 30 s timeout.
ANSWER_RESERVE_SECONDS = 14.0


class EventError(ValueError):
    """The invocation event is not one the health checker accepts."""


def validate_event(event: Any) -> str:
    """Accept a health probe request (`contract.HEALTH_PROBE_EVENT`), a peer probe request
    (`contract.PEER_PROBE_EVENT`), the backup verifier's restore probe request
    (`{contract.RESTORE_PROBE_KEY: {...}}`) or a manual `{"resolve": [...]}` DNS lookup; returns
    which ("health_probe", "peer_probe", "restore_probe", "resolve")."""
    if event == contract.HEALTH_PROBE_EVENT:
        return "health_probe"
    if event == contract.PEER_PROBE_EVENT:
        return "peer_probe"
    if isinstance(event, dict) and set(event) == {contract.RESTORE_PROBE_KEY}:
        return "restore_probe"
    if isinstance(event, dict) and set(event) == {"resolve"}:
        return "resolve"
    shape = sorted(event) if isinstance(event, dict) else type(event).__name__
    raise EventError(
        f"health_checker accepts {contract.HEALTH_PROBE_EVENT}, {contract.PEER_PROBE_EVENT}, "
        f'{{"{contract.RESTORE_PROBE_KEY}": {{host, port}}}} or {{"resolve": [names]}}; got '
        f"{shape} (the minute run is the peer watch's {contract.HEALTH_RUN_EVENT})"
    )


def aws_config(probe_timeout_seconds: float) -> Config:
    """Short timeouts and few attempts: a slow secret read must not eat the run's 30 s.

    3 attempts in all: what botocore made of this function's original `max_attempts: 2` (a
    count of retries in botocore's legacy form).
    """
    return aws_client_config(
        connect_timeout=min(2.0, probe_timeout_seconds),
        read_timeout=probe_timeout_seconds,
        max_attempts=3,
    )


def probe_budget(settings: Settings, context: LambdaContext) -> float:
    """Seconds the probes may take: what is left after the answer reserve, within the run
    budget, at least 0.5 s."""
    remaining = context.get_remaining_time_in_millis() / 1000.0
    return max(0.5, min(settings.run_budget_seconds, remaining - ANSWER_RESERVE_SECONDS))


def resolve_event(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The manual DNS lookup (see `resolve`): no probe, no metric."""
    names = resolve.requested_names(event["resolve"], settings.environment)
    resolved = resolve.resolve_names(names, timeout_seconds=settings.probe_timeout_seconds)
    logger.info("names resolved", extra={"resolved": resolved})
    return {"resolved": resolved}


def drill_event(
    event: dict[str, Any], settings: Settings, context: LambdaContext
) -> dict[str, Any]:
    """`drctl drill`'s heartbeat writer (see `drill`): logins at the secret's host, which is the
    global writer endpoint, with the probes' TLS and timeouts; no metric."""
    connect = db.connector(
        SERVICE,
        timeout=settings.probe_timeout_seconds,
        ca_bundle=settings.ca_bundle,
        statement_timeout_ms=int(settings.probe_timeout_seconds * 1000),
    )
    secretsmanager = CLIENT_FACTORY(
        "secretsmanager", settings.local_region, config=aws_config(settings.probe_timeout_seconds)
    )
    login = CREDENTIALS.get(secretsmanager, settings.secret_id, CLOCK.monotonic())
    return drill.handle(
        event,
        connect=lambda: connect(login),
        clock=CLOCK,
        remaining_seconds=context.get_remaining_time_in_millis() / 1000.0,
    )


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Probe this region's and the peer's cluster (`health_probe`), the peer's alone
    (`peer_probe`), a restored cluster (`restore_probe`), or only look names up (`resolve`);
    answer the caller. A `drill` event (`drctl drill`) writes or reads heartbeats instead."""
    if drill.is_drill_event(event):
        return drill_event(event, Settings.from_env(), context)
    trigger = validate_event(event)
    settings = Settings.from_env()
    if trigger == "resolve":
        return resolve_event(event, settings)
    # Fails fast without a CA bundle: every probe would fail and report a false "down".
    connect = db.connector(
        SERVICE,
        timeout=settings.probe_timeout_seconds,
        ca_bundle=settings.ca_bundle,
        statement_timeout_ms=int(settings.probe_timeout_seconds * 1000),
    )
    secretsmanager = CLIENT_FACTORY(
        "secretsmanager", settings.local_region, config=aws_config(settings.probe_timeout_seconds)
    )
    if trigger == "restore_probe":
        target = restore.restore_target(
            event[contract.RESTORE_PROBE_KEY],
            environment=settings.environment,
            region=settings.local_region,
        )
        return restore.sql_probe_from_secret(secretsmanager, settings.secret_id, connect)(target)
    if trigger == "peer_probe":
        return probe_peer(
            settings,
            secretsmanager=secretsmanager,
            connect=connect,
            credentials=CREDENTIALS,
            clock=CLOCK.monotonic,
        )
    return probe_health(
        settings,
        secretsmanager=secretsmanager,
        connect=connect,
        budget_seconds=probe_budget(settings, context),
        clock=CLOCK.monotonic,
    )
