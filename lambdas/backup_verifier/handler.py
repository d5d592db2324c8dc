"""Lambda entry point of the backup verifier (thin: settings, clients, probe, metrics).

VPC-attached in the DR region when the restore test probes the restored cluster with SQL. The
RDS and SNS APIs of this region are then reached through their interface endpoints; the writer's
region (when it is the peer) through `PEER_RDS_ENDPOINT_URL`, an RDS interface endpoint of the
peer VPC.
"""

from __future__ import annotations

from typing import Any

from backup_verifier import SERVICE
from backup_verifier.probe import RestoreProbe, availability_probe, sql_probe_from_secret
from backup_verifier.settings import Settings
from backup_verifier.verifier import Dependencies, run
from drcommon import contract
from drcommon.aws import (
    BotoClientFactory,
    ClientFactory,
    Clock,
    EndpointRouting,
    LambdaContext,
    SystemClock,
)
from drcommon.observability import add_outcome_metrics, get_logger, get_metrics

logger = get_logger(SERVICE)
metrics = get_metrics(SERVICE, namespace=contract.AUTOMATION_NAMESPACE)

# Module level so warm invocations reuse clients; tests replace these two attributes. Clients get
# drcommon.aws's defaults: connect 3 s, read 10 s, 3 attempts.
CLIENT_FACTORY: ClientFactory = BotoClientFactory()
CLOCK: Clock = SystemClock()


def clients(settings: Settings) -> ClientFactory:
    """`CLIENT_FACTORY`, with the peer region's RDS API behind its interface endpoint if set."""
    if not settings.peer_rds_endpoint_url:
        return CLIENT_FACTORY
    return EndpointRouting(
        CLIENT_FACTORY, {("rds", settings.peer_region): settings.peer_rds_endpoint_url}
    )


def restore_probe(settings: Settings, factory: ClientFactory) -> RestoreProbe:
    """SQL against the restored cluster when the secret is configured, else availability."""
    if settings.db_secret_id:
        return sql_probe_from_secret(
            factory("secretsmanager", settings.region), settings.db_secret_id
        )
    return availability_probe


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run one verification (the scheduled event's content is not used); returns the report.

    A failed verification is returned with `"ok": false`, published to this region's alert
    topic and shows in the metrics (`VerificationSucceeded` = 0, which the stack alarms on); it
    is not raised, so the schedule does not retry a run that would only create more throw-away
    resources.
    """
    del event  # scheduled invocation: nothing to read
    settings = Settings.from_env()
    factory = clients(settings)
    report = run(
        Dependencies(
            settings=settings,
            factory=factory,
            clock=CLOCK,
            context=context,
            probe=restore_probe(settings, factory),
        )
    )
    add_outcome_metrics(metrics, report.metrics(), environment=settings.environment)
    result = report.to_dict()
    (logger.info if report.ok else logger.error)("verification finished", extra={"report": result})
    return result
