"""Lambda entry point of the backup verifier (thin: settings, clients, probe, the stored
report, metrics).

Not VPC-attached: it calls AWS APIs only (RDS of both regions, S3, SNS, CloudWatch), which need
no interface endpoint from outside a VPC. The restore test's SQL probe of the restored cluster is
the region's VPC-attached health checker's (`probe.CheckerProbe`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backup_verifier import SERVICE
from backup_verifier.probe import RestoreProbe, availability_probe, checker_probe
from backup_verifier.settings import Settings
from backup_verifier.verifier import Dependencies, run
from drcommon import contract
from drcommon.aws import (
    BotoClientFactory,
    ClientFactory,
    Clock,
    LambdaContext,
    SystemClock,
    client_config,
)
from drcommon.contract import BACKUP_BUCKET
from drcommon.observability import MetricPoint, add_outcome_metrics, get_logger, get_metrics
from drcommon.reports import StoredReport, report_key, store_report

logger = get_logger(SERVICE)
metrics = get_metrics(SERVICE, namespace=contract.AUTOMATION_NAMESPACE)

# Module level so warm invocations reuse clients; tests replace these two attributes. Clients get
# drcommon.aws's defaults: connect 3 s, read 10 s, 3 attempts.
CLIENT_FACTORY: ClientFactory = BotoClientFactory()
CLOCK: Clock = SystemClock()
# The checker answers a restore probe within its own 30 s timeout; one attempt (a retry would
# only log in twice).
RESTORE_PROBE_READ_TIMEOUT_SECONDS = 35.0


def restore_probe(settings: Settings, factory: ClientFactory) -> RestoreProbe:
    """SQL against the restored cluster, by the region's health checker when it is configured,
    else availability."""
    if settings.health_checker_function_name:
        config = client_config(
            connect_timeout=3.0, read_timeout=RESTORE_PROBE_READ_TIMEOUT_SECONDS, max_attempts=1
        )
        return checker_probe(
            factory("lambda", settings.region, config=config),
            settings.health_checker_function_name,
        )
    return availability_probe


def report_document(
    result: dict[str, Any], settings: Settings, started: datetime, finished: datetime
) -> dict[str, Any]:
    """What is stored of a run: its report (snapshot, age, copy, restore test, export, problems)
    with the verdict, where it ran and when."""
    return {
        **result,
        "verdict": "passed" if result["ok"] else "failed",
        "environment": settings.environment,
        "region": settings.region,
        "startedAt": started.isoformat(),
        "finishedAt": finished.isoformat(),
    }


def store(
    factory: ClientFactory,
    settings: Settings,
    document: dict[str, Any],
    *,
    started: datetime,
    run_name: str,
) -> StoredReport | None:
    """Store the run's report in this region's backup bucket, when one is configured."""
    if settings.report_bucket is None:
        return None
    key = report_key(BACKUP_BUCKET.verification_reports, started, run_name)
    return store_report(factory("s3", settings.region), settings.report_bucket, key, document)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run one verification (the scheduled event's content is not used); returns the report.

    A failed verification is returned with `"ok": false`, published to this region's alert
    topic and shows in the metrics (`VerificationSucceeded` = 0, which the stack alarms on); it
    is not raised, so the schedule does not retry a run that would only create more throw-away
    resources. The report is stored in the region's backup bucket; a failure to store it is
    returned (`storedReport`) and counted (`ReportStored` = 0), never raised over the verdict.
    """
    del event  # scheduled invocation: nothing to read
    settings = Settings.from_env()
    factory = CLIENT_FACTORY
    started = datetime.fromtimestamp(CLOCK.time(), tz=UTC)
    report = run(
        Dependencies(
            settings=settings,
            factory=factory,
            clock=CLOCK,
            context=context,
            probe=restore_probe(settings, factory),
        )
    )
    result = report.to_dict()
    finished = datetime.fromtimestamp(CLOCK.time(), tz=UTC)
    document = report_document(result, settings, started, finished)
    stored = store(factory, settings, document, started=started, run_name=context.aws_request_id)
    points = report.metrics()
    if stored is not None:
        result["storedReport"] = stored.to_dict()
        points.append(MetricPoint(contract.REPORT_STORED, "Count", 1.0 if stored.ok else 0.0))
        if not stored.ok:
            logger.error("verification report not stored", extra={"stored": stored.to_dict()})
    add_outcome_metrics(metrics, points, environment=settings.environment)
    (logger.info if report.ok else logger.error)("verification finished", extra={"report": result})
    return result
