"""Lambda entry point of the backup verifier (thin: settings, clients, probe, metrics).

VPC-attached in the DR region when the restore test probes the restored cluster with SQL. The
RDS API of this region is then reached through its interface endpoint; the writer's region (when
it is the peer) through `PEER_RDS_ENDPOINT_URL`, an RDS interface endpoint of the peer VPC.
"""

from __future__ import annotations

from typing import Any

from backup_verifier.probe import RestoreProbe, availability_probe, sql_probe_from_secret
from backup_verifier.settings import Settings
from backup_verifier.verifier import Dependencies, run
from drcommon import contract
from drcommon.aws import BotoClientFactory, ClientFactory, Clock, LambdaContext, SystemClock
from drcommon.observability import get_logger, get_metrics

SERVICE = "backup_verifier"
METRICS_NAMESPACE = contract.AUTOMATION_NAMESPACE

logger = get_logger(SERVICE)
metrics = get_metrics(SERVICE, namespace=METRICS_NAMESPACE)

# Module level so warm invocations reuse clients; tests replace these attributes.
CLIENT_FACTORY: ClientFactory | None = None
CLOCK: Clock = SystemClock()


def _factory(settings: Settings) -> ClientFactory:
    global CLIENT_FACTORY
    if CLIENT_FACTORY is None:
        endpoints = {}
        if settings.peer_rds_endpoint_url:
            endpoints[("rds", settings.peer_region)] = settings.peer_rds_endpoint_url
        CLIENT_FACTORY = BotoClientFactory(endpoint_urls=endpoints)
    return CLIENT_FACTORY


def _probe(settings: Settings, factory: ClientFactory) -> RestoreProbe:
    if settings.db_secret_id:
        return sql_probe_from_secret(
            factory("secretsmanager", settings.region), settings.db_secret_id
        )
    return availability_probe


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run one verification (the scheduled event's content is not used); returns the report.

    A failed verification is returned with `"ok": false` and shows in the metrics
    (`VerificationSucceeded` = 0); it is not raised, so the schedule does not retry a run that
    would only create more throw-away resources.
    """
    del event  # scheduled invocation: nothing to read
    settings = Settings.from_env()
    factory = _factory(settings)
    report = run(
        Dependencies(
            settings=settings,
            factory=factory,
            clock=CLOCK,
            context=context,
            probe=_probe(settings, factory),
        )
    )
    metrics.add_dimension(name="Environment", value=settings.environment)
    for point in report.metrics():
        metrics.add_metric(name=point.name, unit=point.unit, value=point.value)
    result = report.to_dict()
    (logger.info if report.ok else logger.error)("verification finished", extra={"report": result})
    return result
